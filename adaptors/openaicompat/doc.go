// Package openaicompat lists the upstreams that speak OpenAI's dialect
// (same JSON, same SSE framing, `Authorization: Bearer <key>`) as rows of
// one table. A row is data, not code: its base URL, paths and quirk flags
// parameterise the openai adaptor (openai.Config), so a vendor's
// behaviour is read in one place and no logic is copied.
//
// Channel type numbers are One API's (relay/channeltype/define.go), so a
// One API database imports without a translation table. Perplexity has no
// One API number; it is given 100, the first of the range Switchyard
// reserves for types One API does not define.
//
// Per-vendor API versions, auth and quirks (the docs link of each row is
// in Vendor.Docs):
//
//   - DeepSeek (36): https://api.deepseek.com, /v1/chat/completions;
//     reasoning_content in deltas; cached prompt tokens also as
//     prompt_cache_hit_tokens; model list at /models; balance at
//     /user/balance (CNY or USD).
//   - Moonshot (25): https://api.moonshot.cn, OpenAI paths under /v1.
//   - Groq (29): https://api.groq.com/openai (the /openai prefix is part of
//     the base); stream usage historically in x_groq.usage.
//   - Together (39): https://api.together.xyz; GET /v1/models answers a
//     bare JSON array.
//   - Mistral (28): https://api.mistral.ai; rejects stream_options with
//     422 extra_forbidden and reports stream usage unasked, so the field is
//     never sent.
//   - xAI (45): https://api.x.ai.
//   - OpenRouter (20): https://openrouter.ai/api; optional attribution
//     headers HTTP-Referer and X-Title from the channel config keys
//     "http_referer" and "x_title"; mid-stream errors carry a numeric HTTP
//     code; balance from /v1/credits.
//   - SiliconFlow (44): https://api.siliconflow.cn; balance from
//     /v1/user/info (data.totalBalance, CNY).
//   - LingYiWanWu / 01.AI (31): https://api.lingyiwanwu.com.
//   - Baichuan (26): https://api.baichuan-ai.com.
//   - MiniMax (27): https://api.minimax.chat, chat at
//     /v1/text/chatcompletion_v2 (One API's default host; MiniMax also
//     serves api.minimaxi.com and api.minimax.io, set per channel);
//     errors arrive inside 2xx bodies as base_resp.status_code != 0.
//   - Doubao / Volcengine Ark (40): https://ark.cn-beijing.volces.com, chat
//     at /api/v3/chat/completions, bot applications ("bot-…" models) at
//     /api/v3/bots/chat/completions, embeddings at /api/v3/embeddings.
//   - Perplexity (100): https://api.perplexity.ai, chat at
//     /chat/completions (no /v1); usage is sent in the stream unasked, so
//     stream_options is not sent.
//   - Custom (8): any OpenAI-compatible endpoint; the channel must set the
//     base URL; the client's OpenAI path is used under it; One API queries
//     the OpenAI billing dashboard for its balance.
package openaicompat
