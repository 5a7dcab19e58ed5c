package admin

import (
	"context"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/actors"
)

// status is the public configuration the web UI reads at start.
func (a *API) status(_ context.Context, c *app.RequestContext) {
	opts, _ := a.d.Store.Options()
	get := func(k, def string) string {
		if v, ok := opts[k]; ok {
			return v
		}
		return def
	}
	qpu, err := strconv.ParseFloat(get(actors.OptQuotaPerUnit, "500000"), 64)
	if err != nil || qpu <= 0 {
		qpu = actors.DefaultQuotaPerUnit
	}
	ok(c, map[string]any{
		"version":             a.d.Version,
		"start_time":          a.d.StartTime,
		"system_name":         get("SystemName", "Switchyard"),
		"logo":                get("Logo", ""),
		"footer_html":         get("Footer", ""),
		"server_address":      get("ServerAddress", ""),
		"quota_per_unit":      qpu,
		"display_in_currency": get("DisplayInCurrencyEnabled", "true") == "true",
		"top_up_link":         get("TopUpLink", ""),
		"chat_link":           get("ChatLink", ""),
		"email_verification":  false,
		"github_oauth":        false,
		"wechat_login":        false,
		"turnstile_check":     false,
	})
}
