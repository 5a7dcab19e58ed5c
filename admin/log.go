package admin

import (
	"context"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/storage"
)

// logFilter reads One API's log filters from the query.
func logFilter(c *app.RequestContext) storage.LogFilter {
	num := func(k string) int64 { v, _ := strconv.ParseInt(c.Query(k), 10, 64); return v }
	return storage.LogFilter{
		Type:      int(num("type")),
		Username:  c.Query("username"),
		TokenName: c.Query("token_name"),
		ModelName: c.Query("model_name"),
		ChannelID: num("channel"),
		Start:     num("start_timestamp"),
		End:       num("end_timestamp"),
	}
}

func (a *API) logs(c *app.RequestContext, f storage.LogFilter) {
	offset, limit := page(c)
	ls, err := a.d.Store.Logs(f, offset, limit)
	if err != nil {
		fail(c, err.Error())
		return
	}
	ok(c, ls)
}

func (a *API) listLogs(_ context.Context, c *app.RequestContext) { a.logs(c, logFilter(c)) }

func (a *API) listSelfLogs(_ context.Context, c *app.RequestContext) {
	f := logFilter(c)
	f.Username, f.ChannelID, f.UserID = "", 0, current(c).ID
	a.logs(c, f)
}

func (a *API) stat(c *app.RequestContext, f storage.LogFilter) {
	if f.Type == 0 {
		f.Type = storage.LogConsume
	}
	st, err := a.d.Store.SumLogs(f)
	if err != nil {
		fail(c, err.Error())
		return
	}
	ok(c, st)
}

func (a *API) logStat(_ context.Context, c *app.RequestContext) { a.stat(c, logFilter(c)) }

func (a *API) selfLogStat(_ context.Context, c *app.RequestContext) {
	f := logFilter(c)
	f.Username, f.ChannelID, f.UserID = "", 0, current(c).ID
	a.stat(c, f)
}

// deleteLogs removes logs older than target_timestamp.
func (a *API) deleteLogs(ctx context.Context, c *app.RequestContext) {
	ts, err := strconv.ParseInt(c.Query("target_timestamp"), 10, 64)
	if err != nil || ts <= 0 {
		fail(c, "target_timestamp is required")
		return
	}
	res, done := a.propose(ctx, c, &storage.DeleteLogs{Before: ts})
	if !done {
		return
	}
	ok(c, res.ID)
}
