package actors

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bytedance/sonic"

	"switchyard/storage"
)

// TokenInfo is the immutable, pre-parsed view of a token used on the hot
// path. A new TokenInfo is built whenever the token changes.
type TokenInfo struct {
	ID             int64
	UserID         int64
	Name           string
	Key            string
	Status         int
	ExpiredTime    int64 // Unix seconds, -1 never
	UnlimitedQuota bool
	Models         map[string]struct{} // nil: any model
	Subnets        []netip.Prefix      // nil: any address
	// Rate limits (0: none), as stored on the token.
	RPMLimit, TPMLimit, MaxParallel int
	// Group overrides the owner's group when not empty.
	Group string
	// Cache opts the token in to the response cache.
	Cache bool
}

// AllowsModel reports whether the token may use model.
func (t *TokenInfo) AllowsModel(model string) bool {
	if t.Models == nil {
		return true
	}
	_, ok := t.Models[model]
	return ok
}

// AllowsIP reports whether a client address may use the token.
func (t *TokenInfo) AllowsIP(ip netip.Addr) bool {
	if t.Subnets == nil {
		return true
	}
	ip = ip.Unmap()
	for _, p := range t.Subnets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// UserInfo is the hot-path view of a user.
type UserInfo struct {
	ID       int64
	Username string
	Role     int
	Status   int
	Group    string
}

// Catalog holds the immutable snapshots the request path reads without
// locks: tokens by key, users by id, the router and the pricing. The state
// machine's apply hook rebuilds the changed snapshots and swaps them in;
// readers load a pointer and never see a half-built view.
type Catalog struct {
	tokens  atomic.Pointer[map[string]*TokenInfo]
	tokByID atomic.Pointer[map[int64]*TokenInfo]
	users   atomic.Pointer[map[int64]*UserInfo]
	router  atomic.Pointer[Router]
	pricing atomic.Pointer[Pricing]

	health *HealthBoard
	log    *slog.Logger
}

// NewCatalog returns a catalog with empty snapshots.
func NewCatalog(health *HealthBoard, log *slog.Logger) *Catalog {
	c := &Catalog{health: health, log: log}
	c.tokens.Store(&map[string]*TokenInfo{})
	c.tokByID.Store(&map[int64]*TokenInfo{})
	c.users.Store(&map[int64]*UserInfo{})
	c.router.Store(NewRouter(nil, health))
	p, _ := NewPricing(nil)
	c.pricing.Store(p)
	return c
}

// TokenByKey finds a token by its key (without "sk-").
func (c *Catalog) TokenByKey(key string) (*TokenInfo, bool) {
	t, ok := (*c.tokens.Load())[key]
	return t, ok
}

// TokenByID finds a token by id.
func (c *Catalog) TokenByID(id int64) (*TokenInfo, bool) {
	t, ok := (*c.tokByID.Load())[id]
	return t, ok
}

// User finds a user by id.
func (c *Catalog) User(id int64) (*UserInfo, bool) {
	u, ok := (*c.users.Load())[id]
	return u, ok
}

// Router is the current channel router.
func (c *Catalog) Router() *Router { return c.router.Load() }

// Pricing is the current pricing.
func (c *Catalog) Pricing() *Pricing { return c.pricing.Load() }

// Refresh rebuilds the snapshots selected by fx from the store. It runs on
// the apply goroutine (from a storage hook) and at startup.
func (c *Catalog) Refresh(s *storage.Store, fx *storage.Effects) error {
	if fx.Tokens {
		toks, err := s.Tokens()
		if err != nil {
			return err
		}
		m := make(map[string]*TokenInfo, len(toks))
		byID := make(map[int64]*TokenInfo, len(toks))
		for i := range toks {
			ti := NewTokenInfo(&toks[i])
			m[ti.Key] = ti
			byID[ti.ID] = ti
		}
		c.tokens.Store(&m)
		c.tokByID.Store(&byID)
	}
	if fx.Users {
		us, err := s.Users()
		if err != nil {
			return err
		}
		m := make(map[int64]*UserInfo, len(us))
		for _, u := range us {
			m[u.ID] = &UserInfo{ID: u.ID, Username: u.Username, Role: u.Role, Status: u.Status, Group: u.Group}
		}
		c.users.Store(&m)
	}
	if fx.Channels {
		chs, err := s.Channels()
		if err != nil {
			return err
		}
		infos := make([]*ChannelInfo, 0, len(chs))
		for i := range chs {
			ci, err := NewChannelInfo(&chs[i])
			if err != nil {
				c.log.Warn("channel config ignored", "channel_id", chs[i].ID, "err", err)
			}
			infos = append(infos, ci)
		}
		c.router.Store(NewRouter(infos, c.health))
	}
	if fx.Options {
		opts, err := s.Options()
		if err != nil {
			return err
		}
		p, errs := NewPricing(opts)
		for _, e := range errs {
			c.log.Warn("option ignored", "err", e)
		}
		c.pricing.Store(p)
	}
	return nil
}

// NewTokenInfo pre-parses a stored token.
func NewTokenInfo(t *storage.Token) *TokenInfo {
	ti := &TokenInfo{
		ID: t.ID, UserID: t.UserID, Name: t.Name, Key: t.Key, Status: t.Status,
		ExpiredTime: t.ExpiredTime, UnlimitedQuota: t.UnlimitedQuota,
		RPMLimit: t.RPMLimit, TPMLimit: t.TPMLimit, MaxParallel: t.MaxParallel, Group: t.Group,
		Cache: t.ResponseCache,
	}
	if ms := SplitList(t.Models); len(ms) > 0 {
		ti.Models = make(map[string]struct{}, len(ms))
		for _, m := range ms {
			ti.Models[m] = struct{}{}
		}
	}
	for _, s := range SplitList(t.Subnet) {
		if p, err := ParsePrefix(s); err == nil {
			ti.Subnets = append(ti.Subnets, p)
		} else {
			// An unparsable entry must not widen access: keep an empty,
			// never-matching list rather than nil ("any address").
			ti.Subnets = append(ti.Subnets, netip.Prefix{})
		}
	}
	return ti
}

// ParsePrefix accepts an IP address or a CIDR prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// SplitList splits a One API comma list, trimming spaces and dropping
// empty items.
func SplitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ChannelInfo is the immutable, pre-parsed view of a channel used by the
// router and the relay.
type ChannelInfo struct {
	ID           int64
	Type         int
	Name         string
	Status       int
	BaseURL      string
	Keys         []string // one or more upstream keys (newline-separated in the record)
	Models       []string
	Groups       []string
	Mapping      map[string]string
	Config       map[string]string
	SystemPrompt string
	// Params replace or add top-level request members (param_override);
	// Headers replace or add upstream headers (header_override).
	Params  map[string]any
	Headers map[string]string
	// FirstByte bounds the wait for the upstream's first byte (0: none).
	FirstByte time.Duration
	// Active lists the indexes of the keys in use (all but the disabled
	// keys of a multi-key channel); Random picks among them at random
	// instead of in turn.
	Active   []int
	Random   bool
	next     atomic.Uint64
	Priority int64
	Weight   int
	Health   *Health
}

// NewChannelInfo pre-parses a stored channel. A malformed model mapping or
// config is reported and treated as empty.
func NewChannelInfo(ch *storage.Channel) (*ChannelInfo, error) {
	ci := &ChannelInfo{
		ID: ch.ID, Type: ch.Type, Name: ch.Name, Status: ch.Status, BaseURL: strings.TrimRight(ch.BaseURL, "/"),
		Models: SplitList(ch.Models), Groups: SplitList(ch.Group), SystemPrompt: ch.SystemPrompt,
		Priority: ch.Priority, Weight: ch.Weight,
		FirstByte: time.Duration(ch.FirstByteTimeout * float64(time.Second)),
		Random:    ch.MultiKeyMode == "random",
	}
	ci.Keys = storage.SplitKeys(ch.Key)
	off := map[int]bool{}
	for _, p := range SplitList(ch.DisabledKeys) {
		if i, err := strconv.Atoi(p); err == nil {
			off[i] = true
		}
	}
	for i := range ci.Keys {
		if !off[i] {
			ci.Active = append(ci.Active, i)
		}
	}
	if len(ci.Groups) == 0 {
		ci.Groups = []string{"default"}
	}
	var firstErr error
	if m := strings.TrimSpace(ch.ModelMapping); m != "" && m != "{}" {
		if err := sonic.UnmarshalString(m, &ci.Mapping); err != nil {
			firstErr = fmt.Errorf("model_mapping: %w", err)
			ci.Mapping = nil
		}
	}
	if cfg := strings.TrimSpace(ch.Config); cfg != "" && cfg != "{}" {
		var raw map[string]json.RawMessage
		if err := sonic.UnmarshalString(cfg, &raw); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("config: %w", err)
			}
		} else {
			ci.Config = make(map[string]string, len(raw)+1)
			for k, v := range raw {
				// Strings unquoted; anything else (a number, a nested
				// service-account key, a deployment map) as its JSON text.
				var str string
				if len(v) > 0 && v[0] == '"' && sonic.Unmarshal(v, &str) == nil {
					ci.Config[k] = str
				} else {
					ci.Config[k] = string(v)
				}
			}
		}
	}
	// One API keeps one per-type setting in the channel's "other" field
	// (Azure: the api-version; Gemini: the API version; Ali: a plugin);
	// adaptors read it as Config["other"].
	if o := strings.TrimSpace(ch.Other); o != "" {
		if ci.Config == nil {
			ci.Config = map[string]string{}
		}
		if _, set := ci.Config["other"]; !set {
			ci.Config["other"] = o
		}
	}
	if po := strings.TrimSpace(ch.ParamOverride); po != "" && po != "{}" {
		if err := sonic.UnmarshalString(po, &ci.Params); err != nil {
			ci.Params = nil
			if firstErr == nil {
				firstErr = fmt.Errorf("param_override: %w", err)
			}
		}
	}
	if ho := strings.TrimSpace(ch.HeaderOverride); ho != "" && ho != "{}" {
		if err := sonic.UnmarshalString(ho, &ci.Headers); err != nil {
			ci.Headers = nil
			if firstErr == nil {
				firstErr = fmt.Errorf("header_override: %w", err)
			}
		}
	}
	return ci, firstErr
}

// PickKey chooses the key for one request and returns its index: the only
// key, or one of the active keys of a multi-key channel, in turn or at
// random. -1 when no key is active.
func (c *ChannelInfo) PickKey() int {
	switch len(c.Active) {
	case 0:
		return -1
	case 1:
		return c.Active[0]
	}
	if c.Random {
		return c.Active[rand.IntN(len(c.Active))]
	}
	return c.Active[int((c.next.Add(1)-1)%uint64(len(c.Active)))]
}

// UpstreamModel applies the channel's model mapping.
func (c *ChannelInfo) UpstreamModel(model string) string {
	if m, ok := c.Mapping[model]; ok && m != "" {
		return m
	}
	return model
}
