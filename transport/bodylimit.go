package transport

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/adaptors/anthropic"
	"switchyard/adaptors/gemini"
)

// apiBodyBytes caps management API bodies (they are small JSON objects).
const apiBodyBytes = 4 << 20

// bodyLimitMW refuses bodies over the route's limit with 413 in the
// route's envelope: MaxBodyBytes on the relay, apiBodyBytes on /api. The
// server itself accepts up to twice MaxBodyBytes, so that a client sending
// somewhat too much gets this answer; beyond that the connection is
// closed.
func (s *Server) bodyLimitMW(ctx context.Context, c *app.RequestContext) {
	n := c.Request.Header.ContentLength()
	if n < 0 { // chunked: the body is read by now
		n = len(c.Request.Body())
	}
	if n <= min(s.cfg.MaxBodyBytes, apiBodyBytes) { // within every limit: the usual case
		c.Next(ctx)
		return
	}
	p := string(c.Request.URI().Path())
	limit := s.cfg.MaxBodyBytes
	isAPI := strings.HasPrefix(p, "/api/")
	if isAPI {
		limit = apiBodyBytes
	}
	if n <= limit {
		c.Next(ctx)
		return
	}
	msg := "The request body is too large: at most " + strconv.Itoa(limit>>20) + " MiB."
	switch {
	case isAPI:
		b, _ := sonic.Marshal(map[string]any{"success": false, "message": msg})
		c.Data(http.StatusRequestEntityTooLarge, "application/json", b)
	case p == "/v1/messages":
		c.Data(http.StatusRequestEntityTooLarge, "application/json", anthropic.ErrorBody(http.StatusRequestEntityTooLarge, msg))
	case strings.HasPrefix(p, "/v1beta/"):
		c.Data(http.StatusRequestEntityTooLarge, "application/json", gemini.ErrorBody(http.StatusRequestEntityTooLarge, msg))
	default:
		writeError(c, apiError(http.StatusRequestEntityTooLarge, typeInvalidRequest, "request_too_large", msg), "")
	}
	c.Abort()
}
