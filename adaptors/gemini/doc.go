// Package gemini speaks Google's Gemini API in both directions, in pure
// functions that do no I/O and hold no global state.
//
// API version: Gemini API v1beta REST (v1 and v1alpha selectable per
// channel), proto JSON with lowerCamelCase names as in
// google.golang.org/genai:
//
//	POST {base}/{version}/models/{model}:generateContent
//	POST {base}/{version}/models/{model}:streamGenerateContent?alt=sse
//	POST {base}/{version}/models/{model}:batchEmbedContents
//	GET  {base}/{version}/models?pageSize=1000
//
// References: https://ai.google.dev/api/generate-content,
// https://ai.google.dev/api/embeddings, https://ai.google.dev/api/models.
//
// # Outbound: the gateway calling Gemini (channel type 24)
//
// Adaptor (New) implements adaptors.Adaptor, adaptors.ModelLister and
// adaptors.ImageInliner for AI Studio keys. Auth is the header
// `x-goog-api-key: <key>`. The base URL defaults to DefaultBaseURL; the
// channel config keys are "api_version" (default v1beta) and
// "safety_settings" (one threshold for every harm category; default: none
// sent, Google's per-model defaults apply). No balance endpoint exists.
//
// The pieces Vertex AI shares (same body, answer, stream and errors at
// another URL with OAuth) are exported for its adaptor: BuildBody /
// BuildBodyWith, ParseGenerateResponse, NewSSEDecoder, ParseErrorBody,
// BuildEmbedBody and ParseEmbedResponse.
//
// Invariants and quirks:
//
//   - The model lives in the URL, never in the body. Consecutive turns of
//     one role are merged (Gemini wants user/model alternation); system
//     and developer messages become systemInstruction wherever they are;
//     tool results become functionResponse parts named after the call
//     they answer (Gemini has no tool_call_id).
//   - Tool parameters and json_schema response formats go out as
//     parametersJsonSchema / responseJsonSchema, which take JSON Schema as
//     clients write it; the older parameters / responseSchema fields take
//     only an OpenAPI subset and reject common keywords. Only a root
//     "$schema" is removed. Models before Gemini 2.5 may not honour them.
//   - reasoning_effort becomes thinkingConfig.thinkingBudget with Google's
//     own mapping (low 1024, medium 8192, high 24576; none/minimal 0, or
//     128 on models that cannot stop thinking) and includeThoughts, so
//     thought summaries come back as reasoning_content.
//   - Thought signatures (Gemini 3 rejects a function-call turn without
//     one) travel to the client in each tool call's
//     extra_content.google.thought_signature, as on Google's own
//     OpenAI-compatible endpoint, and back the same way; a turn that has
//     none gets Google's documented placeholder
//     "skip_thought_signature_validator" (base64-encoded, as the field is
//     bytes).
//   - Tool call ids: Gemini's functionCall.id when it sends one, else
//     "call_<responseId>_<n>", stable across the chunks of a stream and
//     unique across the turns of a conversation. Ids are not sent back.
//   - Finish reasons: MAX_TOKENS is length, the safety family
//     (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, …)
//     content_filter, anything else stop, or tool_calls when the answer
//     called functions. A prompt blocked before any candidate
//     (promptFeedback.blockReason) is an empty answer with finish_reason
//     content_filter, not an error.
//   - Usage: prompt_tokens = promptTokenCount + toolUsePromptTokenCount
//     (cachedContentTokenCount, already inside, is cached_tokens);
//     completion_tokens = candidatesTokenCount + thoughtsTokenCount
//     (reasoning_tokens); total = their sum, Google's own definition of
//     totalTokenCount. Streams repeat cumulative usageMetadata: the last
//     one counts, never a sum. Embeddings report no usage (the gateway
//     estimates).
//   - Streams have no terminator: the payload with finishReason is the
//     last, then the connection closes. A clean EOF before it is a
//     truncated stream; `data: {"error":…}` is a *schema.Error.
//   - A rejected key is HTTP 400 INVALID_ARGUMENT with ErrorInfo reason
//     API_KEY_INVALID (not 401); ParseErrorBody keeps the 400 and sets code
//     "invalid_api_key". A missing key is 403 PERMISSION_DENIED.
//   - presence/frequency penalties are passed through; some models refuse
//     them with a 400 of their own.
//
// # Inbound: Gemini clients calling the gateway
//
// InboundRequest turns a GenerateContentRequest into an OpenAI chat body,
// OutboundResponse turns the upstream's chat.completion into a
// GenerateContentResponse, StreamEncoder turns a chunk stream into
// streamGenerateContent payloads, and ErrorBody renders errors the way
// Google's APIs do, so that any channel can serve Gemini clients. Clients
// authenticate with x-goog-api-key or ?key= (the transport's concern).
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
