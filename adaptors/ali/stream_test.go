package ali

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

func TestStreamGolden(t *testing.T) {
	tests := []struct {
		name         string // golden under testdata/stream
		file         string
		model        string
		includeUsage bool
	}{
		{"text", "text.sse", "qwen-plus", true},
		{"text_hidden_usage", "text.sse", "qwen-plus", false},
		{"reasoning", "reasoning.sse", "qwq-plus", true},
		{"tool_call", "tool_call.sse", "qwen-plus", true},
		{"multimodal", "multimodal.sse", "qwen-vl-max", false},
		{"length", "length.sse", "qwen-plus", true},
		{"error_event", "error_event.sse", "qwen-plus", true},
		{"data_inspection", "data_inspection.sse", "qwen-plus", true},
		{"truncated", "truncated.sse", "qwen-plus", true},
		{"compat", "compat.sse", "qwen-plus", true},
		{"compat_hidden_usage", "compat.sse", "qwen-plus", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatReq(tt.model, true, "")
			req.IncludeUsage = tt.includeUsage
			body := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			got := renderStream(t, New().NewStreamDecoder(req, bytes.NewReader(body)))
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", got, *update)
		})
	}
}

// TestStreamUsageBilledOnce: DashScope reports cumulative usage in every
// event; the figures the gateway ends with are the last event's, not a
// sum, and the usage-only chunk (when shown) repeats them.
func TestStreamUsageBilledOnce(t *testing.T) {
	req := chatReq("qwen-plus", true, "")
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(req, bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/text.sse"))))
	if err != io.EOF {
		t.Fatal(err)
	}
	var last *adaptors.Usage
	sum := adaptors.Usage{}
	reports := 0
	for _, ev := range evs {
		if ev.Usage != nil {
			last = ev.Usage
			sum.CompletionTokens += ev.Usage.CompletionTokens
			reports++
		}
	}
	want := adaptors.Usage{PromptTokens: 22, CompletionTokens: 11, TotalTokens: 33, CachedTokens: 16}
	if last == nil || *last != want {
		t.Fatalf("last usage %+v, want %+v", last, want)
	}
	if reports < 2 || sum.CompletionTokens == want.CompletionTokens {
		t.Fatalf("fixture should report cumulative usage several times (reports %d)", reports)
	}
	final := evs[len(evs)-1]
	if final.Usage == nil || *final.Usage != want || !bytes.Contains(final.Data, []byte(`"usage":{"prompt_tokens":22,"completion_tokens":11,"total_tokens":33,"prompt_tokens_details":{"cached_tokens":16}}`)) {
		t.Errorf("final event %+v %s", final.Usage, final.Data)
	}
}

// TestStreamEndsAtFinish: nothing after the finishing event is read or
// emitted, and io.EOF is sticky.
func TestStreamEndsAtFinish(t *testing.T) {
	body := append(adaptortest.ReadFile(t, "testdata/stream/text.sse"), adaptortest.ReadFile(t, "testdata/stream/trailer.sse")...)
	body = append(body, "garbage that would fail\n\n"...)
	d := New().NewStreamDecoder(chatReq("qwen-plus", true, ""), bytes.NewReader(body))
	evs, err := adaptortest.Drain(t, d)
	if err != io.EOF {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if bytes.Contains(ev.Data, []byte("LEAK")) {
			t.Errorf("leaked %s", ev.Data)
		}
		if ev.Usage != nil && ev.Usage.CompletionTokens > 11 {
			t.Errorf("usage after the end: %+v", ev.Usage)
		}
	}
	for range 3 {
		if _, err := d.Next(); err != io.EOF {
			t.Fatalf("Next after the end: %v", err)
		}
	}
}

// TestStreamErrors: error events are *schema.Error with the code's
// status; garbage and read failures are other errors; every error is
// sticky.
func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int // 0: not a *schema.Error
	}{
		{"error event", "event:error\ndata:{\"code\":\"Throttling.RateQuota\",\"message\":\"Requests rate limit exceeded\"}\n\n", 429},
		{"code in a result event", "event:result\ndata:{\"code\":\"Arrearage\",\"message\":\"Access denied\",\"request_id\":\"r\"}\n\n", 402},
		{"error event without code", "event:error\ndata:{}\n\n", 500},
		{"not JSON", "event:result\ndata:hello\n\n", 0},
		{"broken JSON", "event:result\ndata:{\"output\":\n\n", 0},
		{"trailing garbage", "event:result\ndata:{\"output\":{}} x\n\n", 0},
		{"empty", "", 0},
		{"JSON error body", `{"code":"InvalidParameter","message":"url error, please check url!","request_id":"ffbb90bf"}`, 400},
		{"compatible-mode error body", `{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}`, 401},
		{"other JSON body", `{"hello":"world"}`, 0},
		{"only comments", ":HTTP_STATUS/200\n\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New().NewStreamDecoder(chatReq("qwen-plus", true, ""), strings.NewReader(tt.body))
			_, err := adaptortest.Drain(t, d)
			var se *schema.Error
			switch {
			case err == nil || err == io.EOF:
				t.Fatalf("end %v", err)
			case tt.status != 0 && (!errors.As(err, &se) || se.Status != tt.status || se.Message == ""):
				t.Errorf("err %v, want a *schema.Error %d", err, tt.status)
			case tt.status == 0 && errors.As(err, &se):
				t.Errorf("err %v is a *schema.Error", err)
			}
			if _, again := d.Next(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
	// A read failure surfaces as such (not as an upstream error).
	boom := errors.New("connection reset")
	text := adaptortest.ReadFile(t, "testdata/stream/text.sse")
	d := New().NewStreamDecoder(chatReq("qwen-plus", true, ""), io.MultiReader(bytes.NewReader(text[:300]), iotest.ErrReader(boom)))
	if _, err := adaptortest.Drain(t, d); !errors.Is(err, boom) {
		t.Errorf("read failure: %v", err)
	}
	d = New().NewStreamDecoder(chatReq("qwen-plus", true, ""), iotest.ErrReader(boom))
	if _, err := adaptortest.Drain(t, d); !errors.Is(err, boom) {
		t.Errorf("read failure at once: %v", err)
	}
}

// TestStreamOneByteReads: the sniffing and the decoding survive a body
// that arrives a byte at a time.
func TestStreamOneByteReads(t *testing.T) {
	for _, file := range []string{"text.sse", "compat.sse", "tool_call.sse"} {
		body := adaptortest.ReadFile(t, "testdata/stream/"+file)
		want := renderStream(t, New().NewStreamDecoder(chatReq("qwen-plus", true, ""), bytes.NewReader(body)))
		got := renderStream(t, New().NewStreamDecoder(chatReq("qwen-plus", true, ""), iotest.OneByteReader(bytes.NewReader(body))))
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-whole +bytewise):\n%s", file, diff)
		}
	}
}

// TestStreamToolCallFragments: ids repeated on every fragment, fragments
// without index and a call without id all come out as OpenAI's.
func TestStreamToolCallFragments(t *testing.T) {
	ev := func(calls, finish string) string {
		return "event:result\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"\",\"tool_calls\":" + calls +
			"},\"finish_reason\":\"" + finish + "\"}]},\"request_id\":\"r1\"}\n\n"
	}
	body := ev(`[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"x\""}}]`, "null") +
		ev(`[{"index":0,"id":"call_a","type":"function","function":{"arguments":":1}"}}]`, "null") +
		ev(`[{"type":"function","function":{"name":"g","arguments":""}}]`, "null") +
		ev(`[{"function":{"arguments":"{}"}}]`, "null") +
		ev(`[]`, "stop")
	got := renderStream(t, New().NewStreamDecoder(chatReq("qwen-plus", true, ""), strings.NewReader(body)))
	want := `data: {"id":"chatcmpl-r1","object":"chat.completion.chunk","created":1735113344,"model":"qwen-plus","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}
data: {"id":"chatcmpl-r1","object":"chat.completion.chunk","created":1735113344,"model":"qwen-plus","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\""}}]},"finish_reason":null}]}
  text_bytes: 4
data: {"id":"chatcmpl-r1","object":"chat.completion.chunk","created":1735113344,"model":"qwen-plus","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":null}]}
  text_bytes: 3
data: {"id":"chatcmpl-r1","object":"chat.completion.chunk","created":1735113344,"model":"qwen-plus","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_0_1_chatcmpl-r1","type":"function","function":{"name":"g","arguments":""}}]},"finish_reason":null}]}
data: {"id":"chatcmpl-r1","object":"chat.completion.chunk","created":1735113344,"model":"qwen-plus","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":null}]}
  text_bytes: 2
data: {"id":"chatcmpl-r1","object":"chat.completion.chunk","created":1735113344,"model":"qwen-plus","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
end: EOF
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Byte by byte, the reader's buffer is reused under the ids the
	// decoder keeps: it must keep copies.
	got = renderStream(t, New().NewStreamDecoder(chatReq("qwen-plus", true, ""), iotest.OneByteReader(strings.NewReader(body))))
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("byte by byte (-want +got):\n%s", diff)
	}
}

// TestSniffLine: how the first lines of a stream tell the APIs apart.
func TestSniffLine(t *testing.T) {
	tests := []struct {
		line            string
		native, decided bool
	}{
		{"", true, false},
		{":HTTP_STATUS/200", true, false},
		{"id:1", true, false},
		{"event:result", true, true},
		{"event: error", true, true},
		{"event:message", true, false},
		{`data:{"output":{}}`, true, true},
		{`data: {"code":"x"}`, true, true},
		{`data: {"choices":[],"object":"chat.completion.chunk"}`, false, true},
		{`data: {"error":{"message":"x"}}`, false, true},
		{"data: [DONE]", false, true},
		{"data: hello", true, true},
		{`data: {"other":1}`, true, true},
	}
	for _, tt := range tests {
		native, decided := sniffLine([]byte(tt.line))
		if native != tt.native || decided != tt.decided {
			t.Errorf("%q: native=%v decided=%v", tt.line, native, decided)
		}
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       `"plain"`,
		"q\"b\\":      `"q\"b\\"`,
		"\n\r\t\x01":  `"\n\r\t\u0001"`,
		"é→😀":         `"é→😀"`,
		"bad\xffutf8": `"bad\ufffdutf8"`,
		"":            `""`,
	} {
		if got := string(openaiwire.AppendString(nil, in)); got != want {
			t.Errorf("openaiwire.AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}
