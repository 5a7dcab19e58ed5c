package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// limitAnswer sends one chat and returns its status and, for a 429, the
// Retry-After header and the error envelope's type.
func limitAnswer(t *testing.T, g *gateway, key string) (status int, retry, typ string) {
	t.Helper()
	resp, body := g.post("/v1/chat/completions", key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode == http.StatusTooManyRequests {
		var env struct {
			Error struct {
				Type, Code, Message string
			}
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Error.Code != "rate_limit_exceeded" || env.Error.Message == "" {
			t.Fatalf("429 without the OpenAI envelope: %s", body)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After"), env.Error.Type
	}
	return resp.StatusCode, "", ""
}

// expectLimit sends n requests that must pass, then one that must get a
// 429 of type typ with a Retry-After of at least one second.
func expectLimit(t *testing.T, what string, n int, typ string, send func() (int, string, string)) {
	t.Helper()
	for i := 0; i < n; i++ {
		if st, _, _ := send(); st != 200 {
			t.Fatalf("%s: request %d of %d answered %d before the limit", what, i+1, n, st)
		}
	}
	st, retry, gotTyp := send()
	if st != http.StatusTooManyRequests || gotTyp != typ {
		t.Fatalf("%s: request %d answered %d (type %q), want 429 (%s)", what, n+1, st, gotTyp, typ)
	}
	if secs, err := strconv.Atoi(retry); err != nil || secs < 1 {
		t.Fatalf("%s: Retry-After %q", what, retry)
	}
}

// Issue 4, acceptance 4: every relay limit answers 429 (OpenAI envelope,
// Retry-After) at its configured threshold and not before.
func TestRelayLimits(t *testing.T) {
	g, m := setup(t)
	uid, access := g.newUser("lima", 100_000_000)
	_ = uid
	// Per token: requests per minute.
	rpm := g.newToken(access, map[string]any{"name": "rpm", "unlimited_quota": true, "rpm_limit": 3})
	if tv := g.token(access, rpm.ID); tv.RPMLimit != 3 {
		t.Fatalf("rpm_limit not stored: %+v", tv)
	}
	expectLimit(t, "rpm_limit 3", 3, "requests", func() (int, string, string) { return limitAnswer(t, g, rpm.Key) })
	// Another token of the same user is not affected.
	other := g.newToken(access, map[string]any{"name": "free", "unlimited_quota": true})
	if st, _, _ := limitAnswer(t, g, other.Key); st != 200 {
		t.Fatalf("another token: %d", st)
	}

	// Per token: tokens per minute. Each chat uses 20 tokens: with 50,
	// the third request (40 used) passes and the fourth (60) is refused.
	tpm := g.newToken(access, map[string]any{"name": "tpm", "unlimited_quota": true, "tpm_limit": 50})
	expectLimit(t, "tpm_limit 50", 3, "tokens", func() (int, string, string) { return limitAnswer(t, g, tpm.Key) })

	// Per token: requests in flight.
	par := g.newToken(access, map[string]any{"name": "par", "unlimited_quota": true, "max_parallel": 2})
	m.chunkDelay = 300 * time.Millisecond
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			resp, _ := g.post("/v1/chat/completions", par.Key, `{"model":"test-model","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != 200 {
				t.Errorf("a stream within max_parallel: %d", resp.StatusCode)
			}
		})
	}
	waitFor(t, 5*time.Second, "two streams in flight", func() bool { return m.count.Load() >= 9 })
	time.Sleep(50 * time.Millisecond)
	if st, retry, typ := limitAnswer(t, g, par.Key); st != 429 || typ != "requests" || retry == "" {
		t.Fatalf("a third request with two in flight: %d %q %q", st, typ, retry)
	}
	wg.Wait()
	m.chunkDelay = 0
	if st, _, _ := limitAnswer(t, g, par.Key); st != 200 {
		t.Fatalf("after the streams ended: %d", st)
	}

	// Per user (new-api's model request limit): 4 requests per minute
	// over all the user's tokens, a group override of 2 for "vip".
	for k, v := range map[string]string{"ModelRequestRateLimitEnabled": "true", "ModelRequestRateLimitDurationMinutes": "1",
		"ModelRequestRateLimitCount": "4", "ModelRequestRateLimitSuccessCount": "0", "ModelRequestRateLimitGroup": `{"vip":[0,2]}`} {
		g.must("PUT", "/api/option/", map[string]any{"key": k, "value": v}, nil)
	}
	_, access2 := g.newUser("mike", 100_000_000)
	a := g.newToken(access2, map[string]any{"name": "a", "unlimited_quota": true})
	b := g.newToken(access2, map[string]any{"name": "b", "unlimited_quota": true})
	i := 0
	expectLimit(t, "ModelRequestRateLimitCount 4", 4, "requests", func() (int, string, string) {
		i++
		return limitAnswer(t, g, []string{a.Key, b.Key}[i%2])
	})
	vipID, access3 := g.newUser("vera", 100_000_000)
	g.must("PUT", "/api/user/", map[string]any{"id": vipID, "username": "vera", "display_name": "vera", "group": "vip", "quota": 100_000_000}, nil)
	g.must("POST", "/api/channel/", map[string]any{"type": 1, "name": "vip", "key": "k", "base_url": m.url(),
		"models": "test-model", "group": "vip"}, nil)
	v := g.newToken(access3, map[string]any{"name": "v", "unlimited_quota": true})
	expectLimit(t, "vip: 2 successful requests", 2, "requests", func() (int, string, string) { return limitAnswer(t, g, v.Key) })
	// Bad input is refused with the /api envelope.
	if r := callAPI(t, g.base, access, "POST", "/api/token/", map[string]any{"name": "neg", "rpm_limit": -1}); r.Success || !strings.Contains(r.Message, "rpm_limit") {
		t.Fatalf("negative rpm_limit: %+v", r)
	}
	if r := g.call("PUT", "/api/option/", map[string]any{"key": "ModelRequestRateLimitGroup", "value": `{"vip":[-1,2]}`}); r.Success {
		t.Fatal("a negative group limit was accepted")
	}
}

// Issue 4, acceptance 4: the per-address limits of /api (root access
// tokens exempt), the critical routes and the web UI answer 429 at their
// thresholds, /api in its {success, message} envelope.
func TestAddressLimits(t *testing.T) {
	g := startGatewayWith(t, t.TempDir(), func(c *Config) { c.APIRateLimit, c.CriticalRateLimit, c.WebRateLimit = 6, 2, 3 })
	get := func(path, auth string) (*http.Response, apiResult) {
		req, _ := http.NewRequest("GET", g.base+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r apiResult
		_ = json.NewDecoder(resp.Body).Decode(&r)
		return resp, r
	}
	login := func() int {
		resp, err := http.Post(g.base+"/api/user/login", "application/json", strings.NewReader(`{"username":"root","password":"wrong-password"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Critical: two logins, then 429 (they count toward /api too).
	for i := 0; i < 2; i++ {
		if st := login(); st == http.StatusTooManyRequests {
			t.Fatalf("login %d limited", i+1)
		}
	}
	if st := login(); st != http.StatusTooManyRequests {
		t.Fatalf("third login: %d", st)
	}
	// /api: 6 per window in all; 3 used by the logins.
	for i := 0; i < 3; i++ {
		if resp, _ := get("/api/status", ""); resp.StatusCode != 200 {
			t.Fatalf("/api/status %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, r := get("/api/status", "")
	if resp.StatusCode != http.StatusTooManyRequests || r.Success || r.Message == "" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the /api limit: %d %+v Retry-After %q", resp.StatusCode, r, resp.Header.Get("Retry-After"))
	}
	// A root access token is not limited.
	for i := 0; i < 10; i++ {
		if resp, r := get("/api/user/self", testAccess); resp.StatusCode != 200 || !r.Success {
			t.Fatalf("root access token limited: %d %+v", resp.StatusCode, r)
		}
	}
	// Web pages: 3, then 429.
	for i := 0; i < 3; i++ {
		if resp, _ := get("/", ""); resp.StatusCode != 200 {
			t.Fatalf("page %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp, _ := get("/", ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("over the web limit: %d", resp.StatusCode)
	}
	// The relay is not limited per address.
	if resp, _ := get("/v1/models", ""); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatal("/v1 limited per address")
	}
}

// Bodies over a route's size limit get 413 in the route's envelope.
func TestBodySizeLimits(t *testing.T) {
	g := startGatewayWith(t, t.TempDir(), func(c *Config) { c.MaxBodyMB = 1 })
	big := `{"model":"test-model","messages":[{"role":"user","content":"` + strings.Repeat("x", 1<<20+1000) + `"}]}`
	for path, want := range map[string]string{
		"/v1/chat/completions":                      `"code":"request_too_large"`,
		"/v1/messages":                              `"type":"request_too_large"`,
		"/v1beta/models/test-model:generateContent": `"status":`,
	} {
		resp, body := g.post(path, "whatever", big)
		if resp.StatusCode != 413 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d %.200s", path, resp.StatusCode, body)
		}
	}
	hugeAPI := `{"username":"` + strings.Repeat("x", 5<<20) + `"}`
	resp, err := http.Post(g.base+"/api/user/login", "application/json", strings.NewReader(hugeAPI))
	if err != nil {
		t.Fatal(err)
	}
	var r apiResult
	json.NewDecoder(resp.Body).Decode(&r)
	resp.Body.Close()
	if resp.StatusCode != 413 || r.Success || !strings.Contains(r.Message, "too large") {
		t.Fatalf("/api: %d %+v", resp.StatusCode, r)
	}
	// Under the limit: an ordinary answer (here: no such key).
	if resp, body := g.post("/v1/chat/completions", "whatever", `{"model":"m"}`); resp.StatusCode != 401 {
		t.Fatalf("small body: %d %s", resp.StatusCode, body)
	}
}
