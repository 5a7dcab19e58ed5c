package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol"
	"golang.org/x/crypto/bcrypt"

	"switchyard/storage"
)

// publicUser is a user as the API shows it: no password hash, and the
// access token only to its owner.
type publicUser struct {
	ID           int64  `json:"id"`
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	Role         int    `json:"role"`
	Status       int    `json:"status"`
	Email        string `json:"email"`
	Quota        int64  `json:"quota"`
	UsedQuota    int64  `json:"used_quota"`
	RequestCount int64  `json:"request_count"`
	Group        string `json:"group"`
	AffCode      string `json:"aff_code"`
	InviterID    int64  `json:"inviter_id"`
	AccessToken  string `json:"access_token,omitempty"`
}

func present(u *storage.User, withToken bool) publicUser {
	p := publicUser{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Status: u.Status,
		Email: u.Email, Quota: u.Quota, UsedQuota: u.UsedQuota, RequestCount: u.RequestCount,
		Group: u.Group, AffCode: u.AffCode, InviterID: u.InviterID,
	}
	if withToken {
		p.AccessToken = u.AccessToken
	}
	return p
}

// HashPassword bcrypts a password (cost 10, as One API).
func HashPassword(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(b), err
}

// RandomHex returns n random bytes hex-encoded.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

func validPassword(pw string) bool { return len(pw) >= 8 && len(pw) <= 64 }

func (a *API) login(ctx context.Context, c *app.RequestContext) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !bind(c, &req) {
		return
	}
	u, err := a.d.Store.UserByName(strings.TrimSpace(req.Username))
	if err != nil || u.Status == storage.UserDeleted ||
		bcrypt.CompareHashAndPassword([]byte(u.Password), []byte(req.Password)) != nil {
		fail(c, "wrong username or password")
		return
	}
	if u.Status != storage.UserEnabled {
		fail(c, "the user is disabled")
		return
	}
	a.newSession(c, u.ID)
	ok(c, present(u, false))
}

func (a *API) logout(_ context.Context, c *app.RequestContext) {
	ck := protocol.AcquireCookie()
	defer protocol.ReleaseCookie(ck)
	ck.SetKey(sessionCookie)
	ck.SetValue("")
	ck.SetPath("/")
	ck.SetMaxAge(-1)
	c.Response.Header.SetCookie(ck)
	ok(c, nil)
}

func (a *API) getSelf(_ context.Context, c *app.RequestContext) {
	u, err := a.d.Store.User(current(c).ID)
	if err != nil {
		fail(c, errorText(err))
		return
	}
	ok(c, present(u, true))
}

func (a *API) updateSelf(ctx context.Context, c *app.RequestContext) {
	var req struct {
		Username    *string `json:"username"`
		DisplayName *string `json:"display_name"`
		Password    *string `json:"password"`
	}
	if !bind(c, &req) {
		return
	}
	cmd := &storage.UpdateUser{ID: current(c).ID, DisplayName: req.DisplayName, Time: now()}
	if req.Username != nil && *req.Username != current(c).Username {
		if !validUsername(*req.Username) {
			fail(c, "a username has 1 to 20 characters")
			return
		}
		cmd.Username = req.Username
	}
	if req.Password != nil && *req.Password != "" {
		if !validPassword(*req.Password) {
			fail(c, "a password has 8 to 64 characters")
			return
		}
		h, err := HashPassword(*req.Password)
		if err != nil {
			fail(c, err.Error())
			return
		}
		cmd.Password = &h
	}
	if _, done := a.propose(ctx, c, cmd); !done {
		return
	}
	ok(c, nil)
}

func validUsername(s string) bool { n := len(s); return n >= 1 && n <= 20 && strings.TrimSpace(s) == s }

// generateAccessToken issues a new management access token for the caller.
func (a *API) generateAccessToken(ctx context.Context, c *app.RequestContext) {
	tok := RandomHex(16)
	if _, done := a.propose(ctx, c, &storage.UpdateUser{ID: current(c).ID, AccessToken: &tok, Time: now()}); !done {
		return
	}
	ok(c, tok)
}

func (a *API) listUsers(_ context.Context, c *app.RequestContext) {
	a.users(c, "")
}

func (a *API) searchUsers(_ context.Context, c *app.RequestContext) {
	a.users(c, strings.TrimSpace(c.Query("keyword")))
}

func (a *API) users(c *app.RequestContext, keyword string) {
	us, err := a.d.Store.Users()
	if err != nil {
		fail(c, err.Error())
		return
	}
	offset, limit := page(c)
	out := []publicUser{}
	seen := 0
	for i := len(us) - 1; i >= 0; i-- { // newest first, as One API
		u := &us[i]
		if u.Status == storage.UserDeleted {
			continue
		}
		if keyword != "" && strconv.FormatInt(u.ID, 10) != keyword &&
			!strings.Contains(u.Username, keyword) && !strings.Contains(u.Email, keyword) &&
			!strings.Contains(u.DisplayName, keyword) {
			continue
		}
		if seen++; seen <= offset {
			continue
		}
		out = append(out, present(u, false))
		if len(out) == limit {
			break
		}
	}
	ok(c, out)
}

func (a *API) getUser(_ context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	u, err := a.d.Store.User(id)
	if err != nil || u.Status == storage.UserDeleted {
		fail(c, "not found")
		return
	}
	if me := current(c); u.Role >= me.Role && me.ID != u.ID {
		fail(c, "no permission to view a user of equal or higher role")
		return
	}
	ok(c, present(u, false))
}

type userInput struct {
	ID          int64   `json:"id"`
	Username    string  `json:"username"`
	Password    string  `json:"password"`
	DisplayName string  `json:"display_name"`
	Email       string  `json:"email"`
	Group       string  `json:"group"`
	Quota       *int64  `json:"quota"`
	Role        *int    `json:"role"`
	Status      *int    `json:"status"`
	Remark      *string `json:"remark"`
}

func (a *API) createUser(ctx context.Context, c *app.RequestContext) {
	var in userInput
	if !bind(c, &in) {
		return
	}
	if !validUsername(in.Username) {
		fail(c, "a username has 1 to 20 characters")
		return
	}
	if !validPassword(in.Password) {
		fail(c, "a password has 8 to 64 characters")
		return
	}
	role := storage.RoleCommon
	if in.Role != nil {
		role = *in.Role
	}
	if role >= current(c).Role {
		fail(c, "cannot create a user with a role equal to or higher than yours")
		return
	}
	h, err := HashPassword(in.Password)
	if err != nil {
		fail(c, err.Error())
		return
	}
	u := storage.User{
		Username: in.Username, Password: h, DisplayName: in.DisplayName, Email: in.Email, Role: role,
		Group: in.Group, CreatedTime: now(),
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	if in.Quota != nil && *in.Quota > 0 {
		u.Quota = *in.Quota
	}
	res, done := a.propose(ctx, c, &storage.CreateUser{User: u})
	if !done {
		return
	}
	created, _ := a.d.Store.User(res.ID)
	if created == nil {
		ok(c, nil)
		return
	}
	ok(c, present(created, false))
}

func (a *API) updateUser(ctx context.Context, c *app.RequestContext) {
	var in userInput
	if !bind(c, &in) {
		return
	}
	u, err := a.d.Store.User(in.ID)
	if err != nil || u.Status == storage.UserDeleted {
		fail(c, "not found")
		return
	}
	me := current(c)
	if u.Role >= me.Role && me.ID != u.ID {
		fail(c, "no permission to edit a user of equal or higher role")
		return
	}
	cmd := &storage.UpdateUser{ID: u.ID, Time: now()}
	if in.Username != "" && in.Username != u.Username {
		if !validUsername(in.Username) {
			fail(c, "a username has 1 to 20 characters")
			return
		}
		cmd.Username = &in.Username
	}
	if in.DisplayName != "" {
		cmd.DisplayName = &in.DisplayName
	}
	if in.Email != "" {
		cmd.Email = &in.Email
	}
	if in.Group != "" {
		cmd.Group = &in.Group
	}
	if in.Password != "" {
		if !validPassword(in.Password) {
			fail(c, "a password has 8 to 64 characters")
			return
		}
		h, err := HashPassword(in.Password)
		if err != nil {
			fail(c, err.Error())
			return
		}
		cmd.Password = &h
	}
	if in.Quota != nil {
		if *in.Quota < 0 {
			fail(c, "quota cannot be negative")
			return
		}
		cmd.Quota = in.Quota
	}
	if in.Role != nil && *in.Role != u.Role {
		if *in.Role >= me.Role {
			fail(c, "cannot grant a role equal to or higher than yours")
			return
		}
		cmd.Role = in.Role
	}
	if _, done := a.propose(ctx, c, cmd); !done {
		return
	}
	nu, _ := a.d.Store.User(u.ID)
	if nu == nil {
		ok(c, nil)
		return
	}
	ok(c, present(nu, false))
}

func (a *API) deleteUser(ctx context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	a.manage(ctx, c, id, "delete")
}

func (a *API) manageUser(ctx context.Context, c *app.RequestContext) {
	var req struct {
		Username string `json:"username"`
		Action   string `json:"action"`
	}
	if !bind(c, &req) {
		return
	}
	u, err := a.d.Store.UserByName(req.Username)
	if err != nil {
		fail(c, "not found")
		return
	}
	a.manage(ctx, c, u.ID, req.Action)
}

// manage applies One API's manage actions with its role rules: nobody acts
// on a user of equal or higher role, only root promotes, root is never
// disabled, deleted or demoted.
func (a *API) manage(ctx context.Context, c *app.RequestContext, id int64, action string) {
	u, err := a.d.Store.User(id)
	if err != nil || u.Status == storage.UserDeleted {
		fail(c, "not found")
		return
	}
	me := current(c)
	if u.Role >= me.Role {
		fail(c, "no permission to manage a user of equal or higher role")
		return
	}
	cmd := &storage.UpdateUser{ID: id, Time: now()}
	set := func(v int) *int { return &v }
	switch action {
	case "disable":
		cmd.Status = set(storage.UserDisabled)
	case "enable":
		cmd.Status = set(storage.UserEnabled)
	case "delete":
		cmd.Status = set(storage.UserDeleted)
	case "promote":
		if me.Role < storage.RoleRoot {
			fail(c, "only root can promote users")
			return
		}
		if u.Role >= storage.RoleAdmin {
			fail(c, "the user is already an admin")
			return
		}
		cmd.Role = set(storage.RoleAdmin)
	case "demote":
		if u.Role == storage.RoleCommon {
			fail(c, "the user is already a common user")
			return
		}
		cmd.Role = set(storage.RoleCommon)
	default:
		fail(c, "unknown action")
		return
	}
	if _, done := a.propose(ctx, c, cmd); !done {
		return
	}
	nu, _ := a.d.Store.User(id)
	if nu == nil {
		ok(c, nil)
		return
	}
	ok(c, map[string]any{"role": nu.Role, "status": nu.Status})
}

// adminTopup credits quota to a user (One API's POST /api/topup).
func (a *API) adminTopup(ctx context.Context, c *app.RequestContext) {
	var req struct {
		UserID int64  `json:"user_id"`
		Quota  int64  `json:"quota"`
		Remark string `json:"remark"`
	}
	if !bind(c, &req) {
		return
	}
	if req.Quota == 0 {
		fail(c, "quota must not be zero")
		return
	}
	content := "admin top-up " + strconv.FormatInt(req.Quota, 10)
	if req.Remark != "" {
		content += ": " + req.Remark
	}
	if _, done := a.propose(ctx, c, &storage.AddQuota{UserID: req.UserID, Delta: req.Quota, LogType: storage.LogTopup, Content: content, Time: now()}); !done {
		return
	}
	ok(c, nil)
}
