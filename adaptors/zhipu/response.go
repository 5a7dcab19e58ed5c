package zhipu

import (
	"encoding/json"
	"strconv"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// usageWire is v4's usage object: OpenAI's counts, with the cached part
// of the prompt in prompt_tokens_details.cached_tokens and the reasoning
// part of the completion in completion_tokens_details.reasoning_tokens.
// Detail objects are values: null or absent decode to zero.
type usageWire struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// usage converts w; nil when w is absent or counts nothing (the gateway
// then estimates).
func (w *usageWire) usage() *adaptors.Usage {
	if w == nil || (w.PromptTokens <= 0 && w.CompletionTokens <= 0) {
		return nil
	}
	u := adaptors.Usage{
		PromptTokens:     max(w.PromptTokens, 0),
		CompletionTokens: max(w.CompletionTokens, 0),
		CachedTokens:     min(max(w.PromptTokensDetails.CachedTokens, 0), max(w.PromptTokens, 0)),
		ReasoningTokens:  min(max(w.CompletionTokensDetails.ReasoningTokens, 0), max(w.CompletionTokens, 0)),
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return &u
}

// usageSchema renders u for the client, detail objects always present
// (as OpenAI sends them).
func usageSchema(u adaptors.Usage) *schema.Usage {
	return &schema.Usage{
		PromptTokens:            u.PromptTokens,
		CompletionTokens:        u.CompletionTokens,
		TotalTokens:             u.TotalTokens,
		PromptTokensDetails:     &schema.PromptTokensDetails{CachedTokens: u.CachedTokens},
		CompletionTokensDetails: &schema.CompletionTokensDetails{ReasoningTokens: u.ReasoningTokens},
	}
}

// completionWire is a v4 chat answer.
type completionWire struct {
	ID        string `json:"id"`
	RequestID string `json:"request_id"`
	Created   int64  `json:"created"`
	Choices   []struct {
		Index        int    `json:"index"`
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Content          *string `json:"content"`
			ReasoningContent string  `json:"reasoning_content"`
			ToolCalls        []struct {
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
	} `json:"choices"`
	Usage *usageWire      `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// completionOut is OpenAI's chat.completion.
type completionOut struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []choiceOut   `json:"choices"`
	Usage   *schema.Usage `json:"usage,omitempty"`
}

type choiceOut struct {
	Index        int           `json:"index"`
	Message      answerMessage `json:"message"`
	FinishReason string        `json:"finish_reason"`
}

type answerMessage struct {
	Role             string        `json:"role"`
	Content          *string       `json:"content"`
	ReasoningContent string        `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
}

// parseChat converts a v4 chat answer into OpenAI's chat.completion. A
// 2xx body carrying an error object, or a choice that ended in an
// inference failure (finish_reason network_error), is a *schema.Error.
func parseChat(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var w completionWire
	if err := decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	if openaiwire.IsPresent(w.Error) {
		return nil, embeddedError(body)
	}
	if len(w.Choices) == 0 {
		return nil, invalidResponse("answer has no choices")
	}
	out := completionOut{
		ID:      completionID(w.ID, w.RequestID),
		Object:  "chat.completion",
		Created: w.Created,
		Model:   req.OriginModel,
		Choices: make([]choiceOut, len(w.Choices)),
	}
	if out.Created <= 0 {
		out.Created = req.Created
	}
	for i := range w.Choices {
		c := &w.Choices[i]
		m := &c.Message
		o := &out.Choices[i]
		o.Index = c.Index
		o.Message.Role = "assistant"
		o.Message.ReasoningContent = m.ReasoningContent
		for j, tc := range m.ToolCalls {
			args := tc.Function.Arguments
			if args == "" {
				args = "{}"
			}
			o.Message.ToolCalls = append(o.Message.ToolCalls, toolCallOut{
				ID: toolCallID(tc.ID, out.ID, j), Type: "function",
				Function: functionOut{Name: tc.Function.Name, Arguments: args},
			})
		}
		switch {
		case m.Content != nil && *m.Content != "":
			o.Message.Content = m.Content
		case len(o.Message.ToolCalls) == 0:
			o.Message.Content = new("")
		}
		finish, err := finishReason(c.FinishReason, len(o.Message.ToolCalls) > 0)
		if err != nil {
			return nil, err
		}
		o.FinishReason = finish
	}
	u := w.Usage.usage()
	if u != nil {
		out.Usage = usageSchema(*u)
	}
	b, err := sonic.ConfigDefault.Marshal(&out)
	if err != nil {
		return nil, invalidResponse("%v", err)
	}
	return &adaptors.Response{Body: b, Usage: u}, nil
}

// completionID is the id given to the client: v4's id, else its
// request_id, else a fixed one.
func completionID(id, requestID string) string {
	switch {
	case id != "":
		return id
	case requestID != "":
		return requestID
	}
	return "chatcmpl-zhipu"
}

// toolCallID is a tool call's id: v4's (call_…), or one derived from the
// completion id and the call's index when v4 sent none.
func toolCallID(id, completion string, index int) string {
	if id != "" {
		return id
	}
	return "call_" + completion + "_" + strconv.Itoa(index)
}

// finishReason maps v4's finish_reason onto OpenAI's. "sensitive" (the
// content was blocked) is content_filter; "model_context_window_exceeded"
// is length; "network_error" (the model's inference failed) is an error;
// a stop with tool calls is tool_calls; an unknown value is stop.
func finishReason(r string, toolCalls bool) (string, error) {
	switch r {
	case "length", "model_context_window_exceeded":
		return "length", nil
	case "sensitive", "content_filter":
		return "content_filter", nil
	case "network_error":
		return "", &schema.Error{
			Status:  500,
			Message: "zhipu: the model's inference failed (finish_reason network_error)",
			Type:    "server_error",
			Code:    "network_error",
		}
	case "tool_calls":
		return "tool_calls", nil
	}
	if toolCalls {
		return "tool_calls", nil
	}
	return "stop", nil
}
