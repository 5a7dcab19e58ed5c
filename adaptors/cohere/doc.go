// Package cohere is the adaptor for Cohere's API v2 (One API channel type
// 35): chat, embeddings and rerank, translated to and from the gateway's
// OpenAI schema in pure functions.
//
// API version: v2, pinned. POST /v2/chat (streamed and not), POST
// /v2/embed, POST /v2/rerank, and GET /v1/models (the model list has no v2
// path). Host https://api.cohere.com, the one Cohere's SDKs and reference
// use (One API still defaults to the older api.cohere.ai). Field by field
// as in Cohere's reference and its generated SDKs
// (github.com/cohere-ai/cohere-go, cohere-python):
//
//   - https://docs.cohere.com/reference/chat
//   - https://docs.cohere.com/reference/chat-stream
//   - https://docs.cohere.com/reference/embed
//   - https://docs.cohere.com/reference/rerank
//   - https://docs.cohere.com/reference/list-models
//
// Auth: `Authorization: Bearer <key>`. No balance endpoint exists.
//
// Chat requests. OpenAI messages map one to one onto v2 messages (system
// and developer become system; tool results keep their tool_call_id).
// Content strings are forwarded as the client wrote them; text and
// image_url parts become v2 content parts, and images go as they came
// (Cohere takes data URIs and web URLs alike, so the adaptor is no
// ImageInliner). An assistant turn that calls tools carries its text as
// tool_plan, the place Cohere puts the text it writes before calling
// tools. Sampling maps top_p→p, stop→stop_sequences,
// max_completion_tokens (or max_tokens)→max_tokens, which is left unset
// when the client sets none (Cohere then allows the model's maximum).
// tool_choice none/required become NONE/REQUIRED; v2 cannot name a tool,
// so a named choice sends only that tool, REQUIRED. response_format
// json_object and json_schema become {"type":"json_object"} with the
// schema as json_schema. reasoning_effort "none" turns thinking off
// ({"type":"disabled"}); other efforts keep Cohere's default (reasoning
// models think unless told not to). Cohere's own members documents,
// citation_options, safety_mode and thinking pass through when a client
// sends them. What v2 cannot do is refused with adaptors.ErrInvalidBody
// rather than dropped: n > 1, token-array inputs, parts other than text
// (refusal parts count as text) and image_url. A stream is asked for with
// "stream": true alone (v2 documents no Accept header for it); the member
// is always sent, as Cohere's SDKs do.
//
// Chat answers. message.content text items become content, thinking items
// reasoning_content, tool_plan (text before tool calls) content, and
// tool_calls are copied (Cohere's are already OpenAI's shape). Citations
// are dropped. finish_reason COMPLETE and STOP_SEQUENCE → stop,
// MAX_TOKENS → length, TOOL_CALL → tool_calls. ERROR and TIMEOUT are
// failures, not finishes: a non-stream answer with them is a
// *schema.Error (502 / 504); a stream first reports the usage of its
// message-end, then fails with the *schema.Error, carrying message-end's
// error text when Cohere sent one.
//
// Usage. Cohere reports usage.billed_units (what it charges) and
// usage.tokens (what the model saw, system preamble included, so larger).
// The gateway bills from billed_units — the decision — and the
// client's usage object carries the same numbers; tokens is used only when
// billed_units is absent (the early v2 shape under meta is read too).
// Cohere reports no cached or reasoning token counts.
//
// Streams are server-sent events, `event: <type>` plus
// `data: {"type": <type>, …}`: message-start, content-start/-delta/-end
// (text or thinking), tool-plan-delta, tool-call-start/-delta/-end,
// citation-start/-end, debug, message-end. The decoder emits OpenAI
// chat.completion.chunk payloads: a role chunk at message-start, one
// chunk per text, thinking, plan or argument fragment, tool calls
// numbered from 0 in order of their tool-call-start (whatever index
// Cohere gives them), the finish chunk at message-end, then the usage
// event (a usage-only chunk only for clients that asked for
// include_usage). message-end is the end: nothing after it is read; an
// EOF before it is io.ErrUnexpectedEOF.
//
// Embeddings: input (string or strings) → texts, with input_type from the
// body's non-standard input_type, else the channel config "input_type",
// else search_document; embedding_types ["float"] (base64 answers are
// encoded by the adaptor from the floats, as OpenAI encodes them:
// little-endian float32); dimensions → output_dimension. Usage is
// meta.billed_units.input_tokens.
//
// Rerank: the Cohere/Jina body the gateway serves under /v1/rerank
// (documents as strings or {"text": …} objects) → v2's string documents.
// The answer is Cohere's own shape, relayed untouched, with each result's
// document ({"text": …}) added when the client asked return_documents
// (v2 no longer returns them). Usage follows the OpenAI adaptor's rule:
// token counts in meta.billed_units are usage, search units are not (the
// gateway estimates instead).
//
// Errors: Cohere's {"message": …} (some proxies send {"data": …}), any
// other body, never nil; the type follows the status as OpenAI types it.
package cohere
