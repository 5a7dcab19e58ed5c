package ollama

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// renderStream prints decoded events for golden files.
func renderStream(evs []adaptors.StreamEvent, err error) []byte {
	var b strings.Builder
	for i, ev := range evs {
		data := "(hidden)"
		if ev.Data != nil {
			data = string(ev.Data)
		}
		fmt.Fprintf(&b, "#%d text=%d usage=%s\n  %s\n", i, ev.TextBytes, renderUsage(ev.Usage), data)
	}
	var se *schema.Error
	switch {
	case err == io.EOF:
		b.WriteString("end: io.EOF\n")
	case errors.As(err, &se):
		fmt.Fprintf(&b, "end: *schema.Error %+v\n", *se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		fmt.Fprintf(&b, "end: truncated (%v)\n", err)
	default:
		fmt.Fprintf(&b, "end: error %v\n", err)
	}
	return []byte(b.String())
}

func streamRequest(model string, includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Stream: true, IncludeUsage: includeUsage, Created: 1700000000}
}

func TestStreamGolden(t *testing.T) {
	a := New()
	tests := []struct {
		name         string
		file         string
		includeUsage bool
	}{
		{"chat_show_usage", "chat.ndjson", true},
		{"chat_hide_usage", "chat.ndjson", false},
		{"tool_call", "tool_call.ndjson", true},
		{"tool_calls_parallel", "tool_calls_parallel.ndjson", false},
		{"thinking", "thinking.ndjson", true},
		{"done_with_content", "done_with_content.ndjson", true},
		{"error", "error.ndjson", false},
		{"error_status", "error_status.ndjson", false},
		{"no_done", "no_done.ndjson", false},
		{"truncated_line", "truncated_line.ndjson", false},
		{"garbage", "garbage.ndjson", false},
		{"openai", "openai.sse", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			d := a.NewStreamDecoder(streamRequest("llama3.2", tt.includeUsage), bytes.NewReader(body))
			evs, err := adaptortest.Drain(t, d)
			for _, ev := range evs {
				if ev.Data != nil && !sonic.Valid(ev.Data) {
					t.Errorf("event is not JSON: %s", ev.Data)
				}
			}
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", renderStream(evs, err), *update)
			if _, again := d.Next(); again != err && !(errors.Is(again, err) && errors.Is(err, again)) {
				t.Errorf("Next after the end = %v, want the same %v", again, err)
			}
		})
	}
}

// TestStreamByteAtATime decodes every fixture with reads of one byte (and
// with reads that return data together with io.EOF), which must not
// change a single event.
func TestStreamByteAtATime(t *testing.T) {
	a := New()
	for _, file := range []string{"chat.ndjson", "tool_call.ndjson", "thinking.ndjson", "done_with_content.ndjson", "error.ndjson", "truncated_line.ndjson", "openai.sse"} {
		body := adaptortest.ReadFile(t, "testdata/stream/"+file)
		want, wantErr := adaptortest.Drain(t, a.NewStreamDecoder(streamRequest("m", true), bytes.NewReader(body)))
		for name, r := range map[string]io.Reader{
			"one byte":  iotest.OneByteReader(bytes.NewReader(body)),
			"data+EOF":  iotest.DataErrReader(bytes.NewReader(body)),
			"half+half": io.MultiReader(bytes.NewReader(body[:len(body)/2]), bytes.NewReader(body[len(body)/2:])),
		} {
			got, gotErr := adaptortest.Drain(t, a.NewStreamDecoder(streamRequest("m", true), r))
			if diff := cmp.Diff(renderStream(want, wantErr), renderStream(got, gotErr)); diff != "" {
				t.Errorf("%s, %s (-whole +split):\n%s", file, name, diff)
			}
		}
	}
}

func TestStreamLongLine(t *testing.T) {
	// A line far longer than the read buffer (a big tool call) decodes.
	args := strings.Repeat("x", 100<<10)
	body := `{"created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"write","arguments":{"text":"` + args + `"}}}]},"done":false}` + "\n" +
		`{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":2}` + "\n"
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest("m", false), strings.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	total := 0
	for _, ev := range evs {
		total += ev.TextBytes
	}
	if want := len(`{"text":""}`) + len(args); total != want {
		t.Errorf("text bytes %d, want %d", total, want)
	}
}

func TestStreamReadError(t *testing.T) {
	boom := errors.New("connection reset")
	body := io.MultiReader(strings.NewReader(`{"message":{"content":"a"},"done":false}`+"\n"), iotest.ErrReader(boom))
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest("m", false), body))
	if !errors.Is(err, boom) || len(evs) != 1 {
		t.Fatalf("events %d, err %v; want 1 event then the read error", len(evs), err)
	}
}

func TestStreamEmpty(t *testing.T) {
	for _, body := range []string{"", "\n\n", "   "} {
		_, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest("m", false), strings.NewReader(body)))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: err = %v, want io.ErrUnexpectedEOF", body, err)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"quote\" back\\slash", "quote\" back\\slash"},
		{"ctl\x00\x01\x1f\n\r\t", "ctl\x00\x01\x1f\n\r\t"},
		{"é中😀", "é中😀"},
		{"\u2028\u2029", "\u2028\u2029"},
		{"bad\xff\xfeutf8", "bad\uFFFD\uFFFDutf8"},
		{"</script>&", "</script>&"},
	} {
		got := appendString([]byte("x"), tt.in)
		var back string
		if err := sonic.Unmarshal(got[1:], &back); err != nil {
			t.Fatalf("%q → %s: %v", tt.in, got, err)
		}
		if back != tt.want {
			t.Errorf("%q → %s → %q, want %q", tt.in, got, back, tt.want)
		}
		if bytes.ContainsAny(got, "\u2028\u2029") {
			t.Errorf("%q: line separators not escaped: %s", tt.in, got)
		}
	}
}

// FuzzStreamDecoder: whatever the body, the decoder never panics, ends
// within a bounded number of calls, and every event it emits is JSON.
func FuzzStreamDecoder(f *testing.F) {
	for _, file := range []string{"chat.ndjson", "tool_call.ndjson", "tool_calls_parallel.ndjson", "thinking.ndjson", "done_with_content.ndjson", "error.ndjson", "truncated_line.ndjson", "openai.sse"} {
		f.Add(adaptortest.ReadFile(f, "testdata/stream/"+file), true)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		// An event stream goes to the OpenAI decoder, which relays
		// payloads it cannot parse as they are; native events are JSON.
		native := true
		for _, line := range bytes.Split(body, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				native = !isEventStream(line)
				break
			}
		}
		d := a.NewStreamDecoder(streamRequest("m", includeUsage), bytes.NewReader(body))
		for range len(body) + 16 {
			ev, err := d.Next()
			if err != nil {
				if _, again := d.Next(); again == nil {
					t.Fatalf("Next after %v returned no error", err)
				}
				return
			}
			if native && ev.Data != nil && !sonic.Valid(ev.Data) {
				t.Fatalf("event is not JSON: %q", ev.Data)
			}
		}
		t.Fatalf("decoder did not end within %d events", len(body)+16)
	})
}
