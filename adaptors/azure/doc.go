// Package azure is the adaptor for Azure OpenAI (One API channel type 3).
// Azure speaks OpenAI's wire format with another URL layout and another
// auth header, so the package wraps the openai adaptor: request bodies,
// answers, stream decoding and error parsing are OpenAI's (see package
// openai), and this package only places the request (endpoint,
// deployment, api-version, api-key) and chooses whether to ask for stream
// usage. It has no stream.go of its own: the OpenAI decoder is used as is.
//
// API version: the dated data-plane inference API, api-version
// DefaultAPIVersion (2024-10-21, the latest GA) unless the channel config
// "api_version" names another (One API kept it in the channel's "other"
// field), and the v1 API when "api_version" is "v1" (GA, no api-version
// parameter) or "preview" (?api-version=preview).
// Docs: https://learn.microsoft.com/azure/ai-foundry/openai/reference,
// https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle,
// spec: github.com/Azure/azure-rest-api-specs,
// specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/2024-10-21.
//
// URLs: the channel base URL is the resource endpoint
// (https://{resource}.openai.azure.com) and is required: Azure has no
// default (adaptors.ErrNoBaseURL otherwise).
//
//	dated: {base}/openai/deployments/{deployment}/{chat/completions|completions|embeddings|
//	       images/generations|audio/speech|audio/transcriptions|audio/translations}?api-version={v}
//	v1:    {base}/openai/v1/{chat/completions|embeddings|responses}[?api-version=preview]
//
// The deployment is looked up in the channel config "deployments", a list
// "model=deployment,model2=deployment2" (a plain list rather than JSON, so
// that it is easy to type into a channel form); a model it does not list
// is its own deployment with the dots removed (gpt-3.5-turbo →
// gpt-35-turbo, One API's convention). The v1 API routes by the body's
// "model", which is set to the deployment; the dated API ignores the
// body's model, which is forwarded as the client sent it (channel model
// mapping aside). Other modes fail with adaptors.ErrUnsupportedMode.
//
// Auth: `api-key: <key>` (Azure's key header; not Bearer), for both APIs.
//
// Quirks:
//
//   - Stream usage. stream_options.include_usage exists from api-version
//     2024-09-01-preview on (dated versions are compared on their date
//     prefix, so 2024-10-21 and 2025-04-01-preview qualify and
//     2024-08-01-preview and 2024-06-01 do not) and on the v1 API. On
//     those the gateway asks for usage as for OpenAI; on older versions,
//     which answer 400 "Unrecognized request argument supplied:
//     stream_options", the field is removed and the gateway estimates the
//     stream's usage.
//   - Content filtering. Streams start with a chunk whose choices are
//     empty and which carries prompt_filter_results; the OpenAI decoder
//     drops it (clients indexing choices[0] would crash on it). Choices
//     and answers carry content_filter_results, relayed untouched; a
//     filtered completion ends with finish_reason "content_filter". A
//     filtered prompt is a 400 whose error code is "content_filter" with
//     an innererror (ResponsibleAIPolicyViolation).
//   - Errors. Azure's envelope is OpenAI's without a type
//     ({"error":{"code":"DeploymentNotFound","message":…}}); the message
//     and code are kept and the type is derived from the status
//     (invalid_request_error, authentication_error, permission_error,
//     rate_limit_error, server_error).
//   - Answers are relayed untouched: "model" is the underlying model
//     Azure reports (e.g. gpt-4o-2024-08-06), as for OpenAI.
//
// Not implemented: ModelLister. Azure's GET /openai/models lists the base
// models a resource may deploy, not its deployments, and requests route
// by deployment, so its ids would not be callable names; the deployment
// list belongs to the management (ARM) API, which a data-plane key cannot
// call. No balance endpoint exists.
package azure
