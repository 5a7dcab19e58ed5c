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

	"switchyard/storage"
)

// TestClusterForwardsFromFollower: a Propose on a follower is forwarded to
// the leader over NATS, and the follower reads its own write as soon as
// Propose returns.
func TestClusterForwardsFromFollower(t *testing.T) {
	c := newCluster(t, 3, nil)
	leader, follower := c.leader(), c.follower()

	res := propose(t, follower.node, setOption("from", follower.cfg.NodeID))
	if got := follower.option("from"); got != follower.cfg.NodeID {
		t.Fatalf("follower reads %q right after its own Propose", got)
	}
	if follower.store.AppliedIndex() < res.Index {
		t.Fatalf("follower applied %d < committed %d", follower.store.AppliedIndex(), res.Index)
	}

	// Ids are assigned by the state machine: the result the follower
	// computed locally names the same record on the leader.
	res = propose(t, follower.node, &storage.CreateUser{User: storage.User{Username: "bob"}})
	waitFor(t, 5*time.Second, "leader to apply", func() bool { return leader.store.AppliedIndex() >= res.Index })
	u, err := leader.store.User(res.ID)
	if err != nil || u.Username != "bob" {
		t.Fatalf("leader User(%d) = %+v, %v", res.ID, u, err)
	}

	// Pipelined proposals from every node at once.
	var wg sync.WaitGroup
	for _, tn := range c.live() {
		for w := range 4 {
			wg.Go(func() {
				for i := range 10 {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err := tn.node.Propose(ctx, setOption(fmt.Sprintf("%s-%d-%d", tn.cfg.NodeID, w, i), "v"))
					cancel()
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	c.converged()
	opts, err := follower.store.Options()
	if err != nil {
		t.Fatal(err)
	}
	if len(opts) != 1+3*4*10 {
		t.Fatalf("%d options, want %d", len(opts), 1+3*4*10)
	}

	// The leader refuses a forwarded entry that would not decode: in the
	// log it would stop every replica's state machine.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := follower.node.forward(ctx, SubjectPropose, []byte{0xEE, 0, '{'}); err == nil || retryable(err) {
		t.Fatalf("forwarding garbage: %v, want a final error", err)
	}

	// Lossy signals cross nodes too.
	got := make(chan string, 1)
	unsub, err := follower.node.Subscribe(SubjectHeartbeat(leader.cfg.NodeID), func(b []byte) {
		select {
		case got <- string(b):
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	waitFor(t, 5*time.Second, "the leader to see the follower's subscription", func() bool {
		return leader.node.HasSubscribers(SubjectHeartbeat(leader.cfg.NodeID))
	})
	waitFor(t, 5*time.Second, "heartbeat across nodes", func() bool {
		_ = leader.node.Publish(SubjectHeartbeat(leader.cfg.NodeID), []byte("alive"))
		select {
		case s := <-got:
			return s == "alive"
		default:
			return false
		}
	})
}

// TestClusterMembership: membership changes are forwarded like proposals.
func TestClusterMembership(t *testing.T) {
	c := newCluster(t, 3, nil)
	var asker, gone *testNode
	for _, tn := range c.live() {
		switch {
		case tn.node.IsLeader():
		case asker == nil:
			asker = tn
		default:
			gone = tn
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := asker.node.RemoveServer(ctx, gone.cfg.NodeID); err != nil {
		t.Fatal(err)
	}
	gone.stop(true)
	c.waitStable(2)
	propose(t, asker.node, setOption("voters", "2"))
	c.converged()
	if err := asker.node.RemoveServer(ctx, ""); err == nil {
		t.Fatal("RemoveServer without id succeeded")
	}
}

// TestClusterLeaderFailover: the leader dies; the others elect a new one
// and Propose works again, from a follower as well as from the leader; the
// old leader restarts from its directories and catches up.
func TestClusterLeaderFailover(t *testing.T) {
	c := newCluster(t, 3, nil)
	propose(t, c.follower().node, setOption("phase", "1"))
	c.converged()

	old := c.leader()
	old.stop(true)
	newLeader := c.leader()
	if newLeader == old {
		t.Fatal("dead node still leads")
	}
	propose(t, c.follower().node, setOption("phase", "2"))
	propose(t, newLeader.node, setOption("by-leader", "yes"))
	c.converged()

	back := c.restart(old)
	waitFor(t, 10*time.Second, "restarted node to catch up", func() bool { return back.option("by-leader") == "yes" })
	c.waitStable(3)
	propose(t, back.node, setOption("phase", "3"))
	c.converged()

	// A graceful shutdown hands leadership over instead of waiting for an
	// election timeout.
	l := c.leader()
	l.stop(false)
	propose(t, c.follower().node, setOption("phase", "4"))
	c.converged()
}

// TestClusterCatchUpFromSnapshot: the leader compacts its log past what a
// new node needs, so joining nodes are sent a snapshot and restore it.
func TestClusterCatchUpFromSnapshot(t *testing.T) {
	tweak := func(c *Config) { c.TrailingLogs = 2 }
	c := &testCluster{t: t}
	first := c.add(clusterConfig(t, 0, nil, tweak), false)
	waitFor(t, 10*time.Second, "first node to lead", first.node.IsLeader)
	for i := range 30 {
		propose(t, first.node, setOption(fmt.Sprintf("k%02d", i), "v"))
	}
	if err := first.node.Snapshot(); err != nil {
		t.Fatal(err)
	}
	propose(t, first.node, setOption("tail", "from the log"))

	for i := 1; i < 3; i++ {
		c.add(clusterConfig(t, i, []string{first.node.NATSClusterAddr()}, tweak), true)
	}
	c.waitStable(3)
	c.converged()
	for _, tn := range c.nodes[1:] {
		// The follower never received the early entries: its log starts
		// after the snapshot, and it holds the snapshot it installed.
		fi, err := NewLogStore(tn.local.DB()).FirstIndex()
		if err != nil || fi <= 2 {
			t.Fatalf("%s: first log index %d, %v; want entries only after the snapshot", tn.cfg.NodeID, fi, err)
		}
		snaps, err := os.ReadDir(filepath.Join(tn.cfg.Dir, "raft-snapshots", "snapshots"))
		if err != nil || len(snaps) == 0 {
			t.Fatalf("%s: no installed snapshot (%v)", tn.cfg.NodeID, err)
		}
		if got := tn.option("k00"); got != "v" {
			t.Fatalf("%s: k00 = %q", tn.cfg.NodeID, got)
		}
	}
	// A restored follower keeps working as a replica.
	propose(t, c.nodes[2].node, setOption("after-restore", "ok"))
	c.converged()
}

// Every member answers status requests over NATS; an unknown member does
// not answer.
func TestClusterStatus(t *testing.T) {
	c := newCluster(t, 3, nil)
	leader := c.leader()
	asker := c.follower()
	if _, err := asker.node.Propose(context.Background(), &storage.Barrier{}); err != nil {
		t.Fatal(err)
	}
	c.converged()
	seen := map[string]string{}
	for _, tn := range c.live() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := asker.node.PeerStatus(ctx, tn.cfg.NodeID)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if st.ID != tn.cfg.NodeID || st.RaftAddr != tn.node.RaftAddress() || st.Leader != leader.cfg.NodeID || st.AppliedIndex == 0 {
			t.Fatalf("status of %s: %+v", tn.cfg.NodeID, st)
		}
		if st.State != "leader" && (st.LastContactMs < 0 || st.LastContactMs > 5000) {
			t.Fatalf("follower %s last contact %d ms", st.ID, st.LastContactMs)
		}
		seen[st.ID] = st.State
	}
	if seen[leader.cfg.NodeID] != "leader" || len(seen) != 3 {
		t.Fatalf("states %v", seen)
	}
	for id, s := range seen {
		if id != leader.cfg.NodeID && s != "follower" {
			t.Fatalf("states %v", seen)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := asker.node.PeerStatus(ctx, "nobody"); err == nil {
		t.Fatal("status of an unknown member answered")
	}
}

// Issue 3, acceptance 3 (the cluster's half): a node cut off from the
// majority knows no leader, refuses writes with a clear error instead of
// forwarding them (it could not apply them), the majority keeps
// committing, and the node converges after the heal.
func TestClusterMinorityPartition(t *testing.T) {
	faults := &Faults{}
	c := &testCluster{t: t}
	first := c.add(clusterConfig(t, 0, nil, nil), false)
	waitFor(t, 10*time.Second, "first node to lead", first.node.IsLeader)
	c.add(clusterConfig(t, 1, []string{first.node.NATSClusterAddr()}, nil), true)
	minority := c.add(clusterConfig(t, 2, []string{first.node.NATSClusterAddr()}, func(cfg *Config) { cfg.Faults = faults }), true)
	c.waitStable(3)
	propose(t, minority.node, setOption("before", "1"))
	c.converged()

	faults.Cut("n1", "n2")
	waitFor(t, 10*time.Second, "the cut-off node to lose its leader", func() bool { return minority.node.LeaderID() == "" })
	// Past the election window the node refuses at once.
	time.Sleep(3*minority.cfg.HeartbeatTimeout + minority.cfg.ElectionTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	start := time.Now()
	_, err := minority.node.Propose(ctx, setOption("during", "minority"))
	cancel()
	if !errors.Is(err, ErrNoLeader) || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("write on the cut-off node: %v", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("the refusal took %v", waited)
	}
	majority := c.nodes[1]
	propose(t, majority.node, setOption("during", "majority"))
	if got := minority.option("during"); got != "" {
		t.Fatalf("the cut-off node applied %q during the partition", got)
	}

	faults.Heal()
	waitFor(t, 15*time.Second, "the healed node to find the leader", func() bool { return minority.node.LeaderID() != "" })
	c.converged()
	if got := minority.option("during"); got != "majority" {
		t.Fatalf("after the heal: during = %q", got)
	}
	propose(t, minority.node, setOption("after", "healed"))
	c.converged()
}
