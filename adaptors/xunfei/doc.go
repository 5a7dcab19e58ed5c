// Package xunfei is the adaptor for iFLYTEK's Spark (讯飞星火) chat models
// over their WebSocket API (One API channel type 18, "Xunfei"),
// translated to and from the gateway's OpenAI schema in pure functions.
//
// API pinned: the Spark WebSocket chat API, as documented in
//
//   - https://www.xfyun.cn/doc/spark/Web.html (星火认知大模型 Web API)
//   - https://www.xfyun.cn/doc/spark/X1ws.html (Spark X1 over WebSocket)
//   - https://www.xfyun.cn/doc/spark/general_url_authentication.html
//     (WebSocket 协议通用鉴权 URL 生成说明, the URL signature)
//
// and as iFLYTEK's own SDKs speak it (github.com/iflytek/spark-ai-python,
// github.com/iflytek/spark-ai-go, github.com/iFLYTEK-OP/websdk-java).
// Spark's OpenAI-compatible HTTP API (spark-api-open.xf-yun.com, Bearer
// APIPassword) is another channel type (One API's 48, "XunfeiV2"), not
// this package.
//
// Transport. A call is a WebSocket: the adaptor implements
// adaptors.SocketDialer, whose SocketRequest returns the signed URL and
// the one request frame; the transport dials, sends the frame, and hands
// the answer's text frames back as one body of newline-terminated JSON
// frames — to NewStreamDecoder as they arrive for a stream, whole to
// ParseResponse otherwise. BuildRequest fails for chat with
// adaptors.ErrUnsupportedMode (there is no HTTP request to describe), and
// so does every other mode: embeddings over Xunfei (a separate API with
// its own signing) are out of scope, as are images and audio.
//
// Credentials. The channel key is APPID|APISecret|APIKey, One API's
// order (the three values of an application in iFLYTEK's console,
// separated by "|"). APPID goes in the request frame (header.app_id);
// APIKey and APISecret sign the URL.
//
// URL and signature. wss://spark-api.xf-yun.com{path} (DefaultBaseURL),
// path by model (models.go): Spark-Lite /v1.1/chat, Spark-Pro
// /v3.1/chat, Spark-Pro-128K /chat/pro-128k, Spark-Max /v3.5/chat,
// Spark-Max-32K /chat/max-32k, Spark-4.0-Ultra /v4.0/chat, Spark-X1
// /v1/x1. A channel's base_url replaces the host and is written
// ws://host:port or wss://host:port (http and https are read as ws and
// wss; a path is kept as a prefix of the model's path); the model's path
// is always the table's. The URL is signed with the host actually
// dialled, port included when there is one (the Host header of the
// upgrade carries it, and iFLYTEK's SDKs sign the URL's netloc):
//
//	date                 = RFC 1123 time in GMT (now, passed in)
//	signature_origin     = "host: {host}\ndate: {date}\nGET {path} HTTP/1.1"
//	signature            = base64(HMAC-SHA256(APISecret, signature_origin))
//	authorization_origin = api_key="{APIKey}", algorithm="hmac-sha256", headers="host date request-line", signature="{signature}"
//	authorization        = base64(authorization_origin)
//	URL                  = {scheme}://{host}{path}?authorization=…&date=…&host=… (URL-encoded)
//
// iFLYTEK's gateway recomputes the signature from the host and date
// parameters and the request line, and refuses a date more than 300 s off
// its clock (403). The tests check the signing against both worked
// examples of iFLYTEK's documents.
//
// Models. The table (models.go) holds One API's names, One API's older
// SparkDesk-vX names, Spark-X1, and the domains themselves (generalv3.5,
// 4.0Ultra, …), case-insensitively. A model outside the table is served
// when the channel config's "other" (One API's field for the Spark
// version) names the version: v1.1, v2.1, v3.1, v3.1-128K, v3.5,
// v3.5-32K, v4.0 or x1; else the request is refused (ErrInvalidBody).
//
// Request frame:
//
//	{"header":{"app_id":APPID,"uid":…},
//	 "parameter":{"chat":{"domain":…,"temperature":…,"max_tokens":…,"top_k":…}},
//	 "payload":{"message":{"text":[{"role":…,"content":…}]},"functions":{"text":[{"name","description","parameters"}]}}}
//
// uid is the OpenAI "user" (hashed to 32 hex digits when longer than
// uid's 32 characters), else "switchyard". temperature and
// max_completion_tokens (or max_tokens) are forwarded as given (Spark's
// own ranges apply: temperature (0,1] on the chat models, (0,2] on X1);
// top_k is forwarded when a client sends Spark's own member. X1 also
// takes top_p, presence_penalty and frequency_penalty. Spark has no stop
// sequences, seed, response_format or top_p on the chat models: they are
// dropped; n > 1 is refused. Messages: roles system, user and assistant
// only, and a system message only first — leading system and developer
// messages become one system message, later ones user messages, and
// Spark-Lite (which iFLYTEK's Java SDK marks as taking no system
// message) gets its system text as a user message. Content is text:
// strings, or text parts joined by newlines; images and other parts are
// refused (ErrInvalidBody), as Spark's chat models read text only.
//
// Function calls. OpenAI tools become payload.functions.text (name,
// description, parameters; {"type":"object","properties":{}} when a tool
// declares none). Spark has no tool_choice: "none" sends no functions,
// "auto" and "required" send them all, a named choice sends only that
// function. Spark-Lite takes no functions: a request with tools is
// refused rather than silently answered without them. Spark documents
// no way to send a function call or its result back: an assistant turn
// that called tools is sent as assistant text with one
// {"name":…,"arguments":…} line per call, and a tool result as a user
// message "Result of <function>: <content>" (consecutive results in one
// message).
//
// Answer frames:
//
//	{"header":{"code":0,"message":"Success","sid":…,"status":0|1|2},
//	 "payload":{"choices":{"status":…,"seq":…,"text":[{"content":…,"reasoning_content"?,"role":"assistant","index":0,"function_call"?:{"name","arguments"}}]},
//	            "usage":{"text":{"question_tokens","prompt_tokens","completion_tokens","total_tokens"}}}}
//
// header.status 2 marks the last frame, which carries the usage; nothing
// after it is read (io.EOF). A body that ends before it is truncated
// (io.ErrUnexpectedEOF). The stream decoder sends a chunk per text
// (content, X1's reasoning_content), the role in the first; a
// function_call (Spark sends it whole) becomes one tool_calls chunk with
// id, name and all the arguments — the id synthesized as
// call_{sid}_{n}, Spark's calls having none; the last frame gives the
// finish chunk (tool_calls after a function call, else stop: Spark
// reports no other ending) and the usage event, whose usage-only chunk
// the client sees only when it asked for include_usage. Usage:
// prompt_tokens (the whole prompt; question_tokens, the last question,
// is part of it) and completion_tokens; Spark reports no cached or
// reasoning counts. ParseResponse gathers the frames of a non-stream
// answer into one chat.completion the same way. The chunk and completion
// id is the sid; created is the request's time (frames carry none).
//
// Errors. A frame with header.code other than 0 is an error (it comes
// over a 101 connection, and is never an answer): a *schema.Error whose
// status follows the code (errors.go) — 400 for request and parameter
// errors (10003-10005, 10163, 10907) and content audit (10013, 10014,
// 10019, 10021, 10022, code content_filter); 403 for licence errors
// (10015, 10016, 11200 AppIdNoAuthError); 429 for flow control (10006,
// 10007, 11201, 11202 AppIdQpsOverFlowError, 11203); 503 for capacity
// (10008, 10110); 502 for the engine (10009-10012, 10222); 500 else —
// with Spark's message, code and sid. A refused upgrade goes to
// ParseError with its HTTP status: iFLYTEK's gateway answers 401
// {"message":"Unauthorized"} (no authorization), {"message":"HMAC
// signature cannot be verified"} (authorization unreadable, unknown
// APIKey), {"message":"HMAC signature does not match"} (wrong signature),
// and 403 {"message":"HMAC signature cannot be verified, a valid date or
// x-date header is required for HMAC Authentication"} (clock skew).
package xunfei
