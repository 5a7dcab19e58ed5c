package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
	"time"
)

const testAccess = "test-root-access-token-0123456789abcdef"

// gateway is a Switchyard node running in the test process on a random
// loopback port, with real Raft, NATS, Pebble and actors.
type gateway struct {
	t    testing.TB
	n    *node
	base string
	dir  string
}

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("SWITCHYARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startGateway(t testing.TB, dir string) *gateway {
	t.Helper()
	return startGatewayWith(t, dir, nil)
}

// startGatewayWith is startGateway with a change to the configuration.
func startGatewayWith(t testing.TB, dir string, tweak func(*Config)) *gateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.Data = dir
	cfg.Drain = 5 * time.Second
	cfg.RootPassword = "root-password-123"
	cfg.RootAccessToken = testAccess
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := startNode(cfg, ln, testLog(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, n: n, base: "http://" + ln.Addr().String(), dir: dir}
	t.Cleanup(func() { g.stop() })
	waitFor(t, 10*time.Second, "gateway healthy", func() bool {
		resp, err := http.Get(g.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return g
}

func (g *gateway) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := g.n.stop(ctx); err != nil {
		g.t.Errorf("stop: %v", err)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// apiResult is the /api envelope.
type apiResult struct {
	Success bool            `json:"success"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// call sends an /api request with the root access token and returns the
// decoded envelope.
func (g *gateway) call(method, path string, body any) apiResult {
	g.t.Helper()
	return callAPI(g.t, g.base, testAccess, method, path, body)
}

func callAPI(t testing.TB, base, access, method, path string, body any) apiResult {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	if access != "" {
		req.Header.Set("Authorization", access)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiResult
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s %s: not an envelope (%d): %s", method, path, resp.StatusCode, raw)
	}
	return r
}

// must is call that fails the test unless success is true; it decodes data
// into out when out is not nil.
func (g *gateway) must(method, path string, body, out any) {
	g.t.Helper()
	r := g.call(method, path, body)
	if !r.Success {
		g.t.Fatalf("%s %s: %s", method, path, r.Message)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			g.t.Fatalf("%s %s: decode data: %v (%s)", method, path, err, r.Data)
		}
	}
}

type tokenView struct {
	ID          int64  `json:"id"`
	Key         string `json:"key"`
	Status      int    `json:"status"`
	RemainQuota int64  `json:"remain_quota"`
	UsedQuota   int64  `json:"used_quota"`
	RPMLimit    int    `json:"rpm_limit"`
}

type userView struct {
	ID           int64 `json:"id"`
	Quota        int64 `json:"quota"`
	UsedQuota    int64 `json:"used_quota"`
	RequestCount int64 `json:"request_count"`
}

// addChannel creates an OpenAI channel for models on the mock.
func (g *gateway) addChannel(m *mockOpenAI, models string) {
	g.must("POST", "/api/channel/", map[string]any{
		"type": 1, "name": "mock", "key": "sk-upstream-secret", "base_url": m.url(),
		"models": models, "group": "default",
	}, nil)
}

// setPrices makes "test-model" cost ratio 1.5 with completion ratio 2.
func (g *gateway) setPrices() {
	g.must("PUT", "/api/option/", map[string]any{"key": "ModelRatio", "value": `{"test-model":1.5,"test-embed":1}`}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "CompletionRatio", "value": `{"test-model":2}`}, nil)
}

// newUser creates a common user with quota and returns its id and a fresh
// management access token for it.
func (g *gateway) newUser(name string, quota int64) (int64, string) {
	g.t.Helper()
	var u userView
	g.must("POST", "/api/user/", map[string]any{"username": name, "password": "password-123", "quota": quota}, &u)
	return u.ID, g.userAccessToken(name)
}

// userAccessToken logs in with a cookie session and issues the user a
// management access token.
func (g *gateway) userAccessToken(name string) string {
	g.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	b, _ := json.Marshal(map[string]any{"username": name, "password": "password-123"})
	resp, err := c.Post(g.base+"/api/user/login", "application/json", bytes.NewReader(b))
	if err != nil {
		g.t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(g.base + "/api/user/token")
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiResult
	json.NewDecoder(resp.Body).Decode(&r)
	var tok string
	if !r.Success || json.Unmarshal(r.Data, &tok) != nil || tok == "" {
		g.t.Fatalf("access token for %s: %+v", name, r)
	}
	return tok
}

// newToken creates an API token as the user behind access.
func (g *gateway) newToken(access string, spec map[string]any) tokenView {
	g.t.Helper()
	if spec["name"] == nil {
		spec["name"] = "t"
	}
	r := callAPI(g.t, g.base, access, "POST", "/api/token/", spec)
	if !r.Success {
		g.t.Fatalf("create token: %s", r.Message)
	}
	var tv tokenView
	json.Unmarshal(r.Data, &tv)
	if len(tv.Key) != 48 {
		g.t.Fatalf("token key %q is not 48 characters", tv.Key)
	}
	return tv
}

func (g *gateway) user(id int64) userView {
	g.t.Helper()
	var u userView
	g.must("GET", fmt.Sprintf("/api/user/%d", id), nil, &u)
	return u
}

func (g *gateway) token(access string, id int64) tokenView {
	g.t.Helper()
	r := callAPI(g.t, g.base, access, "GET", fmt.Sprintf("/api/token/%d", id), nil)
	if !r.Success {
		g.t.Fatalf("get token: %s", r.Message)
	}
	var tv tokenView
	json.Unmarshal(r.Data, &tv)
	return tv
}

// statQuota is /api/log/stat's quota sum for a filter query.
func (g *gateway) statQuota(query string) int64 {
	g.t.Helper()
	var st struct {
		Quota int64 `json:"quota"`
		Count int64 `json:"count"`
	}
	g.must("GET", "/api/log/stat?"+query, nil, &st)
	return st.Quota
}

// post sends a raw /v1 request.
func (g *gateway) post(path, key, body string) (*http.Response, []byte) {
	g.t.Helper()
	req, _ := http.NewRequest("POST", g.base+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}
