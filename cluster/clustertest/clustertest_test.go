package clustertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchyard/cluster"
	"switchyard/storage"
)

func setOption(k, v string) *storage.SetOptions {
	return &storage.SetOptions{Options: map[string]string{k: v}}
}

func option(t *testing.T, m *Member, k string) string {
	t.Helper()
	v, _, err := m.Store().Option(k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The harness itself: a partition cuts Raft and the bus both ways, a
// killed leader is replaced and comes back, and the replicas end up byte
// for byte the same.
func TestHarnessFaults(t *testing.T) {
	c := New(t, 3)
	c.Propose(setOption("a", "1"))
	c.Sync()
	c.EnsureConverged()
	for _, m := range c.Members() {
		if got := option(t, m, "a"); got != "1" {
			t.Fatalf("%s: a = %q", m.ID, got)
		}
	}

	// Partition the member that does not lead.
	minority := c.Followers()[0]
	var heard atomic.Int64
	unsub, err := minority.Node().Subscribe("test.ping", func([]byte) { heard.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	leader := c.Leader()
	// ping publishes until the subscriber has heard more than before (the
	// subscription's interest reaches the other servers asynchronously),
	// and reports whether it did within d.
	ping := func(d time.Duration) bool {
		before := heard.Load()
		return poll(d, func() bool {
			if err := leader.Node().Publish("test.ping", nil); err != nil {
				t.Fatal(err)
			}
			return poll(50*time.Millisecond, func() bool { return heard.Load() > before })
		})
	}
	if !ping(5 * time.Second) {
		t.Fatal("the subscriber heard nothing before the partition")
	}
	c.Partition(minority)
	if !poll(Timeout, func() bool { return minority.Node().LeaderID() == "" }) {
		t.Fatal("the cut-off member still knows a leader")
	}
	heardBefore := heard.Load()
	if ping(time.Second) {
		t.Fatal("the cut-off member heard a ping")
	}
	c.Propose(setOption("b", "majority")) // the majority goes on
	cfg := minority.Config()
	time.Sleep(3*cfg.HeartbeatTimeout + cfg.ElectionTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, err = minority.Node().Propose(ctx, setOption("b", "minority"))
	cancel()
	if !errors.Is(err, cluster.ErrNoLeader) {
		t.Fatalf("write on the cut-off member: %v", err)
	}
	if got := option(t, minority, "b"); got != "" || heard.Load() != heardBefore {
		t.Fatalf("the cut-off member applied b = %q and heard %d pings", got, heard.Load())
	}
	c.Heal()
	c.EnsureConverged()
	if got := option(t, minority, "b"); got != "majority" {
		t.Fatalf("after the heal b = %q", got)
	}
	if !ping(5 * time.Second) {
		t.Fatal("the subscriber hears nothing after the heal")
	}

	// Kill the leader: another one takes over, and the killed one catches
	// up after its restart.
	old := c.Leader()
	c.Kill(old)
	if l := c.Leader(); l == old {
		t.Fatal("the killed member still leads")
	}
	c.Propose(setOption("c", "after-kill"))
	c.Restart(old)
	c.WaitStable()
	c.Sync()
	c.EnsureConverged()
	if got := option(t, old, "c"); got != "after-kill" {
		t.Fatalf("restarted member: c = %q", got)
	}

	// A clean stop, and a fourth member.
	f := c.Followers()[1]
	c.Stop(f)
	c.Propose(setOption("d", "1"))
	c.Restart(f)
	c.Add()
	c.WaitStable()
	c.Sync()
	c.EnsureConverged()
	if got := option(t, c.Member(3), "d"); got != "1" || len(c.Up()) != 4 {
		t.Fatalf("fourth member: d = %q, %d up", got, len(c.Up()))
	}
}

// CheckMoney fails a test when quota was created or destroyed.
func TestCheckMoney(t *testing.T) {
	c := New(t, 1)
	uid := c.Propose(&storage.CreateUser{User: storage.User{Username: "u", Quota: 1000}}).ID
	c.Propose(&storage.AddQuota{UserID: uid, Delta: 500})
	a := c.Member(0).Store()
	if got := CheckMoney(t, a, map[int64]int64{uid: 1500}); got.Users[uid].Balance != 1500 {
		t.Fatalf("audit: %+v", got.Users[uid])
	}
	ft := &fakeT{TB: t}
	func() {
		defer func() { recover() }() // FailNow ends the goroutine via panic here
		CheckMoney(ft, a, map[int64]int64{uid: 1000})
	}()
	if !ft.failed || !strings.Contains(ft.msg, "created or destroyed") {
		t.Fatalf("CheckMoney with the wrong figure: failed=%v %q", ft.failed, ft.msg)
	}
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.failed = true
	f.msg += fmt.Sprintf(format, args...) + "\n"
}
func (f *fakeT) Fatalf(format string, args ...any) { f.Errorf(format, args...); panic("fatal") }
func (f *fakeT) Failed() bool                      { return f.failed }
func (f *fakeT) FailNow()                          { panic("failnow") }

// The voters stay an odd number as members join and leave: a node that
// would make them even joins as a non-voter and is promoted by the next
// join; a removal that leaves them even demotes one.
func TestVotersStayOdd(t *testing.T) {
	c := New(t, 1)
	census := func() (voters, total int) {
		t.Helper()
		ms, err := c.Leader().Node().Members()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Voter {
				voters++
			}
		}
		return voters, len(ms)
	}
	for _, step := range []struct{ members, voters int }{{2, 1}, {3, 3}, {4, 3}, {5, 5}} {
		c.Add()
		c.WaitStable()
		if v, n := census(); n != step.members || v != step.voters {
			t.Fatalf("%d members: %d of %d vote, want %d", step.members, v, n, step.voters)
		}
	}
	// Remove a voter that does not lead: 4 members, 3 voters.
	c.Remove(c.Followers()[0])
	c.WaitStable()
	if v, n := census(); n != 4 || v != 3 {
		t.Fatalf("after a removal: %d of %d vote, want 3 of 4", v, n)
	}
	// Remove a voter again: 3 members, and the non-voter is promoted.
	var voter *Member
	ms, _ := c.Leader().Node().Members()
	for _, m := range ms {
		if m.Voter && !m.Leader {
			for _, mb := range c.Members() {
				if mb.ID == m.ID {
					voter = mb
				}
			}
		}
	}
	c.Remove(voter)
	c.WaitStable()
	if v, n := census(); n != 3 || v != 3 {
		t.Fatalf("after a second removal: %d of %d vote, want 3 of 3", v, n)
	}
	c.Propose(setOption("still", "writing"))
	c.Sync()
	c.EnsureConverged()
}
