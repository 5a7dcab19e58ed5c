package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchyard/admin"
)

const testClusterSecret = "cluster-secret-for-tests-0123456789"

// clusterProc starts node i of a test cluster on 127.0.0.(i+1); join is the
// HTTP base of a member ("" for the first node).
func clusterProc(t *testing.T, i int, dir, join string) *proc {
	t.Helper()
	host := fmt.Sprintf("127.0.0.%d", i+1)
	args := []string{"--node-id", fmt.Sprintf("n%d", i+1), "--raft-addr", freeAddrOn(t, host),
		"--nats-cluster-addr", freeAddrOn(t, host)}
	if join != "" {
		args = append(args, "--join", join)
	}
	return startProcWith(t, dir, freeAddrOn(t, host), args, []string{"SWITCHYARD_CLUSTER_SECRET=" + testClusterSecret})
}

func clusterStatus(t *testing.T, g *gateway) admin.ClusterStatus {
	t.Helper()
	var st admin.ClusterStatus
	g.must("GET", "/api/cluster/status", nil, &st)
	return st
}

// Issue 3, acceptance 1: three processes form a cluster through --join; a
// token created through node 1 works on node 3 within a second, and a
// channel disabled through node 2 stops receiving traffic from every node
// within a second.
func TestThreeNodeClusterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	p1 := clusterProc(t, 0, filepath.Join(dir, "n1"), "")
	p2 := clusterProc(t, 1, filepath.Join(dir, "n2"), p1.base)
	p3 := clusterProc(t, 2, filepath.Join(dir, "n3"), p2.base) // any member will do
	g1, g2, g3 := p1.gw(), p2.gw(), p3.gw()

	st := clusterStatus(t, g3)
	if len(st.Nodes) != 3 || st.Leader != "n1" {
		t.Fatalf("status: %+v", st)
	}
	for _, n := range st.Nodes {
		want := "follower"
		if n.ID == st.Leader {
			want = "leader"
		}
		if n.State != want || !n.Voter || n.HTTPAddr == "" || n.RaftAddr == "" || n.NATSAddr == "" {
			t.Fatalf("node %+v, want state %s", n, want)
		}
	}

	m := newMockOpenAI(t)
	g1.addChannel(m, "test-model")
	g1.setPrices()
	_, access := g1.newUser("carol", 1_000_000)
	tok := g1.newToken(access, map[string]any{"unlimited_quota": true})
	created := time.Now()
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	waitFor(t, time.Second, "the token created on node 1 to work on node 3", func() bool {
		resp, _ := g3.post("/v1/chat/completions", tok.Key, chat)
		return resp.StatusCode == 200
	})
	t.Logf("token usable on node 3 %v after its creation on node 1", time.Since(created).Round(time.Millisecond))

	var chans []struct {
		ID int64 `json:"id"`
	}
	g2.must("GET", "/api/channel/?p=0", nil, &chans)
	if len(chans) != 1 {
		t.Fatalf("channels on node 2: %+v", chans)
	}
	g2.must("PUT", "/api/channel/", map[string]any{"id": chans[0].ID, "type": 1, "name": "mock", "status": 2,
		"base_url": m.url(), "models": "test-model"}, nil)
	disabled := time.Now()
	for _, g := range []*gateway{g1, g2, g3} {
		waitFor(t, time.Second-time.Since(disabled), "the disabled channel to stop receiving traffic on "+g.base, func() bool {
			before := m.count.Load()
			resp, _ := g.post("/v1/chat/completions", tok.Key, chat)
			return resp.StatusCode == 503 && m.count.Load() == before
		})
	}

	// Joining again (a restart with the same --join) is harmless, and the
	// node-to-node routes refuse a wrong secret.
	r := callAPI(t, p1.base, "", "GET", "/api/cluster/peers", nil)
	if r.Success {
		t.Fatal("peers without the cluster secret")
	}
	var peers admin.Peers
	jc := newJoinClient(p1.base, testClusterSecret, testLog(t))
	if err := jc.call(t.Context(), "GET", "/api/cluster/peers", nil, &peers); err != nil || len(peers.NATSRoutes) != 3 {
		t.Fatalf("peers: %+v, %v", peers, err)
	}
	if err := jc.join(t.Context(), "n3", st.Nodes[2].RaftAddr); err != nil {
		t.Fatalf("repeated join: %v", err)
	}
	if st2 := clusterStatus(t, g1); len(st2.Nodes) != 3 {
		b, _ := json.Marshal(st2)
		t.Fatalf("after a repeated join: %s", b)
	}

	// The command line: status and remove, through any member.
	env := func(k string) string {
		return map[string]string{"SWITCHYARD_URL": p2.base, "SWITCHYARD_ADMIN_TOKEN": testAccess}[k]
	}
	var out, errOut strings.Builder
	if code := adminCmd([]string{"cluster", "status"}, env, &out, &errOut); code != 0 {
		t.Fatalf("admin cluster status: %d %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "leader: n1") || strings.Count(out.String(), "follower") != 2 {
		t.Fatalf("admin cluster status printed:\n%s", out.String())
	}
	out.Reset()
	if code := adminCmd([]string{"cluster", "remove", "n3"}, env, &out, &errOut); code != 0 {
		t.Fatalf("admin cluster remove: %d %s", code, errOut.String())
	}
	if st3 := clusterStatus(t, g1); len(st3.Nodes) != 2 {
		t.Fatalf("after removing n3: %+v", st3)
	}
	if code := adminCmd([]string{"cluster", "remove", "n3"}, env, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no member") {
		t.Fatalf("removing n3 twice: %d %s", code, errOut.String())
	}
}
