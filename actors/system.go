// Package actors holds Switchyard's node-local actors and the arithmetic of
// money: account actors (the token actors of DESIGN.md: leases,
// reservations), channel actors (circuit breaker, in-flight count, latency
// average), the router that picks channels from immutable snapshots, the
// usage shipper, and pricing.
//
// Actors are never the record of money. Every charge is written to the
// node-local outbox before any actor hears of it, and leases live in the
// replicated state; actors only cache them to decide quickly. Other
// packages use the typed references (Accounts, HealthBoard) and never see
// PIDs.
package actors

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/bytedance/sonic"

	"switchyard/storage"
)

// Config configures the node's actors.
type Config struct {
	// Node is this node's id (it names leases and usage batches).
	Node string
	// Lease sizes quota leases.
	Lease LeasePolicy
	// Breaker tunes channel circuit breakers.
	Breaker BreakerConfig
	// Shipper tunes the usage shipper.
	Shipper ShipperConfig
	// IsLeader reports whether this node leads the cluster; the leader
	// proposes lease expiry. Nil means always (single node).
	IsLeader func() bool
	// ExpireEvery is how often the leader drops expired leases.
	// Default 30 s.
	ExpireEvery time.Duration
	// Publish sends a message on the cluster bus (NATS); the shipper
	// publishes every committed usage batch on UsageSubject(node). Nil
	// disables the events.
	Publish func(subject string, data []byte) error
	// Subscribed reports whether anyone listens on a subject; when it is
	// set and says no, the usage event is not built. Nil means always
	// publish.
	Subscribed func(subject string) bool
	// Subscribe calls fn with every message on subject (wildcards allowed)
	// from any node; it returns the unsubscribe function. Nodes ask each
	// other for idle leases through it (QuotaWantSubject). Nil: a single
	// node, nobody to ask.
	Subscribe func(subject string, fn func(data []byte)) (func(), error)
	// ClusterSize counts the cluster's members; leases (when not Whole)
	// are fair shares of a balance among them. Nil means 1.
	ClusterSize func() int
	// Logger receives warnings; required.
	Logger *slog.Logger
}

// System wires the node's actors to the store.
type System struct {
	cfg      Config
	store    *storage.Store
	prop     storage.Proposer
	sys      *actor.ActorSystem
	Catalog  *Catalog
	Accounts *Accounts
	Health   *HealthBoard
	Outbox   *storage.Outbox
	Shipper  *Shipper

	pending map[int64]int64 // unshipped charges per user at startup
	pendMu  sync.Mutex

	stop  chan struct{}
	wg    sync.WaitGroup
	unsub func() // ends the QuotaWantSubject subscription
}

// New builds the actors and registers the store hooks. Call it before the
// cluster starts applying entries, then Start once proposals can commit.
func New(cfg Config, store *storage.Store, local *storage.Local, prop storage.Proposer) (*System, error) {
	if cfg.Logger == nil {
		return nil, fmt.Errorf("actors: Config.Logger is required")
	}
	cfg.Lease = cfg.Lease.withDefaults()
	if cfg.ExpireEvery <= 0 {
		cfg.ExpireEvery = 30 * time.Second
	}
	if cfg.IsLeader == nil {
		cfg.IsLeader = func() bool { return true }
	}
	hw, err := store.UsageHighWater(cfg.Node)
	if err != nil {
		return nil, err
	}
	ob, err := local.Outbox(hw)
	if err != nil {
		return nil, err
	}
	ob.OnAsyncError(func(err error) {
		cfg.Logger.Error("usage outbox write failed: the usage of the requests in it is not recorded (any that were opened are settled by the crash policy at the next start)", "err", err)
	})
	pending, err := ob.PendingByUser()
	if err != nil {
		return nil, err
	}
	quiet := cfg.Logger.With("component", "protoactor")
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(levelFilter{h: quiet.Handler(), min: slog.LevelError})
	}))
	s := &System{
		cfg: cfg, store: store, prop: prop, sys: sys, Outbox: ob, pending: pending,
		stop: make(chan struct{}),
	}
	s.Health = NewHealthBoard(sys, cfg.Breaker)
	s.Health.disable = s.autoDisable
	s.Health.disableKey = s.autoDisableKey
	s.Catalog = NewCatalog(s.Health, cfg.Logger)
	s.Accounts = &Accounts{
		sys: sys, prop: prop, node: cfg.Node, policy: cfg.Lease,
		props:   s.accountProps,
		bg:      func(f func()) { s.wg.Add(1); go func() { defer s.wg.Done(); f() }() },
		stopped: s.stop,
		nodes:   cfg.ClusterSize,
		log:     cfg.Logger,
	}
	s.Shipper = NewShipper(cfg.Shipper, ob, prop, cfg.Node, hw, cfg.Logger)
	s.Shipper.publish = cfg.Publish
	s.Shipper.subscribed = cfg.Subscribed
	s.Shipper.hw = func() (uint64, error) { return store.UsageHighWater(cfg.Node) }
	all := &storage.Effects{Users: true, Tokens: true, Channels: true, Options: true}
	if err := s.Catalog.Refresh(store, all); err != nil {
		return nil, err
	}
	store.OnApply(s.onApply)
	return s, nil
}

func (s *System) accountProps(uid int64) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &accountActor{userID: uid, tokens: map[int64]*tokenSpend{}, policy: s.cfg.Lease, reload: s.loadLeases}
	}, actor.WithReceiverMiddleware(s.loadAccount))
}

// loadAccount fills a new account actor from the replicated leases and the
// outbox before its first message.
func (s *System) loadAccount(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		if _, ok := env.Message.(*actor.Started); ok {
			if a, ok := c.Actor().(*accountActor); ok {
				s.load(a)
			}
		}
		next(c, env)
	}
}

func (s *System) load(a *accountActor) {
	s.loadLeases(a)
	s.pendMu.Lock()
	a.unapplied += s.pending[a.userID]
	delete(s.pending, a.userID)
	s.pendMu.Unlock()
}

// loadLeases copies this node's leases on the account from the state.
func (s *System) loadLeases(a *accountActor) {
	if l, ok, err := s.store.Lease(storage.LeaseUser, a.userID, s.cfg.Node); err == nil && ok {
		a.lease, a.hasLease, a.expires = l.Remaining, true, l.ExpiresAt
	}
	if toks, err := s.store.TokensOf(a.userID); err == nil {
		for _, t := range toks {
			if l, ok, err := s.store.Lease(storage.LeaseToken, t.ID, s.cfg.Node); err == nil && ok {
				ts := a.tok(t.ID)
				ts.lease, ts.hasLease, ts.expires = l.Remaining, true, l.ExpiresAt
			}
		}
	}
}

// onApply refreshes snapshots and tells live account actors what changed.
// It runs on the apply goroutine.
func (s *System) onApply(fx *storage.Effects) {
	if err := s.Catalog.Refresh(s.store, fx); err != nil {
		s.cfg.Logger.Error("snapshot refresh failed", "err", err)
	}
	s.announceChanges(fx)
	if len(fx.Leases) == 0 && len(fx.Charged) == 0 && len(fx.Credited) == 0 {
		return
	}
	per := map[int64]*LeasesApplied{}
	get := func(uid int64) *LeasesApplied {
		m := per[uid]
		if m == nil {
			m = &LeasesApplied{}
			per[uid] = m
		}
		return m
	}
	for _, l := range fx.Leases {
		if l.Node != s.cfg.Node {
			continue
		}
		uid := l.ID
		if l.Kind == storage.LeaseToken {
			t, ok := s.Catalog.TokenByID(l.ID)
			if !ok {
				continue
			}
			uid = t.UserID
		}
		m := get(uid)
		m.Leases = append(m.Leases, l)
	}
	for _, c := range fx.Charged {
		if c.Node == s.cfg.Node {
			m := get(c.UserID)
			m.Charges = append(m.Charges, c)
		}
	}
	for uid, m := range per {
		s.Accounts.deliver(uid, m)
	}
	for _, uid := range fx.Credited {
		s.Accounts.deliver(uid, &BalanceChanged{})
	}
}

// Start settles requests a crash interrupted, then starts the shipper and
// the lease-expiry loop. Proposals must be able to commit, and the store
// must have caught up with the Raft log (propose a storage.Barrier first).
func (s *System) Start() error {
	hw, err := s.store.UsageHighWater(s.cfg.Node)
	if err != nil {
		return err
	}
	s.Outbox.Raise(hw)
	s.Shipper.raise(hw)
	if err := s.Outbox.Prune(hw); err != nil {
		return err
	}
	orphans, err := s.Outbox.Orphans()
	if err != nil {
		return err
	}
	for seq, o := range orphans {
		rec := &storage.UsageRecord{
			RequestID: o.RequestID, UserID: o.UserID, TokenID: o.TokenID, TokenName: o.TokenName,
			ChannelID: o.ChannelID, Model: o.Model, IsStream: o.IsStream, Time: o.Time, Abandoned: true,
		}
		if _, err := s.Outbox.Close(seq, rec); err != nil {
			return err
		}
	}
	if len(orphans) > 0 {
		s.cfg.Logger.Warn("settled requests interrupted by a crash: reservations released, nothing charged", "count", len(orphans))
	}
	s.Accounts.refreshSize()
	s.Shipper.Start()
	s.wg.Add(1)
	go s.expireLoop()
	if !s.cfg.Lease.Whole {
		s.wg.Add(1)
		go s.idleLoop()
		if s.cfg.Subscribe != nil && s.cfg.Publish != nil {
			unsub, err := s.cfg.Subscribe(quotaWantAll, s.onWant)
			if err != nil {
				return err
			}
			s.unsub = unsub
			s.Accounts.want = func(uid int64) {
				if err := s.cfg.Publish(QuotaWantSubject(uid), []byte(s.cfg.Node+" "+itoa(uid))); err != nil {
					s.cfg.Logger.Warn("asking the other nodes for idle leases", "err", err)
				}
			}
			s.Accounts.othersHold = s.othersHold
		}
	}
	return nil
}

// QuotaWantSubject is where a node short of lease on user uid's account
// asks the others to give back the leases they do not use. The message is
// "<asking node id> <uid>".
func QuotaWantSubject(uid int64) string { return "sy.quota." + itoa(uid) + ".want" }

// quotaWantAll subscribes to QuotaWantSubject of every account.
const quotaWantAll = "sy.quota.*.want"

// onWant answers another node's QuotaWantSubject message (on the bus's
// goroutine): if this node holds leases on the account, its actor gives
// back those unused for wantIdle.
func (s *System) onWant(data []byte) {
	node, id, ok := strings.Cut(string(data), " ")
	uid, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || node == s.cfg.Node {
		return
	}
	if _, ok := s.Accounts.existing(uid); !ok {
		// Leases read back from the state after a restart have no actor
		// until a request comes; start it to give them back.
		if _, held, err := s.store.Lease(storage.LeaseUser, uid, s.cfg.Node); err != nil || !held {
			return
		}
	}
	s.Accounts.sys.Root.Send(s.Accounts.pid(uid), s.Accounts.idleCheck(time.Now(), wantIdle))
}

// othersHold reports whether nodes other than this one hold leases with
// something left on the token's user or, for a limited token, on the
// token: quota that a request here cannot use.
func (s *System) othersHold(t *TokenInfo) bool {
	check := func(kind storage.LeaseKind, id int64) bool {
		ls, err := s.store.LeasesOn(kind, id)
		if err != nil {
			return false
		}
		for _, l := range ls {
			if l.Node != s.cfg.Node && l.Remaining > 0 {
				return true
			}
		}
		return false
	}
	return check(storage.LeaseUser, t.UserID) || !t.UnlimitedQuota && check(storage.LeaseToken, t.ID)
}

// autoDisable disables a channel whose auto-disable window filled with
// fatal outcomes (called on its channel actor; the proposal runs apart).
// Only an enabled channel is disabled, as "automatically disabled", so an
// administrator's choice is never overridden and the scheduled tests may
// enable it again.
func (s *System) autoDisable(id int64, reason string) {
	s.Accounts.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.prop.Propose(ctx, &storage.SetChannelStatus{ID: id, Status: storage.ChannelAutoDisabled,
			Reason: "automatically disabled: " + reason, Time: time.Now().Unix(), OnlyFrom: storage.ChannelEnabled})
		if err != nil {
			s.cfg.Logger.Warn("automatic channel disable not committed", "channel_id", id, "err", err)
			return
		}
		s.cfg.Logger.Warn("channel automatically disabled", "channel_id", id, "reason", reason)
	})
}

// autoDisableKey disables one key of a multi-key channel (the state
// machine disables the channel when it was the last one).
func (s *System) autoDisableKey(id int64, key int, reason string) {
	s.Accounts.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.prop.Propose(ctx, &storage.SetChannelKey{ID: id, Index: key, Disabled: true,
			Reason: "automatically disabled: " + reason, Time: time.Now().Unix()})
		if err != nil {
			s.cfg.Logger.Warn("automatic key disable not committed", "channel_id", id, "key", key, "err", err)
		}
	})
}

// spawnLeaseHolders starts the account actor of every account this node
// holds a lease on (after a restart the leases are in the state before any
// request spawns their actors), so that the idle check sees them.
func (s *System) spawnLeaseHolders() {
	ls, err := s.store.Leases()
	if err != nil {
		s.cfg.Logger.Warn("listing leases", "err", err)
		return
	}
	for _, l := range ls {
		if l.Node != s.cfg.Node {
			continue
		}
		uid := l.ID
		if l.Kind == storage.LeaseToken {
			t, ok := s.Catalog.TokenByID(l.ID)
			if !ok {
				continue
			}
			uid = t.UserID
		}
		if _, ok := s.Accounts.existing(uid); !ok {
			s.Accounts.pid(uid)
		}
	}
}

// idleLoop gives back, several times per IdleAfter, the leases that
// accounts stopped using, so that the rest of a balance is free for the
// nodes that do serve the account.
func (s *System) idleLoop() {
	defer s.wg.Done()
	t := time.NewTicker(max(s.cfg.Lease.IdleAfter/4, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.Accounts.refreshSize()
			s.spawnLeaseHolders()
			s.Accounts.releaseIdle(now, s.cfg.Lease.IdleAfter)
		}
	}
}

func (s *System) expireLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.ExpireEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if !s.cfg.IsLeader() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := s.prop.Propose(ctx, &storage.ExpireLeases{Now: time.Now().UnixMilli()})
			cancel()
			if err != nil {
				s.cfg.Logger.Warn("lease expiry not committed", "err", err)
			}
		}
	}
}

// Stop ships every settled request, returns this node's leases and stops
// the actors. In-flight requests must have finished (the transport drains
// them first).
func (s *System) Stop(ctx context.Context) error {
	close(s.stop)
	if s.unsub != nil {
		s.unsub()
	}
	s.Shipper.Stop()
	err := s.Shipper.Flush(ctx)
	if err == nil {
		err = s.releaseLeases(ctx)
	}
	s.wg.Wait()
	s.Outbox.Stop()
	s.Health.Stop()
	s.sys.Shutdown()
	return err
}

func (s *System) releaseLeases(ctx context.Context) error {
	ls, err := s.store.Leases()
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l.Node != s.cfg.Node {
			continue
		}
		cmd := &storage.LeaseRelease{Node: l.Node}
		if l.Kind == storage.LeaseUser {
			cmd.UserID = l.ID
		} else {
			cmd.TokenID = l.ID
		}
		if _, err := s.prop.Propose(ctx, cmd); err != nil {
			return err
		}
	}
	return nil
}

// levelFilter drops records below min (protoactor logs chattily at INFO).
type levelFilter struct {
	h   slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}
func (f levelFilter) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }
func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h: f.h.WithAttrs(a), min: f.min}
}
func (f levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h: f.h.WithGroup(n), min: f.min}
}

// ChangeEvent is published on EventSubject(kind) after an apply that
// changed records of that kind (users, tokens, channels, options, nodes),
// for UIs and external subscribers. Only the leader publishes; delivery is
// best effort (a leadership change can drop or repeat one), and the
// replicated state is the record: re-read it after an event.
type ChangeEvent struct {
	Kind  string `json:"kind"`
	Index uint64 `json:"index"` // the Raft index applied
	Node  string `json:"node"`  // the publishing node
}

// EventSubject is the NATS subject of change events of one kind.
func EventSubject(kind string) string { return "sy.evt." + kind }

func (s *System) announceChanges(fx *storage.Effects) {
	if s.cfg.Publish == nil || !s.cfg.IsLeader() {
		return
	}
	for _, k := range []struct {
		kind    string
		changed bool
	}{{"users", fx.Users}, {"tokens", fx.Tokens}, {"channels", fx.Channels}, {"options", fx.Options}, {"nodes", fx.Nodes}} {
		if !k.changed {
			continue
		}
		subject := EventSubject(k.kind)
		if s.cfg.Subscribed != nil && !s.cfg.Subscribed(subject) {
			continue
		}
		b, err := sonic.Marshal(ChangeEvent{Kind: k.kind, Index: fx.Index, Node: s.cfg.Node})
		if err == nil {
			err = s.cfg.Publish(subject, b)
		}
		if err != nil {
			s.cfg.Logger.Warn("change event not published", "subject", subject, "err", err)
		}
	}
}
