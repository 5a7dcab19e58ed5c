package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchyard/actors"
	"switchyard/admin"
)

func TestAdminAuthAndRoles(t *testing.T) {
	g := startGateway(t, t.TempDir())
	if r := callAPI(t, g.base, "", "GET", "/api/status", nil); !r.Success || !strings.Contains(string(r.Data), `"quota_per_unit":500000`) {
		t.Fatalf("status: %+v", r)
	}
	if resp, err := http.Get(g.base + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if r := callAPI(t, g.base, "", "POST", "/api/user/login", map[string]any{"username": "root", "password": "wrong"}); r.Success {
		t.Fatal("login with a wrong password succeeded")
	}
	// No credentials: 401; a common user on admin routes: 403.
	req, _ := http.NewRequest("GET", g.base+"/api/channel/", nil)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("anonymous channel list: %d", resp.StatusCode)
	}
	_, access := g.newUser("user1", 0)
	req.Header.Set("Authorization", access)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("common user on an admin route: %d", resp.StatusCode)
	}
	// Promote to admin: channels yes, options (root) no, root untouchable.
	g.must("POST", "/api/user/manage", map[string]any{"username": "user1", "action": "promote"}, nil)
	if r := callAPI(t, g.base, access, "GET", "/api/channel/", nil); !r.Success {
		t.Fatalf("admin channel list: %s", r.Message)
	}
	if r := callAPI(t, g.base, access, "GET", "/api/option/", nil); r.Success {
		t.Fatal("an admin read root options")
	}
	if r := callAPI(t, g.base, access, "POST", "/api/user/manage", map[string]any{"username": "root", "action": "disable"}); r.Success {
		t.Fatal("an admin disabled root")
	}
	// Disabling a user cuts its access token at once.
	g.must("POST", "/api/user/manage", map[string]any{"username": "user1", "action": "disable"}, nil)
	req, _ = http.NewRequest("GET", g.base+"/api/user/self", nil)
	req.Header.Set("Authorization", access)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("disabled user: %d", resp.StatusCode)
	}
	// Options: secrets hidden, bad values refused.
	var opts []struct{ Key, Value string }
	g.must("GET", "/api/option/", nil, &opts)
	for _, o := range opts {
		if o.Key == "SessionSecret" {
			t.Fatal("session secret exposed")
		}
	}
	for _, bad := range []map[string]any{
		{"key": "ModelRatio", "value": `{"x":-1}`},
		{"key": "ModelRatio", "value": `not json`},
		{"key": "RetryTimes", "value": "-2"},
		{"key": "NoSuchOption", "value": "1"},
	} {
		if r := g.call("PUT", "/api/option/", bad); r.Success {
			t.Fatalf("option accepted: %v", bad)
		}
	}
}

func TestChannelAdmin(t *testing.T) {
	g := startGateway(t, t.TempDir())
	m := newMockOpenAI(t)
	var batch []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	g.must("POST", "/api/channel/", map[string]any{
		"type": 1, "name": "batch", "key": "sk-a\nsk-b\n\nsk-c", "base_url": m.url(), "models": "test-model, test-model ,x",
	}, &batch)
	if len(batch) != 3 || batch[0].ID == 0 || batch[2].Name != "batch" {
		t.Fatalf("batch add created %v", batch)
	}
	var created struct{ IDs []int64 }
	for _, b := range batch {
		created.IDs = append(created.IDs, b.ID)
	}
	var list []map[string]any
	g.must("GET", "/api/channel/?p=0", nil, &list)
	if len(list) != 3 || list[0]["key"] != "" || list[0]["models"] != "test-model,x" || list[0]["group"] != "default" {
		t.Fatalf("channel list: %v", list)
	}
	if r := g.call("POST", "/api/channel/", map[string]any{"type": 9999, "name": "x", "key": "k"}); r.Success {
		t.Fatal("unknown channel type accepted")
	}
	if r := g.call("POST", "/api/channel/", map[string]any{"type": 1, "name": "x", "key": "k", "model_mapping": "{bad"}); r.Success {
		t.Fatal("malformed model_mapping accepted")
	}
	id := created.IDs[0]
	// Update with an empty key keeps the key; mapping is applied upstream.
	g.must("PUT", "/api/channel/", map[string]any{"id": id, "type": 1, "name": "renamed", "key": "", "base_url": m.url(),
		"models": "alias", "model_mapping": `{"alias":"test-model"}`}, nil)
	g.must("DELETE", fmt.Sprintf("/api/channel/%d", created.IDs[1]), nil, nil)
	g.must("DELETE", fmt.Sprintf("/api/channel/%d", created.IDs[2]), nil, nil)
	_, access := g.newUser("mapper", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	if resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"alias","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if c := m.last(); c.Body["model"] != "test-model" || c.Auth != "Bearer sk-a" {
		t.Fatalf("upstream saw model %v auth %q", c.Body["model"], c.Auth)
	}
	// Channel test: success records the response time; an upstream 401 fails.
	var tr struct {
		Success   bool    `json:"success"`
		Time      float64 `json:"time"`
		ModelName string  `json:"modelName"`
	}
	resp, err := authedGet(g, fmt.Sprintf("/api/channel/test/%d", id))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(resp, &tr)
	if !tr.Success || tr.ModelName != "alias" {
		t.Fatalf("channel test: %s", resp)
	}
	var ch map[string]any
	g.must("GET", fmt.Sprintf("/api/channel/%d", id), nil, &ch)
	if ch["test_time"].(float64) == 0 {
		t.Fatalf("test time not recorded: %v", ch)
	}
	m.status.Store(401)
	resp, _ = authedGet(g, fmt.Sprintf("/api/channel/test/%d", id))
	json.Unmarshal(resp, &tr)
	if tr.Success {
		t.Fatalf("channel test passed on an upstream 401: %s", resp)
	}
	m.status.Store(0)
	// Disable then delete the disabled ones.
	g.must("PUT", "/api/channel/", map[string]any{"id": id, "type": 1, "name": "renamed", "status": 2, "base_url": m.url(), "models": "alias"}, nil)
	if resp, _ := g.post("/v1/chat/completions", tok.Key, `{"model":"alias","messages":[]}`); resp.StatusCode != 503 {
		t.Fatalf("disabled channel still routed: %d", resp.StatusCode)
	}
	var n int
	g.must("DELETE", "/api/channel/disabled", nil, &n)
	if n != 1 {
		t.Fatalf("deleted %d disabled channels", n)
	}
}

func authedGet(g *gateway, path string) ([]byte, error) {
	req, _ := http.NewRequest("GET", g.base+path, nil)
	req.Header.Set("Authorization", testAccess)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Options apply live: a group ratio changes the next charge; logs and
// stats follow One API's filters; a user sees only its own logs.
func TestPricesLogsAndSelfViews(t *testing.T) {
	g, _ := setup(t)
	uid, access := g.newUser("vipuser", 1_000_000)
	g.must("PUT", "/api/user/", map[string]any{"id": uid, "group": "vip"}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "GroupRatio", "value": `{"default":1,"vip":2}`}, nil)
	// The vip group needs a channel.
	g.must("POST", "/api/channel/", map[string]any{"type": 1, "name": "vip", "key": "k", "base_url": newMockOpenAI(t).url(), "models": "test-model", "group": "vip"}, nil)
	tok := g.newToken(access, map[string]any{"name": "vipkey", "unlimited_quota": true})
	if resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	waitFor(t, 5*time.Second, "vip usage", func() bool { return g.user(uid).UsedQuota == 2*chatCharge })

	_, otherAccess := g.newUser("other", 1_000_000)
	other := g.newToken(otherAccess, map[string]any{"unlimited_quota": true})
	if resp, body := g.post("/v1/completions", other.Key, `{"model":"test-model","prompt":"hi"}`); resp.StatusCode != 404 {
		// the mock serves no /v1/completions: the upstream 404 is relayed
		t.Fatalf("completions on the mock: %d %s", resp.StatusCode, body)
	}
	if resp, body := g.post("/v1/chat/completions", other.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	waitFor(t, 5*time.Second, "other usage", func() bool { return g.statQuota("") == 3*chatCharge })
	if s := g.statQuota("token_name=vipkey"); s != 2*chatCharge {
		t.Fatalf("stat by token %d", s)
	}
	if s := g.statQuota("model_name=test-model&username=other"); s != chatCharge {
		t.Fatalf("stat by user and model %d", s)
	}
	now := time.Now().Unix()
	if s := g.statQuota(fmt.Sprintf("start_timestamp=%d&end_timestamp=%d", now-60, now+60)); s != 3*chatCharge {
		t.Fatalf("stat by time %d", s)
	}
	if s := g.statQuota(fmt.Sprintf("start_timestamp=%d", now+3600)); s != 0 {
		t.Fatalf("future window %d", s)
	}
	r := callAPI(t, g.base, otherAccess, "GET", "/api/log/self?p=0", nil)
	var own []map[string]any
	json.Unmarshal(r.Data, &own)
	if !r.Success || len(own) != 1 || own[0]["username"] != "other" || own[0]["quota"].(float64) != chatCharge {
		t.Fatalf("self logs: %s", r.Data)
	}
	r = callAPI(t, g.base, otherAccess, "GET", "/api/log/self/stat", nil)
	if !strings.Contains(string(r.Data), fmt.Sprintf(`"quota":%d`, chatCharge)) {
		t.Fatalf("self stat: %s", r.Data)
	}
	if r := callAPI(t, g.base, otherAccess, "GET", "/api/log/", nil); r.Success {
		t.Fatal("a common user listed every log")
	}
	var all []map[string]any
	g.must("GET", "/api/log/?type=2&p=0&page_size=50", nil, &all)
	if len(all) != 2 || all[0]["request_id"] == "" || all[0]["channel"].(float64) == 0 {
		t.Fatalf("consume logs: %v", all)
	}
}

func TestTokenLifecycle(t *testing.T) {
	g, _ := setup(t)
	_, access := g.newUser("tina", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	if r := callAPI(t, g.base, access, "PUT", "/api/token/?status_only=true", map[string]any{"id": tok.ID, "status": 2}); !r.Success {
		t.Fatal(r.Message)
	}
	if resp, body := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 401 || !strings.Contains(string(body), "token_disabled") {
		t.Fatalf("disabled token: %d %s", resp.StatusCode, body)
	}
	callAPI(t, g.base, access, "PUT", "/api/token/?status_only=true", map[string]any{"id": tok.ID, "status": 1})
	if resp, _ := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 200 {
		t.Fatalf("re-enabled token: %d", resp.StatusCode)
	}
	past := time.Now().Add(-time.Hour).Unix()
	exp := g.newToken(access, map[string]any{"unlimited_quota": true, "expired_time": past})
	if resp, body := g.post("/v1/chat/completions", exp.Key, chat); resp.StatusCode != 401 || !strings.Contains(string(body), "token_expired") {
		t.Fatalf("expired token: %d %s", resp.StatusCode, body)
	}
	if r := callAPI(t, g.base, access, "PUT", "/api/token/?status_only=true", map[string]any{"id": exp.ID, "status": 1}); r.Success {
		t.Fatal("an expired token was enabled")
	}
	// Other users cannot see or delete the token.
	_, other := g.newUser("mallory", 0)
	if r := callAPI(t, g.base, other, "GET", fmt.Sprintf("/api/token/%d", tok.ID), nil); r.Success {
		t.Fatal("another user read the token")
	}
	if r := callAPI(t, g.base, other, "DELETE", fmt.Sprintf("/api/token/%d", tok.ID), nil); r.Success {
		t.Fatal("another user deleted the token")
	}
	if r := callAPI(t, g.base, access, "DELETE", fmt.Sprintf("/api/token/%d", tok.ID), nil); !r.Success {
		t.Fatal(r.Message)
	}
	if resp, _ := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 401 {
		t.Fatalf("deleted token: %d", resp.StatusCode)
	}
}

// Committed usage is announced on the node's NATS usage subject.
func TestUsageEventsOnNATS(t *testing.T) {
	g, _ := setup(t)
	events := make(chan actors.UsageEvent, 10)
	unsub, err := g.n.raft.Subscribe(actors.UsageSubject("node1"), func(b []byte) {
		var ev actors.UsageEvent
		if json.Unmarshal(b, &ev) == nil {
			events <- ev
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	_, access := g.newUser("natsuser", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	resp, _ := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`)
	reqID := resp.Header.Get("X-Oneapi-Request-Id")
	select {
	case ev := <-events:
		if len(ev.Records) != 1 || ev.Records[0].RequestID != reqID || ev.Records[0].Quota != chatCharge {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no usage event")
	}
}

// A single node is a one-member cluster: status works, the node-to-node
// routes are off, and a node cannot remove itself.
func TestClusterRoutesOnSingleNode(t *testing.T) {
	g, _ := setup(t)
	var st admin.ClusterStatus
	g.must("GET", "/api/cluster/status", nil, &st)
	if len(st.Nodes) != 1 || st.Leader != "node1" || st.Nodes[0].State != "leader" || st.Nodes[0].HTTPAddr == "" || st.Nodes[0].AppliedIndex == 0 {
		t.Fatalf("status: %+v", st)
	}
	if r := g.call("DELETE", "/api/cluster/node/node1", nil); r.Success {
		t.Fatal("a node removed itself")
	}
	if r := g.call("DELETE", "/api/cluster/node/ghost", nil); r.Success || !strings.Contains(r.Message, "no member") {
		t.Fatalf("removing an unknown member: %+v", r)
	}
	if r := callAPI(t, g.base, "", "GET", "/api/cluster/status", nil); r.Success {
		t.Fatal("status without authentication")
	}
	if r := callAPI(t, g.base, "", "POST", "/api/cluster/join", map[string]string{"id": "x", "raft_addr": "127.0.0.1:1"}); r.Success {
		t.Fatal("join accepted by a single node")
	}
}

func TestClusterConfigValidation(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	secret := map[string]string{"SWITCHYARD_CLUSTER_SECRET": "0123456789abcdef"}
	for _, c := range []struct {
		args []string
		env  map[string]string
		ok   bool
	}{
		{nil, nil, true},
		{[]string{"--join", "http://a:3000"}, nil, false},
		{[]string{"--raft-addr", "127.0.0.1:7000"}, secret, false}, // no NATS address
		{[]string{"--raft-addr", "127.0.0.1:7000", "--nats-cluster-addr", "127.0.0.1:6222"}, nil, false},
		{[]string{"--raft-addr", "127.0.0.1:7000", "--nats-cluster-addr", "127.0.0.1:6222", "--cluster-secret", "short"}, nil, false},
		{[]string{"--raft-addr", "127.0.0.1:7000", "--nats-cluster-addr", "127.0.0.1:6222"}, secret, true},
		{[]string{"--raft-addr", "127.0.0.1:7000", "--nats-cluster-addr", "127.0.0.1:6222", "--node-id", "a.b"}, secret, false},
	} {
		_, err := loadConfig(c.args, env(c.env))
		if (err == nil) != c.ok {
			t.Errorf("%v %v: err %v, want ok=%v", c.args, c.env, err, c.ok)
		}
	}
	cfg, _ := loadConfig([]string{"--raft-addr", "127.0.0.1:7000", "--nats-cluster-addr", "127.0.0.1:6222"}, env(secret))
	if strings.Contains(cfg.String(), "0123456789abcdef") {
		t.Fatal("the cluster secret is printed")
	}
}

// Backup and restore: `switchyard admin backup` saves a live node's state,
// `switchyard restore` makes a new data directory of it, and the node
// started there has every account, token, channel and log, and serves.
func TestBackupRestore(t *testing.T) {
	g, m := setup(t)
	uid, access := g.newUser("frank", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	for i := 0; i < 3; i++ {
		if resp, _ := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 200 {
			t.Fatalf("chat: %d", resp.StatusCode)
		}
	}
	waitFor(t, 5*time.Second, "usage applied", func() bool { return g.user(uid).UsedQuota == 3*chatCharge })

	file := filepath.Join(t.TempDir(), "state.backup")
	env := func(k string) string {
		return map[string]string{"SWITCHYARD_URL": g.base, "SWITCHYARD_ADMIN_TOKEN": testAccess}[k]
	}
	var out, errOut strings.Builder
	if code := adminCmd([]string{"backup", file}, env, &out, &errOut); code != 0 {
		t.Fatalf("admin backup: %d %s", code, errOut.String())
	}
	noToken := func(string) string { return "" }
	if code := adminCmd([]string{"backup", file + "2"}, noToken, &out, &errOut); code == 0 {
		t.Fatal("backup without an access token")
	}

	dir := t.TempDir()
	if code := restoreCmd([]string{"--data", dir, file}, &out, &errOut); code != 0 {
		t.Fatalf("restore: %d %s", code, errOut.String())
	}
	if code := restoreCmd([]string{"--data", dir, file}, &out, &errOut); code == 0 {
		t.Fatal("restore over an existing node")
	}
	r := startGateway(t, dir)
	if u := r.user(uid); u.UsedQuota != 3*chatCharge || u.Quota != 1_000_000-3*chatCharge {
		t.Fatalf("restored user: %+v", u)
	}
	if s := r.statQuota("username=frank"); s != 3*chatCharge {
		t.Fatalf("restored logs sum to %d", s)
	}
	before := m.count.Load()
	if resp, _ := r.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 200 || m.count.Load() != before+1 {
		t.Fatalf("chat on the restored node: %d", resp.StatusCode)
	}
	waitFor(t, 5*time.Second, "usage on the restored node", func() bool { return r.user(uid).UsedQuota == 4*chatCharge })
}

// Admin changes are announced on sy.evt.<kind> (by the leader, when
// someone subscribes).
func TestChangeEventsOnNATS(t *testing.T) {
	g, _ := setup(t)
	events := make(chan actors.ChangeEvent, 10)
	unsub, err := g.n.raft.Subscribe(actors.EventSubject("tokens"), func(b []byte) {
		var ev actors.ChangeEvent
		if json.Unmarshal(b, &ev) == nil {
			events <- ev
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	_, access := g.newUser("ivan", 1000)
	g.newToken(access, map[string]any{"unlimited_quota": true})
	select {
	case ev := <-events:
		if ev.Kind != "tokens" || ev.Index == 0 || ev.Node != "node1" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no token change event")
	}
}
