package tencent

import (
	"bytes"
	"encoding/binary"
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

// chatIn is the part of an OpenAI chat body the conversion reads.
type chatIn struct {
	Messages       []messageIn     `json:"messages"`
	Temperature    *float64        `json:"temperature"`
	TopP           *float64        `json:"top_p"`
	N              *int            `json:"n"`
	Stop           json.RawMessage `json:"stop"`
	Seed           *int64          `json:"seed"`
	Tools          []toolIn        `json:"tools"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	// enable_enhancement is Hunyuan's own switch (search and other
	// enhancements), under the name its OpenAI-compatible endpoint takes;
	// forwarded as EnableEnhancement when a client sends it.
	EnableEnhancement *bool `json:"enable_enhancement"`
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

// toolIn is one OpenAI tool; parameters stay raw.
type toolIn struct {
	Type     string `json:"type"`
	Function struct {
		Name        string                 `json:"name"`
		Description string                 `json:"description"`
		Parameters  sonic.NoCopyRawMessage `json:"parameters"`
	} `json:"function"`
}

// chatOut is the ChatCompletions body, members in the order of the
// reference (ChatCompletionsRequestParams in tencentcloud-sdk-go).
type chatOut struct {
	Model             string       `json:"Model"`
	Messages          []messageOut `json:"Messages"`
	Stream            bool         `json:"Stream"`
	TopP              *float64     `json:"TopP,omitempty"`
	Temperature       *float64     `json:"Temperature,omitempty"`
	EnableEnhancement *bool        `json:"EnableEnhancement,omitempty"`
	Tools             []toolOut    `json:"Tools,omitempty"`
	ToolChoice        string       `json:"ToolChoice,omitempty"`
	CustomTool        *toolOut     `json:"CustomTool,omitempty"`
	Seed              *int64       `json:"Seed,omitempty"`
	Stop              []string     `json:"Stop,omitempty"`
}

// messageOut is one Hunyuan Message. Content is raw JSON: the client's own
// string bytes when it sent a string, else a string the adaptor encoded.
type messageOut struct {
	Role       string          `json:"Role"`
	Content    json.RawMessage `json:"Content,omitempty"`
	Contents   []contentOut    `json:"Contents,omitempty"`
	ToolCallID string          `json:"ToolCallId,omitempty"`
	ToolCalls  []toolCallOut   `json:"ToolCalls,omitempty"`
}

// contentOut is one item of Contents (vision models): text or image_url.
type contentOut struct {
	Type     string       `json:"Type"`
	Text     *string      `json:"Text,omitempty"`
	ImageURL *imageURLOut `json:"ImageUrl,omitempty"`
}

type imageURLOut struct {
	URL string `json:"Url"`
}

type toolCallOut struct {
	ID       string `json:"Id"`
	Type     string `json:"Type"`
	Function struct {
		Name      string `json:"Name"`
		Arguments string `json:"Arguments"`
	} `json:"Function"`
}

// toolOut is a Hunyuan Tool. Parameters is the JSON schema as a string.
type toolOut struct {
	Type     string `json:"Type"`
	Function struct {
		Name        string `json:"Name"`
		Parameters  string `json:"Parameters"`
		Description string `json:"Description,omitempty"`
	} `json:"Function"`
}

// emptyParameters is sent for a tool that declares none: ToolFunction's
// Parameters is required.
const emptyParameters = `{"type":"object","properties":{}}`

// buildChat converts an OpenAI chat body to a ChatCompletions body.
func buildChat(req *adaptors.Request) ([]byte, error) {
	var in chatIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if in.N != nil && *in.N > 1 {
		return nil, invalidBody("n > 1 is not supported by Hunyuan")
	}
	if rf := in.ResponseFormat; rf != nil && rf.Type != "" && rf.Type != "text" {
		return nil, invalidBody("response_format %q is not supported by Hunyuan", rf.Type)
	}
	out := chatOut{
		Model:             req.Model,
		Stream:            req.Stream,
		TopP:              in.TopP,
		Temperature:       in.Temperature,
		EnableEnhancement: in.EnableEnhancement,
		Seed:              in.Seed,
	}
	var err error
	if out.Messages, err = convertMessages(in.Messages); err != nil {
		return nil, err
	}
	if out.Tools, err = convertTools(in.Tools); err != nil {
		return nil, err
	}
	if out.ToolChoice, out.CustomTool, err = convertToolChoice(in.ToolChoice, out.Tools); err != nil {
		return nil, err
	}
	if out.Stop, err = convertStop(in.Stop); err != nil {
		return nil, err
	}
	body, err := marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return body, nil
}

// convertMessages converts OpenAI messages to Hunyuan's, which must be an
// optional system message first, then user (or tool results) and
// assistant turns alternating. So system and developer messages, wherever
// they are, become the one leading system message (their texts joined by
// a blank line); consecutive user messages, and consecutive assistant
// messages, are merged into one; consecutive tool messages stay apart, as
// Hunyuan takes them.
func convertMessages(msgs []messageIn) ([]messageOut, error) {
	if len(msgs) == 0 {
		return nil, invalidBody("messages must not be empty")
	}
	out := make([]messageOut, 1, len(msgs)+1) // out[0]: the system message, if any
	var system []string
	for i := range msgs {
		m := &msgs[i]
		var (
			o   messageOut
			err error
		)
		switch m.Role {
		case "system", "developer":
			var s string
			if s, err = contentText(m.Content); err == nil && s != "" {
				system = append(system, s)
			}
			if err != nil {
				return nil, invalidBody("messages[%d]: %v", i, err)
			}
			continue
		case "user":
			o, err = convertUser(m)
		case "assistant":
			o, err = convertAssistant(m)
		case "tool":
			if m.ToolCallID == "" {
				return nil, invalidBody("messages[%d]: tool message without tool_call_id", i)
			}
			o = messageOut{Role: "tool", ToolCallID: m.ToolCallID}
			o.Content, err = textContent(m.Content)
		default:
			return nil, invalidBody("messages[%d]: role %q is not supported by Hunyuan", i, m.Role)
		}
		if err != nil {
			return nil, invalidBody("messages[%d]: %v", i, err)
		}
		if last := &out[len(out)-1]; len(out) > 1 && last.Role == o.Role && o.Role != "tool" {
			if err := merge(last, &o); err != nil {
				return nil, invalidBody("messages[%d]: %v", i, err)
			}
			continue
		}
		out = append(out, o)
	}
	if len(system) == 0 {
		return out[1:], nil
	}
	text, _ := marshal(strings.Join(system, "\n\n"))
	out[0] = messageOut{Role: "system", Content: text}
	return out, nil
}

// convertUser converts a user message: a string as the client wrote it;
// text parts joined into Content; parts with an image become Contents (the
// vision models' multi-part form), each text part a text item and each
// image an image_url item. Hunyuan takes http(s) image URLs and base64
// data URLs alike, so images are forwarded as they came.
func convertUser(m *messageIn) (messageOut, error) {
	o := messageOut{Role: "user"}
	raw := bytes.TrimSpace(m.Content)
	if len(raw) == 0 || raw[0] != '[' {
		var err error
		o.Content, err = textContent(raw)
		return o, err
	}
	var parts []partIn
	if err := openaiwire.API.Unmarshal(raw, &parts); err != nil {
		return o, err
	}
	images := false
	for _, p := range parts {
		if p.Type == "image_url" {
			images = true
		}
	}
	if !images {
		var err error
		o.Content, err = textContent(raw)
		return o, err
	}
	o.Contents = make([]contentOut, 0, len(parts))
	for _, p := range parts {
		switch p.Type {
		case "text":
			text := p.Text
			o.Contents = append(o.Contents, contentOut{Type: "text", Text: &text})
		case "image_url":
			if p.ImageURL == nil || !imageURLOK(p.ImageURL.URL) {
				return o, errors.New("image_url must be an http(s) URL or a base64 data: URL")
			}
			o.Contents = append(o.Contents, contentOut{Type: "image_url", ImageURL: &imageURLOut{URL: p.ImageURL.URL}})
		default:
			return o, fmt.Errorf("content part type %q is not supported by Hunyuan", p.Type)
		}
	}
	return o, nil
}

// imageURLOK reports whether u is a form ImageUrl.Url takes: a web URL, or
// a data URL with its "data:image/…;base64," prefix.
func imageURLOK(u string) bool {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return true
	}
	head, _, ok := strings.Cut(u, ",")
	return ok && strings.HasPrefix(head, "data:image/") && strings.HasSuffix(head, ";base64")
}

// convertAssistant converts an assistant turn: its text (null with tool
// calls is the standard OpenAI form) and its tool calls.
func convertAssistant(m *messageIn) (messageOut, error) {
	o := messageOut{Role: "assistant"}
	var err error
	if o.Content, err = textContent(m.Content); err != nil {
		return o, err
	}
	if len(m.ToolCalls) == 0 {
		return o, nil
	}
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

// merge appends message o to last, a message of the same role: texts are
// joined by a blank line, Contents and tool calls concatenated (text
// becomes a text item when the other side has Contents).
func merge(last, o *messageOut) error {
	if last.Contents != nil || o.Contents != nil {
		var items []contentOut
		for _, m := range []*messageOut{last, o} {
			if m.Contents != nil {
				items = append(items, m.Contents...)
				continue
			}
			if len(m.Content) > 0 {
				var s string
				if err := openaiwire.API.Unmarshal(m.Content, &s); err != nil {
					return err
				}
				items = append(items, contentOut{Type: "text", Text: &s})
			}
		}
		last.Content, last.Contents = nil, items
	} else if len(o.Content) > 0 {
		if len(last.Content) == 0 {
			last.Content = o.Content
		} else {
			var a, b string
			if openaiwire.API.Unmarshal(last.Content, &a) != nil || openaiwire.API.Unmarshal(o.Content, &b) != nil {
				return errors.New("content is not a valid JSON string")
			}
			last.Content, _ = marshal(a + "\n\n" + b)
		}
	}
	last.ToolCalls = append(last.ToolCalls, o.ToolCalls...)
	return nil
}

// textContent returns OpenAI content that must be text as a JSON string:
// a string as the client wrote it, text (and refusal) parts joined, nil
// for null or an empty string.
func textContent(raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) || string(raw) == `""` {
		return nil, nil
	}
	if raw[0] == '"' {
		if !validString(raw) {
			return nil, errors.New("content is not a valid JSON string")
		}
		return json.RawMessage(raw), nil
	}
	s, err := contentText(raw)
	if err != nil || s == "" {
		return nil, err
	}
	b, err := marshal(s)
	return b, err
}

// contentText returns the text of OpenAI content (a string, or the text
// and refusal parts joined), "" for null.
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
			return "", fmt.Errorf("content part type %q is not allowed here", p.Type)
		}
	}
	return b.String(), nil
}

// validString reports whether raw is one well-formed JSON string: quoted,
// no raw control characters, only JSON's escapes. The decoder skips over
// the client's content strings without looking inside them, and they are
// forwarded as they are, so they are checked here — eight bytes at a time
// while none of them is a quote, a backslash or a control character.
func validString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); {
		if i+8 <= len(s) && !special8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
			continue
		}
		switch c := s[i]; {
		case c == '"' || c < 0x20:
			return false
		case c == '\\':
			if i+1 >= len(s) {
				return false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) {
					return false
				}
				for _, h := range s[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		default:
			i++
		}
	}
	return true
}

// special8 reports whether any of the eight bytes of x is a control
// character, a quote or a backslash (exact, by the has-less-than and
// has-zero-byte word tricks).
func special8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	lt := (x - ones*0x20) &^ x & highs
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	return lt|((quote-ones)&^quote&highs)|((backslash-ones)&^backslash&highs) != 0
}

// convertTools converts OpenAI function tools; the parameters schema goes
// as a JSON string, as ToolFunction.Parameters takes it.
func convertTools(tools []toolIn) ([]toolOut, error) {
	if len(tools) == 0 {
		return nil, nil
	}
	out := make([]toolOut, len(tools))
	for i, t := range tools {
		if t.Type != "function" {
			return nil, invalidBody("tools[%d]: tool type %q is not supported by Hunyuan", i, t.Type)
		}
		if t.Function.Name == "" {
			return nil, invalidBody("tools[%d]: function name is required", i)
		}
		o := &out[i]
		o.Type = "function"
		o.Function.Name = t.Function.Name
		o.Function.Description = t.Function.Description
		params, err := rawJSON(t.Function.Parameters)
		if err != nil {
			return nil, invalidBody("tools[%d]: parameters: %v", i, err)
		}
		o.Function.Parameters = emptyParameters
		if params != nil {
			o.Function.Parameters = string(params)
		}
	}
	return out, nil
}

// convertToolChoice maps OpenAI's tool_choice to ToolChoice (none, auto,
// custom) and CustomTool. A named function is custom with that tool;
// "required" is custom with the only tool, or auto when there are several
// (Hunyuan cannot demand "some tool"). Without tools the choice is moot
// and dropped.
func convertToolChoice(raw json.RawMessage, tools []toolOut) (string, *toolOut, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) || len(tools) == 0 {
		return "", nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return "", nil, invalidBody("tool_choice: %v", err)
		}
		switch s {
		case "auto", "none":
			return s, nil, nil
		case "required":
			if len(tools) == 1 {
				t := tools[0]
				return "custom", &t, nil
			}
			return "auto", nil, nil
		}
		return "", nil, invalidBody("tool_choice %q is not supported", s)
	}
	var named openaiwire.NamedToolChoice
	if err := openaiwire.API.Unmarshal(raw, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
		return "", nil, invalidBody(`tool_choice must be auto, none, required or {"type":"function","function":{"name":…}}`)
	}
	for _, t := range tools {
		if t.Function.Name == named.Function.Name {
			return "custom", &t, nil
		}
	}
	return "", nil, invalidBody("tool_choice names %q, which is not among the tools", named.Function.Name)
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

// chatResponse is a ChatCompletions answer (ChatCompletionsResponseParams),
// and, without the Response wrapper, one stream chunk.
type chatResponse struct {
	ID        string        `json:"Id"`
	RequestID string        `json:"RequestId"`
	Created   int64         `json:"Created"`
	Choices   []choiceWire  `json:"Choices"`
	Usage     usageWire     `json:"Usage"`
	ErrorMsg  *errorMsgWire `json:"ErrorMsg"`
	Error     *errorDetail  `json:"Error"`
}

// chatEnvelope is the non-stream answer, {"Response": {…}}; a bare answer
// (no wrapper) is read too.
type chatEnvelope struct {
	Response *chatResponse `json:"Response"`
	chatResponse
}

type choiceWire struct {
	FinishReason string       `json:"FinishReason"`
	Message      *messageWire `json:"Message"`
	Delta        messageWire  `json:"Delta"` // a value: decoded once per stream event
}

// messageWire is a choice's Message (non-stream) or Delta (stream).
type messageWire struct {
	Content          string         `json:"Content"`
	ReasoningContent string         `json:"ReasoningContent"`
	ToolCalls        []toolCallWire `json:"ToolCalls"`
}

type toolCallWire struct {
	ID       string `json:"Id"`
	Function struct {
		Name      string `json:"Name"`
		Arguments string `json:"Arguments"`
	} `json:"Function"`
	Index *int `json:"Index"`
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
	ToolCalls        []toolCallAns `json:"tool_calls,omitempty"`
}

type toolCallAns struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// parseChat converts a ChatCompletions answer into a chat.completion. An
// error inside the 2xx answer (Response.Error) is a *schema.Error with the
// status its code maps to.
func parseChat(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var env chatEnvelope
	if err := decodeAnswer(body, &env); err != nil {
		return nil, err
	}
	w := &env.chatResponse
	if env.Response != nil {
		w = env.Response
	}
	if w.Error != nil && w.Error.Code != "" {
		return nil, apiError(codeStatus(w.Error.Code), w.Error)
	}
	if w.ErrorMsg != nil && w.ErrorMsg.Code != 0 {
		return nil, streamError(w.ErrorMsg)
	}
	if len(w.Choices) == 0 {
		return nil, invalidResponse("answer has no Choices")
	}
	id := w.ID
	if id == "" {
		id = w.RequestID // the function-call examples have no Id
	}
	c := completion{
		ID:      id,
		Object:  "chat.completion",
		Created: w.Created,
		Model:   req.OriginModel,
		Choices: make([]choiceOut, len(w.Choices)),
	}
	if c.Created <= 0 {
		c.Created = req.Created
	}
	for i, ch := range w.Choices {
		m := ch.Message
		if m == nil {
			m = &w.Choices[i].Delta
		}
		ans := messageAns{Role: "assistant", ReasoningContent: m.ReasoningContent}
		if len(m.ToolCalls) > 0 {
			ans.ToolCalls = make([]toolCallAns, len(m.ToolCalls))
			for j, tc := range m.ToolCalls {
				a := &ans.ToolCalls[j]
				a.ID = tc.ID
				if a.ID == "" {
					a.ID = callID(id, j)
				}
				a.Type = "function"
				a.Function.Name = tc.Function.Name
				a.Function.Arguments = tc.Function.Arguments
			}
			if m.Content != "" {
				ans.Content = &m.Content
			}
		} else {
			ans.Content = &m.Content
		}
		c.Choices[i] = choiceOut{Index: i, Message: ans, FinishReason: finishReason(ch.FinishReason, len(m.ToolCalls) > 0)}
	}
	resp := &adaptors.Response{}
	if u, ok := w.Usage.usage(); ok {
		resp.Usage = &u
		su := u.Schema()
		c.Usage = &su
	}
	var err error
	if resp.Body, err = marshal(&c); err != nil {
		return nil, invalidResponse("%v", err)
	}
	return resp, nil
}

// callID names a tool call Hunyuan sent without an Id (its function-call
// examples have none): unique within the answer, stable across its
// chunks.
func callID(answerID string, n int) string {
	if answerID == "" {
		return "call_" + strconv.Itoa(n)
	}
	return "call_" + answerID + "_" + strconv.Itoa(n)
}

// finishReason maps Hunyuan's FinishReason: stop; tool_calls; sensitive
// (the moderation stopped the answer) is content_filter; length is kept;
// anything else, or stop on an answer with tool calls, follows what the
// answer holds.
func finishReason(r string, calls bool) string {
	switch r {
	case "sensitive":
		return "content_filter"
	case "length":
		return "length"
	case "tool_calls":
		return "tool_calls"
	}
	if calls {
		return "tool_calls"
	}
	return "stop"
}
