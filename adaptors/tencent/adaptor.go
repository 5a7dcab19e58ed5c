package tencent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is Hunyuan's API 3.0 endpoint. Every call is a POST of
// its root path; the action is named in the X-TC-Action header.
const DefaultBaseURL = "https://hunyuan.tencentcloudapi.com"

// APIVersion is the Hunyuan API version the adaptor speaks, sent in
// X-TC-Version.
const APIVersion = "2023-09-01"

// SigningService is the service name in the TC3 credential scope
// (date/hunyuan/tc3_request). It names the product, not the host: the
// documentation says it must match the product's domain
// (hunyuan.tencentcloudapi.com) and tencentcloud-sdk-go takes it from the
// service, whatever endpoint the client was pointed at. So a channel whose
// base_url is a proxy still signs for "hunyuan"; the proxy forwards to
// Hunyuan, which checks the scope against its own name.
const SigningService = "hunyuan"

// The API 3.0 actions the adaptor calls.
const (
	actionChat  = "ChatCompletions"
	actionEmbed = "GetEmbedding"
)

// ErrNoCredentials is wrapped by BuildRequest when the channel's key is not
// "AppId|SecretId|SecretKey" or "SecretId|SecretKey".
var ErrNoCredentials = errors.New("tencent: channel has no usable credentials")

// Models returns the default model list for new Tencent Hunyuan channels:
// One API's names (hunyuan-lite, hunyuan-standard, hunyuan-standard-256K,
// hunyuan-pro, hunyuan-vision, hunyuan-embedding) and the current models
// the ChatCompletions reference names (hunyuan-turbos-latest,
// hunyuan-t1-latest, hunyuan-turbo, hunyuan-functioncall, …). A new slice
// on each call.
func Models() []string {
	return []string{
		"hunyuan-turbos-latest", "hunyuan-t1-latest", "hunyuan-turbo-latest", "hunyuan-turbo",
		"hunyuan-large", "hunyuan-functioncall", "hunyuan-code", "hunyuan-role",
		"hunyuan-turbo-vision", "hunyuan-vision",
		"hunyuan-lite", "hunyuan-standard", "hunyuan-standard-256K", "hunyuan-pro",
		"hunyuan-embedding",
	}
}

// Options configure an Adaptor. The zero value is ready to use.
type Options struct {
	// Now is the clock requests are signed with: TC3 signatures carry
	// their time, and Tencent refuses one more than 5 minutes off
	// (AuthFailure.SignatureExpire). nil means time.Now. It must be safe
	// for concurrent use.
	Now func() time.Time
}

// Adaptor speaks Tencent Hunyuan's API 3.0 (version 2023-09-01). It holds
// only its clock and is safe for concurrent use.
type Adaptor struct {
	now func() time.Time
}

// New returns a Tencent Hunyuan adaptor.
func New(opt Options) *Adaptor {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	return &Adaptor{now: now}
}

var _ adaptors.Adaptor = (*Adaptor)(nil)

// credentials are a Tencent Cloud API key pair.
type credentials struct {
	secretID, secretKey string
}

// channelCredentials reads the channel key: One API's
// "AppId|SecretId|SecretKey" (the AppId is not part of an API 3.0 call and
// is ignored) or "SecretId|SecretKey".
func channelCredentials(key string) (credentials, error) {
	first, rest, ok := strings.Cut(strings.TrimSpace(key), "|")
	if !ok || strings.Count(rest, "|") > 1 {
		return credentials{}, fmt.Errorf("%w: the key must be AppId|SecretId|SecretKey or SecretId|SecretKey", ErrNoCredentials)
	}
	c := credentials{secretID: first, secretKey: rest}
	if id, sk, three := strings.Cut(rest, "|"); three {
		c = credentials{secretID: id, secretKey: sk}
	}
	c.secretID, c.secretKey = strings.TrimSpace(c.secretID), strings.TrimSpace(c.secretKey)
	if c.secretID == "" || c.secretKey == "" {
		return credentials{}, fmt.Errorf("%w: SecretId or SecretKey is empty", ErrNoCredentials)
	}
	if !headerSafe(c.secretID) {
		return credentials{}, fmt.Errorf("%w: SecretId has characters a key never has", ErrNoCredentials)
	}
	return c, nil
}

// headerSafe reports whether s can go into the Authorization credential:
// printable ASCII without spaces and the separators of that header.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' || c == '/' || c == '=' {
			return false
		}
	}
	return true
}

// endpoint returns the URL requests go to ({base}/) and the Host header
// the signature covers. A default port is dropped from both, as HTTP
// clients drop it from the Host they send.
func endpoint(ch *adaptors.Channel) (target, host string, err error) {
	if ch.BaseURL == "" {
		return DefaultBaseURL + "/", "hunyuan.tencentcloudapi.com", nil
	}
	base := strings.TrimRight(ch.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("tencent: base url %q is not an http(s) URL without query", ch.BaseURL)
	}
	host = u.Host
	if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		host = u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return u.Scheme + "://" + host + u.EscapedPath() + "/", host, nil
}

// validRegion reports whether r can be a Tencent Cloud region name
// (ap-guangzhou, na-siliconvalley, …), so that a mistyped config never
// puts anything odd in a header.
func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// requestBuf lets BuildRequest allocate the request and its headers at
// once.
type requestBuf struct {
	req adaptors.HTTPRequest
	hdr [7]adaptors.Header
}

// BuildRequest implements adaptors.Adaptor for chat (ChatCompletions) and
// embeddings (GetEmbedding); other modes fail with
// adaptors.ErrUnsupportedMode. The request is signed with the adaptor's
// clock, read once.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	var action string
	switch req.Mode {
	case adaptors.ModeChat:
		action = actionChat
	case adaptors.ModeEmbeddings:
		action = actionEmbed
	default:
		return nil, unsupported(req.Mode)
	}
	cred, err := channelCredentials(ch.Key)
	if err != nil {
		return nil, err
	}
	target, host, err := endpoint(ch)
	if err != nil {
		return nil, err
	}
	region := strings.TrimSpace(ch.Config["region"])
	if region != "" && !validRegion(region) {
		return nil, fmt.Errorf("tencent: region %q is not a Tencent Cloud region name", region)
	}
	var body []byte
	if action == actionChat {
		body, err = buildChat(req)
	} else {
		body, err = buildEmbed(req)
	}
	if err != nil {
		return nil, err
	}
	ts := a.now().Unix()
	auth := appendAuthorization(make([]byte, 0, authorizationLen(cred.secretID, SigningService)), &tc3Request{
		secretID: cred.secretID, secretKey: cred.secretKey, host: host, action: action,
		contentType: contentJSON, service: SigningService, timestamp: ts, body: body,
	})

	b := &requestBuf{}
	b.req.Method = "POST"
	b.req.URL = target
	b.req.Body = body
	h := b.hdr[:0]
	h = append(h,
		adaptors.Header{Key: "Content-Type", Value: contentJSON},
		adaptors.Header{Key: "Host", Value: host},
		adaptors.Header{Key: "X-TC-Action", Value: action},
		adaptors.Header{Key: "X-TC-Version", Value: APIVersion},
		adaptors.Header{Key: "X-TC-Timestamp", Value: strconv.FormatInt(ts, 10)},
	)
	if region != "" {
		h = append(h, adaptors.Header{Key: "X-TC-Region", Value: region})
	}
	// auth is never written again, so the header may alias it.
	h = append(h, adaptors.Header{Key: "Authorization", Value: unsafe.String(unsafe.SliceData(auth), len(auth))})
	b.req.Header = h
	return &b.req, nil
}

// ParseResponse implements adaptors.Adaptor.
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

// ParseError implements adaptors.Adaptor.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}

func unsupported(m adaptors.Mode) error {
	return fmt.Errorf("tencent: %s: %w", m, adaptors.ErrUnsupportedMode)
}

// failedDecoder is the decoder of a mode that has no stream.
type failedDecoder struct{ err error }

func (d failedDecoder) Next() (adaptors.StreamEvent, error) { return adaptors.StreamEvent{}, d.err }

// invalidBody wraps adaptors.ErrInvalidBody with what is wrong.
func invalidBody(format string, args ...any) error {
	return fmt.Errorf("tencent: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// invalidResponse wraps adaptors.ErrInvalidResponse with what is wrong.
func invalidResponse(format string, args ...any) error {
	return fmt.Errorf("tencent: %w: %s", adaptors.ErrInvalidResponse, fmt.Sprintf(format, args...))
}

// bodyAPI decodes client bodies: keys match case-sensitively (OpenAI's
// are exact), and strings and sonic.NoCopyRawMessage members alias the
// body, which is read-only and outlives the request being built. Immutable.
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

// decodeAnswer decodes a 2xx JSON object answer into v. A type mismatch in
// one member is tolerated (the rest decodes); anything that is not a JSON
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

// marshal encodes v. Raw members are embedded as they are; every raw value
// the adaptor forwards went through rawJSON or is a validated JSON string.
func marshal(v any) ([]byte, error) {
	return sonic.ConfigDefault.Marshal(v)
}

// rawJSON checks a raw value the adaptor forwards: nil when absent or
// null, else the value compacted (a tool's parameters go to Hunyuan as a
// JSON string, which must hold valid, compact JSON).
func rawJSON(raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, errors.New("not valid JSON")
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

// decode decodes the JSON value b into v; a type mismatch in one member is
// not an error, a syntax error or trailing garbage is.
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

// usageWire is Hunyuan's Usage (chat) and EmbeddingUsage (embeddings).
type usageWire struct {
	PromptTokens     int64 `json:"PromptTokens"`
	CompletionTokens int64 `json:"CompletionTokens"`
	TotalTokens      int64 `json:"TotalTokens"`
}

// usage converts w in OpenAI terms; ok is false when it counts nothing.
// Hunyuan reports no cached or reasoning token counts; total is prompt +
// completion (what Hunyuan's TotalTokens holds), or Hunyuan's total alone
// when it sent nothing else.
func (w *usageWire) usage() (u adaptors.Usage, ok bool) {
	if w == nil {
		return u, false
	}
	p, c := count(w.PromptTokens), count(w.CompletionTokens)
	if p == 0 && c == 0 {
		if t := count(w.TotalTokens); t > 0 {
			return adaptors.Usage{PromptTokens: t, TotalTokens: t}, true
		}
		return u, false
	}
	return adaptors.Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}, true
}

// count bounds a token count: negative or absurd values are 0.
func count(n int64) int {
	if n <= 0 || n > 1<<31 {
		return 0
	}
	return int(n)
}
