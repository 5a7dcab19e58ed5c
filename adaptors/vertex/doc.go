// Package vertex speaks Google Cloud's Vertex AI (One API channel type
// 42, "VertexAI") for Gemini models and for Anthropic's Claude models
// hosted there, in pure functions that do no I/O and hold no state.
//
// APIs pinned: Vertex AI v1 REST,
// projects.locations.publishers.models.{generateContent,
// streamGenerateContent, rawPredict, streamRawPredict, predict}
// (https://cloud.google.com/vertex-ai/docs/reference/rest; Claude:
// https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude;
// text embeddings:
// https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api):
//
//	POST {origin}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent
//	POST {origin}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:streamGenerateContent?alt=sse
//	POST {origin}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:predict
//	POST {origin}/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict
//	POST {origin}/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:streamRawPredict
//
// {origin} is https://{location}-aiplatform.googleapis.com
// (DefaultBaseURL), https://aiplatform.googleapis.com for the location
// "global", https://aiplatform.{us,eu}.rep.googleapis.com for the
// multi-regions "us" and "eu" (as Anthropic's SDKs map them), or the
// channel's base URL when set (a trailing "/v1" is dropped, as the path
// adds it; "{region}" in it becomes the location; DefaultBaseURL itself
// means Google's endpoint).
//
// # Authentication
//
// OAuth 2.0 access tokens from a service-account key
// (https://developers.google.com/identity/protocols/oauth2/service-account#httprest).
// The adaptor implements adaptors.TokenExchanger: TokenRequest signs a
// JWT with the key — header {"alg":"RS256","typ":"JWT","kid":
// private_key_id}, claims {"iss": client_email, "scope":
// "https://www.googleapis.com/auth/cloud-platform", "aud": token_uri,
// "exp": iat+3600, "iat": now}, RSASSA-PKCS1-v1_5 SHA-256 with the PEM
// private_key (PKCS #8, or PKCS #1) — and POSTs it form-encoded as
// grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>
// (RFC 7523) to the key's token_uri (https://oauth2.googleapis.com/token
// when absent, as Google's client libraries do). ParseToken reads
// {"access_token","expires_in","token_type"}; a refusal
// ({"error":"invalid_grant","error_description":"Invalid JWT
// Signature."}) is a *schema.Error carrying Google's words. The
// transport caches the token and hands it to BuildRequest in
// Channel.AccessToken, sent as "Authorization: Bearer <token>". The
// private key is parsed on each TokenRequest (about once an hour per
// channel): nothing is cached, the adaptor stays stateless.
// x-goog-user-project is not sent: it names a quota project for user
// credentials, and a service account's calls are billed to the project
// in the URL.
//
// Not supported: Vertex AI express mode API keys (?key=…), since a
// TokenExchanger is asked for a token on every channel of its type and
// the contract has no "no exchange needed" answer; and ADC files other
// than service-account keys (authorized_user, external_account).
// TokenRequest and BuildRequest report both with ErrNoCredentials.
//
// # Channel configuration
//
//   - key: the service-account JSON key; or Config["vertex_ai_adc"]
//     (One API's field) holds it and the key is anything else.
//   - Config["region"]: the location, DefaultRegion (us-central1) when
//     empty; "global", "us" and "eu" select those endpoints.
//   - Config["vertex_ai_project_id"] or Config["project_id"]: the project;
//     the key's project_id when both are empty.
//   - Config["model_regions"]: a JSON object of model names to locations,
//     for models served elsewhere than the channel's region (Claude
//     models are offered in a few regions only, such as us-east5 and
//     europe-west1, or on "global"; Gemini previews often on "global"
//     only). A model is found by the name sent upstream, else by its
//     Vertex AI id.
//   - Config["safety_settings"]: one Gemini safety threshold for every
//     harm category (gemini.ChannelBodyOptions).
//   - Config["max_tokens"]: Claude's max_tokens when the client sets
//     none (else the model's output limit).
//
// # Models
//
// A model whose name starts with "claude" is Anthropic's, anything else
// Google's. Claude names are turned into Vertex AI ids by ModelID: ids
// with "@" pass unchanged, the Claude API's names are mapped
// ("claude-sonnet-4-20250514" → "claude-sonnet-4@20250514",
// "claude-3-5-sonnet-20241022" → "claude-3-5-sonnet-v2@20241022",
// aliases such as "claude-sonnet-4-5" to their dated id), and undated
// ids ("claude-opus-4-6") are already Vertex AI's. Models lists the
// defaults; Vertex AI has no per-key model list and no balance.
//
// # Gemini models
//
// The body, the answer, the stream and the errors are the Gemini API's,
// converted by the gemini package (gemini.BuildBodyWith with the
// channel's safety settings, ParseGenerateResponse, NewSSEDecoder,
// ParseErrorBody) — see its documentation for the mapping (roles, tools,
// thought signatures, reasoning_effort, usage with cached and thought
// tokens, finish reasons). Vertex AI adds createTime and
// usageMetadata.trafficType, which change nothing. Streams have no
// terminator: the payload with finishReason is the last.
//
// Embeddings use predict: {"instances":[{"content":…}],"parameters":
// {"outputDimensionality":dimensions}} → OpenAI's list, with
// prompt_tokens the sum of predictions[].embeddings.statistics.token_count.
//
// # Claude models
//
// The body is the Messages body built by anthropic.BuildBody without
// "model" (it is in the URL) and with "anthropic_version":
// "vertex-2023-10-16"; "stream": true stays in a streamed body
// (streamRawPredict, no ?alt=sse), as Anthropic's own Vertex client
// sends it. The client's anthropic-beta header values are sent on as
// anthropic-beta. Answers and streams are the Claude API's Message and
// server-sent events, converted by anthropic.ParseMessage and the
// anthropic stream decoder (see that package for the mapping:
// max_tokens defaults, thinking, tool_use, usage with cache reads and
// writes, message_stop as the end of stream).
//
// # Errors
//
// ParseError is not told the model, so it reads the body's shape:
// Anthropic's {"type":"error","error":{"type","message"}} (errors
// Claude's serving relays) goes to anthropic.ParseErrorBody, anything
// else — Google's {"error":{"code","message","status","details"}}
// (authentication, permissions, quota, unknown models, Gemini's errors),
// HTML, text, nothing — to gemini.ParseErrorBody. A rejected or expired
// token is 401 UNAUTHENTICATED (authentication_error); a project without
// the permission or the API 403 PERMISSION_DENIED (permission_error); an
// unknown model or a model not offered in the location 404 NOT_FOUND;
// quota 429 RESOURCE_EXHAUSTED (rate_limit_error).
package vertex
