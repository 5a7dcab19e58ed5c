package vertex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/anthropic"
	"switchyard/adaptors/gemini"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is Vertex AI's regional endpoint; {region} stands for
// the request's location (the channel's region, or the model's entry in
// model_regions). The location "global" is served by
// https://aiplatform.googleapis.com, and the multi-regions "us" and "eu"
// by https://aiplatform.{us,eu}.rep.googleapis.com. A channel's base_url
// replaces the whole origin (a proxy, a Private Service Connect
// endpoint; "{region}" in it is replaced by the location, and
// DefaultBaseURL itself means Google's endpoint); the path below it is
// the same.
const DefaultBaseURL = "https://{region}-aiplatform.googleapis.com"

// DefaultRegion is the location used when the channel names none.
const DefaultRegion = "us-central1"

// Channel config keys the adaptor reads (all optional).
const (
	// ConfigRegion is the Vertex AI location ("us-central1",
	// "europe-west1", "global", …); DefaultRegion when empty.
	ConfigRegion = "region"
	// ConfigProjectID and ConfigProjectIDAlt name the Google Cloud
	// project; the service account's own project_id when both are empty.
	ConfigProjectID    = "vertex_ai_project_id"
	ConfigProjectIDAlt = "project_id"
	// ConfigADC holds the service-account JSON when the channel key does
	// not (One API's "vertex_ai_adc").
	ConfigADC = "vertex_ai_adc"
	// ConfigModelRegions is a JSON object mapping model names to
	// locations, for models served elsewhere than the channel's region
	// ({"claude-sonnet-4-5-20250929":"us-east5","gemini-3-pro-preview":
	// "global"}). A model is looked up by the name the request sends
	// upstream, then by its Vertex AI id (ModelID).
	ConfigModelRegions = "model_regions"
	// ConfigMaxTokens is Claude's max_tokens for requests that name none
	// (see anthropic.BodyOptions.MaxTokens).
	ConfigMaxTokens = "max_tokens"
	// ConfigSafetySettings is the Gemini safety threshold (see
	// gemini.ConfigSafetySettings).
	ConfigSafetySettings = gemini.ConfigSafetySettings
)

// Adaptor speaks to Vertex AI (One API channel type 42): Gemini models
// through generateContent, Claude models through rawPredict, text
// embeddings through predict. It holds no state and is safe for
// concurrent use. Besides adaptors.Adaptor it implements
// adaptors.TokenExchanger and adaptors.ImageInliner; Vertex AI has no
// balance endpoint and no per-key model list.
type Adaptor struct{}

// New returns the Vertex AI adaptor.
func New() *Adaptor { return &Adaptor{} }

var (
	_ adaptors.Adaptor        = (*Adaptor)(nil)
	_ adaptors.TokenExchanger = (*Adaptor)(nil)
	_ adaptors.ImageInliner   = (*Adaptor)(nil)
)

// Models returns the default model list of a new Vertex AI channel:
// Claude models under the names the Claude API uses (ModelID turns them
// into Vertex AI ids), newest first, then Gemini models and text
// embedding models (https://cloud.google.com/vertex-ai/generative-ai/docs/models).
// The slice is new on every call.
func Models() []string {
	out := make([]string, 0, len(claudeIDs)+10)
	for _, m := range claudeIDs {
		if m.listed {
			out = append(out, m.name)
		}
	}
	return append(out,
		"gemini-3-pro-preview", "gemini-3-flash-preview",
		"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
		"gemini-2.0-flash", "gemini-2.0-flash-lite",
		"gemini-embedding-001", "text-embedding-005", "text-multilingual-embedding-002",
	)
}

// BuildRequest implements adaptors.Adaptor:
//
//	POST {origin}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}
//
// with Authorization: Bearer <ch.AccessToken>. Chat with a Claude model
// (a name starting with "claude") goes to publisher anthropic, method
// rawPredict or streamRawPredict, with the Messages body; chat with any
// other model to publisher google, method generateContent or
// streamGenerateContent?alt=sse, with the Gemini body; embeddings to
// publisher google, method predict. Other modes, and embeddings of a
// Claude model, fail with adaptors.ErrUnsupportedMode; an unusable client
// body with adaptors.ErrInvalidBody; a channel whose project, region or
// model_regions cannot be used, or a missing access token, with a plain
// error.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	model := strings.TrimPrefix(req.Model, "models/")
	claude := isClaude(model)
	var publisher, method string
	var body []byte
	var err error
	switch {
	case req.Mode == adaptors.ModeChat && claude:
		model, publisher, method = ModelID(model), "anthropic", "rawPredict"
		if req.Stream {
			method = "streamRawPredict"
		}
		body, err = claudeBody(ch, req)
	case req.Mode == adaptors.ModeChat:
		publisher, method = "google", "generateContent"
		if req.Stream {
			method = "streamGenerateContent?alt=sse"
		}
		var opts gemini.BodyOptions
		if opts, err = gemini.ChannelBodyOptions(ch); err != nil {
			return nil, fmt.Errorf("vertex: %w", err)
		}
		body, err = gemini.BuildBodyWith(req, opts)
	case req.Mode == adaptors.ModeEmbeddings && !claude:
		publisher, method = "google", "predict"
		body, err = buildPredictBody(req)
	default:
		return nil, fmt.Errorf("vertex: %s with model %q: %w", req.Mode, req.Model, adaptors.ErrUnsupportedMode)
	}
	if err != nil {
		return nil, err
	}
	if model == "" {
		return nil, fmt.Errorf("vertex: %w: no model", adaptors.ErrInvalidBody)
	}
	if ch.AccessToken == "" {
		return nil, fmt.Errorf("vertex: no access token for the channel (the transport exchanges the service account key first: adaptors.TokenExchanger)")
	}
	ep, err := resolveEndpoint(ch, req.Model, model)
	if err != nil {
		return nil, err
	}
	var u strings.Builder
	u.Grow(len(ep.origin) + len(ep.project) + len(ep.location) + len(model) + 80)
	u.WriteString(ep.origin)
	u.WriteString("/v1/projects/")
	u.WriteString(url.PathEscape(ep.project))
	u.WriteString("/locations/")
	u.WriteString(ep.location)
	u.WriteString("/publishers/")
	u.WriteString(publisher)
	u.WriteString("/models/")
	u.WriteString(url.PathEscape(model))
	u.WriteByte(':')
	u.WriteString(method)

	h := make([]adaptors.Header, 0, 3)
	h = append(h,
		adaptors.Header{Key: "Authorization", Value: "Bearer " + ch.AccessToken},
		adaptors.Header{Key: "Content-Type", Value: "application/json"},
	)
	if claude {
		if beta := betas(req); beta != "" {
			h = append(h, adaptors.Header{Key: "anthropic-beta", Value: beta})
		}
	}
	return &adaptors.HTTPRequest{Method: http.MethodPost, URL: u.String(), Header: h, Body: body}, nil
}

// isClaude reports whether a model is one of Anthropic's, which Vertex
// AI serves under publishers/anthropic with the Messages body.
func isClaude(model string) bool {
	return len(model) >= 6 && strings.EqualFold(model[:6], "claude")
}

// endpoint is where a request goes.
type endpoint struct {
	origin   string // scheme and host (and a proxy's path prefix), no trailing slash
	project  string
	location string
}

// resolveEndpoint chooses the location (model_regions, else the
// channel's region, else DefaultRegion), the project (config, else the
// service account's project_id) and the origin (the channel's base URL,
// else the location's Google endpoint).
func resolveEndpoint(ch *adaptors.Channel, name, id string) (endpoint, error) {
	loc, err := location(ch, name, id)
	if err != nil {
		return endpoint{}, err
	}
	project, err := projectID(ch)
	if err != nil {
		return endpoint{}, err
	}
	ep := endpoint{project: project, location: loc}
	base := strings.TrimRight(strings.TrimSpace(ch.BaseURL), "/")
	if base == DefaultBaseURL {
		base = "" // the template itself: Google's endpoint for the location
	}
	if base != "" {
		base = strings.ReplaceAll(base, "{region}", loc)
		u, err := url.Parse(base)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return endpoint{}, fmt.Errorf("vertex: base url %q is not an http(s) URL", ch.BaseURL)
		}
		ep.origin = strings.TrimSuffix(base, "/v1")
		return ep, nil
	}
	switch loc {
	case "global":
		ep.origin = "https://aiplatform.googleapis.com"
	case "us", "eu":
		ep.origin = "https://aiplatform." + loc + ".rep.googleapis.com"
	default:
		ep.origin = "https://" + loc + "-aiplatform.googleapis.com"
	}
	return ep, nil
}

// location returns the request's Vertex AI location.
func location(ch *adaptors.Channel, name, id string) (string, error) {
	loc := strings.TrimSpace(ch.Config[ConfigRegion])
	if raw := strings.TrimSpace(ch.Config[ConfigModelRegions]); raw != "" {
		var m map[string]string
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return "", fmt.Errorf("vertex: channel config %s is not a JSON object of model names to regions: %v", ConfigModelRegions, err)
		}
		if r, ok := m[name]; ok && strings.TrimSpace(r) != "" {
			loc = strings.TrimSpace(r)
		} else if r, ok := m[id]; ok && strings.TrimSpace(r) != "" {
			loc = strings.TrimSpace(r)
		}
	}
	if loc == "" {
		loc = DefaultRegion
	}
	if !validLocation(loc) {
		return "", fmt.Errorf("vertex: region %q is not a Vertex AI location name", loc)
	}
	return loc, nil
}

// validLocation accepts location names as Google spells them: lower-case
// letters, digits and hyphens ("us-central1", "global", "us"), which is
// also what may safely become part of a host name.
func validLocation(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// projectID returns the channel's project: config, else the service
// account's project_id.
func projectID(ch *adaptors.Channel) (string, error) {
	p := strings.TrimSpace(ch.Config[ConfigProjectID])
	if p == "" {
		p = strings.TrimSpace(ch.Config[ConfigProjectIDAlt])
	}
	if p == "" {
		// Only project_id is read: a full parse (the PEM key) on every
		// request would cost more than the rest of the build.
		raw := credentialsJSON(ch)
		if raw == "" {
			return "", fmt.Errorf("vertex: no project: set config %s, or put the service account JSON key in the channel: %w", ConfigProjectID, ErrNoCredentials)
		}
		var sa struct {
			ProjectID string `json:"project_id"`
		}
		if err := openaiwire.API.UnmarshalFromString(raw, &sa); err != nil {
			return "", fmt.Errorf("vertex: no project: the key is not a service account JSON: %w", ErrNoCredentials)
		}
		p = strings.TrimSpace(sa.ProjectID)
	}
	if p == "" {
		return "", fmt.Errorf("vertex: no project: set config %s", ConfigProjectID)
	}
	if strings.ContainsAny(p, "/?#") {
		return "", fmt.Errorf("vertex: project %q is not a project id", p)
	}
	return p, nil
}

// ParseResponse implements adaptors.Adaptor: a Claude model's Message
// through anthropic.ParseMessage, a Gemini model's
// GenerateContentResponse through gemini.ParseGenerateResponse, an
// embeddings answer through parsePredict.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	switch {
	case req.Mode == adaptors.ModeEmbeddings:
		return parsePredict(req, body)
	case isClaude(strings.TrimPrefix(req.Model, "models/")):
		return anthropic.ParseMessage(req, body)
	default:
		return gemini.ParseGenerateResponse(req, body)
	}
}

// NewStreamDecoder implements adaptors.Adaptor: streamRawPredict answers
// with the Claude API's own server-sent events, converted by the
// anthropic package; streamGenerateContent?alt=sse with Gemini's,
// converted by gemini.NewSSEDecoder.
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	if isClaude(strings.TrimPrefix(req.Model, "models/")) {
		return anthropic.New().NewStreamDecoder(req, body)
	}
	return gemini.NewSSEDecoder(req, body)
}

// ParseError implements adaptors.Adaptor (see parseError).
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}

// InlinesImages implements adaptors.ImageInliner. Gemini on Vertex AI
// reads images inline, or by URI only from the places it can fetch
// (Cloud Storage, some public URLs, within its own limits), and Claude
// is sent base64 images, so the transport should download the http(s)
// images of a chat request: inline images behave the same on both.
// The check is a cheap byte scan: an "image_url" member and an http(s)
// URL somewhere in the body (slashes escaped or not); a false positive
// costs the transport one parse.
func (a *Adaptor) InlinesImages(ch *adaptors.Channel, req *adaptors.Request) bool {
	if req.Mode != adaptors.ModeChat || !bytes.Contains(req.Body, []byte(`"image_url"`)) {
		return false
	}
	return bytes.Contains(req.Body, []byte(`"https://`)) || bytes.Contains(req.Body, []byte(`"http://`)) ||
		bytes.Contains(req.Body, []byte(`"https:\/\/`)) || bytes.Contains(req.Body, []byte(`"http:\/\/`))
}
