package anthropic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

type streamCase struct {
	name        string
	file        string
	inputTokens int
	usage       *adaptors.Usage // passed to Finish
	err         error           // passed to Finish
}

func streamCases() []streamCase {
	return []streamCase{
		{"text", "text.sse", 17, nil, nil},
		{"tool_call", "tool_call.sse", 60, nil, nil},
		{"reasoning", "reasoning.sse", 10, nil, nil},
		{"parallel_interleaved", "parallel_interleaved.sse", 2100, nil, nil},
		{"parallel_sequential", "parallel_sequential.sse", 80, nil, nil},
		{"same_index_ids", "same_index_ids.sse", 50, nil, nil},
		// No usage in the stream: the transport passes its estimate.
		{"length_estimated_usage", "length_no_usage.sse", 14, &adaptors.Usage{PromptTokens: 14, CompletionTokens: 4, TotalTokens: 18}, nil},
		{"length_no_usage_at_all", "length_no_usage.sse", 14, nil, nil},
		{"vllm_stop_sequence", "vllm_stop_sequence.sse", 25, nil, nil},
		{"error_upstream_429", "error_midstream.sse", 19, nil, &schema.Error{Status: 429, Message: "Rate limit reached for gpt-4o", Type: "tokens"}},
		{"error_read", "error_midstream.sse", 19, nil, errors.New("upstream stream interrupted")},
	}
}

// runStream feeds a capture through an encoder and returns every event.
func runStream(t testing.TB, c streamCase) []Event {
	t.Helper()
	e := NewStreamEncoder("claude-sonnet-4-5", c.inputTokens)
	var evs []Event
	forEachPayload(t, "testdata/inbound/stream/"+c.file, func(data []byte) {
		got, err := e.Chunk(data)
		if err != nil {
			t.Fatalf("Chunk(%s): %v", data, err)
		}
		evs = append(evs, got...)
	})
	evs = append(evs, e.Finish(c.usage, c.err)...)
	if more := e.Finish(c.usage, c.err); more != nil {
		t.Errorf("second Finish yielded %d events", len(more))
	}
	return evs
}

func TestStreamGolden(t *testing.T) {
	for _, c := range streamCases() {
		t.Run(c.name, func(t *testing.T) {
			evs := runStream(t, c)
			if _, err := accumulate(evs); err != nil {
				t.Errorf("invalid Anthropic stream: %v", err)
			}
			adaptortest.Golden(t, "testdata/inbound/stream/"+c.name+".golden", []byte(renderEvents(evs)), *update)
		})
	}
}

// TestStreamAccumulated checks what a client that accumulates the stream
// ends up with.
func TestStreamAccumulated(t *testing.T) {
	seq := "5"
	tests := []struct {
		name      string
		wantBlock []accBlock
		wantStop  string
		wantSeq   *string
		wantUsage usageOut
	}{
		{"text", []accBlock{{Type: "text", Text: "Hello! How can I help?"}}, "end_turn", nil, usageOut{InputTokens: 19, OutputTokens: 6}},
		{"tool_call", []accBlock{{Type: "tool_use", ID: "call_ja2mGHfGGrV6oxHKqXVzkYrj", Name: "get_weather", Input: `{"location":"Paris, France"}`}}, "tool_use", nil, usageOut{InputTokens: 68, OutputTokens: 17}},
		{"reasoning", []accBlock{{Type: "thinking", Thinking: "嗯，用户打招呼。"}, {Type: "text", Text: "你好！"}}, "end_turn", nil, usageOut{InputTokens: 13, OutputTokens: 65}},
		{"parallel_interleaved", []accBlock{
			{Type: "text", Text: "Checking both."},
			{Type: "tool_use", ID: "call_W2pBqRDm1G2CNs5UJ2Lm8mWy", Name: "get_weather", Input: `{"location": "New York, NY"}`},
			{Type: "tool_use", ID: "call_q8Ys2NlYqtxV4bS0wL0cD7kA", Name: "get_time", Input: `{"timezone": "America/New_York"}`},
		}, "tool_use", nil, usageOut{InputTokens: 102, CacheReadInputTokens: 2048, OutputTokens: 48}},
		{"parallel_sequential", []accBlock{
			{Type: "tool_use", ID: "call_A1b2C3d4E5f6G7h8I9j0K1l2", Name: "get_weather", Input: `{"location": "Paris"}`},
			{Type: "tool_use", ID: "call_M3n4O5p6Q7r8S9t0U1v2W3x4", Name: "get_weather", Input: `{"location": "Tokyo"}`},
		}, "tool_use", nil, usageOut{InputTokens: 82, OutputTokens: 46}},
		{"same_index_ids", []accBlock{
			{Type: "tool_use", ID: "function-call-4772471215937245539", Name: "get_weather", Input: `{"location":"Paris"}`},
			{Type: "tool_use", ID: "function-call-4772471215937245540", Name: "get_weather", Input: `{"location":"Tokyo"}`},
		}, "tool_use", nil, usageOut{InputTokens: 60, OutputTokens: 20}},
		{"length_estimated_usage", []accBlock{{Type: "text", Text: "Large language models are"}}, "max_tokens", nil, usageOut{InputTokens: 14, OutputTokens: 4}},
		{"length_no_usage_at_all", []accBlock{{Type: "text", Text: "Large language models are"}}, "max_tokens", nil, usageOut{InputTokens: 14}},
		{"vllm_stop_sequence", []accBlock{{Type: "text", Text: "1, 2, 3, 4"}}, "stop_sequence", &seq, usageOut{InputTokens: 25, OutputTokens: 12}},
	}
	cases := map[string]streamCase{}
	for _, c := range streamCases() {
		cases[c.name] = c
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := accumulate(runStream(t, cases[tt.name]))
			if err != nil {
				t.Fatal(err)
			}
			if m.Model != "claude-sonnet-4-5" || !strings.HasPrefix(m.ID, "msg_") {
				t.Errorf("id, model = %q, %q", m.ID, m.Model)
			}
			if diff := cmp.Diff(tt.wantBlock, m.Content); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			if m.StopReason != tt.wantStop || !cmp.Equal(m.StopSequence, tt.wantSeq) {
				t.Errorf("stop = %q %v, want %q %v", m.StopReason, m.StopSequence, tt.wantStop, tt.wantSeq)
			}
			if diff := cmp.Diff(tt.wantUsage, m.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantType string
		wantMsg  string
	}{
		{"rate limit", &schema.Error{Status: 429, Message: "slow down"}, "rate_limit_error", "slow down"},
		{"overloaded", &schema.Error{Status: 503, Message: "no capacity"}, "overloaded_error", "no capacity"},
		{"no status", &schema.Error{Message: "broken"}, "api_error", "broken"},
		{"plain", errors.New("stream interrupted"), "api_error", "stream interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewStreamEncoder("m", 1)
			if _, err := e.Chunk([]byte(`{"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}`)); err != nil {
				t.Fatal(err)
			}
			evs := e.Finish(nil, tt.err)
			if len(evs) != 1 || evs[0].Name != EventError {
				t.Fatalf("events = %s", renderEvents(evs))
			}
			var env errorEnvelope
			if err := json.Unmarshal(evs[0].Data, &env); err != nil {
				t.Fatal(err)
			}
			if env.Type != "error" || env.Error.Type != tt.wantType || env.Error.Message != tt.wantMsg {
				t.Errorf("error event = %s", evs[0].Data)
			}
		})
	}
}

func TestStreamBadChunks(t *testing.T) {
	for _, data := range []string{
		`not json`,
		`{"id":"x","choices":[`,
		`{"error":{"message":"The server had an error","type":"server_error"}}`,
		`[1,2]`,
	} {
		e := NewStreamEncoder("m", 1)
		if _, err := e.Chunk([]byte(data)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("Chunk(%s) = %v, want ErrInvalidResponse", data, err)
		}
	}
	e := NewStreamEncoder("m", 1)
	if evs, err := e.Chunk([]byte("[DONE]")); evs != nil || err != nil {
		t.Errorf("[DONE] = %v, %v", evs, err)
	}
}

// TestStreamEmpty covers an upstream stream that ended before any chunk:
// the client still gets a complete, valid message.
func TestStreamEmpty(t *testing.T) {
	e := NewStreamEncoder("m", 7)
	evs := e.Finish(nil, nil)
	m, err := accumulate(evs)
	if err != nil {
		t.Fatalf("%v\n%s", err, renderEvents(evs))
	}
	if len(m.Content) != 0 || m.StopReason != "end_turn" || m.Usage.InputTokens != 7 {
		t.Errorf("message = %+v", m)
	}
	if evs, err := e.Chunk([]byte(`{"choices":[{"index":0,"delta":{"content":"late"}}]}`)); evs != nil || err != nil {
		t.Errorf("Chunk after Finish = %v, %v", evs, err)
	}
}

// TestStreamTextAfterToolCall: text that arrives once tool calls have
// begun is held back and sent after them, never inside the open block.
func TestStreamTextAfterToolCall(t *testing.T) {
	e := NewStreamEncoder("m", 1)
	var evs []Event
	for _, c := range []string{
		`{"id":"a","choices":[{"index":0,"delta":{"reasoning_content":"think"}}]}`,
		`{"id":"a","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"arguments":"{\"a\""}}]}}]}`,
		`{"id":"a","choices":[{"index":0,"delta":{"content":"by the way"}}]}`,
		`{"id":"a","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":":1}"}}]}}]}`,
		`{"id":"a","choices":[{"index":1,"delta":{"content":"other choice"}}]}`,
		`{"id":"a","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}]}`,
	} {
		got, err := e.Chunk([]byte(c))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, got...)
	}
	evs = append(evs, e.Finish(nil, nil)...)
	m, err := accumulate(evs)
	if err != nil {
		t.Fatalf("%v\n%s", err, renderEvents(evs))
	}
	want := []accBlock{
		{Type: "thinking", Thinking: "think"},
		{Type: "tool_use", ID: "c1", Name: "f", Input: `{"a":1}`},
		{Type: "text", Text: "by the way!"},
	}
	if diff := cmp.Diff(want, m.Content); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	// A stop finish with tool calls is still tool_use for the client's loop.
	if m.StopReason != "tool_use" {
		t.Errorf("stop_reason = %q", m.StopReason)
	}
}

func FuzzStreamEncoder(f *testing.F) {
	for _, c := range streamCases() {
		var seed []byte
		forEachPayload(f, "testdata/inbound/stream/"+c.file, func(data []byte) {
			seed = append(append(seed, data...), '\n')
		})
		f.Add(seed, c.err != nil)
	}
	f.Fuzz(func(t *testing.T, in []byte, fail bool) {
		e := NewStreamEncoder("m", 3)
		var evs []Event
		var streamErr error
		for _, line := range strings.Split(string(in), "\n") {
			got, err := e.Chunk([]byte(line))
			evs = append(evs, got...)
			if err != nil {
				if !errors.Is(err, adaptors.ErrInvalidResponse) {
					t.Fatalf("Chunk error %v does not wrap ErrInvalidResponse", err)
				}
				streamErr = err
				break
			}
		}
		if fail && streamErr == nil {
			streamErr = errors.New("cut")
		}
		evs = append(evs, e.Finish(nil, streamErr)...)
		m, err := accumulate(evs)
		if err != nil {
			t.Fatalf("invalid stream: %v\n%s", err, renderEvents(evs))
		}
		if (m.Error != nil) != (streamErr != nil) {
			t.Fatalf("error event %v for stream error %v", m.Error, streamErr)
		}
	})
}
