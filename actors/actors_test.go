package actors

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchyard/storage"
)

// directProposer commits commands by applying them to the store at once,
// in one goroutine at a time, like a one-node Raft without the log.
type directProposer struct {
	mu    sync.Mutex
	s     *storage.Store
	index uint64
	n     atomic.Int64
	// refuse, when set, may fail a command before it commits (a node
	// that cannot reach a leader).
	refuse func(storage.Command) error
}

func (p *directProposer) Propose(ctx context.Context, c storage.Command) (storage.Result, error) {
	b, err := storage.Encode(c)
	if err != nil {
		return storage.Result{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse != nil {
		if err := p.refuse(c); err != nil {
			return storage.Result{}, err
		}
	}
	p.index++
	p.n.Add(1)
	return p.s.ApplyEntries([]storage.Entry{{Index: p.index, Data: b}})[0], nil
}

type fixture struct {
	t    *testing.T
	s    *storage.Store
	p    *directProposer
	sys  *System
	user *UserInfo
}

func newFixture(t *testing.T, quota, tokenQuota int64) *fixture {
	return newFixtureWith(t, quota, tokenQuota, LeasePolicy{Whole: true})
}

func newFixtureWith(t *testing.T, quota, tokenQuota int64, policy LeasePolicy) *fixture {
	s, err := storage.Open("", storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	local, err := storage.OpenLocal("", storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	p := &directProposer{s: s}
	sys, err := New(Config{Node: "n1", Lease: policy, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, s, local, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sys.Stop(ctx); err != nil {
			t.Error(err)
		}
		local.Close()
		s.Close()
	})
	f := &fixture{t: t, s: s, p: p, sys: sys}
	f.do(&storage.CreateUser{User: storage.User{Username: "u", Quota: quota}})
	f.do(&storage.CreateToken{Token: storage.Token{UserID: 1, Key: "unlimited", UnlimitedQuota: true, ExpiredTime: -1}})
	f.do(&storage.CreateToken{Token: storage.Token{UserID: 1, Key: "limited", RemainQuota: tokenQuota, ExpiredTime: -1}})
	f.user, _ = sys.Catalog.User(1)
	return f
}

func (f *fixture) do(c storage.Command) storage.Result {
	f.t.Helper()
	r, err := f.p.Propose(context.Background(), c)
	if err != nil || r.Err != nil {
		f.t.Fatalf("%T: %v %v", c, err, r.Err)
	}
	return r
}

func (f *fixture) token(key string) *TokenInfo {
	f.t.Helper()
	t, ok := f.sys.Catalog.TokenByKey(key)
	if !ok {
		f.t.Fatalf("token %s not in the catalog", key)
	}
	return t
}

func (f *fixture) reserve(key string, est int64) (Reservation, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return f.sys.Accounts.Reserve(ctx, Reserve{Token: f.token(key), User: f.user, Model: "m", Estimate: est, Now: time.Now()})
}

// Concurrent reservations never exceed the balance: exactly balance/est
// of them are admitted while none settles.
func TestReservationsBoundedByBalance(t *testing.T) {
	f := newFixture(t, 1000, 0)
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.reserve("unlimited", 100)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrInsufficientQuota):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || refused.Load() != 40 {
		t.Fatalf("admitted %d refused %d, want 10/40", ok.Load(), refused.Load())
	}
	if n := f.p.n.Load(); n > 3+3 {
		t.Fatalf("%d proposals: lease requests were not coalesced", n)
	}
}

// Settled spend is shipped through the proposer, applied once, and frees
// the reservation; the charge, not the estimate, is what counts.
func TestSettleShipsAndFrees(t *testing.T) {
	f := newFixture(t, 1000, 500)
	tok := f.token("limited")
	res, err := f.reserve("limited", 400)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.reserve("limited", 200); !errors.Is(err, ErrInsufficientTokenQ) {
		t.Fatalf("second reservation beyond the token's quota: %v", err)
	}
	rec := &storage.UsageRecord{UserID: 1, TokenID: tok.ID, Model: "m", Quota: 150, Time: 1}
	f.sys.Accounts.Settle(res, Spend{Quota: 150, OK: true})
	if _, err := f.sys.Outbox.Close(0, rec); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		tk, _ := f.s.Token(tok.ID)
		if tk.UsedQuota == 150 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("usage not shipped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// 350 of the token's quota is left; a 300 reservation fits again.
	if _, err := f.reserve("limited", 300); err != nil {
		t.Fatalf("after settling: %v", err)
	}
	if _, err := f.reserve("limited", 100); !errors.Is(err, ErrInsufficientTokenQ) {
		t.Fatalf("token overdrawn: %v", err)
	}
	u, _ := f.s.User(1)
	if u.Quota != 850 || u.UsedQuota != 150 {
		t.Fatalf("user %+v", u)
	}
}

// An account that stops sending requests gives its leases back after
// IdleAfter (cluster mode), but never while a request is in flight or its
// spend is not applied yet; the next request takes a new lease.
func TestIdleLeasesReturn(t *testing.T) {
	const idle = 200 * time.Millisecond
	f := newFixtureWith(t, 10_000, 5_000, LeasePolicy{Chunk: 1_000, IdleAfter: idle})
	leases := func() int {
		ls, err := f.s.Leases()
		if err != nil {
			t.Fatal(err)
		}
		return len(ls)
	}
	tok := f.token("limited")
	res, err := f.reserve("limited", 100)
	if err != nil {
		t.Fatal(err)
	}
	if n := leases(); n != 2 {
		t.Fatalf("%d leases after the first reservation, want the user's and the token's", n)
	}
	time.Sleep(3 * idle)
	if n := leases(); n != 2 {
		t.Fatalf("a lease was returned while a request was in flight (%d left)", n)
	}
	f.sys.Accounts.Settle(res, Spend{Quota: 60, OK: true})
	if _, err := f.sys.Outbox.Close(0, &storage.UsageRecord{UserID: 1, TokenID: tok.ID, Model: "m", Quota: 60, Time: 1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for leases() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("idle leases not returned (%d left)", leases())
		}
		time.Sleep(10 * time.Millisecond)
	}
	u, _ := f.s.User(1)
	tk, _ := f.s.Token(tok.ID)
	if u.Quota != 10_000-60 || tk.RemainQuota != 5_000-60 {
		t.Fatalf("after the return: user %d, token %d", u.Quota, tk.RemainQuota)
	}
	if _, err := f.reserve("limited", 100); err != nil {
		t.Fatalf("a request after the return: %v", err)
	}
	if n := leases(); n != 2 {
		t.Fatalf("%d leases after a new request", n)
	}
}

// When the release of an idle lease cannot commit (a node cut off from the
// majority), the node keeps serving from that lease, without asking for a
// new one.
func TestFailedIdleReleaseKeepsTheLease(t *testing.T) {
	f := newFixtureWith(t, 10_000, 0, LeasePolicy{Chunk: 1_000, IdleAfter: 100 * time.Millisecond})
	res, err := f.reserve("unlimited", 100)
	if err != nil {
		t.Fatal(err)
	}
	f.sys.Accounts.Settle(res, Spend{})
	var releases, requests atomic.Int64
	f.p.mu.Lock()
	f.p.refuse = func(c storage.Command) error {
		switch c.(type) {
		case *storage.LeaseRelease:
			releases.Add(1)
			return errors.New("no leader")
		case *storage.LeaseRequest:
			requests.Add(1)
		}
		return nil
	}
	f.p.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for releases.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no release attempted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 5 {
		res, err := f.reserve("unlimited", 100)
		if err != nil {
			t.Fatalf("after a failed release: %v", err)
		}
		f.sys.Accounts.Settle(res, Spend{})
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d lease requests: the actor forgot the lease it still holds", n)
	}
	f.p.mu.Lock()
	f.p.refuse = nil // the leader is back (Stop returns the leases)
	f.p.mu.Unlock()
}

// A top-up makes a refused account usable again at once.
func TestTopUpReopensAccount(t *testing.T) {
	f := newFixture(t, 50, 0)
	if _, err := f.reserve("unlimited", 100); !errors.Is(err, ErrInsufficientQuota) {
		t.Fatalf("want insufficient quota, got %v", err)
	}
	f.do(&storage.AddQuota{UserID: 1, Delta: 100, Time: 1})
	if _, err := f.reserve("unlimited", 100); err != nil {
		t.Fatalf("after top-up: %v", err)
	}
}

func TestTokenChecks(t *testing.T) {
	f := newFixture(t, 1000, 0)
	tk, _ := f.s.Token(1)
	ip := netip.MustParseAddr("10.1.2.3")
	cases := []struct {
		name   string
		mutate func(*storage.Token)
		ip     netip.Addr
		want   error
	}{
		{"disabled", func(t *storage.Token) { t.Status = storage.TokenDisabled }, ip, ErrTokenDisabled},
		{"expired", func(t *storage.Token) { t.ExpiredTime = 1000 }, ip, ErrTokenExpired},
		{"model", func(t *storage.Token) { t.Models = "other,another" }, ip, ErrModelNotAllowed},
		{"subnet", func(t *storage.Token) { t.Subnet = "192.168.0.0/16" }, ip, ErrIPNotAllowed},
		{"subnet ok", func(t *storage.Token) { t.Subnet = "10.0.0.0/8, 192.168.1.1" }, ip, nil},
		{"bad subnet denies", func(t *storage.Token) { t.Subnet = "not-an-ip" }, ip, ErrIPNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := *tk
			c.mutate(&n)
			ti := NewTokenInfo(&n)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err := f.sys.Accounts.Reserve(ctx, Reserve{Token: ti, User: f.user, Model: "m", IP: c.ip, Estimate: 1, Now: time.Now()})
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestQuotaFormula(t *testing.T) {
	cases := []struct {
		r          Ratios
		prompt, cp int
		want       int64
	}{
		{Ratios{Model: 1.5, Completion: 2, Group: 1}, 12, 8, 42},
		{Ratios{Model: 0.075, Completion: 4, Group: 1}, 12, 8, 4}, // 3.3 → 4
		{Ratios{Model: 0.1, Completion: 1, Group: 1}, 1, 0, 1},    // at least 1
		{Ratios{Model: 0, Completion: 1, Group: 1}, 100, 100, 0},  // free model
		{Ratios{Model: 1, Completion: 1, Group: 1}, 0, 0, 0},      // no usage
		{Ratios{Model: 2, Completion: 3, Group: 0.5}, 100, 10, 130},
		{Ratios{Model: 0.1, Completion: 1, Group: 1}, 20, 0, 2}, // 2.0000000000000004 must not round up
	}
	for _, c := range cases {
		if got := c.r.Quota(c.prompt, c.cp); got != c.want {
			t.Errorf("%+v (%d, %d) = %d, want %d", c.r, c.prompt, c.cp, got, c.want)
		}
	}
}

func TestPricingOptions(t *testing.T) {
	p, errs := NewPricing(map[string]string{
		OptModelRatio: `{"x":3}`, OptCompletionRatio: `{"x":2}`, OptGroupRatio: `{"vip":0.5}`,
		OptQuotaPerUnit: "1000", OptRetryTimes: "2", OptDefaultMaxToken: "bad",
	})
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one for DefaultMaxTokens", errs)
	}
	r := p.For("x", "vip")
	if r.Model != 3 || r.Completion != 2 || r.Group != 0.5 || p.QuotaPerUnit != 1000 || p.RetryTimes != 2 {
		t.Fatalf("pricing %+v ratios %+v", p, r)
	}
	if r := p.For("gpt-4o", "default"); r.Model != 1.25 || r.Group != 1 {
		t.Fatalf("defaults kept and unknown group → 1: %+v", r)
	}
	if r := p.For("never-heard-of", "default"); r.Model != 30 {
		t.Fatalf("unknown model ratio %v", r.Model)
	}
	if _, err := ParseRatios(`{"a":-1}`); err == nil {
		t.Fatal("negative ratio accepted")
	}
}

// Weighted random inside a tier follows the weights; a higher tier is
// always preferred; excluded and open-breaker channels are skipped.
func TestRouterWeightsAndTiers(t *testing.T) {
	mk := func(id int64, prio int64, w int) *ChannelInfo {
		return &ChannelInfo{ID: id, Status: 1, Keys: []string{"k"}, Models: []string{"m"}, Groups: []string{"default"}, Priority: prio, Weight: w, Health: &Health{}}
	}
	r := NewRouter([]*ChannelInfo{mk(1, 0, 1), mk(2, 0, 3), mk(3, 5, 1), mk(4, 5, 4)}, nil)
	counts := map[int64]int{}
	const n = 10000
	for i := 0; i < n; i++ {
		c, err := r.Pick("default", "m", nil)
		if err != nil {
			t.Fatal(err)
		}
		counts[c.ID]++
	}
	if counts[1]+counts[2] != 0 {
		t.Fatalf("lower tier chosen while the higher is healthy: %v", counts)
	}
	share := float64(counts[4]) / n
	if math.Abs(share-0.8) > 0.05*0.8 {
		t.Fatalf("weight 4 of 5 got %.3f of picks", share)
	}
	// Excluding the top tier falls through to the next.
	c, _ := r.Pick("default", "m", []int64{3, 4})
	if c.ID != 1 && c.ID != 2 {
		t.Fatalf("picked %d", c.ID)
	}
	// An open breaker is skipped until its cooldown passes.
	ch3, _ := r.Channel(3)
	ch4, _ := r.Channel(4)
	for _, ch := range []*ChannelInfo{ch3, ch4} {
		ch.Health.state.Store(BreakerOpen)
		ch.Health.openUntil.Store(time.Now().Add(time.Hour).UnixNano())
	}
	if c, _ := r.Pick("default", "m", nil); c.Priority != 0 {
		t.Fatalf("open breakers not skipped: %d", c.ID)
	}
	if _, err := r.Pick("default", "other", nil); !errors.Is(err, ErrNoChannel) {
		t.Fatalf("unknown model: %v", err)
	}
}

func TestBreakerOpensAndProbes(t *testing.T) {
	h := &Health{}
	a := &channelActor{h: h, cfg: BreakerConfig{Failures: 3, Cooldown: time.Millisecond}.withDefaults()}
	for i := 0; i < 2; i++ {
		a.record(&RecordOutcome{Success: false})
	}
	if h.State() != BreakerClosed {
		t.Fatal("opened before the failure threshold")
	}
	a.record(&RecordOutcome{Success: false})
	if h.State() != BreakerOpen {
		t.Fatal("did not open")
	}
	time.Sleep(2 * time.Millisecond)
	now := time.Now().UnixNano()
	if !h.admits(now) || h.admits(now) {
		t.Fatal("half-open must admit exactly one probe")
	}
	a.record(&RecordOutcome{Success: true, Latency: 10 * time.Millisecond})
	if h.State() != BreakerClosed || h.LatencyEWMA() != 10*time.Millisecond {
		t.Fatalf("probe success: state %d ewma %v", h.State(), h.LatencyEWMA())
	}
	a.record(&RecordOutcome{Success: false, Fatal: true})
	if h.State() != BreakerOpen {
		t.Fatal("a fatal error must open the breaker at once")
	}
}

// Successes on a healthy channel are recorded inline; failures go through
// the channel actor and open the breaker.
func TestHealthBoardRecord(t *testing.T) {
	f := newFixture(t, 0, 0)
	b := f.sys.Health
	b.Record(7, RecordOutcome{Success: true, Latency: 20 * time.Millisecond})
	b.Record(7, RecordOutcome{Success: true, Latency: 10 * time.Millisecond})
	h := b.Health(7)
	if h.successes.Load() != 2 || h.LatencyEWMA() != 18*time.Millisecond {
		t.Fatalf("successes %d ewma %v", h.successes.Load(), h.LatencyEWMA())
	}
	b.Record(7, RecordOutcome{Success: false, Fatal: true})
	deadline := time.Now().Add(2 * time.Second)
	for h.State() != BreakerOpen {
		if time.Now().After(deadline) {
			t.Fatal("a fatal failure did not open the breaker")
		}
		time.Sleep(time.Millisecond)
	}
	// While the breaker is open, successes go to the actor, which closes it.
	b.Record(7, RecordOutcome{Success: true, Latency: time.Millisecond})
	for h.State() != BreakerClosed {
		if time.Now().After(deadline) {
			t.Fatal("a success did not close the breaker")
		}
		time.Sleep(time.Millisecond)
	}
}

// twoNodes is two nodes' actors on one state store: a cluster without
// Raft, whose bus delivers every message to every subscriber.
type twoNodes struct {
	t    *testing.T
	s    *storage.Store
	p    *directProposer
	sys  [2]*System
	user *UserInfo
	mu   sync.Mutex
	subs []func([]byte)
}

func newTwoNodes(t *testing.T, quota int64, policy LeasePolicy) *twoNodes {
	s, err := storage.Open("", storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // cleanups run last first: after the systems stop
	c := &twoNodes{t: t, s: s, p: &directProposer{s: s}}
	for i := range c.sys {
		local, err := storage.OpenLocal("", storage.Options{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		sys, err := New(Config{
			Node: "n" + itoa(int64(i+1)), Lease: policy, Logger: slog.New(slog.DiscardHandler),
			ClusterSize: func() int { return 2 },
			Publish: func(_ string, data []byte) error {
				c.mu.Lock()
				subs := slices.Clone(c.subs)
				c.mu.Unlock()
				for _, fn := range subs {
					fn(data)
				}
				return nil
			},
			Subscribe: func(_ string, fn func([]byte)) (func(), error) {
				c.mu.Lock()
				defer c.mu.Unlock()
				c.subs = append(c.subs, fn)
				return func() {}, nil
			},
		}, s, local, c.p)
		if err != nil {
			t.Fatal(err)
		}
		if err := sys.Start(); err != nil {
			t.Fatal(err)
		}
		c.sys[i] = sys
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := sys.Stop(ctx); err != nil {
				t.Error(err)
			}
			local.Close()
		})
	}
	r, err := c.p.Propose(context.Background(), &storage.CreateUser{User: storage.User{Username: "u", Quota: quota}})
	if err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	if r, err = c.p.Propose(context.Background(), &storage.CreateToken{Token: storage.Token{UserID: 1, Key: "k", UnlimitedQuota: true, ExpiredTime: -1}}); err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	c.user, _ = c.sys[0].Catalog.User(1)
	return c
}

func (c *twoNodes) reserve(i int, est int64, now time.Time) (Reservation, error) {
	tok, ok := c.sys[i].Catalog.TokenByKey("k")
	if !ok {
		c.t.Fatal("token not in the catalog")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.sys[i].Accounts.Reserve(ctx, Reserve{Token: tok, User: c.user, Model: "m", Estimate: est, Now: now})
}

// A node short of lease while another node holds the rest of the balance
// unused asks for it over the bus and gets it within the same request,
// instead of refusing until the idle timeout.
func TestShortNodeGetsIdleLeaseFromOthers(t *testing.T) {
	c := newTwoNodes(t, 200, LeasePolicy{Chunk: 1_000_000, IdleAfter: time.Hour})
	// Node 2 takes a fair share (100) and does not use it for a minute.
	res2, err := c.reserve(1, 100, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	c.sys[1].Accounts.Settle(res2, Spend{})
	// Node 1 takes the other 100 and spends it.
	res1, err := c.reserve(0, 100, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.sys[0].Accounts.Settle(res1, Spend{Quota: 100, OK: true})
	if _, err := c.sys[0].Outbox.Close(0, &storage.UsageRecord{UserID: 1, TokenID: 1, Model: "m", Quota: 100, Time: 1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if u, _ := c.s.User(1); u.UsedQuota == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("usage not applied")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// 100 is left, all of it in node 2's idle lease: node 1 gets it.
	start := time.Now()
	if _, err := c.reserve(0, 100, time.Now()); err != nil {
		t.Fatalf("node 1 with the rest of the balance idle on node 2: %v", err)
	}
	t.Logf("served after %v", time.Since(start).Round(time.Millisecond))
	l1, ok1, _ := c.s.Lease(storage.LeaseUser, 1, "n1")
	_, ok2, _ := c.s.Lease(storage.LeaseUser, 1, "n2")
	if !ok1 || l1.Remaining != 100 || ok2 {
		t.Fatalf("leases: n1 %+v (%v), n2 held %v", l1, ok1, ok2)
	}
	// Nothing is free now: node 2 asks, node 1 keeps its lease (a
	// request is in flight on it), and node 2 refuses after wantWait.
	if _, err := c.reserve(1, 100, time.Now()); !errors.Is(err, ErrInsufficientQuota) {
		t.Fatalf("node 2 with the balance leased to node 1 and in use: %v", err)
	}
}
