package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/storage"
)

// TestMain fails the run when goroutines outlive the tests (a small
// stand-in for goleak, which is not a dependency): every node, NATS server
// and store a test starts must be fully stopped by its cleanup.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		leaked := strayGoroutines()
		for deadline := time.Now().Add(5 * time.Second); len(leaked) > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			leaked = strayGoroutines()
		}
		if len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "%d goroutines leaked:\n\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// strayGoroutines lists the stacks of goroutines other than this one and
// the runtime's and test framework's own.
func strayGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || strings.Contains(g, "os/signal.") || strings.Contains(g, "testing.(*F).Fuzz") {
			continue
		}
		out = append(out, g)
	}
	return out
}

// waitFor polls cond every few milliseconds until it holds or timeout
// passes, then fails the test.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// fastTimings are Raft timings for tests: elections within about a second
// even under -race on two busy cores. The apply timeout is generous because
// it only costs time when a leader dies mid-request.
func fastTimings(c *Config) {
	c.HeartbeatTimeout = time.Second
	c.ElectionTimeout = time.Second
	c.LeaderLeaseTimeout = 500 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.ApplyTimeout = 10 * time.Second
}

// testNode is a full node: state store, local store and cluster.Node, all
// in one data directory so that it can be stopped and restarted.
type testNode struct {
	t     testing.TB
	cfg   Config
	store *storage.Store
	local *storage.Local
	node  *Node
}

func startNode(t testing.TB, cfg Config) *testNode {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	store, err := storage.Open(filepath.Join(cfg.Dir, "state"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	local, err := storage.OpenLocal(filepath.Join(cfg.Dir, "local"), storage.Options{})
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	n, err := Open(cfg, store, local)
	if err != nil {
		local.Close()
		store.Close()
		t.Fatal(err)
	}
	tn := &testNode{t: t, cfg: cfg, store: store, local: local, node: n}
	t.Cleanup(func() { tn.stop(true) })
	return tn
}

// stop shuts the node down (kill: without handing over leadership, as a
// crash would) and closes its stores. Stopping twice is a no-op.
func (tn *testNode) stop(kill bool) {
	if tn.node == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tn.node.shutdown(ctx, !kill); err != nil {
		tn.t.Errorf("shutdown %s: %v", tn.cfg.NodeID, err)
	}
	if err := tn.store.Close(); err != nil {
		tn.t.Errorf("close state %s: %v", tn.cfg.NodeID, err)
	}
	if err := tn.local.Close(); err != nil {
		tn.t.Errorf("close local %s: %v", tn.cfg.NodeID, err)
	}
	tn.node = nil
}

// restart starts a stopped node again from its directories, at the
// addresses it had (a member must keep its Raft address).
func (c *testCluster) restart(tn *testNode) *testNode {
	c.t.Helper()
	nt := startNode(c.t, tn.cfg)
	for i := range c.nodes {
		if c.nodes[i] == tn {
			c.nodes[i] = nt
		}
	}
	return nt
}

func (tn *testNode) option(name string) string {
	tn.t.Helper()
	v, _, err := tn.store.Option(name)
	if err != nil {
		tn.t.Fatal(err)
	}
	return v
}

func setOption(k, v string) *storage.SetOptions {
	return &storage.SetOptions{Options: map[string]string{k: v}}
}

func propose(t testing.TB, n *Node, cmd storage.Command) storage.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := n.Propose(ctx, cmd)
	if err != nil {
		t.Fatalf("propose on %s: %v", n.cfg.NodeID, err)
	}
	if res.Err != nil {
		t.Fatalf("propose on %s: result error %v", n.cfg.NodeID, res.Err)
	}
	return res
}

// testCluster is n nodes in one process on 127.0.0.1 with TCP Raft
// transports and routed NATS servers.
type testCluster struct {
	t     testing.TB
	nodes []*testNode
}

// testSecret is the cluster secret of the test clusters.
const testSecret = "test-cluster-secret-0123456789"

func clusterConfig(t testing.TB, i int, routes []string, tweak func(*Config)) Config {
	cfg := Config{
		NodeID:          fmt.Sprintf("n%d", i+1),
		Dir:             t.TempDir(),
		RaftAddr:        "127.0.0.1:0",
		NATSClusterAddr: "127.0.0.1:0",
		NATSRoutes:      routes,
		Bootstrap:       i == 0,
		// As in production: Raft connections and NATS routes authenticate.
		ClusterSecret: testSecret,
	}
	fastTimings(&cfg)
	if tweak != nil {
		tweak(&cfg)
	}
	return cfg
}

// newCluster starts the first node (bootstrapped), then size-1 more that
// join it.
func newCluster(t testing.TB, size int, tweak func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t}
	first := c.add(clusterConfig(t, 0, nil, tweak), false)
	waitFor(t, 10*time.Second, "first node to lead", first.node.IsLeader)
	for i := 1; i < size; i++ {
		c.add(clusterConfig(t, i, []string{first.node.NATSClusterAddr()}, tweak), true)
	}
	c.waitStable(size)
	return c
}

// add starts a node and, if join, joins it to the cluster.
func (c *testCluster) add(cfg Config, join bool) *testNode {
	c.t.Helper()
	tn := startNode(c.t, cfg)
	tn.cfg.RaftAddr = tn.node.RaftAddress()
	tn.cfg.NATSClusterAddr = tn.node.NATSClusterAddr()
	c.nodes = append(c.nodes, tn)
	if join {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := tn.node.Join(ctx); err != nil {
			c.t.Fatalf("join %s: %v", cfg.NodeID, err)
		}
	}
	return tn
}

func (c *testCluster) live() []*testNode {
	var out []*testNode
	for _, tn := range c.nodes {
		if tn.node != nil {
			out = append(out, tn)
		}
	}
	return out
}

// leader waits until the live nodes agree on a leader that is one of them
// and returns it.
func (c *testCluster) leader() *testNode {
	c.t.Helper()
	var leader *testNode
	waitFor(c.t, 10*time.Second, "an agreed leader", func() bool {
		leader = nil
		live := c.live()
		id := live[0].node.LeaderID()
		for _, tn := range live {
			if tn.node.LeaderID() != id || id == "" {
				return false
			}
			if tn.cfg.NodeID == id && tn.node.IsLeader() {
				leader = tn
			}
		}
		return leader != nil
	})
	return leader
}

func (c *testCluster) follower() *testNode {
	l := c.leader()
	for _, tn := range c.live() {
		if tn != l {
			return tn
		}
	}
	c.t.Fatal("no follower")
	return nil
}

// waitStable waits for a leader, voters members on every live node, and
// every live node ready.
func (c *testCluster) waitStable(voters int) {
	c.t.Helper()
	c.leader()
	waitFor(c.t, 10*time.Second, "membership and readiness", func() bool {
		for _, tn := range c.live() {
			ms, err := tn.node.Members()
			if err != nil || len(ms) != voters || !tn.node.Ready() {
				return false
			}
		}
		return true
	})
}

// converged waits until every live node has applied the same index and
// holds the same options.
func (c *testCluster) converged() {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		diff := c.diff()
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("replicas did not converge: %s", diff)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *testCluster) diff() string {
	live := c.live()
	want, err := live[0].store.Options()
	if err != nil {
		return err.Error()
	}
	for _, tn := range live[1:] {
		if a, b := tn.store.AppliedIndex(), live[0].store.AppliedIndex(); a != b {
			return fmt.Sprintf("%s applied %d, %s applied %d", tn.cfg.NodeID, a, live[0].cfg.NodeID, b)
		}
		got, err := tn.store.Options()
		if err != nil {
			return err.Error()
		}
		if d := cmp.Diff(want, got); d != "" {
			return fmt.Sprintf("options of %s (-%s +%s):\n%s", tn.cfg.NodeID, live[0].cfg.NodeID, tn.cfg.NodeID, d)
		}
	}
	return ""
}
