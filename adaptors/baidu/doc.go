// Package baidu speaks Baidu AI Cloud's large-model APIs in pure
// functions that do no I/O and hold no state: ERNIE v1, the
// "wenxinworkshop" API with OAuth access tokens (One API channel type 15,
// "Baidu"; New), and Qianfan v2, the OpenAI-compatible API with Bearer
// API Keys (channel type 47, "BaiduV2"; NewV2).
//
// # ERNIE v1 — APIs pinned
//
// Model APIs under https://aip.baidubce.com (DefaultBaseURL):
//
//	POST /oauth/2.0/token?grant_type=client_credentials&client_id=…&client_secret=…
//	POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}?access_token=…
//	POST /rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/{endpoint}?access_token=…
//
// as documented per model under https://cloud.baidu.com/doc/WENXINWORKSHOP/s/
// — ERNIE-4.0-8K https://cloud.baidu.com/doc/WENXINWORKSHOP/s/clntwmv7t,
// ERNIE-4.0-Turbo-8K-Latest https://ai.baidu.com/ai-doc/WENXINWORKSHOP/Mm1ewmscv,
// the error codes https://cloud.baidu.com/doc/WENXINWORKSHOP/s/tlmyncueh,
// the access token https://cloud.baidu.com/doc/WENXINWORKSHOP/s/Ilkkrb0i5 —
// and as Baidu's own SDK (github.com/baidubce/bce-qianfan-sdk) sends
// them. A channel's base_url replaces the origin for every call, the
// token exchange included.
//
// # Authentication
//
// The channel key is "API_KEY|SECRET_KEY", the application's API Key and
// Secret Key. The adaptor implements adaptors.TokenExchanger:
// TokenRequest is POST {base}/oauth/2.0/token with grant_type
// client_credentials, client_id and client_secret in the query; ParseToken
// reads {"access_token","expires_in",…} — Baidu's tokens live 30 days
// (expires_in 2592000) — or the refusal {"error":"invalid_client",
// "error_description":"unknown client id"} (a wrong Secret Key says
// "Client authentication failed"), a *schema.Error of type
// authentication_error. The transport caches the token until 5 minutes
// before it expires and passes it in Channel.AccessToken; BuildRequest
// sends it as the access_token query parameter. An invalid or expired
// token is answered with error code 110 or 111, which come out as 401.
//
// # Models and endpoints
//
// The URL names the model: ChatEndpoint maps One API's model names to
// Baidu's endpoints (ERNIE-4.0-8K → completions_pro, ERNIE-3.5-8K →
// completions, ERNIE-Speed-8K → ernie_speed, ERNIE-Lite-8K-0922 →
// eb-instant, ERNIE-Character-8K → ernie-char-8k, ERNIE-Functions-8K →
// ernie-func-8k, …); any other name is used in lower case, which is
// Baidu's endpoint for every model since 2024 (ERNIE-Speed-128K →
// ernie-speed-128k, ERNIE-4.0-Turbo-8K → ernie-4.0-turbo-8k) and what a
// custom service's endpoint already is. EmbeddingEndpoint does the same
// for Embedding-V1 (embedding-v1), bge-large-zh (bge_large_zh),
// bge-large-en (bge_large_en) and tao-8k (tao_8k). There is no "model"
// member in the body.
//
// # Chat requests
//
// ERNIE's messages alternate user-side turns (role user, or function for
// a function's result) and assistant turns, odd in number, starting and
// ending with a user-side turn. The conversion:
//
//   - system and developer messages become the system member (joined by
//     a blank line);
//   - consecutive user messages, and consecutive assistant messages, are
//     merged (joined by a blank line); content parts are joined by a
//     newline; ERNIE v1 takes text only, so image_url and other non-text
//     parts are refused (adaptors.ErrInvalidBody; Qianfan v2 takes
//     images);
//   - an assistant message with tool_calls becomes, for each call, an
//     assistant message with that one function_call {name, arguments}
//     (ERNIE's messages carry one) followed by a function message {name,
//     content} with the call's result, taken from the tool messages that
//     follow by tool_call_id — parallel calls thus keep the alternation;
//     a call without a result, or a tool message that answers nothing,
//     is refused; the legacy function_call/function form is accepted
//     too;
//   - a conversation that cannot alternate (it starts or ends with an
//     assistant turn, a user message follows a tool result) is refused
//     with adaptors.ErrInvalidBody rather than sent to fail upstream.
//
// Sampling: temperature is clamped into ERNIE's (0, 1] (0 becomes 0.01),
// top_p into [0, 1]; max_completion_tokens (else max_tokens) →
// max_output_tokens; stop (string or array) → stop; user → user_id;
// response_format json_object and json_schema → "json_object" (ERNIE
// takes no schema). tools (or the legacy functions) → functions {name,
// description (the name when empty: Baidu requires one), parameters
// ({"type":"object","properties":{}} when absent)}; tool_choice: a named
// function → ERNIE's tool_choice {"type":"function","function":{…},
// "name":…}; "none" drops the functions; "required" names the function
// when there is exactly one (ERNIE cannot demand "any function"); "auto"
// is the default. Baidu's own penalty_score, disable_search and
// enable_citation pass through when a client sends them. n > 1 is
// refused; frequency_penalty, presence_penalty, seed, logprobs and
// stream_options have no ERNIE equivalent and are not sent. "stream":
// true is sent for streams; Content-Type is the only header (the one
// Baidu documents).
//
// # Chat answers
//
// {"id","object":"chat.completion","created","result","is_truncated",
// "need_clear_history","finish_reason","function_call","usage"} becomes a
// chat.completion with Baidu's id and created: result → content,
// function_call {name, arguments, thoughts} → one tool call (ERNIE's
// calls have no ids: ToolCallID makes "call_<answer id>"), thoughts →
// reasoning_content. finish_reason normal and stop → stop, length (or
// is_truncated) → length, content_filter (or need_clear_history, ERNIE's
// canned answer to an unsafe input) → content_filter, function_call (or
// any function call) → tool_calls. Usage: prompt_tokens and
// completion_tokens, total their sum (Baidu's total_tokens may add its
// search plugin's tool tokens); ERNIE reports no cached or reasoning
// tokens.
//
// Baidu answers errors with HTTP 200 and {"error_code","error_msg"}.
// ParseResponse, and the stream decoder, return them as a *schema.Error
// whose status follows the code (errors.go): 110/111 → 401, 17/18/4 and
// 336501/336502 (RPM/TPM) → 429, 336003 and other request errors → 400,
// 336100 (overloaded) → 503, …; ParseError reads the same body (or the
// OAuth error, HTML, text, nothing) under any other status.
//
// # Streams
//
// Server-sent events, one data: line per payload: the answer's shape
// plus sentence_id and is_end. The payload with is_end true is the last;
// nothing after it is read, and an EOF before it is
// io.ErrUnexpectedEOF. Usage in each payload is cumulative (the totals so
// far, as in Baidu's documented example), so the last figures are the
// answer's: every event that carries usage has the totals, and the final
// usage event (a usage-only chunk for clients that asked include_usage)
// has the last ones — never a sum. A stream request that fails is
// answered with one JSON error object instead of events, and an error
// payload may come among the events; the decoder returns either as a
// *schema.Error. A whole JSON answer where events were expected is
// converted as a stream of that one payload. A function call arrives
// whole in a payload (a tool-call chunk with id, name and arguments); a
// later payload naming no function or the same one would continue its
// arguments, one naming another function would open a second call.
//
// # Embeddings
//
// input (string or strings) → {"input":[…]}, user → user_id;
// dimensions and token arrays are refused; the answer {"data":[{"object",
// "embedding","index"}],"usage"} becomes OpenAI's list (base64 encoded by
// the adaptor when asked), usage prompt_tokens.
//
// # Qianfan v2
//
// https://qianfan.baidubce.com (V2DefaultBaseURL): POST
// /v2/chat/completions, /v2/embeddings, /v2/rerank (Cohere/Jina body,
// https://cloud.baidu.com/doc/qianfan-api/s/2m7u4zt74),
// /v2/images/generations, OpenAI's wire format
// (https://cloud.baidu.com/doc/qianfan-docs/s/qm8qxemze), with
// "Authorization: Bearer <API Key>". A key "API_KEY|APPID" adds the
// header appid: APPID (https://cloud.baidu.com/doc/qianfan-api/s/3m9b5lqft).
// V2 wraps the OpenAI adaptor; errors are OpenAI's envelope
// ({"error":{"code","message","type"},"id"},
// https://cloud.baidu.com/doc/qianfan-api/s/Om9b4yj3w). No balance or
// model-list endpoint is implemented for either API.
package baidu
