// Package anthropic lets Anthropic clients call the gateway with the
// Messages API. It converts, in pure functions, between Anthropic's wire
// format and the gateway's canonical OpenAI Chat Completions schema, so
// that any channel can serve them: InboundRequest turns a POST
// /v1/messages body into an OpenAI chat body, OutboundResponse turns the
// upstream's chat.completion into a Message, StreamEncoder turns a chunk
// stream into Anthropic's event stream, and ErrorBody renders errors the
// way Anthropic SDKs parse them. Nothing here does I/O or holds global
// state; the HTTP side lives in the transport.
//
// API version: Messages API, anthropic-version 2023-06-01
// (https://docs.anthropic.com/en/api/messages and
// https://docs.anthropic.com/en/docs/build-with-claude/streaming), field
// by field as in github.com/anthropics/anthropic-sdk-go v2 and its
// recorded streams. Clients authenticate with x-api-key (the transport's
// concern, not this package's).
//
// Invariants:
//
//   - Requests are validated as Anthropic does for what matters to the
//     conversion (model, max_tokens and a non-empty messages array are
//     required; roles are user or assistant) and every failure wraps
//     ErrBadRequest. What no OpenAI channel can serve (server tools,
//     file_id sources, URL documents) is refused, not silently dropped;
//     what only tunes Anthropic's own serving (top_k, cache_control,
//     service_tier) is ignored.
//   - Answers echo the model the client asked for, and message ids are
//     "msg_" plus the upstream completion id.
//   - Usage: Anthropic's input_tokens excludes cached prompt tokens, which
//     OpenAI counts in prompt_tokens, so input_tokens = prompt_tokens −
//     cached_tokens and cache_read_input_tokens = cached_tokens;
//     cache_creation_input_tokens is 0 (OpenAI reports no cache writes);
//     output_tokens = completion_tokens (reasoning included on both
//     sides). The usage returned for billing is always the upstream's, in
//     the gateway's own terms.
//   - Streams follow Anthropic's grammar exactly: message_start, ping,
//     non-overlapping content blocks with consecutive indexes,
//     message_delta, message_stop — or one error event. A client that
//     accumulates the stream with Anthropic's SDK (Message.Accumulate)
//     ends with the final usage in the message, whatever message_start
//     estimated.
//   - Outputs are deterministic: the same input always gives the same
//     bytes.
package anthropic
