package baidu

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
// the legacy function-calling members (functions, function_call) and
// Baidu's own members a client that knows it talks to ERNIE may send.
type chatIn struct {
	Messages            []messageIn               `json:"messages"`
	MaxTokens           *int                      `json:"max_tokens"`
	MaxCompletionTokens *int                      `json:"max_completion_tokens"`
	Temperature         *float64                  `json:"temperature"`
	TopP                *float64                  `json:"top_p"`
	N                   *int                      `json:"n"`
	Stop                sonic.NoCopyRawMessage    `json:"stop"`
	Tools               []openaiwire.ChatTool     `json:"tools"`
	ToolChoice          sonic.NoCopyRawMessage    `json:"tool_choice"`
	Functions           []openaiwire.FunctionDecl `json:"functions"`
	FunctionCall        sonic.NoCopyRawMessage    `json:"function_call"`
	ResponseFormat      *responseFormatIn         `json:"response_format"`
	User                string                    `json:"user"`
	PenaltyScore        *float64                  `json:"penalty_score"`
	DisableSearch       *bool                     `json:"disable_search"`
	EnableCitation      *bool                     `json:"enable_citation"`
}

// messageIn is one OpenAI message; content stays raw (a string, an array
// of parts, or null) until its role says how to read it.
type messageIn struct {
	Role         string                   `json:"role"`
	Content      sonic.NoCopyRawMessage   `json:"content"`
	Name         string                   `json:"name"`
	ToolCalls    []openaiwire.ToolCall    `json:"tool_calls"`
	ToolCallID   string                   `json:"tool_call_id"`
	FunctionCall *openaiwire.FunctionCall `json:"function_call"`
}

type responseFormatIn struct {
	Type string `json:"type"`
}

// partIn is one OpenAI content part.
type partIn struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Refusal string `json:"refusal"`
}

// chatOut is the ERNIE v1 chat body, members in the order of Baidu's
// parameter table.
type chatOut struct {
	Messages        []messageOut   `json:"messages"`
	Functions       []functionOut  `json:"functions,omitempty"`
	Temperature     *float64       `json:"temperature,omitempty"`
	TopP            *float64       `json:"top_p,omitempty"`
	PenaltyScore    *float64       `json:"penalty_score,omitempty"`
	Stream          bool           `json:"stream,omitempty"`
	System          string         `json:"system,omitempty"`
	Stop            []string       `json:"stop,omitempty"`
	DisableSearch   *bool          `json:"disable_search,omitempty"`
	EnableCitation  *bool          `json:"enable_citation,omitempty"`
	MaxOutputTokens *int           `json:"max_output_tokens,omitempty"`
	ResponseFormat  string         `json:"response_format,omitempty"`
	UserID          string         `json:"user_id,omitempty"`
	ToolChoice      *toolChoiceOut `json:"tool_choice,omitempty"`
}

// Roles of ERNIE v1 messages.
const (
	roleUser      = "user"
	roleAssistant = "assistant"
	roleFunction  = "function"
)

// messageOut is one ERNIE v1 message. content is required by Baidu (it
// may be empty only on an assistant message with a function_call).
type messageOut struct {
	Role         string           `json:"role"`
	Content      string           `json:"content"`
	Name         string           `json:"name,omitempty"`
	FunctionCall *functionCallOut `json:"function_call,omitempty"`
}

type functionCallOut struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// functionOut is one entry of functions: name, description and
// parameters are all required by Baidu.
type functionOut struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// toolChoiceOut is ERNIE's tool_choice: {"type":"function","function":
// <the function>,"name":<its name>}, a hint towards one function.
type toolChoiceOut struct {
	Type     string       `json:"type"`
	Function *functionOut `json:"function"`
	Name     string       `json:"name"`
}

// emptyParameters is sent for a function that declares none, as Baidu's
// parameter table asks.
var emptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

// minTemperature is what temperature 0 (and below) becomes: ERNIE's range
// is (0, 1.0] and it refuses 0.
const minTemperature = 0.01

// buildChat converts an OpenAI chat body into an ERNIE v1 chat body.
func buildChat(req *adaptors.Request) ([]byte, error) {
	var in chatIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if len(in.Messages) == 0 {
		return nil, invalidBody("messages must not be empty")
	}
	if in.N != nil && *in.N > 1 {
		return nil, invalidBody("n > 1 is not supported by ERNIE")
	}
	out := chatOut{Stream: req.Stream, PenaltyScore: in.PenaltyScore, DisableSearch: in.DisableSearch,
		EnableCitation: in.EnableCitation, UserID: in.User}
	var system []string
	var err error
	if out.Messages, system, err = convertMessages(in.Messages); err != nil {
		return nil, err
	}
	out.System = strings.Join(system, "\n\n")
	if out.Functions, out.ToolChoice, err = convertTools(&in); err != nil {
		return nil, err
	}
	if out.Stop, err = convertStop(in.Stop); err != nil {
		return nil, err
	}
	out.MaxOutputTokens = in.MaxTokens
	if in.MaxCompletionTokens != nil {
		out.MaxOutputTokens = in.MaxCompletionTokens
	}
	if t := in.Temperature; t != nil {
		v := min(max(*t, minTemperature), 1)
		out.Temperature = &v
	}
	if p := in.TopP; p != nil {
		v := min(max(*p, 0), 1)
		out.TopP = &v
	}
	if rf := in.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text":
		case "json_object", "json_schema":
			// ERNIE takes no schema: json_schema asks for JSON all the same.
			out.ResponseFormat = "json_object"
		default:
			return nil, invalidBody("response_format type %q is not supported by ERNIE", rf.Type)
		}
	}
	body, err := marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return body, nil
}

// convertMessages turns OpenAI messages into ERNIE's alternation:
// user-side turns (user or function) and assistant turns alternate,
// starting and ending with a user-side turn. System and developer
// messages are returned apart (ERNIE's system member). Consecutive user
// messages, and consecutive assistant messages, are merged (text joined
// by a blank line). An assistant turn with N tool calls becomes N pairs
// of an assistant message with one function_call (ERNIE's messages carry
// one each) and the function message holding that call's result, found
// among the tool messages that follow by tool_call_id — so parallel
// calls keep the alternation.
func convertMessages(msgs []messageIn) (out []messageOut, system []string, err error) {
	out = make([]messageOut, 0, len(msgs))
	for i := 0; i < len(msgs); i++ {
		m := &msgs[i]
		switch m.Role {
		case "system", "developer":
			t, err := contentText(m.Content)
			if err != nil {
				return nil, nil, invalidBody("messages[%d]: %v", i, err)
			}
			if t != "" {
				system = append(system, t)
			}
		case "user":
			t, err := contentText(m.Content)
			if err != nil {
				return nil, nil, invalidBody("messages[%d]: %v", i, err)
			}
			out = appendText(out, roleUser, t)
		case "assistant":
			t, err := contentText(m.Content)
			if err != nil {
				return nil, nil, invalidBody("messages[%d]: %v", i, err)
			}
			switch {
			case len(m.ToolCalls) > 0:
				var next int
				if out, next, err = appendToolTurn(out, msgs, i, t); err != nil {
					return nil, nil, err
				}
				i = next - 1
			case m.FunctionCall != nil:
				// The legacy form: one function_call, its result in a
				// following "function" message.
				out = appendCall(out, t, m.FunctionCall.Name, m.FunctionCall.Arguments)
			default:
				out = appendText(out, roleAssistant, t)
			}
		case "function":
			t, err := contentText(m.Content)
			if err != nil {
				return nil, nil, invalidBody("messages[%d]: %v", i, err)
			}
			if m.Name == "" {
				return nil, nil, invalidBody("messages[%d]: function message without name", i)
			}
			out = append(out, messageOut{Role: roleFunction, Name: m.Name, Content: t})
		case "tool":
			return nil, nil, invalidBody("messages[%d]: tool message %q does not follow the assistant message that called it", i, m.ToolCallID)
		default:
			return nil, nil, invalidBody("messages[%d]: role %q is not supported by ERNIE", i, m.Role)
		}
	}
	if err := checkAlternation(out); err != nil {
		return nil, nil, err
	}
	return out, system, nil
}

// appendText adds a text turn, merged into the previous one when it has
// the same role and is plain text.
func appendText(out []messageOut, role, text string) []messageOut {
	if n := len(out); n > 0 && out[n-1].Role == role && role != roleFunction && out[n-1].FunctionCall == nil {
		if out[n-1].Content == "" {
			out[n-1].Content = text
		} else if text != "" {
			out[n-1].Content += "\n\n" + text
		}
		return out
	}
	return append(out, messageOut{Role: role, Content: text})
}

// appendCall adds an assistant message calling one function. Text of a
// plain assistant message just before it is kept as its content.
func appendCall(out []messageOut, text, name, args string) []messageOut {
	if strings.TrimSpace(args) == "" {
		args = "{}"
	}
	fc := &functionCallOut{Name: name, Arguments: args}
	if n := len(out); n > 0 && out[n-1].Role == roleAssistant && out[n-1].FunctionCall == nil {
		if text != "" && out[n-1].Content != "" {
			text = out[n-1].Content + "\n\n" + text
		} else if text == "" {
			text = out[n-1].Content
		}
		out[n-1] = messageOut{Role: roleAssistant, Content: text, FunctionCall: fc}
		return out
	}
	return append(out, messageOut{Role: roleAssistant, Content: text, FunctionCall: fc})
}

// appendToolTurn converts msgs[i], an assistant message with tool calls
// whose text is text, and the tool messages after it. It returns the
// index of the first message it did not consume.
func appendToolTurn(out []messageOut, msgs []messageIn, i int, text string) ([]messageOut, int, error) {
	calls := msgs[i].ToolCalls
	results := make(map[string]string, len(calls))
	next := i + 1
	for ; next < len(msgs) && msgs[next].Role == "tool"; next++ {
		r, err := contentText(msgs[next].Content)
		if err != nil {
			return nil, 0, invalidBody("messages[%d]: %v", next, err)
		}
		results[msgs[next].ToolCallID] = r
	}
	for k, tc := range calls {
		if tc.Function.Name == "" {
			return nil, 0, invalidBody("messages[%d]: tool call without function name", i)
		}
		r, ok := results[tc.ID]
		if !ok {
			return nil, 0, invalidBody("messages[%d]: tool call %q has no tool message with its result (ERNIE needs every call answered)", i, tc.ID)
		}
		t := ""
		if k == 0 {
			t = text
		}
		out = appendCall(out, t, tc.Function.Name, tc.Function.Arguments)
		out = append(out, messageOut{Role: roleFunction, Name: tc.Function.Name, Content: r})
	}
	return out, next, nil
}

// checkAlternation enforces ERNIE's rule for messages: an odd number of
// them, user-side (user or function, never function first) and assistant
// turns alternating.
func checkAlternation(out []messageOut) error {
	if len(out) == 0 {
		return invalidBody("messages hold no user message")
	}
	if out[0].Role != roleUser {
		return invalidBody("ERNIE needs the conversation to start with a user message (after system messages), not %s", out[0].Role)
	}
	for i := range out {
		even := i%2 == 0
		if even != (out[i].Role != roleAssistant) {
			return invalidBody("ERNIE needs user and assistant turns to alternate; turn %d is %s after %s", i, out[i].Role, out[i-1].Role)
		}
	}
	if out[len(out)-1].Role == roleAssistant {
		return invalidBody("ERNIE needs the conversation to end with a user (or tool result) message, not an assistant message")
	}
	return nil
}

// contentText returns the text of OpenAI content: a string, or the text
// (and refusal) parts joined by newlines; null is "". ERNIE v1 takes text
// only: other parts are an error.
func contentText(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := bodyAPI.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case '[':
	default:
		return "", errors.New("content must be a string or an array of parts")
	}
	var parts []partIn
	if err := bodyAPI.Unmarshal(raw, &parts); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch p.Type {
		case "text":
			b.WriteString(p.Text)
		case "refusal":
			b.WriteString(p.Refusal)
		case "image_url":
			return "", errors.New("ERNIE v1 chat takes text only: images need a Qianfan v2 channel (type 47)")
		default:
			return "", fmt.Errorf("content part type %q is not supported by ERNIE", p.Type)
		}
	}
	return b.String(), nil
}

// convertTools maps OpenAI tools (or the legacy functions) to ERNIE's
// functions, and tool_choice (or function_call) to ERNIE's tool_choice.
// ERNIE's choice names one function, as a hint: "none" drops the
// functions, so none can be called; "required" names the only function
// when there is one and otherwise leaves the model free (ERNIE cannot
// require "any" function); "auto" is the default.
func convertTools(in *chatIn) ([]functionOut, *toolChoiceOut, error) {
	var decls []openaiwire.FunctionDecl
	choice := in.ToolChoice
	switch {
	case len(in.Tools) > 0:
		decls = make([]openaiwire.FunctionDecl, len(in.Tools))
		for i, t := range in.Tools {
			if t.Type != "function" {
				return nil, nil, invalidBody("tools[%d]: tool type %q is not supported by ERNIE", i, t.Type)
			}
			decls[i] = t.Function
		}
	case len(in.Functions) > 0:
		decls = in.Functions
		choice = in.FunctionCall
	default:
		return nil, nil, nil
	}
	fns := make([]functionOut, len(decls))
	for i, d := range decls {
		if d.Name == "" {
			return nil, nil, invalidBody("tools[%d]: function name is required", i)
		}
		params, err := rawJSON(d.Parameters)
		if err != nil {
			return nil, nil, invalidBody("tools[%d]: parameters: %v", i, err)
		}
		if params == nil {
			params = emptyParameters
		}
		desc := d.Description
		if desc == "" {
			// Baidu requires a description.
			desc = d.Name
		}
		fns[i] = functionOut{Name: d.Name, Description: desc, Parameters: params}
	}
	name, mode, err := parseToolChoice(choice)
	if err != nil {
		return nil, nil, err
	}
	switch mode {
	case "none":
		return nil, nil, nil
	case "required":
		if len(fns) == 1 {
			name = fns[0].Name
		}
	}
	if name == "" {
		return fns, nil, nil
	}
	for i := range fns {
		if fns[i].Name == name {
			return fns, &toolChoiceOut{Type: "function", Function: &fns[i], Name: name}, nil
		}
	}
	return nil, nil, invalidBody("tool_choice names %q, which is not among the tools", name)
}

// parseToolChoice reads tool_choice (or the legacy function_call): a
// mode ("auto", "none", "required") or the name of a function, from
// {"type":"function","function":{"name":…}} or the legacy {"name":…}.
func parseToolChoice(raw []byte) (name, mode string, err error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", "auto", nil
	}
	if raw[0] == '"' {
		if err := openaiwire.API.Unmarshal(raw, &mode); err != nil {
			return "", "", invalidBody("tool_choice: %v", err)
		}
		switch mode {
		case "auto", "none", "required":
			return "", mode, nil
		}
		return "", "", invalidBody("tool_choice %q is not supported", mode)
	}
	var v struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := openaiwire.API.Unmarshal(raw, &v); err != nil {
		return "", "", invalidBody("tool_choice: %v", err)
	}
	name = v.Function.Name
	if name == "" {
		name = v.Name
	}
	if name == "" {
		return "", "", invalidBody(`tool_choice must be auto, none, required or {"type":"function","function":{"name":…}}`)
	}
	return name, "", nil
}

// convertStop maps stop (a string or an array of strings).
func convertStop(raw []byte) ([]string, error) {
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
	var list []string
	if err := bodyAPI.Unmarshal(raw, &list); err != nil {
		return nil, invalidBody("stop must be a string or an array of strings")
	}
	return list, nil
}

// rawJSON checks a raw value the adaptor forwards verbatim: nil when it is
// absent or null, else the value compacted; a value that is not JSON is an
// error.
func rawJSON(raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// chatAnswer is ERNIE v1's chat answer (and, with sentence_id and is_end,
// each payload of its stream), or an error {"error_code","error_msg"}.
type chatAnswer struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Created          int64             `json:"created"`
	SentenceID       int               `json:"sentence_id"`
	IsEnd            bool              `json:"is_end"`
	IsTruncated      bool              `json:"is_truncated"`
	Result           *string           `json:"result"`
	NeedClearHistory bool              `json:"need_clear_history"`
	FinishReason     string            `json:"finish_reason"`
	FunctionCall     *functionCallWire `json:"function_call"`
	Usage            *usageWire        `json:"usage"`
	ErrorCode        int               `json:"error_code"`
	ErrorMsg         string            `json:"error_msg"`
}

// functionCallWire is the function call a model made. thoughts is the
// model's reasoning towards the call.
type functionCallWire struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Thoughts  string `json:"thoughts"`
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

type toolCallOut struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Function functionCallOut `json:"function"`
}

// ToolCallID is the id given to a function call of the answer respID:
// ERNIE v1's function calls have no ids, so one is made from the answer's
// id ("call_" + id), the same in a stream and in a whole answer. n > 0
// numbers further calls of one answer.
func ToolCallID(respID string, n int) string {
	id := "call_" + respID
	if respID == "" {
		id = "call_ernie"
	}
	if n > 0 {
		id += "_" + strconv.Itoa(n)
	}
	return id
}

// finishReason maps ERNIE's finish_reason (normal, stop, length,
// content_filter, function_call) and flags to OpenAI's. A function call
// is "tool_calls" whatever the reason; is_truncated is "length";
// need_clear_history (ERNIE refused an unsafe input and answered with a
// canned text) is "content_filter".
func finishReason(a *chatAnswer, calls bool) string {
	switch {
	case calls || a.FinishReason == "function_call":
		return "tool_calls"
	case a.FinishReason == "length" || a.IsTruncated:
		return "length"
	case a.FinishReason == "content_filter" || a.NeedClearHistory:
		return "content_filter"
	}
	return "stop"
}

// parseChat converts an ERNIE v1 chat answer into a chat.completion.
func parseChat(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var a chatAnswer
	if err := decodeAnswer(body, &a); err != nil {
		return nil, err
	}
	if a.ErrorCode != 0 {
		return nil, apiError(a.ErrorCode, a.ErrorMsg)
	}
	if a.Result == nil && a.FunctionCall == nil {
		return nil, invalidResponse("chat answer has neither result nor function_call")
	}
	msg := messageAns{Role: "assistant"}
	text := ""
	if a.Result != nil {
		text = *a.Result
	}
	calls := a.FunctionCall != nil && a.FunctionCall.Name != ""
	if calls {
		fc := a.FunctionCall
		args := fc.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		msg.ToolCalls = []toolCallOut{{ID: ToolCallID(a.ID, 0), Type: "function", Function: functionCallOut{Name: fc.Name, Arguments: args}}}
		msg.ReasoningContent = fc.Thoughts
		if text != "" {
			msg.Content = &text
		}
	} else {
		msg.Content = &text
	}
	created := a.Created
	if created == 0 {
		created = req.Created
	}
	resp := &adaptors.Response{Usage: a.Usage.usage()}
	c := completion{
		ID:      a.ID,
		Object:  "chat.completion",
		Created: created,
		Model:   req.OriginModel,
		Choices: []choiceOut{{Message: msg, FinishReason: finishReason(&a, calls)}},
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
