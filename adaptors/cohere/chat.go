package cohere

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// chatIn is the part of an OpenAI chat body the conversion reads.
type chatIn struct {
	Messages            []messageIn           `json:"messages"`
	MaxTokens           *int                  `json:"max_tokens"`
	MaxCompletionTokens *int                  `json:"max_completion_tokens"`
	Temperature         *float64              `json:"temperature"`
	TopP                *float64              `json:"top_p"`
	N                   *int                  `json:"n"`
	Stop                json.RawMessage       `json:"stop"`
	Seed                *int64                `json:"seed"`
	FrequencyPenalty    *float64              `json:"frequency_penalty"`
	PresencePenalty     *float64              `json:"presence_penalty"`
	Tools               []openaiwire.ChatTool `json:"tools"`
	ToolChoice          json.RawMessage       `json:"tool_choice"`
	ResponseFormat      *responseFormatIn     `json:"response_format"`
	ReasoningEffort     string                `json:"reasoning_effort"`
	// Cohere's own members, forwarded when a client sends them.
	Documents       json.RawMessage `json:"documents"`
	CitationOptions json.RawMessage `json:"citation_options"`
	SafetyMode      json.RawMessage `json:"safety_mode"`
	Thinking        json.RawMessage `json:"thinking"`
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
		URL    string `json:"url"`
		Detail string `json:"detail"`
	} `json:"image_url"`
}

type responseFormatIn struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

// chatOut is the v2 chat body, members in the order of Cohere's reference.
type chatOut struct {
	Model            string             `json:"model"`
	Messages         []messageOut       `json:"messages"`
	Tools            []toolOut          `json:"tools,omitempty"`
	StrictTools      bool               `json:"strict_tools,omitempty"`
	Documents        json.RawMessage    `json:"documents,omitempty"`
	CitationOptions  json.RawMessage    `json:"citation_options,omitempty"`
	ResponseFormat   *responseFormatOut `json:"response_format,omitempty"`
	SafetyMode       json.RawMessage    `json:"safety_mode,omitempty"`
	MaxTokens        *int               `json:"max_tokens,omitempty"`
	StopSequences    []string           `json:"stop_sequences,omitempty"`
	Temperature      *float64           `json:"temperature,omitempty"`
	Seed             *int64             `json:"seed,omitempty"`
	FrequencyPenalty *float64           `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64           `json:"presence_penalty,omitempty"`
	P                *float64           `json:"p,omitempty"`
	ToolChoice       string             `json:"tool_choice,omitempty"`
	Thinking         json.RawMessage    `json:"thinking,omitempty"`
	Stream           bool               `json:"stream"`
}

// messageOut is one v2 message. Content is raw JSON: the client's own
// string bytes, or an array of v2 content parts.
type messageOut struct {
	Role       string          `json:"role"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	ToolCalls  []toolCallOut   `json:"tool_calls,omitempty"`
	ToolPlan   string          `json:"tool_plan,omitempty"`
	Content    json.RawMessage `json:"content,omitempty"`
}

// partOut is a v2 content part: text, or image_url.
type partOut struct {
	Type     string       `json:"type"`
	Text     *string      `json:"text,omitempty"`
	ImageURL *imageURLOut `json:"image_url,omitempty"`
}

type imageURLOut struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// toolCallOut is a v2 tool call, which has OpenAI's shape.
type toolCallOut struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type toolOut struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type responseFormatOut struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// emptyParameters is sent for a tool that declares none: v2 requires a
// parameters schema.
var emptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

// thinkingDisabled is v2's thinking member that turns reasoning off.
var thinkingDisabled = json.RawMessage(`{"type":"disabled"}`)

// buildChat converts an OpenAI chat body into a v2 chat body.
func buildChat(req *adaptors.Request) ([]byte, error) {
	var in chatIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if len(in.Messages) == 0 {
		return nil, invalidBody("messages must not be empty")
	}
	if in.N != nil && *in.N > 1 {
		return nil, invalidBody("n > 1 is not supported by Cohere")
	}
	out := chatOut{Model: req.Model, Stream: req.Stream}
	var err error
	if out.Messages, err = convertMessages(in.Messages); err != nil {
		return nil, err
	}
	if out.Tools, out.StrictTools, err = convertTools(in.Tools); err != nil {
		return nil, err
	}
	if out.Tools, out.ToolChoice, err = convertToolChoice(in.ToolChoice, out.Tools); err != nil {
		return nil, err
	}
	if out.ResponseFormat, err = convertResponseFormat(in.ResponseFormat); err != nil {
		return nil, err
	}
	if out.StopSequences, err = convertStop(in.Stop); err != nil {
		return nil, err
	}
	out.MaxTokens = in.MaxTokens
	if in.MaxCompletionTokens != nil {
		out.MaxTokens = in.MaxCompletionTokens
	}
	out.Temperature = in.Temperature
	out.P = in.TopP
	out.Seed = in.Seed
	out.FrequencyPenalty = in.FrequencyPenalty
	out.PresencePenalty = in.PresencePenalty
	for _, m := range []struct {
		name string
		in   json.RawMessage
		out  *json.RawMessage
	}{
		{"documents", in.Documents, &out.Documents},
		{"citation_options", in.CitationOptions, &out.CitationOptions},
		{"safety_mode", in.SafetyMode, &out.SafetyMode},
		{"thinking", in.Thinking, &out.Thinking},
	} {
		if *m.out, err = rawJSON(m.in); err != nil {
			return nil, invalidBody("%s: %v", m.name, err)
		}
	}
	if out.Thinking == nil && in.ReasoningEffort == "none" {
		out.Thinking = thinkingDisabled
	}
	body, err := marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return body, nil
}

func convertMessages(msgs []messageIn) ([]messageOut, error) {
	out := make([]messageOut, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		var (
			o   messageOut
			err error
		)
		switch m.Role {
		case "system", "developer":
			o.Role = "system"
			o.Content, err = convertContent(m.Content, false)
		case "user":
			o.Role = "user"
			o.Content, err = convertContent(m.Content, true)
		case "assistant":
			o, err = convertAssistant(m)
		case "tool":
			if m.ToolCallID == "" {
				return nil, invalidBody("messages[%d]: tool message without tool_call_id", i)
			}
			o.Role = "tool"
			o.ToolCallID = m.ToolCallID
			o.Content, err = convertContent(m.Content, false)
		default:
			return nil, invalidBody("messages[%d]: role %q is not supported by Cohere", i, m.Role)
		}
		if err != nil {
			return nil, invalidBody("messages[%d]: %v", i, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// convertAssistant converts an assistant turn. When it calls tools, its
// text is the tool plan: v2 keeps the text a model writes before calling
// tools in tool_plan, and the answer conversion maps tool_plan back to
// content, so a conversation round-trips.
func convertAssistant(m *messageIn) (messageOut, error) {
	o := messageOut{Role: "assistant"}
	if len(m.ToolCalls) == 0 {
		var err error
		o.Content, err = convertContent(m.Content, false)
		return o, err
	}
	plan, err := contentText(m.Content)
	if err != nil {
		return o, err
	}
	o.ToolPlan = plan
	o.ToolCalls = make([]toolCallOut, len(m.ToolCalls))
	for j, tc := range m.ToolCalls {
		if tc.ID == "" || tc.Function.Name == "" {
			return o, errors.New("tool call without id or function name")
		}
		c := &o.ToolCalls[j]
		c.ID = tc.ID
		c.Type = "function"
		c.Function.Name = tc.Function.Name
		c.Function.Arguments = tc.Function.Arguments
		if strings.TrimSpace(c.Function.Arguments) == "" {
			c.Function.Arguments = "{}"
		}
	}
	return o, nil
}

// convertContent converts OpenAI content to v2 content. A string is kept
// as the client's own JSON bytes; parts become v2 parts (image_url only
// where images is set: user turns); null gives no content.
func convertContent(raw []byte, images bool) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		if !validStrings(raw) {
			return nil, errors.New("content is not a valid JSON string")
		}
		return raw, nil
	case '[':
	default:
		return nil, errors.New("content must be a string or an array of parts")
	}
	var parts []partIn
	if err := openaiwire.API.Unmarshal(raw, &parts); err != nil {
		return nil, err
	}
	out := make([]partOut, 0, len(parts))
	for _, p := range parts {
		switch p.Type {
		case "text", "refusal":
			text := p.Text
			if p.Type == "refusal" {
				text = p.Refusal
			}
			out = append(out, partOut{Type: "text", Text: &text})
		case "image_url":
			if !images {
				return nil, errors.New("image_url parts are only allowed in user messages")
			}
			if p.ImageURL == nil || !imageURLOK(p.ImageURL.URL) {
				return nil, errors.New("image_url must be a data: URI or an http(s) URL")
			}
			out = append(out, partOut{Type: "image_url", ImageURL: &imageURLOut{URL: p.ImageURL.URL, Detail: p.ImageURL.Detail}})
		default:
			return nil, fmt.Errorf("content part type %q is not supported by Cohere", p.Type)
		}
	}
	return marshal(out)
}

// imageURLOK reports whether u is a form v2's image_url accepts: a
// base64 data URI or a web URL.
func imageURLOK(u string) bool {
	return strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

// contentText returns the text of OpenAI content (a string, or the text
// parts joined), "" for null.
func contentText(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := openaiwire.API.Unmarshal(raw, &s)
		return s, err
	}
	if raw[0] != '[' {
		return "", errors.New("content must be a string or an array of parts")
	}
	var parts []partIn
	if err := openaiwire.API.Unmarshal(raw, &parts); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range parts {
		switch p.Type {
		case "text":
			b.WriteString(p.Text)
		case "refusal":
			b.WriteString(p.Refusal)
		default:
			return "", fmt.Errorf("content part type %q is not allowed in an assistant message", p.Type)
		}
	}
	return b.String(), nil
}

// convertTools converts OpenAI function tools. strict is true when every
// tool asked for strict schemas (v2's strict_tools applies to all).
func convertTools(tools []openaiwire.ChatTool) (out []toolOut, strict bool, err error) {
	if len(tools) == 0 {
		return nil, false, nil
	}
	out = make([]toolOut, len(tools))
	strict = true
	for i, t := range tools {
		if t.Type != "function" {
			return nil, false, invalidBody("tools[%d]: tool type %q is not supported by Cohere", i, t.Type)
		}
		if t.Function.Name == "" {
			return nil, false, invalidBody("tools[%d]: function name is required", i)
		}
		o := &out[i]
		o.Type = "function"
		o.Function.Name = t.Function.Name
		o.Function.Description = t.Function.Description
		if o.Function.Parameters, err = rawJSON(t.Function.Parameters); err != nil {
			return nil, false, invalidBody("tools[%d]: parameters: %v", i, err)
		}
		if o.Function.Parameters == nil {
			o.Function.Parameters = emptyParameters
		}
		if t.Function.Strict == nil || !*t.Function.Strict {
			strict = false
		}
	}
	return out, strict, nil
}

// convertToolChoice maps OpenAI's tool_choice. v2 knows REQUIRED and NONE
// (absent means auto) and cannot name a tool, so a named choice keeps
// only that tool and requires it. Without tools the choice is moot and
// dropped.
func convertToolChoice(raw json.RawMessage, tools []toolOut) ([]toolOut, string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) || len(tools) == 0 {
		return tools, "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return nil, "", invalidBody("tool_choice: %v", err)
		}
		switch s {
		case "auto":
			return tools, "", nil
		case "none":
			return tools, "NONE", nil
		case "required":
			return tools, "REQUIRED", nil
		}
		return nil, "", invalidBody("tool_choice %q is not supported", s)
	}
	var named openaiwire.NamedToolChoice
	if err := openaiwire.API.Unmarshal(raw, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
		return nil, "", invalidBody("tool_choice must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\":…}}")
	}
	for _, t := range tools {
		if t.Function.Name == named.Function.Name {
			return []toolOut{t}, "REQUIRED", nil
		}
	}
	return nil, "", invalidBody("tool_choice names %q, which is not among the tools", named.Function.Name)
}

func convertResponseFormat(rf *responseFormatIn) (*responseFormatOut, error) {
	if rf == nil {
		return nil, nil
	}
	switch rf.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return &responseFormatOut{Type: "json_object"}, nil
	case "json_schema":
		out := &responseFormatOut{Type: "json_object"}
		if rf.JSONSchema != nil {
			var err error
			if out.JSONSchema, err = rawJSON(rf.JSONSchema.Schema); err != nil {
				return nil, invalidBody("response_format.json_schema.schema: %v", err)
			}
		}
		return out, nil
	}
	return nil, invalidBody("response_format type %q is not supported by Cohere", rf.Type)
}

// convertStop maps stop (a string or an array of strings).
func convertStop(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("stop: %v", err)
		}
		if s == "" {
			return nil, nil
		}
		return []string{s}, nil
	}
	var list []string
	if err := openaiwire.API.Unmarshal(raw, &list); err != nil {
		return nil, invalidBody("stop must be a string or an array of strings")
	}
	return list, nil
}

// chatResponse is v2's chat answer: what the conversion reads.
type chatResponse struct {
	ID           string          `json:"id"`
	FinishReason string          `json:"finish_reason"`
	Message      json.RawMessage `json:"message"`
	Usage        *usageWire      `json:"usage"`
	Meta         *usageWire      `json:"meta"`
}

// assistantMessage is v2's assistant message in an answer.
type assistantMessage struct {
	Content   json.RawMessage `json:"content"`
	ToolPlan  string          `json:"tool_plan"`
	ToolCalls []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// contentItem is one item of an answer's content: text or thinking.
type contentItem struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Thinking string `json:"thinking"`
}

// completion is OpenAI's chat.completion as the gateway sends it.
type completion struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []choiceOut   `json:"choices"`
	Usage   *schema.Usage `json:"usage,omitempty"`
}

type choiceOut struct {
	Index        int        `json:"index"`
	Message      messageAns `json:"message"`
	FinishReason string     `json:"finish_reason"`
}

type messageAns struct {
	Role             string        `json:"role"`
	Content          *string       `json:"content"`
	ReasoningContent string        `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
}

// parseChat converts a v2 chat answer into a chat.completion.
func parseChat(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var w chatResponse
	if err := decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	msg := bytes.TrimSpace(w.Message)
	if len(msg) == 0 || msg[0] != '{' {
		if len(msg) > 0 && msg[0] == '"' {
			// {"message":"…"}: an error body under a 2xx status.
			return nil, parseError(http.StatusBadGateway, body)
		}
		return nil, invalidResponse("chat answer has no message")
	}
	var m assistantMessage
	if err := openaiwire.DecodeLenient(msg, &m); err != nil {
		return nil, invalidResponse("message: %v", err)
	}
	finish, ferr := finishReason(w.FinishReason, "")
	if ferr != nil {
		return nil, ferr
	}
	var text, reasoning strings.Builder
	if err := readContent(m.Content, &text, &reasoning); err != nil {
		return nil, err
	}
	ans := messageAns{Role: "assistant", ReasoningContent: reasoning.String()}
	if len(m.ToolCalls) > 0 {
		// The plan is the text written before the calls; any final text
		// follows it.
		t := m.ToolPlan + text.String()
		if t != "" {
			ans.Content = &t
		}
		ans.ToolCalls = make([]toolCallOut, len(m.ToolCalls))
		for i, tc := range m.ToolCalls {
			c := &ans.ToolCalls[i]
			c.ID = tc.ID
			c.Type = "function"
			c.Function.Name = tc.Function.Name
			c.Function.Arguments = tc.Function.Arguments
		}
		if finish == "stop" {
			// A tool call is what the turn ended with, whatever Cohere
			// says: OpenAI clients run tools only on tool_calls.
			finish = "tool_calls"
		}
	} else {
		t := text.String()
		if t == "" {
			t = m.ToolPlan
		}
		ans.Content = &t
	}
	resp := &adaptors.Response{Usage: w.Usage.usage()}
	if resp.Usage == nil {
		resp.Usage = w.Meta.usage()
	}
	c := completion{
		ID:      w.ID,
		Object:  "chat.completion",
		Created: req.Created,
		Model:   req.OriginModel,
		Choices: []choiceOut{{Message: ans, FinishReason: finish}},
	}
	if resp.Usage != nil {
		u := resp.Usage.Schema()
		c.Usage = &u
	}
	var err error
	if resp.Body, err = marshal(&c); err != nil {
		return nil, invalidResponse("%v", err)
	}
	return resp, nil
}

// readContent appends the text and thinking of an answer's content (an
// array of items, or a plain string) to text and reasoning.
func readContent(raw json.RawMessage, text, reasoning *strings.Builder) error {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return invalidResponse("content: %v", err)
		}
		text.WriteString(s)
		return nil
	}
	if raw[0] != '[' {
		return invalidResponse("content is neither an array nor a string")
	}
	var items []contentItem
	if err := openaiwire.DecodeLenient(raw, &items); err != nil {
		return invalidResponse("content: %v", err)
	}
	for _, it := range items {
		switch it.Type {
		case "text":
			text.WriteString(it.Text)
		case "thinking":
			reasoning.WriteString(it.Thinking)
		}
	}
	return nil
}

// finishReason maps v2's finish_reason to OpenAI's. ERROR and TIMEOUT
// are failures: the generation did not finish, so the gateway reports an
// error rather than a truncated success. detail is Cohere's error text,
// when it sent one (a stream's message-end). Unknown reasons are "stop".
func finishReason(r, detail string) (string, *schema.Error) {
	switch r {
	case "MAX_TOKENS":
		return "length", nil
	case "TOOL_CALL":
		return "tool_calls", nil
	case "ERROR":
		msg := "cohere: the generation failed (finish_reason ERROR)"
		if detail != "" {
			msg += ": " + detail
		}
		return "", &schema.Error{Status: http.StatusBadGateway, Message: msg, Type: typeServer, Code: "upstream_generation_error"}
	case "TIMEOUT":
		msg := "cohere: the generation timed out (finish_reason TIMEOUT)"
		if detail != "" {
			msg += ": " + detail
		}
		return "", &schema.Error{Status: http.StatusGatewayTimeout, Message: msg, Type: typeServer, Code: "upstream_timeout"}
	}
	return "stop", nil
}
