// Package ollama is the adaptor for Ollama (One API channel type 30): a
// local or self-hosted Ollama server, or ollama.com's hosted API.
//
// API version: Ollama's REST API as documented in the ollama/ollama
// repository (docs/api.md, now docs/openapi.yaml and docs/api/*.mdx;
// https://github.com/ollama/ollama/blob/main/docs/api.md) and typed in
// its Go client (api/types.go): POST /api/chat, POST /api/embed, GET
// /api/tags. Default base URL http://localhost:11434.
//
// Auth: none by default (a local server needs none). When the channel has
// a key it is sent as `Authorization: Bearer <key>`, which ollama.com
// (base URL https://ollama.com) and authenticating reverse proxies want.
//
// Two APIs, chosen by the channel config key "api":
//
//   - "native" (default): the adaptor converts OpenAI chat and embeddings
//     requests to /api/chat and /api/embed and their answers back.
//   - "openai": Ollama's OpenAI-compatible API under /v1 (chat,
//     completions, embeddings, responses, image generations, models); the
//     adaptor delegates everything to the OpenAI adaptor. A base URL
//     ending in /v1 is accepted too.
//
// Adaptors do not see the channel when parsing, so answers are told apart
// by shape: an OpenAI answer names itself in "object", an OpenAI error
// has an object in "error", and an OpenAI stream starts with SSE framing
// where a native one starts with a JSON object.
//
// Native chat conversion (chat.go):
//
//   - Roles: system and developer → system; user; assistant; tool (and the
//     deprecated function role) → tool, with tool_name set to the name of
//     the call it answers (looked up by tool_call_id among the earlier
//     assistant tool calls) and tool_call_id kept. Content arrays are
//     flattened: text parts joined with newlines; image_url data: URLs
//     become base64 in the message's images (Ollama takes no image URLs:
//     the adaptor implements adaptors.ImageInliner so the transport
//     inlines http(s) images first, and refuses any left). Assistant
//     tool_calls get their arguments as a JSON object; reasoning_content
//     echoed by the client goes back as thinking.
//   - stream is always sent explicitly: Ollama streams unless told not to.
//   - Options: temperature, top_p, top_k, seed, presence_penalty,
//     frequency_penalty, stop (string or array), num_predict from
//     max_completion_tokens or max_tokens (absent: the model generates
//     until it stops).
//   - response_format json_object → format "json"; json_schema → format
//     is the schema.
//   - reasoning_effort → think: "none" is false; otherwise the level
//     ("low", "medium", "high") for GPT-OSS models, which take levels,
//     and true for the others, which answer 400 to a level.
//   - tool_choice: Ollama cannot force a call. "none" sends no tools, a
//     named function sends only that tool, "auto" and "required" send all.
//   - keep_alive comes from the channel config key "keep_alive".
//
// Answers: created_at gives "created" and a deterministic id
// ("chatcmpl-<created_at in Unix nanoseconds>"); the model is the one the
// client asked for; message.thinking → reasoning_content; tool calls keep
// Ollama's id when the server sent one (newer servers do), else
// "call_<index>", and their arguments object becomes a compact JSON
// string; finish_reason is tool_calls when tools were called, length for
// done_reason "length", else stop. Usage: prompt_tokens =
// prompt_eval_count, completion_tokens = eval_count (Ollama reports no
// cache or reasoning split).
//
// Streams (stream.go): newline-delimited JSON, one object per line, the
// last with "done": true carrying done_reason and the counts. Each line
// becomes chat.completion.chunk events; a tool call, which Ollama sends
// whole, becomes a header chunk (id, type, name) and an arguments chunk.
// The done line ends the stream (nothing after it is read); an
// {"error":…} line ends it with a *schema.Error; a body that ends before
// the done line is io.ErrUnexpectedEOF.
//
// Embeddings (embed.go): input a string or an array of strings (Ollama
// embeds no token arrays), dimensions passed on; answers become OpenAI's
// embeddings list, with the vectors as Ollama wrote them or, for
// encoding_format "base64", as little-endian float32 in base64; usage
// prompt_tokens = prompt_eval_count.
//
// Errors (errors.go): Ollama answers {"error":"message"} (404 `model "x"
// not found, try pulling it first`, 400, 401 "unauthorized" from
// ollama.com, 500…); the message is kept and the type follows OpenAI's
// for the status. No balance endpoint exists.
package ollama
