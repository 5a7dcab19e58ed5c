package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// BodyOptions says how the Messages body is framed for the host that
// serves it. The zero value is the Claude API's own framing (POST
// /v1/messages with model and stream in the body). Amazon Bedrock and
// Google Vertex AI host the same Messages body with a few members moved:
// their adaptors call BuildBody with their options.
type BodyOptions struct {
	// Version is the "anthropic_version" body member the host requires
	// ("bedrock-2023-05-31" on Bedrock, "vertex-2023-10-16" on Vertex);
	// empty writes none (the Claude API takes the version as a header).
	Version string
	// OmitModel leaves "model" out: the host takes it from the URL.
	OmitModel bool
	// OmitStream leaves "stream" out: the host chooses streaming by
	// endpoint (Bedrock's InvokeModelWithResponseStream).
	OmitStream bool
	// APIVersion is the anthropic-version header the request is sent
	// with, when the host takes one; empty means 2023-06-01. From
	// 2026-10-21 on, the API rejects temperature and top_p, so they are
	// left out (as they are when Version names such a version).
	APIVersion string
	// MaxTokens is max_tokens for a client that sets none (a channel's
	// Config["max_tokens"]); 0 means the model's output limit, or 4096
	// for a model the adaptor does not know.
	MaxTokens int
}

// samplingRemovedIn is the first API version that rejects temperature,
// top_p and top_k ("Migrating to API version 2026-10-21").
const samplingRemovedIn = "2026-10-21"

// dropsSampling reports whether API version v (a date, optionally
// prefixed by a host name as in "bedrock-2023-05-31") no longer takes
// sampling parameters.
func dropsSampling(v string) bool {
	if len(v) > 10 {
		v = v[len(v)-10:]
	}
	return len(v) == 10 && v >= samplingRemovedIn
}

// Wire types of the client's OpenAI chat request, as far as the
// conversion reads it. Members that can hold several JSON types stay raw.
// Strings and raw members alias the client's body (decodeNoCopy), which
// is immutable and outlives the build.
type oaRequest struct {
	Messages            []oaMessage            `json:"messages"`
	MaxTokens           *int                   `json:"max_tokens"`
	MaxCompletionTokens *int                   `json:"max_completion_tokens"`
	Temperature         *float64               `json:"temperature"`
	TopP                *float64               `json:"top_p"`
	Stop                sonic.NoCopyRawMessage `json:"stop"`
	Tools               []oaTool               `json:"tools"`
	ToolChoice          sonic.NoCopyRawMessage `json:"tool_choice"`
	ParallelToolCalls   *bool                  `json:"parallel_tool_calls"`
	ReasoningEffort     string                 `json:"reasoning_effort"`
	User                string                 `json:"user"`
}

type oaMessage struct {
	Role       string                 `json:"role"`
	Content    sonic.NoCopyRawMessage `json:"content"`
	ToolCalls  []oaToolCall           `json:"tool_calls"`
	ToolCallID string                 `json:"tool_call_id"`
}

// oaPart is one content part: text, image_url, file, input_audio, refusal.
type oaPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Refusal  string `json:"refusal"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
	File *struct {
		FileData string `json:"file_data"`
		FileID   string `json:"file_id"`
		Filename string `json:"filename"`
	} `json:"file"`
}

type oaToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string                 `json:"name"`
		Description string                 `json:"description"`
		Parameters  sonic.NoCopyRawMessage `json:"parameters"`
	} `json:"function"`
}

// Wire types of the Messages request. Member order is Anthropic's
// documentation order, for readable goldens; only members the official
// SDK (anthropic-sdk-go MessageNewParams) knows are written.
type upRequest struct {
	AnthropicVersion string        `json:"anthropic_version,omitempty"`
	Model            string        `json:"model,omitempty"`
	MaxTokens        int           `json:"max_tokens"`
	System           []upBlock     `json:"system,omitempty"`
	Messages         []upMessage   `json:"messages"`
	Metadata         *upMetadata   `json:"metadata,omitempty"`
	StopSequences    []string      `json:"stop_sequences,omitempty"`
	Stream           bool          `json:"stream,omitempty"`
	Temperature      *float64      `json:"temperature,omitempty"`
	TopP             *float64      `json:"top_p,omitempty"`
	Thinking         *upThinking   `json:"thinking,omitempty"`
	OutputConfig     *upOutputCfg  `json:"output_config,omitempty"`
	ToolChoice       *upToolChoice `json:"tool_choice,omitempty"`
	Tools            []upToolDecl  `json:"tools,omitempty"`
}

type upMessage struct {
	Role    string    `json:"role"`
	Content []upBlock `json:"content"`
}

// upBlock is any request content block; Type says which members apply.
// Member order gives each kind Anthropic's documented order: text
// {type,text}, image/document {type,source,title}, tool_use
// {type,id,name,input}, tool_result {type,tool_use_id,content}.
type upBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Source    *upSource       `json:"source,omitempty"`
	Title     string          `json:"title,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   []upBlock       `json:"content,omitempty"`
}

type upSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type upMetadata struct {
	UserID string `json:"user_id"`
}

type upThinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}

type upOutputCfg struct {
	Effort string `json:"effort"`
}

type upToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

type upToolDecl struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// emptySchema is the input_schema of a function declared without
// parameters: Anthropic requires an object schema.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// Budgets for reasoning_effort on models with manual extended thinking.
// Anthropic's minimum is 1024; they sit in the ranges InboundRequest
// maps back to the same effort (below 4096 low, below 16384 medium).
var effortBudget = map[string]int{
	"minimal": 1024,
	"low":     2048,
	"medium":  8192,
	"high":    24576,
	"xhigh":   32768,
}

// minBudget is Anthropic's smallest thinking budget.
const minBudget = 1024

// invalid builds an error wrapping adaptors.ErrInvalidBody.
func invalid(format string, args ...any) error {
	return fmt.Errorf("anthropic: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// BuildBody converts the client's OpenAI chat body (req.Body) into a
// Messages API body for req.Model, framed as opt says; BuildRequest uses
// it with the zero options plus the channel's API version, and the
// Bedrock and Vertex adaptors with theirs. It is pure and safe for
// concurrent use. Every error wraps adaptors.ErrInvalidBody.
//
// The mapping (see the package doc for the reasons):
//
//   - system and developer messages, wherever they stand, become the
//     top-level system (one text block per message part, in order);
//   - user, assistant and tool messages become alternating turns:
//     consecutive messages of one role are merged, tool messages become
//     tool_result blocks of a user turn (ahead of any other content of
//     that turn, as the API requires), assistant tool_calls become
//     tool_use blocks whose input is the parsed arguments;
//   - text, image_url (data: URLs as base64 sources, http(s) URLs as url
//     sources) and PDF file parts become text, image and document blocks;
//   - max_completion_tokens or max_tokens becomes max_tokens (capped at
//     a known model's output limit), defaulting to opt.MaxTokens, the
//     model's limit, or 4096;
//   - stop, temperature, top_p, user, tools, tool_choice,
//     parallel_tool_calls and reasoning_effort map as documented in
//     doc.go; response_format, n, seed, logprobs and penalties have no
//     Messages equivalent and are left out.
func BuildBody(req *adaptors.Request, opt BodyOptions) ([]byte, error) {
	if !openaiwire.IsObject(req.Body) {
		return nil, invalid("body must be a json object")
	}
	var in oaRequest
	if err := decodeNoCopy(req.Body, &in); err != nil {
		return nil, invalid("malformed json: %v", err)
	}
	info, known := lookupModel(req.Model)
	out := upRequest{AnthropicVersion: opt.Version}
	if !opt.OmitModel {
		out.Model = req.Model
	}
	if !opt.OmitStream {
		out.Stream = req.Stream
	}
	out.MaxTokens = maxTokensFor(&in, info, known, opt.MaxTokens)

	var err error
	if out.System, out.Messages, err = convertConversation(in.Messages); err != nil {
		return nil, err
	}
	if out.StopSequences, err = stopSequences(in.Stop); err != nil {
		return nil, err
	}
	if in.User != "" {
		out.Metadata = &upMetadata{UserID: in.User}
	}
	if len(in.Tools) > 0 {
		if out.Tools, err = buildTools(in.Tools); err != nil {
			return nil, err
		}
		if out.ToolChoice, err = buildToolChoice(in.ToolChoice, in.ParallelToolCalls); err != nil {
			return nil, err
		}
	}
	thinking := applyReasoning(&out, in.ReasoningEffort, info)
	if !info.noSampling && !thinking && !dropsSampling(opt.Version) && !dropsSampling(opt.APIVersion) {
		out.Temperature = in.Temperature
		out.TopP = in.TopP
		if info.oneSampler && out.Temperature != nil {
			out.TopP = nil
		}
	}
	if (thinking || info.thinksAlways) && out.ToolChoice != nil && (out.ToolChoice.Type == "any" || out.ToolChoice.Type == "tool") {
		// "Thinking may not be enabled when tool_choice forces tool use."
		out.ToolChoice.Type, out.ToolChoice.Name = "auto", ""
	}
	return openaiwire.Marshal(&out), nil
}

// maxTokensFor chooses max_tokens: the client's max_completion_tokens
// or max_tokens (capped at a known model's limit, which the API would
// otherwise refuse with a 400), else the channel's default, else the
// model's output limit, else 4096.
func maxTokensFor(in *oaRequest, info modelInfo, known bool, chDefault int) int {
	n := 0
	if in.MaxCompletionTokens != nil && *in.MaxCompletionTokens > 0 {
		n = *in.MaxCompletionTokens
	} else if in.MaxTokens != nil && *in.MaxTokens > 0 {
		n = *in.MaxTokens
	}
	switch {
	case n > 0:
	case chDefault > 0:
		n = chDefault
	case known:
		n = info.maxOutput
	default:
		n = defaultMaxTokens
	}
	if known && n > info.maxOutput {
		n = info.maxOutput
	}
	return n
}

// applyReasoning maps reasoning_effort and reports whether it turned
// thinking on. Budget models get {"type":"enabled","budget_tokens":N}
// with max_tokens raised so that the budget stays below it (the answer
// keeps the allowance the client asked for, within the model's limit);
// adaptive models get {"type":"adaptive"} and output_config.effort.
// Thinking stays off for "none", for models without it, and in the
// middle of a tool loop: the API then wants the previous assistant
// turn's signed thinking block back, which OpenAI clients do not keep.
func applyReasoning(out *upRequest, effort string, info modelInfo) bool {
	if effort == "" || effort == "none" || info.thinking == thinkingNone || inToolLoop(out.Messages) {
		return false
	}
	if info.thinking == thinkingAdaptive {
		e := effort
		switch effort {
		case "minimal":
			e = "low"
		case "low", "medium", "high", "xhigh", "max":
		default:
			e = "medium"
		}
		out.Thinking = &upThinking{Type: "adaptive"}
		out.OutputConfig = &upOutputCfg{Effort: e}
		return true
	}
	budget, ok := effortBudget[effort]
	if !ok {
		budget = effortBudget["medium"]
	}
	if out.MaxTokens <= budget {
		out.MaxTokens += budget
		if info.maxOutput > 0 && out.MaxTokens > info.maxOutput {
			out.MaxTokens = info.maxOutput
		}
		if out.MaxTokens <= budget {
			budget = out.MaxTokens - 1
		}
	}
	if budget < minBudget {
		return false
	}
	out.Thinking = &upThinking{Type: "enabled", BudgetTokens: budget}
	return true
}

// inToolLoop reports whether the conversation ends with tool results for
// an assistant turn that called tools.
func inToolLoop(msgs []upMessage) bool {
	if len(msgs) < 2 {
		return false
	}
	last := msgs[len(msgs)-1]
	return last.Role == "user" && len(last.Content) > 0 && last.Content[0].Type == "tool_result"
}

// convertConversation splits the OpenAI messages into the system blocks
// and the alternating Messages turns.
func convertConversation(msgs []oaMessage) ([]upBlock, []upMessage, error) {
	var system []upBlock
	turns := make([]upMessage, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		var role string
		var blocks []upBlock
		var err error
		switch m.Role {
		case "system", "developer":
			if system, err = appendText(system, m.Content, i); err != nil {
				return nil, nil, err
			}
			continue
		case "user":
			role = "user"
			blocks, err = userBlocks(m.Content, i)
		case "assistant":
			role = "assistant"
			blocks, err = assistantBlocks(m, i)
		case "tool":
			role = "user"
			blocks, err = toolResult(m, i)
		default:
			err = invalid("messages[%d].role: unsupported role %q", i, m.Role)
		}
		if err != nil {
			return nil, nil, err
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(turns); n > 0 && turns[n-1].Role == role {
			turns[n-1].Content = append(turns[n-1].Content, blocks...)
		} else {
			turns = append(turns, upMessage{Role: role, Content: blocks})
		}
	}
	for i := range turns {
		if turns[i].Role == "user" {
			toolResultsFirst(turns[i].Content)
		}
	}
	trimPrefill(&turns)
	if len(turns) == 0 {
		return nil, nil, invalid("messages: at least one user or assistant message with content is required")
	}
	return system, turns, nil
}

// toolResultsFirst moves tool_result blocks ahead of the rest of a user
// turn, keeping the order within each group: "tool_result blocks must
// come first in the content array".
func toolResultsFirst(blocks []upBlock) {
	sorted := true
	seenOther := false
	for i := range blocks {
		if blocks[i].Type != "tool_result" {
			seenOther = true
		} else if seenOther {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	tmp := make([]upBlock, 0, len(blocks))
	for _, b := range blocks {
		if b.Type == "tool_result" {
			tmp = append(tmp, b)
		}
	}
	for _, b := range blocks {
		if b.Type != "tool_result" {
			tmp = append(tmp, b)
		}
	}
	copy(blocks, tmp)
}

// trimPrefill removes trailing whitespace from a final assistant turn
// (a prefill), which the API refuses ("final assistant content cannot
// end with trailing whitespace"); a prefill left empty is dropped.
func trimPrefill(turns *[]upMessage) {
	t := *turns
	if len(t) == 0 || t[len(t)-1].Role != "assistant" {
		return
	}
	last := &t[len(t)-1]
	n := len(last.Content)
	if n == 0 || last.Content[n-1].Type != "text" {
		return
	}
	s := strings.TrimRight(last.Content[n-1].Text, " \t\r\n")
	if s != "" {
		last.Content[n-1].Text = s
		return
	}
	last.Content = last.Content[:n-1]
	if len(last.Content) == 0 {
		*turns = t[:len(t)-1]
	}
}

// decodeParts decodes a content array.
func decodeParts(raw []byte, i int) ([]oaPart, error) {
	var parts []oaPart
	if err := decodeNoCopy(raw, &parts); err != nil {
		return nil, invalid("messages[%d].content: %v", i, err)
	}
	return parts, nil
}

// contentString decodes a string content; ok is false when raw is not a
// string.
func contentString(raw []byte, i int) (s string, ok bool, err error) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '"' {
		return "", false, nil
	}
	if err := decodeNoCopy(raw, &s); err != nil {
		return "", true, invalid("messages[%d].content: %v", i, err)
	}
	return s, true, nil
}

// appendText appends the text of a system message (a string or text
// parts) as text blocks.
func appendText(dst []upBlock, raw []byte, i int) ([]upBlock, error) {
	if !openaiwire.IsPresent(raw) {
		return dst, nil
	}
	if s, ok, err := contentString(raw, i); ok || err != nil {
		if s != "" {
			dst = append(dst, upBlock{Type: "text", Text: s})
		}
		return dst, err
	}
	parts, err := decodeParts(raw, i)
	if err != nil {
		return nil, err
	}
	for j := range parts {
		if parts[j].Type != "text" {
			return nil, invalid("messages[%d].content[%d]: only text parts are allowed here, got %q", i, j, parts[j].Type)
		}
		if parts[j].Text != "" {
			dst = append(dst, upBlock{Type: "text", Text: parts[j].Text})
		}
	}
	return dst, nil
}

// userBlocks converts a user message's content.
func userBlocks(raw []byte, i int) ([]upBlock, error) {
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	if s, ok, err := contentString(raw, i); ok || err != nil {
		if s == "" {
			return nil, err
		}
		return []upBlock{{Type: "text", Text: s}}, err
	}
	parts, err := decodeParts(raw, i)
	if err != nil {
		return nil, err
	}
	return partBlocks(parts, i, nil)
}

// partBlocks converts content parts to blocks.
func partBlocks(parts []oaPart, i int, dst []upBlock) ([]upBlock, error) {
	for j := range parts {
		p := &parts[j]
		switch p.Type {
		case "text":
			if p.Text != "" {
				dst = append(dst, upBlock{Type: "text", Text: p.Text})
			}
		case "image_url":
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, invalid("messages[%d].content[%d].image_url.url: field required", i, j)
			}
			src, err := buildImageSource(p.ImageURL.URL)
			if err != nil {
				return nil, invalid("messages[%d].content[%d]: %v", i, j, err)
			}
			dst = append(dst, upBlock{Type: "image", Source: src})
		case "file":
			b, err := fileBlock(p)
			if err != nil {
				return nil, invalid("messages[%d].content[%d]: %v", i, j, err)
			}
			dst = append(dst, b)
		default:
			return nil, invalid("messages[%d].content[%d]: content part type %q is not supported by Anthropic", i, j, p.Type)
		}
	}
	return dst, nil
}

// imageMediaTypes are the image types the Messages API accepts.
var imageMediaTypes = map[string]string{
	"image/jpeg": "image/jpeg",
	"image/jpg":  "image/jpeg",
	"image/png":  "image/png",
	"image/gif":  "image/gif",
	"image/webp": "image/webp",
}

// buildImageSource converts an image URL: a base64 data: URL becomes a base64
// source, an http(s) URL a url source (which the API fetches itself).
func buildImageSource(u string) (*upSource, error) {
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return &upSource{Type: "url", URL: u}, nil
	}
	mt, data, err := parseDataURL(u)
	if err != nil {
		return nil, err
	}
	canon, ok := imageMediaTypes[strings.ToLower(mt)]
	if !ok {
		return nil, fmt.Errorf("image type %q is not supported (jpeg, png, gif and webp are)", mt)
	}
	return &upSource{Type: "base64", MediaType: canon, Data: data}, nil
}

// parseDataURL splits a base64 data: URL into its media type and data.
func parseDataURL(u string) (mediaType, data string, err error) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", fmt.Errorf("url must be an http(s) or base64 data: URL")
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok || !strings.HasSuffix(meta, ";base64") {
		return "", "", fmt.Errorf("data: URL must be base64-encoded")
	}
	mediaType, _, _ = strings.Cut(meta, ";")
	if data == "" {
		return "", "", fmt.Errorf("data: URL has no data")
	}
	return mediaType, data, nil
}

// fileBlock converts a file part holding a base64 PDF into a document.
func fileBlock(p *oaPart) (upBlock, error) {
	if p.File == nil || p.File.FileData == "" {
		if p.File != nil && p.File.FileID != "" {
			return upBlock{}, fmt.Errorf("file_id references are not supported by Anthropic; send file_data")
		}
		return upBlock{}, fmt.Errorf("file.file_data: field required")
	}
	mt, data, err := parseDataURL(p.File.FileData)
	if err != nil {
		return upBlock{}, fmt.Errorf("file.file_data: %v", err)
	}
	if !strings.EqualFold(mt, "application/pdf") {
		return upBlock{}, fmt.Errorf("file type %q is not supported (only application/pdf)", mt)
	}
	return upBlock{
		Type:   "document",
		Source: &upSource{Type: "base64", MediaType: "application/pdf", Data: data},
		Title:  p.File.Filename,
	}, nil
}

// assistantBlocks converts an assistant message: its text (string, text
// or refusal parts), then its tool calls as tool_use blocks.
func assistantBlocks(m *oaMessage, i int) ([]upBlock, error) {
	var blocks []upBlock
	if openaiwire.IsPresent(m.Content) {
		if s, ok, err := contentString(m.Content, i); ok || err != nil {
			if err != nil {
				return nil, err
			}
			if s != "" {
				blocks = append(blocks, upBlock{Type: "text", Text: s})
			}
		} else {
			parts, err := decodeParts(m.Content, i)
			if err != nil {
				return nil, err
			}
			for j := range parts {
				switch t := parts[j].Text + parts[j].Refusal; parts[j].Type {
				case "text", "refusal":
					if t != "" {
						blocks = append(blocks, upBlock{Type: "text", Text: t})
					}
				default:
					return nil, invalid("messages[%d].content[%d]: assistant content part type %q is not supported", i, j, parts[j].Type)
				}
			}
		}
	}
	for j := range m.ToolCalls {
		tc := &m.ToolCalls[j]
		if tc.ID == "" || tc.Function.Name == "" {
			return nil, invalid("messages[%d].tool_calls[%d]: id and function.name are required", i, j)
		}
		input, err := toolInput(tc.Function.Arguments)
		if err != nil {
			return nil, invalid("messages[%d].tool_calls[%d].function.arguments: %v", i, j, err)
		}
		blocks = append(blocks, upBlock{Type: "tool_use", ID: toolID(tc.ID), Name: tc.Function.Name, Input: input})
	}
	return blocks, nil
}

// toolInput parses tool-call arguments into the tool_use input object;
// empty arguments are {}.
func toolInput(args string) (json.RawMessage, error) {
	b := bytes.TrimSpace([]byte(args))
	if len(b) == 0 {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("not valid JSON")
	}
	if b[0] != '{' {
		return nil, fmt.Errorf("must be a JSON object")
	}
	return json.RawMessage(b), nil
}

// toolID makes a tool-call id acceptable to Anthropic, whose tool_use
// ids must match ^[a-zA-Z0-9_-]+$: other characters (some upstreams use
// dots or colons) become '_'. The same mapping applies to tool_use ids
// and to the tool_use_id of results, so pairs still match.
func toolID(id string) string {
	ok := true
	for i := 0; i < len(id); i++ {
		if !isIDByte(id[i]) {
			ok = false
			break
		}
	}
	if ok {
		return id
	}
	b := []byte(id)
	for i := range b {
		if !isIDByte(b[i]) {
			b[i] = '_'
		}
	}
	return string(b)
}

func isIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// toolResult converts a tool message into a tool_result block. Its
// content (a string, or text and image parts) becomes text and image
// blocks; empty content is left out, as the API allows.
func toolResult(m *oaMessage, i int) ([]upBlock, error) {
	if m.ToolCallID == "" {
		return nil, invalid("messages[%d].tool_call_id: field required", i)
	}
	b := upBlock{Type: "tool_result", ToolUseID: toolID(m.ToolCallID)}
	if openaiwire.IsPresent(m.Content) {
		if s, ok, err := contentString(m.Content, i); ok || err != nil {
			if err != nil {
				return nil, err
			}
			if s != "" {
				b.Content = []upBlock{{Type: "text", Text: s}}
			}
		} else {
			parts, err := decodeParts(m.Content, i)
			if err != nil {
				return nil, err
			}
			for j := range parts {
				if parts[j].Type == "file" {
					return nil, invalid("messages[%d].content[%d]: files are not supported in tool results", i, j)
				}
			}
			if b.Content, err = partBlocks(parts, i, nil); err != nil {
				return nil, err
			}
		}
	}
	return []upBlock{b}, nil
}

// stopSequences converts stop (a string or an array of strings). Empty
// and whitespace-only sequences, which the API refuses, are left out.
func stopSequences(raw []byte) ([]string, error) {
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	var list []string
	if s, ok, err := contentString(raw, 0); ok || err != nil {
		if err != nil {
			return nil, invalid("stop: %v", err)
		}
		list = []string{s}
	} else if err := decodeNoCopy(raw, &list); err != nil {
		return nil, invalid("stop: must be a string or an array of strings")
	}
	out := list[:0]
	for _, s := range list {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// buildTools converts function tools to Anthropic tool definitions.
func buildTools(tools []oaTool) ([]upToolDecl, error) {
	out := make([]upToolDecl, 0, len(tools))
	for i := range tools {
		t := &tools[i]
		if t.Type != "function" && t.Type != "" {
			return nil, invalid("tools[%d]: tool type %q is not supported (only function)", i, t.Type)
		}
		if t.Function.Name == "" {
			return nil, invalid("tools[%d].function.name: field required", i)
		}
		schema := json.RawMessage(t.Function.Parameters)
		if !openaiwire.IsPresent(schema) {
			schema = emptySchema
		} else if !openaiwire.IsObject(schema) {
			return nil, invalid("tools[%d].function.parameters: must be a JSON schema object", i)
		}
		out = append(out, upToolDecl{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema})
	}
	return out, nil
}

// buildToolChoice maps tool_choice ("none", "auto", "required" or a
// named function) and parallel_tool_calls:false
// (disable_parallel_tool_use, which "none" does not take).
func buildToolChoice(raw []byte, parallel *bool) (*upToolChoice, error) {
	tc := &upToolChoice{Type: "auto"}
	explicit := false
	if openaiwire.IsPresent(raw) {
		explicit = true
		if s, ok, err := contentString(raw, 0); ok || err != nil {
			if err != nil {
				return nil, invalid("tool_choice: %v", err)
			}
			switch s {
			case "auto":
			case "none":
				tc.Type = "none"
			case "required":
				tc.Type = "any"
			default:
				return nil, invalid("tool_choice: unknown value %q", s)
			}
		} else {
			var named struct {
				Type     string `json:"type"`
				Function struct {
					Name string `json:"name"`
				} `json:"function"`
			}
			if err := decodeNoCopy(raw, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
				return nil, invalid(`tool_choice: expected "none", "auto", "required" or {"type":"function","function":{"name":…}}`)
			}
			tc.Type, tc.Name = "tool", named.Function.Name
		}
	}
	if parallel != nil && !*parallel && tc.Type != "none" {
		tc.DisableParallelToolUse = true
		explicit = true
	}
	if !explicit {
		return nil, nil
	}
	return tc, nil
}

// decodeNoCopy decodes the JSON value b into v case-sensitively (OpenAI's
// keys are exact: "Model" is not "model"). Strings and
// sonic.NoCopyRawMessage members of v alias b, so v must not outlive b.
func decodeNoCopy(b []byte, v any) error {
	if len(b) == 0 {
		return fmt.Errorf("empty value")
	}
	d := decoder.NewDecoder(unsafe.String(unsafe.SliceData(b), len(b)))
	d.SetOptions(decoder.OptionCaseSensitive)
	if err := d.Decode(v); err != nil {
		return err
	}
	return d.CheckTrailings()
}

// configInt reads a positive integer from a channel config value; 0 when
// absent or not a positive integer.
func configInt(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
