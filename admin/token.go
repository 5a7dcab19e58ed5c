package admin

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/actors"
	"switchyard/storage"
)

const keyAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// NewTokenKey returns a 48-character random API key (without "sk-").
func NewTokenKey() string {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	return string(b)
}

// ownTokens lists the caller's tokens, newest first; admins see only their
// own tokens here, as in One API.
func (a *API) ownTokens(c *app.RequestContext, keyword string) {
	ts, err := a.d.Store.TokensOf(current(c).ID)
	if err != nil {
		fail(c, err.Error())
		return
	}
	offset, limit := page(c)
	out := []storage.Token{}
	seen := 0
	for i := len(ts) - 1; i >= 0; i-- {
		t := ts[i]
		if keyword != "" && !strings.Contains(t.Name, keyword) && !strings.Contains(t.Key, keyword) {
			continue
		}
		if seen++; seen <= offset {
			continue
		}
		out = append(out, tokenView(t))
		if len(out) == limit {
			break
		}
	}
	ok(c, out)
}

// tokenView reports a token as clients see it: an enabled token whose
// expiry passed is shown expired (3), as it is refused (the stored status
// changes only when someone edits the token).
func tokenView(t storage.Token) storage.Token {
	if t.Status == storage.TokenEnabled && t.ExpiredTime != -1 && t.ExpiredTime != 0 && t.ExpiredTime <= now() {
		t.Status = storage.TokenExpired
	}
	return t
}

func (a *API) listTokens(_ context.Context, c *app.RequestContext) { a.ownTokens(c, "") }

func (a *API) searchTokens(_ context.Context, c *app.RequestContext) {
	a.ownTokens(c, strings.TrimSpace(c.Query("keyword")))
}

func (a *API) ownToken(c *app.RequestContext, id int64) (*storage.Token, bool) {
	t, err := a.d.Store.Token(id)
	if err != nil || t.UserID != current(c).ID {
		fail(c, "not found")
		return nil, false
	}
	return t, true
}

func (a *API) getToken(_ context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	if t, found := a.ownToken(c, id); found {
		ok(c, tokenView(*t))
	}
}

type tokenInput struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name"`
	Status         int     `json:"status"`
	ExpiredTime    *int64  `json:"expired_time"`
	RemainQuota    int64   `json:"remain_quota"`
	UnlimitedQuota bool    `json:"unlimited_quota"`
	Models         *string `json:"models"`
	Subnet         *string `json:"subnet"`
	Group          *string `json:"group"`
	ResponseCache  *bool   `json:"response_cache"`
	RPMLimit       *int    `json:"rpm_limit"`
	TPMLimit       *int    `json:"tpm_limit"`
	MaxParallel    *int    `json:"max_parallel"`
}

// applyLimits copies the rate limits and the group that in sets onto t.
func (in *tokenInput) applyLimits(t *storage.Token) {
	if in.Group != nil {
		t.Group = strings.TrimSpace(*in.Group)
	}
	if in.ResponseCache != nil {
		t.ResponseCache = *in.ResponseCache
	}
	for _, f := range []struct {
		v  *int
		to *int
	}{{in.RPMLimit, &t.RPMLimit}, {in.TPMLimit, &t.TPMLimit}, {in.MaxParallel, &t.MaxParallel}} {
		if f.v != nil {
			*f.to = *f.v
		}
	}
}

func validateToken(in *tokenInput) string {
	if len([]rune(in.Name)) > 30 {
		return "a token name has at most 30 characters"
	}
	if in.RemainQuota < 0 {
		return "remain_quota cannot be negative"
	}
	if in.Subnet != nil {
		for _, s := range actors.SplitList(*in.Subnet) {
			if _, err := actors.ParsePrefix(s); err != nil {
				return "invalid subnet " + strconv.Quote(s) + ": use IP addresses or CIDR prefixes"
			}
		}
	}
	if in.ExpiredTime != nil && *in.ExpiredTime != -1 && *in.ExpiredTime < 0 {
		return "expired_time must be a Unix time or -1 (never)"
	}
	for _, l := range []struct {
		name string
		v    *int
	}{{"rpm_limit", in.RPMLimit}, {"tpm_limit", in.TPMLimit}, {"max_parallel", in.MaxParallel}} {
		if l.v != nil && *l.v < 0 {
			return l.name + " must be 0 (no limit) or more"
		}
	}
	return ""
}

// checkGroup refuses a token group that does not exist (GroupRatio) or,
// for a user below admin, that is not the user's own group: a group sets
// prices and channels.
func (a *API) checkGroup(c *app.RequestContext, in *tokenInput) string {
	if in.Group == nil || strings.TrimSpace(*in.Group) == "" {
		return ""
	}
	g := strings.TrimSpace(*in.Group)
	if _, known := a.d.Catalog.Pricing().GroupRatio[g]; !known {
		return "unknown group " + strconv.Quote(g)
	}
	if u := current(c); u.Role < storage.RoleAdmin && g != u.Group {
		return "only administrators may give a token another group than their own"
	}
	return ""
}

func (a *API) createToken(ctx context.Context, c *app.RequestContext) {
	var in tokenInput
	if !bind(c, &in) {
		return
	}
	if msg := validateToken(&in); msg != "" {
		fail(c, msg)
		return
	}
	if msg := a.checkGroup(c, &in); msg != "" {
		fail(c, msg)
		return
	}
	t := storage.Token{
		UserID: current(c).ID, Key: NewTokenKey(), Name: in.Name, CreatedTime: now(), AccessedTime: now(),
		ExpiredTime: -1, RemainQuota: in.RemainQuota, UnlimitedQuota: in.UnlimitedQuota, Status: storage.TokenEnabled,
	}
	if in.ExpiredTime != nil {
		t.ExpiredTime = *in.ExpiredTime
	}
	if in.Models != nil {
		t.Models = strings.Join(actors.SplitList(*in.Models), ",")
	}
	if in.Subnet != nil {
		t.Subnet = strings.Join(actors.SplitList(*in.Subnet), ",")
	}
	in.applyLimits(&t)
	res, done := a.propose(ctx, c, &storage.CreateToken{Token: t})
	if !done {
		return
	}
	created, err := a.d.Store.Token(res.ID)
	if err != nil {
		ok(c, nil)
		return
	}
	ok(c, tokenView(*created))
}

func (a *API) updateToken(ctx context.Context, c *app.RequestContext) {
	var in tokenInput
	if !bind(c, &in) {
		return
	}
	cur, found := a.ownToken(c, in.ID)
	if !found {
		return
	}
	n := *cur
	statusOnly := c.Query("status_only") != ""
	if !statusOnly {
		if msg := validateToken(&in); msg != "" {
			fail(c, msg)
			return
		}
		if msg := a.checkGroup(c, &in); msg != "" {
			fail(c, msg)
			return
		}
		n.Name, n.RemainQuota, n.UnlimitedQuota = in.Name, in.RemainQuota, in.UnlimitedQuota
		if in.ExpiredTime != nil {
			n.ExpiredTime = *in.ExpiredTime
		}
		if in.Models != nil {
			n.Models = strings.Join(actors.SplitList(*in.Models), ",")
		}
		if in.Subnet != nil {
			n.Subnet = strings.Join(actors.SplitList(*in.Subnet), ",")
		}
		in.applyLimits(&n)
		// Fixing what exhausted or expired a token re-enables it.
		if n.Status == storage.TokenExhausted && (n.UnlimitedQuota || n.RemainQuota > 0) ||
			n.Status == storage.TokenExpired && (n.ExpiredTime == -1 || n.ExpiredTime > now()) {
			n.Status = storage.TokenEnabled
		}
	}
	if in.Status != 0 {
		if in.Status == storage.TokenEnabled {
			if n.ExpiredTime != -1 && n.ExpiredTime != 0 && n.ExpiredTime <= now() {
				fail(c, "the token has expired and cannot be enabled; change its expiry first")
				return
			}
			if !n.UnlimitedQuota && n.RemainQuota <= 0 {
				fail(c, "the token's quota is used up and it cannot be enabled; raise its quota first")
				return
			}
		}
		if in.Status != storage.TokenEnabled && in.Status != storage.TokenDisabled {
			fail(c, "status must be 1 (enabled) or 2 (disabled)")
			return
		}
		n.Status = in.Status
	}
	if _, done := a.propose(ctx, c, &storage.UpdateToken{Token: n}); !done {
		return
	}
	t, err := a.d.Store.Token(n.ID)
	if err != nil {
		fail(c, "not found")
		return
	}
	ok(c, tokenView(*t))
}

func (a *API) deleteToken(ctx context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	if _, done := a.propose(ctx, c, &storage.DeleteToken{ID: id, UserID: current(c).ID}); !done {
		return
	}
	ok(c, nil)
}
