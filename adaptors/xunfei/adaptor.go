package xunfei

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is iFLYTEK's Spark WebSocket host; each model's path
// (/v3.5/chat, /chat/max-32k, …) is added to it. A channel's base_url
// replaces it and is written the same way, ws[s]://host[:port].
const DefaultBaseURL = "wss://spark-api.xf-yun.com"

// Adaptor speaks the Spark WebSocket chat API. It holds no state and is
// safe for concurrent use.
type Adaptor struct{}

// New returns the Xunfei adaptor.
func New() *Adaptor { return &Adaptor{} }

var (
	_ adaptors.Adaptor      = (*Adaptor)(nil)
	_ adaptors.SocketDialer = (*Adaptor)(nil)
)

// BuildRequest implements adaptors.Adaptor. Spark chat is not an HTTP
// request: the transport calls SocketRequest instead, so chat fails here
// with adaptors.ErrUnsupportedMode, as every other mode does.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	if req.Mode == adaptors.ModeChat {
		return nil, fmt.Errorf("xunfei: chat is served over a websocket (SocketRequest), not http: %w", adaptors.ErrUnsupportedMode)
	}
	return nil, unsupported(req.Mode)
}

// SocketRequest implements adaptors.SocketDialer: the signed URL of the
// model's path on the channel's host, and the one request frame. Stream
// and non-stream requests send the same frame (Spark always answers in
// frames; the transport joins them for a non-stream client).
func (a *Adaptor) SocketRequest(ch *adaptors.Channel, req *adaptors.Request, now time.Time) (*adaptors.SocketCall, error) {
	if req.Mode != adaptors.ModeChat {
		return nil, unsupported(req.Mode)
	}
	c, err := parseKey(ch.Key)
	if err != nil {
		return nil, err
	}
	e, err := parseBaseURL(ch.BaseURL)
	if err != nil {
		return nil, err
	}
	rt, ok := lookupRoute(req.Model, ch.Config)
	if !ok {
		return nil, invalidBody("model %q is not a Spark model; a channel serving it must name its API version in the %q setting (e.g. v3.5)", req.Model, configOther)
	}
	frame, err := buildFrame(req, c, rt)
	if err != nil {
		return nil, err
	}
	return &adaptors.SocketCall{URL: signedURL(e, rt.path, c, now), Frames: [][]byte{frame}}, nil
}

// ParseResponse implements adaptors.Adaptor: body is every frame of the
// answer, one per line.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if req.Mode != adaptors.ModeChat {
		return nil, unsupported(req.Mode)
	}
	return parseResponse(req, body)
}

// NewStreamDecoder implements adaptors.Adaptor: body yields the answer's
// frames, one per line, as they arrive.
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	if req.Mode != adaptors.ModeChat {
		return failedDecoder{unsupported(req.Mode)}
	}
	return newStreamDecoder(req, body)
}

// ParseError implements adaptors.Adaptor: a refused WebSocket upgrade.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}

func unsupported(m adaptors.Mode) error {
	return fmt.Errorf("xunfei: %s: %w", m, adaptors.ErrUnsupportedMode)
}

// failedDecoder is the decoder of a mode that has no stream.
type failedDecoder struct{ err error }

func (d failedDecoder) Next() (adaptors.StreamEvent, error) { return adaptors.StreamEvent{}, d.err }

// invalidBody wraps adaptors.ErrInvalidBody with what is wrong.
func invalidBody(format string, args ...any) error {
	return fmt.Errorf("xunfei: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// invalidResponse wraps adaptors.ErrInvalidResponse with what is wrong.
func invalidResponse(format string, args ...any) error {
	return fmt.Errorf("xunfei: %w: %s", adaptors.ErrInvalidResponse, fmt.Sprintf(format, args...))
}

// bodyAPI decodes client bodies: keys match case-sensitively (OpenAI's
// are exact), and strings alias the body, which is read-only and
// outlives the frame being built. Immutable.
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

// rawJSON checks a raw value the adaptor forwards: nil when it is absent
// or null, else the value compacted; a value that is not JSON is an
// error.
func rawJSON(raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, errors.New("not valid JSON")
	}
	return b.Bytes(), nil
}
