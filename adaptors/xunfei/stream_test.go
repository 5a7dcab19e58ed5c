package xunfei

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func streamRequest(includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "Spark-Max", OriginModel: "spark-max", Stream: true,
		IncludeUsage: includeUsage, Created: 1735689600}
}

// renderStream prints the client events of a stream and how it ended.
func renderStream(evs []adaptors.StreamEvent, err error) []byte {
	var b bytes.Buffer
	for _, ev := range evs {
		if ev.Data != nil {
			fmt.Fprintf(&b, "data: %s\n", ev.Data)
		} else {
			b.WriteString("(no data)\n")
		}
		if ev.TextBytes != 0 {
			fmt.Fprintf(&b, "  text bytes: %d\n", ev.TextBytes)
		}
		if ev.Usage != nil {
			fmt.Fprintf(&b, "  usage: %+v\n", *ev.Usage)
		}
	}
	var se *schema.Error
	switch {
	case err == io.EOF:
		b.WriteString("end: io.EOF\n")
	case errors.As(err, &se):
		fmt.Fprintf(&b, "end: schema error status=%d %+v\n", se.Status, *se)
	default:
		fmt.Fprintf(&b, "end: %v\n", err)
	}
	return b.Bytes()
}

func TestStreamGolden(t *testing.T) {
	tests := []struct {
		name, file   string
		includeUsage bool
	}{
		{"chat_show_usage", "chat.ndjson", true},
		{"chat_hide_usage", "chat.ndjson", false},
		{"single_frame", "single_frame.ndjson", true},
		{"tool_call", "tool_call.ndjson", true},
		{"x1_reasoning", "x1_reasoning.ndjson", false},
		{"error_output_audit", "error_output_audit.ndjson", true},
		{"error_first_frame", "error_first_frame.ndjson", true},
		{"truncated", "truncated.ndjson", true},
	}
	a := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			evs, err := adaptortest.Drain(t, a.NewStreamDecoder(streamRequest(tt.includeUsage), bytes.NewReader(body)))
			for _, ev := range evs {
				if ev.Data != nil && !json.Valid(ev.Data) {
					t.Errorf("invalid JSON chunk: %s", ev.Data)
				}
			}
			got := renderStream(evs, err)
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", got, *update)

			// Frames arriving a byte at a time (a slow socket) give the
			// same events.
			evs2, err2 := adaptortest.Drain(t, a.NewStreamDecoder(streamRequest(tt.includeUsage), iotest.OneByteReader(bytes.NewReader(body))))
			if diff := cmp.Diff(string(got), string(renderStream(evs2, err2))); diff != "" {
				t.Errorf("byte-at-a-time stream differs (-whole +bytes):\n%s", diff)
			}
		})
	}
}

// TestStreamUsageBilledOnce: the usage the gateway bills is the last
// frame's figures, reported once, whatever the client asked.
func TestStreamUsageBilledOnce(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/stream/chat.ndjson")
	want := adaptors.Usage{PromptTokens: 5, CompletionTokens: 34, TotalTokens: 39}
	for _, include := range []bool{false, true} {
		evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest(include), bytes.NewReader(body)))
		if err != io.EOF {
			t.Fatal(err)
		}
		var reports []adaptors.Usage
		shown := 0
		for _, ev := range evs {
			if ev.Usage != nil {
				reports = append(reports, *ev.Usage)
			}
			if bytes.Contains(ev.Data, []byte(`"choices":[]`)) {
				shown++
			}
		}
		if diff := cmp.Diff([]adaptors.Usage{want}, reports); diff != "" {
			t.Errorf("include=%v usage reports (-want +got):\n%s", include, diff)
		}
		if wantShown := map[bool]int{false: 0, true: 1}[include]; shown != wantShown {
			t.Errorf("include=%v usage chunk shown %d times", include, shown)
		}
	}
}

// TestStreamEnd: nothing after the last frame is read or sent, and Next
// keeps returning io.EOF.
func TestStreamEnd(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/stream/chat.ndjson")
	body = append(body, `{"header":{"code":0,"message":"Success","sid":"x","status":1},"payload":{"choices":{"status":1,"seq":9,"text":[{"content":"LEAK","role":"assistant","index":0}]}}}`+"\nnot json\n"...)
	d := New().NewStreamDecoder(streamRequest(true), bytes.NewReader(body))
	evs, err := adaptortest.Drain(t, d)
	if err != io.EOF {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if bytes.Contains(ev.Data, []byte("LEAK")) {
			t.Errorf("leaked %s", ev.Data)
		}
	}
	for range 3 {
		if _, err := d.Next(); err != io.EOF {
			t.Errorf("after the end: %v", err)
		}
	}
}

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name, body string
		status     int    // a *schema.Error with this status
		sentinel   error  // else an error wrapping this
		message    string // in the error
	}{
		{"input audit", `{"header":{"code":10013,"message":"输入内容审核不通过，涉嫌违规，请重新调整输入内容","sid":"s","status":2}}` + "\n", 400, nil, "输入内容审核不通过"},
		{"no license", `{"header":{"code":11200,"message":"AppIdNoAuthError","sid":"s","status":2}}`, 403, nil, "AppIdNoAuthError (xunfei code 11200, sid s)"},
		{"unknown code", `{"header":{"code":99999,"message":"what","status":2}}`, 500, nil, "what (xunfei code 99999)"},
		{"empty", "", 0, io.ErrUnexpectedEOF, "before its last frame"},
		{"blank lines", "\n\n \n", 0, io.ErrUnexpectedEOF, "before its last frame"},
		{"html", "<html>502</html>\n", 0, adaptors.ErrInvalidResponse, "not a json object"},
		{"garbage json", `{"header":` + "\n", 0, adaptors.ErrInvalidResponse, "frame"},
		{"trailing garbage", `{"header":{}} x` + "\n", 0, adaptors.ErrInvalidResponse, "frame"},
		{"read error", "", 0, iotest.ErrTimeout, "read answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.body)
			if tt.sentinel == iotest.ErrTimeout {
				r = io.MultiReader(strings.NewReader(`{"header":{"code":0,"status":0}}`+"\n"), iotest.ErrReader(iotest.ErrTimeout))
			}
			d := New().NewStreamDecoder(streamRequest(true), r)
			_, err := adaptortest.Drain(t, d)
			var se *schema.Error
			switch {
			case tt.status != 0:
				if !errors.As(err, &se) || se.Status != tt.status {
					t.Fatalf("got %v, want a schema error %d", err, tt.status)
				}
			case !errors.Is(err, tt.sentinel):
				t.Fatalf("got %v, want %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("%q does not say %q", err, tt.message)
			}
			if _, again := d.Next(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
}

// TestStreamLongFrame: a frame longer than the reader's buffer is read
// whole.
func TestStreamLongFrame(t *testing.T) {
	long := strings.Repeat("长", 20000) // 60 KB
	body := `{"header":{"code":0,"message":"Success","sid":"s","status":2},"payload":{"choices":{"status":2,"seq":0,"text":[{"content":"` + long + `","role":"assistant","index":0}]}}}`
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest(false), strings.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].TextBytes != len(long) || !bytes.Contains(evs[0].Data, []byte(long)) {
		t.Errorf("%d events, first %d text bytes", len(evs), evs[0].TextBytes)
	}
}

// TestStreamFunctionCallShapes: arguments as an object, empty, or
// continued by a nameless call.
func TestStreamFunctionCallShapes(t *testing.T) {
	frame := func(fc string, status int) string {
		return fmt.Sprintf(`{"header":{"code":0,"sid":"s","status":%d},"payload":{"choices":{"status":%d,"text":[{"content":"","role":"assistant","index":0,"function_call":%s}]}}}`+"\n", status, status, fc)
	}
	body := frame(`{"name":"a","arguments":{"x":1}}`, 0) + frame(`{"name":"b","arguments":""}`, 1) + frame(`{"arguments":"{\"more\":2}"}`, 1) + frame(`{"name":"c"}`, 2)
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest(false), strings.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, string(ev.Data))
	}
	want := []string{
		`{"id":"s","object":"chat.completion.chunk","created":1735689600,"model":"spark-max","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_s_0","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}}]},"finish_reason":null}]}`,
		`{"id":"s","object":"chat.completion.chunk","created":1735689600,"model":"spark-max","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_s_1","type":"function","function":{"name":"b","arguments":"{}"}}]},"finish_reason":null}]}`,
		`{"id":"s","object":"chat.completion.chunk","created":1735689600,"model":"spark-max","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"more\":2}"}}]},"finish_reason":null}]}`,
		`{"id":"s","object":"chat.completion.chunk","created":1735689600,"model":"spark-max","choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"id":"call_s_2","type":"function","function":{"name":"c","arguments":"{}"}}]},"finish_reason":null}]}`,
		`{"id":"s","object":"chat.completion.chunk","created":1735689600,"model":"spark-max","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}
