package bareproxy_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"

	"switchyard/bench/bareproxy"
	"switchyard/bench/loadgen"
	"switchyard/bench/mockupstream"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func run(t *testing.T, h *server.Hertz) {
	t.Helper()
	go h.Run() //nolint:errcheck
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
}

// TestEndToEnd drives loadgen against the mock directly and through the bare
// proxy, checking counts, not timings: every run is bounded by a request
// count far below what the (generous) duration bound allows.
func TestEndToEnd(t *testing.T) {
	hlog.SetLevel(hlog.LevelFatal)
	const chunks = 5
	mock := mockupstream.New(mockupstream.Config{Chunks: chunks})
	mln := listen(t)
	run(t, mock.NewServer(mln.Addr().String(), server.WithListener(mln)))

	p, err := bareproxy.New("http://" + mln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	pln := listen(t)
	run(t, p.NewServer(pln.Addr().String(), server.WithListener(pln)))

	for _, target := range []string{mln.Addr().String(), pln.Addr().String()} {
		for _, stream := range []bool{false, true} {
			before := mock.Stats().Requests
			const n = 300
			res, err := loadgen.Run(t.Context(), loadgen.Config{
				URL: "http://" + target + "/v1/chat/completions", Conns: 4,
				Duration: time.Minute, MaxRequests: n, Stream: stream, Auth: "Bearer sk-test",
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Stopped != "max_requests" || res.Requests != n || res.TotalRequests != n ||
				res.Non2xx+res.TransportErrors+res.BadBody != 0 {
				t.Fatalf("%s stream=%v: %+v", target, stream, res)
			}
			if got := mock.Stats().Requests - before; got != n {
				t.Errorf("%s stream=%v: upstream saw %d requests, client sent %d", target, stream, got, n)
			}
			if stream && res.EventsPerStream != chunks+2 { // chunks + usage + [DONE]
				t.Errorf("%s: %.2f events per stream, want %d", target, res.EventsPerStream, chunks+2)
			}
			if res.LatencyMS.P50 <= 0 || res.LatencyMS.P99 < res.LatencyMS.P50 || res.LatencyMS.Max < res.LatencyMS.P99 {
				t.Errorf("%s: inconsistent latency summary %+v", target, res.LatencyMS)
			}
		}
	}

	// A non-stream request whose body is not a chat answer counts as bad.
	res, err := loadgen.Run(t.Context(), loadgen.Config{
		URL: "http://" + pln.Addr().String() + "/v1/embeddings", Conns: 1,
		Duration: time.Minute, MaxRequests: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.BadBody != 3 || res.Requests != 0 {
		t.Errorf("embeddings without -expect: %+v", res)
	}
	// Unknown path: the mock answers 404, relayed by the proxy.
	res, err = loadgen.Run(t.Context(), loadgen.Config{
		URL: "http://" + pln.Addr().String() + "/v1/nope", Conns: 1, Duration: time.Minute, MaxRequests: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Non2xx != 2 || res.StatusCodes[404] != 2 {
		t.Errorf("404 path: %+v", res)
	}
}

// TestClientAbortClosesUpstream checks that a client leaving mid-stream makes
// the proxy force-close its upstream stream, so the mock stops sending. The
// mock stream would run for 10 s; the test only waits until the mock
// reports the abort (or fails after a generous bound).
func TestClientAbortClosesUpstream(t *testing.T) {
	hlog.SetLevel(hlog.LevelFatal)
	mock := mockupstream.New(mockupstream.Config{Chunks: 500, ChunkDelay: 20 * time.Millisecond})
	mln := listen(t)
	run(t, mock.NewServer(mln.Addr().String(), server.WithListener(mln)))
	p, err := bareproxy.New("http://" + mln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	pln := listen(t)
	run(t, p.NewServer(pln.Addr().String(), server.WithListener(pln)))

	conn, err := net.Dial("tcp", pln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := loadgen.ParseTarget("http://" + pln.Addr().String() + "/v1/chat/completions")
	if _, err := conn.Write(loadgen.BuildRequest(tg, "POST", []byte(loadgen.DefaultStreamBody), "", true)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var got []byte
	for !strings.Contains(string(got), "data: ") {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	conn.Close()

	deadline := time.Now().Add(8 * time.Second)
	for mock.Stats().Aborted == 0 {
		if time.Now().After(deadline) {
			t.Fatal("upstream stream was not aborted after the client left")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
