// Package e2e drives a running Switchyard binary with the official
// Anthropic and Google Gen AI Go SDKs. It is its own module so that the
// product's dependency graph stays free of the SDKs; make test runs it.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const rootAccess = "e2e-root-access-token-0123456789abcdef"

var binary string // the gateway, built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchyard-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "switchyard")
	build := exec.Command("go", "build", "-o", binary, "./cmd/switchyard")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the gateway:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gateway is a running switchyard process.
type gateway struct {
	t    *testing.T
	base string
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startGateway runs the binary as the README does, on a fresh data
// directory, and waits until it is healthy.
func startGateway(t *testing.T) *gateway {
	addr := freePort(t)
	cmd := exec.Command(binary, "serve", "--listen", addr, "--data", t.TempDir())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"SWITCHYARD_ROOT_PASSWORD=e2e-root-password", "SWITCHYARD_ROOT_ACCESS_TOKEN=" + rootAccess}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("gateway output:\n%s", out.String())
		}
	})
	g := &gateway{t: t, base: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(g.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return g
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not become healthy: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// admin calls the management API as root and decodes data into out.
func (g *gateway) admin(method, path string, body, out any) {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.base+path, rd)
	req.Header.Set("Authorization", rootAccess)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Success bool            `json:"success"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || !env.Success {
		g.t.Fatalf("%s %s: %v %s", method, path, err, env.Message)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			g.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// usedQuota is root's used quota.
func (g *gateway) usedQuota() int64 {
	var u struct {
		UsedQuota int64 `json:"used_quota"`
	}
	g.admin("GET", "/api/user/self", nil, &u)
	return u.UsedQuota
}

// waitUsed waits until root's used quota reaches want.
func (g *gateway) waitUsed(want int64) {
	g.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.usedQuota() != want {
		if time.Now().After(deadline) {
			g.t.Fatalf("used quota %d, want %d", g.usedQuota(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upstream is an OpenAI-compatible mock: it answers chat requests with a
// fixed text, or with a get_weather tool call when tools are offered, and
// reports 12 prompt and 6 completion tokens; it records the bodies.
type upstream struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []map[string]any
}

const mockText = "Hello from the mock."

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) last() map[string]any {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[len(u.calls)-1]
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	u.mu.Lock()
	u.calls = append(u.calls, body)
	u.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-upstream" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`)
		return
	}
	_, tools := body["tools"]
	usage := `{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18}`
	if stream, _ := body["stream"].(bool); !stream {
		w.Header().Set("Content-Type", "application/json")
		msg := fmt.Sprintf(`{"role":"assistant","content":%q}`, mockText)
		finish := "stop"
		if tools {
			msg = `{"role":"assistant","content":null,"tool_calls":[{"id":"call_w1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}`
			finish = "tool_calls"
		}
		fmt.Fprintf(w, `{"id":"chatcmpl-e2e","object":"chat.completion","created":1741569952,"model":"test-model","choices":[{"index":0,"message":%s,"finish_reason":%q}],"usage":%s}`, msg, finish, usage)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	head := `{"id":"chatcmpl-e2e","object":"chat.completion.chunk","created":1741569952,"model":"test-model",`
	send := func(s string) {
		io.WriteString(w, "data: "+s+"\n\n")
		w.(http.Flusher).Flush()
	}
	send(head + `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	for _, word := range strings.SplitAfter(mockText, " ") {
		b, _ := json.Marshal(word)
		send(head + `"choices":[{"index":0,"delta":{"content":` + string(b) + `},"finish_reason":null}]}`)
	}
	send(head + `"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`)
	send(head + `"choices":[],"usage":` + usage + `}`)
	io.WriteString(w, "data: [DONE]\n\n")
}

// setup starts a gateway with one OpenAI channel on the mock, prices
// test-model (ratio 1.5, completion 2: 12 + 6 tokens cost 36) and returns
// a fresh root API key.
func setup(t *testing.T) (*gateway, *upstream, string) {
	g := startGateway(t)
	u := newUpstream(t)
	g.admin("POST", "/api/channel/", map[string]any{"type": 1, "name": "mock", "key": "sk-upstream", "base_url": u.srv.URL,
		"models": "test-model"}, nil)
	g.admin("PUT", "/api/option/", map[string]any{"key": "ModelRatio", "value": `{"test-model":1.5}`}, nil)
	g.admin("PUT", "/api/option/", map[string]any{"key": "CompletionRatio", "value": `{"test-model":2}`}, nil)
	var tok struct {
		Key string `json:"key"`
	}
	g.admin("POST", "/api/token/", map[string]any{"name": "e2e", "unlimited_quota": true}, &tok)
	return g, u, tok.Key
}

// charge is what one mock answer costs: ⌈(12 + 6 × 2) × 1.5⌉.
const charge = 36
