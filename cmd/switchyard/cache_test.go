package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue 4 (response cache) and acceptance 5 (cache hits billed by the
// option, never double-counted): an opted-in token's repeated request is
// answered from the cache (X-Cache: HIT, no upstream call), free by
// default and at ResponseCacheHitRatio × the normal charge when set; a
// listed model is cached for every token; streams and other tokens are
// not; entries expire.
func TestResponseCache(t *testing.T) {
	g, m := setup(t)
	uid, access := g.newUser("cleo", 1_000_000)
	cached := g.newToken(access, map[string]any{"name": "cached", "unlimited_quota": true, "response_cache": true})
	plain := g.newToken(access, map[string]any{"name": "plain", "unlimited_quota": true})
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	var used, requests int64
	send := func(key, body, wantCache string, wantUpstream bool, charge int64) {
		t.Helper()
		before := m.count.Load()
		resp, b := g.post("/v1/chat/completions", key, body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), "assist you today") {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		if got := resp.Header.Get("X-Cache"); got != wantCache {
			t.Fatalf("X-Cache %q, want %q", got, wantCache)
		}
		if called := m.count.Load() != before; called != wantUpstream {
			t.Fatalf("upstream called: %v, want %v", called, wantUpstream)
		}
		used += charge
		requests++
		waitFor(t, 5*time.Second, "the charge", func() bool {
			u := g.user(uid)
			return u.UsedQuota == used && u.RequestCount == requests
		})
	}
	send(cached.Key, chat, "MISS", true, chatCharge)
	send(cached.Key, chat, "HIT", false, 0) // free by default
	g.must("PUT", "/api/option/", map[string]any{"key": "ResponseCacheHitRatio", "value": "0.5"}, nil)
	send(cached.Key, chat, "HIT", false, 21) // ⌈42 × 0.5⌉
	send(cached.Key, `{"model":"test-model","messages":[{"role":"user","content":"other"}]}`, "MISS", true, chatCharge)
	send(plain.Key, chat, "", true, chatCharge) // not opted in
	// Streams are never cached.
	req, _ := http.NewRequest("POST", g.base+"/v1/chat/completions", strings.NewReader(`{"model":"test-model","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-"+cached.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) // all of it: a stream cut short is billed for what it sent
	resp.Body.Close()
	if resp.Header.Get("X-Cache") != "" {
		t.Fatal("a stream went through the cache")
	}
	used += streamCharge
	requests++
	// A listed model is cached for every token.
	g.must("PUT", "/api/option/", map[string]any{"key": "ResponseCacheModels", "value": "test-model"}, nil)
	send(plain.Key, `{"model":"test-model","messages":[{"role":"user","content":"listed"}]}`, "MISS", true, chatCharge)
	send(plain.Key, `{"model":"test-model","messages":[{"role":"user","content":"listed"}]}`, "HIT", false, 21)
	// Entries expire.
	g.must("PUT", "/api/option/", map[string]any{"key": "ResponseCacheTTLSeconds", "value": "0.3"}, nil)
	send(plain.Key, `{"model":"test-model","messages":[{"role":"user","content":"short"}]}`, "MISS", true, chatCharge)
	time.Sleep(400 * time.Millisecond)
	send(plain.Key, `{"model":"test-model","messages":[{"role":"user","content":"short"}]}`, "MISS", true, chatCharge)
	// Logs add up: every answer billed once, hits at their price.
	if s := g.statQuota("username=cleo"); s != used {
		t.Fatalf("logs sum to %d, used %d", s, used)
	}
}
