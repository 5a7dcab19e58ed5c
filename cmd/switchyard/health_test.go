package main

import (
	"fmt"
	"testing"
	"time"
)

// channelStatus reads a channel's status through the admin API.
func channelStatus(g *gateway, id int64) int {
	var ch struct {
		Status int `json:"status"`
	}
	g.must("GET", fmt.Sprintf("/api/channel/%d", id), nil, &ch)
	return ch.Status
}

// Issue 4 (health): a channel is disabled automatically when N of its
// last M answers were fatal (401, or a message from the keyword list) —
// not at the first strike; the scheduled test re-enables it once its
// upstream works again, but never a channel an administrator disabled.
// Balance and model list come from the upstream.
func TestChannelHealth(t *testing.T) {
	g := startGateway(t, t.TempDir())
	g.setPrices()
	for k, v := range map[string]string{"AutomaticDisableAfter": "3", "AutomaticDisableWindow": "10", "ChannelTestFrequency": "0"} {
		g.must("PUT", "/api/option/", map[string]any{"key": k, "value": v}, nil)
	}
	add := func(name string, m *mockOpenAI) int64 {
		var ch struct {
			ID int64 `json:"id"`
		}
		g.must("POST", "/api/channel/", map[string]any{"type": 1, "name": name, "key": "sk-" + name, "base_url": m.url(), "models": "test-model"}, &ch)
		return ch.ID
	}
	bad, kw, manual := newMockOpenAI(t), newMockOpenAI(t), newMockOpenAI(t)
	kw.errorBodies[400] = []byte(`{"error":{"message":"Your credit balance is too low to access the API.","type":"invalid_request_error","param":null,"code":null}}`)
	badID, kwID, manualID := add("bad", bad), add("kw", kw), add("manual", manual)
	// Root's key pinned to a channel (sk-KEY-ID) reaches it whatever its
	// breaker says.
	root := g.newToken(testAccess, map[string]any{"name": "pin", "unlimited_quota": true})
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	send := func(id int64) int {
		resp, _ := g.post("/v1/chat/completions", fmt.Sprintf("%s-%d", root.Key, id), chat)
		return resp.StatusCode
	}

	// Two fatal answers among successes: still enabled; the third disables.
	for _, st := range []int64{401, 0, 401, 0, 0} {
		bad.status.Store(st)
		send(badID)
	}
	time.Sleep(300 * time.Millisecond)
	if s := channelStatus(g, badID); s != 1 {
		t.Fatalf("disabled after two fatal answers in the window: status %d", s)
	}
	bad.status.Store(401)
	send(badID)
	waitFor(t, 5*time.Second, "the third strike to disable the channel", func() bool { return channelStatus(g, badID) == 3 })
	// The keyword list: a 400 whose message says the account is out of credit.
	kw.status.Store(400)
	for i := 0; i < 3; i++ {
		if st := send(kwID); st != 400 {
			t.Fatalf("keyword answer %d: %d", i, st)
		}
	}
	waitFor(t, 5*time.Second, "the keyword strikes to disable the channel", func() bool { return channelStatus(g, kwID) == 3 })
	var logs []struct {
		Type    int    `json:"type"`
		Content string `json:"content"`
	}
	g.must("GET", "/api/log/?type=4", nil, &logs)
	if len(logs) < 2 {
		t.Fatalf("system logs of the disables: %+v", logs)
	}

	// An administrator disables a healthy channel by hand.
	g.must("PUT", "/api/channel/", map[string]any{"id": manualID, "type": 1, "name": "manual", "status": 2, "base_url": manual.url(), "models": "test-model"}, nil)
	// The upstreams recover; the scheduled test (every 1.2 s) re-enables
	// the automatically disabled channels and leaves the manual one alone.
	bad.status.Store(0)
	kw.status.Store(0)
	g.must("PUT", "/api/option/", map[string]any{"key": "ChannelTestFrequency", "value": "0.02"}, nil)
	waitFor(t, 10*time.Second, "the scheduled test to re-enable the channels", func() bool {
		return channelStatus(g, badID) == 1 && channelStatus(g, kwID) == 1
	})
	if s := channelStatus(g, manualID); s != 2 {
		t.Fatalf("the manually disabled channel has status %d", s)
	}
	// Test-all skips it too (only automatically disabled or enabled ones).
	before := manual.count.Load()
	g.must("GET", "/api/channel/test", nil, nil)
	time.Sleep(500 * time.Millisecond)
	if manual.count.Load() != before || channelStatus(g, manualID) != 2 {
		t.Fatal("test-all touched the manually disabled channel")
	}

	// Balance: the dashboard's hard limit $100 minus $25 used.
	var bal struct {
		Balance float64 `json:"balance"`
	}
	g.must("GET", fmt.Sprintf("/api/channel/update_balance/%d", badID), nil, &bal)
	var stored struct {
		Balance            float64 `json:"balance"`
		BalanceUpdatedTime int64   `json:"balance_updated_time"`
	}
	g.must("GET", fmt.Sprintf("/api/channel/%d", badID), nil, &stored)
	if bal.Balance != 75 || stored.Balance != 75 || stored.BalanceUpdatedTime == 0 {
		t.Fatalf("balance %v, stored %+v", bal, stored)
	}
	// The upstream's model list.
	var models []string
	g.must("GET", fmt.Sprintf("/api/channel/fetch_models/%d", badID), nil, &models)
	if len(models) != 2 || models[0] != "gpt-4o" || models[1] != "test-model" {
		t.Fatalf("models %v", models)
	}
	if r := g.call("GET", "/api/channel/fetch_models/99999", nil); r.Success {
		t.Fatal("models of a missing channel")
	}
}
