package openai

import (
	"fmt"
	"io"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is OpenAI's API origin; paths below include /v1.
const DefaultBaseURL = "https://api.openai.com"

// Config describes one OpenAI-dialect upstream: where its endpoints live
// and which of the dialect's known deviations it has. The zero value of
// every quirk field means "behaves like OpenAI". A Config is copied into
// the adaptor by New and never changed afterwards.
type Config struct {
	// Name identifies the provider in errors ("openai", "deepseek", …).
	Name string
	// BaseURL is used when the channel sets none; empty means the channel
	// must set one (custom endpoints). A trailing slash is ignored.
	BaseURL string

	// Paths of each mode under the base URL. An empty path means the
	// provider does not serve that mode and BuildRequest fails with
	// adaptors.ErrUnsupportedMode.
	ChatPath        string
	CompletionsPath string
	EmbeddingsPath  string
	// Paths of the media, moderation, rerank and Responses API surfaces
	// (see the adaptors.Mode constants). Most OpenAI-dialect vendors serve
	// none of them; empty, as for the paths above, means unsupported.
	ImagesGenerationsPath   string
	ImagesEditsPath         string
	ImagesVariationsPath    string
	AudioSpeechPath         string
	AudioTranscriptionsPath string
	AudioTranslationsPath   string
	ModerationsPath         string
	RerankPath              string
	ResponsesPath           string
	// ModelRoutes send models whose name starts with a prefix to another
	// path (Doubao: "bot-…" models live under /api/v3/bots/…). The first
	// matching route wins.
	ModelRoutes []ModelRoute

	// Headers are added to every request (after auth and content type).
	Headers []adaptors.Header
	// ConfigHeaders copy channel config values into headers when set
	// (OpenAI-Organization, OpenRouter's HTTP-Referer and X-Title).
	ConfigHeaders []ConfigHeader

	// NoStreamOptions: the upstream rejects the stream_options field
	// (Mistral answers 422 "extra_forbidden") but reports usage in its
	// stream on its own. The adaptor never adds stream_options and removes
	// one the client sent.
	NoStreamOptions bool
	// GroqUsage: the upstream may report stream usage in x_groq.usage
	// (Groq's extension, used before it supported stream_options) instead
	// of usage.
	GroqUsage bool
	// BaseResp: the upstream reports errors inside 2xx bodies and stream
	// chunks as base_resp.status_code != 0 (MiniMax).
	BaseResp bool

	// ModelsPath is the model-list endpoint; empty means the adaptor does
	// not implement adaptors.ModelLister.
	ModelsPath string
	// Balance, when set, makes the adaptor implement
	// adaptors.BalanceQuerier with this source.
	Balance BalanceSource
}

// ModelRoute sends one mode's requests for models named Prefix+"…" to Path.
type ModelRoute struct {
	Mode   adaptors.Mode
	Prefix string
	Path   string
}

// ConfigHeader copies Channel.Config[Key], when non-empty, into header
// Header.
type ConfigHeader struct {
	Key    string
	Header string
}

// OpenAIConfig returns the configuration of OpenAI itself (channel type 1).
// It includes /v1/rerank, which api.openai.com does not serve but the
// OpenAI-compatible resellers that type-1 channels often point at do
// (One API forwards rerank the same way); on api.openai.com the call
// fails upstream with 404 like any unknown path.
func OpenAIConfig() Config {
	return Config{
		Name:                    "openai",
		BaseURL:                 DefaultBaseURL,
		ChatPath:                "/v1/chat/completions",
		CompletionsPath:         "/v1/completions",
		EmbeddingsPath:          "/v1/embeddings",
		ImagesGenerationsPath:   "/v1/images/generations",
		ImagesEditsPath:         "/v1/images/edits",
		ImagesVariationsPath:    "/v1/images/variations",
		AudioSpeechPath:         "/v1/audio/speech",
		AudioTranscriptionsPath: "/v1/audio/transcriptions",
		AudioTranslationsPath:   "/v1/audio/translations",
		ModerationsPath:         "/v1/moderations",
		RerankPath:              "/v1/rerank",
		ResponsesPath:           "/v1/responses",
		ConfigHeaders: []ConfigHeader{
			{Key: "organization", Header: "OpenAI-Organization"},
			{Key: "project", Header: "OpenAI-Project"},
		},
		ModelsPath: "/v1/models",
		Balance:    DashboardBalance{},
	}
}

// Adaptor speaks the OpenAI dialect to one upstream described by a Config.
// It holds only immutable configuration and is safe for concurrent use.
type Adaptor struct {
	cfg Config
}

// New returns the adaptor for cfg. The result's dynamic type implements
// adaptors.ModelLister only when cfg.ModelsPath is set and
// adaptors.BalanceQuerier only when cfg.Balance is set, so callers can
// discover capabilities by type assertion (an unsupported capability is
// absent, never a stub that fails).
func New(cfg Config) adaptors.Adaptor {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	// Copy the slices so a caller mutating its Config cannot reach us.
	cfg.ModelRoutes = append([]ModelRoute(nil), cfg.ModelRoutes...)
	cfg.Headers = append([]adaptors.Header(nil), cfg.Headers...)
	cfg.ConfigHeaders = append([]ConfigHeader(nil), cfg.ConfigHeaders...)
	a := &Adaptor{cfg: cfg}
	switch {
	case cfg.ModelsPath != "" && cfg.Balance != nil:
		return &withBoth{withModels{a}}
	case cfg.ModelsPath != "":
		return &withModels{a}
	case cfg.Balance != nil:
		return &withBalance{a}
	}
	return a
}

// requestBuf lets BuildRequest allocate the request and its usual headers
// in one allocation.
type requestBuf struct {
	req adaptors.HTTPRequest
	hdr [6]adaptors.Header
}

// BuildRequest implements adaptors.Adaptor. The client body is forwarded
// as is unless the model must change (channel model mapping) or, for chat
// and completion streams, stream_options must be added or removed (see
// Config). A multipart body (req.ContentType multipart/…) is forwarded
// with the client's Content-Type, boundary included; a model change
// re-encodes it (see multipart.go).
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	path, err := a.path(req.Mode, req.Model)
	if err != nil {
		return nil, err
	}
	var body []byte
	contentType := "application/json"
	if isMultipart(req.ContentType) {
		body, contentType, err = a.multipartBody(req)
	} else {
		body, err = a.body(req)
	}
	if err != nil {
		return nil, err
	}
	b, err := a.newRequest(ch, "POST", path)
	if err != nil {
		return nil, err
	}
	b.req.Body = body
	b.req.Header = append(b.req.Header, adaptors.Header{Key: "Content-Type", Value: contentType})
	if req.Stream {
		b.req.Header = append(b.req.Header, adaptors.Header{Key: "Accept", Value: "text/event-stream"})
	}
	b.req.Header = a.extraHeaders(ch, b.req.Header)
	return &b.req, nil
}

// newRequest starts a request to base+path with the auth header.
func (a *Adaptor) newRequest(ch *adaptors.Channel, method, path string) (*requestBuf, error) {
	base := a.cfg.BaseURL
	if ch.BaseURL != "" {
		base = strings.TrimRight(ch.BaseURL, "/")
	}
	if base == "" {
		return nil, fmt.Errorf("%s: %w", a.cfg.Name, adaptors.ErrNoBaseURL)
	}
	b := &requestBuf{}
	b.req.Method = method
	b.req.URL = base + path
	b.req.Header = b.hdr[:0]
	b.req.Header = append(b.req.Header, adaptors.Header{Key: "Authorization", Value: "Bearer " + ch.Key})
	return b, nil
}

func (a *Adaptor) extraHeaders(ch *adaptors.Channel, h []adaptors.Header) []adaptors.Header {
	h = append(h, a.cfg.Headers...)
	for _, ch2 := range a.cfg.ConfigHeaders {
		if v := ch.Config[ch2.Key]; v != "" {
			h = append(h, adaptors.Header{Key: ch2.Header, Value: v})
		}
	}
	return h
}

func (a *Adaptor) path(mode adaptors.Mode, model string) (string, error) {
	for _, r := range a.cfg.ModelRoutes {
		if r.Mode == mode && strings.HasPrefix(model, r.Prefix) {
			return r.Path, nil
		}
	}
	var p string
	switch mode {
	case adaptors.ModeChat:
		p = a.cfg.ChatPath
	case adaptors.ModeCompletions:
		p = a.cfg.CompletionsPath
	case adaptors.ModeEmbeddings:
		p = a.cfg.EmbeddingsPath
	case adaptors.ModeImagesGenerations:
		p = a.cfg.ImagesGenerationsPath
	case adaptors.ModeImagesEdits:
		p = a.cfg.ImagesEditsPath
	case adaptors.ModeImagesVariations:
		p = a.cfg.ImagesVariationsPath
	case adaptors.ModeAudioSpeech:
		p = a.cfg.AudioSpeechPath
	case adaptors.ModeAudioTranscriptions:
		p = a.cfg.AudioTranscriptionsPath
	case adaptors.ModeAudioTranslations:
		p = a.cfg.AudioTranslationsPath
	case adaptors.ModeModerations:
		p = a.cfg.ModerationsPath
	case adaptors.ModeRerank:
		p = a.cfg.RerankPath
	case adaptors.ModeResponses:
		p = a.cfg.ResponsesPath
	}
	if p == "" {
		return "", fmt.Errorf("%s: %s: %w", a.cfg.Name, mode, adaptors.ErrUnsupportedMode)
	}
	return p, nil
}

func (a *Adaptor) body(req *adaptors.Request) ([]byte, error) {
	plan := bodyPlan{model: req.Model}
	if req.Stream && hasStreamOptions(req.Mode) {
		if a.cfg.NoStreamOptions {
			plan.stripStreamOp = true
		} else {
			plan.includeUsage = true
		}
	}
	if plan.model == req.OriginModel && !plan.includeUsage && !plan.stripStreamOp && req.OriginModel != "" {
		// Nothing to change: the relay read the model from this very body
		// (and so knows it is a JSON object), and the channel maps it to
		// itself. Forward the client's bytes without parsing them again.
		return req.Body, nil
	}
	body, err := rewriteBody(req.Body, plan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", a.cfg.Name, adaptors.ErrInvalidBody, err)
	}
	return body, nil
}

// hasStreamOptions reports whether mode's streams take
// stream_options.include_usage. Only chat and legacy completions do: the
// Responses API's stream_options knows include_obfuscation only and
// rejects unknown members, and its usage (like that of the audio and image
// streams) arrives in its final event unasked.
func hasStreamOptions(mode adaptors.Mode) bool {
	return mode == adaptors.ModeChat || mode == adaptors.ModeCompletions
}

// NewStreamDecoder implements adaptors.Adaptor. Chat and completion
// streams (chat.completion.chunk payloads) go through the chunk decoder;
// the surfaces whose streams are typed events (Responses API, speech with
// stream_format "sse", streamed transcriptions and image generations) go
// through the event decoder of eventstream.go.
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	switch req.Mode {
	case adaptors.ModeResponses, adaptors.ModeAudioSpeech, adaptors.ModeAudioTranscriptions,
		adaptors.ModeAudioTranslations, adaptors.ModeImagesGenerations, adaptors.ModeImagesEdits:
		return newEventDecoder(a, body)
	}
	return newStreamDecoder(a, req, body)
}

// ParseError implements adaptors.Adaptor.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}
