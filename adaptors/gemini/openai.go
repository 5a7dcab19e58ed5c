package gemini

import (
	"encoding/json"

	"switchyard/adaptors"
)

// This file holds the OpenAI Chat Completions shapes the converters
// produce (the request) and read (the response and its stream chunks).
// Only the members the conversion uses are modelled.

// chatRequest is the OpenAI chat completions body InboundRequest builds.
// Field order is the order of the output, for readable goldens.
type chatRequest struct {
	Model            string          `json:"model"`
	Messages         []chatMessage   `json:"messages"`
	MaxTokens        int             `json:"max_tokens,omitempty"`
	Temperature      *float64        `json:"temperature,omitempty"`
	TopP             *float64        `json:"top_p,omitempty"`
	N                int             `json:"n,omitempty"`
	Stop             []string        `json:"stop,omitempty"`
	PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
	Seed             *int64          `json:"seed,omitempty"`
	Stream           bool            `json:"stream,omitempty"`
	StreamOptions    *streamOptions  `json:"stream_options,omitempty"`
	Tools            []chatTool      `json:"tools,omitempty"`
	ToolChoice       any             `json:"tool_choice,omitempty"`
	ReasoningEffort  string          `json:"reasoning_effort,omitempty"`
	ResponseFormat   *responseFormat `json:"response_format,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// chatMessage is one OpenAI message. Content is a string, a []contentPart,
// or nil (JSON null: an assistant turn that only calls tools).
type chatMessage struct {
	Role       string     `json:"role"`
	Content    any        `json:"content"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// contentPart is one OpenAI content part: text, image_url or file.
type contentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
	File     *filePart `json:"file,omitempty"`
}

type imageURL struct {
	URL string `json:"url"`
}

type filePart struct {
	FileData string `json:"file_data"`
	Filename string `json:"filename,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type chatTool struct {
	Type     string       `json:"type"`
	Function functionDecl `json:"function"`
}

type functionDecl struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// namedToolChoice is OpenAI's {"type":"function","function":{"name":…}}.
type namedToolChoice struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
}

// usageWire is an OpenAI usage object, with DeepSeek's spelling of cached
// prompt tokens (prompt_cache_hit_tokens) as well as OpenAI's.
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
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens"`
}

// usage converts w to the gateway's Usage; nil when w is absent or all
// zero (the upstream did not count, and the gateway estimates instead).
func (w *usageWire) usage() *adaptors.Usage {
	if w == nil || (w.PromptTokens == 0 && w.CompletionTokens == 0 && w.TotalTokens == 0) {
		return nil
	}
	u := &adaptors.Usage{
		PromptTokens:     w.PromptTokens,
		CompletionTokens: w.CompletionTokens,
		TotalTokens:      w.TotalTokens,
		CachedTokens:     max(w.PromptTokensDetails.CachedTokens, w.PromptCacheHitTokens),
		ReasoningTokens:  w.CompletionTokensDetails.ReasoningTokens,
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return u
}

// completionWire is an OpenAI chat.completion object.
type completionWire struct {
	ID      string `json:"id"`
	Choices []struct {
		Index        int         `json:"index"`
		Message      messageWire `json:"message"`
		FinishReason *string     `json:"finish_reason"`
	} `json:"choices"`
	Usage *usageWire      `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// messageWire is the assistant message of a completion, or the delta of a
// chunk. Reasoning comes as reasoning_content (DeepSeek, Qwen, most
// OpenAI-dialect reasoning upstreams) or reasoning (OpenRouter, vLLM).
type messageWire struct {
	Content          *string        `json:"content"`
	ReasoningContent *string        `json:"reasoning_content"`
	Reasoning        *string        `json:"reasoning"`
	Refusal          *string        `json:"refusal"`
	ToolCalls        []toolCallWire `json:"tool_calls"`
}

// reasoning returns the reasoning text of m, whichever member carried it.
func (m *messageWire) reasoning() string {
	if m.ReasoningContent != nil && *m.ReasoningContent != "" {
		return *m.ReasoningContent
	}
	if m.Reasoning != nil {
		return *m.Reasoning
	}
	return ""
}

// text returns the visible text of m: its content, or its refusal (which
// OpenAI sends instead of content when the model declines).
func (m *messageWire) text() string {
	s := ""
	if m.Content != nil {
		s = *m.Content
	}
	if m.Refusal != nil {
		s += *m.Refusal
	}
	return s
}

type toolCallWire struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// chunkWire is an OpenAI chat.completion.chunk.
type chunkWire struct {
	ID      string `json:"id"`
	Choices []struct {
		Index        int         `json:"index"`
		Delta        messageWire `json:"delta"`
		FinishReason *string     `json:"finish_reason"`
	} `json:"choices"`
	Usage *usageWire      `json:"usage"`
	Error json.RawMessage `json:"error"`
}
