package azure

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/openai"
	"switchyard/adaptors/schema"
)

// ChannelType is One API's channel type number for Azure OpenAI.
const ChannelType = 3

// DefaultBaseURL is empty: every Azure OpenAI resource has its own
// endpoint (https://{resource}.openai.azure.com), which channels must set.
const DefaultBaseURL = ""

// DefaultAPIVersion is the api-version sent when the channel sets none:
// the latest GA release of the dated data-plane inference API.
const DefaultAPIVersion = "2024-10-21"

// streamUsageSince is the first dated api-version that accepts
// stream_options.include_usage (added in 2024-09-01-preview; Azure's API
// lifecycle page, "Changes between 2024-09-01-preview and
// 2024-08-01-preview").
const streamUsageSince = "2024-09-01"

// Channel config keys the adaptor reads.
const (
	// ConfigAPIVersion holds the api-version: a dated version
	// ("2024-10-21", "2025-04-01-preview"), or "v1" / "preview" for the v1
	// API. One API kept it in the channel's "other" field.
	ConfigAPIVersion = "api_version"
	// ConfigDeployments maps model names to deployment names:
	// "gpt-4o=my-gpt4o,gpt-3.5-turbo=chat35". Models it does not list use
	// their own name with the dots removed.
	ConfigDeployments = "deployments"
)

// Models is the default model list offered for new Azure channels. Each
// name must match a deployment of the resource (after dot removal, or
// through the deployments config).
func Models() []string {
	return []string{
		"gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini",
		"o4-mini", "o3", "o3-mini", "o1",
		"gpt-35-turbo", "gpt-35-turbo-instruct",
		"text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
		"dall-e-3", "tts-1", "tts-1-hd", "whisper",
	}
}

// Adaptor speaks Azure OpenAI. It holds three OpenAI-dialect adaptors that
// differ in what they may send: the dated API on versions that accept
// stream_options (usage), on older versions (noUsage, which strips the
// field so the request does not fail and the gateway estimates), and the
// v1 API. It is immutable and safe for concurrent use.
type Adaptor struct {
	usage, noUsage, v1 adaptors.Adaptor
	typed              adaptors.TypedResponseParser // usage's, nil if it had none
}

var (
	_ adaptors.Adaptor             = (*Adaptor)(nil)
	_ adaptors.TypedResponseParser = (*Adaptor)(nil)
)

// New returns the Azure OpenAI adaptor.
func New() *Adaptor {
	dated := openai.Config{
		Name: "azure",
		// Paths under {endpoint}/openai/deployments/{deployment}.
		ChatPath:                "/chat/completions",
		CompletionsPath:         "/completions",
		EmbeddingsPath:          "/embeddings",
		ImagesGenerationsPath:   "/images/generations",
		AudioSpeechPath:         "/audio/speech",
		AudioTranscriptionsPath: "/audio/transcriptions",
		AudioTranslationsPath:   "/audio/translations",
	}
	old := dated
	old.NoStreamOptions = true
	v1 := openai.Config{
		Name: "azure",
		// Paths under {endpoint}/openai/v1 (the GA surfaces of the v1 API).
		ChatPath:       "/chat/completions",
		EmbeddingsPath: "/embeddings",
		ResponsesPath:  "/responses",
	}
	a := &Adaptor{usage: openai.New(dated), noUsage: openai.New(old), v1: openai.New(v1)}
	a.typed, _ = a.usage.(adaptors.TypedResponseParser)
	return a
}

// BuildRequest implements adaptors.Adaptor. The body is the OpenAI one
// (forwarded untouched when nothing must change); the URL names the
// deployment and api-version, and the key goes in the api-key header.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	base := strings.TrimRight(ch.BaseURL, "/")
	if base == "" {
		return nil, fmt.Errorf("azure: the resource endpoint (https://{resource}.openai.azure.com) is required: %w", adaptors.ErrNoBaseURL)
	}
	dep, err := Deployment(ch.Config[ConfigDeployments], req.Model)
	if err != nil {
		return nil, err
	}
	version := APIVersion(ch)
	inner := *ch
	var query string
	var hr *adaptors.HTTPRequest
	if isV1(version) {
		// The v1 API takes the deployment as the body's model.
		inner.BaseURL = base + "/openai/v1"
		if strings.EqualFold(version, "preview") {
			query = "?api-version=preview"
		}
		r := *req
		r.Model = dep
		hr, err = a.v1.BuildRequest(&inner, &r)
	} else {
		inner.BaseURL = base + "/openai/deployments/" + url.PathEscape(dep)
		query = "?api-version=" + url.QueryEscape(version)
		hr, err = a.dated(version).BuildRequest(&inner, req)
	}
	if err != nil {
		return nil, err
	}
	hr.URL += query
	for i := range hr.Header {
		if hr.Header[i].Key == "Authorization" {
			hr.Header[i] = adaptors.Header{Key: "api-key", Value: ch.Key}
		}
	}
	return hr, nil
}

// dated returns the inner adaptor for a dated api-version.
func (a *Adaptor) dated(version string) adaptors.Adaptor {
	if StreamUsage(version) {
		return a.usage
	}
	return a.noUsage
}

// APIVersion returns the api-version a channel uses: its api_version
// config (trimmed), else One API's "other" field (Config["other"]),
// else DefaultAPIVersion.
func APIVersion(ch *adaptors.Channel) string {
	if v := strings.TrimSpace(ch.Config[ConfigAPIVersion]); v != "" {
		return v
	}
	// One API kept the api-version in the channel's "other" field.
	if v := strings.TrimSpace(ch.Config["other"]); v != "" {
		return v
	}
	return DefaultAPIVersion
}

// isV1 reports whether version selects the v1 API.
func isV1(version string) bool {
	return strings.EqualFold(version, "v1") || strings.EqualFold(version, "preview")
}

// StreamUsage reports whether requests on api-version may carry
// stream_options.include_usage: the v1 API, and dated versions from
// 2024-09-01 on (previews included: "2024-09-01-preview" qualifies,
// "2024-08-01-preview" does not). Versions of any other shape do not.
func StreamUsage(version string) bool {
	if isV1(version) {
		return true
	}
	if len(version) < 10 || (len(version) > 10 && version[10] != '-') {
		return false
	}
	for i := range 10 {
		c := version[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return version[:10] >= streamUsageSince
}

// Deployment returns the deployment that serves model: the entry for it
// in a deployments config ("model=deployment,model2=deployment2", spaces
// around entries ignored), else model with every "." removed (One API's
// convention: gpt-3.5-turbo is deployed as gpt-35-turbo). A malformed
// config is an error, so a typo fails loudly instead of routing to a
// deployment that does not exist.
func Deployment(config, model string) (string, error) {
	rest := config
	for rest != "" {
		var entry string
		entry, rest, _ = strings.Cut(rest, ",")
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		m, d, ok := strings.Cut(entry, "=")
		m, d = strings.TrimSpace(m), strings.TrimSpace(d)
		if !ok || m == "" || d == "" {
			return "", fmt.Errorf("azure: channel config %q: entry %q is not model=deployment", ConfigDeployments, entry)
		}
		if m == model {
			return d, nil
		}
	}
	if model == "" {
		return "", fmt.Errorf("azure: no model to choose a deployment: %w", adaptors.ErrInvalidBody)
	}
	return strings.ReplaceAll(model, ".", ""), nil
}

// ParseResponse implements adaptors.Adaptor (OpenAI's conversion).
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	return a.usage.ParseResponse(req, body)
}

// ParseTypedResponse implements adaptors.TypedResponseParser: speech
// audio and text transcripts are told apart by their Content-Type, as for
// OpenAI.
func (a *Adaptor) ParseTypedResponse(req *adaptors.Request, contentType string, body []byte) (*adaptors.Response, error) {
	if a.typed == nil {
		return a.usage.ParseResponse(req, body)
	}
	return a.typed.ParseTypedResponse(req, contentType, body)
}

// NewStreamDecoder implements adaptors.Adaptor (OpenAI's decoder, which
// drops Azure's prompt-filter preamble chunk).
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	return a.usage.NewStreamDecoder(req, body)
}

// ParseError implements adaptors.Adaptor.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return typed(a.usage.ParseError(status, body))
}
