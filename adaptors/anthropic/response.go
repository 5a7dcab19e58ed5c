package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// upUsage is Anthropic's usage object (Message.usage, message_start's
// message.usage, message_delta's cumulative usage). input_tokens counts
// only the prompt tokens neither read from nor written to the cache.
type upUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	OutputTokensDetails      struct {
		ThinkingTokens int `json:"thinking_tokens"`
	} `json:"output_tokens_details"`
}

// toUsage converts Anthropic's counts to OpenAI's: prompt_tokens is
// every prompt token (uncached, cache reads and cache writes), with the
// reads as CachedTokens and the writes as CacheWriteTokens;
// completion_tokens is output_tokens, thinking included, with
// output_tokens_details.thinking_tokens (when reported) as
// ReasoningTokens.
func (u *upUsage) toUsage() *adaptors.Usage {
	p := u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
	return &adaptors.Usage{
		PromptTokens:     p,
		CompletionTokens: u.OutputTokens,
		TotalTokens:      p + u.OutputTokens,
		CachedTokens:     u.CacheReadInputTokens,
		CacheWriteTokens: u.CacheCreationInputTokens,
		ReasoningTokens:  u.OutputTokensDetails.ThinkingTokens,
	}
}

// clientUsage is the usage object of the client's body.
func clientUsage(u *adaptors.Usage) *schema.Usage {
	return &schema.Usage{
		PromptTokens:            u.PromptTokens,
		CompletionTokens:        u.CompletionTokens,
		TotalTokens:             u.TotalTokens,
		PromptTokensDetails:     &schema.PromptTokensDetails{CachedTokens: u.CachedTokens},
		CompletionTokensDetails: &schema.CompletionTokensDetails{ReasoningTokens: u.ReasoningTokens},
	}
}

// finishReason maps Anthropic's stop_reason to OpenAI's finish_reason:
// end_turn, stop_sequence and pause_turn (a server tool paused the turn;
// the text so far is the answer) are "stop"; max_tokens and
// model_context_window_exceeded are "length"; tool_use is "tool_calls";
// refusal (the safety classifiers declined) is "content_filter".
// Unknown or missing reasons are "stop".
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop"
}

// upResponse is the Messages API's Message, as far as it is converted.
type upResponse struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Content    []upContent     `json:"content"`
	StopReason string          `json:"stop_reason"`
	Usage      *upUsage        `json:"usage"`
	Error      json.RawMessage `json:"error"`
}

// upContent is a response content block; Type says which members apply.
type upContent struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Thinking string          `json:"thinking"`
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Input    json.RawMessage `json:"input"`
}

// The client's chat.completion.
type oaCompletion struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []oaChoice    `json:"choices"`
	Usage   *schema.Usage `json:"usage,omitempty"`
}

type oaChoice struct {
	Index        int       `json:"index"`
	Message      oaAnswer  `json:"message"`
	FinishReason string    `json:"finish_reason"`
	Logprobs     *struct{} `json:"logprobs"`
}

// oaAnswer is the assistant message. Content is null when the answer is
// only tool calls, as OpenAI sends it.
type oaAnswer struct {
	Role             string      `json:"role"`
	Content          *string     `json:"content"`
	ReasoningContent string      `json:"reasoning_content,omitempty"`
	ToolCalls        []oaCallOut `json:"tool_calls,omitempty"`
	Refusal          *string     `json:"refusal"`
}

type oaCallOut struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// ParseMessage converts a Messages API answer (a Message object) into
// the client's OpenAI chat.completion and its usage; the Adaptor's
// ParseResponse is this function, and the Bedrock and Vertex adaptors
// reuse it for the same Message their hosts return. Pure and safe for
// concurrent use.
//
// The completion's id is the message id ("msg_…", so it can be found in
// Anthropic's logs), created is req.Created (a Message carries no
// timestamp) and model is req.OriginModel. Text blocks are joined into
// content, thinking blocks into reasoning_content (redacted_thinking
// carries no text and is dropped), tool_use blocks become tool_calls
// whose id is the tool_use id and whose arguments are the input as
// compact JSON. A 2xx body of type "error" is returned as the
// *schema.Error it carries; a body that is not a Message fails with
// adaptors.ErrInvalidResponse.
func ParseMessage(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if !openaiwire.IsObject(body) {
		return nil, fmt.Errorf("anthropic: %w: not a json object", adaptors.ErrInvalidResponse)
	}
	var m upResponse
	if err := openaiwire.DecodeLenient(body, &m); err != nil {
		return nil, fmt.Errorf("anthropic: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	if m.Type == "error" || (m.Type == "" && openaiwire.IsPresent(m.Error)) {
		return nil, errorFromEvent(body)
	}
	if m.Type != "message" {
		return nil, fmt.Errorf("anthropic: %w: not a Message (type %q)", adaptors.ErrInvalidResponse, m.Type)
	}
	var text, thinking strings.Builder
	ans := oaAnswer{Role: "assistant"}
	for i := range m.Content {
		c := &m.Content[i]
		switch c.Type {
		case "text":
			text.WriteString(c.Text)
		case "thinking":
			thinking.WriteString(c.Thinking)
		case "tool_use":
			var call oaCallOut
			call.ID, call.Type = c.ID, "function"
			call.Function.Name = c.Name
			call.Function.Arguments = compactArgs(c.Input)
			ans.ToolCalls = append(ans.ToolCalls, call)
		}
	}
	if text.Len() > 0 || len(ans.ToolCalls) == 0 {
		s := text.String()
		ans.Content = &s
	}
	ans.ReasoningContent = thinking.String()
	out := oaCompletion{
		ID:      m.ID,
		Object:  "chat.completion",
		Created: req.Created,
		Model:   req.OriginModel,
		Choices: []oaChoice{{Message: ans, FinishReason: finishReason(m.StopReason)}},
	}
	var usage *adaptors.Usage
	if m.Usage != nil {
		usage = m.Usage.toUsage()
		out.Usage = clientUsage(usage)
	}
	return &adaptors.Response{Body: openaiwire.Marshal(&out), Usage: usage}, nil
}

// compactArgs renders a tool_use input as the arguments string: compact
// JSON, "{}" when absent.
func compactArgs(input json.RawMessage) string {
	if !openaiwire.IsPresent(input) {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, input) != nil {
		return "{}"
	}
	return b.String()
}
