package baidu

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func streamReq(includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-4.0-8K", OriginModel: "ERNIE-4.0-8K", Stream: true, IncludeUsage: includeUsage, Created: 1735689600}
}

// TestStreamGolden decodes each stream of testdata/stream into client
// events (with usage and text counts) and the end.
func TestStreamGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/stream/*")
	a := New()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		t.Run(name, func(t *testing.T) {
			d := a.NewStreamDecoder(streamReq(true), bytes.NewReader(adaptortest.ReadFile(t, f)))
			evs, err := adaptortest.Drain(t, d)
			adaptortest.Golden(t, "testdata/stream/"+name+".golden", renderEvents(evs, err), *update)
			if _, again := d.Next(); again != err {
				t.Errorf("Next after the end = %v, want %v again", again, err)
			}
		})
	}
	if n == 0 {
		t.Fatal("no stream fixtures")
	}
}

// TestStreamUsageBilledOnce: Baidu repeats cumulative totals in every
// payload. The usage the gateway gets is the last figures (the final
// payload's), never a sum of the repeats.
func TestStreamUsageBilledOnce(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/stream/chat.sse")
	for _, include := range []bool{false, true} {
		evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamReq(include), bytes.NewReader(body)))
		if err != io.EOF {
			t.Fatal(err)
		}
		var last *adaptors.Usage
		sum, reports := 0, 0
		for _, ev := range evs {
			if ev.Usage != nil {
				last = ev.Usage
				sum += ev.Usage.CompletionTokens
				reports++
			}
		}
		want := adaptors.Usage{PromptTokens: 5, CompletionTokens: 420, TotalTokens: 425}
		if last == nil || *last != want {
			t.Fatalf("include_usage=%v: last usage %v, want %+v", include, last, want)
		}
		if reports < 2 || sum == want.CompletionTokens {
			t.Fatalf("fixture should repeat usage (reports=%d, sum=%d)", reports, sum)
		}
		// The final event is the usage event, shown only when asked.
		end := evs[len(evs)-1]
		if end.Usage == nil || (end.Data != nil) != include {
			t.Errorf("include_usage=%v: final event %+v", include, end)
		}
		if include && !bytes.Contains(end.Data, []byte(`"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":420,"total_tokens":425}`)) {
			t.Errorf("usage chunk %s", end.Data)
		}
	}
}

// TestStreamText: the client gets exactly the streamed text, the role
// first, one finish reason.
func TestStreamText(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/stream/chat.sse")
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamReq(false), bytes.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	var text strings.Builder
	textBytes := 0
	var finish []string
	for i, c := range parseClientChunks(t, evs) {
		if i == 0 && c.Choices[0].Delta.Role != "assistant" {
			t.Errorf("first chunk has no role")
		}
		if i > 0 && c.Choices[0].Delta.Role != "" {
			t.Errorf("chunk %d repeats the role", i)
		}
		text.WriteString(c.Choices[0].Delta.Content)
		if r := c.Choices[0].FinishReason; r != nil {
			finish = append(finish, *r)
		}
		if c.ID != "as-vb0m37ti8y" || c.Created != 1709089502 || c.Model != "ERNIE-4.0-8K" || c.Object != "chat.completion.chunk" {
			t.Errorf("chunk %d header %+v", i, c)
		}
	}
	for _, ev := range evs {
		textBytes += ev.TextBytes
	}
	var want strings.Builder
	for _, line := range strings.Split(string(body), "\n\n") {
		if r := resultOf(t, line); r != "" {
			want.WriteString(r)
		}
	}
	if text.String() != want.String() || textBytes != want.Len() {
		t.Errorf("text %q (%d bytes counted), want %q", text.String(), textBytes, want.String())
	}
	if diff := cmp.Diff([]string{"stop"}, finish); diff != "" {
		t.Errorf("finish reasons (-want +got):\n%s", diff)
	}
}

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   io.Reader
		status int // of the *schema.Error; 0 for another error
		want   error
	}{
		{"error object instead of a stream", strings.NewReader(`{"error_code":110,"error_msg":"Access token invalid or no longer valid"}`), http.StatusUnauthorized, nil},
		{"error object after whitespace, one byte at a time", iotest.OneByteReader(strings.NewReader("\n  {\"error_code\":336501,\"error_msg\":\"Rate limit reached for RPM\"}")), http.StatusTooManyRequests, nil},
		{"error payload mid-stream", bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/error_midway.sse")), http.StatusServiceUnavailable, nil},
		{"truncated", bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/truncated.sse")), 0, io.ErrUnexpectedEOF},
		{"empty", strings.NewReader(""), 0, io.ErrUnexpectedEOF},
		{"only whitespace", strings.NewReader("\n\n   \n"), 0, io.ErrUnexpectedEOF},
		{"read error", iotest.ErrReader(errors.New("connection reset")), 0, nil},
		{"read error mid-stream", io.MultiReader(strings.NewReader("data: {\"id\":\"a\",\"result\":\"x\",\"is_end\":false}\n\n"), iotest.ErrReader(errors.New("connection reset"))), 0, nil},
		{"not json", strings.NewReader("data: hello\n\n"), 0, adaptors.ErrInvalidResponse},
		{"broken json", strings.NewReader("data: {\"id\":\n\n"), 0, adaptors.ErrInvalidResponse},
		{"json object that is no answer", strings.NewReader(`{"foo":1}`), 0, adaptors.ErrInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := adaptortest.Drain(t, New().NewStreamDecoder(streamReq(true), tt.body))
			var se *schema.Error
			switch {
			case err == nil || err == io.EOF:
				t.Fatalf("ended with %v", err)
			case tt.status != 0 && (!errors.As(err, &se) || se.Status != tt.status):
				t.Errorf("got %v, want a *schema.Error with status %d", err, tt.status)
			case tt.status == 0 && errors.As(err, &se):
				t.Errorf("got *schema.Error %v for a read/format failure", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestStreamWholeAnswer: a stream request answered with a whole JSON
// answer is converted as a one-payload stream.
func TestStreamWholeAnswer(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/response/chat_function_call.json")
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamReq(false), bytes.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	chunks := parseClientChunks(t, evs)
	if len(chunks) != 2 || len(chunks[0].Choices[0].Delta.ToolCalls) != 1 || *chunks[1].Choices[0].FinishReason != "tool_calls" {
		t.Errorf("events %s", renderEvents(evs, err))
	}
}

// TestStreamFunctionCallFragments: a function call continued over
// payloads keeps one index and id; a new function opens a new call.
func TestStreamFunctionCallFragments(t *testing.T) {
	body := "data: {\"id\":\"as-1\",\"created\":5,\"is_end\":false,\"result\":\"\",\"function_call\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}\n\n" +
		"data: {\"id\":\"as-1\",\"created\":5,\"is_end\":false,\"result\":\"\",\"function_call\":{\"name\":\"\",\"arguments\":\"1}\"}}\n\n" +
		"data: {\"id\":\"as-1\",\"created\":5,\"is_end\":true,\"result\":\"\",\"function_call\":{\"name\":\"g\",\"arguments\":\"\"},\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}\n\n"
	evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamReq(false), strings.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	type call struct{ id, name, args string }
	calls := map[int]*call{}
	for _, c := range parseClientChunks(t, evs) {
		for _, tc := range c.Choices[0].Delta.ToolCalls {
			if calls[tc.Index] == nil {
				calls[tc.Index] = &call{id: tc.ID, name: tc.Function.Name}
			} else if tc.ID != "" {
				t.Errorf("call %d repeats its id", tc.Index)
			}
			calls[tc.Index].args += tc.Function.Arguments
		}
	}
	want := map[int]*call{0: {"call_as-1", "f", `{"a":1}`}, 1: {"call_as-1_1", "g", "{}"}}
	if diff := cmp.Diff(want, calls, cmp.AllowUnexported(call{})); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// clientChunk is the part of a chat.completion.chunk the tests read.
type clientChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
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

// parseClientChunks decodes the events' chunks, skipping the usage-only one.
func parseClientChunks(t *testing.T, evs []adaptors.StreamEvent) []clientChunk {
	t.Helper()
	var out []clientChunk
	for _, ev := range evs {
		if ev.Data == nil || bytes.Contains(ev.Data, []byte(`"choices":[]`)) {
			continue
		}
		var c clientChunk
		if err := jsonUnmarshal(ev.Data, &c); err != nil || len(c.Choices) != 1 {
			t.Fatalf("bad chunk %v: %s", err, ev.Data)
		}
		out = append(out, c)
	}
	return out
}

// resultOf returns the result of one "data: …" line of a fixture.
func resultOf(t *testing.T, line string) string {
	t.Helper()
	data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: ")
	if !ok {
		return ""
	}
	var v struct {
		Result string `json:"result"`
	}
	if err := jsonUnmarshal([]byte(data), &v); err != nil {
		t.Fatal(err)
	}
	return v.Result
}
