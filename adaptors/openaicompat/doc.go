// Package openaicompat lists the upstreams that speak OpenAI's dialect
// (same JSON, same SSE framing, `Authorization: Bearer <key>`) as rows of
// one table. A row is data, not code: its base URL, paths and quirk flags
// parameterise the openai adaptor (openai.Config), so a vendor's
// behaviour is read in one place and no logic is copied. The deviations
// openai.Config has no flag for are repaired by one wrapper (quirks.go),
// switched on per row: Moonshot's usage inside the finishing choice,
// Gemini's cumulative usage and index-less tool calls, Spark's in-band
// error codes and missing finish reasons, MiniMax's base_resp statuses,
// and the missing usage-only chunk of rows that get usage unasked.
//
// Channel type numbers are One API's (relay/channeltype/define.go), so a
// One API database imports without a translation table. Perplexity has no
// One API number; it is given 100, the first of the range Switchyard
// reserves for types One API does not define.
//
// Per-vendor API versions, auth and quirks (the docs link of each row is
// in Vendor.Docs):
//
//   - 360 AI (19): https://api.360.cn (the host of 360's API docs; One
//     API's default was https://ai.360.cn), OpenAI paths under /v1: chat,
//     embeddings, model list.
//   - StepFun (32): https://api.stepfun.com, /v1/chat/completions, images
//     at /v1/images/generations and /v1/images/edits, model list, balance
//     from GET /v1/accounts ("balance", CNY; api.stepfun.ai accounts are
//     international).
//   - Novita (41): https://api.novita.ai/openai with /v1/chat/completions,
//     /v1/completions, /v1/embeddings, /v1/rerank, /v1/models (Novita's
//     current documented base). One API's default was the older
//     https://api.novita.ai/v3/openai with paths without /v1: a channel
//     imported with that base URL set explicitly must be changed.
//   - Xunfei Spark HTTP (48): https://spark-api-open.xf-yun.com,
//     /v1/chat/completions, Bearer APIPassword. Answers carry code,
//     message and sid; a nonzero code (also with HTTP 200, also in a
//     stream chunk) is an error mapped to an HTTP status by Spark's error
//     table. Answers and streams carry no finish_reason (added: "stop", or
//     "tool_calls" after a tool call), stream usage rides on the last
//     choice chunk (the usage-only chunk is added for clients that ask),
//     streams are framed `data:` without a space; tool calls may arrive
//     as one object instead of an array (normalised).
//   - OpenAICompatible (50): the operator's base URL; One API's type 50
//     appends the OpenAI paths without /v1 (/chat/completions,
//     /embeddings, /models, …), so the base usually ends in /v1.
//   - GeminiOpenAICompatible (51):
//     https://generativelanguage.googleapis.com/v1beta/openai with
//     /chat/completions, /embeddings, /models; Bearer API key. Stream usage
//     is cumulative on every chunk (the last is final, and there is no
//     usage-only chunk: one is added for clients that ask); completion_tokens
//     leaves out the thinking tokens that total_tokens counts, so the gap is
//     added to completion_tokens and reported as reasoning tokens (billing
//     only: the client body is relayed as sent); streamed tool calls come
//     without index (numbered here) and may end with finish_reason "stop"
//     (turned into "tool_calls"); error bodies are arrays of Google error
//     envelopes, and an invalid key is 400 with reason API_KEY_INVALID
//     (typed authentication_error / invalid_api_key).
//   - DeepSeek (36): https://api.deepseek.com, /v1/chat/completions;
//     reasoning_content in deltas; cached prompt tokens also as
//     prompt_cache_hit_tokens; model list at /models; balance at
//     /user/balance (CNY or USD).
//   - Moonshot (25): https://api.moonshot.cn (international:
//     https://api.moonshot.ai, set as the channel's base URL), OpenAI paths
//     under /v1. Stream usage arrives in the finishing choice
//     (choices[0].usage), with cached prompt tokens as usage.cached_tokens;
//     balance from GET /v1/users/me/balance (data.available_balance, CNY).
//   - Groq (29): https://api.groq.com/openai (the /openai prefix is part of
//     the base); stream usage historically in x_groq.usage.
//   - Together (39): https://api.together.xyz; GET /v1/models answers a
//     bare JSON array.
//   - Mistral (28): https://api.mistral.ai; rejects stream_options with
//     422 extra_forbidden and reports stream usage unasked on the finish
//     chunk, so the field is never sent and the usage-only chunk is added
//     for clients that ask.
//   - xAI (45): https://api.x.ai.
//   - OpenRouter (20): https://openrouter.ai/api; optional attribution
//     headers HTTP-Referer and X-Title from the channel config keys
//     "http_referer" and "x_title"; mid-stream errors carry a numeric HTTP
//     code; balance from /v1/credits.
//   - SiliconFlow (44): https://api.siliconflow.cn; embeddings, images at
//     /v1/images/generations, rerank at /v1/rerank (Cohere-shaped answer,
//     tokens in meta); balance from /v1/user/info (data.totalBalance, CNY).
//   - LingYiWanWu / 01.AI (31): https://api.lingyiwanwu.com.
//   - Baichuan (26): https://api.baichuan-ai.com.
//   - MiniMax (27): https://api.minimaxi.com (MiniMax's current host; One
//     API's was api.minimax.chat, the international one is
//     api.minimax.io, set per channel), chat at /v1/text/chatcompletion_v2.
//     Errors arrive inside 2xx bodies as base_resp.status_code != 0, also
//     for a bad key (1004, 2049): mapped to HTTP statuses by MiniMax's
//     error table. The stream sends no [DONE]: its usage-only chunk, which
//     carries base_resp, is the last and ends the stream.
//   - Doubao / Volcengine Ark (40): https://ark.cn-beijing.volces.com, chat
//     at /api/v3/chat/completions, bot applications ("bot-…" models) at
//     /api/v3/bots/chat/completions, embeddings at /api/v3/embeddings,
//     Seedream images at /api/v3/images/generations.
//   - Perplexity (100): https://api.perplexity.ai, chat at
//     /chat/completions (no /v1); usage is sent in the stream unasked, so
//     stream_options is not sent (and the usage-only chunk is added).
//   - Custom (8): any OpenAI-compatible endpoint; the channel must set the
//     base URL; the client's OpenAI path is used under it; One API queries
//     the OpenAI billing dashboard for its balance.
//
// The mock upstream of every row, for tests, is package compattest.
package openaicompat
