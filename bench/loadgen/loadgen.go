// Package loadgen is a closed-loop HTTP/1.1 load generator for loopback
// targets: N keep-alive connections, each sending one pre-encoded POST and
// reading the whole answer before sending the next. It is a small raw
// client (no net/http) so that the generator itself stays cheap on a 2-core
// machine it shares with the systems under test. Every run is bounded both
// in time and in request count, and only 127.0.0.0/8 (or ::1) targets are
// accepted.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultChatBody is a ~210-byte non-streamed chat request.
const DefaultChatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"You are being benchmarked. Please answer this short question about the weather in Paris in one friendly sentence, and keep it under fifty words, thanks."}]}`

// DefaultStreamBody is the streamed variant, asking for the usage chunk.
const DefaultStreamBody = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"You are being benchmarked. Please answer this short question about the weather in Paris in one friendly sentence, and keep it under fifty words, thanks."}]}`

// Limits that keep every run bounded.
const (
	MaxDuration = time.Hour
	MaxConns    = 10000
)

// Config describes one run.
type Config struct {
	URL         string        // http://127.x.x.x:port/path
	Conns       int           // concurrent keep-alive connections
	Duration    time.Duration // measured time (after Warmup); > 0
	Warmup      time.Duration // load sent first but not recorded
	MaxRequests int64         // hard cap on requests sent, warmup included; > 0
	Method      string        // default POST
	Body        []byte        // default DefaultChatBody / DefaultStreamBody
	Stream      bool          // expect an SSE body ending in data: [DONE]
	Auth        string        // Authorization header value, if any
	Expect      string        // substring a 2xx non-stream body must contain; default `"choices"`
	Timeout     time.Duration // grace after the end for in-flight requests; default 10 s
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Result is the JSON report of one run.
type Result struct {
	URL             string         `json:"url"`
	Conns           int            `json:"conns"`
	Stream          bool           `json:"stream"`
	DurationS       float64        `json:"duration_s"`     // measured window, wall clock
	Requests        uint64         `json:"requests"`       // successful requests in the measured window
	RPS             float64        `json:"rps"`            // Requests / DurationS
	TotalRequests   uint64         `json:"total_requests"` // every request sent (warmup and failures included)
	Non2xx          uint64         `json:"non2xx"`
	TransportErrors uint64         `json:"transport_errors"`
	BadBody         uint64         `json:"bad_body"` // 2xx with a truncated or unexpected body
	StatusCodes     map[int]uint64 `json:"status_codes,omitempty"`
	FirstError      string         `json:"first_error,omitempty"`
	LatencyMS       Latency        `json:"latency_ms"`
	EventsPerStream float64        `json:"events_per_stream,omitempty"`
	ClientCPUS      float64        `json:"client_cpu_s"` // loadgen's own user+system CPU
	Stopped         string         `json:"stopped"`      // "duration", "max_requests" or "cancelled"
}

// Target is a validated loopback target.
type Target struct {
	Addr string // ip:port to dial
	Host string // Host header
	Path string // path and query
}

// ParseTarget accepts only http:// URLs whose host is a loopback IP or
// "localhost".
func ParseTarget(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, err
	}
	if u.Scheme != "http" {
		return Target{}, fmt.Errorf("only http:// targets are supported, got %q", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	ip := net.ParseIP(host)
	if host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil || !ip.IsLoopback() {
		return Target{}, fmt.Errorf("refusing non-loopback target %q: only 127.0.0.0/8 and ::1 are allowed", host)
	}
	path := u.RequestURI()
	return Target{Addr: net.JoinHostPort(ip.String(), port), Host: u.Host, Path: path}, nil
}

func (c *Config) normalize() (Target, error) {
	t, err := ParseTarget(c.URL)
	if err != nil {
		return t, err
	}
	if c.Conns < 1 || c.Conns > MaxConns {
		return t, fmt.Errorf("conns must be in [1,%d]", MaxConns)
	}
	if c.Duration <= 0 || c.Duration+c.Warmup > MaxDuration {
		return t, fmt.Errorf("duration must be > 0 and warmup+duration <= %v", MaxDuration)
	}
	if c.MaxRequests <= 0 {
		return t, errors.New("max requests must be > 0 (every run is bounded in count)")
	}
	if c.Method == "" {
		c.Method = "POST"
	}
	if c.Body == nil {
		c.Body = []byte(DefaultChatBody)
		if c.Stream {
			c.Body = []byte(DefaultStreamBody)
		}
	}
	if c.Expect == "" && !c.Stream {
		c.Expect = `"choices"`
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	return t, nil
}

// BuildRequest returns the raw bytes of the request every connection sends.
func BuildRequest(t Target, method string, body []byte, auth string, stream bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: switchyard-bench\r\n", method, t.Path, t.Host)
	if stream {
		b.WriteString("Accept: text/event-stream\r\n")
	} else {
		b.WriteString("Accept: application/json\r\n")
	}
	if auth != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	}
	if len(body) > 0 || method == "POST" {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

type worker struct {
	hist                            Histogram
	ok, total, non2xx, terr, badBdy uint64
	events                          uint64
	streams                         uint64
	codes                           map[int]uint64
	firstErr                        string
}

func (w *worker) fail(msg string) {
	if w.firstErr == "" {
		w.firstErr = msg
	}
}

// Run executes one load run. It returns when the measured window is over
// (or MaxRequests were sent, or ctx is cancelled) and every in-flight
// request has finished or hit the grace timeout.
func Run(ctx context.Context, cfg Config) (Result, error) {
	tgt, err := cfg.normalize()
	if err != nil {
		return Result{}, err
	}
	req := BuildRequest(tgt, cfg.Method, cfg.Body, cfg.Auth, cfg.Stream)
	var cpu0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &cpu0)

	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	hard := end.Add(cfg.Timeout)
	var issued atomic.Int64
	var stopped atomic.Value
	stopped.Store("duration")
	var cancelled atomic.Bool
	stop := context.AfterFunc(ctx, func() { cancelled.Store(true); stopped.Store("cancelled") })
	defer stop()

	workers := make([]*worker, cfg.Conns)
	var lastDone atomic.Int64
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{codes: map[int]uint64{}}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, tgt, req, &cfg, measureFrom, end, hard, &issued, &cancelled, &stopped)
			now := time.Now().UnixNano()
			for {
				old := lastDone.Load()
				if now <= old || lastDone.CompareAndSwap(old, now) {
					break
				}
			}
		}()
	}
	wg.Wait()

	var res Result
	var hist Histogram
	codes := map[int]uint64{}
	var events, streams uint64
	for _, w := range workers {
		hist.Merge(&w.hist)
		res.Requests += w.ok
		res.TotalRequests += w.total
		res.Non2xx += w.non2xx
		res.TransportErrors += w.terr
		res.BadBody += w.badBdy
		events += w.events
		streams += w.streams
		for k, v := range w.codes {
			codes[k] += v
		}
		if res.FirstError == "" {
			res.FirstError = w.firstErr
		}
	}
	finish := time.Unix(0, lastDone.Load())
	window := finish.Sub(measureFrom)
	if window <= 0 {
		window = time.Since(measureFrom)
	}
	res.URL = cfg.URL
	res.Conns = cfg.Conns
	res.Stream = cfg.Stream
	res.DurationS = window.Seconds()
	if res.DurationS > 0 {
		res.RPS = float64(res.Requests) / res.DurationS
	}
	if len(codes) > 0 {
		res.StatusCodes = codes
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.LatencyMS = Latency{
		Min: ms(hist.Min()), Mean: ms(hist.Mean()), P50: ms(hist.Quantile(0.5)), P90: ms(hist.Quantile(0.9)),
		P99: ms(hist.Quantile(0.99)), P999: ms(hist.Quantile(0.999)), Max: ms(hist.Max()),
	}
	if streams > 0 {
		res.EventsPerStream = float64(events) / float64(streams)
	}
	var cpu1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &cpu1)
	res.ClientCPUS = tvSec(cpu1.Utime) + tvSec(cpu1.Stime) - tvSec(cpu0.Utime) - tvSec(cpu0.Stime)
	res.Stopped = stopped.Load().(string)
	return res, nil
}

func tvSec(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func (w *worker) loop(ctx context.Context, tgt Target, req []byte, cfg *Config, measureFrom, end, hard time.Time,
	issued *atomic.Int64, cancelled *atomic.Bool, stopped *atomic.Value) {
	var conn net.Conn
	var br *bufio.Reader
	var buf []byte
	closeConn := func() {
		if conn != nil {
			conn.Close()
			conn = nil
		}
	}
	defer closeConn()
	dialer := net.Dialer{Timeout: cfg.Timeout}
	expect := []byte(cfg.Expect)
	for {
		if cancelled.Load() || !time.Now().Before(end) {
			return
		}
		if issued.Add(1) > cfg.MaxRequests {
			stopped.Store("max_requests")
			return
		}
		if conn == nil {
			c, err := dialer.DialContext(ctx, "tcp", tgt.Addr)
			if err != nil {
				w.total++
				w.terr++
				w.fail("dial: " + err.Error())
				backoff(end)
				continue
			}
			_ = c.SetDeadline(hard)
			conn = c
			if br == nil {
				br = bufio.NewReaderSize(c, 32<<10)
			} else {
				br.Reset(c)
			}
		}
		t0 := time.Now()
		w.total++
		if _, err := conn.Write(req); err != nil {
			w.terr++
			w.fail("write: " + err.Error())
			closeConn()
			backoff(end)
			continue
		}
		res, nb, err := readResponse(br, buf)
		buf = nb
		lat := time.Since(t0)
		if err != nil {
			w.terr++
			w.fail("read: " + err.Error())
			closeConn()
			backoff(end)
			continue
		}
		if !res.keepAlive {
			closeConn()
		}
		if res.status < 200 || res.status > 299 {
			w.non2xx++
			w.codes[res.status]++
			w.fail("status " + strconv.Itoa(res.status) + ": " + truncate(string(res.body), 200))
			continue
		}
		if cfg.Stream {
			ev, done := sseStats(res.body)
			w.events += uint64(ev)
			w.streams++
			if !done {
				w.badBdy++
				w.fail("stream without final data: [DONE]: " + truncate(string(res.body), 200))
				continue
			}
		} else if len(expect) > 0 && !bytes.Contains(res.body, expect) {
			w.badBdy++
			w.fail("body without " + cfg.Expect + ": " + truncate(string(res.body), 200))
			continue
		}
		if !t0.Before(measureFrom) {
			w.ok++
			w.hist.Record(lat)
		}
	}
}

func backoff(end time.Time) {
	d := 10 * time.Millisecond
	if r := time.Until(end); r < d {
		d = max(r, 0)
	}
	time.Sleep(d)
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
