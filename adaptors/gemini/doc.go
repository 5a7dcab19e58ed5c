// Package gemini lets Gemini clients call the gateway with Google's
// Gemini API. It converts, in pure functions, between Gemini's wire
// format and the gateway's canonical OpenAI Chat Completions schema, so
// that any channel can serve them: InboundRequest turns a
// GenerateContentRequest into an OpenAI chat body, OutboundResponse turns
// the upstream's chat.completion into a GenerateContentResponse,
// StreamEncoder turns a chunk stream into streamGenerateContent payloads,
// and ErrorBody renders errors the way Google's APIs do. Nothing here
// does I/O or holds global state; the HTTP side lives in the transport.
//
// API version: Gemini API v1beta (and v1), POST
// models/{model}:generateContent and
// models/{model}:streamGenerateContent?alt=sse
// (https://ai.google.dev/api/generate-content), field by field as in
// google.golang.org/genai. Clients authenticate with x-goog-api-key or
// ?key= (the transport's concern, not this package's).
//
// Invariants:
//
//   - Requests accept both proto JSON spellings (lowerCamelCase and
//     snake_case field names). Every failure wraps ErrBadRequest. What no
//     OpenAI channel can serve (built-in tools, code execution, cached
//     contents, files other than images and inline PDFs) is refused, not
//     silently dropped; what only tunes Google's own serving
//     (safetySettings, topK) is ignored.
//   - Function calls get stable ids ("call_<n>" when the client sent
//     none), and responses are matched to calls by id or, failing that, to
//     the most recent unanswered call of the same name, so a conversation
//     converts the same way every time.
//   - Usage: promptTokenCount = prompt_tokens (cached included, as
//     cachedContentTokenCount says), thoughtsTokenCount = reasoning_tokens,
//     candidatesTokenCount = completion_tokens − reasoning_tokens,
//     totalTokenCount = total_tokens. The usage returned for billing is
//     always the upstream's, in the gateway's own terms.
//   - Streams: text and thoughts as they come, function calls whole in the
//     final payload with finishReason and usageMetadata; a failed stream
//     ends with Google's {"error":…} object.
//   - Outputs are deterministic: the same input always gives the same
//     bytes.
package gemini
