package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// renderStream prints the client events of a converted stream and how
// it ended, for goldens.
func renderStream(evs []adaptors.StreamEvent, end error) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Data != nil {
			fmt.Fprintf(&b, "data: %s\n", ev.Data)
		} else {
			b.WriteString("(no data)\n")
		}
		if ev.Usage != nil {
			fmt.Fprintf(&b, "usage: %+v\n", *ev.Usage)
		}
		if ev.TextBytes != 0 {
			fmt.Fprintf(&b, "text_bytes: %d\n", ev.TextBytes)
		}
		b.WriteByte('\n')
	}
	var se *schema.Error
	switch {
	case end == io.EOF:
		b.WriteString("end: EOF\n")
	case errors.As(end, &se):
		fmt.Fprintf(&b, "end: schema error: status=%d type=%s message=%q\n", se.Status, se.Type, se.Message)
	default:
		fmt.Fprintf(&b, "end: %v\n", end)
	}
	return b.String()
}

type streamGoldenCase struct {
	name, file   string
	includeUsage bool
}

func streamGoldenCases() []streamGoldenCase {
	return []streamGoldenCase{
		{"text", "text.sse", false},
		{"text_include_usage", "text.sse", true},
		{"tool_call", "tool_call.sse", true},
		{"parallel_tools", "parallel_tools.sse", true},
		{"thinking", "thinking.sse", true},
		{"error_overloaded", "error_overloaded.sse", true},
		{"truncated", "truncated.sse", true},
		{"max_tokens_after_stop", "max_tokens_after_stop.sse", false},
	}
}

func TestStreamGoldenOutbound(t *testing.T) {
	a := New()
	for _, c := range streamGoldenCases() {
		t.Run(c.name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/stream/"+c.file)
			d := a.NewStreamDecoder(outReq(true, c.includeUsage), bytes.NewReader(body))
			evs, end := adaptortest.Drain(t, d)
			if _, again := d.Next(); again != end {
				t.Errorf("Next after the end = %v, want %v again", again, end)
			}
			for _, ev := range evs {
				if ev.Data != nil && !json.Valid(ev.Data) {
					t.Errorf("invalid chunk JSON: %s", ev.Data)
				}
			}
			adaptortest.Golden(t, "testdata/stream/"+c.name+".golden", []byte(renderStream(evs, end)), *update)
		})
	}
}

// chunkView is what the stream tests read back from a chunk.
type chunkView struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Delta struct {
			Role             string `json:"role"`
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
			ToolCalls        []struct {
				Index    int    `json:"index"`
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
	Usage *struct {
		PromptTokens int `json:"prompt_tokens"`
	} `json:"usage"`
}

// chunkSum is a streamed answer put back together.
type chunkSum struct {
	ID, Model, Content, Reasoning, Finish string
	Calls                                 []string // "index id name args"
	UsageChunks                           int
}

func sumChunks(t *testing.T, evs []adaptors.StreamEvent) chunkSum {
	t.Helper()
	var acc chunkSum
	type call struct{ id, name, args string }
	calls := map[int]*call{}
	n := 0
	for _, ev := range evs {
		if ev.Data == nil {
			continue
		}
		var c chunkView
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("chunk %s: %v", ev.Data, err)
		}
		if c.Object != "chat.completion.chunk" {
			t.Errorf("object %q", c.Object)
		}
		acc.ID, acc.Model = c.ID, c.Model
		if c.Usage != nil {
			acc.UsageChunks++
		}
		for _, ch := range c.Choices {
			acc.Content += ch.Delta.Content
			acc.Reasoning += ch.Delta.ReasoningContent
			for _, tc := range ch.Delta.ToolCalls {
				cl := calls[tc.Index]
				if cl == nil {
					cl = &call{}
					calls[tc.Index] = cl
					n++
				}
				if tc.ID != "" {
					cl.id = tc.ID
				}
				cl.name += tc.Function.Name
				cl.args += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				acc.Finish = *ch.FinishReason
			}
		}
	}
	for i := range n {
		cl := calls[i]
		if cl == nil {
			t.Fatalf("tool call indexes are not 0..%d: %v", n-1, calls)
		}
		acc.Calls = append(acc.Calls, fmt.Sprintf("%d %s %s %s", i, cl.id, cl.name, cl.args))
	}
	return acc
}

func drainFile(t *testing.T, file string, includeUsage bool) ([]adaptors.StreamEvent, error) {
	t.Helper()
	d := New().NewStreamDecoder(outReq(true, includeUsage), bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/"+file)))
	return adaptortest.Drain(t, d)
}

func TestStreamChunksAccumulated(t *testing.T) {
	tests := []struct {
		file string
		want chunkSum
	}{
		{"text.sse", chunkSum{ID: "msg_01XFDUDYJgAACzvnptvVoYEL", Model: "claude-sonnet-4-5", Content: "Hello! How can I help \"you\" today? 👋", Finish: "stop", UsageChunks: 1}},
		{"tool_call.sse", chunkSum{ID: "msg_01P7nF1bmxyzFZjF8zwbUDBM", Model: "claude-sonnet-4-5",
			Content: "I'd be happy to check the weather in San Francisco for you. Let me get that information for you right away.",
			Finish:  "tool_calls", Calls: []string{`0 toolu_017QoD96fYwGzCWvLfaPADWg get_weather {"city": "San Francisco"}`}, UsageChunks: 1}},
		{"parallel_tools.sse", chunkSum{ID: "msg_01Gs3aQ5rR8rKjYp1f2wZbMd", Model: "claude-sonnet-4-5", Content: "I'll check both.", Finish: "tool_calls",
			Calls: []string{`0 toolu_01T1x1fJ34qAmk2tNTrN7Up6 get_weather {"location": "Paris"}`, `1 toolu_01Hn7cW2Yh6Wd9vM3Qm2xPfS get_time {}`}, UsageChunks: 1}},
		{"thinking.sse", chunkSum{ID: "msg_01Lz9cTkAn2zXqyR4LNs7mwC", Model: "claude-sonnet-4-5",
			Reasoning: "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147",
			Content:   "The greatest common divisor of 1071 and 462 is **21**.", Finish: "stop", UsageChunks: 1}},
		{"max_tokens_after_stop.sse", chunkSum{ID: "msg_01R4nVSoQp4n7Y8jC6fCH9XK", Model: "claude-sonnet-4-5", Content: "Once upon a time", Finish: "length", UsageChunks: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			evs, err := drainFile(t, tt.file, true)
			if err != io.EOF {
				t.Fatalf("end %v", err)
			}
			if diff := cmp.Diff(tt.want, sumChunks(t, evs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreamUsage(t *testing.T) {
	tests := []struct {
		file string
		want adaptors.Usage
	}{
		// message_delta reports only output_tokens: input and cache
		// counts come from message_start.
		{"text.sse", adaptors.Usage{PromptTokens: 2073, CompletionTokens: 15, TotalTokens: 2088, CachedTokens: 2048}},
		// message_delta repeats every count (newer API versions).
		{"thinking.sse", adaptors.Usage{PromptTokens: 1068, CompletionTokens: 210, TotalTokens: 1278, CacheWriteTokens: 1024, ReasoningTokens: 180}},
		{"parallel_tools.sse", adaptors.Usage{PromptTokens: 3672, CompletionTokens: 96, TotalTokens: 3768, CachedTokens: 3200}},
	}
	for _, tt := range tests {
		for _, include := range []bool{false, true} {
			evs, err := drainFile(t, tt.file, include)
			if err != io.EOF {
				t.Fatalf("%s: end %v", tt.file, err)
			}
			var last *adaptors.Usage
			usageChunks := 0
			for _, ev := range evs {
				if ev.Usage != nil {
					last = ev.Usage
				}
				if ev.Data != nil && bytes.Contains(ev.Data, []byte(`"choices":[]`)) {
					usageChunks++
				}
			}
			if last == nil {
				t.Fatalf("%s: no usage", tt.file)
			}
			if diff := cmp.Diff(tt.want, *last); diff != "" {
				t.Errorf("%s: usage (-want +got):\n%s", tt.file, diff)
			}
			if want := map[bool]int{false: 0, true: 1}[include]; usageChunks != want {
				t.Errorf("%s include_usage=%v: %d usage chunks", tt.file, include, usageChunks)
			}
		}
	}
}

func TestStreamEnds(t *testing.T) {
	evs, err := drainFile(t, "error_overloaded.sse", false)
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != 529 || se.Type != "overloaded_error" || se.Message != "Overloaded" {
		t.Errorf("error event: %v (%+v)", err, se)
	}
	if acc := sumChunks(t, evs); acc.Content != "Sure" {
		t.Errorf("text before the error: %q", acc.Content)
	}
	if _, err := drainFile(t, "truncated.sse", false); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: %v, want io.ErrUnexpectedEOF", err)
	}
	evs, err = drainFile(t, "max_tokens_after_stop.sse", false)
	if err != io.EOF {
		t.Errorf("after stop: %v", err)
	}
	for _, ev := range evs {
		if bytes.Contains(ev.Data, []byte("LEAK")) {
			t.Errorf("event after message_stop leaked: %s", ev.Data)
		}
	}
	// Garbage in a data line is an invalid response, not a hang.
	d := New().NewStreamDecoder(outReq(true, false), strings.NewReader("event: message_start\ndata: {not json\n\n"))
	if _, err := adaptortest.Drain(t, d); !errors.Is(err, adaptors.ErrInvalidResponse) {
		t.Errorf("garbage: %v", err)
	}
	// An error event whose data is not JSON still ends as an upstream error.
	d = New().NewStreamDecoder(outReq(true, false), strings.NewReader("event: error\ndata: Internal Server Error\n\n"))
	if _, err := adaptortest.Drain(t, d); !errors.As(err, &se) || se.Status != 500 || !strings.Contains(se.Message, "Internal Server Error") {
		t.Errorf("plain error event: %v", err)
	}
	// An empty body is a truncated stream.
	d = New().NewStreamDecoder(outReq(true, false), strings.NewReader(""))
	if _, err := adaptortest.Drain(t, d); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("empty body: %v", err)
	}
}

// TestEventDecoderBedrockFraming drives the EventDecoder directly with
// event JSON as Amazon Bedrock delivers it (no SSE framing;
// message_stop carries Bedrock's invocation metrics).
func TestEventDecoderBedrockFraming(t *testing.T) {
	events := []string{
		`{"type":"message_start","message":{"id":"msg_bdrk_01V3wqSXJ7XB5qMzsnR1sCzW","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":14,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi there"}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":6}}`,
		`{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":14,"outputTokenCount":6,"invocationLatency":512,"firstByteLatency":401}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"LEAK"}}`,
	}
	d := NewEventDecoder(outReq(true, true))
	var all []adaptors.StreamEvent
	for i, e := range events {
		evs, done, err := d.Decode([]byte(e))
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		for _, ev := range evs {
			ev.Data = bytes.Clone(ev.Data)
			all = append(all, ev)
		}
		if want := i >= 5; done != want {
			t.Errorf("event %d: done = %v", i, done)
		}
	}
	acc := sumChunks(t, all)
	if acc.Content != "Hi there" || acc.Finish != "stop" || acc.UsageChunks != 1 || acc.ID != "msg_bdrk_01V3wqSXJ7XB5qMzsnR1sCzW" {
		t.Errorf("chunkSum %+v", acc)
	}
	want := adaptors.Usage{PromptTokens: 14, CompletionTokens: 6, TotalTokens: 20}
	if last := all[len(all)-1].Usage; last == nil || *last != want {
		t.Errorf("final usage %v", last)
	}
}

func TestJSONStringLen(t *testing.T) {
	tests := []struct {
		raw string
		n   int
		ok  bool
	}{
		{`""`, 0, true},
		{`"abc"`, 3, true},
		{`"a\nb\"c\\"`, 6, true},
		{`"\u00e9"`, 2, true},
		{`"\ud83d\udc4b"`, 4, true},
		{`"\ud83d"`, 3, true},
		{`"é👋"`, 6, true},
		{`"\x"`, 0, false},
		{`"\u12"`, 0, false},
		{`"a"b"`, 0, false},
		{"\"a\x01\"", 0, false},
		{`"abc`, 0, false},
		{`abc`, 0, false},
		{`null`, 0, false},
		{`"\"`, 0, false},
	}
	for _, tt := range tests {
		n, ok := jsonStringLen([]byte(tt.raw))
		if n != tt.n || ok != tt.ok {
			t.Errorf("jsonStringLen(%s) = %d, %v; want %d, %v", tt.raw, n, ok, tt.n, tt.ok)
		}
		if ok && !json.Valid([]byte(tt.raw)) {
			t.Errorf("%s accepted but not valid JSON", tt.raw)
		}
	}
}

func FuzzStreamDecoder(f *testing.F) {
	for _, c := range streamGoldenCases() {
		f.Add(adaptortest.ReadFile(f, "testdata/stream/"+c.file), c.includeUsage)
	}
	f.Add([]byte("event: error\ndata: {\"type\":\"error\"}\n\n"), false)
	f.Add([]byte("data: {\"type\":\"content_block_delta\",\"index\":99999999,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"x\"}}\n\n"), true)
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		d := a.NewStreamDecoder(outReq(true, includeUsage), bytes.NewReader(body))
		for range len(body) + 16 {
			ev, err := d.Next()
			if err != nil {
				if _, again := d.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			}
			if ev.Data != nil && !json.Valid(ev.Data) {
				t.Fatalf("invalid chunk JSON: %s", ev.Data)
			}
			if ev.TextBytes < 0 {
				t.Fatal("negative TextBytes")
			}
		}
		t.Fatalf("decoder did not end within %d events", len(body)+16)
	})
}
