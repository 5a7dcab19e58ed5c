// Package bedrock is the adaptor for Amazon Bedrock Runtime (One API
// channel type 33, "AwsClaude"). It translates the gateway's OpenAI chat
// requests into Bedrock's, signs them, and converts Bedrock's answers,
// AWS event streams and errors back, without any I/O and without the AWS
// SDK (tests check the signer against it).
//
// # APIs
//
// Pinned to bedrock-runtime 2023-09-30
// (https://docs.aws.amazon.com/bedrock/latest/APIReference/), one
// endpoint per region, https://bedrock-runtime.{region}.amazonaws.com (a
// channel base URL replaces it and the request is signed for its host):
//
//   - Anthropic Claude models (ids containing "anthropic.claude", cross-
//     region inference profiles "us.", "eu.", "apac.", "global." included)
//     go to InvokeModel, POST /model/{modelId}/invoke, and
//     InvokeModelWithResponseStream, POST
//     /model/{modelId}/invoke-with-response-stream, with the Anthropic
//     Messages body built by package anthropic: anthropic_version
//     "bedrock-2023-05-31", no model and no stream member, the client's
//     anthropic-beta header as the anthropic_beta array. The answer is the
//     Messages API's Message; the stream's "chunk" events carry
//     {"bytes": base64 of one Messages stream event}.
//   - Every other model goes to Converse, POST /model/{modelId}/converse,
//     and ConverseStream, POST /model/{modelId}/converse-stream (see
//     converse.go for the mapping and converse_stream.go for the events).
//   - The model list (adaptors.ModelLister) is the control plane's
//     ListFoundationModels, GET
//     https://bedrock.{region}.amazonaws.com/foundation-models.
//
// The model id is sent as one path segment with every byte but RFC 3986
// unreserved ones percent-encoded, as the AWS SDK does ("…-v1:0" travels
// as "…-v1%3A0", an ARN's "/" as "%2F"). The transport must send the URL
// path exactly as given (no normalisation that decodes %3A or %2F):
// the signature covers it, and an ARN would not even route.
//
// Streams of both kinds use the AWS event-stream encoding
// (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html,
// https://smithy.io/2.0/aws/amazon-eventstream.html), decoded by
// eventstream.go with both CRCs checked; errors inside a stream are
// messages of type exception (or error) and become *schema.Error.
//
// # Authentication
//
// Either AWS Signature Version 4 (sigv4.go; service name "bedrock" for
// both the runtime and the control plane), or a Bedrock API key sent as
// "Authorization: Bearer <key>"
// (https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys-use.html).
// The channel gives, in order of precedence:
//
//   - Config["api_key"]: a Bedrock API key (bearer);
//   - Key "AK|SK|region" or "AK|SK|region|session_token": SigV4 (the
//     session token of temporary credentials goes in
//     X-Amz-Security-Token, signed);
//   - Config "ak"/"sk" (or "access_key"/"secret_key"), "region" and
//     optionally "session_token": SigV4;
//   - a Key without "|" on a channel with Config["region"] (or a base
//     URL): a Bedrock API key.
//
// Config["max_tokens"] is the max_tokens sent when the client sets none
// (Claude needs one; Converse models otherwise use their own default).
//
// Signatures carry their time and AWS refuses ones more than five minutes
// off, so the adaptor reads a clock (Options.Now, time.Now by default) —
// the one clock read of the package. The signature covers host,
// content-length, content-type and x-amz-date: the transport must send
// the body with a Content-Length header and must not change the
// Content-Type, and should send the request promptly.
//
// # Invariants
//
//   - Outputs are deterministic for a given input and clock. Converse
//     answers carry no id, so the completion id is derived from the
//     answer's bytes (for a stream, from its first message).
//   - Usage follows OpenAI's semantics: prompt_tokens = Bedrock's
//     inputTokens + cacheReadInputTokens + cacheWriteInputTokens (Bedrock,
//     like Anthropic, leaves cached tokens out of inputTokens);
//     CachedTokens = cache reads, CacheWriteTokens = cache writes.
//     Converse reports no reasoning token count.
//   - A stream ends with io.EOF only after its end event (Converse's
//     metadata, Claude's message_stop); nothing after it is read. An input
//     that ends earlier is io.ErrUnexpectedEOF; a frame that fails its CRC
//     or is not the documented shape wraps adaptors.ErrInvalidResponse.
package bedrock
