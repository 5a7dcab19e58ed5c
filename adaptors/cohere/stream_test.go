package cohere

import (
	"bytes"
	"encoding/json"
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
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

func streamRequest(includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-03-2025", OriginModel: "command-a", Stream: true,
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
		{"chat_show_usage", "chat.sse", true},
		{"chat_hide_usage", "chat.sse", false},
		{"tool_call", "tool_call.sse", true},
		{"tool_call_parallel", "tool_call_parallel.sse", false},
		{"thinking", "thinking.sse", true},
		{"citations", "citations.sse", false},
		{"max_tokens", "max_tokens.sse", false},
		{"error_finish", "error_finish.sse", true},
		{"truncated", "truncated.sse", true},
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

			// Any split of the body into reads gives the same events.
			evs2, err2 := adaptortest.Drain(t, a.NewStreamDecoder(streamRequest(tt.includeUsage), iotest.OneByteReader(bytes.NewReader(body))))
			if diff := cmp.Diff(string(got), string(renderStream(evs2, err2))); diff != "" {
				t.Errorf("one-byte reads differ (-whole +onebyte):\n%s", diff)
			}
		})
	}
}

// accumulate joins a stream's chunks the way an OpenAI client does.
type accumulated struct {
	Role, Content, Reasoning string
	Calls                    []accCall
	Finish                   []string
}

type accCall struct {
	ID, Name, Args string
}

func accumulate(t *testing.T, evs []adaptors.StreamEvent) accumulated {
	t.Helper()
	var acc accumulated
	for _, ev := range evs {
		if ev.Data == nil {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Role             string `json:"role"`
					Content          string `json:"content"`
					ReasoningContent string `json:"reasoning_content"`
					ToolCalls        []struct {
						Index    int    `json:"index"`
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := sonic.Unmarshal(ev.Data, &c); err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Choices {
			d := ch.Delta
			acc.Role += d.Role
			acc.Content += d.Content
			acc.Reasoning += d.ReasoningContent
			for _, tc := range d.ToolCalls {
				for len(acc.Calls) <= tc.Index {
					acc.Calls = append(acc.Calls, accCall{})
				}
				c := &acc.Calls[tc.Index]
				c.ID += tc.ID
				c.Name += tc.Function.Name
				c.Args += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				acc.Finish = append(acc.Finish, *ch.FinishReason)
			}
		}
	}
	return acc
}

func TestStreamAccumulates(t *testing.T) {
	tests := []struct {
		file string
		want accumulated
	}{
		{"chat.sse", accumulated{Role: "assistant", Content: "A large language model (LLM) is a neural network trained on text.", Finish: []string{"stop"}}},
		{"tool_call.sse", accumulated{Role: "assistant", Content: "I will look up the weather in Paris.",
			Calls: []accCall{{"get_weather_nsz5zm3w56q3", "get_weather", "{\n    \"location\": \"Paris\"\n}"}}, Finish: []string{"tool_calls"}}},
		{"tool_call_parallel.sse", accumulated{Role: "assistant", Content: "I will check both cities.",
			Calls:  []accCall{{"get_weather_a1b2c3d4e5f6", "get_weather", `{"location":"Paris"}`}, {"get_time_f6e5d4c3b2a1", "get_time", `{"city":"Berlin"}`}},
			Finish: []string{"tool_calls"}}},
		{"thinking.sse", accumulated{Role: "assistant", Content: "Each brother has 3 sisters.",
			Reasoning: "Alice has 2 sisters; her brothers also have Alice.", Finish: []string{"stop"}}},
		{"max_tokens.sse", accumulated{Role: "assistant", Content: "The Art of API Design", Finish: []string{"length"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest(false), bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/"+tt.file))))
			if err != io.EOF {
				t.Fatalf("end %v", err)
			}
			if diff := cmp.Diff(tt.want, accumulate(t, evs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// frame frames Cohere events the way Cohere sends them.
func frame(events ...string) string {
	var b strings.Builder
	for _, e := range events {
		var v struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal([]byte(e), &v)
		b.WriteString("event: " + v.Type + "\ndata: " + e + "\n\n")
	}
	return b.String()
}

const (
	evStart = `{"id":"s1","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}`
	evEnd   = `{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":3,"output_tokens":4},"tokens":{"input_tokens":60,"output_tokens":4}}}}`
)

// TestStreamToolIndexes: however Cohere numbers its tool calls (after
// content blocks, with gaps, interleaved), the client sees indexes 0, 1, …
// in order of tool-call-start, and fragments go to the right call.
func TestStreamToolIndexes(t *testing.T) {
	body := frame(evStart,
		`{"type":"tool-call-start","index":3,"delta":{"message":{"tool_calls":{"id":"a","type":"function","function":{"name":"fa","arguments":""}}}}}`,
		`{"type":"tool-call-start","index":7,"delta":{"message":{"tool_calls":{"id":"b","type":"function","function":{"name":"fb","arguments":"{"}}}}}`,
		`{"type":"tool-call-delta","index":3,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\"x\":1}"}}}}}`,
		`{"type":"tool-call-delta","index":7,"delta":{"message":{"tool_calls":{"function":{"arguments":"}"}}}}}`,
		`{"type":"tool-call-delta","delta":{"message":{"tool_calls":{"function":{"arguments":""}}}}}`,
		`{"type":"tool-call-end","index":7}`,
		`{"type":"message-end","delta":{"finish_reason":"COMPLETE"}}`)
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest(false), strings.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	want := accumulated{Role: "assistant", Content: "", Calls: []accCall{{"a", "fa", `{"x":1}`}, {"b", "fb", "{}"}}, Finish: []string{"tool_calls"}}
	if diff := cmp.Diff(want, accumulate(t, evs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStreamEdgeCases(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // client payloads
		wantErr    string   // "" for io.EOF
	}{
		{"no message-start", frame(`{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hi"}}}}`, evEnd),
			[]string{
				`{"id":"","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}`,
				`{"id":"","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			}, ""},
		{"empty answer", frame(evStart, `{"type":"message-end","delta":{"finish_reason":"COMPLETE"}}`),
			[]string{
				`{"id":"s1","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
				`{"id":"s1","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			}, ""},
		{"only message-end", frame(`{"type":"message-end","delta":{"finish_reason":"COMPLETE"}}`),
			[]string{`{"id":"","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":"stop"}]}`}, ""},
		{"escapes", frame(evStart, `{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"a\"b\\c\n\u0001 \u00e9 \u2028 </script>"}}}}`, evEnd),
			[]string{
				`{"id":"s1","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
				`{"id":"s1","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{"content":"a\"b\\c\n\u0001 é ` + "\u2028" + ` </script>"},"finish_reason":null}]}`,
				`{"id":"s1","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			}, ""},
		{"done marker and unknown events skipped", "data: [DONE]\n\n" + frame(evStart, `{"type":"debug","prompt":"x"}`, `{"type":"some-new-event","delta":{}}`, evEnd),
			[]string{
				`{"id":"s1","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
				`{"id":"s1","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			}, ""},
		{"type from event line", "event: message-end\ndata: {\"delta\":{\"finish_reason\":\"MAX_TOKENS\"}}\n\n",
			[]string{`{"id":"","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":"length"}]}`}, ""},
		{"timeout", frame(evStart, `{"type":"message-end","delta":{"finish_reason":"TIMEOUT"}}`),
			[]string{`{"id":"s1","object":"chat.completion.chunk","created":1735689600,"model":"command-a","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`},
			"cohere: the generation timed out (finish_reason TIMEOUT)"},
		{"not json", "data: hello\n\n", nil, "cohere: adaptors: invalid upstream response: stream event is not a json object"},
		{"broken json", "data: {\"type\":\n\n", nil, "invalid upstream response"},
		{"empty body", "", nil, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest(false), strings.NewReader(tt.body)))
			var got []string
			for _, ev := range evs {
				if ev.Data != nil {
					got = append(got, string(ev.Data))
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("payloads (-want +got):\n%s", diff)
			}
			for _, p := range got {
				if !json.Valid([]byte(p)) {
					t.Errorf("invalid JSON %s", p)
				}
			}
			if tt.wantErr == "" {
				if err != io.EOF {
					t.Errorf("end %v, want io.EOF", err)
				}
			} else if err == nil || err == io.EOF || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("end %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestStreamEndIsFinal: after message-end nothing more is read, and Next
// keeps returning the same end.
func TestStreamEndIsFinal(t *testing.T) {
	for _, file := range []string{"chat.sse", "error_finish.sse", "truncated.sse"} {
		body := append(adaptortest.ReadFile(t, "testdata/stream/"+file), frame(`{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"LEAK"}}}}`)...)
		d := New().NewStreamDecoder(streamRequest(true), bytes.NewReader(body))
		evs, err := adaptortest.Drain(t, d)
		for _, ev := range evs {
			if bytes.Contains(ev.Data, []byte("LEAK")) && file != "truncated.sse" {
				t.Errorf("%s: leaked %s", file, ev.Data)
			}
		}
		for range 3 {
			if _, again := d.Next(); again != err {
				t.Errorf("%s: Next after end = %v, want %v", file, again, err)
			}
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote \" backslash \\ slash /", "\x00\x01\x1f\x7f", "tab\tnl\ncr\r",
		"é 中文 😀", "bad \xff utf8 \xc3", "\u2028\u2029", "<>&"} {
		b := openaiwire.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("%q: %s is not a JSON string: %v", s, b, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if s == "bad \xff utf8 \xc3" {
			want = "bad \uFFFD utf8 \uFFFD"
		}
		if back != want {
			t.Errorf("%q round-trips to %q", s, back)
		}
	}
}
