package transport

import (
	"context"
	"crypto/tls"
	"io"
	"time"

	"github.com/cloudwego/hertz/pkg/app/client"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/network/standard"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"switchyard/adaptors"
)

// UpstreamConfig tunes the upstream HTTP clients.
type UpstreamConfig struct {
	// MaxConnsPerHost caps connections to one upstream host; every
	// concurrent stream holds one (HTTP/1.1). Default 8192.
	MaxConnsPerHost int
	// ConnWaitTimeout is how long a request waits for a free connection
	// when the cap is reached. Default 5 s.
	ConnWaitTimeout time.Duration
	// DialTimeout bounds connecting. Default 10 s.
	DialTimeout time.Duration
	// IdleConnTimeout closes pooled connections idle this long; keep it
	// below the providers' own idle timeouts. Default 50 s.
	IdleConnTimeout time.Duration
	// RequestTimeout bounds a whole non-stream call. Default 10 min.
	RequestTimeout time.Duration
	// InsecureSkipVerify disables TLS verification (tests only).
	InsecureSkipVerify bool
}

func (c UpstreamConfig) withDefaults() UpstreamConfig {
	if c.MaxConnsPerHost <= 0 {
		c.MaxConnsPerHost = 8192
	}
	if c.ConnWaitTimeout <= 0 {
		c.ConnWaitTimeout = 5 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.IdleConnTimeout <= 0 {
		c.IdleConnTimeout = 50 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Minute
	}
	return c
}

// upstream owns the HTTP clients that call providers. Two clients share
// the settings: one reads whole bodies (non-stream calls), the other hands
// out the body as a stream so that events are relayed as they arrive.
// Both use the standard dialer explicitly: hertz's default netpoll dialer
// cannot speak TLS.
type upstream struct {
	cfg    UpstreamConfig
	whole  *client.Client
	stream *client.Client
}

func newUpstream(cfg UpstreamConfig) (*upstream, error) {
	cfg = cfg.withDefaults()
	mk := func(stream bool) (*client.Client, error) {
		return client.NewClient(
			client.WithDialer(standard.NewDialer()),
			client.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}), //nolint:gosec // opt-in for tests
			client.WithMaxConnsPerHost(cfg.MaxConnsPerHost),
			client.WithMaxConnWaitTimeout(cfg.ConnWaitTimeout),
			client.WithDialTimeout(cfg.DialTimeout),
			client.WithMaxIdleConnDuration(cfg.IdleConnTimeout),
			client.WithResponseBodyStream(stream),
			client.WithNoDefaultUserAgentHeader(true),
			// Send the path exactly as the adaptor escaped it: a SigV4
			// signature (Bedrock) covers "%3A" in a model id, and an
			// inference-profile ARN's "%2F" must not become a "/".
			client.WithDisablePathNormalizing(true),
		)
	}
	whole, err := mk(false)
	if err != nil {
		return nil, err
	}
	stream, err := mk(true)
	if err != nil {
		return nil, err
	}
	return &upstream{cfg: cfg, whole: whole, stream: stream}, nil
}

// do sends hr. The caller releases resp with protocol.ReleaseResponse and,
// for streams, closes the body (forceClose on abort). firstByte, when not
// 0, bounds the wait for the answer (a non-stream call's whole answer, a
// stream's headers).
func (u *upstream) do(ctx context.Context, hr *adaptors.HTTPRequest, stream bool, firstByte ...time.Duration) (*protocol.Response, error) {
	req := protocol.AcquireRequest()
	defer protocol.ReleaseRequest(req)
	req.SetRequestURI(hr.URL)
	if hr.Method == "" {
		req.Header.SetMethod(consts.MethodPost)
	} else {
		req.Header.SetMethod(hr.Method)
	}
	for _, h := range hr.Header {
		req.Header.Set(h.Key, h.Value)
	}
	if hr.Body != nil {
		// No copy: the body (the client's request, or the adaptor's
		// rewrite of it) outlives the call.
		req.SetBodyRaw(hr.Body)
	}
	resp := protocol.AcquireResponse()
	c := u.whole
	timeout := u.cfg.RequestTimeout
	if stream {
		c, timeout = u.stream, 0
	}
	if len(firstByte) > 0 && firstByte[0] > 0 && (timeout == 0 || firstByte[0] < timeout) {
		timeout = firstByte[0]
	}
	if timeout > 0 {
		req.SetOptions(config.WithRequestTimeout(timeout))
	}
	if err := c.Do(ctx, req, resp); err != nil {
		protocol.ReleaseResponse(resp)
		return nil, err
	}
	return resp, nil
}

// forceClose tears down a streaming upstream body without draining it, so
// the provider stops generating (and billing) as soon as possible.
func forceClose(resp *protocol.Response) {
	if fc, ok := resp.BodyStream().(interface{ ForceClose() error }); ok {
		_ = fc.ForceClose()
		return
	}
	_ = resp.CloseBodyStream()
}

// readBody returns a (non-2xx) body; a streaming response's body is read
// up to limit.
func readBody(resp *protocol.Response, stream bool, limit int64) []byte {
	if stream {
		b, _ := io.ReadAll(io.LimitReader(resp.BodyStream(), limit))
		return b
	}
	return resp.Body()
}
