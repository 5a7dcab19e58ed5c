package schema

// Object names OpenAI puts in the "object" field of stream chunks.
const (
	ObjectChatCompletionChunk = "chat.completion.chunk"
	ObjectTextCompletion      = "text_completion" // legacy /v1/completions
)

// Usage is OpenAI's CompletionUsage object as sent to clients. Only the
// fields the gateway produces are modelled; detail objects are omitted when
// nil.
type Usage struct {
	PromptTokens            int                      `json:"prompt_tokens"`
	CompletionTokens        int                      `json:"completion_tokens"`
	TotalTokens             int                      `json:"total_tokens"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`
}

// PromptTokensDetails is usage.prompt_tokens_details.
type PromptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

// CompletionTokensDetails is usage.completion_tokens_details.
type CompletionTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// UsageChunk is the last chunk of an OpenAI stream when
// stream_options.include_usage is set: choices is always an empty array and
// usage is non-null. Field order follows OpenAI's own output.
type UsageChunk struct {
	ID      string     `json:"id"`
	Object  string     `json:"object"`
	Created int64      `json:"created"`
	Model   string     `json:"model"`
	Choices []struct{} `json:"choices"`
	Usage   *Usage     `json:"usage"`
}
