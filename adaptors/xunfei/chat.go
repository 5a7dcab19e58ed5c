package xunfei

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// chatIn is the part of an OpenAI chat body the conversion reads.
type chatIn struct {
	Messages            []messageIn           `json:"messages"`
	MaxTokens           *int                  `json:"max_tokens"`
	MaxCompletionTokens *int                  `json:"max_completion_tokens"`
	Temperature         *float64              `json:"temperature"`
	TopP                *float64              `json:"top_p"`
	N                   *int                  `json:"n"`
	PresencePenalty     *float64              `json:"presence_penalty"`
	FrequencyPenalty    *float64              `json:"frequency_penalty"`
	Tools               []openaiwire.ChatTool `json:"tools"`
	ToolChoice          json.RawMessage       `json:"tool_choice"`
	User                string                `json:"user"`
	// TopK is Spark's own sampling member, forwarded when a client sends it.
	TopK *int `json:"top_k"`
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
	Type    string `json:"type"`
	Text    string `json:"text"`
	Refusal string `json:"refusal"`
}

// frameOut is the request frame of the Spark WebSocket API, members in
// the order of iFLYTEK's document and SDKs: header, parameter, payload.
type frameOut struct {
	Header struct {
		AppID string `json:"app_id"`
		UID   string `json:"uid"`
	} `json:"header"`
	Parameter struct {
		Chat chatOut `json:"chat"`
	} `json:"parameter"`
	Payload struct {
		Message struct {
			Text []messageOut `json:"text"`
		} `json:"message"`
		Functions *functionsOut `json:"functions,omitempty"`
	} `json:"payload"`
}

// chatOut is parameter.chat.
type chatOut struct {
	Domain           string   `json:"domain"`
	Temperature      *float64 `json:"temperature,omitempty"`
	MaxTokens        *int     `json:"max_tokens,omitempty"`
	TopK             *int     `json:"top_k,omitempty"`
	TopP             *float64 `json:"top_p,omitempty"`
	PresencePenalty  *float64 `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64 `json:"frequency_penalty,omitempty"`
}

// messageOut is one payload.message.text item.
type messageOut struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// functionsOut is payload.functions.
type functionsOut struct {
	Text []functionOut `json:"text"`
}

// functionOut is one function declaration: name, description and a JSON
// schema of its parameters.
type functionOut struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// defaultUID is header.uid when the client names no user: iFLYTEK's
// document marks uid optional, its SDKs always send one.
const defaultUID = "switchyard"

// maxUID is header.uid's documented maxLength.
const maxUID = 32

// emptyParameters is sent for a function that declares none.
var emptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

// buildFrame converts an OpenAI chat body into the Spark request frame.
func buildFrame(req *adaptors.Request, c credentials, rt route) ([]byte, error) {
	var in chatIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if len(in.Messages) == 0 {
		return nil, invalidBody("messages must not be empty")
	}
	if in.N != nil && *in.N > 1 {
		return nil, invalidBody("n > 1 is not supported by Spark")
	}
	var f frameOut
	f.Header.AppID = c.appID
	f.Header.UID = uid(in.User)
	ch := &f.Parameter.Chat
	ch.Domain = rt.domain
	ch.Temperature = in.Temperature
	ch.MaxTokens = in.MaxTokens
	if in.MaxCompletionTokens != nil {
		ch.MaxTokens = in.MaxCompletionTokens
	}
	ch.TopK = in.TopK
	if rt.penalties {
		ch.TopP = in.TopP
		ch.PresencePenalty = in.PresencePenalty
		ch.FrequencyPenalty = in.FrequencyPenalty
	}
	var err error
	if f.Payload.Message.Text, err = convertMessages(in.Messages, rt.system); err != nil {
		return nil, err
	}
	fns, err := convertTools(in.Tools, in.ToolChoice)
	if err != nil {
		return nil, err
	}
	if len(fns) > 0 {
		if !rt.functions {
			return nil, invalidBody("model %q does not support function calls", req.Model)
		}
		f.Payload.Functions = &functionsOut{Text: fns}
	}
	body, err := sonic.ConfigDefault.Marshal(&f)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return body, nil
}

// uid returns header.uid for an OpenAI user: the user itself when it
// fits uid's 32 characters, else the first 32 hex digits of its SHA-256
// (stable, so a user keeps one uid), and defaultUID when there is none.
func uid(user string) string {
	switch {
	case user == "":
		return defaultUID
	case len(user) <= maxUID:
		return user
	}
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:maxUID/2])
}

// convertMessages converts OpenAI messages to Spark's text array.
//
// Spark takes the roles system, user and assistant, and a system message
// only first (iFLYTEK's Python SDK turns a later one into a user
// message): the system and developer messages before the first other
// message become one system message, joined with blank lines; later ones
// become user messages. A model without system support (system false)
// gets its system text as a user message.
//
// Spark has no tool-result role and takes no function call in the
// history: an assistant turn that calls tools is sent as assistant text
// spelling out each call ({"name":…,"arguments":…} per line, after the
// turn's own text), and a tool result as a user message "Result of
// <function>: <content>". Consecutive tool results are one user message,
// one result per paragraph.
func convertMessages(msgs []messageIn, system bool) ([]messageOut, error) {
	out := make([]messageOut, 0, len(msgs))
	var names map[string]string // tool call id → function name
	leading := true
	lastTool := false
	for i := range msgs {
		m := &msgs[i]
		isTool := false
		switch m.Role {
		case "system", "developer":
			text, err := contentText(m.Content)
			if err != nil {
				return nil, invalidBody("messages[%d]: %v", i, err)
			}
			switch {
			case leading && len(out) == 1 && system:
				out[0].Content += "\n\n" + text
			case leading && system:
				out = append(out, messageOut{Role: "system", Content: text})
			default:
				out = append(out, messageOut{Role: "user", Content: text})
			}
			lastTool = false
			continue
		case "user":
			text, err := contentText(m.Content)
			if err != nil {
				return nil, invalidBody("messages[%d]: %v", i, err)
			}
			out = append(out, messageOut{Role: "user", Content: text})
		case "assistant":
			text, err := contentText(m.Content)
			if err != nil {
				return nil, invalidBody("messages[%d]: %v", i, err)
			}
			for _, tc := range m.ToolCalls {
				if tc.Function.Name == "" {
					return nil, invalidBody("messages[%d]: tool call without a function name", i)
				}
				if names == nil {
					names = map[string]string{}
				}
				names[tc.ID] = tc.Function.Name
				call, err := renderCall(tc.Function.Name, tc.Function.Arguments)
				if err != nil {
					return nil, invalidBody("messages[%d]: %v", i, err)
				}
				if text != "" {
					text += "\n"
				}
				text += call
			}
			out = append(out, messageOut{Role: "assistant", Content: text})
		case "tool":
			text, err := contentText(m.Content)
			if err != nil {
				return nil, invalidBody("messages[%d]: %v", i, err)
			}
			name := names[m.ToolCallID]
			if name == "" {
				name = m.ToolCallID
			}
			text = "Result of " + name + ": " + text
			isTool = true
			if lastTool {
				out[len(out)-1].Content += "\n\n" + text
			} else {
				out = append(out, messageOut{Role: "user", Content: text})
			}
		default:
			return nil, invalidBody("messages[%d]: role %q is not supported by Spark", i, m.Role)
		}
		leading = false
		lastTool = isTool
	}
	return out, nil
}

// renderCall spells out a function call of an earlier assistant turn as
// the JSON object {"name":…,"arguments":…}, arguments as the JSON value
// the model wrote ({} when empty).
func renderCall(name, args string) (string, error) {
	raw, err := rawJSON([]byte(args))
	if err != nil {
		return "", fmt.Errorf("tool call arguments: %v", err)
	}
	if raw == nil {
		raw = json.RawMessage("{}")
	}
	b, err := sonic.ConfigDefault.Marshal(struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}{name, raw})
	return string(b), err
}

// contentText returns the text of OpenAI content: a string, the text
// (and refusal) parts joined by newlines, "" for null. Other parts
// (images, audio, files) are refused: Spark's chat models read text only.
func contentText(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		err := bodyAPI.Unmarshal(raw, &s)
		return s, err
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
		default:
			return "", fmt.Errorf("content part type %q is not supported: Spark chat models take text only", p.Type)
		}
	}
	return b.String(), nil
}

// convertTools converts OpenAI function tools to Spark functions and
// applies tool_choice, which Spark's WebSocket API does not have: "none"
// sends no functions, "auto" and "required" send them all (the model
// decides; Spark cannot be made to call one), and a named choice sends
// only that function.
func convertTools(tools []openaiwire.ChatTool, choice json.RawMessage) ([]functionOut, error) {
	if len(tools) == 0 {
		return nil, nil
	}
	only, none, err := parseToolChoice(choice)
	if err != nil {
		return nil, err
	}
	if none {
		return nil, nil
	}
	out := make([]functionOut, 0, len(tools))
	for i, t := range tools {
		if t.Type != "function" {
			return nil, invalidBody("tools[%d]: tool type %q is not supported by Spark", i, t.Type)
		}
		if t.Function.Name == "" {
			return nil, invalidBody("tools[%d]: function name is required", i)
		}
		if only != "" && t.Function.Name != only {
			continue
		}
		params, err := rawJSON(t.Function.Parameters)
		if err != nil {
			return nil, invalidBody("tools[%d]: parameters: %v", i, err)
		}
		switch {
		case params == nil:
			params = emptyParameters
		case params[0] != '{':
			return nil, invalidBody("tools[%d]: parameters must be a JSON schema object", i)
		}
		out = append(out, functionOut{Name: t.Function.Name, Description: t.Function.Description, Parameters: params})
	}
	if only != "" && len(out) == 0 {
		return nil, invalidBody("tool_choice names %q, which is not among the tools", only)
	}
	return out, nil
}

// parseToolChoice reads tool_choice: the named function, or none.
func parseToolChoice(raw json.RawMessage) (only string, none bool, err error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", false, nil
	}
	if raw[0] == '"' {
		var s string
		if err := bodyAPI.Unmarshal(raw, &s); err != nil {
			return "", false, invalidBody("tool_choice: %v", err)
		}
		switch s {
		case "auto", "required":
			return "", false, nil
		case "none":
			return "", true, nil
		}
		return "", false, invalidBody("tool_choice %q is not supported", s)
	}
	var named openaiwire.NamedToolChoice
	if err := bodyAPI.Unmarshal(raw, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
		return "", false, invalidBody(`tool_choice must be auto, none, required or {"type":"function","function":{"name":…}}`)
	}
	return named.Function.Name, false, nil
}
