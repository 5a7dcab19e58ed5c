package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The process tests run the gateway as a separate process: this test
// binary re-executes itself with SWITCHYARD_TEST_SERVE set, which runs
// `switchyard serve` instead of the tests. kill -9 then really kills a
// process, with no deferred cleanup.
func TestMain(m *testing.M) {
	if os.Getenv("SWITCHYARD_TEST_SERVE") == "1" {
		os.Exit(serve(os.Args[1:]))
	}
	quietHertz()
	flag.Parse()
	startWatchdog()
	os.Exit(m.Run())
}

type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	dir  string
	out  *lockedBuf
	exit chan error
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string { return freeAddrOn(t, "127.0.0.1") }

// freeAddrOn returns a free port on a loopback address (127.0.0.x).
func freeAddrOn(t *testing.T, host string) string {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProc runs a gateway process on dir (reusing addr when restarting).
func startProc(t *testing.T, dir, addr string) *proc {
	t.Helper()
	return startProcWith(t, dir, addr, nil, nil)
}

// startProcWith is startProc with extra flags and environment.
func startProcWith(t *testing.T, dir, addr string, args, env []string) *proc {
	t.Helper()
	if addr == "" {
		addr = freeAddr(t)
	}
	cmd := exec.Command(os.Args[0], append([]string{"--listen", addr, "--data", dir, "--drain-timeout", "20s"}, args...)...)
	cmd.Env = append(os.Environ(), "SWITCHYARD_TEST_SERVE=1", "SWITCHYARD_ROOT_ACCESS_TOKEN="+testAccess,
		"SWITCHYARD_ROOT_PASSWORD=root-password-123")
	cmd.Env = append(cmd.Env, env...)
	p := &proc{t: t, cmd: cmd, base: "http://" + addr, dir: dir, out: &lockedBuf{}, exit: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exit <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exit
		}
		if t.Failed() {
			out := p.out.String()
			if len(out) > 20000 {
				out = "…" + out[len(out)-20000:]
			}
			t.Logf("output of the gateway on %s:\n%s", addr, out)
		}
	})
	waitFor(t, 60*time.Second, "process healthy", func() bool {
		resp, err := http.Get(p.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

func (p *proc) gw() *gateway { return &gateway{t: p.t, base: p.base, dir: p.dir} }

func (p *proc) kill9() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	<-p.exit
}

// terminate stops the process with SIGTERM (a clean shutdown) and waits.
func (p *proc) terminate() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.exit:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("%s did not stop within 60 s of SIGTERM", p.base)
	}
}

// Acceptance 3: usage committed before kill -9 (given 2 s) survives a
// restart.
func TestKill9KeepsCommittedUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	m := newMockOpenAI(t)
	dir := t.TempDir()
	p := startProc(t, dir, "")
	g := p.gw()
	g.addChannel(m, "test-model")
	g.setPrices()
	uid, access := g.newUser("henry", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	const n = 30
	for i := 0; i < n; i++ {
		if resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	time.Sleep(2 * time.Second)
	p.kill9()

	p = startProc(t, dir, "")
	g = p.gw()
	want := int64(n * chatCharge)
	if u := g.user(uid); u.UsedQuota != want || u.RequestCount != n || u.Quota != 1_000_000-want {
		t.Fatalf("after kill -9 and restart: %+v, want used %d over %d requests\n%s", u, want, n, p.out.String())
	}
	if s := g.statQuota("username=henry"); s != want {
		t.Fatalf("log stat %d, want %d", s, want)
	}
	// The restarted node serves and bills on top.
	if resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for g.user(uid).UsedQuota != want+chatCharge {
		if time.Now().After(deadline) {
			t.Fatalf("new usage not applied: %+v\n%s", g.user(uid), p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Acceptance 3: SIGTERM lets an in-flight stream finish and loses no usage,
// including requests that finished just before the signal.
func TestSIGTERMLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	m := newMockOpenAI(t)
	m.chunks = 10
	m.chunkDelay = 100 * time.Millisecond
	dir := t.TempDir()
	p := startProc(t, dir, "")
	g := p.gw()
	g.addChannel(m, "test-model")
	g.setPrices()
	uid, access := g.newUser("iris", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})

	// A stream in flight when SIGTERM arrives.
	req, _ := http.NewRequestWithContext(context.Background(), "POST", g.base+"/v1/chat/completions",
		strings.NewReader(`{"model":"test-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-"+tok.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() {
		t.Fatal("no first event")
	}
	// Non-stream requests finishing right before the signal.
	const n = 10
	for i := 0; i < n; i++ {
		if r, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`); r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, body)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(rest), "data: [DONE]") {
		t.Fatalf("the in-flight stream was cut by shutdown: %q", rest)
	}
	select {
	case err := <-p.exit:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("process did not exit after SIGTERM")
	}

	p = startProc(t, dir, "")
	g = p.gw()
	streamQ := int64(float64(12+10*2) * 1.5) // 10 chunks, usage chunk on
	want := int64(n*chatCharge) + streamQ
	if u := g.user(uid); u.UsedQuota != want || u.RequestCount != n+1 {
		t.Fatalf("after SIGTERM and restart: %+v, want used %d over %d requests\n%s", u, want, n+1, p.out.String())
	}
	if s := g.statQuota(fmt.Sprintf("username=%s", "iris")); s != want {
		t.Fatalf("log stat %d, want %d", s, want)
	}
}
