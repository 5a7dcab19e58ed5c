// Package adaptors defines how Switchyard talks to AI providers: an Adaptor
// is a pure translator between the canonical OpenAI request the gateway
// receives and one provider's wire protocol.
//
// Adaptors never perform network I/O. Given a request they describe the
// upstream HTTP request (method, URL, headers, body); given the upstream's
// bytes they produce the canonical response, stream events, usage and
// errors. The HTTP client, timeouts, retries and cancellation live in the
// transport package. Adaptors hold only immutable configuration and are
// safe for concurrent use by any number of goroutines.
//
// Optional capabilities (balance query, model list, …) are separate small
// interfaces discovered by type assertion: a provider that does not support
// one simply does not implement it.
package adaptors

import (
	"io"

	"switchyard/adaptors/schema"
)

// Mode is the API surface a request targets.
type Mode uint8

// The modes an adaptor may serve. The numbers are stable: new modes are
// appended, never inserted, so a number means the same surface in every
// version. An adaptor that does not serve a mode fails BuildRequest with
// ErrUnsupportedMode.
//
// Request bodies are OpenAI JSON except where noted: the multipart modes
// carry the client's multipart/form-data body (Request.ContentType holds
// its boundary), and the audio modes may answer with something other than
// JSON (Response.ContentType says what).
const (
	ModeChat        Mode = iota + 1 // POST /v1/chat/completions
	ModeCompletions                 // POST /v1/completions
	ModeEmbeddings                  // POST /v1/embeddings
	// ModeImagesGenerations: JSON in, ImagesResponse out (Response.Images).
	ModeImagesGenerations // POST /v1/images/generations
	// ModeImagesEdits: multipart in (JSON also accepted by GPT image
	// models), ImagesResponse out.
	ModeImagesEdits // POST /v1/images/edits
	// ModeImagesVariations: multipart in, ImagesResponse out.
	ModeImagesVariations // POST /v1/images/variations
	// ModeAudioSpeech: JSON in, binary audio out (Response.ContentType), or
	// an event stream with stream_format "sse".
	ModeAudioSpeech // POST /v1/audio/speech
	// ModeAudioTranscriptions: multipart in; JSON, verbose/diarized JSON or
	// plain text / SRT / WebVTT out depending on response_format
	// (Response.Text holds the transcript in every case).
	ModeAudioTranscriptions // POST /v1/audio/transcriptions
	// ModeAudioTranslations: as ModeAudioTranscriptions.
	ModeAudioTranslations // POST /v1/audio/translations
	ModeModerations       // POST /v1/moderations
	// ModeRerank: the Cohere/Jina body {model, query, documents, top_n},
	// which OpenAI-dialect resellers serve under /v1/rerank.
	ModeRerank // POST /v1/rerank
	// ModeResponses: OpenAI's Responses API; its stream uses named events
	// (StreamEvent.Event) and has no [DONE] marker.
	ModeResponses // POST /v1/responses
)

// String names the mode as it appears in logs.
func (m Mode) String() string {
	switch m {
	case ModeChat:
		return "chat"
	case ModeCompletions:
		return "completions"
	case ModeEmbeddings:
		return "embeddings"
	case ModeImagesGenerations:
		return "images_generations"
	case ModeImagesEdits:
		return "images_edits"
	case ModeImagesVariations:
		return "images_variations"
	case ModeAudioSpeech:
		return "audio_speech"
	case ModeAudioTranscriptions:
		return "audio_transcriptions"
	case ModeAudioTranslations:
		return "audio_translations"
	case ModeModerations:
		return "moderations"
	case ModeRerank:
		return "rerank"
	case ModeResponses:
		return "responses"
	}
	return "unknown"
}

// Channel is the immutable part of a channel (an upstream account) that an
// adaptor needs to build requests. The transport builds it from the stored
// channel record; adaptors must not modify it.
type Channel struct {
	ID      int
	Type    int    // One API channel type number
	BaseURL string // empty means the provider's default base URL
	Key     string // the upstream credential (one key, already chosen)
	// Config holds provider-specific settings (region, api_version, …) as
	// stored in the channel's config JSON.
	Config map[string]string
	// AccessToken is the short-lived token the transport obtained for
	// Key, for adaptors that implement TokenExchanger; empty otherwise.
	AccessToken string
}

// Request is one client request as handed to an adaptor.
type Request struct {
	Mode Mode
	// Model is the model name to send upstream (after the channel's model
	// mapping). OriginModel is what the client asked for: the top-level
	// "model" member of a JSON Body, or the value of the "model" field of
	// a multipart Body, which the relay has read (so Body is known to be
	// a JSON object, or a multipart body with that field). When Model
	// equals it and nothing else needs changing, an adaptor may forward
	// Body untouched.
	Model       string
	OriginModel string
	// Body is the client's request body (OpenAI JSON, or multipart form
	// data for file uploads). It is read-only: an adaptor that needs a
	// different body builds a new slice.
	Body []byte
	// ContentType is the client's Content-Type header, parameters
	// included. Empty means application/json. For multipart/form-data it
	// carries the boundary the body was written with, so an adaptor that
	// forwards the body must forward this exact value with it (or, if it
	// re-encodes the body, the Content-Type of its new encoding).
	ContentType string
	// Stream is true when the client asked for a server-sent event stream.
	Stream bool
	// IncludeUsage is true when the client asked for the final usage chunk
	// (stream_options.include_usage). The gateway always asks the upstream
	// for usage; this flag only controls what the client sees.
	IncludeUsage bool
	// Passthrough holds the client's request headers that a provider
	// defines for its own clients and an adaptor may forward (the
	// transport copies anthropic-version and anthropic-beta, with their
	// lower-case names). Read-only.
	Passthrough []Header
	// Created is the Unix time (seconds) the gateway received the request.
	// Adaptors never read the clock: one that builds an OpenAI answer from
	// a provider's answer without a timestamp uses it as "created".
	Created int64
}

// Header is one HTTP header of an upstream request.
type Header struct {
	Key, Value string
}

// HTTPRequest describes the upstream call an adaptor wants made.
type HTTPRequest struct {
	Method string
	URL    string
	Header []Header
	Body   []byte
}

// Usage is token usage as reported by the upstream (or estimated by the
// gateway when the upstream reports none).
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	// CachedTokens (prompt tokens read from the provider's prompt cache,
	// prompt_tokens_details.cached_tokens) and CacheWriteTokens (prompt
	// tokens written to it: Anthropic's cache_creation_input_tokens) are
	// parts of PromptTokens, which counts every prompt token; billing may
	// price them apart (CacheRatio, CreateCacheRatio). ReasoningTokens
	// (completion_tokens_details.reasoning_tokens: thinking, thoughts) is
	// part of CompletionTokens.
	CachedTokens     int `json:"-"`
	CacheWriteTokens int `json:"-"`
	ReasoningTokens  int `json:"-"`
}

// Response is a complete (non-stream) answer converted for the client.
type Response struct {
	// Body is the body for the client: OpenAI-format JSON, or for the
	// modes that answer otherwise the bytes ContentType describes.
	Body []byte
	// ContentType is the Content-Type the client must be sent with Body;
	// empty means application/json. It is set for binary speech audio (the
	// upstream's type, e.g. audio/mpeg) and for transcripts in the text,
	// srt and vtt formats (e.g. text/plain; charset=utf-8).
	ContentType string
	// Usage is nil when the upstream reported no usage.
	Usage *Usage
	// Text is the transcript of ModeAudioTranscriptions and
	// ModeAudioTranslations answers, taken from whichever response_format
	// came back (subtitle numbering and timestamps removed), so the
	// gateway can bill speech-to-text when Usage is nil. Empty otherwise.
	Text string
	// Images is the number of images an image mode returned (len(data)),
	// which is what image generation is billed by. Zero otherwise.
	Images int
}

// StreamEvent is one event of a converted stream.
type StreamEvent struct {
	// Event is the SSE event name to send to the client as an `event:`
	// line before Data; empty means no `event:` line. Chat and completion
	// streams leave it empty; the Responses API stream names every event
	// (`event: response.output_text.delta`), and its clients dispatch on
	// it. Meaningful only when Data is non-nil.
	Event string
	// Data is the payload of one client `data:` line (a chat.completion.chunk
	// JSON object, or a Responses API / audio / image stream event), or nil
	// when this event carries nothing for the client.
	Data []byte
	// Usage is set when the upstream reported usage in this event.
	Usage *Usage
	// TextBytes counts the bytes of generated text (content, reasoning,
	// tool-call arguments) in this event, so the gateway can estimate usage
	// when the stream is cut or the upstream never reports usage.
	TextBytes int
}

// StreamDecoder reads an upstream stream body and yields client events.
// Next returns io.EOF after the upstream's normal end of stream (for
// OpenAI chat, `data: [DONE]` or a clean EOF; for the Responses API, which
// has no [DONE], its terminal event or a clean EOF). When the upstream
// reports an error inside the stream (an `event: error`, an `{"error":…}`
// chunk, a Responses API `response.failed`),
// Next returns a *schema.Error (find it with errors.As); any other error is
// a read failure of the body. Once Next has returned an error it returns
// the same error forever. Events with Data == nil carry nothing for the
// client (a hidden usage chunk, a content-filter preamble) but may carry
// Usage. A decoder is used by one goroutine only.
type StreamDecoder interface {
	Next() (StreamEvent, error)
}

// Adaptor translates for one provider protocol.
type Adaptor interface {
	// BuildRequest describes the upstream HTTP request for req on ch.
	BuildRequest(ch *Channel, req *Request) (*HTTPRequest, error)
	// ParseResponse converts a successful (2xx) non-stream upstream body.
	// Adaptors whose answers depend on the upstream's Content-Type (binary
	// audio, text transcripts) also implement TypedResponseParser, which
	// the transport prefers; ParseResponse then infers the type from the
	// body and the request.
	ParseResponse(req *Request, body []byte) (*Response, error)
	// NewStreamDecoder converts a successful (2xx) upstream stream body.
	NewStreamDecoder(req *Request, body io.Reader) StreamDecoder
	// ParseError maps a non-2xx upstream answer to the OpenAI error
	// envelope. It never returns nil.
	ParseError(status int, body []byte) *schema.Error
}
