package anthropictest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/anthropic"
	"switchyard/adaptors/anthropic/anthropictest"
)

const key = "sk-ant-api03-mock"

const toolsJSON = `"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",` +
	`"parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]`

// do sends the adaptor's request for body to the mock.
func do(t *testing.T, s *anthropictest.Server, key string, body string, stream bool) (*adaptors.Request, *http.Response) {
	t.Helper()
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-sonnet-4-5", OriginModel: "claude-sonnet-4-5",
		Body: []byte(body), Stream: stream, IncludeUsage: true, Created: 1767225600}
	hr, err := anthropic.New().BuildRequest(&adaptors.Channel{Key: key, BaseURL: s.URL + "/"}, req)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.NewRequest(hr.Method, hr.URL, bytes.NewReader(hr.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hr.Header {
		r.Header.Add(h.Key, h.Value)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return req, resp
}

type completion struct {
	Choices []struct {
		Message struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

func TestMockNonStream(t *testing.T) {
	s := anthropictest.NewServer(t, key)
	a := anthropic.New()

	req, resp := do(t, s, key, `{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}`, false)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	out, err := a.ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	var c completion
	if err := json.Unmarshal(out.Body, &c); err != nil {
		t.Fatal(err)
	}
	if got := *c.Choices[0].Message.Content; got != anthropictest.MockText || c.Choices[0].FinishReason != "stop" {
		t.Errorf("answer %q %s", got, c.Choices[0].FinishReason)
	}
	if diff := cmp.Diff(s.TextUsage(), *out.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}

	req, resp = do(t, s, key, `{"messages":[{"role":"user","content":"Weather in Paris?"}],`+toolsJSON+`}`, false)
	body, _ = io.ReadAll(resp.Body)
	out, err = a.ParseResponse(req, body)
	if err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	c = completion{}
	if err := json.Unmarshal(out.Body, &c); err != nil {
		t.Fatal(err)
	}
	ch := c.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].Function.Name != "get_weather" ||
		ch.Message.ToolCalls[0].Function.Arguments != `{"location":"Paris"}` || ch.Message.Content != nil {
		t.Errorf("tool answer %s", out.Body)
	}
	if diff := cmp.Diff(s.ToolUsage(), *out.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}

	// The tool loop's second turn: the result goes back, the mock answers
	// text.
	id := ch.Message.ToolCalls[0].ID
	loop := `{"messages":[{"role":"user","content":"Weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"` + id + `","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"` + id + `","content":"18 degrees"}],` + toolsJSON + `}`
	req, resp = do(t, s, key, loop, false)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("tool result turn: %d %s", resp.StatusCode, body)
	}
	if out, err = a.ParseResponse(req, body); err != nil || !bytes.Contains(out.Body, []byte(anthropictest.MockText)) {
		t.Errorf("tool result turn: %v %s", err, body)
	}
	if n := s.Requests(); n != 3 {
		t.Errorf("Requests() = %d", n)
	}
	path, h, last := s.LastRequest()
	if path != "/v1/messages" || h.Get("x-api-key") != key || h.Get("anthropic-version") != "2023-06-01" || !bytes.Contains(last, []byte(`"tool_result"`)) {
		t.Errorf("last request %s %v %s", path, h, last)
	}
}

func TestMockStream(t *testing.T) {
	s := anthropictest.NewServer(t, key)
	a := anthropic.New()
	tests := []struct {
		name, body string
		usage      adaptors.Usage
		check      func(t *testing.T, evs []adaptors.StreamEvent)
	}{
		{"text", `{"messages":[{"role":"user","content":"Hi"}],"stream":true}`, s.TextUsage(), func(t *testing.T, evs []adaptors.StreamEvent) {
			var text strings.Builder
			for _, ev := range evs {
				var c struct {
					Choices []struct {
						Delta struct {
							Content string `json:"content"`
						} `json:"delta"`
					} `json:"choices"`
				}
				if ev.Data != nil && json.Unmarshal(ev.Data, &c) == nil && len(c.Choices) > 0 {
					text.WriteString(c.Choices[0].Delta.Content)
				}
			}
			if text.String() != anthropictest.MockText {
				t.Errorf("text %q", text.String())
			}
		}},
		{"tool", `{"messages":[{"role":"user","content":"Weather?"}],"stream":true,` + toolsJSON + `}`, s.ToolUsage(), func(t *testing.T, evs []adaptors.StreamEvent) {
			var args strings.Builder
			for _, ev := range evs {
				var c struct {
					Choices []struct {
						Delta struct {
							ToolCalls []struct {
								Index    int `json:"index"`
								Function struct {
									Arguments string `json:"arguments"`
								} `json:"function"`
							} `json:"tool_calls"`
						} `json:"delta"`
					} `json:"choices"`
				}
				if ev.Data != nil && json.Unmarshal(ev.Data, &c) == nil && len(c.Choices) > 0 {
					for _, tc := range c.Choices[0].Delta.ToolCalls {
						args.WriteString(tc.Function.Arguments)
					}
				}
			}
			if args.String() != `{"location": "Paris"}` {
				t.Errorf("arguments %q", args.String())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, resp := do(t, s, key, tt.body, true)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("content-type"), "text/event-stream") {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("content-type"), b)
			}
			evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, resp.Body))
			if err != io.EOF {
				t.Fatalf("end %v", err)
			}
			var last *adaptors.Usage
			for _, ev := range evs {
				if ev.Usage != nil {
					last = ev.Usage
				}
			}
			if last == nil {
				t.Fatal("no usage")
			}
			if diff := cmp.Diff(tt.usage, *last); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			tt.check(t, evs)
		})
	}
}

func TestMockRejects(t *testing.T) {
	s := anthropictest.NewServer(t, key)
	a := anthropic.New()

	_, resp := do(t, s, "sk-ant-wrong", `{"messages":[{"role":"user","content":"Hi"}]}`, false)
	body, _ := io.ReadAll(resp.Body)
	e := a.ParseError(resp.StatusCode, body)
	if resp.StatusCode != 401 || e.Status != 401 || e.Type != "authentication_error" || e.Message != "invalid x-api-key" {
		t.Errorf("bad key: %d %+v", resp.StatusCode, e)
	}

	// Requests the adaptor would never build, sent raw.
	raw := func(body string, header map[string]string) (int, string) {
		r, _ := http.NewRequest("POST", s.URL+"/v1/messages", strings.NewReader(body))
		for k, v := range header {
			r.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, a.ParseError(resp.StatusCode, b).Message
	}
	auth := map[string]string{"x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json"}
	tests := []struct {
		name, body string
		header     map[string]string
		status     int
		msg        string
	}{
		{"no version", `{}`, map[string]string{"x-api-key": key}, 400, "anthropic-version"},
		{"no max_tokens", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, auth, 400, "max_tokens"},
		{"no model", `{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, auth, 400, "model"},
		{"no messages", `{"model":"m","max_tokens":5,"messages":[]}`, auth, 400, "at least one message"},
		{"assistant first", `{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":"x"}]}`, auth, 400, "first message"},
		{"no alternation", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"user","content":"y"}]}`, auth, 400, "alternate"},
		{"unknown tool_use_id", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_x","content":"r"}]}]}`, auth, 400, "tool_use_id"},
		{"system role", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"system","content":"y"}]}`, auth, 400, "role"},
	}
	for _, tt := range tests {
		if status, msg := raw(tt.body, tt.header); status != tt.status || !strings.Contains(msg, tt.msg) {
			t.Errorf("%s: %d %q", tt.name, status, msg)
		}
	}
}

func TestMockModels(t *testing.T) {
	s := anthropictest.NewServer(t, key)
	a := anthropic.New()
	hr, err := a.ModelsRequest(&adaptors.Channel{Key: key, BaseURL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(hr.Method, hr.URL, nil)
	for _, h := range hr.Header {
		r.Header.Set(h.Key, h.Value)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	ids, err := a.ParseModels(body)
	if err != nil || len(ids) != 3 || ids[0] != "claude-opus-4-6" {
		t.Errorf("models %v %v", ids, err)
	}
	if errors.Is(err, adaptors.ErrInvalidResponse) {
		t.Error(err)
	}
}
