package bedrock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
)

// ---- The Converse answer (API_runtime_Converse, Response Syntax) ----

type converseResponse struct {
	Output *struct {
		Message struct {
			Role    string          `json:"role"`
			Content []responseBlock `json:"content"`
		} `json:"message"`
	} `json:"output"`
	StopReason string      `json:"stopReason"`
	Usage      *tokenUsage `json:"usage"`
	// Message is where a 2xx answer that is really an error (a proxy's,
	// or Bedrock's own {"message":…}) carries its text.
	Message string `json:"message"`
}

// responseBlock is an answer's ContentBlock; text, toolUse and
// reasoningContent are the members a chat answer uses.
type responseBlock struct {
	Text    *string `json:"text"`
	ToolUse *struct {
		ToolUseID string                 `json:"toolUseId"`
		Name      string                 `json:"name"`
		Input     sonic.NoCopyRawMessage `json:"input"`
	} `json:"toolUse"`
	ReasoningContent *struct {
		ReasoningText *struct {
			Text string `json:"text"`
		} `json:"reasoningText"`
	} `json:"reasoningContent"`
}

// tokenUsage is TokenUsage. inputTokens counts the prompt tokens that
// were neither read from nor written to the prompt cache, as Anthropic's
// input_tokens does, and totalTokens = input + output + cache read +
// cache write (Bedrock's prompt-caching guide).
type tokenUsage struct {
	InputTokens           int `json:"inputTokens"`
	OutputTokens          int `json:"outputTokens"`
	TotalTokens           int `json:"totalTokens"`
	CacheReadInputTokens  int `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
}

// toUsage converts to OpenAI terms: prompt tokens count every prompt
// token, cache reads and writes included.
func (u *tokenUsage) toUsage() *adaptors.Usage {
	if u == nil {
		return nil
	}
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens
	return &adaptors.Usage{
		PromptTokens:     prompt,
		CompletionTokens: u.OutputTokens,
		TotalTokens:      prompt + u.OutputTokens,
		CachedTokens:     u.CacheReadInputTokens,
		CacheWriteTokens: u.CacheWriteInputTokens,
	}
}

// finishReason maps Converse's stopReason to OpenAI's finish_reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "guardrail_intervened", "content_filtered":
		return "content_filter"
	}
	// end_turn, stop_sequence, malformed_model_output, malformed_tool_use
	// and reasons added later.
	return "stop"
}

// ---- The client's chat.completion ----

type oaCompletion struct {
	ID      string     `json:"id"`
	Object  string     `json:"object"`
	Created int64      `json:"created"`
	Model   string     `json:"model"`
	Choices []oaChoice `json:"choices"`
	Usage   *oaUsage   `json:"usage,omitempty"`
}

type oaChoice struct {
	Index        int       `json:"index"`
	Message      oaAnswer  `json:"message"`
	FinishReason string    `json:"finish_reason"`
	Logprobs     *struct{} `json:"logprobs"`
}

type oaAnswer struct {
	Role             string      `json:"role"`
	Content          *string     `json:"content"`
	ReasoningContent string      `json:"reasoning_content,omitempty"`
	ToolCalls        []oaCallOut `json:"tool_calls,omitempty"`
}

type oaCallOut struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaUsage struct {
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

func oaUsageOf(u *adaptors.Usage) *oaUsage {
	if u == nil {
		return nil
	}
	o := &oaUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	o.PromptTokensDetails.CachedTokens = u.CachedTokens
	o.CompletionTokensDetails.ReasoningTokens = u.ReasoningTokens
	return o
}

// completionID derives the chat.completion id from the answer's bytes:
// Converse answers carry no id (the request id is only in a header), and
// adaptors are deterministic.
func completionID(seed []byte) string {
	sum := sha256.Sum256(seed)
	return "chatcmpl-" + hex.EncodeToString(sum[:12])
}

// parseConverse converts a Converse answer into the client's
// chat.completion: text blocks joined into content, reasoning text into
// reasoning_content, toolUse blocks into tool_calls (id the toolUseId,
// arguments the input as compact JSON); created is req.Created (the
// answer has no timestamp), model req.OriginModel. A 2xx body without
// output that carries a message is a *schema.Error; anything else that is
// not a Converse answer wraps ErrInvalidResponse.
func parseConverse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if !isObject(body) {
		return nil, fmt.Errorf("bedrock: %w: not a json object", adaptors.ErrInvalidResponse)
	}
	var r converseResponse
	if err := newJSONDecoder().decode(body, &r); err != nil {
		return nil, fmt.Errorf("bedrock: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	if r.Output == nil {
		if r.Message != "" {
			return nil, parseError(http.StatusBadGateway, body)
		}
		return nil, fmt.Errorf("bedrock: %w: no output in Converse answer", adaptors.ErrInvalidResponse)
	}
	var text, reasoning strings.Builder
	ans := oaAnswer{Role: "assistant"}
	for i := range r.Output.Message.Content {
		b := &r.Output.Message.Content[i]
		switch {
		case b.Text != nil:
			text.WriteString(*b.Text)
		case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
			reasoning.WriteString(b.ReasoningContent.ReasoningText.Text)
		case b.ToolUse != nil:
			var call oaCallOut
			call.ID, call.Type = b.ToolUse.ToolUseID, "function"
			call.Function.Name = b.ToolUse.Name
			call.Function.Arguments = compactArgs(b.ToolUse.Input)
			ans.ToolCalls = append(ans.ToolCalls, call)
		}
	}
	if text.Len() > 0 || len(ans.ToolCalls) == 0 {
		s := text.String()
		ans.Content = &s
	}
	ans.ReasoningContent = reasoning.String()
	finish := finishReason(r.StopReason)
	if len(ans.ToolCalls) > 0 {
		finish = "tool_calls"
	}
	usage := r.Usage.toUsage()
	out := oaCompletion{
		ID:      completionID(body),
		Object:  "chat.completion",
		Created: req.Created,
		Model:   req.OriginModel,
		Choices: []oaChoice{{Message: ans, FinishReason: finish}},
		Usage:   oaUsageOf(usage),
	}
	b, err := copyAPI.Marshal(&out)
	if err != nil {
		return nil, fmt.Errorf("bedrock: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	return &adaptors.Response{Body: b, Usage: usage}, nil
}

// compactArgs renders a tool input as OpenAI's arguments string: the
// compact JSON of the object, "{}" when absent.
func compactArgs(raw []byte) string {
	if !isObject(raw) {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "{}"
	}
	return b.String()
}

// appendUsageJSON appends the client's usage object for u.
func appendUsageJSON(b []byte, u *adaptors.Usage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CachedTokens), 10)
	b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, int64(u.ReasoningTokens), 10)
	return append(b, `}}`...)
}
