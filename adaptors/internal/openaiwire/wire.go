// Package openaiwire holds the OpenAI Chat Completions shapes shared by
// the adaptors that convert to and from it (the inbound Anthropic and
// Gemini protocols): the request they produce, the answer and the stream
// chunks they read, and the one JSON configuration they use. Only the
// members the conversions use are modelled. Types are plain data, safe to
// share read-only.
package openaiwire

import (
	"encoding/json"
	"errors"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
)

// ChatRequest is the OpenAI chat completions body the inbound converters build.
// Field order is the order of the output, for readable goldens.
type ChatRequest struct {
	Model             string          `json:"model"`
	Messages          []ChatMessage   `json:"messages"`
	MaxTokens         int             `json:"max_tokens,omitempty"`
	Temperature       *float64        `json:"temperature,omitempty"`
	TopP              *float64        `json:"top_p,omitempty"`
	N                 int             `json:"n,omitempty"`
	Stop              []string        `json:"stop,omitempty"`
	PresencePenalty   *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty  *float64        `json:"frequency_penalty,omitempty"`
	Seed              *int64          `json:"seed,omitempty"`
	Stream            bool            `json:"stream,omitempty"`
	StreamOptions     *StreamOptions  `json:"stream_options,omitempty"`
	Tools             []ChatTool      `json:"tools,omitempty"`
	ToolChoice        any             `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls,omitempty"`
	ReasoningEffort   string          `json:"reasoning_effort,omitempty"`
	ResponseFormat    *ResponseFormat `json:"response_format,omitempty"`
	User              string          `json:"user,omitempty"`
}

type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatMessage is one OpenAI message. Content is a string, a []ContentPart,
// or nil (JSON null: an assistant turn that only calls tools).
type ChatMessage struct {
	Role       string     `json:"role"`
	Content    any        `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ContentPart is one OpenAI content part: text, image_url or file.
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
	File     *FilePart `json:"file,omitempty"`
}

type ImageURL struct {
	URL string `json:"url"`
}

type FilePart struct {
	FileData string `json:"file_data"`
	Filename string `json:"filename,omitempty"`
}

type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type ChatTool struct {
	Type     string       `json:"type"`
	Function FunctionDecl `json:"function"`
}

type FunctionDecl struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// NamedToolChoice is OpenAI's {"type":"function","function":{"name":…}}.
type NamedToolChoice struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

type ResponseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

type JSONSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
}

// Usage is an OpenAI usage object, with DeepSeek's spelling of cached
// prompt tokens (prompt_cache_hit_tokens) as well as OpenAI's.
type Usage struct {
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

// ToUsage converts w to the gateway's Usage; nil when w is absent or all
// zero (the upstream did not count, and the gateway estimates instead).
func (w *Usage) ToUsage() *adaptors.Usage {
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

// Completion is an OpenAI chat.completion object.
type Completion struct {
	ID      string `json:"id"`
	Choices []struct {
		Index   int     `json:"index"`
		Message Message `json:"message"`
		Finish
	} `json:"choices"`
	Usage *Usage          `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// Message is the assistant message of a completion, or the delta of a
// chunk. Reasoning comes as reasoning_content (DeepSeek, Qwen, most
// OpenAI-dialect reasoning upstreams) or reasoning (OpenRouter, vLLM).
type Message struct {
	Content          *string         `json:"content"`
	ReasoningContent *string         `json:"reasoning_content"`
	Reasoning        *string         `json:"reasoning"`
	Refusal          *string         `json:"refusal"`
	ToolCalls        []ToolCallDelta `json:"tool_calls"`
}

// ReasoningText returns the reasoning text of m, whichever member carried it.
func (m *Message) ReasoningText() string {
	if m.ReasoningContent != nil && *m.ReasoningContent != "" {
		return *m.ReasoningContent
	}
	if m.Reasoning != nil {
		return *m.Reasoning
	}
	return ""
}

// Text returns the visible text of m: its content, or its refusal (which
// OpenAI sends instead of content when the model declines).
func (m *Message) Text() string {
	s := ""
	if m.Content != nil {
		s = *m.Content
	}
	if m.Refusal != nil {
		s += *m.Refusal
	}
	return s
}

type ToolCallDelta struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// Finish is how a choice ends. Besides OpenAI's finish_reason it reads
// the matched stop sequence where the upstream reports it: vLLM's
// stop_reason (the stop string, or a token id) and SGLang's matched_stop.
// OpenAI itself never says which sequence matched.
type Finish struct {
	FinishReason *string         `json:"finish_reason"`
	StopReason   json.RawMessage `json:"stop_reason"`
	MatchedStop  json.RawMessage `json:"matched_stop"`
}

// StopSequence returns the matched stop string, if the upstream named one.
func (f *Finish) StopSequence() (string, bool) {
	for _, raw := range []json.RawMessage{f.StopReason, f.MatchedStop} {
		var s string
		if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			return s, true
		}
	}
	return "", false
}

// Chunk is an OpenAI chat.completion.chunk.
type Chunk struct {
	ID      string `json:"id"`
	Choices []struct {
		Index int     `json:"index"`
		Delta Message `json:"delta"`
		Finish
	} `json:"choices"`
	Usage *Usage          `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// API is the JSON configuration of the converters. Keys match case
// sensitively (OpenAI's, Anthropic's and Gemini's proto names are exact:
// "Model" must not be taken for "model"); decoded strings are copied
// because the stream encoders keep ids, names and buffered arguments after
// the caller has reused its chunk buffer; embedded raw JSON (tool inputs,
// schemas) is compacted so that every event stays on one SSE data line;
// HTML characters are left alone, as the providers' own answers do.
var API = sonic.Config{
	CaseSensitive:    true,
	CopyString:       true,
	CompactMarshaler: true,
}.Froze()

// Marshal encodes v, which holds only strings, numbers, booleans, slices
// of those and validated raw JSON, so it cannot fail.
func Marshal(v any) []byte {
	b, err := API.Marshal(v)
	if err != nil {
		panic("openaiwire: marshal: " + err.Error())
	}
	return b
}

// DecodeLenient decodes an upstream payload. A type mismatch in one field
// (a vendor sending a number where a string was expected) leaves every
// other field decoded and is not an error: the gateway relays what it can
// rather than failing a whole answer over an optional field. Syntax errors
// are errors.
func DecodeLenient(b []byte, v any) error {
	err := API.Unmarshal(b, v)
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return nil
	}
	return err
}

// IsObject reports whether b holds a JSON object (after leading
// whitespace); syntax is checked by the decoder.
func IsObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

// IsPresent reports whether a raw member was sent with a non-null value.
func IsPresent(raw []byte) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// ObjectOrEmpty returns s when it is a JSON object, else "{}". Tool inputs
// (Anthropic) and function call args (Gemini) must be objects, and
// OpenAI-dialect upstreams sometimes send truncated or empty argument
// strings.
func ObjectOrEmpty(s string) json.RawMessage {
	if IsObject([]byte(s)) && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return json.RawMessage("{}")
}
