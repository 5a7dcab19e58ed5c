// Package tencent is the adaptor for Tencent Hunyuan (One API channel type
// 23, "Tencent"): chat and embeddings over Tencent Cloud API 3.0,
// translated to and from the gateway's OpenAI schema in pure functions.
//
// API version: 2023-09-01, pinned (X-TC-Version). Every call is
// POST {base}/ with a JSON body whose members are capitalised, the action
// named in X-TC-Action: ChatCompletions for chat, GetEmbedding for
// embeddings. Default base https://hunyuan.tencentcloudapi.com. Field by
// field as in Tencent's reference and its official Go SDK
// (github.com/tencentcloud/tencentcloud-sdk-go,
// tencentcloud/hunyuan/v20230901/models.go):
//
//   - https://cloud.tencent.com/document/api/1729/105701 (ChatCompletions)
//   - https://cloud.tencent.com/document/api/1729/102832 (GetEmbedding)
//   - https://cloud.tencent.com/document/api/1729/101843 (signature v3)
//
// Auth: TC3-HMAC-SHA256 (sign.go), computed by the adaptor — no token
// exchange, nothing cached. The channel key is One API's
// "AppId|SecretId|SecretKey" (the AppId is not part of an API 3.0 call and
// is ignored) or "SecretId|SecretKey". The request carries Content-Type
// application/json, Host (the host actually used: the base URL's, so a
// proxy's when base_url names one), X-TC-Action, X-TC-Version,
// X-TC-Timestamp and Authorization: TC3-HMAC-SHA256 Credential=
// SecretId/date/hunyuan/tc3_request, SignedHeaders=
// content-type;host;x-tc-action, Signature=…. The service in the scope is
// always "hunyuan" (SigningService), whatever the host: the documentation
// ties it to the product and the SDK takes it from the service, not the
// endpoint. X-TC-Region is sent only when the channel's config sets
// "region": Hunyuan's actions document the region as not required. The
// clock is Options.Now (time.Now by default), read once per request;
// Tencent refuses a timestamp more than 5 minutes off.
//
// Chat requests. system and developer messages become the one leading
// system message Hunyuan allows (texts joined by a blank line, wherever
// they were); consecutive user messages, and consecutive assistant ones,
// are merged, since Hunyuan wants user (or tool) and assistant turns to
// alternate; tool results stay one message each (Role tool, ToolCallId),
// as Hunyuan takes them. Content strings are forwarded as the client
// wrote them; text parts are joined into Content; a user message with an
// image_url part becomes Contents ({Type text, Text} and {Type image_url,
// ImageUrl {Url}}, the vision models' form). Hunyuan takes http(s) URLs
// and base64 data URLs alike, so images go as they came and the adaptor
// is no ImageInliner. An assistant turn keeps its text and its tool calls
// (ToolCalls [{Id, Type function, Function {Name, Arguments}}]). Sampling:
// temperature → Temperature, top_p → TopP, seed → Seed, stop (string or
// array) → Stop. tools → Tools with the parameters schema as a JSON string
// (ToolFunction.Parameters is a string; an empty object schema when the
// tool has none). tool_choice none and auto map as they are; a named
// function is ToolChoice custom with that tool as CustomTool; required is
// custom with the only tool, or auto when there are several (Hunyuan
// cannot demand "some tool"). Hunyuan's own enable_enhancement member
// (the name its OpenAI-compatible endpoint takes) is forwarded as
// EnableEnhancement. Stream is always sent. Hunyuan has no max_tokens,
// penalties, logprobs or response_format: max_tokens,
// max_completion_tokens, the penalties, user and stream_options are
// dropped; n > 1, response_format other than text, token arrays and
// unknown content parts are refused with adaptors.ErrInvalidBody. The
// ChatCompletions members StreamModeration, SearchInfo, Citation and the
// other search switches are not sent (their defaults hold). No thinking
// switch is sent: the SDK's models.go documents none for ChatCompletions
// (T1 models think and return ReasoningContent on their own).
//
// Chat answers. {"Response": {"Id", "Created", "Choices": [{"Message":
// {"Role", "Content", "ReasoningContent", "ToolCalls"}, "FinishReason"}],
// "Usage": {"PromptTokens", "CompletionTokens", "TotalTokens"}, "Note",
// "RequestId"}} becomes a chat.completion: Hunyuan's Id and Created, the
// client's model name, ReasoningContent as reasoning_content, tool calls
// with type function (a call without an Id, as in Tencent's own
// function-call example, gets "call_<answer id>_<n>"). FinishReason stop
// → stop, tool_calls → tool_calls, sensitive (moderation stopped the
// answer) → content_filter. Usage has no cached or reasoning counts.
// Tencent reports every error inside a 2xx answer, {"Response": {"Error":
// {"Code", "Message"}, "RequestId"}}: it comes out as a *schema.Error with
// the status its code maps to (the table at codeStatus in errors.go:
// AuthFailure.* 401, LimitExceeded/RequestLimitExceeded 429,
// InvalidParameter* 400, arrears and exhausted resource packs 402, …), so
// it is never billed.
//
// Streams. Server-sent events, each `data: {…}` a ChatCompletions answer
// without the Response wrapper whose choice has a Delta (Role, Content,
// ReasoningContent, ToolCalls). There is no [DONE]: the chunk whose
// FinishReason is set is the last, the decoder reads nothing after it, and
// an EOF before it is io.ErrUnexpectedEOF. Every chunk repeats Role
// "assistant"; the client sees the role once, in the first chunk. Usage
// is cumulative — every chunk carries the totals so far — so the decoder
// reports it whenever it changes and the last figures are the answer's;
// nothing is summed. After the finish chunk comes the usage event (a
// usage-only chunk only for clients that asked for include_usage). Tool
// calls arrive as Delta.ToolCalls whose fragments share an Id (the
// documentation says to merge them by Id): the first fragment of a call
// opens it with its OpenAI index (0, 1, … in order of appearance), id,
// type and name, later ones add arguments. Errors in the stream — an
// {"Response": {"Error": …}} or {"Error": …} chunk, a chunk's ErrorMsg
// (code 4000 internal error → 500, 4001 model timeout → 504) — end it
// with a *schema.Error; so does a JSON error body sent instead of a stream
// (how Tencent refuses a bad signature on a stream request).
//
// Embeddings: input (a string, or an array of at most 50 strings) →
// Input for one text, InputList for several; the answer's Data[].Embedding
// becomes OpenAI's list (base64 encoded as OpenAI does when asked), Usage
// PromptTokens the prompt tokens. Hunyuan's embeddings have 1024
// dimensions, so any other dimensions is refused. The request has no
// model member: the channel's model name (One API's hunyuan-embedding) is
// the client's label only.
//
// Hunyuan has no model-list or balance action the adaptor could call, so
// it implements neither ModelLister nor BalanceQuerier.
package tencent
