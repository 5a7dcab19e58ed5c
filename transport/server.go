// Package transport is Switchyard's HTTP front: the Hertz server, its
// middleware (request ids, panic recovery, CORS, body limits), the relay
// handlers for /v1/*, the SSE writer and the upstream HTTP client.
//
// A relay request runs on its handler goroutine from start to end:
// authenticate against the token snapshot, peek the body, choose a
// channel, reserve quota with one account-actor round trip, write the Open
// record to the outbox, call the upstream, relay the answer, write the
// Close record, then settle (one-way messages). Nothing on that path waits
// for Raft or for an fsync of its own.
package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/adaptor"
	"github.com/cloudwego/hertz/pkg/common/config"

	"switchyard/actors"
	"switchyard/adaptors"
	"switchyard/storage"
)

// Config configures the HTTP server.
type Config struct {
	// Listen is the address to serve on. Default ":3000".
	Listen string
	// Listener, when set, is used instead of Listen (tests pass one bound
	// to a random port).
	Listener net.Listener
	// MaxBodyBytes caps request bodies. Default 64 MiB (vision requests
	// carry base64 images).
	MaxBodyBytes int
	// DrainTimeout is how long shutdown waits for in-flight requests
	// (streams included) before closing. Default 60 s.
	DrainTimeout time.Duration
	// Upstream tunes the provider HTTP clients.
	Upstream UpstreamConfig
	// Images bounds the downloads of chat image URLs for providers that
	// take images only inline.
	Images ImageFetchConfig
	// Node is this node's id, part of request ids.
	Node string
	// PProf serves /debug/pprof/ (for benchmarks; off by default).
	PProf bool
	// Limits are the per-address limits of /api, the web UI and the
	// critical routes. Nil: DefaultLimits.
	Limits *Limits
	// Logger is required.
	Logger *slog.Logger
}

// Deps are the collaborators of the relay.
type Deps struct {
	Catalog  *actors.Catalog
	Accounts *actors.Accounts
	Health   *actors.HealthBoard
	Outbox   *storage.Outbox
	// Adaptor returns the adaptor for a One API channel type.
	Adaptor func(channelType int) (adaptors.Adaptor, bool)
	// Ready reports whether the node can serve (store applied, leader
	// known) for /readyz.
	Ready func() bool
	// TypeName names a channel type ("openai", "deepseek", …) for the
	// owned_by field of /v1/models.
	TypeName func(channelType int) string
	// RootAccess reports whether a management access token belongs to a
	// root user (exempt from the /api rate limit). Nil: nobody is exempt.
	RootAccess func(token string) bool
	// Store is read (never written) for balances and options by the
	// legacy billing endpoints.
	Store *storage.Store
}

// Server is the node's HTTP server.
type Server struct {
	cfg  Config
	deps Deps
	cat  *actors.Catalog
	h    *server.Hertz
	up   *upstream
	log  *slog.Logger

	limits   *limiter
	cache    *respCache
	images   *imageFetcher
	tokens   *tokenCache
	inflight atomic.Int64
	draining atomic.Bool
	reqSeq   atomic.Uint64
	idPrefix string
}

// New builds the server and registers the relay routes. Other packages
// (admin, ui) add their routes through Hertz before Run.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Logger == nil {
		return nil, errors.New("transport: Config.Logger is required")
	}
	if cfg.Listen == "" {
		cfg.Listen = ":3000"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 60 * time.Second
	}
	up, err := newUpstream(cfg.Upstream)
	if err != nil {
		return nil, err
	}
	opts := []config.Option{
		server.WithMaxRequestBodySize(2 * max(cfg.MaxBodyBytes, apiBodyBytes)), // bodyLimitMW answers up to here
		server.WithSenseClientDisconnection(true),
		server.WithDisablePrintRoute(true),
		server.WithExitWaitTime(time.Second),
		server.WithIdleTimeout(3 * time.Minute),
		server.WithReadTimeout(3 * time.Minute),
	}
	if cfg.Listener != nil {
		opts = append(opts, server.WithListener(cfg.Listener))
	} else {
		opts = append(opts, server.WithHostPorts(cfg.Listen))
	}
	lim := DefaultLimits()
	if cfg.Limits != nil {
		lim = *cfg.Limits
	}
	s := &Server{
		cfg: cfg, deps: deps, cat: deps.Catalog, h: server.New(opts...), up: up, log: cfg.Logger,
		idPrefix: strconv.FormatInt(time.Now().UnixMilli(), 36) + cfg.Node,
		limits: &limiter{api: newWindow(lim.API), web: newWindow(lim.Web), critical: newWindow(lim.Critical),
			rootAccess: deps.RootAccess},
		cache:  newRespCache(),
		images: newImageFetcher(cfg.Images),
		tokens: newTokenCache(),
	}
	s.routes()
	return s, nil
}

// Hertz exposes the engine so that admin and ui can add routes.
func (s *Server) Hertz() *server.Hertz { return s.h }

// Run serves until Shutdown. It returns nil after a clean shutdown.
func (s *Server) Run() error {
	err := s.h.Run()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops admitting relay requests, waits for the in-flight ones
// (streams included) up to DrainTimeout or ctx, then closes the server.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DrainTimeout)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-dctx.Done():
			s.log.Warn("shutdown: requests still in flight", "count", s.inflight.Load())
			return s.h.Shutdown(ctx)
		case <-t.C:
		}
	}
	return s.h.Shutdown(ctx)
}

const headerRequestID = "X-Oneapi-Request-Id"

func (s *Server) newRequestID() string {
	return s.idPrefix + "-" + strconv.FormatUint(s.reqSeq.Add(1), 36)
}

func (s *Server) routes() {
	h := s.h
	h.Use(s.recoverMW, corsMW, s.limits.middleware, s.bodyLimitMW)
	h.GET("/healthz", func(_ context.Context, c *app.RequestContext) { c.String(http.StatusOK, "ok") })
	h.GET("/readyz", func(_ context.Context, c *app.RequestContext) {
		if s.deps.Ready != nil && !s.deps.Ready() {
			c.String(http.StatusServiceUnavailable, "not ready")
			return
		}
		c.String(http.StatusOK, "ready")
	})
	v1 := h.Group("/v1")
	v1.POST("/chat/completions", s.relay(adaptors.ModeChat))
	v1.POST("/completions", s.relay(adaptors.ModeCompletions))
	v1.POST("/embeddings", s.relay(adaptors.ModeEmbeddings))
	v1.POST("/engines/:model/embeddings", s.relay(adaptors.ModeEmbeddings))
	v1.POST("/images/generations", s.relay(adaptors.ModeImagesGenerations))
	v1.POST("/images/edits", s.relay(adaptors.ModeImagesEdits))
	v1.POST("/images/variations", s.relay(adaptors.ModeImagesVariations))
	v1.POST("/audio/speech", s.relay(adaptors.ModeAudioSpeech))
	v1.POST("/audio/transcriptions", s.relay(adaptors.ModeAudioTranscriptions))
	v1.POST("/audio/translations", s.relay(adaptors.ModeAudioTranslations))
	v1.POST("/moderations", s.relay(adaptors.ModeModerations))
	v1.POST("/rerank", s.relay(adaptors.ModeRerank))
	v1.POST("/responses", s.relay(adaptors.ModeResponses))
	v1.POST("/messages", s.native(s.convertAnthropic))
	h.POST("/v1beta/models/*action", s.native(s.convertGemini))
	v1.GET("/models", s.listModels)
	v1.GET("/models/:model", s.getModel)
	for _, prefix := range []string{"/dashboard", "/v1/dashboard"} {
		h.GET(prefix+"/billing/subscription", s.billingSubscription)
		h.GET(prefix+"/billing/usage", s.billingUsage)
	}
	if s.cfg.PProf {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		h.GET("/debug/pprof/*name", adaptor.HertzHandler(mux))
	}
}

// NotFound answers unknown paths: the OpenAI envelope under /v1 and /api
// (One API's behaviour); fallback handles everything else (the web UI).
func (s *Server) NotFound(fallback app.HandlerFunc) {
	s.h.NoRoute(func(ctx context.Context, c *app.RequestContext) {
		p := string(c.Request.URI().Path())
		if strings.HasPrefix(p, "/v1/") || p == "/v1" || strings.HasPrefix(p, "/api/") || p == "/api" {
			writeError(c, apiError(http.StatusNotFound, typeInvalidRequest, "not_found",
				fmt.Sprintf("Invalid URL (%s %s)", c.Request.Method(), p)), "")
			return
		}
		if fallback != nil {
			fallback(ctx, c)
			return
		}
		c.String(http.StatusNotFound, "not found")
	})
}

func (s *Server) recoverMW(ctx context.Context, c *app.RequestContext) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "path", string(c.Request.URI().Path()), "panic", fmt.Sprint(r))
			writeError(c, apiError(http.StatusInternalServerError, typeGateway, "internal_error", "internal error"), "")
			c.Abort()
		}
	}()
	c.Next(ctx)
}

// corsMW allows browser clients (the playground, third-party UIs) on every
// route, as One API does.
func corsMW(ctx context.Context, c *app.RequestContext) {
	origin := c.Request.Header.Peek("Origin")
	if len(origin) > 0 {
		c.Response.Header.Set("Access-Control-Allow-Origin", string(origin))
		c.Response.Header.Set("Access-Control-Allow-Credentials", "true")
		c.Response.Header.Set("Vary", "Origin")
	}
	if string(c.Request.Method()) == http.MethodOptions {
		c.Response.Header.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, PATCH, OPTIONS")
		if h := c.Request.Header.Peek("Access-Control-Request-Headers"); len(h) > 0 {
			c.Response.Header.Set("Access-Control-Allow-Headers", string(h))
		}
		c.Response.Header.Set("Access-Control-Max-Age", "86400")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next(ctx)
}
