package main

import (
	"fmt"
	"testing"
	"time"
)

// A multi-key channel spreads its requests over its keys (in turn, or at
// random); a key whose answers keep failing fatally is disabled on its own
// while the others serve; when every key is disabled the channel is.
func TestMultiKeyChannel(t *testing.T) {
	g := startGateway(t, t.TempDir())
	g.setPrices()
	m := newMockOpenAI(t)
	var ch struct {
		ID           int64  `json:"id"`
		MultiKeyMode string `json:"multi_key_mode"`
	}
	g.must("POST", "/api/channel/", map[string]any{"type": 1, "name": "multi", "key": "sk-a\nsk-b\nsk-c",
		"multi_key_mode": "polling", "base_url": m.url(), "models": "test-model"}, &ch)
	if ch.ID == 0 || ch.MultiKeyMode != "polling" {
		t.Fatalf("created %+v", ch)
	}
	_, access := g.newUser("kim", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	keysUsed := func(n int) map[string]int {
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			before := len(m.calls)
			g.post("/v1/chat/completions", tok.Key, chat)
			m.mu.Lock()
			if len(m.calls) > before {
				seen[m.calls[len(m.calls)-1].Auth]++
			}
			m.mu.Unlock()
		}
		return seen
	}
	if seen := keysUsed(6); seen["Bearer sk-a"] != 2 || seen["Bearer sk-b"] != 2 || seen["Bearer sk-c"] != 2 {
		t.Fatalf("round robin: %v", seen)
	}
	// Key b goes bad: after three fatal answers it is disabled alone.
	m.badKeys.Store("Bearer sk-b", true)
	keysUsed(9)
	var stored struct {
		Status       int    `json:"status"`
		DisabledKeys string `json:"disabled_keys"`
	}
	waitFor(t, 5*time.Second, "key b to be disabled", func() bool {
		g.must("GET", fmt.Sprintf("/api/channel/%d", ch.ID), nil, &stored)
		return stored.DisabledKeys == "1"
	})
	if stored.Status != 1 {
		t.Fatalf("the channel status is %d with two good keys", stored.Status)
	}
	if seen := keysUsed(6); seen["Bearer sk-b"] != 0 || seen["Bearer sk-a"] != 3 || seen["Bearer sk-c"] != 3 {
		t.Fatalf("after disabling key b: %v", seen)
	}
	// Random mode uses every active key.
	g.must("PUT", "/api/channel/", map[string]any{"id": ch.ID, "type": 1, "name": "multi", "multi_key_mode": "random",
		"disabled_keys": "1", "base_url": m.url(), "models": "test-model"}, nil)
	if seen := keysUsed(60); len(seen) != 2 || seen["Bearer sk-a"] < 10 || seen["Bearer sk-c"] < 10 {
		t.Fatalf("random: %v", seen)
	}
	// Every key bad: the channel goes too. (Root's key pinned to the
	// channel reaches it while its circuit breaker is open.)
	m.badKeys.Store("Bearer sk-a", true)
	m.badKeys.Store("Bearer sk-c", true)
	root := g.newToken(testAccess, map[string]any{"name": "pin", "unlimited_quota": true})
	for i := 0; i < 16; i++ {
		g.post("/v1/chat/completions", fmt.Sprintf("%s-%d", root.Key, ch.ID), chat)
	}
	waitFor(t, 5*time.Second, "the channel to be disabled", func() bool {
		g.must("GET", fmt.Sprintf("/api/channel/%d", ch.ID), nil, &stored)
		return stored.Status == 3
	})
	if r := g.call("POST", "/api/channel/", map[string]any{"type": 1, "name": "x", "key": "k", "multi_key_mode": "sometimes"}); r.Success {
		t.Fatal("a bad multi_key_mode was accepted")
	}
}
