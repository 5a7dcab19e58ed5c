package cohere

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is Cohere's API origin; the paths below include their
// version (/v2/…, and /v1/models).
const DefaultBaseURL = "https://api.cohere.com"

// Upstream paths.
const (
	chatPath   = "/v2/chat"
	embedPath  = "/v2/embed"
	rerankPath = "/v2/rerank"
	// modelsPath asks for the largest page Cohere allows (1000), so one
	// call lists every model.
	modelsPath = "/v1/models?page_size=1000"
)

// defaultInputType is the embed input_type used when neither the body
// nor the channel config ("input_type") names one: embeddings requested
// through the OpenAI API are most often stored for later search.
const defaultInputType = "search_document"

// Models returns the default model list for new Cohere channels: the
// current Command, Embed and Rerank models of Cohere's model overview
// (https://docs.cohere.com/docs/models). A new slice on each call.
func Models() []string {
	return []string{
		"command-a-03-2025", "command-a-reasoning-08-2025", "command-a-vision-07-2025",
		"command-r7b-12-2024", "command-r-plus-08-2024", "command-r-08-2024",
		"embed-v4.0", "embed-english-v3.0", "embed-multilingual-v3.0",
		"embed-english-light-v3.0", "embed-multilingual-light-v3.0",
		"rerank-v4.0-pro", "rerank-v4.0-fast", "rerank-v3.5",
	}
}

// Adaptor speaks Cohere's API v2. It holds no state and is safe for
// concurrent use.
type Adaptor struct{}

// New returns the Cohere adaptor.
func New() *Adaptor { return &Adaptor{} }

var (
	_ adaptors.Adaptor     = (*Adaptor)(nil)
	_ adaptors.ModelLister = (*Adaptor)(nil)
)

// requestBuf lets BuildRequest allocate the request and its headers at
// once.
type requestBuf struct {
	req adaptors.HTTPRequest
	hdr [2]adaptors.Header
}

// newRequest describes an authenticated call of base+path.
func newRequest(ch *adaptors.Channel, method, path string, body []byte) *adaptors.HTTPRequest {
	base := DefaultBaseURL
	if ch.BaseURL != "" {
		base = strings.TrimRight(ch.BaseURL, "/")
	}
	b := &requestBuf{}
	b.req.Method = method
	b.req.URL = base + path
	b.req.Header = b.hdr[:0]
	b.req.Header = append(b.req.Header, adaptors.Header{Key: "Authorization", Value: "Bearer " + ch.Key})
	if body != nil {
		b.req.Header = append(b.req.Header, adaptors.Header{Key: "Content-Type", Value: "application/json"})
	}
	b.req.Body = body
	return &b.req
}

// BuildRequest implements adaptors.Adaptor for chat, embeddings and
// rerank; other modes fail with adaptors.ErrUnsupportedMode.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	var (
		path string
		body []byte
		err  error
	)
	switch req.Mode {
	case adaptors.ModeChat:
		path = chatPath
		body, err = buildChat(req)
	case adaptors.ModeEmbeddings:
		path = embedPath
		body, err = buildEmbed(ch, req)
	case adaptors.ModeRerank:
		path = rerankPath
		body, err = buildRerank(req)
	default:
		return nil, unsupported(req.Mode)
	}
	if err != nil {
		return nil, err
	}
	return newRequest(ch, "POST", path, body), nil
}

// ParseResponse implements adaptors.Adaptor.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	switch req.Mode {
	case adaptors.ModeChat:
		return parseChat(req, body)
	case adaptors.ModeEmbeddings:
		return parseEmbed(req, body)
	case adaptors.ModeRerank:
		return parseRerank(req, body)
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

// ParseError implements adaptors.Adaptor.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}

// ModelsRequest implements adaptors.ModelLister.
func (a *Adaptor) ModelsRequest(ch *adaptors.Channel) (*adaptors.HTTPRequest, error) {
	return newRequest(ch, "GET", modelsPath, nil), nil
}

// modelList is GET /v1/models.
type modelList struct {
	Models []struct {
		Name      string   `json:"name"`
		Endpoints []string `json:"endpoints"`
	} `json:"models"`
}

// ParseModels implements adaptors.ModelLister: the names of the models
// that serve chat, embed or rerank (the endpoints the gateway reaches), in
// Cohere's order. A model whose endpoints are not listed is kept.
func (a *Adaptor) ParseModels(body []byte) ([]string, error) {
	var l modelList
	if err := decodeAnswer(body, &l); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(l.Models))
	for _, m := range l.Models {
		if m.Name != "" && servesGateway(m.Endpoints) {
			ids = append(ids, m.Name)
		}
	}
	return ids, nil
}

func servesGateway(endpoints []string) bool {
	if len(endpoints) == 0 {
		return true
	}
	for _, e := range endpoints {
		switch e {
		case "chat", "embed", "rerank":
			return true
		}
	}
	return false
}

func unsupported(m adaptors.Mode) error {
	return fmt.Errorf("cohere: %s: %w", m, adaptors.ErrUnsupportedMode)
}

// failedDecoder is the decoder of a mode that has no stream.
type failedDecoder struct{ err error }

func (d failedDecoder) Next() (adaptors.StreamEvent, error) { return adaptors.StreamEvent{}, d.err }

// marshal encodes v. Raw members are embedded as they are: re-compacting
// them (what openaiwire.Marshal does) cost most of the time of a large
// request, and they are compact already — content strings are JSON
// strings, content parts are marshalled here, and every other raw value
// went through rawJSON. An error means a raw value was not JSON after all.
func marshal(v any) ([]byte, error) {
	return sonic.ConfigDefault.Marshal(v)
}

// rawJSON checks a raw value the adaptor forwards verbatim: nil when it is
// absent or null, else the value compacted. sonic checks the structure of
// what it skips but not the inside of strings, so those are checked here
// (control characters, escapes); a value that is not JSON is an error.
func rawJSON(raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	if !validStrings(raw) {
		return nil, errors.New("invalid JSON string")
	}
	if bytes.ContainsAny(raw, " \t\r\n") {
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	return raw, nil
}

// validStrings reports whether every string in the JSON text b is well
// formed: no raw control characters, only JSON's escapes, and closed.
func validStrings(b []byte) bool {
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !in {
			in = c == '"'
			continue
		}
		switch {
		case c == '"':
			in = false
		case c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(b) {
				return false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return false
				}
				for _, h := range b[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return !in
}

// invalidBody wraps adaptors.ErrInvalidBody with what is wrong.
func invalidBody(format string, args ...any) error {
	return fmt.Errorf("cohere: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// invalidResponse wraps adaptors.ErrInvalidResponse with what is wrong.
func invalidResponse(format string, args ...any) error {
	return fmt.Errorf("cohere: %w: %s", adaptors.ErrInvalidResponse, fmt.Sprintf(format, args...))
}

// bodyAPI decodes client bodies: keys match case-sensitively (OpenAI's
// are exact), and strings and sonic.NoCopyRawMessage members alias the
// body, which is read-only and outlives the request being built, so a
// 100 KB conversation is not copied on the way in. Immutable.
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
// in a member is tolerated (the rest decodes); anything that is not a JSON
// object is adaptors.ErrInvalidResponse.
func decodeAnswer(body []byte, v any) error {
	if !openaiwire.IsObject(body) {
		return invalidResponse("answer is not a json object")
	}
	if err := openaiwire.DecodeLenient(body, v); err != nil {
		return invalidResponse("%v", err)
	}
	return nil
}

// eventDecoder decodes stream events without copying: strings in the
// destination alias the event bytes and live only as long as they do. One
// per stream, so events do not each allocate a sonic decoder.
type eventDecoder struct {
	d *decoder.Decoder
}

func newEventDecoder() eventDecoder {
	d := decoder.NewDecoder("")
	d.SetOptions(decoder.OptionCaseSensitive)
	return eventDecoder{d: d}
}

// decode decodes the JSON value b into v; a type mismatch in one member
// (message-start's content is an array where content-delta's is an
// object) is not an error, a syntax error or trailing garbage is.
func (e eventDecoder) decode(b []byte, v any) error {
	e.d.Reset(unsafe.String(unsafe.SliceData(b), len(b)))
	err := e.d.Decode(v)
	if err == nil {
		err = e.d.CheckTrailings()
	} else if isMismatch(err) {
		err = e.d.CheckTrailings()
	}
	e.d.Reset("")
	return err
}

// isMismatch reports whether err is a type mismatch (sonic's native
// decoder reports its own type, the portable fallback encoding/json's).
// Apart from the decoder so that the error targets are not allocated on
// every event.
func isMismatch(err error) bool {
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	return errors.As(err, &mismatch) || errors.As(err, &stdMismatch)
}

// units is one of Cohere's token counters (billed_units or tokens). The
// SDKs type the counts as numbers, not integers; they are whole in
// practice and rounded here.
type units struct {
	InputTokens  float64 `json:"input_tokens"`
	OutputTokens float64 `json:"output_tokens"`
	SearchUnits  float64 `json:"search_units"`
}

// usageWire is v2's usage object (chat), or the meta object (embed,
// rerank, and the early v2 chat answer), which hold the same counters.
type usageWire struct {
	BilledUnits *units `json:"billed_units"`
	Tokens      *units `json:"tokens"`
}

// counts returns the input and output tokens Cohere bills (billed_units),
// or when it sent no billed_units, the tokens the model processed.
func (w *usageWire) counts() (in, out int) {
	if w == nil {
		return 0, 0
	}
	u := w.BilledUnits
	if u == nil {
		u = w.Tokens
	}
	if u == nil {
		return 0, 0
	}
	return whole(u.InputTokens), whole(u.OutputTokens)
}

// usage converts w for billing; nil when it counts no tokens.
func (w *usageWire) usage() *adaptors.Usage {
	in, out := w.counts()
	if in == 0 && out == 0 {
		return nil
	}
	return &adaptors.Usage{PromptTokens: in, CompletionTokens: out, TotalTokens: in + out}
}

// whole rounds a count to an int, treating nonsense (negative, NaN,
// astronomically large) as 0.
func whole(f float64) int {
	if !(f > 0) || f > math.MaxInt32 {
		return 0
	}
	return int(math.Round(f))
}
