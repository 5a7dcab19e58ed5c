package ali

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is DashScope's origin in the China (Beijing) region; the
// paths below include /api/v1 (native) or /compatible-mode/v1. Other
// regions are only another base URL (https://dashscope-intl.aliyuncs.com
// for Singapore).
const DefaultBaseURL = "https://dashscope.aliyuncs.com"

// One API's channel types this package serves.
const (
	// ChannelType is One API's "Ali": the native DashScope API.
	ChannelType = 17
	// BailianChannelType is One API's "AliBailian": DashScope's
	// OpenAI-compatible mode.
	BailianChannelType = 49
)

// ConfigAPI is the channel config key that chooses the API a channel
// speaks: "openai" (or "compatible") for the OpenAI-compatible mode,
// "native" (or "dashscope") for the native API. Unset means native for
// type 17 and compatible for type 49.
const ConfigAPI = "api"

// ConfigTextType is the channel config key giving the embeddings
// text_type ("query" or "document") when the request body names none.
const ConfigTextType = "text_type"

// ConfigWorkspace is the channel config key holding a Model Studio
// workspace id, sent as X-DashScope-WorkSpace on native calls (calls in
// the default workspace need none).
const ConfigWorkspace = "workspace"

// Upstream paths under the base URL.
const (
	chatPath       = "/api/v1/services/aigc/text-generation/generation"
	multimodalPath = "/api/v1/services/aigc/multimodal-generation/generation"
	embedPath      = "/api/v1/services/embeddings/text-embedding/text-embedding"
	imagePath      = "/api/v1/services/aigc/text2image/image-synthesis"
	taskPath       = "/api/v1/tasks/"
	compatPrefix   = "/compatible-mode"
)

// internetSuffix is One API's model-name suffix that turns web search on
// (qwen-plus-internet is qwen-plus with enable_search).
const internetSuffix = "-internet"

// Models returns the default model list of a DashScope channel: One API's
// Ali list (Qwen chat models, text-embedding-v1/v2, Wanx and Stable
// Diffusion on DashScope) plus the current models of Model Studio's model
// list. A new slice on each call.
func Models() []string {
	return []string{
		// One API's list.
		"qwen-turbo", "qwen-turbo-latest", "qwen-plus", "qwen-plus-latest",
		"qwen-max", "qwen-max-latest", "qwen-max-longcontext",
		"qwen-vl-max", "qwen-vl-max-latest", "qwen-vl-plus", "qwen-vl-plus-latest",
		"qwen-coder-plus", "qwen-coder-turbo", "qwen-math-plus", "qwen-math-turbo",
		"qwq-32b-preview", "qwen2.5-72b-instruct", "qwen2.5-32b-instruct", "qwen2.5-14b-instruct", "qwen2.5-7b-instruct",
		"text-embedding-v1", "text-embedding-v2", "text-embedding-v3",
		"ali-stable-diffusion-xl", "ali-stable-diffusion-v1.5", "wanx-v1",
		// Current models.
		"qwen3-max", "qwen-flash", "qwen3-coder-plus", "qwen3-coder-flash",
		"qwen3-235b-a22b", "qwen3-32b", "qwen3-30b-a3b", "qwen3-8b",
		"qwq-plus", "qwen3-vl-plus", "qwen3-vl-flash", "qvq-max",
		"deepseek-r1", "deepseek-v3",
		"text-embedding-v4",
		"wanx2.1-t2i-turbo", "wanx2.1-t2i-plus", "wan2.2-t2i-flash", "wan2.2-t2i-plus", "qwen-image",
	}
}

// Adaptor speaks DashScope, natively or in its OpenAI-compatible mode
// (compat.go). It holds immutable configuration only and is safe for
// concurrent use; besides adaptors.Adaptor it implements
// adaptors.FollowUpper (image.go) for the asynchronous image tasks.
type Adaptor struct {
	// compatDefault makes the compatible mode the default (AliBailian).
	compatDefault bool
	// compat is the OpenAI-dialect adaptor of the compatible mode.
	compat adaptors.Adaptor
}

var (
	_ adaptors.Adaptor     = (*Adaptor)(nil)
	_ adaptors.FollowUpper = (*Adaptor)(nil)
)

// New returns the DashScope adaptor for One API's "Ali" channels (type
// 17): the native API unless the channel's config says "api": "openai"
// (or the channel's type is 49).
func New() *Adaptor { return &Adaptor{compat: newCompat()} }

// NewBailian returns the adaptor for One API's "AliBailian" channels (type
// 49): DashScope's OpenAI-compatible mode unless the channel's config says
// "api": "native".
func NewBailian() *Adaptor { return &Adaptor{compatDefault: true, compat: newCompat()} }

// useCompat reports whether ch speaks the OpenAI-compatible mode.
func (a *Adaptor) useCompat(ch *adaptors.Channel) bool {
	switch strings.ToLower(strings.TrimSpace(ch.Config[ConfigAPI])) {
	case "openai", "compatible", "compatible-mode":
		return true
	case "native", "dashscope":
		return false
	}
	return a.compatDefault || ch.Type == BailianChannelType
}

// base returns the origin every call goes to: the channel's base URL, or
// DefaultBaseURL. A trailing "/", "/api/v1" (the DashScope SDKs' form),
// "/compatible-mode/v1" or "/compatible-mode" (the OpenAI SDKs' form) is
// removed, so a base URL copied from either kind of example works for
// every API.
func base(ch *adaptors.Channel) string {
	b := strings.TrimRight(ch.BaseURL, "/")
	if b == "" {
		return DefaultBaseURL
	}
	for _, suffix := range [...]string{"/api/v1", "/compatible-mode/v1", compatPrefix} {
		if s, ok := strings.CutSuffix(b, suffix); ok {
			return strings.TrimRight(s, "/")
		}
	}
	return b
}

// requestBuf lets a request and its usual headers be allocated at once.
type requestBuf struct {
	req adaptors.HTTPRequest
	hdr [5]adaptors.Header
}

// newRequest describes an authenticated call of base+path.
func newRequest(ch *adaptors.Channel, method, path string, body []byte) *adaptors.HTTPRequest {
	b := &requestBuf{}
	b.req.Method = method
	b.req.URL = base(ch) + path
	b.req.Header = b.hdr[:0]
	b.req.Header = append(b.req.Header, adaptors.Header{Key: "Authorization", Value: "Bearer " + ch.Key})
	if body != nil {
		b.req.Header = append(b.req.Header, adaptors.Header{Key: "Content-Type", Value: "application/json"})
	}
	if ws := ch.Config[ConfigWorkspace]; ws != "" {
		b.req.Header = append(b.req.Header, adaptors.Header{Key: "X-DashScope-WorkSpace", Value: ws})
	}
	b.req.Body = body
	return &b.req
}

// BuildRequest implements adaptors.Adaptor for chat, embeddings and image
// generation; other modes fail with adaptors.ErrUnsupportedMode. Image
// generation always uses the native asynchronous task API, which the
// compatible mode does not have.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	switch req.Mode {
	case adaptors.ModeChat, adaptors.ModeEmbeddings:
		if a.useCompat(ch) {
			return a.buildCompat(ch, req)
		}
		if req.Mode == adaptors.ModeEmbeddings {
			return buildEmbed(ch, req)
		}
		return buildChat(ch, req)
	case adaptors.ModeImagesGenerations:
		return buildImage(ch, req)
	}
	return nil, unsupported(req.Mode)
}

// ParseResponse implements adaptors.Adaptor. ParseResponse does not see
// the channel, so the API that answered is told by the answer's shape: a
// native answer has "output" (or an error "code"), a compatible-mode one
// is OpenAI's.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	switch req.Mode {
	case adaptors.ModeChat:
		return a.parseChat(req, body)
	case adaptors.ModeEmbeddings:
		return a.parseEmbed(req, body)
	case adaptors.ModeImagesGenerations:
		return parseImage(req, body)
	}
	return nil, unsupported(req.Mode)
}

// NewStreamDecoder implements adaptors.Adaptor. Only chat streams; which
// API's stream it is is told by its first event (stream.go).
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	if req.Mode != adaptors.ModeChat {
		return failedDecoder{unsupported(req.Mode)}
	}
	return &sniffDecoder{a: a, req: req, body: body}
}

// ParseError implements adaptors.Adaptor (errors.go).
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}

func unsupported(m adaptors.Mode) error {
	return fmt.Errorf("ali: %s: %w", m, adaptors.ErrUnsupportedMode)
}

// failedDecoder is the decoder of a mode that has no stream.
type failedDecoder struct{ err error }

func (d failedDecoder) Next() (adaptors.StreamEvent, error) { return adaptors.StreamEvent{}, d.err }

// invalidBody wraps adaptors.ErrInvalidBody with what is wrong.
func invalidBody(format string, args ...any) error {
	return fmt.Errorf("ali: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// invalidResponse wraps adaptors.ErrInvalidResponse with what is wrong.
func invalidResponse(format string, args ...any) error {
	return fmt.Errorf("ali: %w: %s", adaptors.ErrInvalidResponse, fmt.Sprintf(format, args...))
}

// bodyAPI decodes client bodies: keys match case-sensitively (OpenAI's
// are exact), and strings and sonic.NoCopyRawMessage members alias the
// body, which is read-only and outlives the request being built.
var bodyAPI = sonic.Config{CaseSensitive: true}.Froze()

// decodeBody decodes the client's JSON object body into v.
func decodeBody(body []byte, v any) error {
	if !openaiwire.IsObject(body) {
		return invalidBody("body is not a json object")
	}
	if err := bodyAPI.UnmarshalFromString(unsafe.String(unsafe.SliceData(body), len(body)), v); err != nil {
		return invalidBody("%v", err)
	}
	return nil
}

// decodeAnswer decodes a 2xx JSON object answer into v. A type mismatch in
// one member is tolerated (the rest decodes); anything that is not a JSON
// object is adaptors.ErrInvalidResponse. Strings in v may alias body.
func decodeAnswer(body []byte, v any) error {
	if !openaiwire.IsObject(body) {
		return invalidResponse("answer is not a json object")
	}
	err := bodyAPI.UnmarshalFromString(unsafe.String(unsafe.SliceData(body), len(body)), v)
	if err != nil && !isMismatch(err) {
		return invalidResponse("%v", err)
	}
	return nil
}

// isMismatch reports whether err is a type mismatch (sonic's native
// decoder reports its own type, the portable fallback encoding/json's).
func isMismatch(err error) bool {
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	return errors.As(err, &mismatch) || errors.As(err, &stdMismatch)
}

// outAPI encodes the upstream bodies and answers. Raw members are not
// validated again: every one is checked where it is made (validString,
// rawJSON, or this package's own encoding), which spares a second pass
// over long contents.
var outAPI = sonic.Config{NoValidateJSONMarshaler: true}.Froze()

// marshal encodes one of this package's wire values.
func marshal(v any) ([]byte, error) {
	return outAPI.Marshal(v)
}

// rawJSON checks a raw member the adaptor forwards verbatim: nil when it
// is absent or null, else the value compacted. A value that is not JSON
// is an error.
func rawJSON(raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// rawString returns the string a raw JSON string holds, "" for anything
// else (null, absent, not a string, malformed). A string without escapes
// aliases raw (no copy: callers copy what they keep into what they
// build); one with escapes is decoded into a new string.
func rawString(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return ""
	}
	in := raw[1 : len(raw)-1]
	plain := true
	for _, c := range in {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return unsafe.String(unsafe.SliceData(in), len(in))
	}
	s, ok := unescape(in)
	if !ok {
		return ""
	}
	return s
}

// unescape decodes the inside of a JSON string.
func unescape(in []byte) (string, bool) {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '"' || c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			continue
		}
		i++
		if i >= len(in) {
			return "", false
		}
		switch in[i] {
		case '"', '\\', '/':
			out = append(out, in[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(in, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(in, i+3); ok && i+2 < len(in) && in[i+1] == '\\' && in[i+2] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return string(out), true
}

// hex4 reads the four hex digits at in[i:].
func hex4(in []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(in) {
		return 0, false
	}
	var r rune
	for _, h := range in[i : i+4] {
		switch {
		case '0' <= h && h <= '9':
			h -= '0'
		case 'a' <= h && h <= 'f':
			h -= 'a' - 10
		case 'A' <= h && h <= 'F':
			h -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	return r, true
}
