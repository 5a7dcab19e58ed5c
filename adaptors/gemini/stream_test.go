package gemini

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// decodeAll runs the decoder over a fixture and returns its events and
// final error.
func decodeAll(t testing.TB, file string, includeUsage bool) ([]adaptors.StreamEvent, error) {
	t.Helper()
	body := adaptortest.ReadFile(t, "testdata/stream/"+file)
	d := NewSSEDecoder(chatReq(true, includeUsage), bytes.NewReader(body))
	return adaptortest.Drain(t, d)
}

// renderEvents prints events (usage, text bytes, data) and the end.
func renderEvents(evs []adaptors.StreamEvent, end error) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "usage=%s text=%d\n", renderUsage(ev.Usage), ev.TextBytes)
		if ev.Data != nil {
			fmt.Fprintf(&b, "data: %s\n", ev.Data)
		}
		b.WriteByte('\n')
	}
	if end == io.EOF {
		b.WriteString("end: io.EOF\n")
	} else {
		b.WriteString("end: " + renderErr(end))
	}
	return b.String()
}

func TestDecodeGolden(t *testing.T) {
	tests := []struct {
		name, file   string
		includeUsage bool
	}{
		{"text", "text.sse", true},
		{"text_hidden_usage", "text.sse", false},
		{"reasoning", "reasoning.sse", true},
		{"tool_call", "tool_call.sse", true},
		{"text_then_tool", "text_then_tool.sse", false},
		{"safety", "safety.sse", true},
		{"prompt_blocked", "prompt_blocked.sse", true},
		{"two_candidates", "two_candidates.sse", true},
		{"error_midstream", "error_midstream.sse", true},
		{"truncated", "truncated.sse", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, end := decodeAll(t, tt.file, tt.includeUsage)
			for _, ev := range evs {
				if ev.Data != nil && !sonic.Valid(ev.Data) {
					t.Errorf("invalid chunk JSON: %s", ev.Data)
				}
			}
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", []byte(renderEvents(evs, end)), *update)
		})
	}
}

// chunkView is what a client accumulating the stream sees, per choice.
type chunkView struct {
	Role, Content, Reasoning, Finish string
	Calls                            []callDelta
}

type callDelta struct {
	Index          int
	ID, Name, Args string
	Sig            string
}

func accumulateChunks(t *testing.T, evs []adaptors.StreamEvent) (map[int]*chunkView, *adaptors.Usage, bool) {
	t.Helper()
	out := map[int]*chunkView{}
	var usage *adaptors.Usage
	usageChunk := false
	for _, ev := range evs {
		if ev.Usage != nil {
			usage = ev.Usage
		}
		if ev.Data == nil {
			continue
		}
		var c struct {
			Object  string `json:"object"`
			Choices []struct {
				Index int `json:"index"`
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
						ExtraContent *oaExtraContent `json:"extra_content"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *schema.Usage `json:"usage"`
		}
		if err := sonic.Unmarshal(ev.Data, &c); err != nil || c.Object != "chat.completion.chunk" {
			t.Fatalf("bad chunk %s: %v", ev.Data, err)
		}
		if len(c.Choices) == 0 && c.Usage != nil {
			usageChunk = true
		}
		for _, ch := range c.Choices {
			v := out[ch.Index]
			if v == nil {
				v = &chunkView{}
				out[ch.Index] = v
			}
			v.Role += ch.Delta.Role
			v.Content += ch.Delta.Content
			v.Reasoning += ch.Delta.ReasoningContent
			for _, tc := range ch.Delta.ToolCalls {
				cd := callDelta{Index: tc.Index, ID: tc.ID, Name: tc.Function.Name, Args: tc.Function.Arguments}
				if tc.ExtraContent != nil {
					cd.Sig = tc.ExtraContent.Google.ThoughtSignature
				}
				v.Calls = append(v.Calls, cd)
			}
			if ch.FinishReason != nil {
				if v.Finish != "" {
					t.Errorf("choice %d finished twice", ch.Index)
				}
				v.Finish = *ch.FinishReason
			}
		}
	}
	return out, usage, usageChunk
}

func TestDecodeAccumulated(t *testing.T) {
	tests := []struct {
		file  string
		want  map[int]*chunkView
		usage *adaptors.Usage
	}{
		{"text.sse", map[int]*chunkView{0: {Role: "assistant", Content: "Hello! How can I help you today?", Finish: "stop"}},
			&adaptors.Usage{PromptTokens: 8, CompletionTokens: 32, TotalTokens: 40, ReasoningTokens: 23}},
		{"reasoning.sse", map[int]*chunkView{0: {Role: "assistant", Content: `There are **3** r's in "strawberry".`,
			Reasoning: "**Counting the letters**\n\nI'm spelling out \"strawberry\". Each r counts.", Finish: "stop"}},
			&adaptors.Usage{PromptTokens: 2081, CompletionTokens: 261, TotalTokens: 2342, CachedTokens: 2048, ReasoningTokens: 247}},
		{"tool_call.sse", map[int]*chunkView{0: {Role: "assistant", Finish: "tool_calls", Calls: []callDelta{
			{0, "call_Zb3xQv1aT0uy0qPp9QF2Lw_0", "get_weather", `{"location":"Paris"}`, "CiwBVKhc7v6Ty7p3bR3sK1xwnXo4d0m2ZQpJt7uT3vW0xRkz8yqL2cN5gHfE"},
			{1, "call_Zb3xQv1aT0uy0qPp9QF2Lw_1", "get_weather", `{"location":"Tokyo","unit":"celsius"}`, ""},
		}}}, &adaptors.Usage{PromptTokens: 74, CompletionTokens: 114, TotalTokens: 188, ReasoningTokens: 78}},
		{"text_then_tool.sse", map[int]*chunkView{0: {Role: "assistant", Content: "Let me check.", Finish: "tool_calls", Calls: []callDelta{
			{0, "function-call-4772471215937245539", "list_cities", `{}`, ""},
		}}}, &adaptors.Usage{PromptTokens: 51, CompletionTokens: 20, TotalTokens: 71}},
		{"safety.sse", map[int]*chunkView{0: {Role: "assistant", Content: "Here is how", Finish: "content_filter"}},
			&adaptors.Usage{PromptTokens: 17, CompletionTokens: 3, TotalTokens: 20}},
		{"prompt_blocked.sse", map[int]*chunkView{0: {Role: "assistant", Finish: "content_filter"}},
			&adaptors.Usage{PromptTokens: 9, TotalTokens: 9}},
		{"two_candidates.sse", map[int]*chunkView{
			0: {Role: "assistant", Content: "Eight.", Finish: "stop"},
			1: {Role: "assistant", Content: "Two dogs have eight paws.", Finish: "length"},
		}, &adaptors.Usage{PromptTokens: 11, CompletionTokens: 9, TotalTokens: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			for _, include := range []bool{false, true} {
				evs, end := decodeAll(t, tt.file, include)
				if end != io.EOF {
					t.Fatalf("end = %v", end)
				}
				got, usage, usageChunk := accumulateChunks(t, evs)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("choices (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.usage, usage); diff != "" {
					t.Errorf("usage (-want +got):\n%s", diff)
				}
				if usageChunk != include {
					t.Errorf("include_usage=%v: usage chunk shown = %v", include, usageChunk)
				}
				if last := evs[len(evs)-1]; last.Usage == nil || (last.Data != nil) != include {
					t.Errorf("last event %+v is not the usage event", last)
				}
			}
		})
	}
}

func TestDecodeEnds(t *testing.T) {
	// An error payload is a *schema.Error with Google's code as status.
	_, end := decodeAll(t, "error_midstream.sse", true)
	var se *schema.Error
	if !errors.As(end, &se) || se.Status != 500 || se.Type != "server_error" || !strings.Contains(se.Message, "internal error") {
		t.Errorf("error payload: %v", end)
	}
	// No finishReason before EOF: truncated.
	if _, end := decodeAll(t, "truncated.sse", true); !errors.Is(end, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: %v", end)
	}
	// Nothing after a candidate's finish reaches the client; the end is
	// sticky.
	body := append(adaptortest.ReadFile(t, "testdata/stream/text.sse"), adaptortest.ReadFile(t, "testdata/stream/trailer.sse")...)
	d := NewSSEDecoder(chatReq(true, true), bytes.NewReader(body))
	evs, end := adaptortest.Drain(t, d)
	if end != io.EOF {
		t.Fatalf("end = %v", end)
	}
	for _, ev := range evs {
		if bytes.Contains(ev.Data, []byte("LEAK")) {
			t.Errorf("leak: %s", ev.Data)
		}
	}
	for range 3 {
		if _, err := d.Next(); err != io.EOF {
			t.Errorf("after the end: %v", err)
		}
	}
	// Garbage payloads fail with ErrInvalidResponse.
	for _, s := range []string{"data: not json\n\n", "data: [1]\n\n", `data: {"candidates":[{"index":99999}]}` + "\n\n"} {
		d := NewSSEDecoder(chatReq(true, false), strings.NewReader(s))
		if _, err := adaptortest.Drain(t, d); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: %v", s, err)
		}
	}
	// A read failure is reported as such.
	d = NewSSEDecoder(chatReq(true, false), io.MultiReader(strings.NewReader("data: {}\n\n"), errReader{}))
	if _, err := adaptortest.Drain(t, d); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

// TestDecodeEscaping: text that needs escaping, and invalid UTF-8,
// produce valid chunk JSON that decodes to the original text.
func TestDecodeEscaping(t *testing.T) {
	text := "quote \" backslash \\ newline \n tab \t ctrl \x01 emoji 🙂 <b>&"
	payload, _ := sonic.Marshal(map[string]any{"candidates": []any{map[string]any{
		"content": map[string]any{"parts": []any{map[string]any{"text": text}}}, "finishReason": "STOP"}}})
	body := "data: " + string(payload) + "\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\\udc00x\"}]}}]}\n\n"
	evs, _ := adaptortest.Drain(t, NewSSEDecoder(chatReq(true, false), strings.NewReader(body)))
	got, _, _ := accumulateChunks(t, evs)
	if got[0].Content != text {
		t.Errorf("content %q, want %q", got[0].Content, text)
	}
	if s := string(appendString(nil, "a\xffb")); s != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8: %s", s)
	}
}
