package actors

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"switchyard/storage"
)

// Messages of the account actor.
type (
	// Reserve asks to hold Estimate quota for one request of Token.
	Reserve struct {
		Token    *TokenInfo
		User     *UserInfo
		Model    string
		IP       netip.Addr // zero: not checked
		Estimate int64
		Now      time.Time
		// UserLimit is the user's request limit (nil: none).
		UserLimit *UserLimit
		// Nodes is the cluster size when the request arrived (limits are
		// shared among the nodes); Accounts.Reserve fills it in.
		Nodes int
		reply chan reserveReply
	}
	// SettleReservation releases a reservation and counts the actual
	// charge as spent until the usage batch carrying it is applied.
	SettleReservation struct {
		Res   Reservation
		Spend Spend
		At    time.Time
	}
	// LeasesApplied carries, for one user, the lease changes and the
	// charges of this node applied by one state-machine apply.
	LeasesApplied struct {
		Leases  []storage.Lease
		Charges []storage.Charge
	}
	// BalanceChanged tells the actor that the user's or a token's balance
	// was changed by an admin or a top-up, so a lease request may help.
	BalanceChanged struct{}
)

type reserveReply struct {
	res       Reservation
	err       error
	needLease bool
	refill    bool
}

// Reservation is quota held for one in-flight request.
type Reservation struct {
	UserID   int64
	TokenID  int64
	Estimate int64
	// limited is true when the token has its own quota.
	Limited bool
	// rated and userRated say that the request counts against the
	// token's and the user's rate limits until it finishes.
	rated, userRated bool
}

// Errors of Reserve. Their messages reach API clients.
var (
	ErrTokenDisabled      = errors.New("the token is disabled")
	ErrTokenExpired       = errors.New("the token has expired")
	ErrTokenExhausted     = errors.New("the token's quota is used up")
	ErrUserDisabled       = errors.New("the user is disabled")
	ErrModelNotAllowed    = errors.New("the token is not allowed to use this model")
	ErrIPNotAllowed       = errors.New("the token may not be used from this address")
	ErrInsufficientQuota  = errors.New("insufficient user quota")
	ErrInsufficientTokenQ = errors.New("insufficient token quota")
	ErrBusy               = errors.New("the gateway is overloaded, try again")
)

// leaseAskInterval is the least time between two lease requests of one
// account that the hot path triggers, so a broke account cannot flood Raft
// with lease requests; a top-up or lease change resets it.
const leaseAskInterval = 2 * time.Second

// tokenSpend is the per-token part of an account's local ledger.
type tokenSpend struct {
	lease     int64 // remaining lease on the token's own quota
	hasLease  bool
	expires   int64 // Unix ms
	reserved  int64
	unapplied int64
}

// accountActor is the token actor of DESIGN.md, keyed by the user that owns
// the tokens: one actor holds the user's balance lease and the leases of
// the user's limited tokens, so a reservation checks token and user
// balances in one hop.
//
// It owns: the node's leases on the user's and tokens' balances (copied
// from the replicated state as they are applied), the quota reserved by
// in-flight requests, and the quota spent but not yet applied by the state
// machine. After a restart, leases are read back from the state, reserved
// starts at zero (no request survives a restart), and unapplied spend is
// rebuilt from the outbox. On a crash nothing of value is lost: the outbox
// holds every charge and the state holds every lease.
type accountActor struct {
	userID int64

	lease     int64
	hasLease  bool
	expires   int64
	reserved  int64
	unapplied int64
	tokens    map[int64]*tokenSpend

	lastAsk time.Time
	// lastUse is when a reservation last succeeded (zero: never since the
	// actor started); leases unused for LeasePolicy.IdleAfter go back.
	lastUse time.Time
	policy  LeasePolicy
	// asking is true while one requester asks the cluster for a lease;
	// reservations that do not fit meanwhile wait in stash.
	asking bool
	stash  []*Reserve
	// reload reads the node's leases on the account back from the state.
	reload func(*accountActor)
	// Rate limit state (node-local, rebuilt empty after a restart).
	rates map[int64]*tokenRate
	user  userRate
}

// leaseDone tells the actor that a lease request it asked for finished
// (granted or not; a grant arrives separately as LeasesApplied first).
type leaseDone struct{}

// fits reports whether m fits the current leases, without reserving.
func (a *accountActor) fits(m *Reserve) bool {
	est := max(m.Estimate, 0)
	nowMs := m.Now.UnixMilli()
	if !a.hasLease || a.expires <= nowMs || a.lease-a.unapplied-a.reserved < est {
		return false
	}
	if m.Token.UnlimitedQuota {
		return true
	}
	ts := a.tok(m.Token.ID)
	return ts.hasLease && ts.expires > nowMs && ts.lease-ts.unapplied-ts.reserved >= est
}

func (a *accountActor) tok(id int64) *tokenSpend {
	t := a.tokens[id]
	if t == nil {
		t = &tokenSpend{}
		a.tokens[id] = t
	}
	return t
}

func (a *accountActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Reserve:
		a.onReserve(m)
	case *released:
		if m.failed && a.reload != nil {
			a.reload(a) // the state still holds what the release did not drop
		}
		a.asking = false
		stash := a.stash
		a.stash = nil
		for _, r := range stash {
			a.onReserve(r)
		}
	case *leaseDone:
		a.asking = false
		stash := a.stash
		a.stash = nil
		for _, r := range stash {
			rep := a.reserve(r)
			if rep.needLease { // asked just now: this is the answer
				rep = reserveReply{err: ErrInsufficientQuota}
			}
			r.reply <- rep
		}
	case *SettleReservation:
		a.settle(m)
	case *LeasesApplied:
		a.applied(m)
	case *BalanceChanged:
		a.lastAsk = time.Time{}
	case *seedUnapplied:
		a.unapplied += m.quota
	case *idleCheck:
		a.idle(m)
	}
}

// idleCheck asks the actor to give back its leases if it has not used them
// for after: release proposes the LeaseRelease commands, then sends the
// actor released.
type idleCheck struct {
	now     time.Time
	after   time.Duration
	release func(uid int64, user bool, tokens []int64)
}

// idle gives the account's leases back to the cluster when nothing uses
// them: no reservation for m.after, none in flight, no spend waiting to be
// applied (the spend is debited from the lease it was reserved against),
// no lease request under way. The actor forgets the leases at once and,
// until the release has committed, keeps reservations waiting as it does
// during a lease request: a new lease request must reach the log after
// the release, or the release would drop the new lease while the node
// spends it.
func (a *accountActor) idle(m *idleCheck) {
	if a.asking || a.reserved != 0 || a.unapplied != 0 || m.now.Sub(a.lastUse) < m.after {
		return
	}
	var toks []int64
	for id, ts := range a.tokens {
		if ts.hasLease {
			toks = append(toks, id)
			ts.hasLease, ts.lease = false, 0
		}
	}
	user := a.hasLease
	if !user && len(toks) == 0 {
		return
	}
	a.hasLease, a.lease = false, 0
	a.lastAsk = time.Time{}
	a.asking = true
	m.release(a.userID, user, toks)
}

type seedUnapplied struct{ quota int64 }

// released tells the actor that the release of its idle leases finished:
// reservations that waited for it may ask for a new lease now. failed
// says that some release did not commit (no leader: a node cut off from
// the majority keeps serving within its leases).
type released struct{ failed bool }

func (a *accountActor) onReserve(m *Reserve) {
	if a.asking && !a.fits(m) {
		a.stash = append(a.stash, m) // answered when the lease arrives
		return
	}
	rep := a.reserve(m)
	if rep.needLease {
		a.asking = true
	}
	m.reply <- rep
}

func (a *accountActor) reserve(m *Reserve) reserveReply {
	t, u := m.Token, m.User
	switch {
	case t.Status == storage.TokenDisabled:
		return reserveReply{err: ErrTokenDisabled}
	case t.Status == storage.TokenExpired || t.ExpiredTime != -1 && t.ExpiredTime != 0 && t.ExpiredTime < m.Now.Unix():
		return reserveReply{err: ErrTokenExpired}
	case t.Status == storage.TokenExhausted:
		return reserveReply{err: ErrTokenExhausted}
	case t.Status != storage.TokenEnabled:
		return reserveReply{err: ErrTokenDisabled}
	case u == nil || u.Status != storage.UserEnabled:
		return reserveReply{err: ErrUserDisabled}
	case !t.AllowsModel(m.Model):
		return reserveReply{err: ErrModelNotAllowed}
	case m.IP.IsValid() && !t.AllowsIP(m.IP):
		return reserveReply{err: ErrIPNotAllowed}
	}
	est := max(m.Estimate, 0)
	nowMs := m.Now.UnixMilli()
	if err := a.checkRates(m); err != nil {
		return reserveReply{err: err}
	}
	userOK := a.hasLease && a.expires > nowMs && a.lease-a.unapplied-a.reserved >= est
	var ts *tokenSpend
	tokOK := true
	if !t.UnlimitedQuota {
		ts = a.tok(t.ID)
		tokOK = ts.hasLease && ts.expires > nowMs && ts.lease-ts.unapplied-ts.reserved >= est
	}
	if !userOK || !tokOK {
		if m.Now.Sub(a.lastAsk) >= leaseAskInterval {
			a.lastAsk = m.Now
			return reserveReply{needLease: true}
		}
		if !userOK {
			return reserveReply{err: ErrInsufficientQuota}
		}
		return reserveReply{err: ErrInsufficientTokenQ}
	}
	a.reserved += est
	if ts != nil {
		ts.reserved += est
	}
	a.lastUse = m.Now
	r := reserveReply{res: Reservation{UserID: u.ID, TokenID: t.ID, Estimate: est, Limited: ts != nil}}
	a.countRates(m, &r.res)
	// Ask for a refill in the background when the lease runs low or
	// nears its expiry, so the hot path rarely waits for one.
	renewAt := nowMs + a.policy.TTL.Milliseconds()/2
	if a.expires < renewAt || (ts != nil && ts.expires < renewAt) ||
		a.lease-a.unapplied-a.reserved < a.lease/2 {
		if m.Now.Sub(a.lastAsk) >= leaseAskInterval {
			a.lastAsk = m.Now
			r.refill = true
		}
	}
	return r
}

func (a *accountActor) settle(m *SettleReservation) {
	a.reserved -= m.Res.Estimate
	a.unapplied += m.Spend.Quota
	if m.Res.Limited {
		ts := a.tok(m.Res.TokenID)
		ts.reserved -= m.Res.Estimate
		ts.unapplied += m.Spend.Quota
	}
	a.finishRates(m.Res, m.Spend, m.At)
}

func (a *accountActor) applied(m *LeasesApplied) {
	for _, l := range m.Leases {
		removed := l.Remaining < 0
		switch l.Kind {
		case storage.LeaseUser:
			a.lease, a.hasLease, a.expires = max(l.Remaining, 0), !removed, l.ExpiresAt
		case storage.LeaseToken:
			ts := a.tok(l.ID)
			ts.lease, ts.hasLease, ts.expires = max(l.Remaining, 0), !removed, l.ExpiresAt
		}
		if removed {
			a.lastAsk = time.Time{}
		}
	}
	for _, c := range m.Charges {
		a.unapplied = max(a.unapplied-c.Requested, 0)
		if ts := a.tokens[c.TokenID]; ts != nil {
			ts.unapplied = max(ts.unapplied-c.Requested, 0)
		}
	}
}

// LeasePolicy sizes the leases a node asks for.
type LeasePolicy struct {
	// Whole asks for the entire available balance (a single node, where
	// nobody else can spend it). Default true in single-node mode.
	Whole bool
	// Chunk is the most a node asks for when not Whole. Default
	// 5,000,000 ($10). The state machine grants at most a fair share of
	// what is free (1/cluster size, at least the reservation at hand), so
	// that a small balance stays usable from every node.
	Chunk int64
	// TTL is how long a lease lives without renewal; a vanished node's
	// lease returns to the balance after it. Default 10 minutes.
	TTL time.Duration
	// IdleAfter is how long an account's leases may go unused before the
	// node gives them back (not when Whole: nobody else could use them).
	// Default 1 minute.
	IdleAfter time.Duration
}

func (p LeasePolicy) withDefaults() LeasePolicy {
	if p.Chunk <= 0 {
		p.Chunk = 5_000_000
	}
	if p.TTL <= 0 {
		p.TTL = 10 * time.Minute
	}
	if p.IdleAfter <= 0 {
		p.IdleAfter = time.Minute
	}
	return p
}

func (p LeasePolicy) want() int64 {
	if p.Whole {
		return math.MaxInt64
	}
	return p.Chunk
}

// Accounts is the typed reference to the account actors. Safe for
// concurrent use.
type Accounts struct {
	sys    *actor.ActorSystem
	prop   storage.Proposer
	node   string
	policy LeasePolicy
	props  func(uid int64) *actor.Props
	pids   syncMap[int64, *actor.PID]
	bg     func(func()) // runs background work (lease refills)
	// stopped is closed when the system stops: a caller waiting for an
	// actor that will never answer gives up.
	stopped <-chan struct{}
	// nodes counts the cluster's members (for fair-share leases).
	nodes func() int
	log   *slog.Logger
	// want asks the other nodes to give back idle leases on a user's
	// account (nil: a single node); othersHold reports whether other
	// nodes hold some of what the token's request would need.
	want       func(uid int64)
	othersHold func(t *TokenInfo) bool
	// size caches the cluster size for rate-limit shares (refreshed in the
	// background: counting members goes through Raft).
	size atomic.Int32
}

// refreshSize re-reads the cluster size.
func (a *Accounts) refreshSize() {
	n := 1
	if a.nodes != nil {
		n = max(a.nodes(), 1)
	}
	a.size.Store(int32(n))
}

// leaseWait bounds a request's wait for a lease through the cluster (the
// only slow part of a reservation).
const leaseWait = 5 * time.Second

// Reserve holds quota for one request: it checks the token (status,
// expiry, model, address) and the user, then reserves the estimate against
// this node's leases, asking the cluster for a lease first when needed,
// and, when other nodes hold the rest of the balance, asking them to give
// back what they do not use (wantFromOthers). The actor answers at once
// unless it waits for a lease; a lease request gives up after leaseWait
// and the wait for other nodes after wantWait, so ctx needs no deadline
// of its own; its cancellation (the client went away) ends the waits too.
func (a *Accounts) Reserve(ctx context.Context, r Reserve) (Reservation, error) {
	r.Nodes = int(a.size.Load())
	asked, wanted := false, false
	for {
		rep, err := a.ask(ctx, &r)
		if err != nil {
			return Reservation{}, err
		}
		if rep.refill {
			tok, need := r.Token, r.Estimate
			a.bg(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = a.requestLease(ctx, tok, need)
			})
		}
		if !rep.needLease {
			// Short of lease while other nodes hold part of the balance:
			// ask them to give back what they do not use, once.
			short := errors.Is(rep.err, ErrInsufficientQuota) || errors.Is(rep.err, ErrInsufficientTokenQ)
			if short && !wanted && a.wantFromOthers(ctx, r.Token) {
				wanted, asked = true, false
				continue
			}
			return rep.res, rep.err
		}
		if asked {
			// The actor handed this request the lease request and holds
			// the others back until it is done: say it is done, or they
			// wait forever.
			a.sys.Root.Send(a.pid(r.Token.UserID), &leaseDone{})
			return Reservation{}, ErrInsufficientQuota
		}
		asked = true
		lctx, cancel := context.WithTimeout(ctx, leaseWait)
		err = a.requestLease(lctx, r.Token, r.Estimate)
		cancel()
		// The grant (if any) reached the actor before Propose returned;
		// leaseDone releases the reservations that waited for it.
		a.sys.Root.Send(a.pid(r.Token.UserID), &leaseDone{})
		if err != nil {
			return Reservation{}, err
		}
	}
}

// wantWait bounds how long a reservation waits for other nodes to give
// back leases they do not use.
const wantWait = time.Second

// wantIdle is how long a lease must have gone unused for its node to give
// it back when another node asks.
const wantIdle = time.Second

// wantFromOthers asks the other nodes, when they hold leases on the
// account, to give back those they have not used for wantIdle, and waits
// (at most wantWait) until they have. It reports whether they did; the
// account's actor may then ask for a lease again at once.
func (a *Accounts) wantFromOthers(ctx context.Context, t *TokenInfo) bool {
	if a.want == nil || a.othersHold == nil || !a.othersHold(t) {
		return false
	}
	a.want(t.UserID)
	wctx, cancel := context.WithTimeout(ctx, wantWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for a.othersHold(t) {
		select {
		case <-wctx.Done():
			return false
		case <-tick.C:
		}
	}
	a.sys.Root.Send(a.pid(t.UserID), &BalanceChanged{})
	return true
}

// askWait bounds one wait for the account actor's answer. The actor
// answers at once or, while a lease request or release of the account is
// under way, when that finishes (a lease request gives up after
// leaseWait, a release after its propose timeout); askWait is a backstop
// well beyond both, so that no request waits without end whatever goes
// wrong, and the client gets a 503 it may retry.
const askWait = 3 * leaseWait

func (a *Accounts) ask(ctx context.Context, r *Reserve) (reserveReply, error) {
	ch := make(chan reserveReply, 1)
	msg := *r
	msg.reply = ch
	a.sys.Root.Send(a.pid(r.Token.UserID), &msg)
	backstop := time.NewTimer(askWait)
	defer backstop.Stop()
	select {
	case rep := <-ch:
		return rep, nil
	case <-a.stopped:
		return reserveReply{}, ErrBusy
	case <-backstop.C:
		a.log.Warn("account actor did not answer a reservation", "user_id", r.Token.UserID, "wait", askWait)
		go func() {
			if rep := <-ch; rep.needLease {
				a.sys.Root.Send(a.pid(r.Token.UserID), &leaseDone{})
			}
		}()
		return reserveReply{}, ErrBusy
	case <-ctx.Done():
		// If the late answer asks us to fetch a lease, nobody will: tell
		// the actor so that reservations waiting for it are answered.
		go func() {
			if rep := <-ch; rep.needLease {
				a.sys.Root.Send(a.pid(r.Token.UserID), &leaseDone{})
			}
		}()
		return reserveReply{}, ErrBusy
	}
}

// requestLease asks the cluster for the account's leases; need is the
// estimate of the reservation that prompted it.
func (a *Accounts) requestLease(ctx context.Context, t *TokenInfo, need int64) error {
	req := &storage.LeaseRequest{
		Node: a.node, UserID: t.UserID, WantUser: a.policy.want(),
		ExpiresAt: time.Now().Add(a.policy.TTL).UnixMilli(), Need: max(need, 0),
	}
	if !a.policy.Whole && a.nodes != nil {
		req.Nodes = a.nodes()
	}
	if !t.UnlimitedQuota {
		req.TokenID, req.WantToken = t.ID, a.policy.want()
	}
	res, err := a.prop.Propose(ctx, req)
	if err != nil {
		return err
	}
	return res.Err
}

// Settle releases a reservation with the actual charge (one-way). The
// caller must already have written the charge to the outbox.
func (a *Accounts) Settle(res Reservation, s Spend) {
	a.sys.Root.Send(a.pid(res.UserID), &SettleReservation{Res: res, Spend: s, At: time.Now()})
}

func (a *Accounts) pid(uid int64) *actor.PID {
	if p, ok := a.pids.Load(uid); ok {
		return p
	}
	p, _ := a.sys.Root.SpawnNamed(a.props(uid), "acct/"+itoa(uid))
	// SpawnNamed returns the existing PID with ErrNameExists when another
	// goroutine won the race; either way p is the account's actor.
	a.pids.Store(uid, p)
	return p
}

// releaseIdle asks every account actor to give back the leases it has not
// used for after; the LeaseRelease commands are proposed in the
// background.
func (a *Accounts) releaseIdle(now time.Time, after time.Duration) {
	check := a.idleCheck(now, after)
	a.pids.Range(func(_ int64, p *actor.PID) bool {
		a.sys.Root.Send(p, check)
		return true
	})
}

func (a *Accounts) idleCheck(now time.Time, after time.Duration) *idleCheck {
	return &idleCheck{now: now, after: after, release: func(uid int64, user bool, tokens []int64) {
		a.bg(func() {
			err := a.release(uid, user, tokens)
			a.sys.Root.Send(a.pid(uid), &released{failed: err != nil})
		})
	}}
}

// release proposes the LeaseRelease commands of one account's leases.
func (a *Accounts) release(uid int64, user bool, tokens []int64) error {
	// Short: the account's requests wait for the release.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var cmds []*storage.LeaseRelease
	if user {
		cmds = append(cmds, &storage.LeaseRelease{Node: a.node, UserID: uid})
	}
	for _, id := range tokens {
		cmds = append(cmds, &storage.LeaseRelease{Node: a.node, TokenID: id})
	}
	for _, c := range cmds {
		if _, err := a.prop.Propose(ctx, c); err != nil {
			// The lease stays in the state until it expires or is
			// released later; nothing is overspent either way.
			a.log.Warn("returning an idle lease", "user", uid, "err", err)
			return err
		}
	}
	return nil
}

// existing returns the actor of uid if it was spawned.
func (a *Accounts) existing(uid int64) (*actor.PID, bool) { return a.pids.Load(uid) }

// deliver sends m to uid's actor if it exists.
func (a *Accounts) deliver(uid int64, m any) {
	if p, ok := a.existing(uid); ok {
		a.sys.Root.Send(p, m)
	}
}
