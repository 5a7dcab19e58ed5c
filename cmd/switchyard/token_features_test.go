package main

import (
	"strings"
	"testing"
	"time"
)

// A token's group replaces its owner's for routing and the group ratio;
// only administrators may choose another group; an expired token is shown
// expired and refused.
func TestTokenGroupAndExpiry(t *testing.T) {
	g, def := setup(t)
	vip := newMockOpenAI(t)
	g.must("POST", "/api/channel/", map[string]any{"type": 1, "name": "vip", "key": "k", "base_url": vip.url(),
		"models": "test-model", "group": "vip"}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "GroupRatio", "value": `{"default":1,"vip":2}`}, nil)
	rootTok := g.newToken(testAccess, map[string]any{"name": "as-vip", "unlimited_quota": true, "group": "vip"})
	var rootUser userView
	g.must("GET", "/api/user/self", nil, &rootUser)
	before := rootUser.UsedQuota
	if resp, body := g.post("/v1/chat/completions", rootTok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if vip.count.Load() != 1 || def.count.Load() != 0 {
		t.Fatalf("routed to vip %d, default %d", vip.count.Load(), def.count.Load())
	}
	// ceil((12 + 8×2) × 1.5 × 2) = 84: the vip ratio.
	waitFor(t, 5*time.Second, "usage", func() bool {
		g.must("GET", "/api/user/self", nil, &rootUser)
		return rootUser.UsedQuota == before+84
	})
	_, access := g.newUser("pat", 1_000_000)
	for group, wantOK := range map[string]bool{"vip": false, "default": true, "nosuch": false} {
		r := callAPI(t, g.base, access, "POST", "/api/token/", map[string]any{"name": "g", "group": group})
		if r.Success != wantOK {
			t.Fatalf("a common user's token with group %q: %+v", group, r)
		}
	}
	if r := g.call("POST", "/api/token/", map[string]any{"name": "g", "group": "nosuch"}); r.Success {
		t.Fatal("an unknown group accepted from root")
	}

	// Expiry: shown expired once past, and refused.
	exp := time.Now().Unix() + 1
	tok := g.newToken(access, map[string]any{"name": "short", "unlimited_quota": true, "expired_time": exp})
	waitFor(t, 5*time.Second, "the expiry", func() bool { return time.Now().Unix() > exp })
	if tv := g.token(access, tok.ID); tv.Status != 3 {
		t.Fatalf("expired token shows status %d", tv.Status)
	}
	resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[]}`)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "token_expired") {
		t.Fatalf("expired token: %d %s", resp.StatusCode, body)
	}
}
