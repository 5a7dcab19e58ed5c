package adaptortest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
)

// Case is one provider row under test.
type Case struct {
	Adaptor  adaptors.Adaptor
	Channel  adaptors.Channel // BaseURL set when the row has no default
	Model    string           // a model the row serves
	Fixtures Fixtures
}

// maxEvents bounds every drain, so a decoder that never ends fails the
// test instead of hanging it.
const maxEvents = 100000

// Run checks the contract every adaptor must keep, whatever its wire
// format: requests are well formed and authenticated; a stream ends with
// io.EOF at its terminator and nothing after it leaks; usage is reported
// when the upstream sent it and the usage-only chunk is shown only to
// clients that asked; a TypedResponseParser agrees with ParseResponse on
// JSON answers; error bodies map to non-empty OpenAI errors with the
// upstream status; truncated and garbage input never panics or hangs; and
// the adaptor is safe for concurrent use (run with -race).
func Run(t *testing.T, c Case) {
	t.Helper()
	t.Run("build", func(t *testing.T) { checkBuild(t, c) })
	t.Run("stream_end", func(t *testing.T) { checkStreamEnd(t, c) })
	t.Run("stream_usage_visibility", func(t *testing.T) { checkUsageVisibility(t, c) })
	t.Run("response", func(t *testing.T) { checkResponse(t, c) })
	t.Run("errors", func(t *testing.T) { checkErrors(t, c) })
	t.Run("robustness", func(t *testing.T) { checkRobustness(t, c) })
	t.Run("concurrency", func(t *testing.T) { checkConcurrency(t, c) })
}

func chatRequest(c Case, stream, includeUsage bool) *adaptors.Request {
	body := `{"model":"` + c.Model + `","messages":[{"role":"user","content":"Hello!"}]`
	if stream {
		body += `,"stream":true`
	}
	body += `}`
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: c.Model, OriginModel: c.Model, Body: []byte(body), Stream: stream, IncludeUsage: includeUsage}
}

func checkBuild(t *testing.T, c Case) {
	for _, stream := range []bool{false, true} {
		ch := c.Channel
		r, err := c.Adaptor.BuildRequest(&ch, chatRequest(c, stream, false))
		if err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		if r.Method == "" || !(strings.HasPrefix(r.URL, "https://") || strings.HasPrefix(r.URL, "http://")) {
			t.Errorf("stream=%v: bad method/URL %q %q", stream, r.Method, r.URL)
		}
		if !sonic.Valid(r.Body) {
			t.Errorf("stream=%v: body is not JSON: %s", stream, r.Body)
		}
		if h := c.Fixtures.AuthHeader; h != "" && !hasHeaderContaining(r.Header, h, ch.Key) {
			t.Errorf("stream=%v: no %s header carrying the key in %v", stream, h, r.Header)
		}
	}
}

func hasHeaderContaining(hs []adaptors.Header, key, sub string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Key, key) && strings.Contains(h.Value, sub) {
			return true
		}
	}
	return false
}

// Drain reads d to its end (bounded) and returns the events and the final
// error. Data slices are copied so they stay valid.
func Drain(t testing.TB, d adaptors.StreamDecoder) ([]adaptors.StreamEvent, error) {
	t.Helper()
	var evs []adaptors.StreamEvent
	for range maxEvents {
		ev, err := d.Next()
		if err != nil {
			return evs, err
		}
		if ev.Data != nil {
			ev.Data = bytes.Clone(ev.Data)
		}
		evs = append(evs, ev)
	}
	t.Fatalf("decoder did not end after %d events", maxEvents)
	return nil, nil
}

func checkStreamEnd(t *testing.T, c Case) {
	trailer := c.Fixtures.Trailer
	if len(trailer) == 0 {
		trailer = []byte("data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"LEAK\"}}]}\n\n")
	}
	body := append(bytes.Clone(c.Fixtures.Stream), trailer...)
	d := c.Adaptor.NewStreamDecoder(chatRequest(c, true, true), bytes.NewReader(body))
	evs, err := Drain(t, d)
	if err != io.EOF {
		t.Fatalf("stream ended with %v, want io.EOF", err)
	}
	if _, again := d.Next(); again != io.EOF {
		t.Errorf("Next after the end = %v, want io.EOF again", again)
	}
	var last *adaptors.Usage
	text := 0
	for _, ev := range evs {
		if bytes.Contains(ev.Data, []byte("LEAK")) {
			t.Errorf("data after the terminator reached the client: %s", ev.Data)
		}
		if ev.Usage != nil {
			last = ev.Usage
		}
		if ev.TextBytes < 0 {
			t.Errorf("negative TextBytes")
		}
		text += ev.TextBytes
	}
	if last == nil {
		t.Fatal("upstream usage not reported")
	}
	if diff := cmp.Diff(c.Fixtures.StreamUsage, *last); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if text == 0 {
		t.Error("TextBytes never counted any text")
	}
}

// isUsageOnlyChunk reports whether a client payload is OpenAI's final
// usage chunk (choices empty, usage non-null).
func isUsageOnlyChunk(data []byte) bool {
	var v struct {
		Choices []sonic.NoCopyRawMessage `json:"choices"`
		Usage   sonic.NoCopyRawMessage   `json:"usage"`
	}
	if sonic.Unmarshal(data, &v) != nil {
		return false
	}
	return len(v.Choices) == 0 && len(v.Usage) > 0 && string(v.Usage) != "null"
}

func checkUsageVisibility(t *testing.T, c Case) {
	for _, include := range []bool{false, true} {
		d := c.Adaptor.NewStreamDecoder(chatRequest(c, true, include), bytes.NewReader(c.Fixtures.Stream))
		evs, err := Drain(t, d)
		if err != io.EOF {
			t.Fatalf("include_usage=%v: end %v", include, err)
		}
		shown, usageSeen := false, false
		for _, ev := range evs {
			if ev.Usage != nil {
				usageSeen = true
			}
			if ev.Data != nil && isUsageOnlyChunk(ev.Data) {
				shown = true
			}
		}
		if !usageSeen {
			t.Errorf("include_usage=%v: gateway did not get the usage", include)
		}
		if shown != include {
			t.Errorf("include_usage=%v: usage chunk shown to client = %v", include, shown)
		}
	}
}

func checkResponse(t *testing.T, c Case) {
	resp, err := c.Adaptor.ParseResponse(chatRequest(c, false, false), c.Fixtures.Response)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage == nil {
		t.Fatal("usage not extracted")
	}
	if diff := cmp.Diff(c.Fixtures.ResponseUsage, *resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if !sonic.Valid(resp.Body) {
		t.Errorf("client body is not JSON")
	}
	if tp, ok := c.Adaptor.(adaptors.TypedResponseParser); ok {
		// The transport prefers the typed parser when present; for a JSON
		// answer it must agree with ParseResponse.
		typed, err := tp.ParseTypedResponse(chatRequest(c, false, false), "application/json", c.Fixtures.Response)
		if err != nil {
			t.Fatalf("typed: %v", err)
		}
		if diff := cmp.Diff(resp, typed); diff != "" {
			t.Errorf("ParseTypedResponse differs from ParseResponse (-untyped +typed):\n%s", diff)
		}
	}
	for _, bad := range []string{"", "<html><body>502</body></html>", `{"id":"x","choices":[`} {
		if _, err := c.Adaptor.ParseResponse(chatRequest(c, false, false), []byte(bad)); err == nil {
			t.Errorf("invalid 2xx body %q accepted", bad)
		}
	}
}

func checkErrors(t *testing.T, c Case) {
	bodies := map[int][]byte{
		500: []byte("<html><head><title>500 Internal Server Error</title></head></html>"),
		502: nil,
		503: []byte("upstream connect error or disconnect/reset before headers"),
		504: {0xff, 0x00, '{', '"'},
	}
	for status, b := range c.Fixtures.Errors {
		bodies[status] = b
	}
	for status, body := range bodies {
		e := c.Adaptor.ParseError(status, body)
		if e == nil {
			t.Fatalf("%d: nil error", status)
		}
		if e.Status != status || e.Message == "" || e.Type == "" {
			t.Errorf("%d: got %+v", status, *e)
		}
	}
}

func checkRobustness(t *testing.T, c Case) {
	stream := c.Fixtures.Stream
	step := max(1, len(stream)/512)
	for cut := 0; cut <= len(stream); cut += step {
		for _, include := range []bool{false, true} {
			d := c.Adaptor.NewStreamDecoder(chatRequest(c, true, include), bytes.NewReader(stream[:cut]))
			if _, err := Drain(t, d); err == nil {
				t.Fatalf("cut %d: no end", cut)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2)) // fixed seed: reproducible
	for i := range 300 {
		var in []byte
		if i%2 == 0 {
			in = make([]byte, rng.IntN(2048))
			for j := range in {
				in[j] = byte(rng.UintN(256))
			}
		} else {
			in = bytes.Clone(stream)
			for range 1 + rng.IntN(8) {
				if len(in) > 0 {
					in[rng.IntN(len(in))] = byte(rng.UintN(256))
				}
			}
		}
		d := c.Adaptor.NewStreamDecoder(chatRequest(c, true, i%3 == 0), bytes.NewReader(in))
		if _, err := Drain(t, d); err == nil {
			t.Fatalf("garbage %d: no end", i)
		}
		_, _ = c.Adaptor.ParseResponse(chatRequest(c, false, false), in)
		if e := c.Adaptor.ParseError(400, in); e == nil || e.Message == "" {
			t.Fatalf("garbage %d: bad error %v", i, e)
		}
	}
}

func checkConcurrency(t *testing.T, c Case) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				ch := c.Channel
				if _, err := c.Adaptor.BuildRequest(&ch, chatRequest(c, true, false)); err != nil {
					errs <- err
					return
				}
				if _, err := c.Adaptor.ParseResponse(chatRequest(c, false, false), c.Fixtures.Response); err != nil {
					errs <- err
					return
				}
				d := c.Adaptor.NewStreamDecoder(chatRequest(c, true, false), bytes.NewReader(c.Fixtures.Stream))
				for {
					if _, err := d.Next(); err != nil {
						if !errors.Is(err, io.EOF) {
							errs <- err
						}
						break
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
