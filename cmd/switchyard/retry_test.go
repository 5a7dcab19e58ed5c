package main

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue 4, acceptance 2: with two channels for a model, an upstream
// failure whose status is in AutomaticRetryStatusCodes (500, 429, 502, …)
// on the preferred channel is retried on the other and billed once; 400,
// 408 and 504 are not retried; a disabled channel is never chosen; a
// stream that already started is not retried; a channel that failed cools
// down for the model and serves it again only when nothing else is left.
func TestRetriesAndCooldown(t *testing.T) {
	g, good := setup(t) // priority 0
	bad := newMockOpenAI(t)
	g.must("POST", "/api/channel/", map[string]any{"type": 1, "name": "preferred", "key": "k", "base_url": bad.url(),
		"models": "test-model", "priority": 10}, nil)
	off := newMockOpenAI(t)
	g.must("POST", "/api/channel/", map[string]any{"type": 1, "name": "off", "key": "k", "base_url": off.url(),
		"models": "test-model", "priority": 20}, nil)
	var chans []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	g.must("GET", "/api/channel/?p=0", nil, &chans)
	ids := map[string]int64{}
	for _, c := range chans {
		ids[c.Name] = c.ID
	}
	setStatus := func(name string, base string, status int) {
		g.must("PUT", "/api/channel/", map[string]any{"id": ids[name], "type": 1, "name": name, "status": status,
			"base_url": base, "models": "test-model"}, nil)
	}
	setStatus("off", off.url(), 2)
	g.must("PUT", "/api/option/", map[string]any{"key": "RetryTimes", "value": "1"}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "RetryCooldownSeconds", "value": "0"}, nil)
	uid, access := g.newUser("rita", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	answered := int64(0)
	for _, tc := range []struct {
		status  int
		retried bool
	}{{500, true}, {429, true}, {502, true}, {503, true}, {400, false}, {408, false}, {504, false}, {524, false}} {
		bad.status.Store(int64(tc.status))
		b0, g0 := bad.count.Load(), good.count.Load()
		resp, body := g.post("/v1/chat/completions", tok.Key, chat)
		if bad.count.Load() != b0+1 {
			t.Fatalf("%d: the preferred channel was called %d times", tc.status, bad.count.Load()-b0)
		}
		switch {
		case tc.retried && (resp.StatusCode != 200 || good.count.Load() != g0+1):
			t.Fatalf("%d: not retried on the other channel: %d %s (fallback calls %d)", tc.status, resp.StatusCode, body, good.count.Load()-g0)
		case !tc.retried && (resp.StatusCode != tc.status || good.count.Load() != g0):
			t.Fatalf("%d: want it passed on, not retried: %d %s (fallback calls %d)", tc.status, resp.StatusCode, body, good.count.Load()-g0)
		}
		if tc.retried {
			answered++
		}
		// A success on the preferred channel ends its failure streak
		// (five in a row would open its circuit breaker).
		bad.status.Store(0)
		if resp, body := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 200 || bad.count.Load() != b0+2 {
			t.Fatalf("after %d: %d %s", tc.status, resp.StatusCode, body)
		}
		answered++
	}

	// Bad requests say nothing about the channel: a run of 400s does not
	// open its circuit breaker.
	bad.status.Store(400)
	for i := 0; i < 8; i++ {
		if resp, _ := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 400 {
			t.Fatalf("400 run: %d", resp.StatusCode)
		}
	}
	bad.status.Store(0)
	if b0 := bad.count.Load(); func() bool {
		resp, _ := g.post("/v1/chat/completions", tok.Key, chat)
		return resp.StatusCode != 200 || bad.count.Load() != b0+1
	}() {
		t.Fatal("after a run of 400s the preferred channel is avoided")
	}
	answered++

	// A stream that broke after its first chunks reached the client is not
	// retried: the client sees the chunks, then an error event.
	bad.abortAfter.Store(2)
	g0 := good.count.Load()
	req, _ := http.NewRequest("POST", g.base+"/v1/chat/completions",
		strings.NewReader(`{"model":"test-model","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-"+tok.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, line)
		}
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(events) < 3 || !strings.Contains(events[len(events)-2], `"error"`) ||
		events[len(events)-1] != "[DONE]" || good.count.Load() != g0 {
		t.Fatalf("broken stream: %d, fallback calls %d, events %q", resp.StatusCode, good.count.Load()-g0, events)
	}
	answered++ // billed for what it streamed
	bad.abortAfter.Store(0)

	// Cooldown: after a failure the preferred channel is left alone for
	// the model while the other one serves…
	g.must("PUT", "/api/option/", map[string]any{"key": "RetryCooldownSeconds", "value": "60"}, nil)
	bad.status.Store(500)
	if resp, body := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 200 {
		t.Fatalf("retry: %d %s", resp.StatusCode, body)
	}
	answered++
	bad.status.Store(0)
	b0 := bad.count.Load()
	for i := 0; i < 5; i++ {
		if resp, body := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 200 {
			t.Fatalf("during the cooldown: %d %s", resp.StatusCode, body)
		}
		answered++
	}
	if bad.count.Load() != b0 {
		t.Fatalf("the cooling channel was called %d times while another was left", bad.count.Load()-b0)
	}
	// …and serves again when nothing else is left.
	setStatus("mock", good.url(), 2)
	if resp, body := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 200 || bad.count.Load() != b0+1 {
		t.Fatalf("the cooling channel as the last resort: %d %s", resp.StatusCode, body)
	}
	answered++
	if off.count.Load() != 0 {
		t.Fatalf("the disabled channel was called %d times", off.count.Load())
	}
	// Every answered request is billed exactly once; failures are free.
	waitFor(t, 5*time.Second, "usage", func() bool { return g.user(uid).RequestCount == answered })
	time.Sleep(100 * time.Millisecond)
	u := g.user(uid)
	if u.RequestCount != answered || g.statQuota("username=rita") != u.UsedQuota {
		t.Fatalf("billed %+v for %d answers (logs %d)", u, answered, g.statQuota("username=rita"))
	}
}

// A channel's first-byte timeout: an upstream that has not started
// answering in time (no answer at all, or stream headers but no event) is
// given up and the request is served by another channel, before anything
// reached the client. A non-stream call and a stream whose headers came
// are closed at once; a stream still waiting for its headers is closed
// when they come.
func TestFirstByteTimeout(t *testing.T) {
	g, fast := setup(t)
	slow := newMockOpenAI(t)
	g.must("POST", "/api/channel/", map[string]any{"type": 1, "name": "slow", "key": "k", "base_url": slow.url(),
		"models": "test-model", "priority": 10, "first_byte_timeout": 0.4}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "RetryTimes", "value": "1"}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "RetryCooldownSeconds", "value": "0"}, nil)
	_, access := g.newUser("tess", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	for _, c := range []struct {
		name   string
		body   string
		stall  func(ms int64)
		stream bool
	}{
		{"non-stream, no answer", `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`, slow.delay.Store, false},
		{"stream, no headers", `{"model":"test-model","stream":true,"messages":[{"role":"user","content":"hi"}]}`, slow.delay.Store, true},
		{"stream, headers but no event", `{"model":"test-model","stream":true,"messages":[{"role":"user","content":"hi"}]}`, slow.firstEvent.Store, true},
	} {
		slow.delay.Store(0)
		slow.firstEvent.Store(0)
		c.stall(3000)
		s0, f0, a0 := slow.count.Load(), fast.count.Load(), slow.aborted.Load()
		start := time.Now()
		resp, body := g.post("/v1/chat/completions", tok.Key, c.body)
		took := time.Since(start)
		if resp.StatusCode != 200 || (c.stream != strings.Contains(string(body), "[DONE]")) {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		if slow.count.Load() != s0+1 || fast.count.Load() != f0+1 || took > 2*time.Second {
			t.Fatalf("%s: slow %d fast %d calls, %v", c.name, slow.count.Load()-s0, fast.count.Load()-f0, took)
		}
		if c.name != "stream, no headers" {
			waitFor(t, 5*time.Second, c.name+": the slow upstream's connection closed", func() bool { return slow.aborted.Load() == a0+1 })
		}
	}
	// Without a stall the slow channel answers (the timeout is not hit).
	slow.delay.Store(0)
	slow.firstEvent.Store(0)
	s0 := slow.count.Load()
	if resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 || slow.count.Load() != s0+1 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}
