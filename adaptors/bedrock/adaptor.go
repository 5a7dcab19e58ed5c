package bedrock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"switchyard/adaptors"
	"switchyard/adaptors/anthropic"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is the Bedrock runtime endpoint; {region} stands for the
// channel's region. A channel's base_url replaces it (a VPC endpoint, a
// proxy), and the request is then signed for that URL's host.
const DefaultBaseURL = "https://bedrock-runtime.{region}.amazonaws.com"

// signingName is the SigV4 service name of both the runtime
// (bedrock-runtime.…) and the control plane (bedrock.…) endpoints.
const signingName = "bedrock"

// ErrNoCredentials is wrapped by BuildRequest and ModelsRequest when the
// channel's key and config hold no usable credentials (see the package
// documentation for the accepted forms).
var ErrNoCredentials = errors.New("bedrock: channel has no usable credentials")

// Options configure an Adaptor. The zero value is ready to use.
type Options struct {
	// Now is the clock requests are signed with (SigV4 signatures carry
	// their time and AWS refuses ones more than 5 minutes off). nil
	// means time.Now. It must be safe for concurrent use.
	Now func() time.Time
}

// Adaptor speaks to Amazon Bedrock Runtime. It holds only immutable
// configuration and is safe for concurrent use.
type Adaptor struct {
	now func() time.Time
}

// New returns a Bedrock adaptor.
func New(opt Options) *Adaptor {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	return &Adaptor{now: now}
}

// The capabilities the adaptor has.
var (
	_ adaptors.Adaptor      = (*Adaptor)(nil)
	_ adaptors.ModelLister  = (*Adaptor)(nil)
	_ adaptors.ImageInliner = (*Adaptor)(nil)
)

// auth is how a channel authenticates: SigV4 with cred, or a Bedrock API
// key sent as a bearer token.
type auth struct {
	region string
	bearer string
	cred   credentials
}

// channelAuth reads the channel's credentials: Config api_key (a Bedrock
// API key); a key "AK|SK|region" or "AK|SK|region|session_token"; Config
// ak/sk (or access_key/secret_key) with region and optional
// session_token; or a key without "|" on a channel with a region (or a
// base URL), taken as a Bedrock API key.
func channelAuth(ch *adaptors.Channel) (auth, error) {
	cfg := ch.Config
	a := auth{region: strings.TrimSpace(cfg["region"])}
	if k := cfg["api_key"]; k != "" {
		a.bearer = k
		return a, nil
	}
	if strings.Contains(ch.Key, "|") {
		parts := strings.Split(strings.TrimSpace(ch.Key), "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if len(parts) < 3 || len(parts) > 4 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return a, fmt.Errorf("%w: the key must be AK|SK|region or AK|SK|region|session_token", ErrNoCredentials)
		}
		a.cred = credentials{AccessKey: parts[0], SecretKey: parts[1]}
		a.region = parts[2]
		if len(parts) == 4 {
			a.cred.SessionToken = parts[3]
		}
		return a, nil
	}
	ak, sk := first(cfg["ak"], cfg["access_key"]), first(cfg["sk"], cfg["secret_key"])
	if ak != "" || sk != "" {
		if ak == "" || sk == "" {
			return a, fmt.Errorf("%w: config needs both ak and sk", ErrNoCredentials)
		}
		if a.region == "" {
			return a, fmt.Errorf("%w: config has no region to sign for", ErrNoCredentials)
		}
		a.cred = credentials{AccessKey: ak, SecretKey: sk, SessionToken: cfg["session_token"]}
		return a, nil
	}
	if key := strings.TrimSpace(ch.Key); key != "" && (a.region != "" || ch.BaseURL != "") {
		a.bearer = key
		return a, nil
	}
	return a, ErrNoCredentials
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// endpoint returns the origin and path prefix requests go to: the
// channel's base URL, or the service's regional endpoint. host is the
// Host header the signature covers.
func endpoint(ch *adaptors.Channel, a *auth, service string) (origin, prefix, host string, err error) {
	base := strings.TrimRight(ch.BaseURL, "/")
	if base == "" {
		if a.region == "" {
			return "", "", "", fmt.Errorf("bedrock: no region: %w", adaptors.ErrNoBaseURL)
		}
		if !validRegion(a.region) {
			return "", "", "", fmt.Errorf("%w: region %q is not an AWS region name", ErrNoCredentials, a.region)
		}
		host = service + "." + a.region + ".amazonaws.com"
		return "https://" + host, "", host, nil
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", "", fmt.Errorf("bedrock: base url %q is not an http(s) URL", base)
	}
	host = u.Host
	if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		host = u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	// The URL carries the host as signed: a default port is dropped from
	// both, so no client can send a Host header the signature does not
	// cover.
	return u.Scheme + "://" + host, u.EscapedPath(), host, nil
}

// validRegion reports whether r can be an AWS region name (us-east-1,
// us-gov-west-1, …), so a mistyped config cannot redirect requests to
// another host.
func validRegion(r string) bool {
	for i := 0; i < len(r); i++ {
		if c := r[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return r != ""
}

// requestBuf lets BuildRequest allocate the request and its headers in
// one allocation.
type requestBuf struct {
	req adaptors.HTTPRequest
	hdr [5]adaptors.Header
}

// BuildRequest implements adaptors.Adaptor for chat: Claude models go to
// InvokeModel (or InvokeModelWithResponseStream) with the Messages body,
// every other model to Converse (or ConverseStream).
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	if req.Mode != adaptors.ModeChat {
		return nil, fmt.Errorf("bedrock: %s: %w", req.Mode, adaptors.ErrUnsupportedMode)
	}
	au, err := channelAuth(ch)
	if err != nil {
		return nil, err
	}
	id := ModelID(req.Model)
	var body []byte
	var op string
	if isClaude(id) {
		body, err = claudeBody(ch, req)
		op = "/invoke"
		if req.Stream {
			op = "/invoke-with-response-stream"
		}
	} else {
		body, err = buildConverse(req.Body, configInt(ch.Config["max_tokens"]))
		op = "/converse"
		if req.Stream {
			op = "/converse-stream"
		}
	}
	if err != nil {
		return nil, err
	}
	origin, prefix, host, err := endpoint(ch, &au, "bedrock-runtime")
	if err != nil {
		return nil, err
	}
	p := make([]byte, 0, len(prefix)+len("/model/")+3*len(id)+len(op))
	p = append(p, prefix...)
	p = append(p, "/model/"...)
	p = appendPathSegment(p, id)
	p = append(p, op...)
	path := string(p)

	b := &requestBuf{}
	b.req.Method = "POST"
	b.req.URL = origin + path
	b.req.Body = body
	b.req.Header = append(b.hdr[:0], adaptors.Header{Key: "Content-Type", Value: "application/json"})
	b.req.Header = a.authorize(b.req.Header, &au, signingName, "POST", host, path, body)
	return &b.req, nil
}

// authorize appends the auth headers: a bearer token, or a SigV4
// signature over hs (which must already hold every other header).
func (a *Adaptor) authorize(hs []adaptors.Header, au *auth, service, method, host, path string, body []byte) []adaptors.Header {
	if au.bearer != "" {
		return append(hs, adaptors.Header{Key: "Authorization", Value: "Bearer " + au.bearer})
	}
	return sign(hs, &signRequest{
		Method:  method,
		Host:    host,
		Path:    path,
		Header:  hs,
		Body:    body,
		Service: service,
		Region:  au.region,
		Time:    a.now(),
	}, &au.cred)
}

// ParseResponse implements adaptors.Adaptor: a Claude Message or a
// Converse answer, told apart by the model.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if isClaude(ModelID(req.Model)) {
		return parseClaude(req, body)
	}
	return parseConverse(req, body)
}

// parseClaude converts an InvokeModel answer of a Claude model: the
// Messages API's Message, which anthropic.ParseMessage reads. A 2xx body
// that is Bedrock's {"message":…} error is a *schema.Error.
func parseClaude(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if isObject(body) && !bytes.Contains(body, []byte(`"type"`)) {
		var w errorWire
		if decodeLoose(body, &w) == nil && first(w.Message, w.MessageCap) != "" {
			return nil, parseError(http.StatusBadGateway, body)
		}
	}
	return anthropic.ParseMessage(req, body)
}

// NewStreamDecoder implements adaptors.Adaptor. Both stream kinds are AWS
// event streams; Claude's carry Anthropic events in "chunk" messages,
// ConverseStream's carry Converse events.
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	if isClaude(ModelID(req.Model)) {
		return newClaudeStream(req, body)
	}
	return newConverseStream(req, body)
}

// ParseError implements adaptors.Adaptor.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}

// InlinesImages implements adaptors.ImageInliner: Bedrock takes images
// only inline, so the transport must fetch http(s) image URLs first.
func (a *Adaptor) InlinesImages(ch *adaptors.Channel, req *adaptors.Request) bool {
	return req.Mode == adaptors.ModeChat && bytes.Contains(req.Body, []byte(`"image_url"`)) &&
		(bytes.Contains(req.Body, []byte(`"http://`)) || bytes.Contains(req.Body, []byte(`"https://`)))
}
