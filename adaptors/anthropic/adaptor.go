package anthropic

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is the Claude API's origin; paths below include /v1.
const DefaultBaseURL = "https://api.anthropic.com"

// DefaultVersion is the anthropic-version sent when neither the client
// nor the channel names one: the version every request shape in this
// package follows.
const DefaultVersion = "2023-06-01"

// Channel config keys the adaptor reads (all optional).
const (
	// ConfigVersion overrides DefaultVersion (a client's own
	// anthropic-version header still wins).
	ConfigVersion = "anthropic_version"
	// ConfigBeta is a comma-separated list of beta features sent in
	// anthropic-beta with every request, after the client's own.
	ConfigBeta = "anthropic_beta"
	// ConfigMaxTokens is max_tokens for requests that name none, in
	// place of the model's output limit.
	ConfigMaxTokens = "max_tokens"
)

// Adaptor speaks the Messages API to Anthropic (One API channel type
// 14). It holds no state and is safe for concurrent use. Besides
// adaptors.Adaptor it implements adaptors.ModelLister and
// adaptors.ImageInliner; Anthropic has no balance endpoint.
type Adaptor struct{}

// New returns the Anthropic adaptor.
func New() *Adaptor { return &Adaptor{} }

// BuildRequest implements adaptors.Adaptor: POST {base}/v1/messages with
// x-api-key, anthropic-version (the client's, else the channel's
// ConfigVersion, else DefaultVersion), anthropic-beta (the client's
// values, then the channel's ConfigBeta, comma-joined without
// duplicates) and the body BuildBody makes. Only chat is served.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	if req.Mode != adaptors.ModeChat {
		return nil, fmt.Errorf("anthropic: %s: %w", req.Mode, adaptors.ErrUnsupportedMode)
	}
	version := requestVersion(ch, req)
	body, err := BuildBody(req, BodyOptions{APIVersion: version, MaxTokens: configInt(ch.Config[ConfigMaxTokens])})
	if err != nil {
		return nil, err
	}
	h := make([]adaptors.Header, 0, 4)
	h = append(h,
		adaptors.Header{Key: "x-api-key", Value: ch.Key},
		adaptors.Header{Key: "anthropic-version", Value: version},
	)
	if beta := betas(ch, req); beta != "" {
		h = append(h, adaptors.Header{Key: "anthropic-beta", Value: beta})
	}
	h = append(h, adaptors.Header{Key: "content-type", Value: "application/json"})
	return &adaptors.HTTPRequest{Method: "POST", URL: baseURL(ch) + "/v1/messages", Header: h, Body: body}, nil
}

// baseURL is the channel's base URL without a trailing slash, or the
// default.
func baseURL(ch *adaptors.Channel) string {
	if ch.BaseURL != "" {
		return strings.TrimRight(ch.BaseURL, "/")
	}
	return DefaultBaseURL
}

// requestVersion picks the anthropic-version header.
func requestVersion(ch *adaptors.Channel, req *adaptors.Request) string {
	for _, h := range req.Passthrough {
		if strings.EqualFold(h.Key, "anthropic-version") && strings.TrimSpace(h.Value) != "" {
			return strings.TrimSpace(h.Value)
		}
	}
	if v := strings.TrimSpace(ch.Config[ConfigVersion]); v != "" {
		return v
	}
	return DefaultVersion
}

// betas joins the client's anthropic-beta values and the channel's.
func betas(ch *adaptors.Channel, req *adaptors.Request) string {
	var list []string
	add := func(v string) {
		for _, b := range strings.Split(v, ",") {
			b = strings.TrimSpace(b)
			if b == "" {
				continue
			}
			dup := false
			for _, have := range list {
				if have == b {
					dup = true
					break
				}
			}
			if !dup {
				list = append(list, b)
			}
		}
	}
	for _, h := range req.Passthrough {
		if strings.EqualFold(h.Key, "anthropic-beta") {
			add(h.Value)
		}
	}
	add(ch.Config[ConfigBeta])
	return strings.Join(list, ",")
}

// ParseResponse implements adaptors.Adaptor with ParseMessage.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	return ParseMessage(req, body)
}

// NewStreamDecoder implements adaptors.Adaptor: the Claude API's event
// stream converted by an EventDecoder.
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	return newStreamDecoder(req, body)
}

// ParseError implements adaptors.Adaptor with ParseErrorBody.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return ParseErrorBody(status, body)
}

// modelsLimit is the page size asked of GET /v1/models: its maximum, so
// one call lists every model an account has.
const modelsLimit = "1000"

// ModelsRequest implements adaptors.ModelLister: GET
// {base}/v1/models?limit=1000 with the same credentials as a message.
func (a *Adaptor) ModelsRequest(ch *adaptors.Channel) (*adaptors.HTTPRequest, error) {
	return &adaptors.HTTPRequest{
		Method: "GET",
		URL:    baseURL(ch) + "/v1/models?limit=" + modelsLimit,
		Header: []adaptors.Header{
			{Key: "x-api-key", Value: ch.Key},
			{Key: "anthropic-version", Value: requestVersion(ch, &adaptors.Request{})},
		},
	}, nil
}

// ParseModels implements adaptors.ModelLister: the ids of the list's
// data, newest first as Anthropic orders them.
func (a *Adaptor) ParseModels(body []byte) ([]string, error) {
	var w struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if !openaiwire.IsObject(body) {
		return nil, fmt.Errorf("anthropic: %w: model list is not a json object", adaptors.ErrInvalidResponse)
	}
	if err := openaiwire.API.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("anthropic: %w: model list: %v", adaptors.ErrInvalidResponse, err)
	}
	ids := make([]string, 0, len(w.Data))
	for _, m := range w.Data {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}

// InlinesImages implements adaptors.ImageInliner. The Messages API can
// fetch http(s) images itself (url sources), but only from hosts it can
// reach and within its own limits, and a URL that fails fails the whole
// request; inlined images behave the same on every host (Bedrock takes
// base64 only). So the transport is asked to inline every chat request
// with an http(s) image_url. The test is a cheap scan of the body: it
// may say true for a URL that is not an image (the transport then finds
// nothing to inline).
func (a *Adaptor) InlinesImages(ch *adaptors.Channel, req *adaptors.Request) bool {
	if req.Mode != adaptors.ModeChat || !bytes.Contains(req.Body, []byte(`"image_url"`)) {
		return false
	}
	return bytes.Contains(req.Body, []byte(`"https://`)) || bytes.Contains(req.Body, []byte(`"http://`)) ||
		bytes.Contains(req.Body, []byte(`"https:\/\/`)) || bytes.Contains(req.Body, []byte(`"http:\/\/`))
}
