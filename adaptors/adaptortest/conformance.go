package adaptortest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

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
	t.Run("tool_stream", func(t *testing.T) { checkToolStream(t, c) })
	t.Run("tool_response", func(t *testing.T) { checkToolResponse(t, c) })
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

// build describes the upstream call as the transport would ask for it:
// SocketRequest for an adaptor that speaks over a WebSocket, BuildRequest
// otherwise.
func build(c Case, ch *adaptors.Channel, req *adaptors.Request) error {
	if sd, ok := c.Adaptor.(adaptors.SocketDialer); ok {
		_, err := sd.SocketRequest(ch, req, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		return err
	}
	_, err := c.Adaptor.BuildRequest(ch, req)
	return err
}

// checkSocket: a WebSocket call has a ws:// or wss:// URL and JSON frames.
func checkSocket(t *testing.T, c Case, sd adaptors.SocketDialer) {
	for _, stream := range []bool{false, true} {
		ch := c.Channel
		sc, err := sd.SocketRequest(&ch, chatRequest(c, stream, false), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		if err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		if !strings.HasPrefix(sc.URL, "wss://") && !strings.HasPrefix(sc.URL, "ws://") {
			t.Errorf("stream=%v: not a WebSocket URL: %q", stream, sc.URL)
		}
		if len(sc.Frames) == 0 {
			t.Errorf("stream=%v: no frame to send", stream)
		}
		for _, f := range sc.Frames {
			if !sonic.Valid(f) {
				t.Errorf("stream=%v: frame is not JSON: %s", stream, f)
			}
		}
		if h := c.Fixtures.AuthHeader; h != "" && !hasHeaderContaining(sc.Header, h, ch.Key) {
			t.Errorf("stream=%v: no %s header carrying the key in %v", stream, h, sc.Header)
		}
	}
}

func checkBuild(t *testing.T, c Case) {
	if sd, ok := c.Adaptor.(adaptors.SocketDialer); ok {
		checkSocket(t, c, sd)
		return
	}
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
	switch {
	case c.Fixtures.NoStreamUsage && last != nil:
		t.Errorf("usage invented for a stream that reports none: %+v", *last)
	case c.Fixtures.NoStreamUsage:
	case last == nil:
		t.Fatal("upstream usage not reported")
	default:
		if diff := cmp.Diff(c.Fixtures.StreamUsage, *last); diff != "" {
			t.Errorf("usage (-want +got):\n%s", diff)
		}
	}
	if text == 0 {
		t.Error("TextBytes never counted any text")
	}
	if fr := finishReasons(t, evs); len(fr) == 0 {
		t.Error("no chunk carried a finish_reason")
	}
}

// chunk is the part of a chat.completion.chunk the checks look at.
type chunk struct {
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			ToolCalls []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

func parseChunks(t *testing.T, evs []adaptors.StreamEvent) []chunk {
	t.Helper()
	var out []chunk
	for _, ev := range evs {
		if ev.Data == nil {
			continue
		}
		var c chunk
		if err := sonic.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("client event is not a chat.completion.chunk: %v: %s", err, ev.Data)
		}
		out = append(out, c)
	}
	return out
}

func finishReasons(t *testing.T, evs []adaptors.StreamEvent) []string {
	var out []string
	for _, c := range parseChunks(t, evs) {
		for _, ch := range c.Choices {
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				out = append(out, *ch.FinishReason)
			}
		}
	}
	return out
}

// checkToolStream: a streamed tool call reaches the client as OpenAI
// sends it — each call has an index; its first chunk carries the id, the
// type and the function name; later chunks of the same index carry no
// other id; the arguments joined are valid JSON; the stream finishes with
// "tool_calls".
// checkNoTools: a provider without tool calling refuses a request with
// tools as a bad request instead of silently dropping them.
func checkNoTools(t *testing.T, c Case) {
	for _, stream := range []bool{false, true} {
		ch := c.Channel
		err := build(c, &ch, toolRequest(c, stream))
		if !errors.Is(err, adaptors.ErrInvalidBody) {
			t.Errorf("stream=%v: a request with tools gave %v, want adaptors.ErrInvalidBody", stream, err)
		}
	}
}

func checkToolStream(t *testing.T, c Case) {
	if c.Fixtures.NoTools {
		checkNoTools(t, c)
		return
	}
	if len(c.Fixtures.ToolStream) == 0 {
		t.Fatal("no ToolStream fixture: every provider must show a streamed tool call")
	}
	d := c.Adaptor.NewStreamDecoder(toolRequest(c, true), bytes.NewReader(c.Fixtures.ToolStream))
	evs, err := Drain(t, d)
	if err != io.EOF {
		t.Fatalf("tool stream ended with %v, want io.EOF", err)
	}
	ids := map[int]string{}
	args := map[int]string{}
	for _, ch := range parseChunks(t, evs) {
		for _, choice := range ch.Choices {
			for _, tc := range choice.Delta.ToolCalls {
				if tc.Index == nil {
					t.Fatalf("tool call without an index")
				}
				i := *tc.Index
				id, seen := ids[i]
				switch {
				case !seen && (tc.ID == "" || tc.Function.Name == "" || tc.Type != "function"):
					t.Errorf("first chunk of tool call %d lacks id, type or name: %+v", i, tc)
				case seen && tc.ID != "" && tc.ID != id:
					t.Errorf("tool call %d changed id from %q to %q", i, id, tc.ID)
				}
				if !seen {
					ids[i] = tc.ID
				}
				args[i] += tc.Function.Arguments
			}
		}
	}
	if len(ids) == 0 {
		t.Fatal("no tool call reached the client")
	}
	distinct := map[string]bool{}
	for i, id := range ids {
		if distinct[id] {
			t.Errorf("tool calls share the id %q", id)
		}
		distinct[id] = true
		if !sonic.ValidString(args[i]) {
			t.Errorf("tool call %d arguments are not JSON: %q", i, args[i])
		}
	}
	fr := finishReasons(t, evs)
	if len(fr) == 0 || fr[len(fr)-1] != "tool_calls" {
		t.Errorf("finish reasons %v, want the last to be tool_calls", fr)
	}
}

// checkToolResponse: a tool call not streamed comes back as OpenAI's
// message.tool_calls with ids, JSON arguments and finish_reason
// "tool_calls".
func checkToolResponse(t *testing.T, c Case) {
	if c.Fixtures.NoTools {
		return // checkNoTools (tool_stream) covers it
	}
	if len(c.Fixtures.ToolResponse) == 0 {
		t.Fatal("no ToolResponse fixture: every provider must show a tool call")
	}
	resp, err := c.Adaptor.ParseResponse(toolRequest(c, false), c.Fixtures.ToolResponse)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Choices []struct {
			Message struct {
				Role      string `json:"role"`
				ToolCalls []struct {
					ID       string `json:"id"`
					Type     string `json:"type"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := sonic.Unmarshal(resp.Body, &v); err != nil || len(v.Choices) == 0 {
		t.Fatalf("client body: %v: %s", err, resp.Body)
	}
	ch := v.Choices[0]
	if ch.FinishReason != "tool_calls" || ch.Message.Role != "assistant" || len(ch.Message.ToolCalls) == 0 {
		t.Fatalf("want an assistant message with tool calls and finish_reason tool_calls: %s", resp.Body)
	}
	for _, tc := range ch.Message.ToolCalls {
		if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" || !sonic.ValidString(tc.Function.Arguments) {
			t.Errorf("bad tool call %+v", tc)
		}
	}
	if resp.Usage == nil {
		t.Error("usage not extracted")
	}
}

func toolRequest(c Case, stream bool) *adaptors.Request {
	body := `{"model":"` + c.Model + `","messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",` +
		`"parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]`
	if stream {
		body += `,"stream":true`
	}
	body += `}`
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: c.Model, OriginModel: c.Model, Body: []byte(body), Stream: stream, IncludeUsage: true}
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
		if c.Fixtures.NoStreamUsage {
			if usageSeen || shown {
				t.Errorf("include_usage=%v: usage invented for a stream that reports none", include)
			}
			continue
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
		if want := c.Fixtures.ErrorMessages[status]; want != "" && !strings.Contains(e.Message, want) {
			t.Errorf("%d: message %q does not carry the provider's %q", status, e.Message, want)
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
				if err := build(c, &ch, chatRequest(c, true, false)); err != nil {
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
