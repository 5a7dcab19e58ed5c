package bedrock

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// reqAPI decodes the client's body without copying: its strings and raw
// members alias the body, which outlives the conversion (the request is
// marshalled before buildConverse returns).
var reqAPI = sonic.Config{CaseSensitive: true}.Froze()

// decodeRequest decodes part of the client's body with reqAPI, without
// copying it into a string first.
func decodeRequest(b []byte, v any) error {
	return reqAPI.UnmarshalFromString(unsafe.String(unsafe.SliceData(b), len(b)), v)
}

// emptySchema is the input schema of a function declared without
// parameters (Converse requires one).
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// invalid wraps a client-body problem so the gateway answers 400.
func invalid(format string, args ...any) error {
	return fmt.Errorf("bedrock: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// buildConverse converts the client's OpenAI chat body into a Converse
// body. defaultMax is max_tokens for a client that sets none (the
// channel's Config["max_tokens"]; 0 leaves the model's default).
//
// The mapping:
//   - system and developer messages, wherever they stand, become system
//     text blocks, in order;
//   - user, assistant and tool messages become alternating user and
//     assistant turns: consecutive messages of one role are merged, tool
//     messages become toolResult blocks of a user turn (ahead of the
//     turn's other content), assistant tool_calls become toolUse blocks
//     whose input is the parsed arguments;
//   - text parts become text blocks, image_url data: URLs image blocks,
//     PDF file parts document blocks; http(s) image URLs are refused
//     (Converse takes images inline or from S3 only, and the transport
//     inlines them first because the adaptor implements ImageInliner);
//   - max_completion_tokens or max_tokens, temperature, top_p and stop
//     become inferenceConfig; tools become toolConfig, tool_choice
//     "required" toolChoice.any and a named function toolChoice.tool
//     ("auto" is Converse's default and is not sent, since only some
//     models accept toolChoice at all; "none" drops the tools unless the
//     conversation already holds tool calls, which Converse only
//     accepts with toolConfig present);
//   - response_format json_schema becomes outputConfig.textFormat.
//
// reasoning_effort has no model-independent Converse equivalent and is
// left out, as are n, seed, penalties and logprobs.
func buildConverse(body []byte, defaultMax int) ([]byte, error) {
	if !isObject(body) {
		return nil, invalid("body must be a json object")
	}
	var in oaRequest
	if err := decodeRequest(body, &in); err != nil {
		return nil, invalid("malformed json: %v", err)
	}
	if len(in.Messages) == 0 {
		return nil, invalid("messages must not be empty")
	}
	var out converseRequest
	var err error
	var toolBlocks bool
	if out.System, out.Messages, toolBlocks, err = convertMessages(in.Messages); err != nil {
		return nil, err
	}
	if out.InferenceConfig, err = convertInference(&in, defaultMax); err != nil {
		return nil, err
	}
	if out.ToolConfig, err = convertTools(in.Tools, in.ToolChoice, toolBlocks); err != nil {
		return nil, err
	}
	if out.OutputConfig, err = convertResponseFormat(in.ResponseFormat); err != nil {
		return nil, err
	}
	b, err := openaiwire.API.Marshal(&out)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return b, nil
}

// convertMessages builds the system blocks and the alternating turns.
// toolBlocks reports whether any toolUse or toolResult block was made.
func convertMessages(in []oaMessage) (system []cSystemBlock, turns []cMessage, toolBlocks bool, err error) {
	turns = make([]cMessage, 0, len(in))
	// addBlocks appends blocks to a turn of role, merging with the last
	// turn when it has the same role. Tool results go ahead of the turn's
	// other blocks.
	addBlocks := func(role string, blocks []cBlock, first bool) {
		if len(blocks) == 0 {
			return
		}
		if n := len(turns); n > 0 && turns[n-1].Role == role {
			t := &turns[n-1]
			if first {
				k := 0
				for k < len(t.Content) && t.Content[k].ToolResult != nil {
					k++
				}
				t.Content = append(t.Content[:k], append(blocks, t.Content[k:]...)...)
				return
			}
			t.Content = append(t.Content, blocks...)
			return
		}
		turns = append(turns, cMessage{Role: role, Content: blocks})
	}
	for i := range in {
		m := &in[i]
		switch m.Role {
		case "system", "developer":
			texts, err := textParts(m.Content, i)
			if err != nil {
				return nil, nil, false, err
			}
			for _, t := range texts {
				system = append(system, cSystemBlock{Text: t})
			}
		case "user":
			blocks, err := userBlocks(m.Content, i)
			if err != nil {
				return nil, nil, false, err
			}
			addBlocks("user", blocks, false)
		case "assistant":
			blocks, err := assistantBlocks(m, i)
			if err != nil {
				return nil, nil, false, err
			}
			toolBlocks = toolBlocks || len(m.ToolCalls) > 0
			addBlocks("assistant", blocks, false)
		case "tool":
			texts, err := textParts(m.Content, i)
			if err != nil {
				return nil, nil, false, err
			}
			if m.ToolCallID == "" {
				return nil, nil, false, invalid("messages[%d]: tool message without tool_call_id", i)
			}
			res := &cToolResult{ToolUseID: m.ToolCallID, Content: []cResultBlock{{Text: strings.Join(texts, "")}}}
			toolBlocks = true
			addBlocks("user", []cBlock{{ToolResult: res}}, true)
		default:
			return nil, nil, false, invalid("messages[%d]: unsupported role %q", i, m.Role)
		}
	}
	if len(turns) == 0 {
		return nil, nil, false, invalid("messages must hold at least one user or assistant message")
	}
	return system, turns, toolBlocks, nil
}

// textParts returns the texts of a content that may hold only text: a
// string, an array of text parts, or null.
func textParts(raw []byte, i int) ([]string, error) {
	if s, ok, err := contentString(raw, i); ok || err != nil {
		if s == "" {
			return nil, err
		}
		return []string{s}, err
	}
	parts, err := decodeParts(raw, i)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range parts {
		switch p.Type {
		case "text", "input_text":
			if p.Text != "" {
				out = append(out, p.Text)
			}
		default:
			return nil, invalid("messages[%d]: content part of type %q is not allowed here", i, p.Type)
		}
	}
	return out, nil
}

// contentString reads content given as a JSON string or null (ok true).
func contentString(raw []byte, i int) (s string, ok bool, err error) {
	if !isPresent(raw) {
		return "", true, nil
	}
	if raw[0] != '"' {
		return "", false, nil
	}
	if err := decodeRequest(raw, &s); err != nil {
		return "", true, invalid("messages[%d]: content: %v", i, err)
	}
	return s, true, nil
}

func decodeParts(raw []byte, i int) ([]oaPart, error) {
	var parts []oaPart
	if raw[0] != '[' || decodeRequest(raw, &parts) != nil {
		return nil, invalid("messages[%d]: content must be a string or an array of parts", i)
	}
	return parts, nil
}

// userBlocks converts a user message's content.
func userBlocks(raw []byte, i int) ([]cBlock, error) {
	if s, ok, err := contentString(raw, i); ok || err != nil {
		if s == "" {
			return nil, err
		}
		return []cBlock{{Text: &s}}, err
	}
	parts, err := decodeParts(raw, i)
	if err != nil {
		return nil, err
	}
	blocks := make([]cBlock, 0, len(parts))
	for j := range parts {
		p := &parts[j]
		switch p.Type {
		case "text", "input_text":
			if p.Text != "" {
				t := p.Text
				blocks = append(blocks, cBlock{Text: &t})
			}
		case "image_url":
			img, err := imageBlock(p.ImageURL, i)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, cBlock{Image: img})
		case "file":
			doc, err := documentBlock(p, i, j)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, cBlock{Document: doc})
		default:
			return nil, invalid("messages[%d]: content part of type %q is not supported by Bedrock", i, p.Type)
		}
	}
	return blocks, nil
}

// imageBlock converts an image_url part. Only data: URLs can be sent.
func imageBlock(raw []byte, i int) (*cImage, error) {
	var u string
	if len(raw) > 0 && raw[0] == '"' {
		_ = decodeRequest(raw, &u)
	} else {
		var obj struct {
			URL string `json:"url"`
		}
		_ = decodeRequest(raw, &obj)
		u = obj.URL
	}
	mime, data, ok := parseDataURL(u)
	if !ok {
		if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			return nil, invalid("messages[%d]: images must be inline (data: URLs); Bedrock does not fetch image URLs", i)
		}
		return nil, invalid("messages[%d]: image_url is not a base64 data: URL", i)
	}
	var format string
	switch mime {
	case "image/png":
		format = "png"
	case "image/jpeg", "image/jpg":
		format = "jpeg"
	case "image/gif":
		format = "gif"
	case "image/webp":
		format = "webp"
	default:
		return nil, invalid("messages[%d]: image type %q is not supported (png, jpeg, gif, webp)", i, mime)
	}
	return &cImage{Format: format, Source: cSource{Bytes: data}}, nil
}

// documentBlock converts a file part holding a PDF data: URL.
func documentBlock(p *oaPart, i, j int) (*cDocument, error) {
	if p.File == nil {
		return nil, invalid("messages[%d]: file part without file", i)
	}
	mime, data, ok := parseDataURL(p.File.FileData)
	if !ok || mime != "application/pdf" {
		return nil, invalid("messages[%d]: file parts must be PDF data: URLs", i)
	}
	return &cDocument{Format: "pdf", Name: documentName(p.File.Filename, i, j), Source: cSource{Bytes: data}}, nil
}

// documentName makes a DocumentBlock name: Bedrock allows only
// alphanumerics, single spaces, hyphens, parentheses and square
// brackets, so the file name is reduced to those (its extension
// dropped), or a name is made from the part's position.
func documentName(filename string, i, j int) string {
	if k := strings.LastIndexByte(filename, '.'); k > 0 {
		filename = filename[:k]
	}
	var b strings.Builder
	space := false
	for _, r := range filename {
		allowed := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-()[]", r)
		switch {
		case allowed:
			b.WriteRune(r)
			space = false
		case !space && b.Len() > 0:
			b.WriteByte(' ')
			space = true
		}
	}
	if s := strings.TrimSpace(b.String()); s != "" {
		return s
	}
	return "document-" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
}

// parseDataURL splits a base64 data: URL into its media type and data.
func parseDataURL(u string) (mime, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	mime, params, _ := strings.Cut(meta, ";")
	if !strings.Contains(";"+params+";", ";base64;") || data == "" {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(mime)), data, true
}

// assistantBlocks converts an assistant message: its text, then a toolUse
// block per tool call.
func assistantBlocks(m *oaMessage, i int) ([]cBlock, error) {
	texts, err := assistantTexts(m.Content, i)
	if err != nil {
		return nil, err
	}
	blocks := make([]cBlock, 0, len(texts)+len(m.ToolCalls))
	for k := range texts {
		blocks = append(blocks, cBlock{Text: &texts[k]})
	}
	for k := range m.ToolCalls {
		tc := &m.ToolCalls[k]
		if tc.ID == "" || tc.Function.Name == "" {
			return nil, invalid("messages[%d].tool_calls[%d]: id and function.name are required", i, k)
		}
		blocks = append(blocks, cBlock{ToolUse: &cToolUse{
			ToolUseID: tc.ID,
			Name:      tc.Function.Name,
			Input:     toolInput(tc.Function.Arguments),
		}})
	}
	return blocks, nil
}

// assistantTexts reads an assistant content: text parts and refusals.
func assistantTexts(raw []byte, i int) ([]string, error) {
	if s, ok, err := contentString(raw, i); ok || err != nil {
		if strings.TrimSpace(s) == "" {
			// Converse refuses blank text blocks.
			return nil, err
		}
		return []string{s}, err
	}
	parts, err := decodeParts(raw, i)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range parts {
		switch p.Type {
		case "text", "output_text", "refusal":
			s := p.Text
			if p.Type == "refusal" {
				s = p.Refusal
			}
			if strings.TrimSpace(s) != "" {
				out = append(out, s)
			}
		default:
			return nil, invalid("messages[%d]: assistant content part of type %q is not supported", i, p.Type)
		}
	}
	return out, nil
}

// toolInput turns OpenAI's arguments (a JSON string holding an object,
// or from lax clients the object itself) into the toolUse input object;
// anything else becomes {} (Converse requires an object).
func toolInput(raw []byte) json.RawMessage {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if decodeRequest(raw, &s) != nil {
			return json.RawMessage("{}")
		}
		return openaiwire.ObjectOrEmpty(s)
	}
	if isObject(raw) {
		return json.RawMessage(raw)
	}
	return json.RawMessage("{}")
}

// convertInference maps the sampling and length parameters; nil when
// none is set.
func convertInference(in *oaRequest, defaultMax int) (*inferenceConfig, error) {
	var c inferenceConfig
	switch {
	case in.MaxCompletionTokens != nil && *in.MaxCompletionTokens > 0:
		c.MaxTokens = in.MaxCompletionTokens
	case in.MaxTokens != nil && *in.MaxTokens > 0:
		c.MaxTokens = in.MaxTokens
	case defaultMax > 0:
		c.MaxTokens = &defaultMax
	}
	c.Temperature = in.Temperature
	c.TopP = in.TopP
	stop, err := stopSequences(in.Stop)
	if err != nil {
		return nil, err
	}
	c.StopSequences = stop
	if c.MaxTokens == nil && c.Temperature == nil && c.TopP == nil && len(c.StopSequences) == 0 {
		return nil, nil
	}
	return &c, nil
}

// stopSequences reads stop as a string or an array of strings; empty
// strings are dropped (Converse refuses them).
func stopSequences(raw []byte) ([]string, error) {
	if !isPresent(raw) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := decodeRequest(raw, &s); err != nil {
			return nil, invalid("stop: %v", err)
		}
		list = []string{s}
	} else if err := decodeRequest(raw, &list); err != nil {
		return nil, invalid("stop must be a string or an array of strings")
	}
	out := list[:0]
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// convertTools maps tools and tool_choice (see buildConverse).
func convertTools(tools []oaTool, choice []byte, toolBlocks bool) (*toolConfig, error) {
	if len(tools) == 0 {
		return nil, nil
	}
	var tc toolConfig
	if isPresent(choice) {
		if choice[0] == '"' {
			var s string
			_ = decodeRequest(choice, &s)
			switch s {
			case "none":
				if !toolBlocks {
					return nil, nil
				}
			case "auto":
			case "required":
				tc.ToolChoice = &cToolChoice{Any: &struct{}{}}
			default:
				return nil, invalid("tool_choice %q is not supported", s)
			}
		} else {
			var named openaiwire.NamedToolChoice
			if decodeRequest(choice, &named) != nil || named.Function.Name == "" {
				return nil, invalid(`tool_choice must be "none", "auto", "required" or {"type":"function","function":{"name":…}}`)
			}
			tc.ToolChoice = &cToolChoice{Tool: &cToolChoose{Name: named.Function.Name}}
		}
	}
	tc.Tools = make([]cTool, 0, len(tools))
	for k := range tools {
		t := &tools[k]
		if t.Type != "" && t.Type != "function" {
			return nil, invalid("tools[%d]: type %q is not supported", k, t.Type)
		}
		if t.Function.Name == "" {
			return nil, invalid("tools[%d]: function.name is required", k)
		}
		schema := json.RawMessage(t.Function.Parameters)
		if !isObject(schema) {
			schema = emptySchema
		}
		spec := cToolSpec{Name: t.Function.Name, Description: t.Function.Description, InputSchema: cInputSchema{JSON: schema}}
		if t.Function.Strict != nil && *t.Function.Strict {
			spec.Strict = t.Function.Strict
		}
		tc.Tools = append(tc.Tools, cTool{ToolSpec: spec})
	}
	return &tc, nil
}

// convertResponseFormat maps response_format json_schema to structured
// output; "text" and "json_object" (which Converse cannot enforce) send
// nothing.
func convertResponseFormat(raw []byte) (*outputConfig, error) {
	if !isObject(raw) {
		return nil, nil
	}
	var rf struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Schema      json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if err := decodeRequest(raw, &rf); err != nil {
		return nil, invalid("response_format: %v", err)
	}
	if rf.Type != "json_schema" {
		return nil, nil
	}
	if !isObject(rf.JSONSchema.Schema) {
		return nil, invalid("response_format.json_schema.schema must be an object")
	}
	oc := &outputConfig{}
	oc.TextFormat.Type = "json_schema"
	oc.TextFormat.Structure.JSONSchema = jsonSchemaDef{
		Schema:      string(rf.JSONSchema.Schema),
		Name:        rf.JSONSchema.Name,
		Description: rf.JSONSchema.Description,
	}
	return oc, nil
}
