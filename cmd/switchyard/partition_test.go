package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue 3, acceptance 3: a node cut off from the majority keeps serving
// only within its lease, refuses admin writes with a clear error, and
// converges after the heal; the money adds up on every node.
func TestMinorityPartitionServesWithinItsLease(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c, gw := gatewayCluster(t, 3)
	// Node 3 is the one cut off; it must not lead.
	if c.Leader() == c.Member(2) {
		c.Stop(c.Member(2))
		c.Restart(c.Member(2))
		c.WaitStable()
	}
	g1, g2, g3 := gw(c.Member(0)), gw(c.Member(1)), gw(c.Member(2))
	m := newMockOpenAI(t)
	g1.addChannel(m, "test-model")
	g1.setPrices()
	// A small balance: 30 requests. Each node's lease is a fair share
	// (a third of what is free).
	const initial = 30 * chatCharge
	uid, access := g1.newUser("gina", initial)
	tok := g1.newToken(access, map[string]any{"unlimited_quota": true})
	// 44 bytes: the reservation estimate is exactly the charge (42).
	body := `{"model":"test-model","max_tokens":8}       `
	chat := func(g *gateway) int {
		req, _ := http.NewRequest("POST", g.base+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-"+tok.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	served := 0
	waitFor(t, 2*time.Second, "node 3 to serve (and take its lease)", func() bool {
		if chat(g3) == 200 {
			served++
			return true
		}
		return false
	})

	c.Partition(c.Member(2))
	waitFor(t, 10*time.Second, "node 3 to lose its leader", func() bool { return g3.n.raft.LeaderID() == "" })
	time.Sleep(5 * time.Second) // past the election window: a partition, not an election

	// Within its lease only: it serves what its lease holds, then refuses.
	okMinority, refused := 0, 0
	for i := 0; i < 20; i++ {
		switch st := chat(g3); st {
		case 200:
			okMinority++
		case 403:
			refused++
		default:
			t.Fatalf("node 3 answered %d during the partition", st)
		}
	}
	t.Logf("during the partition node 3 served %d and refused %d", okMinority, refused)
	if okMinority == 0 || refused == 0 || okMinority > 10 {
		t.Fatalf("node 3 served %d and refused %d; its lease holds at most 10 requests", okMinority, refused)
	}
	served += okMinority
	// Admin writes are refused with a clear error, at once.
	start := time.Now()
	r := callAPI(t, g3.base, access, "POST", "/api/token/", map[string]any{"name": "during", "unlimited_quota": true, "expired_time": -1})
	if r.Success || !strings.Contains(r.Message, "cut off") || time.Since(start) > 2*time.Second {
		t.Fatalf("admin write on node 3 during the partition: %+v after %v", r, time.Since(start))
	}
	if resp, err := http.Get(g3.base + "/readyz"); err != nil || resp.StatusCode == 200 {
		t.Fatalf("node 3 reports ready during the partition (%v)", err)
	}
	// The majority goes on.
	for i := 0; i < 5; i++ {
		if st := chat(g1); st != 200 {
			t.Fatalf("node 1 during the partition: %d", st)
		}
		served++
	}
	g2.newToken(access, map[string]any{"name": "majority"})

	c.Heal()
	waitFor(t, 20*time.Second, "node 3 to rejoin", func() bool { return g3.n.raft.LeaderID() != "" })
	var u userView
	waitFor(t, 20*time.Second, "the nodes to agree on the balance", func() bool {
		u = g1.user(uid)
		return g2.user(uid) == u && g3.user(uid) == u && u.UsedQuota == int64(served)*chatCharge
	})
	if u.Quota+u.UsedQuota != initial {
		t.Fatalf("quota %d + used %d != %d", u.Quota, u.UsedQuota, initial)
	}
	for _, g := range []*gateway{g1, g2, g3} {
		if s := g.statQuota("username=gina"); s != u.UsedQuota {
			t.Fatalf("logs sum to %d, used %d", s, u.UsedQuota)
		}
	}
	// Node 3 has the majority's write and takes writes again.
	waitFor(t, 5*time.Second, "node 3 to serve after the heal", func() bool { return chat(g3) == 200 })
	if r := callAPI(t, g3.base, access, "POST", "/api/token/", map[string]any{"name": "after", "unlimited_quota": true, "expired_time": -1}); !r.Success {
		t.Fatalf("admin write on node 3 after the heal: %s", r.Message)
	}
	// The replicas are byte for byte the same, and sound.
	c.Sync()
	c.EnsureConverged()
	c.CheckMoney(map[int64]int64{uid: initial})
}
