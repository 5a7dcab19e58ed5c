// Package openai is the adaptor for OpenAI's API and, parameterised by
// Config, for every upstream that speaks its dialect (package openaicompat
// holds those rows).
//
// API version: OpenAI REST v1 as described by OpenAI's OpenAPI document
// (shared/fixtures/openai-openapi.yaml): POST /v1/chat/completions,
// /v1/completions (legacy), /v1/embeddings, /v1/images/generations,
// /v1/images/edits, /v1/images/variations, /v1/audio/speech,
// /v1/audio/transcriptions, /v1/audio/translations, /v1/moderations,
// /v1/responses; POST /v1/rerank in the Cohere/Jina dialect that
// OpenAI-compatible resellers serve; GET /v1/models; the legacy billing
// dashboard for balances. Docs: https://platform.openai.com/docs/api-reference
//
// Auth: `Authorization: Bearer <key>`; optional `OpenAI-Organization` and
// `OpenAI-Project` from the channel config keys "organization" and
// "project".
//
// Behaviour and invariants:
//
//   - Passthrough. The client body is forwarded byte for byte (same slice,
//     no allocation) unless the model must change or, for chat and
//     completion streams, stream_options.include_usage must be forced on
//     (the gateway always asks for usage so that streams are billed
//     exactly). Rewrites splice the original bytes: unknown fields, key
//     order and formatting survive. Multipart bodies (image edits and
//     variations, audio uploads) are forwarded with the client's
//     Content-Type; a model change re-encodes them with every other part
//     unchanged (multipart.go).
//   - Responses are relayed untouched; usage is read with one sonic pass
//     over a tiny struct. A 2xx body that is not a JSON object, or carries
//     an "error" object, is an error. The adaptor implements
//     adaptors.TypedResponseParser: speech answers are audio (relayed with
//     their Content-Type), transcripts may be plain text, SRT or WebVTT
//     (Response.Text gets the spoken text whatever the format), image
//     answers report their count (Response.Images) and no token usage,
//     rerank usage is read from Jina's usage or Cohere's meta, and the
//     Responses API's input/output usage maps to prompt/completion.
//   - Chat and completion streams: one StreamEvent per upstream `data:`
//     payload, relayed byte for byte. The usage-only chunk (choices: []) is
//     hidden unless the client asked for include_usage; chunks with
//     neither choices nor usage (Azure's prompt-filter preamble) are
//     dropped; unparsable payloads are relayed untouched (One API's
//     behaviour); `data: [DONE]` and a clean EOF end the stream with
//     io.EOF; `event: error` and `{"error":…}` chunks end it with a
//     *schema.Error.
//   - Typed-event streams (Responses API, streamed speech, transcriptions
//     and images; eventstream.go): every event is relayed byte for byte
//     with its `event:` name; usage comes from the terminal event
//     (response.completed/.incomplete, transcript.text.done,
//     speech.audio.done), after which the stream ends; response.failed and
//     `error` events end it with a *schema.Error.
//   - Errors: OpenAI's {"error":{message,type,param,code}} and the other
//     shapes One API recognises, never nil, never a panic.
//
// Quirks of OpenAI itself: error bodies are pretty-printed JSON; the
// rate-limit error's type is "tokens"/"requests" with code
// rate_limit_exceeded; stream chunks may carry an "obfuscation" field
// (relayed untouched).
package openai
