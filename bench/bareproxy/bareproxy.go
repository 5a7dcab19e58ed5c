// Package bareproxy is the bench's "limit of our stack": a Hertz server plus
// a Hertz client (standard dialer) that forward /v1/* to one upstream and
// do nothing else — no auth, no routing, no accounting, no JSON work beyond
// a byte scan for "stream":true. SSE answers are relayed as they arrive
// (one flush per upstream read, which with a flushing upstream is one flush
// per event), and an aborted client stream force-closes the upstream
// connection.
package bareproxy

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/client"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/network/standard"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/cloudwego/hertz/pkg/protocol/http1/resp"

	"switchyard/bench/internal/benchsrv"
	"switchyard/bench/internal/oaijson"
)

// Proxy forwards to one upstream base URL.
type Proxy struct {
	base   string // e.g. http://127.0.0.1:18080, no trailing slash
	host   string
	plain  *client.Client
	stream *client.Client
}

// New builds a proxy to upstream (http://host:port).
func New(upstream string) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("bad upstream %q", upstream)
	}
	common := []config.ClientOption{
		client.WithDialer(standard.NewDialer()),
		client.WithMaxConnsPerHost(16384),
		client.WithMaxConnWaitTimeout(5 * time.Second),
		client.WithMaxIdleConnDuration(30 * time.Second),
		client.WithDialTimeout(5 * time.Second),
		client.WithNoDefaultUserAgentHeader(true),
	}
	plain, err := client.NewClient(common...)
	if err != nil {
		return nil, err
	}
	stream, err := client.NewClient(append(common, client.WithResponseBodyStream(true))...)
	if err != nil {
		return nil, err
	}
	return &Proxy{base: u.Scheme + "://" + u.Host, host: u.Host, plain: plain, stream: stream}, nil
}

// NewServer returns a Hertz server on addr with the proxy's routes and a
// GET /healthz.
func (p *Proxy) NewServer(addr string, opts ...config.Option) *server.Hertz {
	h := benchsrv.New(addr, opts...)
	p.Register(h)
	return h
}

// Register adds the routes to h.
func (p *Proxy) Register(h *server.Hertz) {
	h.GET("/healthz", func(_ context.Context, c *app.RequestContext) { c.Data(200, "text/plain", []byte("ok")) })
	h.Any("/v1/*path", p.Handle)
}

// Handle forwards one request.
func (p *Proxy) Handle(ctx context.Context, c *app.RequestContext) {
	req := protocol.AcquireRequest()
	defer protocol.ReleaseRequest(req)
	res := protocol.AcquireResponse()
	defer protocol.ReleaseResponse(res)

	c.Request.Header.CopyTo(&req.Header)
	req.SetRequestURI(p.base + string(c.Request.URI().RequestURI()))
	req.Header.SetHost(p.host)
	body := c.Request.Body()
	req.SetBodyRaw(body)

	if !oaijson.IsStream(body) {
		if err := p.plain.Do(ctx, req, res); err != nil {
			c.Data(502, "application/json", []byte(`{"error":{"message":"upstream: `+jsonSafe(err.Error())+`","type":"bad_gateway"}}`))
			return
		}
		res.Header.CopyTo(&c.Response.Header)
		protocol.SwapResponseBody(&c.Response, res) // zero-copy hand-over
		return
	}

	if err := p.stream.Do(ctx, req, res); err != nil {
		c.Data(502, "application/json", []byte(`{"error":{"message":"upstream: `+jsonSafe(err.Error())+`","type":"bad_gateway"}}`))
		return
	}
	up := res.BodyStream()
	forceClose := func() {
		if fc, ok := up.(interface{ ForceClose() error }); ok {
			_ = fc.ForceClose()
		}
	}
	stop := context.AfterFunc(ctx, forceClose) // client went away mid-stream
	defer stop()

	c.Response.SetStatusCode(res.StatusCode())
	c.Response.Header.SetContentTypeBytes(res.Header.ContentType())
	c.Response.Header.Set("Cache-Control", "no-cache")
	w := resp.NewChunkedBodyWriter(&c.Response, c.GetWriter())
	c.Response.HijackWriter(w)

	buf := make([]byte, 8192)
	for {
		n, rerr := up.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				forceClose()
				return
			}
			if err := w.Flush(); err != nil {
				forceClose()
				return
			}
		}
		if rerr == io.EOF {
			_ = res.CloseBodyStream()
			return
		}
		if rerr != nil {
			forceClose()
			return
		}
	}
}

func jsonSafe(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			out = append(out, '\\', ch)
		case ch < 0x20:
			out = append(out, ' ')
		default:
			out = append(out, ch)
		}
	}
	return string(out)
}
