package anthropic

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// messageOut is Anthropic's Message object, members in the order
// Anthropic sends them.
type messageOut struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	Role         string     `json:"role"`
	Model        string     `json:"model"`
	Content      []blockOut `json:"content"`
	StopReason   *string    `json:"stop_reason"`
	StopSequence *string    `json:"stop_sequence"`
	Usage        usageOut   `json:"usage"`
}

// blockOut is a response content block. The member order makes each kind
// come out as Anthropic writes it: text {type,text}, thinking
// {type,thinking,signature}, tool_use {type,id,name,input}.
type blockOut struct {
	Type      string          `json:"type"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	Text      *string         `json:"text,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
}

func textBlock(s string) blockOut { return blockOut{Type: "text", Text: &s} }

// thinkingBlock carries OpenAI reasoning. OpenAI-dialect upstreams sign
// nothing, so the signature is empty; InboundRequest drops thinking blocks
// that clients send back, so nothing ever checks it.
func thinkingBlock(s string) blockOut {
	empty := ""
	return blockOut{Type: "thinking", Thinking: &s, Signature: &empty}
}

func toolUseBlock(id, name string, input json.RawMessage) blockOut {
	return blockOut{Type: "tool_use", ID: id, Name: name, Input: input}
}

// toolUseID returns the id for a tool call: the upstream's own, or one
// derived from the message id when the upstream sent none (Anthropic
// clients answer tool_use blocks by id, so every block needs one).
func toolUseID(id, msgID string, n int) string {
	if id != "" {
		return id
	}
	return "toolu_" + msgID[len("msg_"):] + "_" + strconv.Itoa(n)
}

// fallbackID names an answer whose upstream sent no id: a digest of its
// bytes, so the same answer always gets the same id.
func fallbackID(b []byte) string {
	sum := sha256.Sum256(b)
	return "switchyard-" + hex.EncodeToString(sum[:12])
}

// OutboundResponse converts an OpenAI chat.completion body (from a 2xx
// upstream answer) into the Anthropic Message the client expects, and
// returns the upstream's usage for billing (nil when it reported none).
// model is the model the client asked for, echoed as Anthropic does.
//
// The first choice is the answer. Its reasoning (reasoning_content or
// reasoning) becomes a thinking block ahead of the text, its content (and
// refusal) a text block, its tool calls tool_use blocks whose input is the
// parsed arguments ({} when they are not a JSON object). finish_reason
// maps to stop_reason as stopReason documents; the stop sequence is named
// when the upstream reports which one matched (vLLM, SGLang). Usage is
// split as usageOut documents; when the upstream reported none the
// message's usage is all zero (the gateway's estimate is for billing, not
// for the body). A body that is not a JSON object, or that
// carries an "error" member, fails with adaptors.ErrInvalidResponse.
// Safe for concurrent use.
func OutboundResponse(openaiBody []byte, model string) ([]byte, *adaptors.Usage, error) {
	if !openaiwire.IsObject(openaiBody) {
		return nil, nil, fmt.Errorf("anthropic: %w: not a json object", adaptors.ErrInvalidResponse)
	}
	var w openaiwire.Completion
	if err := openaiwire.DecodeLenient(openaiBody, &w); err != nil {
		return nil, nil, fmt.Errorf("anthropic: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	if openaiwire.IsPresent(w.Error) {
		return nil, nil, fmt.Errorf("anthropic: %w: upstream error: %s", adaptors.ErrInvalidResponse, w.Error)
	}
	id := w.ID
	if id == "" {
		id = fallbackID(openaiBody)
	}
	msg := messageOut{
		ID:      messageID(id),
		Type:    "message",
		Role:    "assistant",
		Model:   model,
		Content: []blockOut{},
	}
	usage := w.Usage.ToUsage()
	msg.Usage = anthropicUsage(usage)
	finish, matched, seq := "", false, ""
	if len(w.Choices) > 0 {
		c := &w.Choices[0]
		if r := c.Message.ReasoningText(); r != "" {
			msg.Content = append(msg.Content, thinkingBlock(r))
		}
		if t := c.Message.Text(); t != "" {
			msg.Content = append(msg.Content, textBlock(t))
		}
		for i, tc := range c.Message.ToolCalls {
			msg.Content = append(msg.Content, toolUseBlock(toolUseID(tc.ID, msg.ID, i), tc.Function.Name, openaiwire.ObjectOrEmpty(tc.Function.Arguments)))
		}
		if c.FinishReason != nil {
			finish = *c.FinishReason
		}
		seq, matched = c.StopSequence()
	}
	reason := stopReason(finish, matched, len(w.Choices) > 0 && len(w.Choices[0].Message.ToolCalls) > 0)
	msg.StopReason = &reason
	if reason == stopStopSequence {
		msg.StopSequence = &seq
	}
	return openaiwire.Marshal(&msg), usage, nil
}
