// Package ali is the adaptor for Alibaba Cloud Model Studio's DashScope
// API (Qwen, Wanx), One API channel types 17 ("Ali", native API) and 49
// ("AliBailian", DashScope's OpenAI-compatible mode), translated to and
// from the gateway's OpenAI schema in pure functions.
//
// APIs, pinned (DashScope v1; Model Studio reference pages):
//
//   - Text and multimodal generation (Qwen, Qwen-VL, QVQ):
//     POST /api/v1/services/aigc/text-generation/generation and
//     POST /api/v1/services/aigc/multimodal-generation/generation,
//     https://help.aliyun.com/en/model-studio/qwen-api-via-dashscope
//   - Streaming: https://www.alibabacloud.com/help/en/model-studio/stream
//   - Function calling:
//     https://www.alibabacloud.com/help/en/model-studio/qwen-function-calling
//   - Embeddings: POST /api/v1/services/embeddings/text-embedding/text-embedding,
//     https://www.alibabacloud.com/help/en/model-studio/text-embedding-synchronous-api
//   - Image generation (Wanx up to 2.5, Qwen-Image, Stable Diffusion),
//     asynchronous: POST /api/v1/services/aigc/text2image/image-synthesis,
//     then GET /api/v1/tasks/{task_id},
//     https://www.alibabacloud.com/help/en/model-studio/text-to-image-v2-api-reference
//     and https://help.aliyun.com/zh/model-studio/developer-reference/text-to-image-api-reference
//   - OpenAI-compatible mode: {base}/compatible-mode/v1/chat/completions and
//     /v1/embeddings (same pages, "OpenAI compatible" tabs, and
//     https://help.aliyun.com/en/model-studio/embedding-interfaces-compatible-with-openai)
//   - Error codes:
//     https://www.alibabacloud.com/help/en/model-studio/developer-reference/error-code
//
// Field names and framing follow those pages and DashScope's official SDKs
// (github.com/dashscope/dashscope-sdk-python, dashscope-sdk-java).
//
// Auth: `Authorization: Bearer <key>` on every call. Base URL:
// https://dashscope.aliyuncs.com; the channel's base_url replaces it for
// every call (https://dashscope-intl.aliyuncs.com is just another base
// URL). A base URL ending in /api/v1, /compatible-mode/v1 or
// /compatible-mode (as the SDKs' examples write it) is cut back to its
// origin. The channel config "workspace" sends X-DashScope-WorkSpace (a
// sub-workspace id) on native calls. No balance or model-list endpoint is
// implemented (the native API documents none).
//
// Which API. Type 17 speaks the native API, type 49 the compatible mode;
// the channel config "api" overrides ("openai" or "native"). Image
// generation always uses the native task API, which the compatible mode
// lacks. ParseResponse and NewStreamDecoder do not see the channel, so
// they tell the APIs apart by the answer: native bodies have "output" (or
// an error "code"), native streams name their events ("event:result");
// anything else is the compatible mode's OpenAI dialect, handled by the
// openai adaptor.
//
// Native chat requests: {model, input:{messages}, parameters}, with
// parameters.result_format "message" always. System and developer
// messages are merged into one leading system message (DashScope takes a
// system message first only); user, assistant (with tool_calls, content ""
// when null) and tool messages (tool_call_id, and the function's name
// taken from the call they answer) keep OpenAI's shape, which DashScope
// shares. Text parts are joined by newlines. Models of the Qwen-VL family
// ("-vl" in the name) and QVQ, and any request with an image_url part, go
// to the multimodal endpoint, where content is an array of {"text": …}
// and {"image": …} items; images are passed as http(s) URLs or data: URLs,
// both of which DashScope takes (so the adaptor is no ImageInliner).
// Parameters: max_completion_tokens (or max_tokens) → max_tokens (unset
// leaves the model's default), temperature, top_p, seed, stop (string or
// strings → array), presence_penalty, frequency_penalty, n (non-stream
// only: the native stream interleaves choices, use the compatible mode),
// tools (function tools, "strict" dropped), tool_choice ("auto", "none",
// a named function; "required" becomes the named choice of the only tool,
// and is forwarded as "required" when there are several, which DashScope
// does not document), parallel_tool_calls, response_format json_object /
// json_schema, reasoning_effort → enable_thinking ("none"/"minimal" off,
// others on). DashScope's own members pass when a client sends them:
// enable_search, search_options, enable_thinking, thinking_budget, top_k,
// repetition_penalty. One API's "-internet" model suffix is removed and
// sets enable_search. Streams send `X-DashScope-SSE: enable`, `Accept:
// text/event-stream` and parameters.incremental_output true. (Models
// that answer only streams — QwQ, Qwen3 open-source models while
// thinking — refuse non-stream calls upstream; the adaptor does not turn
// thinking off on its own.)
//
// Native answers: output.choices[].message {content, reasoning_content,
// tool_calls} → chat.completion (id "chatcmpl-" + request_id, model = the
// client's, created = req.Created: DashScope answers carry no timestamp).
// Multimodal content arrays are joined. finish_reason stop, length,
// tool_calls pass; a "stop" with tool calls becomes tool_calls. Usage:
// input_tokens → prompt_tokens (it counts every prompt token),
// prompt_tokens_details.cached_tokens → cached, cache_creation_input_tokens
// → cache writes, output_tokens → completion_tokens (thinking included),
// output_tokens_details.reasoning_tokens → reasoning.
//
// Native streams: server-sent events `id:N`, `event:result`, the comment
// `:HTTP_STATUS/200`, and `data:{…}` with the generation shape above.
// With incremental_output each event carries only new text; usage in each
// event is the total so far, so the last figures are the request's (never
// summed: the first client event made from an upstream event carries that
// event's figures, and the final usage event carries the last ones, with
// a usage-only chunk only for clients that asked include_usage). finish_reason is "null" while generating; the event
// with another finish_reason ends the stream and nothing after it is
// read; EOF before it is io.ErrUnexpectedEOF. Tool calls arrive as
// fragments: the first with id and function name, the next with id "" and
// arguments only; the decoder numbers calls from 0 and sends OpenAI's
// header chunk (id, type, name, empty arguments) then the argument
// fragments. `event:error` (and any event with a "code") ends the stream
// with a *schema.Error.
//
// Errors: HTTP 4xx/5xx with {"code","message","request_id"} (native) or
// the OpenAI envelope (compatible mode). The client gets DashScope's
// message with the upstream status; the type and code follow DashScope's
// code: InvalidApiKey → authentication_error/invalid_api_key,
// Throttling* → rate_limit_error/rate_limit_exceeded
// (Throttling.AllocationQuota → insufficient_quota), InvalidParameter*
// and BadRequest.* → invalid_request_error, DataInspectionFailed →
// invalid_request_error/content_filter, Arrearage (overdue account, HTTP
// 400) → insufficient_quota, ModelNotFound → model_not_found,
// AccessDenied* → permission_error, InternalError* → server_error,
// ModelUnavailable → server_error; other codes are passed as the code,
// typed by status. Errors inside 2xx bodies and stream events (output
// moderation, a failed task) are *schema.Error with the code's status
// (Arrearage 402, DataInspectionFailed 400, Throttling 429, unknown codes
// 500), never an answer, so they are not billed.
//
// Embeddings: input (string or strings) → input.texts, dimensions →
// parameters.dimension, text_type from the body or the channel config
// "text_type" (sent only when set). The answer's embeddings (ordered by
// text_index) become OpenAI's list; usage.total_tokens is prompt tokens;
// encoding_format "base64" is encoded by the adaptor from the floats
// (little-endian float32, as OpenAI does).
//
// Image generation: prompt, negative_prompt (DashScope's extra), size
// ("1024x1024" → "1024*1024"; "auto" leaves the default) and n go into
// a task created with `X-DashScope-Async: enable` ({output:{task_id,
// task_status:"PENDING"}}). FollowUp polls GET /api/v1/tasks/{task_id}
// (after 1 s, then 2 s, then every 4 s) while the task is PENDING or
// RUNNING; SUCCEEDED is converted to {created, data:[{url,
// revised_prompt}]} with Response.Images the number of images (DashScope
// bills per image); FAILED, CANCELED and UNKNOWN are errors. DashScope
// answers URLs only (valid for 24 hours): a response_format "b64_json"
// request still gets URLs, since fetching images is not an adaptor's job.
// One API's "ali-" model prefix (ali-stable-diffusion-xl) is removed.
//
// Compatible mode: the openai adaptor with base {base}/compatible-mode and
// paths /v1/chat/completions and /v1/embeddings; the body is OpenAI's
// (DashScope's extra members pass through), the "-internet" suffix adds
// "enable_search": true to the body.
package ali
