package ollama

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/openai"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is where a local Ollama server listens; paths below
// include /api (native) or /v1 (OpenAI-compatible).
const DefaultBaseURL = "http://localhost:11434"

// Channel config keys this adaptor reads.
const (
	// ConfigAPI selects the upstream API: "native" (the default, also
	// when empty) speaks /api/chat and /api/embed; "openai" speaks
	// Ollama's OpenAI-compatible API under /v1 through the OpenAI
	// adaptor.
	ConfigAPI = "api"
	// ConfigKeepAlive, when set, is sent as keep_alive with every native
	// request: a duration string ("5m", "1h") or a number of seconds
	// ("0" unloads the model right after the answer, "-1" keeps it
	// loaded).
	ConfigKeepAlive = "keep_alive"
)

// The values of ConfigAPI.
const (
	APINative = "native"
	APIOpenAI = "openai"
)

// Native API paths under the base URL.
const (
	chatPath   = "/api/chat"
	embedPath  = "/api/embed"
	modelsPath = "/api/tags"
)

// Models returns the default model list for new Ollama channels: current
// models of the Ollama library (https://ollama.com/library), chat and
// embedding. A channel serves whatever its server has pulled; the list
// only seeds the channel form.
func Models() []string {
	return []string{
		"llama3.2", "llama3.1", "gemma3", "qwen3", "qwen3-vl", "qwen2.5-coder",
		"deepseek-r1", "gpt-oss:20b", "gpt-oss:120b", "mistral", "phi4", "llava",
		"embeddinggemma", "nomic-embed-text", "all-minilm",
	}
}

// Adaptor speaks to an Ollama server. It holds only immutable
// configuration (the OpenAI adaptor it delegates to when a channel selects
// the OpenAI-compatible API) and is safe for concurrent use. It
// implements adaptors.ModelLister and adaptors.ImageInliner.
type Adaptor struct {
	compat       adaptors.Adaptor
	compatModels adaptors.ModelLister
}

// New returns the Ollama adaptor.
func New() *Adaptor {
	compat := openai.New(openai.Config{
		Name:                  "ollama",
		BaseURL:               DefaultBaseURL,
		ChatPath:              "/v1/chat/completions",
		CompletionsPath:       "/v1/completions",
		EmbeddingsPath:        "/v1/embeddings",
		ImagesGenerationsPath: "/v1/images/generations",
		ResponsesPath:         "/v1/responses",
		ModelsPath:            "/v1/models",
	})
	return &Adaptor{compat: compat, compatModels: compat.(adaptors.ModelLister)}
}

// useOpenAI reports whether ch selects the OpenAI-compatible API.
func useOpenAI(ch *adaptors.Channel) (bool, error) {
	switch v := ch.Config[ConfigAPI]; {
	case v == "" || strings.EqualFold(v, APINative):
		return false, nil
	case strings.EqualFold(v, APIOpenAI):
		return true, nil
	default:
		return false, fmt.Errorf("ollama: channel config %s=%q (want %q or %q): %w",
			ConfigAPI, v, APINative, APIOpenAI, adaptors.ErrUnsupportedMode)
	}
}

// compatChannel returns the channel the OpenAI adaptor sees: the same, with
// a base URL ending in /v1 trimmed (the adaptor's paths include /v1, and
// operators often paste Ollama's documented OpenAI base
// http://host:11434/v1/).
func compatChannel(ch *adaptors.Channel) *adaptors.Channel {
	base := strings.TrimRight(ch.BaseURL, "/")
	if !strings.HasSuffix(base, "/v1") {
		return ch
	}
	c := *ch
	c.BaseURL = strings.TrimSuffix(base, "/v1")
	return &c
}

// withoutEmptyAuth drops the OpenAI adaptor's Authorization header when
// the channel has no key: a local Ollama needs none, and "Bearer " with
// nothing after it only confuses proxies.
func withoutEmptyAuth(ch *adaptors.Channel, r *adaptors.HTTPRequest) *adaptors.HTTPRequest {
	if ch.Key != "" {
		return r
	}
	h := r.Header[:0]
	for _, x := range r.Header {
		if !strings.EqualFold(x.Key, "Authorization") {
			h = append(h, x)
		}
	}
	r.Header = h
	return r
}

// requestBuf lets a native request and its headers share one allocation.
type requestBuf struct {
	req adaptors.HTTPRequest
	hdr [2]adaptors.Header
}

// newRequest starts a native request to the channel's base URL + path,
// with Bearer auth when the channel has a key (ollama.com, or a reverse
// proxy in front of a server).
func newRequest(ch *adaptors.Channel, method, path string) *adaptors.HTTPRequest {
	base := DefaultBaseURL
	if ch.BaseURL != "" {
		base = strings.TrimRight(ch.BaseURL, "/")
	}
	b := &requestBuf{}
	b.req.Method = method
	b.req.URL = base + path
	b.req.Header = b.hdr[:0]
	if ch.Key != "" {
		b.req.Header = append(b.req.Header, adaptors.Header{Key: "Authorization", Value: "Bearer " + ch.Key})
	}
	return &b.req
}

// BuildRequest implements adaptors.Adaptor. The native API serves chat
// (POST /api/chat) and embeddings (POST /api/embed); the OpenAI-compatible
// API serves what the OpenAI adaptor is configured with above.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	compat, err := useOpenAI(ch)
	if err != nil {
		return nil, err
	}
	if compat {
		r, err := a.compat.BuildRequest(compatChannel(ch), req)
		if err != nil {
			return nil, err
		}
		return withoutEmptyAuth(ch, r), nil
	}
	var body []byte
	var path string
	switch req.Mode {
	case adaptors.ModeChat:
		body, err = buildChat(ch, req)
		path = chatPath
	case adaptors.ModeEmbeddings:
		body, err = buildEmbed(ch, req)
		path = embedPath
	default:
		return nil, fmt.Errorf("ollama: %s on the native API (set %s=%s): %w", req.Mode, ConfigAPI, APIOpenAI, adaptors.ErrUnsupportedMode)
	}
	if err != nil {
		return nil, err
	}
	r := newRequest(ch, "POST", path)
	r.Header = append(r.Header, adaptors.Header{Key: "Content-Type", Value: "application/json"})
	r.Body = body
	return r, nil
}

// answerProbe tells a native answer from an OpenAI-compatible one: every
// OpenAI object names itself in "object" (chat.completion, list, …) and an
// OpenAI error is an object under "error"; native answers have no
// "object" and their errors are strings.
type answerProbe struct {
	Object sonic.NoCopyRawMessage `json:"object"`
	Error  sonic.NoCopyRawMessage `json:"error"`
}

// isOpenAIAnswer reports whether body is an answer (or error) of the
// OpenAI-compatible API. Adaptors do not see the channel when parsing, so
// the API is told by the answer's shape.
func isOpenAIAnswer(body []byte) bool {
	var p answerProbe
	if !isObject(body) || decode(body, &p) != nil {
		return false
	}
	e := bytes.TrimSpace(p.Error)
	return len(p.Object) > 0 || (len(e) > 0 && e[0] == '{')
}

// ParseResponse implements adaptors.Adaptor.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	switch {
	case req.Mode != adaptors.ModeChat && req.Mode != adaptors.ModeEmbeddings:
		return a.compat.ParseResponse(req, body)
	case isOpenAIAnswer(body):
		return a.compat.ParseResponse(req, body)
	case req.Mode == adaptors.ModeEmbeddings:
		return parseEmbed(req, body)
	}
	return parseChat(req, body)
}

// NewStreamDecoder implements adaptors.Adaptor. Native chat streams are
// newline-delimited JSON; the OpenAI-compatible API streams server-sent
// events. The decoder tells them apart by the first line, read on the
// first call to Next (the constructor never blocks on the body).
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	if req.Mode != adaptors.ModeChat {
		return a.compat.NewStreamDecoder(req, body)
	}
	return newStreamDecoder(a, req, body)
}

// ParseError implements adaptors.Adaptor.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	if isOpenAIError(body) {
		return a.compat.ParseError(status, body)
	}
	return parseError(status, body)
}

// ModelsRequest implements adaptors.ModelLister: GET /api/tags (the
// models the server has pulled), or the OpenAI-compatible /v1/models.
func (a *Adaptor) ModelsRequest(ch *adaptors.Channel) (*adaptors.HTTPRequest, error) {
	compat, err := useOpenAI(ch)
	if err != nil {
		return nil, err
	}
	if compat {
		r, err := a.compatModels.ModelsRequest(compatChannel(ch))
		if err != nil {
			return nil, err
		}
		return withoutEmptyAuth(ch, r), nil
	}
	return newRequest(ch, "GET", modelsPath), nil
}

// tagsWire is the answer of GET /api/tags.
type tagsWire struct {
	Models []struct {
		Name  string `json:"name"`
		Model string `json:"model"`
	} `json:"models"`
	Object sonic.NoCopyRawMessage `json:"object"`
}

// ParseModels implements adaptors.ModelLister. It reads /api/tags's
// models[].name (the name chat requests use) or, for an answer of
// /v1/models (which has "object":"list"), delegates.
func (a *Adaptor) ParseModels(body []byte) ([]string, error) {
	var w tagsWire
	if !isObject(body) {
		return nil, fmt.Errorf("ollama: %w: model list is not a json object", adaptors.ErrInvalidResponse)
	}
	if err := decode(body, &w); err != nil {
		return nil, fmt.Errorf("ollama: %w: model list: %v", adaptors.ErrInvalidResponse, err)
	}
	if len(w.Object) > 0 {
		return a.compatModels.ParseModels(body)
	}
	ids := make([]string, 0, len(w.Models))
	for _, m := range w.Models {
		id := m.Name
		if id == "" {
			id = m.Model
		}
		if id != "" {
			ids = append(ids, strings.Clone(id))
		}
	}
	return ids, nil
}

// InlinesImages implements adaptors.ImageInliner. Ollama takes chat images
// only as base64 (the native API's images, and data: URLs on the
// OpenAI-compatible API, whose docs list http(s) image URLs as
// unsupported), so the transport must fetch http(s) image URLs first. The
// check is a cheap byte scan: a false positive only makes the transport
// look at the body.
func (a *Adaptor) InlinesImages(ch *adaptors.Channel, req *adaptors.Request) bool {
	if req.Mode != adaptors.ModeChat || !bytes.Contains(req.Body, []byte(`"image_url"`)) {
		return false
	}
	return bytes.Contains(req.Body, []byte(`"http:`)) || bytes.Contains(req.Body, []byte(`"https:`))
}

// api is the JSON configuration of the package: keys match case
// sensitively (Ollama's and OpenAI's keys are lower case, and "Model" must
// not be taken for "model"); decoded strings alias the input, which every
// caller keeps alive while it uses them; embedded raw JSON (schemas, tool
// arguments) is compacted on output; HTML characters are left alone.
var api = sonic.Config{
	CaseSensitive:    true,
	CompactMarshaler: true,
}.Froze()

// unmarshal decodes the single JSON value b into v without copying b:
// strings and raw members in v alias b, so v must not outlive it (callers
// copy what they keep, and marshal what they send). Syntax errors, type
// mismatches and trailing data are errors.
func unmarshal(b []byte, v any) error {
	return api.UnmarshalFromString(unsafe.String(unsafe.SliceData(b), len(b)), v)
}

// decode is unmarshal for upstream answers: a type mismatch in one field
// (a number where a string was expected) leaves every other field decoded
// and is not an error, so the gateway relays what it can rather than
// failing a whole answer over an optional field.
func decode(b []byte, v any) error {
	err := unmarshal(b, v)
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return nil
	}
	return err
}

// isObject reports whether b holds a JSON object (after leading
// whitespace); syntax is checked by the decoder.
func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

// isPresent reports whether a raw member was sent with a non-null value.
func isPresent(raw []byte) bool {
	return len(raw) > 0 && string(raw) != "null"
}
