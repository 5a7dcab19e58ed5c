// Package zhipu is the adaptor for Zhipu AI's BigModel open platform
// (GLM chat, embedding, CogView image models), One API channel type 16
// ("Zhipu").
//
// API version: the v4 API, POST {base}/api/paas/v4/chat/completions,
// /api/paas/v4/embeddings and /api/paas/v4/images/generations, with the
// default base https://open.bigmodel.cn. A channel base URL that already
// ends in "/paas/v4" is used as the API root as it is (the coding plan's
// https://open.bigmodel.cn/api/coding/paas/v4, Z.ai's
// https://api.z.ai/api/paas/v4). Docs: https://open.bigmodel.cn/dev/api,
// https://docs.bigmodel.cn/api-reference (error codes:
// https://docs.bigmodel.cn/cn/faq/api-code). The legacy ChatGLM v3 API
// (/api/paas/v3/model-api/{model}/invoke and sse-invoke, chatglm_* models)
// is not supported.
//
// Auth: "Authorization: Bearer <token>", as the official SDKs send it.
// The channel key is the console's API key "<id>.<secret>". By default
// (channel config "auth" empty or "jwt") the token is a JWT the adaptor
// mints (adaptors.TokenMinter): HS256 with the secret, header
// {"alg":"HS256","sign_type":"SIGN","typ":"JWT"}, claims
// {"api_key":<id>,"exp":<ms>,"timestamp":<ms>} in milliseconds, valid for
// TokenTTL (30 minutes; the transport caches it and replaces it 5 minutes
// before it expires). With "auth": "key" the key itself is the token,
// which the v4 API also accepts; MintToken then returns the key.
//
// Chat (chat.go, response.go, stream.go) is converted, not relayed. v4's
// format is OpenAI's with these differences, each handled:
//
//   - temperature and top_p lie in the open interval (0, 1): values at or
//     beyond the bounds become 0.01 / 0.99 as the official SDKs do, and a
//     temperature of 0 or less also sends do_sample false (greedy);
//   - tool_choice knows only "auto": "none" drops the function tools,
//     "required" becomes "auto", a named function leaves only that
//     function offered (with "auto");
//   - images are URLs or bare base64: data URLs lose their
//     "data:image/…;base64," prefix (the SDKs' drop_prefix_image_data);
//     http(s) URLs are forwarded, so no inlining is needed; v4's
//     video_url and file_url parts are forwarded;
//   - developer messages become system; text-only content parts are
//     joined into a string (text models take a string);
//   - reasoning_effort maps onto thinking {"type":"enabled"|"disabled"}
//     ("none"/"minimal" disable); a client's own thinking object, and
//     v4's do_sample, request_id, user_id, tool_stream members and
//     non-function tools (web_search, retrieval, mcp) are forwarded;
//     OpenAI's user becomes user_id when it has v4's 6–128 characters;
//   - a streamed request with function tools to a model that streams
//     tool arguments (glm-4.6, glm-4.7, glm-5…) asks for tool_stream;
//   - n > 1 is refused (one choice); response_format json_schema becomes
//     json_object (the schema is not enforced); stream_options is never
//     sent: v4 reports usage in the stream's last content chunk unasked;
//   - answers: object, model (the client's) and OpenAI's finish reasons
//     are set ("sensitive" → content_filter, model_context_window_exceeded
//     → length, network_error → a *schema.Error 500); reasoning_content
//     is kept; usage carries prompt_tokens_details.cached_tokens and
//     completion_tokens_details.reasoning_tokens; v4's web_search results
//     are dropped.
//
// Streams: v4 repeats delta.role in every chunk and puts usage next to
// the finish_reason; the decoder sends the role once, numbers tool calls
// from 0 with the id only on a call's first chunk, and turns the usage
// into OpenAI's usage-only chunk after the finish chunk (shown only when
// the client asked: Request.IncludeUsage; StreamEvent.Usage always set).
// "data: [DONE]" ends a stream, as does a clean EOF after the finish
// chunk; an earlier EOF is io.ErrUnexpectedEOF; {"error":…} chunks are a
// *schema.Error.
//
// Embeddings and images (images.go) are OpenAI's format and go through
// the OpenAI adaptor, under the v4 root and with Zhipu's credential.
//
// Errors (errors.go): {"error":{"code":"1261","message":"Prompt 超长"}};
// the business code chooses the OpenAI type, and OpenAI's code where one
// matches (1000–1005 → invalid_api_key, 1113 and 1309 → insufficient_quota,
// 1261 → context_length_exceeded, 1211 → model_not_found, 1302/1303/1305/
// 1312 → rate_limit_exceeded); other codes are kept. The status is the
// upstream's; an error inside a 2xx body or stream takes the status the
// code page gives its code (502 for unknown codes).
package zhipu
