package ali

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// chatIn is the part of an OpenAI chat body the conversion reads, plus
// the DashScope members a client may send as extras (One API and new-api
// clients do): enable_search, search_options, enable_thinking,
// thinking_budget, top_k, repetition_penalty.
type chatIn struct {
	Messages            []messageIn            `json:"messages"`
	MaxTokens           *int                   `json:"max_tokens"`
	MaxCompletionTokens *int                   `json:"max_completion_tokens"`
	Temperature         *float64               `json:"temperature"`
	TopP                *float64               `json:"top_p"`
	N                   *int                   `json:"n"`
	Stop                sonic.NoCopyRawMessage `json:"stop"`
	Seed                *int64                 `json:"seed"`
	FrequencyPenalty    *float64               `json:"frequency_penalty"`
	PresencePenalty     *float64               `json:"presence_penalty"`
	Tools               []openaiwire.ChatTool  `json:"tools"`
	ToolChoice          sonic.NoCopyRawMessage `json:"tool_choice"`
	ParallelToolCalls   *bool                  `json:"parallel_tool_calls"`
	ResponseFormat      sonic.NoCopyRawMessage `json:"response_format"`
	ReasoningEffort     string                 `json:"reasoning_effort"`
	Functions           []json.RawMessage      `json:"functions"`

	EnableSearch      *bool                  `json:"enable_search"`
	SearchOptions     sonic.NoCopyRawMessage `json:"search_options"`
	EnableThinking    *bool                  `json:"enable_thinking"`
	ThinkingBudget    *int                   `json:"thinking_budget"`
	TopK              *int                   `json:"top_k"`
	RepetitionPenalty *float64               `json:"repetition_penalty"`
}

// messageIn is one OpenAI message; content stays raw (a string, an array
// of parts, or null) until its role says how to read it.
type messageIn struct {
	Role       string                 `json:"role"`
	Content    sonic.NoCopyRawMessage `json:"content"`
	ToolCalls  []openaiwire.ToolCall  `json:"tool_calls"`
	ToolCallID string                 `json:"tool_call_id"`
}

// partIn is one OpenAI content part.
type partIn struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Refusal  string `json:"refusal"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
}

// chatOut is the native generation body: {model, input, parameters}.
type chatOut struct {
	Model      string     `json:"model"`
	Input      inputOut   `json:"input"`
	Parameters parameters `json:"parameters"`
}

type inputOut struct {
	Messages []messageOut `json:"messages"`
}

// messageOut is one native message. Content is raw JSON: a string on the
// text-generation endpoint, an array of {"text"} / {"image"} items on the
// multimodal one.
type messageOut struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []toolCallOut   `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	Name       string          `json:"name,omitempty"`
}

// toolCallOut is a tool call in OpenAI's shape, which DashScope shares.
type toolCallOut struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// toolOut is a tool declaration, OpenAI's shape without "strict".
type toolOut struct {
	Type     string      `json:"type"`
	Function functionOut `json:"function"`
}

type functionOut struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// parameters is the native "parameters" object. result_format is always
// "message" (OpenAI-shaped choices); incremental_output is set on streams
// so every event carries only the new text.
type parameters struct {
	ResultFormat      string          `json:"result_format"`
	IncrementalOutput bool            `json:"incremental_output,omitempty"`
	EnableSearch      bool            `json:"enable_search,omitempty"`
	SearchOptions     json.RawMessage `json:"search_options,omitempty"`
	MaxTokens         int             `json:"max_tokens,omitempty"`
	Temperature       *float64        `json:"temperature,omitempty"`
	TopP              *float64        `json:"top_p,omitempty"`
	TopK              *int            `json:"top_k,omitempty"`
	Seed              *int64          `json:"seed,omitempty"`
	Stop              []string        `json:"stop,omitempty"`
	PresencePenalty   *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty  *float64        `json:"frequency_penalty,omitempty"`
	RepetitionPenalty *float64        `json:"repetition_penalty,omitempty"`
	N                 int             `json:"n,omitempty"`
	Tools             []toolOut       `json:"tools,omitempty"`
	ToolChoice        json.RawMessage `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat    json.RawMessage `json:"response_format,omitempty"`
	EnableThinking    *bool           `json:"enable_thinking,omitempty"`
	ThinkingBudget    *int            `json:"thinking_budget,omitempty"`
}

// buildChat describes the native generation call for an OpenAI chat body.
func buildChat(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	var in chatIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if len(in.Messages) == 0 {
		return nil, invalidBody("messages must not be empty")
	}
	if len(in.Functions) > 0 {
		return nil, invalidBody("functions are not supported by DashScope; use tools")
	}
	model, search := strings.CutSuffix(req.Model, internetSuffix)
	if model == "" {
		return nil, invalidBody("no model")
	}
	multimodal := isMultimodalModel(model) || hasImages(in.Messages)
	out := chatOut{Model: model}
	var err error
	if out.Input.Messages, err = convertMessages(in.Messages, multimodal); err != nil {
		return nil, err
	}
	p := &out.Parameters
	p.ResultFormat = "message"
	p.IncrementalOutput = req.Stream
	p.EnableSearch = search || (in.EnableSearch != nil && *in.EnableSearch)
	if p.SearchOptions, err = rawJSON(in.SearchOptions); err != nil {
		return nil, invalidBody("search_options: %v", err)
	}
	for _, limit := range []*int{in.MaxCompletionTokens, in.MaxTokens} {
		if limit != nil {
			if *limit < 1 {
				return nil, invalidBody("max_tokens must be at least 1")
			}
			p.MaxTokens = *limit
			break
		}
	}
	p.Temperature, p.TopP, p.TopK, p.Seed = in.Temperature, in.TopP, in.TopK, in.Seed
	p.PresencePenalty, p.FrequencyPenalty, p.RepetitionPenalty = in.PresencePenalty, in.FrequencyPenalty, in.RepetitionPenalty
	if p.Stop, err = stopList(in.Stop); err != nil {
		return nil, err
	}
	if in.N != nil && *in.N > 1 {
		if req.Stream {
			return nil, invalidBody("n > 1 cannot be streamed from DashScope's native API; use the OpenAI-compatible mode or n = 1")
		}
		p.N = *in.N
	}
	if p.Tools, err = convertTools(in.Tools); err != nil {
		return nil, err
	}
	if p.ToolChoice, err = convertToolChoice(in.ToolChoice, p.Tools); err != nil {
		return nil, err
	}
	if len(p.Tools) > 0 {
		p.ParallelToolCalls = in.ParallelToolCalls
	}
	if p.ResponseFormat, err = convertResponseFormat(in.ResponseFormat); err != nil {
		return nil, err
	}
	p.EnableThinking, p.ThinkingBudget = in.EnableThinking, in.ThinkingBudget
	if p.EnableThinking == nil {
		p.EnableThinking = thinkingFromEffort(in.ReasoningEffort)
	}
	body, err := marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	path := chatPath
	if multimodal {
		path = multimodalPath
	}
	hr := newRequest(ch, "POST", path, body)
	if req.Stream {
		hr.Header = append(hr.Header,
			adaptors.Header{Key: "Accept", Value: "text/event-stream"},
			adaptors.Header{Key: "X-DashScope-SSE", Value: "enable"})
	}
	return hr, nil
}

// isMultimodalModel reports whether model is served by the
// multimodal-generation endpoint: the Qwen-VL family (qwen-vl-*,
// qwen3-vl-*, qwen2.5-vl-*…) and QVQ.
func isMultimodalModel(model string) bool {
	return strings.Contains(model, "-vl") || strings.HasPrefix(model, "qvq")
}

// hasImages reports whether a message has an image_url part (such a
// request can only be served by the multimodal endpoint).
func hasImages(msgs []messageIn) bool {
	for i := range msgs {
		c := msgs[i].Content
		if len(c) > 0 && c[0] == '[' && bytes.Contains(c, []byte(`"image_url"`)) {
			return true
		}
	}
	return false
}

// thinkingFromEffort maps reasoning_effort to enable_thinking: "none" and
// "minimal" turn thinking off, the other efforts on; unset leaves the
// model's default.
func thinkingFromEffort(effort string) *bool {
	var on bool
	switch effort {
	case "":
		return nil
	case "none", "minimal":
		on = false
	default:
		on = true
	}
	return &on
}

// convertMessages maps OpenAI messages to native ones. System and
// developer messages are merged into one leading system message
// (DashScope takes a system message only first); tool results keep
// their tool_call_id and get the function's name from the call they
// answer.
func convertMessages(msgs []messageIn, multimodal bool) ([]messageOut, error) {
	out := make([]messageOut, 1, len(msgs)+1) // out[0]: the system message, if any
	var system []string
	names := map[string]string{} // tool call id → function name
	for i := range msgs {
		m := &msgs[i]
		var (
			o   messageOut
			err error
		)
		switch m.Role {
		case "system", "developer":
			t, err := contentText(m.Content)
			if err != nil {
				return nil, invalidBody("messages[%d]: %v", i, err)
			}
			if t != "" {
				system = append(system, t)
			}
			continue
		case "user":
			o.Role = "user"
			o.Content, err = convertContent(m.Content, multimodal, true)
		case "assistant":
			o.Role = "assistant"
			if o.Content, err = convertContent(m.Content, multimodal, false); err != nil {
				break
			}
			for _, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Function.Name == "" {
					err = errors.New("tool call without id or function name")
					break
				}
				args := tc.Function.Arguments
				if strings.TrimSpace(args) == "" {
					args = "{}"
				}
				names[tc.ID] = tc.Function.Name
				o.ToolCalls = append(o.ToolCalls, toolCallOut{ID: tc.ID, Type: "function", Function: functionCall{Name: tc.Function.Name, Arguments: args}})
			}
		case "tool":
			if m.ToolCallID == "" {
				return nil, invalidBody("messages[%d]: tool message without tool_call_id", i)
			}
			o.Role = "tool"
			o.ToolCallID = m.ToolCallID
			o.Name = names[m.ToolCallID]
			o.Content, err = convertContent(m.Content, multimodal, false)
		default:
			return nil, invalidBody("messages[%d]: role %q is not supported by DashScope", i, m.Role)
		}
		if err != nil {
			return nil, invalidBody("messages[%d]: %v", i, err)
		}
		out = append(out, o)
	}
	if len(out) == 1 {
		return nil, invalidBody("messages must hold a user message")
	}
	if len(system) == 0 {
		return out[1:], nil
	}
	text, _ := marshal(strings.Join(system, "\n\n"))
	out[0] = messageOut{Role: "system", Content: text}
	if multimodal {
		out[0].Content = textItems(text)
	}
	return out, nil
}

// emptyString is the content of a message without text (an assistant
// turn that only calls tools, null content): DashScope wants the member.
var emptyString = json.RawMessage(`""`)

// convertContent converts OpenAI content. On the text endpoint a string
// is kept as the client's own JSON bytes and text parts are joined by
// newlines; on the multimodal endpoint the content is an array of
// {"text": …} and {"image": …} items. Images (http(s) URLs or data: URLs,
// both of which DashScope takes) are accepted in user turns only.
func convertContent(raw []byte, multimodal, images bool) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	var parts []partIn
	switch {
	case !openaiwire.IsPresent(raw):
		raw = emptyString
	case raw[0] == '"':
		if !validString(raw) {
			return nil, errors.New("content is not a valid JSON string")
		}
	case raw[0] == '[':
		if err := bodyAPI.Unmarshal(raw, &parts); err != nil {
			return nil, errors.New("content must be a string or an array of parts")
		}
	default:
		return nil, errors.New("content must be a string or an array of parts")
	}
	if parts == nil {
		if multimodal {
			return textItems(raw), nil
		}
		return raw, nil
	}
	if !multimodal {
		var b strings.Builder
		for i, p := range parts {
			t, err := partText(&p, false)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(t)
		}
		return marshal(b.String())
	}
	items := make([]contentItem, 0, len(parts))
	for _, p := range parts {
		if p.Type == "image_url" {
			if !images {
				return nil, errors.New("image_url parts are only allowed in user messages")
			}
			if p.ImageURL == nil || !imageURLOK(p.ImageURL.URL) {
				return nil, errors.New("image_url must be an http(s) URL or a data: URL")
			}
			items = append(items, contentItem{Image: p.ImageURL.URL})
			continue
		}
		t, err := partText(&p, true)
		if err != nil {
			return nil, err
		}
		items = append(items, contentItem{Text: &t})
	}
	return marshal(items)
}

// validString reports whether raw is exactly one well-formed JSON string:
// quoted, no raw control characters, only JSON's escapes. (The client's
// string bytes are forwarded as they are, so they are checked here; this
// is much faster than a general JSON validator on long contents.)
func validString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for i := 1; i < len(raw)-1; i++ {
		c := raw[i]
		switch {
		case c == '"' || c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(raw)-1 {
				return false
			}
			switch raw[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(raw)-1 {
					return false
				}
				for _, h := range raw[i+1 : i+5] {
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
	return true
}

// contentItem is one item of a multimodal message's content.
type contentItem struct {
	Text  *string `json:"text,omitempty"`
	Image string  `json:"image,omitempty"`
}

// textItems wraps a JSON string as multimodal content: [{"text": s}].
func textItems(s json.RawMessage) json.RawMessage {
	b := make([]byte, 0, len(s)+11)
	b = append(b, `[{"text":`...)
	b = append(b, s...)
	return append(b, "}]"...)
}

// partText returns the text of a text or refusal part; other parts are
// errors (image_url is handled by the caller where it is allowed).
func partText(p *partIn, multimodal bool) (string, error) {
	switch p.Type {
	case "text":
		return p.Text, nil
	case "refusal":
		return p.Refusal, nil
	case "image_url":
		if !multimodal {
			return "", errors.New("image_url parts need a multimodal model")
		}
	}
	return "", fmt.Errorf("content part type %q is not supported by DashScope", p.Type)
}

// imageURLOK reports whether u is an image reference DashScope takes.
func imageURLOK(u string) bool {
	return strings.HasPrefix(u, "data:image/") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

// contentText returns the text of OpenAI content (a string, or the text
// parts joined by newlines), "" for null.
func contentText(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := bodyAPI.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	var parts []partIn
	if raw[0] != '[' || bodyAPI.Unmarshal(raw, &parts) != nil {
		return "", errors.New("content must be a string or an array of parts")
	}
	var b strings.Builder
	for i, p := range parts {
		t, err := partText(&p, false)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t)
	}
	return b.String(), nil
}

// stopList reads OpenAI's stop: a string, an array of strings, or null.
// Empty strings are dropped.
func stopList(raw []byte) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := bodyAPI.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("stop: %v", err)
		}
		list = []string{s}
	} else if raw[0] != '[' || bodyAPI.Unmarshal(raw, &list) != nil {
		return nil, invalidBody("stop must be a string or an array of strings")
	}
	out := list[:0]
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// convertTools maps OpenAI tool declarations (function tools only).
func convertTools(tools []openaiwire.ChatTool) ([]toolOut, error) {
	if len(tools) == 0 {
		return nil, nil
	}
	out := make([]toolOut, len(tools))
	for i, t := range tools {
		if t.Type != "function" && t.Type != "" {
			return nil, invalidBody("tools[%d]: type %q is not supported by DashScope", i, t.Type)
		}
		if t.Function.Name == "" {
			return nil, invalidBody("tools[%d]: function name is required", i)
		}
		params, err := rawJSON(t.Function.Parameters)
		if err != nil {
			return nil, invalidBody("tools[%d].function.parameters: %v", i, err)
		}
		out[i] = toolOut{Type: "function", Function: functionOut{Name: t.Function.Name, Description: t.Function.Description, Parameters: params}}
	}
	return out, nil
}

// convertToolChoice maps tool_choice: "auto" and "none" as they are, a
// named function as {"type":"function","function":{"name":…}}.
// "required" names the only tool when there is one; with several it is
// forwarded as "required" (see doc.go).
func convertToolChoice(raw []byte, tools []toolOut) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		switch s := rawString(raw); s {
		case "auto", "none":
			return marshal(s)
		case "required":
			if len(tools) == 1 {
				return namedChoice(tools[0].Function.Name)
			}
			return marshal(s)
		default:
			return nil, invalidBody("tool_choice %q is not supported", s)
		}
	}
	var named openaiwire.NamedToolChoice
	if raw[0] != '{' || bodyAPI.Unmarshal(raw, &named) != nil || named.Function.Name == "" {
		return nil, invalidBody(`tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":…}}`)
	}
	for _, t := range tools {
		if t.Function.Name == named.Function.Name {
			return namedChoice(named.Function.Name)
		}
	}
	return nil, invalidBody("tool_choice names %q, which is not among the tools", named.Function.Name)
}

func namedChoice(name string) (json.RawMessage, error) {
	var c openaiwire.NamedToolChoice
	c.Type = "function"
	c.Function.Name = name
	return marshal(&c)
}

// convertResponseFormat forwards json_object and json_schema (DashScope's
// response_format has OpenAI's shape); "text" is the default and omitted.
func convertResponseFormat(raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	var f struct {
		Type string `json:"type"`
	}
	if raw[0] != '{' || bodyAPI.Unmarshal(raw, &f) != nil {
		return nil, invalidBody("response_format must be an object")
	}
	switch f.Type {
	case "text":
		return nil, nil
	case "json_object", "json_schema":
		out, err := rawJSON(raw)
		if err != nil {
			return nil, invalidBody("response_format: %v", err)
		}
		return out, nil
	}
	return nil, invalidBody("response_format type %q is not supported by DashScope", f.Type)
}

// generationWire is a native generation answer, or one stream event: the
// choices (result_format "message"), the legacy output.text, usage, and
// an error code when the answer is an error.
type generationWire struct {
	Output    *outputWire `json:"output"`
	Usage     *usageWire  `json:"usage"`
	RequestID string      `json:"request_id"`
	Code      string      `json:"code"`
	Message   string      `json:"message"`
	// The compatible mode's (OpenAI's) answer members.
	Choices sonic.NoCopyRawMessage `json:"choices"`
	Error   sonic.NoCopyRawMessage `json:"error"`
}

type outputWire struct {
	Text         sonic.NoCopyRawMessage `json:"text"`
	FinishReason string                 `json:"finish_reason"`
	Choices      []choiceWire           `json:"choices"`
}

type choiceWire struct {
	FinishReason string `json:"finish_reason"`
	Message      struct {
		Content          sonic.NoCopyRawMessage `json:"content"`
		ReasoningContent string                 `json:"reasoning_content"`
		ToolCalls        []toolCallWire         `json:"tool_calls"`
	} `json:"message"`
}

// toolCallWire is a tool call of an answer; in a stream, a fragment of
// one (id and name on the first fragment only).
type toolCallWire struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// usageWire is native usage. input_tokens counts every prompt token
// (cache reads and writes included), output_tokens every generated token
// (thinking included).
type usageWire struct {
	InputTokens         int `json:"input_tokens"`
	OutputTokens        int `json:"output_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens             int `json:"cached_tokens"`
		CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	} `json:"prompt_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

// usage converts w; nil when it counts no tokens.
func (w *usageWire) usage() *adaptors.Usage {
	if w == nil || (w.InputTokens <= 0 && w.OutputTokens <= 0) {
		return nil
	}
	u := &adaptors.Usage{
		PromptTokens:     max(w.InputTokens, 0),
		CompletionTokens: max(w.OutputTokens, 0),
		CachedTokens:     max(w.PromptTokensDetails.CachedTokens, 0),
		CacheWriteTokens: max(w.PromptTokensDetails.CacheCreationInputTokens, 0),
		ReasoningTokens:  max(w.OutputTokensDetails.ReasoningTokens, 0),
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// contentString returns the text of a native message's content: a
// string, or the "text" members of a multimodal content array joined.
func contentString(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		return rawString(raw)
	case '[':
		var items []struct {
			Text string `json:"text"`
		}
		if bodyAPI.Unmarshal(raw, &items) != nil {
			return ""
		}
		if len(items) == 1 {
			return items[0].Text
		}
		var b strings.Builder
		for _, it := range items {
			b.WriteString(it.Text)
		}
		return b.String()
	}
	return ""
}

// finishReason maps a native finish_reason to OpenAI's. "null" (and "")
// mean the generation is still running.
func finishReason(s string) (reason string, done bool) {
	switch s {
	case "", "null":
		return "", false
	case "stop", "length", "tool_calls", "content_filter":
		return s, true
	}
	return "stop", true
}

// completion is OpenAI's chat.completion.
type completion struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	Model   string         `json:"model"`
	Choices []completionCh `json:"choices"`
	Usage   *schema.Usage  `json:"usage,omitempty"`
}

type completionCh struct {
	Index        int           `json:"index"`
	Message      completionMsg `json:"message"`
	FinishReason string        `json:"finish_reason"`
}

type completionMsg struct {
	Role             string        `json:"role"`
	Content          *string       `json:"content"`
	ReasoningContent string        `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
}

// parseChat converts a chat answer: native answers here, compatible-mode
// (OpenAI) answers by the OpenAI adaptor.
func (a *Adaptor) parseChat(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var w generationWire
	if err := decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	if w.Code != "" {
		return nil, answerError(w.Code, w.Message, w.RequestID)
	}
	if w.Output == nil {
		if w.Choices == nil && w.Error == nil {
			return nil, invalidResponse("answer has neither output nor choices")
		}
		return a.compat.ParseResponse(req, body)
	}
	out := completion{
		ID:      chatID(w.RequestID),
		Object:  "chat.completion",
		Created: req.Created,
		Model:   req.OriginModel,
	}
	choices := w.Output.Choices
	if len(choices) == 0 {
		// result_format "text": the legacy output.text.
		if !openaiwire.IsPresent(w.Output.Text) {
			return nil, invalidResponse("answer has neither choices nor text")
		}
		choices = []choiceWire{{FinishReason: w.Output.FinishReason}}
		choices[0].Message.Content = w.Output.Text
	}
	out.Choices = make([]completionCh, len(choices))
	for i := range choices {
		out.Choices[i] = convertChoice(&choices[i], i, w.RequestID)
	}
	resp := &adaptors.Response{Usage: w.Usage.usage()}
	if resp.Usage != nil {
		s := resp.Usage.Schema()
		out.Usage = &s
	}
	var err error
	if resp.Body, err = marshal(&out); err != nil {
		return nil, invalidResponse("%v", err)
	}
	return resp, nil
}

// convertChoice converts one native choice.
func convertChoice(c *choiceWire, index int, requestID string) completionCh {
	text := contentString(c.Message.Content)
	reason, _ := finishReason(c.FinishReason)
	if reason == "" {
		reason = "stop"
	}
	o := completionCh{Index: index, FinishReason: reason}
	o.Message.Role = "assistant"
	o.Message.ReasoningContent = c.Message.ReasoningContent
	for j, tc := range c.Message.ToolCalls {
		id := tc.ID
		if id == "" {
			id = toolCallID(requestID, index, j)
		}
		args := tc.Function.Arguments
		if args == "" {
			args = "{}"
		}
		o.Message.ToolCalls = append(o.Message.ToolCalls, toolCallOut{ID: id, Type: "function", Function: functionCall{Name: tc.Function.Name, Arguments: args}})
	}
	if len(o.Message.ToolCalls) > 0 {
		if reason == "stop" {
			o.FinishReason = "tool_calls"
		}
		if text == "" {
			return o // content null, as OpenAI sends it with tool calls
		}
	}
	o.Message.Content = &text
	return o
}

// chatID is the completion id of an answer: DashScope's request id, as
// its compatible mode names completions.
func chatID(requestID string) string {
	return "chatcmpl-" + requestID
}

// toolCallID makes an id for a tool call DashScope sent without one.
func toolCallID(requestID string, choice, n int) string {
	id := "call_" + strconv.Itoa(choice) + "_" + strconv.Itoa(n)
	if requestID != "" {
		id += "_" + requestID
	}
	return id
}
