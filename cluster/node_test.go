package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/raft"

	"switchyard/storage"
)

func singleConfig(t *testing.T) Config {
	return Config{NodeID: "solo", Dir: t.TempDir(), Logger: testLogger(t)}
}

func TestSingleNodeProposeApplies(t *testing.T) {
	tn := startNode(t, singleConfig(t))
	n := tn.node
	if !n.IsLeader() || n.LeaderID() != "solo" {
		t.Fatalf("IsLeader = %v, LeaderID = %q after Open", n.IsLeader(), n.LeaderID())
	}
	waitFor(t, 5*time.Second, "ready", n.Ready)

	res := propose(t, n, setOption("greeting", "hello"))
	// Read-your-writes: visible as soon as Propose returns.
	if got := tn.option("greeting"); got != "hello" {
		t.Fatalf("option = %q, want hello", got)
	}
	if res.Index == 0 || res.Index != tn.store.AppliedIndex() {
		t.Fatalf("result index %d, applied %d", res.Index, tn.store.AppliedIndex())
	}

	res = propose(t, n, &storage.CreateUser{User: storage.User{Username: "alice"}})
	u, err := tn.store.User(res.ID)
	if err != nil || u.Username != "alice" {
		t.Fatalf("User(%d) = %+v, %v", res.ID, u, err)
	}
	// A business error is a result, not a Propose error.
	res2, err := n.Propose(context.Background(), &storage.CreateUser{User: storage.User{Username: "alice"}})
	if err != nil || !errors.Is(res2.Err, storage.ErrNameTaken) {
		t.Fatalf("duplicate user: result %+v, err %v", res2, err)
	}
	if n.NATSClusterAddr() != "" {
		t.Fatalf("single node opened a NATS route listener at %s", n.NATSClusterAddr())
	}
}

func TestSingleNodeConcurrentProposals(t *testing.T) {
	tn := startNode(t, singleConfig(t))
	const workers, each = 8, 25
	var wg sync.WaitGroup
	indexes := make(chan uint64, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				res, err := tn.node.Propose(context.Background(), setOption(fmt.Sprintf("k%d-%d", w, i), "v"))
				if err != nil {
					t.Error(err)
					return
				}
				indexes <- res.Index
			}
		})
	}
	wg.Wait()
	close(indexes)
	seen := map[uint64]bool{}
	for idx := range indexes {
		if seen[idx] {
			t.Fatalf("index %d returned twice", idx)
		}
		seen[idx] = true
	}
	opts, err := tn.store.Options()
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != workers*each || len(opts) < workers*each {
		t.Fatalf("%d results, %d options; want %d", len(seen), len(opts), workers*each)
	}
}

func TestSingleNodeRestartKeepsState(t *testing.T) {
	cfg := singleConfig(t)
	tn := startNode(t, cfg)
	for i := range 10 {
		propose(t, tn.node, setOption(fmt.Sprintf("k%d", i), "v1"))
	}
	applied := tn.store.AppliedIndex()
	tn.stop(false)

	tn = startNode(t, cfg)
	// State and applied index come from the state store itself, before
	// anything new is committed (a new leader appends only a no-op).
	if got := tn.store.AppliedIndex(); got != applied {
		t.Fatalf("applied after restart = %d, want %d", got, applied)
	}
	if got := tn.option("k9"); got != "v1" {
		t.Fatalf("k9 = %q after restart", got)
	}
	// Not bootstrapped again: the log still starts with the original
	// configuration entry and new entries follow the old ones.
	logs := NewLogStore(tn.local.DB())
	var first raft.Log
	if err := logs.GetLog(1, &first); err != nil || first.Type != raft.LogConfiguration {
		t.Fatalf("log entry 1 = %+v, %v", first, err)
	}
	ms, err := tn.node.Members()
	if err != nil || len(ms) != 1 || ms[0].ID != "solo" || !ms[0].Leader {
		t.Fatalf("members = %+v, %v", ms, err)
	}
	res := propose(t, tn.node, setOption("k0", "v2"))
	if res.Index <= applied {
		t.Fatalf("new entry at %d, not after %d", res.Index, applied)
	}
	if got := tn.option("k0"); got != "v2" {
		t.Fatalf("k0 = %q", got)
	}
}

func TestSingleNodeSnapshotRestart(t *testing.T) {
	cfg := singleConfig(t)
	cfg.TrailingLogs = 2
	tn := startNode(t, cfg)
	for i := range 20 {
		propose(t, tn.node, setOption(fmt.Sprintf("k%d", i), "before"))
	}
	if err := tn.node.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := tn.node.Snapshot(); err != nil {
		t.Fatalf("second snapshot with nothing new: %v", err)
	}
	propose(t, tn.node, setOption("after", "yes"))
	want, err := tn.store.Options()
	if err != nil {
		t.Fatal(err)
	}
	first, err := NewLogStore(tn.local.DB()).FirstIndex()
	if err != nil || first <= 1 {
		t.Fatalf("log not compacted by the snapshot: first index %d, %v", first, err)
	}
	tn.stop(false)

	t.Run("restart", func(t *testing.T) {
		tn := startNode(t, cfg)
		got, err := tn.store.Options()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("options after restart (-want +got):\n%s", d)
		}
		propose(t, tn.node, setOption("again", "yes"))
		tn.stop(false)
		want["again"] = "yes"
	})

	t.Run("state directory lost", func(t *testing.T) {
		// Raft skips everything up to its snapshot on start; Open must
		// notice the empty state store and restore it from the snapshot,
		// and Raft then replays the entries after it.
		if err := os.RemoveAll(filepath.Join(cfg.Dir, "state")); err != nil {
			t.Fatal(err)
		}
		tn := startNode(t, cfg)
		waitFor(t, 5*time.Second, "replay after snapshot", func() bool { return tn.option("again") == "yes" })
		got, err := tn.store.Options()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("options after restore (-want +got):\n%s", d)
		}
	})
}

// A single node restarted with a TCP address becomes the first node of a
// cluster: it updates its own address and keeps its state.
func TestSingleNodeBecomesCluster(t *testing.T) {
	cfg := singleConfig(t)
	tn := startNode(t, cfg)
	propose(t, tn.node, setOption("mode", "single"))
	tn.stop(false)

	cfg.RaftAddr = "127.0.0.1:0"
	cfg.NATSClusterAddr = "127.0.0.1:0"
	cfg.ClusterSecret = testSecret
	fastTimings(&cfg)
	tn = startNode(t, cfg)
	waitFor(t, 10*time.Second, "leader with its TCP address", func() bool {
		ms, err := tn.node.Members()
		return err == nil && len(ms) == 1 && ms[0].Address == tn.node.RaftAddress() && tn.node.IsLeader()
	})
	if got := tn.option("mode"); got != "single" {
		t.Fatalf("mode = %q", got)
	}
	propose(t, tn.node, setOption("mode", "cluster"))

	// A second node can now join it.
	c := &testCluster{t: t, nodes: []*testNode{tn}}
	tn.cfg.RaftAddr = tn.node.RaftAddress()
	c.add(clusterConfig(t, 1, []string{tn.node.NATSClusterAddr()}, nil), true)
	c.waitStable(2)
	c.converged()
}

func TestPublishSubscribe(t *testing.T) {
	tn := startNode(t, singleConfig(t))
	if tn.node.HasSubscribers("sy.test.channel") {
		t.Fatal("subscribers before anyone subscribed")
	}
	got := make(chan string, 4)
	unsub, err := tn.node.Subscribe("sy.test.>", func(data []byte) { got <- string(data) })
	if err != nil {
		t.Fatal(err)
	}
	if !tn.node.HasSubscribers("sy.test.channel") {
		t.Fatal("no subscribers after Subscribe")
	}
	if err := tn.node.Publish("sy.test.channel", []byte("ch1 disabled")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "ch1 disabled" {
			t.Fatalf("got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	unsub()
	if tn.node.HasSubscribers("sy.test.channel") {
		t.Fatal("subscribers after unsubscribe")
	}
	if err := tn.node.Publish("sy.test.channel", []byte("late")); err != nil {
		t.Fatal(err)
	}
	// Round trip through the server, so a late delivery would have arrived.
	if _, err := tn.node.Subscribe("sy.test.flush", func([]byte) {}); err != nil {
		t.Fatal(err)
	}
	if err := tn.node.bus.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		t.Fatalf("message %q after unsubscribe", s)
	default:
	}
}

func TestShutdownIsIdempotentAndFailsProposals(t *testing.T) {
	tn := startNode(t, singleConfig(t))
	n := tn.node
	ctx := context.Background()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if _, err := n.Propose(ctx, setOption("k", "v")); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Propose after shutdown = %v, want ErrShutdown", err)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	if _, err := Open(Config{}, nil, nil); err == nil {
		t.Fatal("Open without Dir succeeded")
	}
	if _, err := Open(Config{Dir: t.TempDir()}, nil, nil); err == nil {
		t.Fatal("Open without stores succeeded")
	}
}

func TestReplyAndMemberEncoding(t *testing.T) {
	for _, tc := range []struct {
		err       error
		idx       uint64
		wantRetry bool
		wantErr   bool
	}{
		{nil, 42, false, false},
		{raft.ErrNotLeader, 0, true, true},
		{raft.ErrLeadershipTransferInProgress, 0, true, true},
		{errRetry, 0, true, true},
		{raft.ErrLeadershipLost, 0, false, true},
		{raft.ErrEnqueueTimeout, 0, false, true},
	} {
		idx, err := decodeReply(encodeReply(tc.idx, tc.err))
		if (err != nil) != tc.wantErr || retryable(err) != tc.wantRetry || idx != tc.idx {
			t.Errorf("reply for %v: idx %d, err %v (retryable %v)", tc.err, idx, err, retryable(err))
		}
	}
	op, id, addr, err := decodeMember(encodeMember(memberAddVoter, "n2", "127.0.0.1:7001"))
	if err != nil || op != memberAddVoter || id != "n2" || addr != "127.0.0.1:7001" {
		t.Fatalf("member round trip: %d %q %q %v", op, id, addr, err)
	}
	if _, _, _, err := decodeMember([]byte{1, 200}); err == nil {
		t.Fatal("truncated member request decoded")
	}
}

func TestConfigDefaults(t *testing.T) {
	type timings struct{ Heartbeat, Election, Lease, Apply time.Duration }
	for _, tc := range []struct {
		name string
		cfg  Config
		want timings
	}{
		{"single node", Config{}, timings{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 5 * time.Second}},
		{"cluster", Config{RaftAddr: "127.0.0.1:0"}, timings{time.Second, time.Second, 500 * time.Millisecond, 5 * time.Second}},
		{"cluster, short heartbeat", Config{RaftAddr: "x:1", HeartbeatTimeout: 100 * time.Millisecond},
			timings{100 * time.Millisecond, time.Second, 100 * time.Millisecond, 5 * time.Second}},
		{"single, long heartbeat", Config{HeartbeatTimeout: time.Second},
			timings{time.Second, time.Second, 50 * time.Millisecond, 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			c.setDefaults()
			got := timings{c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout, c.ApplyTimeout}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
			if c.NodeID != "node1" || c.SnapshotThreshold != 8192 || c.TrailingLogs != 10240 || c.Logger == nil {
				t.Fatalf("defaults: %+v", c)
			}
		})
	}
}

// A node behind a container's 0.0.0.0 binding reports the NATS address it
// advertises, not the one it bound.
func TestNATSAdvertise(t *testing.T) {
	cfg := clusterConfig(t, 0, nil, func(c *Config) { c.NATSAdvertise = "n1.internal:6222" })
	tn := startNode(t, cfg)
	if got := tn.node.NATSClusterAddr(); got != "n1.internal:6222" {
		t.Fatalf("NATSClusterAddr = %q", got)
	}
	plain := startNode(t, clusterConfig(t, 0, nil, nil))
	if got := plain.node.NATSClusterAddr(); !strings.HasPrefix(got, "127.0.0.1:") {
		t.Fatalf("NATSClusterAddr without advertise = %q", got)
	}
}

// NATS routes authenticate with the cluster secret: a node with another
// secret never joins the bus.
func TestNATSRoutesNeedTheClusterSecret(t *testing.T) {
	a := startNode(t, clusterConfig(t, 0, nil, func(c *Config) { c.ClusterSecret = "secret-one-0123456789" }))
	route := []string{a.node.NATSClusterAddr()}
	intruder := startNode(t, clusterConfig(t, 1, route, func(c *Config) { c.ClusterSecret = "secret-two-0123456789" }))
	if _, err := intruder.node.Subscribe("sy.test.intruder", func([]byte) {}); err != nil {
		t.Fatal(err)
	}
	friend := startNode(t, clusterConfig(t, 2, route, func(c *Config) { c.ClusterSecret = "secret-one-0123456789" }))
	if _, err := friend.node.Subscribe("sy.test.friend", func([]byte) {}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the friend's subscription to reach a", func() bool {
		return a.node.HasSubscribers("sy.test.friend")
	})
	time.Sleep(500 * time.Millisecond)
	if a.node.HasSubscribers("sy.test.intruder") {
		t.Fatal("a node with the wrong cluster secret joined the bus")
	}
}

// A Raft snapshot is a Pebble checkpoint (hard links) plus a reference in
// the snapshot file, not a copy of the state; checkpoints that no retained
// snapshot refers to are removed.
func TestSnapshotsAreCheckpoints(t *testing.T) {
	cfg := singleConfig(t)
	cfg.TrailingLogs = 2
	tn := startNode(t, cfg)
	big := strings.Repeat("x", 4096)
	for round := 0; round < 4; round++ {
		for i := range 50 {
			propose(t, tn.node, setOption(fmt.Sprintf("r%d-k%d", round, i), big))
		}
		if err := tn.node.Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	snapDir := filepath.Join(cfg.Dir, "raft-snapshots", "snapshots")
	snaps, err := os.ReadDir(snapDir)
	if err != nil || len(snaps) != 2 {
		t.Fatalf("retained snapshots: %d, %v", len(snaps), err)
	}
	for _, s := range snaps {
		fi, err := os.Stat(filepath.Join(snapDir, s.Name(), "state.bin"))
		if err != nil || fi.Size() > 1024 {
			t.Fatalf("snapshot %s holds %d bytes (%v); want a reference, not the state (~800 KB)", s.Name(), fi.Size(), err)
		}
	}
	ckpts, err := os.ReadDir(filepath.Join(cfg.Dir, "raft-snapshots", "checkpoints"))
	if err != nil || len(ckpts) != 2 {
		t.Fatalf("checkpoints: %d, %v; want one per retained snapshot", len(ckpts), err)
	}
}

func TestVotersFor(t *testing.T) {
	for total, want := range map[int]int{0: 1, 1: 1, 2: 1, 3: 3, 4: 3, 5: 5, 6: 5, 7: 7, 8: 7, 20: 7} {
		if got := VotersFor(total); got != want {
			t.Errorf("VotersFor(%d) = %d, want %d", total, got, want)
		}
	}
}
