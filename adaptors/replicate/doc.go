// Package replicate is the adaptor for Replicate's predictions API (One
// API channel type 46), serving chat completions with the language models
// hosted there.
//
// API version: Replicate HTTP API v1, https://api.replicate.com/v1
// (reference: https://replicate.com/docs/reference/http; streaming:
// https://replicate.com/docs/topics/predictions/streaming; sync mode:
// https://replicate.com/docs/topics/predictions/create-a-prediction).
//
// Auth: `Authorization: Bearer <token>` on every call, the stream URL
// included (Replicate's own clients send it there too).
//
// Flow. Replicate answers in several steps, which the transport drives
// through adaptors.FollowUpper (followup.go):
//
//   - BuildRequest creates the prediction: POST
//     /v1/models/{owner}/{name}/predictions for a model named
//     "owner/name" (official models, on their latest version), or POST
//     /v1/predictions with {"version": id} for "owner/name:id". The body
//     is {"input": {…}} plus, for a stream, "stream": true (deprecated
//     since July 2024 because every prediction of a streaming model now
//     gets a stream URL, but still accepted; it makes a model that cannot
//     stream fail at once with 422 instead of running for nothing).
//   - A non-stream request asks for sync mode (`Prefer: wait`, or
//     `Prefer: wait=N` with the channel config key "wait"): Replicate
//     holds the call up to 60 s (N s) and answers the finished prediction
//     when it can. A prediction still "starting" or "processing" is
//     polled at its urls.get, 0.5 s, then 1 s, then every 2 s; the
//     transport bounds the polls. "succeeded" is the answer; "failed" and
//     "canceled" are errors (HTTP 500, codes prediction_failed and
//     prediction_canceled, the prediction's error text in the message).
//   - A stream request reads the created prediction's urls.stream (GET,
//     `Accept: text/event-stream`, `Cache-Control: no-store`); that answer
//     is the stream. No stream URL means the model does not stream (400
//     stream_unsupported).
//   - URLs in predictions are absolute. With a channel base URL their
//     origin is replaced by it (the path is kept, so a proxy there must
//     route the stream host's paths too); without one only https URLs on
//     replicate.com hosts are followed, so the token never leaves
//     Replicate.
//
// Request conversion (chat.go). A Replicate model has no chat API: its
// input is a flat set of named fields, which differ per model. The
// adaptor sends only the fields the client set, named as the model's
// family declares them, and drops the rest (Cog runtimes have either
// refused unknown inputs or ignored them with a warning):
//
//   - prompt: a single user message as it is; a conversation as a plain
//     transcript — "User: …" and "Assistant: …" turns separated by blank
//     lines, ending with the last message — which the model's chat
//     template then wraps as one user turn. Text parts of a message are
//     joined by newlines.
//   - system_prompt: the system and developer messages, joined by blank
//     lines; absent when there are none (the model's default applies).
//   - Limits and sampling, by family (the owner in the model name):
//     openai/* (gpt-4o-mini, gpt-4.1-mini, o4-mini): max_completion_tokens,
//     temperature, top_p, presence_penalty, frequency_penalty,
//     reasoning_effort; anthropic/* (claude-4-sonnet): max_tokens only,
//     raised to the schema's minimum of 1024; every other owner follows
//     Meta's Llama schema: max_tokens, temperature, top_p,
//     presence_penalty, frequency_penalty, and stop as stop_sequences
//     (one comma-separated string, so a stop sequence containing a comma
//     is split). max_completion_tokens wins over max_tokens; without
//     either the model's default applies (512 tokens for Llama 3).
//     response_format, n, seed, logit_bias and user have no input and
//     are ignored.
//   - Images (image_url parts of user messages): openai/* take them all
//     as image_input; other families take one as image (Replicate
//     accepts an https URL, which it downloads, or a data URL, which it
//     advises for files up to 256 KB); a second image is refused with
//     400. Llama 3 text models declare no image input at all. The
//     adaptor does not implement adaptors.ImageInliner: Replicate
//     fetches URLs itself.
//   - Tools: no language model on Replicate declares tools, so a request
//     with tools (unless tool_choice is "none", which drops them),
//     tool_choice "required" or a named function, an assistant
//     tool_calls turn or a tool result is refused with a 400 wrapping
//     adaptors.ErrInvalidBody ("tools are not supported by Replicate
//     models").
//
// Answers. A succeeded prediction becomes a chat.completion whose id is
// the prediction id, created its created_at, content its output (an
// array of tokens joined, or a string) and finish_reason "stop"
// (Replicate does not report why generation stopped). Usage comes from
// metrics.input_token_count and output_token_count, which official
// language models report; without them Response.Usage is nil and the
// gateway estimates.
//
// Streams (stream.go): `event: output` data is a text fragment (several
// data lines joined with "\n"), each relayed as a chunk's
// delta.content; `logs` events are ignored; `error` ({"detail": …}) ends
// the stream with a *schema.Error; `done` ({} — or {"reason": "error" |
// "canceled"}, which end it with a *schema.Error) ends it with a final
// chunk (finish_reason "stop") and io.EOF. A stream cut before `done` is
// io.ErrUnexpectedEOF. The stream reports no usage and no prediction
// id: no StreamEvent carries Usage (the gateway estimates from
// TextBytes, and shows its estimate to clients that asked for
// include_usage), and chunks are "chatcmpl-<created>".
//
// Errors (errors.go): Replicate answers RFC 7807 problem JSON
// ({"title", "detail", "status"}; the rate limiter's 429 has "detail"
// alone). The message is the detail, else the title; the OpenAI type and
// code follow the status (401 authentication_error/invalid_api_key, 402
// insufficient_quota, 422 invalid_request_error, 429
// rate_limit_error/rate_limit_exceeded, 5xx server_error).
//
// Not implemented: ModelLister (Replicate's model list is the public
// catalogue, not what a token may use) and BalanceQuerier (no balance
// endpoint). Only chat is served; image generation (Flux) is a later
// mode.
package replicate
