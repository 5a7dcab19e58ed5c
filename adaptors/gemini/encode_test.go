package gemini

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

type streamCase struct {
	name  string
	file  string
	usage *adaptors.Usage // passed to Finish
	err   error           // passed to Finish
}

func streamCases() []streamCase {
	return []streamCase{
		{"text", "text.sse", nil, nil},
		{"tool_call", "tool_call.sse", nil, nil},
		{"reasoning", "reasoning.sse", nil, nil},
		{"parallel_interleaved", "parallel_interleaved.sse", nil, nil},
		{"same_index_ids", "same_index_ids.sse", nil, nil},
		{"two_choices", "two_choices.sse", nil, nil},
		// No usage in the stream: the transport passes its estimate.
		{"length_estimated_usage", "length_no_usage.sse", &adaptors.Usage{PromptTokens: 14, CompletionTokens: 4, TotalTokens: 18}, nil},
		{"length_no_usage_at_all", "length_no_usage.sse", nil, nil},
		{"error_upstream_429", "error_midstream.sse", nil, &schema.Error{Status: 429, Message: "Rate limit reached for gpt-4o"}},
		{"error_read", "error_midstream.sse", nil, errors.New("upstream stream interrupted")},
	}
}

func runStream(t testing.TB, c streamCase) [][]byte {
	t.Helper()
	e := NewStreamEncoder("gemini-2.5-flash")
	var ps [][]byte
	forEachPayload(t, "testdata/inbound/stream/"+c.file, func(data []byte) {
		got, err := e.Chunk(data)
		if err != nil {
			t.Fatalf("Chunk(%s): %v", data, err)
		}
		ps = append(ps, got...)
	})
	ps = append(ps, e.Finish(c.usage, c.err)...)
	if more := e.Finish(c.usage, c.err); more != nil {
		t.Errorf("second Finish yielded %d payloads", len(more))
	}
	return ps
}

func TestStreamGolden(t *testing.T) {
	for _, c := range streamCases() {
		t.Run(c.name, func(t *testing.T) {
			ps := runStream(t, c)
			if _, err := accumulate(ps); err != nil {
				t.Errorf("invalid Gemini stream: %v", err)
			}
			adaptortest.Golden(t, "testdata/inbound/stream/"+c.name+".golden", []byte(renderPayloads(ps)), *update)
		})
	}
}

func TestStreamAccumulated(t *testing.T) {
	tests := []struct {
		name      string
		want      streamResult
		wantError string
	}{
		{name: "text", want: streamResult{
			Text: map[int]string{0: "Hello! How can I help?"}, Thoughts: map[int]string{}, Calls: map[int][]callView{}, Finish: map[int]string{0: "STOP"},
			Usage: &usageMetadata{PromptTokenCount: 19, CandidatesTokenCount: 6, TotalTokenCount: 25},
		}},
		{name: "reasoning", want: streamResult{
			Text: map[int]string{0: "你好！"}, Thoughts: map[int]string{0: "嗯，用户打招呼。"}, Calls: map[int][]callView{}, Finish: map[int]string{0: "STOP"},
			Usage: &usageMetadata{PromptTokenCount: 13, CandidatesTokenCount: 10, TotalTokenCount: 78, ThoughtsTokenCount: 55},
		}},
		{name: "parallel_interleaved", want: streamResult{
			Text: map[int]string{0: "Checking both."}, Thoughts: map[int]string{},
			Calls: map[int][]callView{0: {
				{Name: "get_weather", ID: "call_W2pBqRDm1G2CNs5UJ2Lm8mWy", Args: `{"location":"New York, NY"}`},
				{Name: "get_time", ID: "call_q8Ys2NlYqtxV4bS0wL0cD7kA", Args: `{"timezone":"America/New_York"}`},
			}},
			Finish: map[int]string{0: "STOP"},
			Usage:  &usageMetadata{PromptTokenCount: 2150, CandidatesTokenCount: 48, TotalTokenCount: 2198, CachedContentTokenCount: 2048},
		}},
		{name: "same_index_ids", want: streamResult{
			Text: map[int]string{}, Thoughts: map[int]string{},
			Calls: map[int][]callView{0: {
				{Name: "get_weather", ID: "function-call-4772471215937245539", Args: `{"location":"Paris"}`},
				{Name: "get_weather", ID: "function-call-4772471215937245540", Args: `{"location":"Tokyo"}`},
			}},
			Finish: map[int]string{0: "STOP"},
			Usage:  &usageMetadata{PromptTokenCount: 60, CandidatesTokenCount: 20, TotalTokenCount: 80},
		}},
		{name: "two_choices", want: streamResult{
			Text: map[int]string{0: "Eight paws.", 1: "Two dogs have eight paws."}, Thoughts: map[int]string{}, Calls: map[int][]callView{},
			Finish: map[int]string{0: "STOP", 1: "MAX_TOKENS"},
			Usage:  &usageMetadata{PromptTokenCount: 31, CandidatesTokenCount: 12, TotalTokenCount: 43},
		}},
		{name: "length_estimated_usage", want: streamResult{
			Text: map[int]string{0: "Large language models are"}, Thoughts: map[int]string{}, Calls: map[int][]callView{}, Finish: map[int]string{0: "MAX_TOKENS"},
			Usage: &usageMetadata{PromptTokenCount: 14, CandidatesTokenCount: 4, TotalTokenCount: 18},
		}},
		{name: "length_no_usage_at_all", want: streamResult{
			Text: map[int]string{0: "Large language models are"}, Thoughts: map[int]string{}, Calls: map[int][]callView{}, Finish: map[int]string{0: "MAX_TOKENS"},
		}},
		{name: "error_upstream_429", wantError: `{429 Rate limit reached for gpt-4o RESOURCE_EXHAUSTED}`},
		{name: "error_read", wantError: `{500 upstream stream interrupted INTERNAL}`},
	}
	cases := map[string]streamCase{}
	for _, c := range streamCases() {
		cases[c.name] = c
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := accumulate(runStream(t, cases[tt.name]))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantError != "" {
				if r.Error == nil {
					t.Fatalf("no error payload")
				}
				if got := fmtErr(r.Error); got != tt.wantError {
					t.Errorf("error = %s, want %s", got, tt.wantError)
				}
				return
			}
			if diff := cmp.Diff(&tt.want, r); diff != "" {
				t.Errorf("stream (-want +got):\n%s", diff)
			}
		})
	}
}

func fmtErr(e *errorEnvelope) string {
	return fmt.Sprintf("{%d %s %s}", e.Error.Code, e.Error.Message, e.Error.Status)
}

func TestStreamBadChunks(t *testing.T) {
	for _, data := range []string{
		`not json`,
		`{"id":"x","choices":[`,
		`{"error":{"message":"The server had an error","type":"server_error"}}`,
		`[1,2]`,
	} {
		e := NewStreamEncoder("m")
		if _, err := e.Chunk([]byte(data)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("Chunk(%s) = %v, want ErrInvalidResponse", data, err)
		}
	}
	e := NewStreamEncoder("m")
	if ps, err := e.Chunk([]byte("[DONE]")); ps != nil || err != nil {
		t.Errorf("[DONE] = %v, %v", ps, err)
	}
}

// TestStreamEmpty covers an upstream stream that ended before any chunk:
// the client still gets a final payload.
func TestStreamEmpty(t *testing.T) {
	e := NewStreamEncoder("m")
	ps := e.Finish(&adaptors.Usage{PromptTokens: 5, TotalTokens: 5}, nil)
	r, err := accumulate(ps)
	if err != nil {
		t.Fatalf("%v\n%s", err, renderPayloads(ps))
	}
	if r.Finish[0] != "STOP" || r.Usage.PromptTokenCount != 5 {
		t.Errorf("result = %+v", r)
	}
	if ps, err := e.Chunk([]byte(`{"choices":[{"index":0,"delta":{"content":"late"}}]}`)); ps != nil || err != nil {
		t.Errorf("Chunk after Finish = %v, %v", ps, err)
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
		e := NewStreamEncoder("m")
		var ps [][]byte
		var streamErr error
		for _, line := range strings.Split(string(in), "\n") {
			got, err := e.Chunk([]byte(line))
			ps = append(ps, got...)
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
		ps = append(ps, e.Finish(nil, streamErr)...)
		r, err := accumulate(ps)
		if err != nil {
			t.Fatalf("invalid stream: %v\n%s", err, renderPayloads(ps))
		}
		if (r.Error != nil) != (streamErr != nil) {
			t.Fatalf("error payload %v for stream error %v", r.Error, streamErr)
		}
	})
}
