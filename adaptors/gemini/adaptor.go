package gemini

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is the Gemini API's origin. The API version (v1beta by
// default) and the method path are appended to it, so a channel's base URL
// is an origin too (a proxy's), without the version.
const DefaultBaseURL = "https://generativelanguage.googleapis.com"

// DefaultAPIVersion is the REST version the adaptor speaks unless the
// channel's Config["api_version"] names another. v1beta is the version
// Google's SDKs use and the only one with every field the adaptor sends
// (systemInstruction, tools, thinkingConfig, responseJsonSchema).
const DefaultAPIVersion = "v1beta"

// Channel config keys the adaptor reads.
const (
	// ConfigAPIVersion selects the REST version ("v1beta", "v1", "v1alpha").
	ConfigAPIVersion = "api_version"
	// ConfigSafetySettings is one HarmBlockThreshold ("BLOCK_NONE",
	// "OFF", …) applied to every harm category; empty leaves Google's
	// defaults. See BodyOptions.
	ConfigSafetySettings = "safety_settings"
)

// Models returns the default model list of a new Gemini channel: current
// models of the Gemini API (https://ai.google.dev/gemini-api/docs/models).
// The slice is new on every call.
func Models() []string {
	return []string{
		"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
		"gemini-3-pro-preview", "gemini-3-flash-preview",
		"gemini-2.0-flash", "gemini-2.0-flash-lite",
		"gemini-embedding-001",
	}
}

// Adaptor speaks Google's Gemini API (AI Studio keys, One API channel
// type 24). It holds no state and is safe for concurrent use. Besides
// adaptors.Adaptor it implements adaptors.ModelLister and
// adaptors.ImageInliner.
type Adaptor struct{}

// New returns the Gemini adaptor.
func New() *Adaptor { return &Adaptor{} }

var (
	_ adaptors.Adaptor      = (*Adaptor)(nil)
	_ adaptors.ModelLister  = (*Adaptor)(nil)
	_ adaptors.ImageInliner = (*Adaptor)(nil)
)

// BuildRequest implements adaptors.Adaptor: chat becomes
// POST {base}/{version}/models/{model}:generateContent (or
// :streamGenerateContent?alt=sse), embeddings
// POST …/models/{model}:batchEmbedContents, with the key in
// x-goog-api-key. Other modes fail with adaptors.ErrUnsupportedMode; an
// unusable client body with adaptors.ErrInvalidBody; a channel config the
// adaptor cannot honour (unknown api_version or safety threshold) with a
// plain error.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	var method string
	var body []byte
	var err error
	switch req.Mode {
	case adaptors.ModeChat:
		method = ":generateContent"
		if req.Stream {
			method = ":streamGenerateContent?alt=sse"
		}
		var opts BodyOptions
		if opts, err = ChannelBodyOptions(ch); err != nil {
			return nil, err
		}
		body, err = BuildBodyWith(req, opts)
	case adaptors.ModeEmbeddings:
		method = ":batchEmbedContents"
		body, err = BuildEmbedBody(req)
	default:
		return nil, fmt.Errorf("gemini: %s: %w", req.Mode, adaptors.ErrUnsupportedMode)
	}
	if err != nil {
		return nil, err
	}
	base, err := versionBase(ch)
	if err != nil {
		return nil, err
	}
	return &adaptors.HTTPRequest{
		Method: "POST",
		URL:    base + "/models/" + modelPath(req.Model) + method,
		Header: []adaptors.Header{
			{Key: "x-goog-api-key", Value: ch.Key},
			{Key: "Content-Type", Value: "application/json"},
		},
		Body: body,
	}, nil
}

// versionBase returns {base}/{version}: the channel's base URL (or
// DefaultBaseURL) without a trailing slash, then the API version unless
// the base already ends with it (a base URL copied with its version).
func versionBase(ch *adaptors.Channel) (string, error) {
	ver := ch.Config[ConfigAPIVersion]
	if ver == "" && validVersion(ch.Config["other"]) {
		ver = ch.Config["other"] // One API kept the version in the "other" field
	}
	if ver == "" {
		ver = DefaultAPIVersion
	}
	if !validVersion(ver) {
		return "", fmt.Errorf("gemini: channel config %s %q is not an API version (v1beta, v1, v1alpha)", ConfigAPIVersion, ver)
	}
	base := DefaultBaseURL
	if ch.BaseURL != "" {
		base = strings.TrimRight(ch.BaseURL, "/")
	}
	if strings.HasSuffix(base, "/"+ver) {
		return base, nil
	}
	return base + "/" + ver, nil
}

// validVersion accepts Google's version segments: v<digits> with an
// optional alpha/beta suffix (v1, v1beta, v1alpha, v2beta3).
func validVersion(v string) bool {
	rest, ok := strings.CutPrefix(v, "v")
	if !ok || rest == "" || rest[0] < '0' || rest[0] > '9' {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// modelPath is the {model} path segment: the name without a "models/"
// prefix (some operators copy Google's resource names), escaped.
func modelPath(model string) string {
	return url.PathEscape(strings.TrimPrefix(model, "models/"))
}

// ParseResponse implements adaptors.Adaptor: generateContent answers go
// through ParseGenerateResponse, batchEmbedContents answers through
// ParseEmbedResponse.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if req.Mode == adaptors.ModeEmbeddings {
		return ParseEmbedResponse(req, body)
	}
	return ParseGenerateResponse(req, body)
}

// NewStreamDecoder implements adaptors.Adaptor (see NewSSEDecoder).
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	return NewSSEDecoder(req, body)
}

// ParseError implements adaptors.Adaptor (see ParseErrorBody).
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return ParseErrorBody(status, body)
}

// InlinesImages implements adaptors.ImageInliner. Gemini reads images
// only inline (inlineData) or from Google's Files API and Cloud Storage
// (fileData), so the transport should download the http(s) images of a
// chat request. The check is a cheap byte scan: an "image_url" member and
// an http(s) URL somewhere in the body; a false positive costs the
// transport one parse.
func (a *Adaptor) InlinesImages(ch *adaptors.Channel, req *adaptors.Request) bool {
	if req.Mode != adaptors.ModeChat || !bytes.Contains(req.Body, []byte(`"image_url"`)) {
		return false
	}
	return bytes.Contains(req.Body, []byte(`"https://`)) || bytes.Contains(req.Body, []byte(`"http://`))
}

// ModelsRequest implements adaptors.ModelLister: one page of up to 1000
// models (the API's maximum page size, far above the number of models).
func (a *Adaptor) ModelsRequest(ch *adaptors.Channel) (*adaptors.HTTPRequest, error) {
	base, err := versionBase(ch)
	if err != nil {
		return nil, err
	}
	return &adaptors.HTTPRequest{
		Method: "GET",
		URL:    base + "/models?pageSize=1000",
		Header: []adaptors.Header{{Key: "x-goog-api-key", Value: ch.Key}},
	}, nil
}

// modelList is ListModelsResponse, as far as the gateway needs it.
type modelList struct {
	Models []struct {
		Name string `json:"name"`
	} `json:"models"`
}

// ParseModels implements adaptors.ModelLister: the models' names without
// their "models/" prefix, in Google's order.
func (a *Adaptor) ParseModels(body []byte) ([]string, error) {
	var l modelList
	if !isObject(body) || decodeWire(body, &l) != nil {
		return nil, fmt.Errorf("gemini: %w: model list is not a ListModelsResponse", adaptors.ErrInvalidResponse)
	}
	out := make([]string, 0, len(l.Models))
	for _, m := range l.Models {
		if name := strings.TrimPrefix(m.Name, "models/"); name != "" {
			out = append(out, strings.Clone(name))
		}
	}
	return out, nil
}
