package tencent

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
	"switchyard/adaptors/schema"
)

func streamRequest(includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-turbos-latest", OriginModel: "hunyuan", Stream: true,
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
	case errors.Is(err, io.ErrUnexpectedEOF):
		b.WriteString("end: io.ErrUnexpectedEOF\n")
	case errors.Is(err, adaptors.ErrInvalidResponse):
		b.WriteString("end: invalid response error\n")
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
		{"multi_turn", "multi_turn.sse", false},
		{"tool_call", "tool_call.sse", true},
		{"tool_call_parallel", "tool_call_parallel.sse", false},
		{"reasoning", "reasoning.sse", true},
		{"sensitive", "sensitive.sse", false},
		{"error_msg", "error_msg.sse", true},
		{"error_event", "error_event.sse", true},
		{"json_error", "json_error.json", true},
		{"truncated", "truncated.sse", true},
	}
	a := testAdaptor()
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

// accumulated joins a stream's chunks the way an OpenAI client does.
type accumulated struct {
	Role, Content, Reasoning string
	Calls                    []accCall
	Finish                   []string
}

type accCall struct {
	ID, Type, Name, Args string
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
						Type     string `json:"type"`
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
			t.Fatalf("%v: %s", err, ev.Data)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Role != "" {
				if acc.Role != "" {
					t.Errorf("role sent twice")
				}
				acc.Role = ch.Delta.Role
			}
			acc.Content += ch.Delta.Content
			acc.Reasoning += ch.Delta.ReasoningContent
			for _, tc := range ch.Delta.ToolCalls {
				for len(acc.Calls) <= tc.Index {
					acc.Calls = append(acc.Calls, accCall{})
				}
				c := &acc.Calls[tc.Index]
				if tc.ID != "" {
					if c.ID != "" {
						t.Errorf("call %d: id sent twice", tc.Index)
					}
					c.ID, c.Type, c.Name = tc.ID, tc.Type, tc.Function.Name
				}
				c.Args += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				acc.Finish = append(acc.Finish, *ch.FinishReason)
			}
		}
	}
	return acc
}

// TestStreamAccumulates: what a client assembles from the stream is the
// answer Hunyuan streamed.
func TestStreamAccumulates(t *testing.T) {
	tests := []struct {
		file string
		want accumulated
	}{
		{"chat.sse", accumulated{Role: "assistant", Content: "1+1=2", Finish: []string{"stop"}}},
		{"reasoning.sse", accumulated{Role: "assistant", Content: "1+1=2。", Reasoning: "用户问1+1等于几，答案是2。", Finish: []string{"stop"}}},
		{"tool_call.sse", accumulated{Role: "assistant",
			Content: "计划使用get_current_weather工具来获取北京和深圳的当前天气。\n\t\n\t用户想要知道北京和深圳今天的天气情况。用户的请求是关于天气的查询，需要使用天气查询工具来获取信息。",
			Calls:   []accCall{{ID: "call_cq154vk2c3m1v7ep3530", Type: "function", Name: "get_current_weather", Args: `{"location":"北京"}`}},
			Finish:  []string{"tool_calls"}}},
		{"tool_call_parallel.sse", accumulated{Role: "assistant", Calls: []accCall{
			{ID: "call_d0a1k9s2c3m1v7ep3600", Type: "function", Name: "get_current_weather", Args: `{"location":"北京"}`},
			{ID: "call_d0a1k9s2c3m1v7ep360g", Type: "function", Name: "get_current_weather", Args: `{"location":"深圳"}`},
		}, Finish: []string{"tool_calls"}}},
		{"sensitive.sse", accumulated{Role: "assistant", Content: "这个", Finish: []string{"content_filter"}}},
	}
	a := testAdaptor()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			evs, err := adaptortest.Drain(t, a.NewStreamDecoder(streamRequest(false), bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/"+tt.file))))
			if err != io.EOF {
				t.Fatalf("end %v", err)
			}
			if diff := cmp.Diff(tt.want, accumulate(t, evs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestStreamUsageBilledOnce: Hunyuan repeats its usage in every chunk,
// cumulatively. The decoder passes the figures on as they are (never
// summed), only when they change, and the last report — the one the
// gateway bills — equals the final chunk's totals; the usage-only chunk
// shows them once, to clients that asked.
func TestStreamUsageBilledOnce(t *testing.T) {
	tests := []struct {
		file string
		want adaptors.Usage
	}{
		{"chat.sse", adaptors.Usage{PromptTokens: 4, CompletionTokens: 5, TotalTokens: 9}},
		{"multi_turn.sse", adaptors.Usage{PromptTokens: 85, CompletionTokens: 7, TotalTokens: 92}},
		{"tool_call.sse", adaptors.Usage{PromptTokens: 6, CompletionTokens: 46, TotalTokens: 52}},
	}
	a := testAdaptor()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			for _, include := range []bool{false, true} {
				evs, err := adaptortest.Drain(t, a.NewStreamDecoder(streamRequest(include), bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/"+tt.file))))
				if err != io.EOF {
					t.Fatalf("end %v", err)
				}
				var last *adaptors.Usage
				reports := 0
				for _, ev := range evs {
					if ev.Usage != nil {
						if last != nil && *last == *ev.Usage && ev.Data != nil && !bytes.Contains(ev.Data, []byte(`"choices":[]`)) {
							t.Errorf("usage %+v reported again without change", *ev.Usage)
						}
						last = ev.Usage
						reports++
					}
				}
				if last == nil || *last != tt.want {
					t.Fatalf("last usage %v, want %+v", last, tt.want)
				}
				if reports < 2 {
					t.Errorf("usage reported %d times; Hunyuan's cumulative reports are expected on the way", reports)
				}
				// The usage-only chunk (shown only when asked) carries the
				// final figures once.
				shown := 0
				for _, ev := range evs {
					if bytes.Contains(ev.Data, []byte(`"choices":[]`)) {
						shown++
						if !bytes.Contains(ev.Data, fmt.Appendf(nil, `"total_tokens":%d`, tt.want.TotalTokens)) {
							t.Errorf("usage chunk %s", ev.Data)
						}
					}
				}
				if want := map[bool]int{false: 0, true: 1}[include]; shown != want {
					t.Errorf("include_usage=%v: %d usage chunks", include, shown)
				}
			}
		})
	}
}

// TestStreamEnd: the chunk with a FinishReason ends the stream; nothing
// after it is read, and Next keeps returning io.EOF.
func TestStreamEnd(t *testing.T) {
	body := append(adaptortest.ReadFile(t, "testdata/stream/chat.sse"),
		"data: {\"Choices\":[{\"Delta\":{\"Role\":\"assistant\",\"Content\":\"LEAK\"},\"FinishReason\":\"\"}]}\n\ngarbage\n"...)
	r := &countingReader{r: bytes.NewReader(body)}
	d := testAdaptor().NewStreamDecoder(streamRequest(true), r)
	evs, err := adaptortest.Drain(t, d)
	if err != io.EOF {
		t.Fatalf("end %v", err)
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

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestStreamErrors: errors inside the stream, a JSON body instead of a
// stream, read errors and garbage all end the stream with an error that
// is not io.EOF, and the error sticks.
func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name, body string
		status     int // a *schema.Error with this status; 0: another error
	}{
		{"bare error chunk", `data: {"Error":{"Code":"LimitExceeded","Message":"超过配额限制。"}}` + "\n\n", 429},
		{"wrapped error chunk", `data: {"Response":{"Error":{"Code":"FailedOperation.EngineRequestTimeout","Message":"引擎层请求超时；请稍后重试。"},"RequestId":"r"}}` + "\n\n", 504},
		{"error msg 4000", `data: {"Choices":[],"ErrorMsg":{"Msg":"服务内部异常","Code":4000}}` + "\n\n", 500},
		{"pretty json error body", "\n  {\n  \"Response\": {\n    \"Error\": {\"Code\": \"AuthFailure.SecretIdNotFound\", \"Message\": \"The SecretId is not found, please ensure that your SecretId is correct.\"},\n    \"RequestId\": \"x\"\n  }\n}\n", 401},
		{"json body without error", `{"Response":{"Choices":[{"Message":{"Content":"x"}}]}}`, 0},
		{"not json", "data: hello\n\n", 0},
		{"empty", "", 0},
		{"only keep-alives", ": ping\n\n: ping\n\n", 0},
		{"cut in an event", "data: {\"Choices\":[{\"Delta\":{\"Content\":\"x\"}", 0},
	}
	a := testAdaptor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := a.NewStreamDecoder(streamRequest(true), strings.NewReader(tt.body))
			_, err := adaptortest.Drain(t, d)
			if err == nil || err == io.EOF {
				t.Fatalf("end %v", err)
			}
			var se *schema.Error
			if tt.status != 0 && (!errors.As(err, &se) || se.Status != tt.status || se.Message == "") {
				t.Errorf("err %v, want a schema error %d", err, tt.status)
			}
			if tt.status == 0 && errors.As(err, &se) {
				t.Errorf("err %v is a schema error", err)
			}
			if _, again := d.Next(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
	readErr := errors.New("connection reset")
	d := a.NewStreamDecoder(streamRequest(false), io.MultiReader(strings.NewReader("data: {\"Choices\":[{\"Delta\":{\"Content\":\"x\"}}]}\n\n"), iotest.ErrReader(readErr)))
	if _, err := adaptortest.Drain(t, d); !errors.Is(err, readErr) {
		t.Errorf("read error: %v", err)
	}
	if _, err := adaptortest.Drain(t, a.NewStreamDecoder(streamRequest(false), zeroReader{})); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("reader without progress: %v", err)
	}
	if _, err := a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeEmbeddings}, strings.NewReader("")).Next(); !errors.Is(err, adaptors.ErrUnsupportedMode) {
		t.Errorf("embeddings stream: %v", err)
	}
}

// zeroReader never makes progress.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// TestStreamToolCallMatching: fragments are matched to their call by Id,
// else by Index, else to the call in progress; a call without an Id gets
// one.
func TestStreamToolCallMatching(t *testing.T) {
	chunk := func(calls, finish string) string {
		return `data: {"Id":"ans1","Created":1,"Choices":[{"Delta":{"Role":"assistant","Content":"","ToolCalls":[` + calls + `]},"FinishReason":"` + finish + `"}]}` + "\n\n"
	}
	body := chunk(`{"Type":"function","Function":{"Name":"a","Arguments":"{\"x\":"}}`, "") + // no Id, no Index: a new call
		chunk(`{"Function":{"Arguments":"1}"}}`, "") + // no Id, no Index: the call in progress
		chunk(`{"Type":"function","Function":{"Name":"b","Arguments":""},"Index":5}`, "") + // by Index: new
		chunk(`{"Function":{"Arguments":"{}"},"Index":5}`, "") + // by Index: call 1
		chunk(`{"Type":"function","Function":{"Name":"","Arguments":""},"Index":5}`, "") + // nothing new: no chunk
		`data: {"Choices":[{"Delta":{"Role":"assistant","Content":""},"FinishReason":"stop"}]}` + "\n\n"
	evs, err := adaptortest.Drain(t, testAdaptor().NewStreamDecoder(streamRequest(false), strings.NewReader(body)))
	if err != io.EOF {
		t.Fatalf("end %v", err)
	}
	if n := len(evs); n != 5 { // 4 call chunks and the finish chunk; no usage event, none for the repeat
		t.Errorf("%d events: %s", n, renderStream(evs, err))
	}
	want := accumulated{Role: "assistant", Calls: []accCall{
		{ID: "call_ans1_0", Type: "function", Name: "a", Args: `{"x":1}`},
		{ID: "call_ans1_1", Type: "function", Name: "b", Args: `{}`},
	}, Finish: []string{"tool_calls"}}
	if diff := cmp.Diff(want, accumulate(t, evs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
