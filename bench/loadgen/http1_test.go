package loadgen

import (
	"bufio"
	"strings"
	"testing"
)

func parse(t *testing.T, raw string) (response, error) {
	t.Helper()
	r := bufio.NewReaderSize(strings.NewReader(raw), 64)
	res, _, err := readResponse(r, nil)
	return res, err
}

func TestReadResponseContentLength(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Type: application/json\r\n\r\nhelloHTTP/1.1 ..."
	res, err := parse(t, raw)
	if err != nil || res.status != 200 || !res.keepAlive || string(res.body) != "hello" {
		t.Fatalf("got %+v %v", res, err)
	}
}

func TestReadResponseChunked(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
		"7\r\ndata: a\r\n2;ext=1\r\n\n\n\r\n" + "e\r\ndata: [DONE]\n\n\r\n" + "0\r\nX-Trailer: 1\r\n\r\n"
	res, err := parse(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	if res.keepAlive {
		t.Error("Connection: close not honoured")
	}
	if string(res.body) != "data: a\n\ndata: [DONE]\n\n" {
		t.Errorf("body %q", res.body)
	}
	ev, done := sseStats(res.body)
	if ev != 2 || !done {
		t.Errorf("sseStats = %d %v", ev, done)
	}
}

func TestReadResponseUntilClose(t *testing.T) {
	res, err := parse(t, "HTTP/1.0 503 Service Unavailable\r\n\r\nbusy")
	if err != nil || res.status != 503 || res.keepAlive || string(res.body) != "busy" {
		t.Fatalf("got %+v %v", res, err)
	}
}

func TestReadResponseTruncated(t *testing.T) {
	for _, raw := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"garbage\r\n\r\n",
	} {
		if _, err := parse(t, raw); err == nil {
			t.Errorf("no error for %q", raw)
		}
	}
}

func TestSSEStats(t *testing.T) {
	ev, done := sseStats([]byte("data: {}\n\ndata: {}\n\n: comment\n\ndata: [DONE]\n\n"))
	if ev != 3 || !done {
		t.Errorf("got %d %v", ev, done)
	}
	if _, done := sseStats([]byte("data: {}\n\ndata: [DONE]\n\ndata: {}\n\n")); done {
		t.Error("[DONE] must be the last event")
	}
}

func TestParseTarget(t *testing.T) {
	ok := []string{"http://127.0.0.1:80/v1/x", "http://127.3.2.1:9/", "http://localhost:8080/a?b=c", "http://[::1]:8080/"}
	for _, u := range ok {
		if _, err := ParseTarget(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	bad := []string{"http://10.0.0.1/", "http://192.168.1.2:80/", "http://8.8.8.8/", "http://example.com/", "https://127.0.0.1/", "http://0.0.0.0:80/"}
	for _, u := range bad {
		if _, err := ParseTarget(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	tg, _ := ParseTarget("http://localhost:8080/a?b=c")
	if tg.Addr != "127.0.0.1:8080" || tg.Path != "/a?b=c" || tg.Host != "localhost:8080" {
		t.Errorf("target %+v", tg)
	}
}

func TestRunRefusesUnbounded(t *testing.T) {
	base := Config{URL: "http://127.0.0.1:1/", Conns: 1, Duration: 1, MaxRequests: 1}
	for _, mod := range []func(*Config){
		func(c *Config) { c.MaxRequests = 0 },
		func(c *Config) { c.Duration = 0 },
		func(c *Config) { c.Conns = 0 },
		func(c *Config) { c.URL = "http://10.1.1.1:80/" },
	} {
		c := base
		mod(&c)
		if _, err := Run(t.Context(), c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

func TestBodySizes(t *testing.T) {
	if n := len(DefaultChatBody); n < 190 || n > 230 {
		t.Errorf("chat body is %d bytes, want about 210", n)
	}
}
