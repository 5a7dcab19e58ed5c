package baidu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// ChannelType is One API's channel type number for Baidu ERNIE v1
// ("Baidu").
const ChannelType = 15

// DefaultBaseURL is Baidu AI Cloud's API origin for ERNIE v1 and its
// OAuth endpoint. A channel's base_url replaces it for every call, the
// token exchange included.
const DefaultBaseURL = "https://aip.baidubce.com"

// modelAPIPrefix is the path of the ERNIE v1 model APIs under the base
// URL.
const modelAPIPrefix = "/rpc/2.0/ai_custom/v1/wenxinworkshop"

// ErrNoAccessToken is returned by BuildRequest when the channel carries
// no access token: the transport exchanges the key first
// (adaptors.TokenExchanger) and puts the token in Channel.AccessToken.
var ErrNoAccessToken = errors.New("baidu: no access token for the channel (the transport exchanges API_KEY|SECRET_KEY for one first: adaptors.TokenExchanger)")

// Adaptor speaks Baidu's ERNIE v1 API (wenxinworkshop): chat and
// embeddings, with access tokens from Baidu's OAuth endpoint. It holds no
// state and is safe for concurrent use. Besides adaptors.Adaptor it
// implements adaptors.TokenExchanger.
type Adaptor struct{}

// New returns the ERNIE v1 adaptor (One API channel type 15).
func New() *Adaptor { return &Adaptor{} }

var (
	_ adaptors.Adaptor        = (*Adaptor)(nil)
	_ adaptors.TokenExchanger = (*Adaptor)(nil)
)

// requestBuf lets BuildRequest allocate the request and its headers at
// once.
type requestBuf struct {
	req adaptors.HTTPRequest
	hdr [1]adaptors.Header
}

// BuildRequest implements adaptors.Adaptor:
//
//	POST {base}/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}?access_token=<token>
//	POST {base}/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/{endpoint}?access_token=<token>
//
// with Content-Type: application/json. The endpoint comes from the model (ChatEndpoint,
// EmbeddingEndpoint); the token from ch.AccessToken. Other modes fail
// with adaptors.ErrUnsupportedMode, an unusable client body with
// adaptors.ErrInvalidBody, a channel without a token with
// ErrNoAccessToken.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	var (
		kind, endpoint string
		body           []byte
		err            error
	)
	switch req.Mode {
	case adaptors.ModeChat:
		kind, endpoint = "/chat/", ChatEndpoint(req.Model)
		body, err = buildChat(req)
	case adaptors.ModeEmbeddings:
		kind, endpoint = "/embeddings/", EmbeddingEndpoint(req.Model)
		body, err = buildEmbed(req)
	default:
		return nil, unsupported(req.Mode)
	}
	if err != nil {
		return nil, err
	}
	if endpoint == "" {
		return nil, invalidBody("no model")
	}
	if ch.AccessToken == "" {
		return nil, ErrNoAccessToken
	}
	base := baseURL(ch)
	var u strings.Builder
	u.Grow(len(base) + len(modelAPIPrefix) + len(kind) + len(endpoint) + len(ch.AccessToken) + 16)
	u.WriteString(base)
	u.WriteString(modelAPIPrefix)
	u.WriteString(kind)
	u.WriteString(url.PathEscape(endpoint))
	u.WriteString("?access_token=")
	u.WriteString(url.QueryEscape(ch.AccessToken))

	b := &requestBuf{}
	b.req.Method = http.MethodPost
	b.req.URL = u.String()
	b.req.Header = b.hdr[:0]
	// Baidu documents Content-Type as the only header (a stream is asked
	// for by the body's "stream": true).
	b.req.Header = append(b.req.Header, adaptors.Header{Key: "Content-Type", Value: "application/json"})
	b.req.Body = body
	return &b.req, nil
}

// ParseResponse implements adaptors.Adaptor. An answer that carries
// Baidu's {"error_code","error_msg"} (Baidu answers errors with HTTP 200)
// is a *schema.Error with the code's status (see errorCodes).
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	switch req.Mode {
	case adaptors.ModeChat:
		return parseChat(req, body)
	case adaptors.ModeEmbeddings:
		return parseEmbed(req, body)
	}
	return nil, unsupported(req.Mode)
}

// NewStreamDecoder implements adaptors.Adaptor. Only chat streams.
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	if req.Mode != adaptors.ModeChat {
		return failedDecoder{unsupported(req.Mode)}
	}
	return newStreamDecoder(req, body)
}

// ParseError implements adaptors.Adaptor (see parseError).
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}

func unsupported(m adaptors.Mode) error {
	return fmt.Errorf("baidu: %s: %w", m, adaptors.ErrUnsupportedMode)
}

// failedDecoder is the decoder of a mode that has no stream.
type failedDecoder struct{ err error }

func (d failedDecoder) Next() (adaptors.StreamEvent, error) { return adaptors.StreamEvent{}, d.err }

// invalidBody wraps adaptors.ErrInvalidBody with what is wrong.
func invalidBody(format string, args ...any) error {
	return fmt.Errorf("baidu: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// invalidResponse wraps adaptors.ErrInvalidResponse with what is wrong.
func invalidResponse(format string, args ...any) error {
	return fmt.Errorf("baidu: %w: %s", adaptors.ErrInvalidResponse, fmt.Sprintf(format, args...))
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
	if err := bodyAPI.Unmarshal(body, v); err != nil {
		return invalidBody("%v", err)
	}
	return nil
}

// decodeAnswer decodes a 2xx JSON object answer into v. A type mismatch
// in a member is tolerated (the rest decodes); anything that is not a
// JSON object is adaptors.ErrInvalidResponse.
func decodeAnswer(body []byte, v any) error {
	if !openaiwire.IsObject(body) {
		return invalidResponse("answer is not a json object")
	}
	if err := openaiwire.DecodeLenient(body, v); err != nil {
		return invalidResponse("%v", err)
	}
	return nil
}

// marshal encodes v; raw members were validated when read (see rawJSON),
// so an error means one was not JSON after all.
func marshal(v any) ([]byte, error) {
	return sonic.ConfigDefault.Marshal(v)
}

// eventDecoder decodes stream payloads without copying: strings in the
// destination alias the payload and live only as long as it does. One
// per stream, so payloads do not each allocate a decoder.
type eventDecoder struct {
	d *decoder.Decoder
}

func newEventDecoder() eventDecoder {
	d := decoder.NewDecoder("")
	d.SetOptions(decoder.OptionCaseSensitive)
	return eventDecoder{d: d}
}

// decode decodes the JSON value b into v; a type mismatch in one member
// is not an error, a syntax error or trailing garbage is.
func (e eventDecoder) decode(b []byte, v any) error {
	e.d.Reset(unsafe.String(unsafe.SliceData(b), len(b)))
	err := e.d.Decode(v)
	if err == nil || isMismatch(err) {
		err = e.d.CheckTrailings()
	}
	e.d.Reset("")
	return err
}

// isMismatch reports whether err is a type mismatch (sonic's native
// decoder reports its own type, the portable fallback encoding/json's).
func isMismatch(err error) bool {
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	return errors.As(err, &mismatch) || errors.As(err, &stdMismatch)
}

// usageWire is Baidu's usage object. Baidu reports no cached or
// reasoning token counts. total_tokens may also count the tokens of
// Baidu's search plugin (tool_tokens); the gateway bills OpenAI's
// semantics, prompt + completion.
type usageWire struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// usage converts w for billing; nil when it counts no prompt or
// completion tokens (negative counts are treated as 0).
func (w *usageWire) usage() *adaptors.Usage {
	if w == nil {
		return nil
	}
	p, c := max(w.PromptTokens, 0), max(w.CompletionTokens, 0)
	if p == 0 && c == 0 {
		return nil
	}
	return &adaptors.Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
}
