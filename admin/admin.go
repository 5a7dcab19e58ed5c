// Package admin is the management API under /api: One API compatible
// routes, the {success, message, data} envelope, sessions and roles.
//
// Reads come from the local store and may be slightly stale; every write
// is a command proposed through storage.Proposer and answered only after
// this node applied it, so a client reads its own writes.
//
// Business errors answer HTTP 200 with success=false, as One API does;
// missing or bad credentials answer 401 and insufficient roles 403.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"switchyard/actors"
	"switchyard/storage"
)

// ChannelTester makes the gateway's own calls to a channel's upstream
// (implemented by transport). Upstream error answers come back as
// *actors.UpstreamError.
type ChannelTester interface {
	// TestChannel sends a one-message chat request through the channel
	// and returns how long it took.
	TestChannel(ctx context.Context, channelID int64, model string) (time.Duration, string, error)
	// QueryBalance asks the upstream for the key's remaining credit.
	QueryBalance(ctx context.Context, channelID int64) (amount float64, currency string, err error)
	// FetchModels lists the models the key can use.
	FetchModels(ctx context.Context, channelID int64) ([]string, error)
}

// Deps are the admin API's collaborators.
type Deps struct {
	Store   *storage.Store
	Propose storage.Proposer
	Catalog *actors.Catalog
	Tester  ChannelTester
	// KnownType reports whether a channel type number is supported.
	KnownType func(channelType int) bool
	Logger    *slog.Logger
	// Version is reported by /api/status.
	Version string
	// StartTime is reported by /api/status (Unix seconds).
	StartTime int64
	// Cluster is the node's Raft member; ClusterSecret authenticates the
	// node-to-node routes (join, peers); NATSAddr is this node's NATS
	// route address. All empty on a single node.
	Cluster       Cluster
	ClusterSecret string
	NATSAddr      string
	// IsLeader reports whether this node leads the cluster: only the
	// leader runs the scheduled channel checks. Nil: always (one node).
	IsLeader func() bool
}

// API serves /api.
type API struct {
	d Deps
}

// ProposeTimeout bounds an admin write.
const ProposeTimeout = 10 * time.Second

// Mount registers the /api routes on h.
func Mount(h *server.Hertz, d Deps) *API {
	a := &API{d: d}
	api := h.Group("/api")
	api.GET("/status", a.status)

	user := api.Group("/user")
	user.POST("/login", a.login)
	user.GET("/logout", a.logout)
	user.GET("/self", a.auth(storage.RoleCommon), a.getSelf)
	user.PUT("/self", a.auth(storage.RoleCommon), a.updateSelf)
	user.GET("/token", a.auth(storage.RoleCommon), a.generateAccessToken)
	user.GET("/", a.auth(storage.RoleAdmin), a.listUsers)
	user.GET("/search", a.auth(storage.RoleAdmin), a.searchUsers)
	user.GET("/:id", a.auth(storage.RoleAdmin), a.getUser)
	user.POST("/", a.auth(storage.RoleAdmin), a.createUser)
	user.PUT("/", a.auth(storage.RoleAdmin), a.updateUser)
	user.DELETE("/:id", a.auth(storage.RoleAdmin), a.deleteUser)
	user.POST("/manage", a.auth(storage.RoleAdmin), a.manageUser)
	api.POST("/topup", a.auth(storage.RoleAdmin), a.adminTopup)

	tok := api.Group("/token", a.auth(storage.RoleCommon))
	tok.GET("/", a.listTokens)
	tok.GET("/search", a.searchTokens)
	tok.GET("/:id", a.getToken)
	tok.POST("/", a.createToken)
	tok.PUT("/", a.updateToken)
	tok.DELETE("/:id", a.deleteToken)

	ch := api.Group("/channel", a.auth(storage.RoleAdmin))
	ch.GET("/", a.listChannels)
	ch.GET("/search", a.searchChannels)
	ch.GET("/test/:id", a.testChannel)
	ch.GET("/test", a.testAllChannels)
	ch.GET("/update_balance/:id", a.updateBalance)
	ch.GET("/update_balance", a.updateAllBalances)
	ch.GET("/fetch_models/:id", a.fetchModels)
	ch.GET("/:id", a.getChannel)
	ch.POST("/", a.createChannels)
	ch.PUT("/", a.updateChannel)
	ch.DELETE("/disabled", a.deleteDisabledChannels)
	ch.DELETE("/:id", a.deleteChannel)

	opt := api.Group("/option", a.auth(storage.RoleRoot))
	opt.GET("/", a.getOptions)
	opt.PUT("/", a.updateOption)

	lg := api.Group("/log")
	lg.GET("/", a.auth(storage.RoleAdmin), a.listLogs)
	lg.DELETE("/", a.auth(storage.RoleAdmin), a.deleteLogs)
	lg.GET("/stat", a.auth(storage.RoleAdmin), a.logStat)
	lg.GET("/self", a.auth(storage.RoleCommon), a.listSelfLogs)
	lg.GET("/self/stat", a.auth(storage.RoleCommon), a.selfLogStat)
	a.mountCluster(api)
	return a
}

type envelope struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func ok(c *app.RequestContext, data any) {
	b, err := sonic.Marshal(envelope{Success: true, Data: data})
	if err != nil {
		fail(c, "internal error: "+err.Error())
		return
	}
	c.Data(http.StatusOK, "application/json", b)
}

func fail(c *app.RequestContext, msg string) {
	failStatus(c, http.StatusOK, msg)
}

func failStatus(c *app.RequestContext, status int, msg string) {
	b, _ := sonic.Marshal(envelope{Success: false, Message: msg})
	c.Data(status, "application/json", b)
}

// propose commits a command and maps errors to the envelope. It returns
// false when it already answered.
func (a *API) propose(ctx context.Context, c *app.RequestContext, cmd storage.Command) (storage.Result, bool) {
	pctx, cancel := context.WithTimeout(ctx, ProposeTimeout)
	defer cancel()
	res, err := a.d.Propose.Propose(pctx, cmd)
	if err != nil {
		a.d.Logger.Warn("admin write failed", "err", err)
		fail(c, "the change could not be committed: "+err.Error())
		return res, false
	}
	if res.Err != nil {
		fail(c, errorText(res.Err))
		return res, false
	}
	return res, true
}

func errorText(err error) string {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "not found"
	case errors.Is(err, storage.ErrNameTaken):
		return "the username is already taken"
	case errors.Is(err, storage.ErrDuplicate):
		return "the value is already in use"
	}
	return err.Error()
}

// bind decodes the JSON body into v, answering the error itself.
func bind(c *app.RequestContext, v any) bool {
	if err := sonic.Unmarshal(c.Request.Body(), v); err != nil {
		fail(c, "invalid request body: "+err.Error())
		return false
	}
	return true
}

// page reads One API's paging: p (0-based) and page_size (default 10).
func page(c *app.RequestContext) (offset, limit int) {
	p, _ := strconv.Atoi(c.Query("p"))
	if p < 0 {
		p = 0
	}
	size, _ := strconv.Atoi(c.Query("page_size"))
	if size <= 0 {
		size = 10
	}
	if size > 1000 {
		size = 1000
	}
	return p * size, size
}

func paramID(c *app.RequestContext) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		fail(c, "invalid id")
		return 0, false
	}
	return id, true
}

func now() int64 { return time.Now().Unix() }
