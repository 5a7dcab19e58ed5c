package zhipu

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/internal/openaiwire"
)

func streamRequest(include bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "glm-4.6", OriginModel: "my-glm", Stream: true, IncludeUsage: include, Created: 1700000000}
}

// TestStreamGolden decodes each stream of testdata/stream, with and
// without the client's include_usage.
func TestStreamGolden(t *testing.T) {
	files := []string{"chat", "tool_call", "tool_stream", "reasoning", "no_done", "truncated", "error_chunk", "sensitive", "network_error", "usage_chunk"}
	a := New()
	for _, name := range files {
		for _, include := range []bool{true, false} {
			golden := name
			if !include {
				golden += "_hide_usage"
			}
			t.Run(golden, func(t *testing.T) {
				body := adaptortest.ReadFile(t, "testdata/stream/"+name+".sse")
				evs, err := drain(t, a.NewStreamDecoder(streamRequest(include), bytes.NewReader(body)))
				for _, ev := range evs {
					if ev.Data != nil && !json.Valid(ev.Data) {
						t.Errorf("chunk is not JSON: %s", ev.Data)
					}
				}
				adaptortest.Golden(t, "testdata/stream/"+golden+".golden", renderStream(evs, err), *update)
			})
		}
	}
}

// TestStreamUsageBilledOnce: v4 reports the whole answer's usage; the
// stream's usage is exactly those final figures, reported once, and a
// later report replaces an earlier one (never summed).
func TestStreamUsageBilledOnce(t *testing.T) {
	tests := []struct {
		file string
		want adaptors.Usage
	}{
		{"chat.sse", adaptors.Usage{PromptTokens: 19, CompletionTokens: 7, TotalTokens: 26}},
		{"reasoning.sse", adaptors.Usage{PromptTokens: 1280, CompletionTokens: 96, TotalTokens: 1376, CachedTokens: 1024, ReasoningTokens: 71}},
		{"tool_stream.sse", adaptors.Usage{PromptTokens: 230, CompletionTokens: 48, TotalTokens: 278, CachedTokens: 128, ReasoningTokens: 17}},
		{"usage_chunk.sse", adaptors.Usage{PromptTokens: 6, CompletionTokens: 2, TotalTokens: 8}},
	}
	for _, tt := range tests {
		for _, include := range []bool{false, true} {
			body := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			evs, err := drain(t, New().NewStreamDecoder(streamRequest(include), bytes.NewReader(body)))
			if err != io.EOF {
				t.Fatalf("%s: end %v", tt.file, err)
			}
			var reports []adaptors.Usage
			for _, ev := range evs {
				if ev.Usage != nil {
					reports = append(reports, *ev.Usage)
				}
			}
			if diff := cmp.Diff([]adaptors.Usage{tt.want}, reports); diff != "" {
				t.Errorf("%s include=%v: usage reports (-want +got):\n%s", tt.file, include, diff)
			}
		}
	}
}

// TestStreamToolCalls: v4's tool calls become OpenAI's, numbered from 0,
// with id, type and name on the first chunk of each call only, and the
// arguments joined equal to what v4 sent.
func TestStreamToolCalls(t *testing.T) {
	type call struct{ ID, Name, Args string }
	tests := []struct {
		file string
		want []call
	}{
		{"tool_call.sse", []call{{"call_8313807536837492500", "get_weather", `{"location":"Paris"}`}}},
		{"tool_stream.sse", []call{
			{"call_-8344295231546370153", "get_weather", `{"location":"Paris"}`},
			{"call_-8344295231546370999", "get_time", `{"city":"Paris"}`},
		}},
	}
	for _, tt := range tests {
		body := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
		evs, err := drain(t, New().NewStreamDecoder(streamRequest(false), bytes.NewReader(body)))
		if err != io.EOF {
			t.Fatalf("%s: end %v", tt.file, err)
		}
		var got []call
		text := 0
		for _, ev := range evs {
			text += ev.TextBytes
			if ev.Data == nil {
				continue
			}
			var c struct {
				Choices []struct {
					Delta struct {
						ToolCalls []struct {
							Index    int     `json:"index"`
							ID       *string `json:"id"`
							Type     *string `json:"type"`
							Function struct {
								Name      *string `json:"name"`
								Arguments string  `json:"arguments"`
							} `json:"function"`
						} `json:"tool_calls"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(ev.Data, &c); err != nil {
				t.Fatal(err)
			}
			for _, ch := range c.Choices {
				for _, tc := range ch.Delta.ToolCalls {
					switch {
					case tc.Index == len(got):
						if tc.ID == nil || tc.Type == nil || *tc.Type != "function" || tc.Function.Name == nil {
							t.Errorf("%s: first chunk of call %d lacks id/type/name", tt.file, tc.Index)
							continue
						}
						got = append(got, call{*tc.ID, *tc.Function.Name, tc.Function.Arguments})
					case tc.Index < len(got):
						if tc.ID != nil || tc.Function.Name != nil {
							t.Errorf("%s: later chunk of call %d repeats id or name", tt.file, tc.Index)
						}
						got[tc.Index].Args += tc.Function.Arguments
					default:
						t.Errorf("%s: index %d skips", tt.file, tc.Index)
					}
				}
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", tt.file, diff)
		}
		if text == 0 {
			t.Errorf("%s: no TextBytes", tt.file)
		}
	}
}

func TestStreamEnds(t *testing.T) {
	tests := []struct {
		name, body string
		want       error // io.EOF, or a sentinel the error wraps
	}{
		{"empty", ``, io.ErrUnexpectedEOF},
		{"only done", "data: [DONE]\n\n", io.EOF},
		{"keep-alive then truncated", ": ping\n\ndata: \n\n", io.ErrUnexpectedEOF},
		{"not json", "data: hello\n\n", adaptors.ErrInvalidResponse},
		{"broken json", "data: {\"id\":\n\n", adaptors.ErrInvalidResponse},
		{"finish then EOF", `data: {"id":"1","choices":[{"index":0,"finish_reason":"stop","delta":{"role":"assistant","content":""}}]}` + "\n\n", io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New().NewStreamDecoder(streamRequest(true), strings.NewReader(tt.body))
			_, err := drain(t, d)
			if !errors.Is(err, tt.want) {
				t.Fatalf("end %v, want %v", err, tt.want)
			}
			if _, again := d.Next(); again != err {
				t.Errorf("Next after the end = %v, want the same %v", again, err)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"uote\\", "\n\r\t\x00\x1f", "中文 ✓ 😀", "bad \xff utf8", "</script>&"} {
		got := openaiwire.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q → %s: %v", s, got, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if back != want {
			t.Errorf("%q → %s → %q", s, got, back)
		}
	}
}
