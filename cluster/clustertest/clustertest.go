// Package clustertest runs a cluster of Switchyard nodes inside one test
// process, with fast Raft timings, and lets the test break it: Kill and
// Restart members, Partition them and Heal, then check that the replicas
// converged (WaitApplied, EnsureConverged) and that the money adds up
// (CheckMoney).
//
// What a member is depends on the test. By default it is the replication
// layer alone: a state store, a local store and a cluster.Node. A test of
// the whole gateway passes WithStart to start a full node (HTTP, actors,
// usage shipping) on the configuration the harness prepares; the harness
// only needs the cluster.Node and the state store back.
//
// Faults are in-process: a partition refuses the Raft connections between
// the two sides and drops the NATS messages between them (cluster.Faults);
// a kill stops a member as a crash would (no leadership transfer, no
// flushing of unsent work; what the disk already holds stays). Tests that
// need a real kill -9 run processes instead (cmd/switchyard).
//
// A Cluster belongs to one test goroutine: call its methods from the test,
// not concurrently. Every member still running when the test ends is
// stopped by the test's cleanup.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"switchyard/cluster"
	"switchyard/storage"
)

// Secret is the cluster secret of harness clusters: as in production,
// Raft connections and NATS routes authenticate.
const Secret = "clustertest-cluster-secret-0123456789"

// Instance is one running member, as its StartFunc built it.
type Instance interface {
	// Node is the member's replication node.
	Node() *cluster.Node
	// Store is the member's replicated state store.
	Store() *storage.Store
	// Stop stops the member and closes its stores. With crash it stops as
	// a crash would: no leadership transfer, no draining, no flushing of
	// work that has not reached the disk yet.
	Stop(ctx context.Context, crash bool) error
}

// StartFunc starts one member on cfg, whose id, data directory, addresses,
// secret, timings and Faults the harness has filled in. join is a running
// member to join through, or nil when the member bootstraps the cluster or
// restarts on its existing data.
type StartFunc func(cfg cluster.Config, join Instance) (Instance, error)

// Option configures New.
type Option func(*Cluster)

// WithStart makes members full nodes (see StartFunc); the default starts
// the replication layer only.
func WithStart(f StartFunc) Option { return func(c *Cluster) { c.start = f } }

// WithConfig adjusts every member's cluster configuration after the
// harness has filled it in (timings, snapshot thresholds, a logger).
func WithConfig(f func(*cluster.Config)) Option {
	return func(c *Cluster) { c.tweaks = append(c.tweaks, f) }
}

// Timeout bounds every wait of the harness (a leader, an apply index,
// convergence).
const Timeout = 20 * time.Second

// Cluster is a test cluster.
type Cluster struct {
	t       testing.TB
	dir     string // the members' data directories are under it
	start   StartFunc
	tweaks  []func(*cluster.Config)
	members []*Member
	added   int // members ever added (ids are never reused)
}

// Member is one node of a test cluster, up or down. It keeps its id, data
// directory and addresses across restarts.
type Member struct {
	// ID is the node id: n1, n2, …
	ID     string
	c      *Cluster
	cfg    cluster.Config
	faults *cluster.Faults
	inst   Instance
}

// New starts n members: the first bootstraps the cluster, each other one
// joins it; New returns when every member agrees on a leader and all are
// ready.
func New(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	// The directory first: cleanups run last-registered first, and the
	// members must stop before their directories are removed.
	c := &Cluster{t: t, start: startReplication, dir: t.TempDir()}
	for _, o := range opts {
		o(c)
	}
	t.Cleanup(c.stopAll)
	for range n {
		c.Add()
	}
	c.WaitStable()
	return c
}

// Add starts one more member and joins it to the cluster (the first one
// bootstraps it).
func (c *Cluster) Add() *Member {
	c.t.Helper()
	i := len(c.members)
	c.added++
	m := &Member{ID: fmt.Sprintf("n%d", c.added), c: c, faults: &cluster.Faults{}}
	m.cfg = cluster.Config{
		NodeID:          m.ID,
		Dir:             filepath.Join(c.dir, m.ID),
		RaftAddr:        freeAddr(c.t),
		NATSClusterAddr: freeAddr(c.t),
		Bootstrap:       c.added == 1,
		ClusterSecret:   Secret,
		Faults:          m.faults,
		// Elections within about a second even under -race on two busy
		// cores; a generous apply timeout, which only costs time when a
		// leader dies mid-request.
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		ApplyTimeout:       10 * time.Second,
	}
	for _, tw := range c.tweaks {
		tw(&m.cfg)
	}
	var join Instance
	if i > 0 {
		join = c.Leader().inst
	}
	c.members = append(c.members, m)
	m.run(join)
	return m
}

// run starts m's instance, joining through join when it is not nil.
func (m *Member) run(join Instance) {
	c := m.c
	c.t.Helper()
	cfg := m.cfg
	// Seed routes to every other member: NATS gossips the rest, and a
	// restarted member finds the cluster again.
	cfg.NATSRoutes = nil
	for _, o := range c.members {
		if o != m {
			cfg.NATSRoutes = append(cfg.NATSRoutes, o.cfg.NATSClusterAddr)
		}
	}
	inst, err := c.start(cfg, join)
	if err != nil {
		c.t.Fatalf("start %s: %v", m.ID, err)
	}
	m.inst = inst
}

// Member returns member i (0-based: Member(0) is n1).
func (c *Cluster) Member(i int) *Member { return c.members[i] }

// Members returns every member, up or down, in id order.
func (c *Cluster) Members() []*Member { return append([]*Member(nil), c.members...) }

// Up returns the members that are running.
func (c *Cluster) Up() []*Member {
	var out []*Member
	for _, m := range c.members {
		if m.inst != nil {
			out = append(out, m)
		}
	}
	return out
}

// Up reports whether the member is running.
func (m *Member) Up() bool { return m.inst != nil }

// Instance returns the running instance; the test fails if m is down.
func (m *Member) Instance() Instance {
	m.c.t.Helper()
	if m.inst == nil {
		m.c.t.Fatalf("%s is down", m.ID)
	}
	return m.inst
}

// Node returns the running member's cluster node.
func (m *Member) Node() *cluster.Node { m.c.t.Helper(); return m.Instance().Node() }

// Store returns the running member's state store.
func (m *Member) Store() *storage.Store { m.c.t.Helper(); return m.Instance().Store() }

// Config returns the member's cluster configuration (without its seed
// routes, which the harness fills in at each start).
func (m *Member) Config() cluster.Config { return m.cfg }

// Leader waits until a running member leads and a majority of the members
// follows it, and returns it.
func (c *Cluster) Leader() *Member {
	c.t.Helper()
	var leader *Member
	c.waitFor("a leader followed by a majority", func() bool {
		leader = nil
		votes := map[string]int{}
		for _, m := range c.Up() {
			if id := m.inst.Node().LeaderID(); id != "" {
				votes[id]++
			}
		}
		for _, m := range c.Up() {
			if m.inst.Node().IsLeader() && votes[m.ID] > len(c.members)/2 {
				leader = m
			}
		}
		return leader != nil
	})
	return leader
}

// Followers returns the running members other than the leader.
func (c *Cluster) Followers() []*Member {
	c.t.Helper()
	l := c.Leader()
	var out []*Member
	for _, m := range c.Up() {
		if m != l {
			out = append(out, m)
		}
	}
	return out
}

// WaitStable waits for a leader and for every running member to know all
// members and be ready (caught up, leader known).
func (c *Cluster) WaitStable() {
	c.t.Helper()
	c.Leader()
	c.waitFor("every member to see the whole membership and be ready", func() bool {
		for _, m := range c.Up() {
			ms, err := m.inst.Node().Members()
			if err != nil || len(ms) != len(c.members) || !m.inst.Node().Ready() {
				return false
			}
		}
		return true
	})
}

// Remove takes m out of the cluster (through the leader), then stops it
// and forgets it: Members no longer lists it.
func (c *Cluster) Remove(m *Member) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := c.Leader().inst.Node().RemoveServer(ctx, m.ID); err != nil {
		c.t.Fatalf("remove %s: %v", m.ID, err)
	}
	if m.inst != nil {
		c.stop(m, true)
	}
	c.members = slices.DeleteFunc(c.members, func(o *Member) bool { return o == m })
}

// Kill stops m as a crash would (see Instance.Stop).
func (c *Cluster) Kill(m *Member) { c.t.Helper(); c.stop(m, true) }

// Stop stops m cleanly: a leader hands over first, work is flushed.
func (c *Cluster) Stop(m *Member) { c.t.Helper(); c.stop(m, false) }

func (c *Cluster) stop(m *Member, crash bool) {
	c.t.Helper()
	if m.inst == nil {
		c.t.Fatalf("%s is already down", m.ID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	err := m.inst.Stop(ctx, crash)
	m.inst = nil
	if err != nil && !crash {
		c.t.Fatalf("stop %s: %v", m.ID, err)
	}
}

// Restart starts a stopped member again on its data directory and
// addresses (no join: it is a member already).
func (c *Cluster) Restart(m *Member) {
	c.t.Helper()
	if m.inst != nil {
		c.t.Fatalf("%s is running", m.ID)
	}
	m.run(nil)
}

// Partition cuts the members of side off from all the others, both ways:
// Raft connections and NATS messages between the two sides. It adds to
// any partition already in place; Heal removes them all.
func (c *Cluster) Partition(side ...*Member) {
	c.t.Helper()
	in := map[*Member]bool{}
	for _, m := range side {
		in[m] = true
	}
	var a, b []string
	for _, m := range c.members {
		if in[m] {
			a = append(a, m.ID)
		} else {
			b = append(b, m.ID)
		}
	}
	if len(a) == 0 || len(b) == 0 {
		c.t.Fatalf("partition %v: both sides need a member", a)
	}
	for _, m := range c.members {
		if in[m] {
			m.faults.Cut(b...)
		} else {
			m.faults.Cut(a...)
		}
	}
}

// Heal removes every partition.
func (c *Cluster) Heal() {
	for _, m := range c.members {
		m.faults.Heal()
	}
}

// Propose commits cmd through the leader and returns its result; the test
// fails on an error, business errors included.
func (c *Cluster) Propose(cmd storage.Command) storage.Result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	res, err := c.Leader().inst.Node().Propose(ctx, cmd)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		c.t.Fatalf("propose %T: %v", cmd, err)
	}
	return res
}

// WaitApplied waits until every running member has applied index.
func (c *Cluster) WaitApplied(index uint64) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("every running member to apply index %d", index), func() bool {
		for _, m := range c.Up() {
			if m.inst.Store().AppliedIndex() < index {
				return false
			}
		}
		return true
	})
}

// Sync commits a no-op through the leader and waits until every running
// member has applied it: everything committed before Sync is then visible
// on every member. It returns the no-op's index.
func (c *Cluster) Sync() uint64 {
	c.t.Helper()
	res := c.Propose(&storage.Barrier{})
	c.WaitApplied(res.Index)
	return res.Index
}

// EnsureConverged waits until every running member holds the same state,
// byte for byte, at the same applied index (storage.Store.Digest), and
// fails the test with the members' indexes if they do not get there.
func (c *Cluster) EnsureConverged() {
	c.t.Helper()
	var last string
	ok := poll(Timeout, func() bool {
		last = c.divergence()
		return last == ""
	})
	if !ok {
		c.t.Fatalf("replicas did not converge within %s: %s", Timeout, last)
	}
}

// divergence describes how the running members differ, "" if they do not.
func (c *Cluster) divergence() string {
	type state struct {
		index  uint64
		digest [32]byte
	}
	var (
		first *Member
		want  state
		diffs []string
	)
	for _, m := range c.Up() {
		var s state
		var err error
		if s.index, s.digest, err = m.inst.Store().Digest(); err != nil {
			return fmt.Sprintf("digest of %s: %v", m.ID, err)
		}
		if first == nil {
			first, want = m, s
			continue
		}
		switch {
		case s.index != want.index:
			diffs = append(diffs, fmt.Sprintf("%s applied %d, %s %d", m.ID, s.index, first.ID, want.index))
		case s.digest != want.digest:
			diffs = append(diffs, fmt.Sprintf("%s and %s differ at index %d", m.ID, first.ID, s.index))
		}
	}
	return strings.Join(diffs, "; ")
}

// CheckMoney audits a state store (storage.Store.Audit) and fails the test
// on any broken invariant or when a user's balance plus used quota is not
// what the user was given (given: user id → initial quota plus top-ups;
// users not listed are not checked for it). It returns the audit.
func CheckMoney(t testing.TB, s *storage.Store, given map[int64]int64) *storage.Audit {
	t.Helper()
	a, err := s.Audit()
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	for _, p := range a.Problems {
		t.Errorf("money at index %d: %s", a.Index, p)
	}
	for uid, g := range given {
		m, ok := a.Users[uid]
		if !ok {
			t.Errorf("money: user %d is missing", uid)
			continue
		}
		if m.Balance+m.Used != g {
			t.Errorf("money: user %d has %d + used %d = %d, was given %d (quota created or destroyed)",
				uid, m.Balance, m.Used, m.Balance+m.Used, g)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return a
}

// CheckMoney runs CheckMoney on every running member.
func (c *Cluster) CheckMoney(given map[int64]int64) {
	c.t.Helper()
	for _, m := range c.Up() {
		CheckMoney(c.t, m.inst.Store(), given)
	}
}

func (c *Cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	if !poll(Timeout, cond) {
		c.t.Fatalf("timed out after %s waiting for %s", Timeout, what)
	}
}

func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// stopAll stops the running members at the end of the test. The last ones
// to stop have lost their quorum and may fail to hand over or flush: that
// is logged, not failed.
func (c *Cluster) stopAll() {
	for _, m := range c.members {
		if m.inst == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		if err := m.inst.Stop(ctx, false); err != nil {
			c.t.Logf("stop %s: %v", m.ID, err)
		}
		cancel()
		m.inst = nil
	}
}

// freeAddr returns a free loopback port.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// replication is the default member: the stores and the cluster node.
type replication struct {
	node  *cluster.Node
	store *storage.Store
	local *storage.Local
}

func (r *replication) Node() *cluster.Node   { return r.node }
func (r *replication) Store() *storage.Store { return r.store }

func (r *replication) Stop(ctx context.Context, crash bool) error {
	var err error
	if crash {
		err = r.node.Kill(ctx)
	} else {
		err = r.node.Shutdown(ctx)
	}
	return errors.Join(err, r.store.Close(), r.local.Close())
}

// startReplication opens the stores under cfg.Dir, starts the node and,
// given a member, joins it.
func startReplication(cfg cluster.Config, join Instance) (Instance, error) {
	store, err := storage.Open(filepath.Join(cfg.Dir, "state"), storage.Options{})
	if err != nil {
		return nil, err
	}
	local, err := storage.OpenLocal(filepath.Join(cfg.Dir, "local"), storage.Options{})
	if err != nil {
		store.Close()
		return nil, err
	}
	node, err := cluster.Open(cfg, store, local)
	if err != nil {
		local.Close()
		store.Close()
		return nil, err
	}
	r := &replication{node: node, store: store, local: local}
	if join != nil {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := node.Join(ctx); err != nil {
			_ = r.Stop(context.Background(), true)
			return nil, fmt.Errorf("join: %w", err)
		}
	}
	return r, nil
}
