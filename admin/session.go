package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol"

	"switchyard/storage"
)

// OptSessionSecret is the replicated option holding the key that signs
// session cookies (generated at bootstrap, never shown by the option API).
const OptSessionSecret = "SessionSecret"

const (
	sessionCookie = "session"
	sessionTTL    = 30 * 24 * time.Hour
	ctxUser       = "sy.user"
)

// Sessions are stateless signed cookies ("uid.expiry.signature"), so any
// node of a cluster accepts them; the user's status and role are read
// from the store on every request, so disabling a user ends its sessions.
func (a *API) sessionSecret() []byte {
	v, _, _ := a.d.Store.Option(OptSessionSecret)
	return []byte(v)
}

func (a *API) sign(payload string) string {
	m := hmac.New(sha256.New, a.sessionSecret())
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *API) newSession(c *app.RequestContext, uid int64) {
	exp := time.Now().Add(sessionTTL).Unix()
	payload := strconv.FormatInt(uid, 10) + "." + strconv.FormatInt(exp, 10)
	ck := protocol.AcquireCookie()
	defer protocol.ReleaseCookie(ck)
	ck.SetKey(sessionCookie)
	ck.SetValue(payload + "." + a.sign(payload))
	ck.SetPath("/")
	ck.SetHTTPOnly(true)
	ck.SetSameSite(protocol.CookieSameSiteLaxMode)
	ck.SetMaxAge(int(sessionTTL.Seconds()))
	c.Response.Header.SetCookie(ck)
}

func (a *API) sessionUser(c *app.RequestContext) (int64, bool) {
	v := string(c.Cookie(sessionCookie))
	parts := strings.Split(v, ".")
	if len(parts) != 3 || len(a.sessionSecret()) == 0 {
		return 0, false
	}
	payload := parts[0] + "." + parts[1]
	if !hmac.Equal([]byte(a.sign(payload)), []byte(parts[2])) {
		return 0, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || time.Now().Unix() > exp {
		return 0, false
	}
	uid, err := strconv.ParseInt(parts[0], 10, 64)
	return uid, err == nil
}

// auth requires a session cookie or a management access token
// (Authorization: <token>, with or without "Bearer ") of a user with at
// least role min.
func (a *API) auth(min int) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		var u *storage.User
		if tok := strings.TrimSpace(string(c.Request.Header.Peek("Authorization"))); tok != "" {
			tok = strings.TrimSpace(strings.TrimPrefix(tok, "Bearer "))
			u, _ = a.d.Store.UserByAccessToken(tok)
		} else if uid, ok := a.sessionUser(c); ok {
			u, _ = a.d.Store.User(uid)
		}
		if u == nil {
			failStatus(c, http.StatusUnauthorized, "not logged in, or the access token is invalid")
			c.Abort()
			return
		}
		if u.Status != storage.UserEnabled {
			failStatus(c, http.StatusForbidden, "the user is disabled")
			c.Abort()
			return
		}
		if u.Role < min {
			failStatus(c, http.StatusForbidden, "insufficient privileges")
			c.Abort()
			return
		}
		c.Set(ctxUser, u)
		c.Next(ctx)
	}
}

func current(c *app.RequestContext) *storage.User {
	v, _ := c.Get(ctxUser)
	u, _ := v.(*storage.User)
	return u
}
