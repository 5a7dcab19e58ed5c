package zhipu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/openai"
	"switchyard/adaptors/schema"
)

// ChannelType is One API's channel type number for Zhipu (its channel
// type name "Zhipu").
const ChannelType = 16

// DefaultBaseURL is the BigModel open platform's origin. The API root is
// DefaultBaseURL + APIPath.
const DefaultBaseURL = "https://open.bigmodel.cn"

// APIPath is where the v4 API lives under an origin. A channel base URL
// that already ends in "/paas/v4" (https://open.bigmodel.cn/api/paas/v4,
// the coding plan's https://open.bigmodel.cn/api/coding/paas/v4, Z.ai's
// https://api.z.ai/api/paas/v4) is taken as the API root itself.
const APIPath = "/api/paas/v4"

// Paths of the served modes under the API root.
const (
	chatPath   = "/chat/completions"
	embedPath  = "/embeddings"
	imagesPath = "/images/generations"
)

// Channel config keys and values the adaptor reads.
const (
	// ConfigAuth selects the authentication scheme: AuthJWT (the default,
	// also when empty) or AuthKey.
	ConfigAuth = "auth"
	// AuthJWT sends "Authorization: Bearer <jwt>", an HS256 token minted
	// from the id.secret key (see MintToken).
	AuthJWT = "jwt"
	// AuthKey sends the key itself, "Authorization: Bearer <key>", which
	// the v4 API also accepts.
	AuthKey = "key"
)

// Models is the default model list offered for new Zhipu channels: One
// API's (glm-4, glm-4v, glm-3-turbo, embedding-2, cogview-3) followed by
// the current models of BigModel's model overview. A new slice on each
// call.
func Models() []string {
	return []string{
		"glm-4", "glm-4v", "glm-3-turbo", "embedding-2", "cogview-3",
		"glm-5", "glm-4.7", "glm-4.6", "glm-4.5", "glm-4.5-air", "glm-4.5-x", "glm-4.5-airx", "glm-4.5-flash",
		"glm-4.5v", "glm-4-plus", "glm-4-air-250414", "glm-4-airx", "glm-4-long", "glm-4-flashx", "glm-4-flash",
		"glm-4-flash-250414", "glm-4v-plus-0111", "glm-4v-flash",
		"glm-z1-air", "glm-z1-airx", "glm-z1-flash",
		"embedding-3", "cogview-4", "cogview-4-250304", "cogview-3-flash",
	}
}

// Adaptor speaks BigModel's v4 API. Chat is converted here (the v4 chat
// format is OpenAI's with differences, see doc.go); embeddings and image
// generation are OpenAI's format under v4 paths and go through an inner
// OpenAI-dialect adaptor. Immutable and safe for concurrent use.
type Adaptor struct {
	inner adaptors.Adaptor // embeddings and images
}

var (
	_ adaptors.Adaptor     = (*Adaptor)(nil)
	_ adaptors.TokenMinter = (*Adaptor)(nil)
)

// New returns the Zhipu adaptor.
func New() *Adaptor {
	return &Adaptor{inner: openai.New(openai.Config{
		Name:                  "zhipu",
		BaseURL:               DefaultBaseURL + APIPath,
		EmbeddingsPath:        embedPath,
		ImagesGenerationsPath: imagesPath,
		NoStreamOptions:       true,
	})}
}

// BuildRequest implements adaptors.Adaptor for chat, embeddings and image
// generation; other modes fail with adaptors.ErrUnsupportedMode.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	auth, err := authorization(ch)
	if err != nil {
		return nil, err
	}
	switch req.Mode {
	case adaptors.ModeChat:
		body, err := buildChat(req)
		if err != nil {
			return nil, err
		}
		return newRequest(apiRoot(ch)+chatPath, auth, body, req.Stream), nil
	case adaptors.ModeEmbeddings, adaptors.ModeImagesGenerations:
		return a.buildDelegated(ch, req, auth)
	}
	return nil, unsupported(req.Mode)
}

// ParseResponse implements adaptors.Adaptor.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	switch req.Mode {
	case adaptors.ModeChat:
		return parseChat(req, body)
	case adaptors.ModeEmbeddings, adaptors.ModeImagesGenerations:
		return a.parseDelegated(req, body)
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

// apiRoot returns the v4 API root for ch: its base URL (or the default),
// with APIPath appended unless the base already ends in "/paas/v4".
func apiRoot(ch *adaptors.Channel) string {
	base := DefaultBaseURL
	if ch.BaseURL != "" {
		base = strings.TrimRight(ch.BaseURL, "/")
	}
	if strings.HasSuffix(base, "/paas/v4") {
		return base
	}
	return base + APIPath
}

// requestBuf lets newRequest allocate the request and its headers at once.
type requestBuf struct {
	req adaptors.HTTPRequest
	hdr [3]adaptors.Header
}

// newRequest describes an authenticated POST of a JSON body to url.
func newRequest(url, auth string, body []byte, stream bool) *adaptors.HTTPRequest {
	b := &requestBuf{}
	b.req.Method = "POST"
	b.req.URL = url
	b.req.Header = append(b.hdr[:0],
		adaptors.Header{Key: "Authorization", Value: auth},
		adaptors.Header{Key: "Content-Type", Value: "application/json"})
	if stream {
		b.req.Header = append(b.req.Header, adaptors.Header{Key: "Accept", Value: "text/event-stream"})
	}
	b.req.Body = body
	return &b.req
}

func unsupported(m adaptors.Mode) error {
	return fmt.Errorf("zhipu: %s: %w", m, adaptors.ErrUnsupportedMode)
}

// failedDecoder is the decoder of a mode that has no stream.
type failedDecoder struct{ err error }

func (d failedDecoder) Next() (adaptors.StreamEvent, error) { return adaptors.StreamEvent{}, d.err }

// invalidBody wraps adaptors.ErrInvalidBody with what is wrong.
func invalidBody(format string, args ...any) error {
	return fmt.Errorf("zhipu: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// invalidResponse wraps adaptors.ErrInvalidResponse with what is wrong.
func invalidResponse(format string, args ...any) error {
	return fmt.Errorf("zhipu: %w: %s", adaptors.ErrInvalidResponse, fmt.Sprintf(format, args...))
}

// bodyAPI decodes client bodies: keys match case-sensitively (OpenAI's
// are exact), and strings and sonic.NoCopyRawMessage members alias the
// body, which is read-only and outlives the request being built, so a
// long conversation is not copied on the way in. Immutable.
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

// chunkDecoder decodes stream chunks without copying: strings in the
// destination alias the chunk bytes and live only as long as they do.
// One per stream, so chunks do not each allocate a sonic decoder.
type chunkDecoder struct {
	d *decoder.Decoder
}

func newChunkDecoder() chunkDecoder {
	d := decoder.NewDecoder("")
	d.SetOptions(decoder.OptionCaseSensitive)
	return chunkDecoder{d: d}
}

// decode decodes the JSON value b into v; a type mismatch in one member
// is not an error, a syntax error or trailing garbage is.
func (c chunkDecoder) decode(b []byte, v any) error {
	c.d.Reset(unsafe.String(unsafe.SliceData(b), len(b)))
	err := c.d.Decode(v)
	if err == nil || isMismatch(err) {
		err = c.d.CheckTrailings()
	}
	c.d.Reset("")
	return err
}

// isMismatch reports whether err is a type mismatch (sonic's native
// decoder reports its own type, the portable fallback encoding/json's).
func isMismatch(err error) bool {
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	return errors.As(err, &mismatch) || errors.As(err, &stdMismatch)
}
