package xunfei

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// completionOut is the chat.completion the client gets, members in
// OpenAI's order.
type completionOut struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices [1]choiceOut  `json:"choices"`
	Usage   *schema.Usage `json:"usage,omitempty"`
}

type choiceOut struct {
	Index        int           `json:"index"`
	Message      messageAnswer `json:"message"`
	FinishReason string        `json:"finish_reason"`
}

// messageAnswer is the assistant message. Content is null when the
// answer is only function calls, as OpenAI sends it.
type messageAnswer struct {
	Role             string        `json:"role"`
	Content          *string       `json:"content"`
	ReasoningContent string        `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
}

type toolCallOut struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// defaultID is the completion id when the answer carried no sid.
const defaultID = "chatcmpl-xunfei"

// parseResponse gathers every frame of an answer (one per line) into one
// chat.completion: the texts joined, reasoning apart, function calls as
// tool_calls (ids as the stream gives them), the last frame's usage.
// Lines after the last frame (status 2) are not read. An error frame is
// a *schema.Error; a body without a last frame is
// adaptors.ErrInvalidResponse (and io.ErrUnexpectedEOF).
func parseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var (
		f         frameWire
		dec       = newFrameDecoder()
		sid       string
		text      strings.Builder
		reasoning strings.Builder
		calls     []toolCallOut
		usage     *adaptors.Usage
		ended     bool
		frames    int
	)
	for rest := body; len(rest) > 0 && !ended; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := dec.decode(line, &f); err != nil {
			return nil, err
		}
		frames++
		if f.Header.Code != 0 {
			return nil, frameError(f.Header.Code, f.Header.Message, f.Header.Sid)
		}
		if sid == "" {
			sid = strings.Clone(f.Header.Sid)
		}
		for i := range f.Payload.Choices.Text {
			t := &f.Payload.Choices.Text[i]
			reasoning.WriteString(t.ReasoningContent)
			text.WriteString(t.Content)
			fc := t.FunctionCall
			switch {
			case fc == nil:
			case fc.Name == "" && len(calls) > 0:
				c := &calls[len(calls)-1]
				c.Function.Arguments += arguments(fc.Arguments)
			default:
				var c toolCallOut
				c.ID = callID(sid, len(calls))
				c.Type = "function"
				c.Function.Name = strings.Clone(fc.Name)
				c.Function.Arguments = arguments(fc.Arguments)
				calls = append(calls, c)
			}
		}
		if f.last() {
			ended = true
			if f.Payload.Usage != nil {
				usage = f.Payload.Usage.Text.usage()
			}
		}
	}
	switch {
	case frames == 0:
		return nil, invalidResponse("empty answer")
	case !ended:
		return nil, fmt.Errorf("xunfei: %w: answer ended before its last frame (status 2): %w", adaptors.ErrInvalidResponse, io.ErrUnexpectedEOF)
	}
	out := completionOut{ID: sid, Object: "chat.completion", Created: req.Created, Model: req.OriginModel}
	if out.ID == "" {
		out.ID = defaultID
	}
	ch := &out.Choices[0]
	ch.Message.Role = "assistant"
	ch.FinishReason = "stop"
	if s := text.String(); s != "" || len(calls) == 0 {
		ch.Message.Content = &s
	}
	ch.Message.ReasoningContent = reasoning.String()
	if len(calls) > 0 {
		ch.Message.ToolCalls = calls
		ch.FinishReason = "tool_calls"
	}
	if usage != nil {
		w := usage.Schema()
		out.Usage = &w
	}
	b, err := sonic.ConfigDefault.Marshal(&out)
	if err != nil {
		return nil, invalidResponse("%v", err)
	}
	return &adaptors.Response{Body: b, Usage: usage}, nil
}
