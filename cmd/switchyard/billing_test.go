package main

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"
)

// The legacy OpenAI billing endpoints answer as One API does: the token's
// figures (DisplayTokenStatEnabled) or its owner's, in dollars
// (DisplayInCurrencyEnabled) or in quota units, on both paths.
func TestLegacyBillingEndpoints(t *testing.T) {
	g, _ := setup(t)
	uid, access := g.newUser("quinn", 1_000_000)
	lim := g.newToken(access, map[string]any{"name": "lim", "remain_quota": 500_000})
	unl := g.newToken(access, map[string]any{"name": "unl", "unlimited_quota": true})
	if resp, body := g.post("/v1/chat/completions", lim.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	waitFor(t, 5*time.Second, "usage", func() bool { return g.user(uid).UsedQuota == chatCharge })
	get := func(path, key string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("GET", g.base+path, nil)
		req.Header.Set("Authorization", "Bearer sk-"+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		return m
	}
	near := func(a any, want float64) bool { f, _ := a.(float64); return math.Abs(f-want) < 1e-9 }
	for _, prefix := range []string{"/dashboard", "/v1/dashboard"} {
		sub := get(prefix+"/billing/subscription", lim.Key)
		// (remain + used) / 500000 = 500000 / 500000.
		if sub["object"] != "billing_subscription" || sub["has_payment_method"] != true || !near(sub["hard_limit_usd"], 1) ||
			!near(sub["soft_limit_usd"], 1) || !near(sub["system_hard_limit_usd"], 1) || !near(sub["access_until"], 0) {
			t.Fatalf("%s subscription: %v", prefix, sub)
		}
		if u := get(prefix+"/billing/usage", lim.Key); u["object"] != "list" || !near(u["total_usage"], chatCharge/500000.0*100) {
			t.Fatalf("%s usage: %v", prefix, u)
		}
		if sub := get(prefix+"/billing/subscription", unl.Key); !near(sub["hard_limit_usd"], 100000000) {
			t.Fatalf("%s unlimited: %v", prefix, sub)
		}
	}
	// The owner's figures, in quota units.
	g.must("PUT", "/api/option/", map[string]any{"key": "DisplayTokenStatEnabled", "value": "false"}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "DisplayInCurrencyEnabled", "value": "false"}, nil)
	if sub := get("/dashboard/billing/subscription", unl.Key); !near(sub["hard_limit_usd"], 1_000_000) {
		t.Fatalf("user figures: %v", sub)
	}
	if u := get("/v1/dashboard/billing/usage", unl.Key); !near(u["total_usage"], chatCharge*100) {
		t.Fatalf("user usage: %v", u)
	}
	// Without a key: the OpenAI envelope.
	resp, err := http.Get(g.base + "/v1/dashboard/billing/usage")
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Error struct{ Code string } }
	json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if resp.StatusCode != 401 || env.Error.Code != "missing_api_key" {
		t.Fatalf("no key: %d %+v", resp.StatusCode, env)
	}
}
