package baidu

import (
	"fmt"
	"io"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/openai"
	"switchyard/adaptors/schema"
)

// V2ChannelType is One API's channel type number for Baidu Qianfan v2
// ("BaiduV2").
const V2ChannelType = 47

// V2DefaultBaseURL is Qianfan's origin; the v2 paths below it start with
// /v2. A channel's base_url replaces it (a trailing "/v2", as OpenAI SDK
// users write it, is dropped since the paths add it).
const V2DefaultBaseURL = "https://qianfan.baidubce.com"

// HeaderAppID is the header that names the Qianfan application a v2 call
// is made for (optional; Qianfan's common request headers,
// https://cloud.baidu.com/doc/qianfan-api/s/3m9b5lqft).
const HeaderAppID = "appid"

// V2 speaks Qianfan's OpenAI-compatible v2 API (One API channel type 47)
// by wrapping the OpenAI adaptor: chat completions, embeddings, rerank
// and image generation under /v2, with the API Key as a Bearer token. It
// is immutable and safe for concurrent use.
type V2 struct {
	inner adaptors.Adaptor
	typed adaptors.TypedResponseParser // inner's, nil if it had none
}

var (
	_ adaptors.Adaptor             = (*V2)(nil)
	_ adaptors.TypedResponseParser = (*V2)(nil)
)

// NewV2 returns the Qianfan v2 adaptor.
func NewV2() *V2 {
	v := &V2{inner: openai.New(openai.Config{
		Name:                  "baidu-v2",
		BaseURL:               V2DefaultBaseURL,
		ChatPath:              "/v2/chat/completions",
		EmbeddingsPath:        "/v2/embeddings",
		RerankPath:            "/v2/rerank",
		ImagesGenerationsPath: "/v2/images/generations",
	})}
	v.typed, _ = v.inner.(adaptors.TypedResponseParser)
	return v
}

// SplitV2Key splits a v2 channel key "API_KEY|APPID" (new-api's form)
// into the API Key and the application id; a key without "|" is the API
// Key alone. Qianfan API Keys ("bce-v3/ALTAK-…/…") never contain "|".
func SplitV2Key(key string) (apiKey, appID string) {
	apiKey, appID, _ = strings.Cut(strings.TrimSpace(key), "|")
	return strings.TrimSpace(apiKey), strings.TrimSpace(appID)
}

// BuildRequest implements adaptors.Adaptor: the OpenAI request, sent to
// {base}/v2/… with Authorization: Bearer <API Key>, and appid: <APPID>
// when the key names one.
func (v *V2) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	apiKey, appID := SplitV2Key(ch.Key)
	if apiKey == "" {
		return nil, fmt.Errorf("baidu-v2: the channel key must be the Qianfan API Key (optionally API_KEY|APPID)")
	}
	inner := *ch
	inner.Key = apiKey
	if b := strings.TrimRight(strings.TrimSpace(ch.BaseURL), "/"); b != "" {
		inner.BaseURL = strings.TrimSuffix(b, "/v2")
	}
	hr, err := v.inner.BuildRequest(&inner, req)
	if err != nil {
		return nil, err
	}
	if appID != "" {
		hr.Header = append(hr.Header, adaptors.Header{Key: HeaderAppID, Value: appID})
	}
	return hr, nil
}

// ParseResponse implements adaptors.Adaptor (OpenAI's conversion).
func (v *V2) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	return v.inner.ParseResponse(req, body)
}

// ParseTypedResponse implements adaptors.TypedResponseParser, as the
// OpenAI adaptor does.
func (v *V2) ParseTypedResponse(req *adaptors.Request, contentType string, body []byte) (*adaptors.Response, error) {
	if v.typed == nil {
		return v.inner.ParseResponse(req, body)
	}
	return v.typed.ParseTypedResponse(req, contentType, body)
}

// NewStreamDecoder implements adaptors.Adaptor (OpenAI's decoder:
// Qianfan v2 streams are OpenAI chunks ending with data: [DONE]).
func (v *V2) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	return v.inner.NewStreamDecoder(req, body)
}

// ParseError implements adaptors.Adaptor. Qianfan v2's errors are
// OpenAI's envelope, {"error":{"code","message","type"},"id"}, read by
// the OpenAI parser.
func (v *V2) ParseError(status int, body []byte) *schema.Error {
	return v.inner.ParseError(status, body)
}
