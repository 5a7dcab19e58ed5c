// Package anthropic speaks Anthropic's Messages API in both directions,
// in pure functions: nothing here does I/O or holds mutable state.
//
// API version pinned: anthropic-version 2023-06-01
// (https://docs.anthropic.com/en/api/messages, streaming:
// https://docs.anthropic.com/en/docs/build-with-claude/streaming, errors:
// https://docs.anthropic.com/en/api/errors), field by field as in
// github.com/anthropics/anthropic-sdk-go and its recorded cassettes.
// Authentication is the x-api-key header.
//
// # Outbound: channels of type 14 (Adaptor)
//
// Adaptor turns the gateway's canonical OpenAI chat request into POST
// {base}/v1/messages (base: DefaultBaseURL or the channel's base URL)
// with x-api-key, anthropic-version (the client's header from
// Request.Passthrough, else Config["anthropic_version"], else
// 2023-06-01), anthropic-beta (the client's values, then
// Config["anthropic_beta"], comma-joined without duplicates) and
// content-type: application/json; it converts the Message or the event
// stream back into chat.completion and chat.completion.chunk JSON. It
// also lists models (GET /v1/models?limit=1000) and asks the transport to
// inline http(s) images (adaptors.ImageInliner). Anthropic has no
// balance endpoint. Only chat is served.
//
// Request mapping (BuildBody), and the quirks it handles:
//
//   - system and developer messages become the top-level system, as an
//     array of text blocks (the Messages API has no system role in
//     messages); every message's content is sent as an array of blocks.
//   - Turns must alternate user/assistant: consecutive messages of one
//     role are merged, tool messages become tool_result blocks of a user
//     turn and merge with the user message after them, and tool_result
//     blocks are put first in their turn, as the API requires. Messages
//     left empty are dropped; a conversation with no user or assistant
//     content is an invalid body. A conversation that starts with an
//     assistant message is sent as is (the API may refuse it).
//   - Assistant tool_calls become tool_use blocks whose input is the
//     parsed arguments (empty arguments are {}; arguments that are not a
//     JSON object are an invalid body). Tool-call ids are made to match
//     the API's ^[a-zA-Z0-9_-]+$ by replacing other characters with '_',
//     identically in tool_use and tool_result, so pairs still match.
//   - image_url parts: base64 data: URLs become base64 image sources
//     (jpeg, png, gif, webp); an http(s) URL still present (inlining
//     disabled) becomes a url source, which the API fetches itself. PDF
//     file parts (file_data data: URLs) become document blocks titled
//     with the filename. Audio, file ids and other file types are
//     invalid bodies.
//   - A final assistant message is a prefill: its trailing whitespace,
//     which the API refuses, is trimmed.
//   - max_tokens is required: max_completion_tokens or max_tokens, else
//     Config["max_tokens"], else the model's documented output limit
//     (table in models.go: 128K for Opus 4.6 and every later model, 64K
//     for Sonnet 4.5/4.6, Haiku 4.5, Opus 4.5, Sonnet 4 and 3.7 Sonnet,
//     32K for Opus 4/4.1, 8192 for 3.5 Sonnet/Haiku, 4096 for Claude 3),
//     else 4096. A client value above a known model's limit is capped.
//   - stop becomes stop_sequences (whitespace-only sequences, which the
//     API refuses, are dropped); user becomes metadata.user_id.
//   - tools become {name, description, input_schema} (a function without
//     parameters gets an empty object schema); tool_choice "auto",
//     "none", "required" and a named function become auto, none, any
//     and tool; parallel_tool_calls false becomes
//     disable_parallel_tool_use. Without tools, tool_choice is dropped.
//   - temperature and top_p are sent as given, except: models that
//     refuse both at once (Opus 4.1 and later 4.x) keep temperature only;
//     models that refuse sampling parameters (Opus 4.7 and later, the
//     5.x generation) get neither; anthropic-version 2026-10-21 and later
//     get neither (that version removed them); and neither is sent when
//     thinking is on.
//   - reasoning_effort turns thinking on. Claude 3.7 Sonnet to the 4.6
//     models (and unknown models) get {"type":"enabled","budget_tokens":N}
//     with N = 1024, 2048, 8192, 24576, 32768 for minimal, low, medium,
//     high, xhigh; max_tokens is raised (within the model's limit) so
//     that the budget stays below it. Opus 4.7 and later get
//     {"type":"adaptive"} with output_config.effort (minimal is low).
//     "none", models without thinking (Claude 3.5 and older) and a
//     request in the middle of a tool loop leave thinking off: the API
//     then wants the previous turn's signed thinking block back, which
//     OpenAI clients do not keep. With thinking on, and on models whose
//     thinking is always on (Opus 5, Sonnet 5, Fable, Mythos), a forced
//     tool_choice (any or tool) becomes auto: the API refuses forced tool
//     use while thinking. No "-thinking" model suffix is needed.
//   - response_format, n, seed, logprobs, penalties and other OpenAI
//     members have no Messages equivalent and are left out (Anthropic's
//     structured outputs, output_config.format, are not mapped: they are
//     not available on every model this package serves).
//
// Response mapping (ParseMessage, EventDecoder): text blocks are joined
// into content, thinking into reasoning_content (redacted_thinking and
// signatures are dropped: OpenAI clients cannot send them back), tool_use
// blocks into tool_calls (id: the toolu_… id; arguments: the input as
// compact JSON; in streams, numbered from 0 in block order whatever the
// content-block index). stop_reason end_turn, stop_sequence and
// pause_turn are "stop", max_tokens and model_context_window_exceeded
// "length", tool_use "tool_calls", refusal "content_filter". The chat id
// is the message id (msg_…, so it can be found in Anthropic's logs),
// created is Request.Created (a Message has no timestamp), model is
// Request.OriginModel. Usage: prompt_tokens = input_tokens +
// cache_read_input_tokens + cache_creation_input_tokens, CachedTokens =
// cache reads, CacheWriteTokens = cache writes, completion_tokens =
// output_tokens, ReasoningTokens = output_tokens_details.thinking_tokens
// when reported. In streams, message_delta's counts are cumulative and
// replace earlier ones (input and cache counts too, when repeated);
// message_stop ends the stream, a clean end before it is
// io.ErrUnexpectedEOF, and an error event is a *schema.Error whose status
// is the one Anthropic uses for its type (overloaded_error: 529).
//
// Errors (ParseErrorBody) keep the upstream status, Anthropic's message
// and type (invalid_request_error, authentication_error,
// rate_limit_error, overloaded_error, …), and error.details.error_code as
// the code.
//
// Reuse by other hosts: Amazon Bedrock and Google Vertex AI serve Claude
// with the same body and events. Their adaptors use BuildBody with
// BodyOptions (anthropic_version in the body, model in the URL, stream
// chosen by endpoint), ParseMessage, EventDecoder (which takes one
// event's JSON, independent of framing) and ParseErrorBody.
//
// # Inbound: Anthropic clients of the gateway
//
// InboundRequest turns a POST /v1/messages body into an OpenAI chat
// body, so any channel can serve Anthropic clients; OutboundResponse
// turns the upstream's chat.completion into a Message, StreamEncoder
// turns a chunk stream into Anthropic's event stream, and ErrorBody
// renders errors the way Anthropic SDKs parse them. The HTTP side lives
// in the transport.
//
// Invariants of the inbound direction:
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
