// Package cloudflare is the adaptor for Cloudflare Workers AI (One API
// channel type 37) through its OpenAI-compatible endpoints. Requests,
// answers and streams are OpenAI's, so the package wraps the openai
// adaptor: it places the request (account, AI Gateway) and reads
// Cloudflare's own error envelope. It has no stream.go: the OpenAI
// decoder is used as is.
//
// API version: Workers AI's OpenAI-compatible API, /ai/v1 (chat
// completions, embeddings, Responses API), and the model catalogue of the
// Cloudflare API v4. Docs:
// https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/,
// https://developers.cloudflare.com/ai-gateway/providers/workersai/,
// https://developers.cloudflare.com/workers-ai/platform/errors/,
// https://developers.cloudflare.com/api/resources/ai/subresources/models/methods/list/.
//
// URLs: the default base URL is DefaultBaseURL and the account id comes
// from the channel config "account_id" (or "user_id", where One API kept
// it); a channel without one fails with ErrNoAccountID.
//
//	{base}/client/v4/accounts/{account_id}/ai/v1/{chat/completions|embeddings|responses}
//
// When the base URL is an AI Gateway URL
// (https://gateway.ai.cloudflare.com/v1/{account_id}/{gateway_id}, with
// or without a trailing /workers-ai or /workers-ai/v1), the gateway's
// Workers AI provider path is used and no account id is needed:
//
//	{gateway}/workers-ai/v1/{chat/completions|embeddings|responses}
//
// Other modes fail with adaptors.ErrUnsupportedMode. Model names
// (@cf/meta/llama-3.1-8b-instruct, …) pass through in the body.
//
// Auth: `Authorization: Bearer <API token>` (a token with Workers AI
// permissions), also on AI Gateway, which forwards it to Workers AI.
//
// Quirks:
//
//   - Usage. The chat completions input schema of Workers AI models
//     accepts stream_options.include_usage and its output carries OpenAI's
//     usage object (prompt_tokens_details.cached_tokens,
//     completion_tokens_details.reasoning_tokens), so the gateway asks for
//     stream usage as for OpenAI.
//   - Errors. Failures come in Cloudflare's v4 envelope,
//     {"success":false,"errors":[{"code":10000,"message":"Authentication
//     error"}],"messages":[],"result":null}, with Workers AI's own codes
//     (5007 no such model, 3036 daily free allocation used up, 3040 out of
//     capacity, …). The messages (and any error_chain) become the client's
//     message, the first code its code, and the type follows the status
//     (invalid_request_error, authentication_error, permission_error,
//     rate_limit_error, server_error). OpenAI-shaped error bodies are read
//     by the OpenAI parser. A 2xx body holding a failed envelope is an
//     error, not an answer.
//   - Model list: GET {api}/client/v4/accounts/{account_id}/ai/models/search
//     ?task=Text+Generation&per_page=100, names from result[].name
//     (ModelLister). The catalogue lives on the Cloudflare API, so AI
//     Gateway channels ask api.cloudflare.com, with the account id of the
//     gateway URL when the config has none.
//
// No balance endpoint exists.
package cloudflare
