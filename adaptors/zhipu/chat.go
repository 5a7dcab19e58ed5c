package zhipu

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// chatIn is the part of an OpenAI chat body the conversion reads, plus
// the v4 members a client may send in Zhipu's own dialect (forwarded).
type chatIn struct {
	Messages            []messageIn              `json:"messages"`
	MaxTokens           *int                     `json:"max_tokens"`
	MaxCompletionTokens *int                     `json:"max_completion_tokens"`
	Temperature         *float64                 `json:"temperature"`
	TopP                *float64                 `json:"top_p"`
	N                   *int                     `json:"n"`
	Stop                sonic.NoCopyRawMessage   `json:"stop"`
	Seed                *int64                   `json:"seed"`
	Tools               []sonic.NoCopyRawMessage `json:"tools"`
	ToolChoice          sonic.NoCopyRawMessage   `json:"tool_choice"`
	ResponseFormat      *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	ReasoningEffort string `json:"reasoning_effort"`
	User            string `json:"user"`
	// Zhipu's own members.
	DoSample   *bool     `json:"do_sample"`
	RequestID  string    `json:"request_id"`
	UserID     string    `json:"user_id"`
	Thinking   *thinking `json:"thinking"`
	ToolStream *bool     `json:"tool_stream"`
}

// messageIn is one OpenAI message; content stays raw (a string, an array
// of parts, or null) until its role says how to read it.
type messageIn struct {
	Role             string                 `json:"role"`
	Content          sonic.NoCopyRawMessage `json:"content"`
	ReasoningContent string                 `json:"reasoning_content"`
	ToolCalls        []openaiwire.ToolCall  `json:"tool_calls"`
	ToolCallID       string                 `json:"tool_call_id"`
}

// partIn is one content part: OpenAI's text, refusal and image_url, and
// the v4 video_url and file_url parts (GLM-4.5V, GLM-4.1V).
type partIn struct {
	Type     string  `json:"type"`
	Text     string  `json:"text"`
	Refusal  string  `json:"refusal"`
	ImageURL *urlRef `json:"image_url"`
	VideoURL *urlRef `json:"video_url"`
	FileURL  *urlRef `json:"file_url"`
}

type urlRef struct {
	URL string `json:"url"`
}

// thinking is v4's switch of the GLM-4.5+ reasoning ("enabled" or
// "disabled"; clear_thinking drops earlier turns' reasoning, GLM-4.7).
type thinking struct {
	Type          string `json:"type"`
	ClearThinking *bool  `json:"clear_thinking,omitempty"`
}

// chatOut is the v4 chat body, members in the order of BigModel's API
// reference.
type chatOut struct {
	Model          string            `json:"model"`
	Messages       []messageOut      `json:"messages"`
	RequestID      string            `json:"request_id,omitempty"`
	DoSample       *bool             `json:"do_sample,omitempty"`
	Stream         bool              `json:"stream"`
	ToolStream     *bool             `json:"tool_stream,omitempty"`
	Thinking       *thinking         `json:"thinking,omitempty"`
	Temperature    *float64          `json:"temperature,omitempty"`
	TopP           *float64          `json:"top_p,omitempty"`
	MaxTokens      *int              `json:"max_tokens,omitempty"`
	Tools          []json.RawMessage `json:"tools,omitempty"`
	ToolChoice     string            `json:"tool_choice,omitempty"`
	Stop           []string          `json:"stop,omitempty"`
	ResponseFormat *responseFormat   `json:"response_format,omitempty"`
	UserID         string            `json:"user_id,omitempty"`
	Seed           *int64            `json:"seed,omitempty"`
}

// messageOut is one v4 message. Content is raw JSON: a string (the
// client's own bytes where possible), an array of parts, or null (an
// assistant turn that only calls tools).
type messageOut struct {
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"`
	ReasoningContent string          `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallOut   `json:"tool_calls,omitempty"`
	ToolCallID       string          `json:"tool_call_id,omitempty"`
}

// partOut is a v4 content part.
type partOut struct {
	Type     string  `json:"type"`
	Text     *string `json:"text,omitempty"`
	ImageURL *urlRef `json:"image_url,omitempty"`
	VideoURL *urlRef `json:"video_url,omitempty"`
	FileURL  *urlRef `json:"file_url,omitempty"`
}

type toolCallOut struct {
	ID       string      `json:"id"`
	Type     string      `json:"type"`
	Function functionOut `json:"function"`
}

type functionOut struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// functionTool is an OpenAI function tool, which is v4's shape too.
type functionTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type responseFormat struct {
	Type string `json:"type"`
}

// emptyParameters is sent for a function that declares none.
var emptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

// Sampling bounds. The v4 API takes temperature and top_p in the open
// interval (0, 1); the official SDKs move values outside it inside, and
// a temperature of 0 or less also turns sampling off (do_sample false:
// greedy decoding, what OpenAI's temperature 0 asks for).
const (
	minSampling = 0.01
	maxSampling = 0.99
)

// minUserID and maxUserID bound v4's user_id (6 to 128 characters); an
// OpenAI "user" outside them is not forwarded.
const (
	minUserID = 6
	maxUserID = 128
)

// toolStreamModels are the model name prefixes that stream tool-call
// arguments when asked (tool_stream, "limited to glm-4.6, glm-4.7,
// glm-5" in the stream tool guide).
var toolStreamModels = []string{"glm-4.6", "glm-4.7", "glm-5"}

// buildChat converts an OpenAI chat body into a v4 chat body.
func buildChat(req *adaptors.Request) ([]byte, error) {
	var in chatIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if len(in.Messages) == 0 {
		return nil, invalidBody("messages must not be empty")
	}
	if in.N != nil && *in.N > 1 {
		return nil, invalidBody("n > 1 is not supported: Zhipu answers with one choice")
	}
	out := chatOut{Model: req.Model, Stream: req.Stream, RequestID: in.RequestID, Seed: in.Seed}
	var err error
	if out.Messages, err = convertMessages(in.Messages); err != nil {
		return nil, err
	}
	if out.Tools, out.ToolChoice, err = convertTools(in.Tools, in.ToolChoice); err != nil {
		return nil, err
	}
	if out.Stop, err = convertStop(in.Stop); err != nil {
		return nil, err
	}
	if out.ResponseFormat, err = convertResponseFormat(in.ResponseFormat); err != nil {
		return nil, err
	}
	out.MaxTokens = in.MaxTokens
	if in.MaxCompletionTokens != nil {
		out.MaxTokens = in.MaxCompletionTokens
	}
	out.DoSample = in.DoSample
	if t := in.Temperature; t != nil {
		v := *t
		switch {
		case v <= 0:
			v = minSampling
			out.DoSample = new(false)
		case v >= 1:
			v = maxSampling
		}
		out.Temperature = &v
	}
	if p := in.TopP; p != nil {
		v := min(max(*p, minSampling), maxSampling)
		out.TopP = &v
	}
	out.Thinking = in.Thinking
	if out.Thinking == nil {
		out.Thinking = thinkingFor(in.ReasoningEffort)
	}
	out.ToolStream = in.ToolStream
	if out.ToolStream == nil && req.Stream && hasFunctionTool(out.Tools) && streamsToolArguments(req.Model) {
		out.ToolStream = new(true)
	}
	out.UserID = in.UserID
	if out.UserID == "" && len(in.User) >= minUserID && len(in.User) <= maxUserID {
		out.UserID = in.User
	}
	body, err := outAPI.Marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return body, nil
}

// outAPI encodes upstream bodies. Every raw value in them has been
// checked already (content strings by wellFormedString, tools and
// parameters by compactJSON, parts encoded here), so sonic does not
// validate them again.
var outAPI = sonic.Config{NoValidateJSONMarshaler: true}.Froze()

// thinkingFor maps OpenAI's reasoning_effort onto v4's on/off switch:
// "none" and "minimal" turn thinking off, any other level on; no effort
// leaves the model's default.
func thinkingFor(effort string) *thinking {
	switch effort {
	case "":
		return nil
	case "none", "minimal":
		return &thinking{Type: "disabled"}
	}
	return &thinking{Type: "enabled"}
}

// streamsToolArguments reports whether model streams tool-call arguments
// when asked (tool_stream).
func streamsToolArguments(model string) bool {
	for _, p := range toolStreamModels {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// convertMessages converts the conversation. Roles map one to one, with
// developer becoming system; content parts become a string where the
// role takes only text.
func convertMessages(in []messageIn) ([]messageOut, error) {
	out := make([]messageOut, 0, len(in))
	for i := range in {
		m := &in[i]
		var o messageOut
		var err error
		switch m.Role {
		case "system", "developer":
			o.Role = "system"
			o.Content, err = textContent(m.Content)
		case "user":
			o.Role = "user"
			o.Content, err = userContent(m.Content)
		case "assistant":
			o.Role = "assistant"
			o.ReasoningContent = m.ReasoningContent
			if o.Content, err = textContent(m.Content); err == nil {
				if string(o.Content) == `""` && len(m.ToolCalls) > 0 {
					o.Content = jsonNull
				}
				o.ToolCalls, err = convertToolCalls(m.ToolCalls)
			}
		case "tool":
			if m.ToolCallID == "" {
				return nil, invalidBody("messages[%d]: a tool message needs tool_call_id", i)
			}
			o.Role = "tool"
			o.ToolCallID = m.ToolCallID
			o.Content, err = textContent(m.Content)
		default:
			return nil, invalidBody("messages[%d]: role %q is not supported", i, m.Role)
		}
		if err != nil {
			return nil, invalidBody("messages[%d]: %v", i, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// errorString is a conversion error reported inside invalidBody.
type errorString string

func (e errorString) Error() string { return string(e) }

// JSON values the conversion writes.
var (
	jsonNull        = json.RawMessage("null")
	jsonEmptyString = json.RawMessage(`""`)
)

// content classifies raw content: a JSON string (returned as it is, ready
// to forward: checked to be a well-formed string of valid UTF-8, else
// re-encoded), an array of parts, or null/absent (all nil).
func content(raw sonic.NoCopyRawMessage) (str json.RawMessage, ps []partIn, err error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil, nil
	}
	switch raw[0] {
	case '"':
		if wellFormedString(raw) {
			return json.RawMessage(raw), nil, nil
		}
		var s string
		if err := bodyAPI.Unmarshal(raw, &s); err != nil {
			return nil, nil, err
		}
		return openaiwire.AppendString(nil, s), nil, nil
	case '[':
		var parts []partIn // a local: taking a result's address would move it to the heap on every call
		if err := bodyAPI.Unmarshal(raw, &parts); err != nil {
			return nil, nil, err
		}
		return nil, parts, nil
	}
	return nil, nil, errorString("content must be a string, an array of parts or null")
}

// textContent reads content that must be text: a string, or text (and
// refusal) parts joined with newlines; null or absent is "".
func textContent(raw sonic.NoCopyRawMessage) (json.RawMessage, error) {
	str, ps, err := content(raw)
	if err != nil || str != nil {
		return str, err
	}
	if ps == nil {
		return jsonEmptyString, nil
	}
	var b strings.Builder
	for i := range ps {
		p := &ps[i]
		var t string
		switch p.Type {
		case "text":
			t = p.Text
		case "refusal":
			t = p.Refusal
		default:
			return nil, errorString("content part " + p.Type + " is not allowed here: only text")
		}
		if b.Len() > 0 && t != "" {
			b.WriteByte('\n')
		}
		b.WriteString(t)
	}
	return openaiwire.AppendString(nil, b.String()), nil
}

// userContent reads a user message: a string, text parts joined into one
// (text models take a string), or, when there is media, an array of v4
// parts.
func userContent(raw sonic.NoCopyRawMessage) (json.RawMessage, error) {
	str, ps, err := content(raw)
	if err != nil || str != nil {
		return str, err
	}
	media := false
	for i := range ps {
		if ps[i].Type != "text" {
			media = true
			break
		}
	}
	if !media {
		return textContent(raw)
	}
	out := make([]partOut, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		switch p.Type {
		case "text":
			out = append(out, partOut{Type: "text", Text: &p.Text})
		case "image_url":
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, errorString("image_url part without a url")
			}
			u, err := imageURL(p.ImageURL.URL)
			if err != nil {
				return nil, err
			}
			out = append(out, partOut{Type: "image_url", ImageURL: &urlRef{URL: u}})
		case "video_url":
			if p.VideoURL == nil || p.VideoURL.URL == "" {
				return nil, errorString("video_url part without a url")
			}
			out = append(out, partOut{Type: "video_url", VideoURL: p.VideoURL})
		case "file_url":
			if p.FileURL == nil || p.FileURL.URL == "" {
				return nil, errorString("file_url part without a url")
			}
			out = append(out, partOut{Type: "file_url", FileURL: p.FileURL})
		default:
			return nil, errorString("content part " + p.Type + " is not supported by Zhipu")
		}
	}
	return sonic.ConfigDefault.Marshal(out)
}

// wellFormedString reports whether raw is exactly one JSON string of
// valid UTF-8: quoted, no raw control characters, only JSON's escapes.
// sonic checks the structure of what it skips but not the inside of
// strings, and a client's string is forwarded byte for byte.
func wellFormedString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(s) {
				return false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return false
				}
				for _, h := range s[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return utf8.Valid(s)
}

// imageURL converts an image reference to v4's form: an http(s) URL as
// is, a data URL as its bare base64 payload (what the official SDKs send:
// drop_prefix_image_data).
func imageURL(u string) (string, error) {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u, nil
	}
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", errorString("image url must be http(s) or a data: URL")
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok || !strings.HasPrefix(meta, "image/") || !strings.HasSuffix(meta, ";base64") {
		return "", errorString("image data URL must be data:image/…;base64,…")
	}
	if data == "" {
		return "", errorString("image data URL has no data")
	}
	return data, nil
}

// convertToolCalls converts an assistant turn's tool calls (OpenAI's
// shape is v4's).
func convertToolCalls(in []openaiwire.ToolCall) ([]toolCallOut, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]toolCallOut, len(in))
	for i, tc := range in {
		if tc.Function.Name == "" {
			return nil, errorString("tool call without a function name")
		}
		args := tc.Function.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		out[i] = toolCallOut{ID: tc.ID, Type: "function", Function: functionOut{Name: tc.Function.Name, Arguments: args}}
	}
	return out, nil
}

// convertTools converts the tools and tool_choice. Function tools are
// OpenAI's shape; other tool types (v4's web_search, retrieval, mcp) are
// forwarded as sent. v4's tool_choice knows only "auto", so:
//
//   - "auto" and absent: the tools as they are ("auto" sent when given);
//   - "none": the function tools are dropped, so none can be called;
//   - "required": "auto" (v4 cannot force a call);
//   - {"type":"function","function":{"name":X}}: only function X is
//     offered, with "auto" (the closest v4 gets to forcing it).
func convertTools(raw []sonic.NoCopyRawMessage, choiceRaw sonic.NoCopyRawMessage) ([]json.RawMessage, string, error) {
	choice, named, err := toolChoice(choiceRaw)
	if err != nil {
		return nil, "", err
	}
	out := make([]json.RawMessage, 0, len(raw))
	found := false
	for i, r := range raw {
		var head struct {
			Type string `json:"type"`
		}
		if !openaiwire.IsObject(r) || bodyAPI.Unmarshal(r, &head) != nil {
			return nil, "", invalidBody("tools[%d] is not an object", i)
		}
		if head.Type != "function" {
			if head.Type == "" {
				return nil, "", invalidBody("tools[%d] has no type", i)
			}
			c, err := compactJSON(r)
			if err != nil {
				return nil, "", invalidBody("tools[%d]: %v", i, err)
			}
			if choice != "none" && named == "" {
				out = append(out, c)
			}
			continue
		}
		var t functionTool
		if err := bodyAPI.Unmarshal(r, &t); err != nil {
			return nil, "", invalidBody("tools[%d]: %v", i, err)
		}
		if t.Function.Name == "" {
			return nil, "", invalidBody("tools[%d] has no function name", i)
		}
		if choice == "none" || (named != "" && t.Function.Name != named) {
			continue
		}
		found = found || named != ""
		if p := bytes.TrimSpace(t.Function.Parameters); !openaiwire.IsPresent(p) {
			t.Function.Parameters = emptyParameters
		} else if t.Function.Parameters, err = compactJSON(p); err != nil {
			return nil, "", invalidBody("tools[%d]: parameters: %v", i, err)
		}
		b, err := sonic.ConfigDefault.Marshal(&t)
		if err != nil {
			return nil, "", invalidBody("tools[%d]: %v", i, err)
		}
		out = append(out, b)
	}
	if named != "" && !found {
		return nil, "", invalidBody("tool_choice names function %q, which is not among the tools", named)
	}
	if len(out) == 0 {
		return nil, "", nil
	}
	if choice != "" {
		choice = "auto"
	}
	return out, choice, nil
}

// compactJSON returns raw, a JSON value forwarded as the client sent it,
// checked and without insignificant whitespace.
func compactJSON(raw []byte) (json.RawMessage, error) {
	if !json.Valid(raw) {
		return nil, errorString("not valid JSON")
	}
	if !bytes.ContainsAny(raw, " \t\r\n") {
		return raw, nil
	}
	var b bytes.Buffer
	b.Grow(len(raw))
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// hasFunctionTool reports whether the converted tools offer a function.
func hasFunctionTool(tools []json.RawMessage) bool {
	for _, t := range tools {
		if bytes.HasPrefix(t, []byte(`{"type":"function"`)) {
			return true
		}
	}
	return false
}

// toolChoice reads OpenAI's tool_choice: a mode string ("" when absent),
// or the name of a forced function.
func toolChoice(raw sonic.NoCopyRawMessage) (choice, named string, err error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", "", nil
	}
	if raw[0] == '"' {
		if err := bodyAPI.Unmarshal(raw, &choice); err != nil {
			return "", "", invalidBody("tool_choice: %v", err)
		}
		switch choice {
		case "auto", "none", "required":
			return choice, "", nil
		}
		return "", "", invalidBody("tool_choice %q is not one of none, auto, required", choice)
	}
	var c openaiwire.NamedToolChoice
	if raw[0] != '{' || bodyAPI.Unmarshal(raw, &c) != nil || c.Function.Name == "" {
		return "", "", invalidBody("tool_choice must be a string or {\"type\":\"function\",\"function\":{\"name\":…}}")
	}
	return "function", c.Function.Name, nil
}

// convertStop reads OpenAI's stop (a string or an array of strings).
func convertStop(raw sonic.NoCopyRawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := bodyAPI.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("stop: %v", err)
		}
		if s == "" {
			return nil, nil
		}
		return []string{s}, nil
	}
	var ss []string
	if raw[0] != '[' || bodyAPI.Unmarshal(raw, &ss) != nil {
		return nil, invalidBody("stop must be a string or an array of strings")
	}
	return ss, nil
}

// convertResponseFormat maps response_format: text and json_object are
// v4's; json_schema becomes json_object (v4 has no schema-constrained
// output; the model is asked for JSON, the schema is not enforced).
func convertResponseFormat(in *struct {
	Type string `json:"type"`
}) (*responseFormat, error) {
	if in == nil || in.Type == "" {
		return nil, nil
	}
	switch in.Type {
	case "text", "json_object":
		return &responseFormat{Type: in.Type}, nil
	case "json_schema":
		return &responseFormat{Type: "json_object"}, nil
	}
	return nil, invalidBody("response_format type %q is not supported", in.Type)
}
