package transport

import (
	"context"
	"net/http"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/actors"
)

// Options read by the legacy billing endpoints (One API's; both default
// to true).
const (
	optDisplayTokenStat  = "DisplayTokenStatEnabled"
	optDisplayInCurrency = "DisplayInCurrencyEnabled"
)

// unlimitedAmount is what the legacy endpoints report as the limit of an
// unlimited token, as One API does.
const unlimitedAmount = 100000000

// requestGroup is the group a request runs in: the token's override, else
// its owner's, else "default".
func requestGroup(tok *actors.TokenInfo, user *actors.UserInfo) string {
	switch {
	case tok != nil && tok.Group != "":
		return tok.Group
	case user != nil && user.Group != "":
		return user.Group
	}
	return "default"
}

// billingFigures are the quota figures the legacy endpoints report: the
// token's when DisplayTokenStatEnabled (default), else its owner's.
type billingFigures struct {
	remain, used, expires int64
	unlimited             bool
	perUnit               float64 // divisor: QuotaPerUnit, or 1 without DisplayInCurrencyEnabled
}

func (s *Server) billingFigures(c *app.RequestContext) (*billingFigures, bool) {
	tok, _, _, ok := s.authenticate(c)
	if !ok {
		if _, had := extractKey(c); !had {
			writeError(c, errNoKey, "")
		} else {
			writeError(c, errBadKey, "")
		}
		return nil, false
	}
	st := s.deps.Store
	opt := func(name string) bool {
		v, found, err := st.Option(name)
		return err != nil || !found || v != "false"
	}
	f := &billingFigures{perUnit: 1}
	if opt(optDisplayInCurrency) {
		f.perUnit = s.cat.Pricing().QuotaPerUnit
	}
	if opt(optDisplayTokenStat) {
		t, err := st.Token(tok.ID)
		if err != nil {
			writeError(c, errBadKey, "")
			return nil, false
		}
		f.remain, f.used, f.unlimited = t.RemainQuota, t.UsedQuota, t.UnlimitedQuota
		f.expires = max(t.ExpiredTime, 0)
		return f, true
	}
	u, err := st.User(tok.UserID)
	if err != nil {
		writeError(c, errBadKey, "")
		return nil, false
	}
	f.remain, f.used = u.Quota, u.UsedQuota
	return f, true
}

// billingSubscription is OpenAI's retired GET /dashboard/billing/
// subscription, as One API answers it (old clients show a balance with it).
func (s *Server) billingSubscription(_ context.Context, c *app.RequestContext) {
	f, ok := s.billingFigures(c)
	if !ok {
		return
	}
	amount := float64(f.remain+f.used) / f.perUnit
	if f.unlimited {
		amount = unlimitedAmount
	}
	b, _ := sonic.Marshal(map[string]any{
		"object": "billing_subscription", "has_payment_method": true,
		"soft_limit_usd": amount, "hard_limit_usd": amount, "system_hard_limit_usd": amount,
		"access_until": f.expires,
	})
	c.Data(http.StatusOK, "application/json", b)
}

// billingUsage is OpenAI's retired GET /dashboard/billing/usage:
// total_usage in hundredths of the unit (cents of a dollar).
func (s *Server) billingUsage(_ context.Context, c *app.RequestContext) {
	f, ok := s.billingFigures(c)
	if !ok {
		return
	}
	b, _ := sonic.Marshal(map[string]any{"object": "list", "total_usage": float64(f.used) / f.perUnit * 100})
	c.Data(http.StatusOK, "application/json", b)
}
