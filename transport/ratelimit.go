package transport

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// RateLimit allows Count requests per client address in any span of Per
// (an exact sliding window, as One API counts). Count 0 disables it.
type RateLimit struct {
	Count int
	Per   time.Duration
}

// Limits are the per-address limits of the non-relay routes; the relay is
// limited per token and per user instead. They are per node: in a cluster
// an address that spreads its requests over the nodes gets each node's
// allowance.
type Limits struct {
	// API covers /api/* and /dashboard/*; requests authenticated with a
	// root access token are not limited. Default 480 per 180 s.
	API RateLimit
	// Web covers the web UI's pages and files. Default 240 per 180 s.
	Web RateLimit
	// Critical covers login, registration, password reset, verification
	// mail, OAuth and top-up, on top of API. Default 20 per 20 min.
	Critical RateLimit
}

// DefaultLimits are One API's.
func DefaultLimits() Limits {
	return Limits{
		API:      RateLimit{Count: 480, Per: 180 * time.Second},
		Web:      RateLimit{Count: 240, Per: 180 * time.Second},
		Critical: RateLimit{Count: 20, Per: 20 * time.Minute},
	}
}

// window is an exact sliding-window limiter: it remembers the times of the
// last Count admitted events per key and admits a new one when fewer are
// remembered or the oldest left the window. Refused events are not
// counted. Safe for concurrent use.
type window struct {
	RateLimit
	mu        sync.Mutex
	keys      map[string]*ring
	lastSweep time.Time
}

// ring holds up to limit event times (Unix ns), oldest at head.
type ring struct {
	at   []int64
	head int
	n    int
}

func newWindow(l RateLimit) *window {
	if l.Count <= 0 || l.Per <= 0 {
		return nil
	}
	return &window{RateLimit: l, keys: map[string]*ring{}}
}

// allow admits an event for key at now, or says how long until it would
// be admitted. A nil window admits everything.
func (w *window) allow(key string, now time.Time) (bool, time.Duration) {
	if w == nil {
		return true, 0
	}
	ns := now.UnixNano()
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.lastSweep) > w.Per {
		w.sweep(ns)
		w.lastSweep = now
	}
	r := w.keys[key]
	if r == nil {
		r = &ring{at: make([]int64, w.Count)}
		w.keys[key] = r
	}
	if r.n < w.Count {
		r.at[(r.head+r.n)%w.Count] = ns
		r.n++
		return true, 0
	}
	oldest := r.at[r.head]
	if wait := oldest + int64(w.Per) - ns; wait > 0 {
		return false, time.Duration(wait)
	}
	r.at[r.head] = ns
	r.head = (r.head + 1) % w.Count
	return true, 0
}

// sweep forgets keys with no event inside the window.
func (w *window) sweep(now int64) {
	for k, r := range w.keys {
		newest := r.at[(r.head+r.n-1+w.Count)%w.Count]
		if r.n == 0 || newest+int64(w.Per) <= now {
			delete(w.keys, k)
		}
	}
}

// retryAfter formats a wait for the Retry-After header: whole seconds,
// at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// criticalPaths are the routes that get the Critical limit: where a
// password, a mail or money is at stake.
var criticalPaths = []string{
	"/api/user/login", "/api/user/register", "/api/user/reset", "/api/reset_password",
	"/api/verification", "/api/oauth/", "/api/user/topup", "/api/user/pay",
}

// relayPrefixes are the relay's paths: limited per token and user, not per
// address.
var relayPrefixes = [][]byte{[]byte("/v1/"), []byte("/v1beta/")}

// limiter applies Limits by path.
type limiter struct {
	api, web, critical *window
	// rootAccess reports whether an Authorization value is a root
	// management access token (those requests are not limited).
	rootAccess func(token string) bool
}

func (l *limiter) middleware(ctx context.Context, c *app.RequestContext) {
	path := c.Request.URI().Path()
	// The relay (the hot path) is passed through first, without a copy of
	// the path.
	for _, pre := range relayPrefixes {
		if bytes.HasPrefix(path, pre) {
			c.Next(ctx)
			return
		}
	}
	p := string(path)
	deny := func(wait time.Duration, api bool) {
		c.Response.Header.Set("Retry-After", retryAfter(wait))
		if api {
			c.AbortWithStatusJSON(http.StatusTooManyRequests, map[string]any{
				"success": false, "message": "Too many requests from your address; try again in " + retryAfter(wait) + " s.",
			})
			return
		}
		c.AbortWithStatus(http.StatusTooManyRequests)
	}
	switch {
	case p == "/v1" || p == "/healthz" || p == "/readyz" || p == "/metrics" || strings.HasPrefix(p, "/debug/"):
		// The relay is limited per token and user; probes are not limited.
	case strings.HasPrefix(p, "/api/") || p == "/api" || strings.HasPrefix(p, "/dashboard/"):
		now, ip := time.Now(), clientAddr(c).String()
		if l.rootAccess != nil {
			if auth := string(c.Request.Header.Peek("Authorization")); auth != "" &&
				l.rootAccess(strings.TrimPrefix(auth, "Bearer ")) {
				break
			}
		}
		if ok, wait := l.api.allow(ip, now); !ok {
			deny(wait, true)
			return
		}
		for _, cp := range criticalPaths {
			if p == cp || strings.HasSuffix(cp, "/") && strings.HasPrefix(p, cp) {
				if ok, wait := l.critical.allow(ip, now); !ok {
					deny(wait, true)
					return
				}
				break
			}
		}
	default:
		if ok, wait := l.web.allow(clientAddr(c).String(), time.Now()); !ok {
			deny(wait, false)
			return
		}
	}
	c.Next(ctx)
}
