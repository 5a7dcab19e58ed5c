package geminitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/gemini"
)

const key = "AIzaSyMockKey0123456789"

const toolsJSON = `"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"],"additionalProperties":false}}}]`

// call makes the upstream call BuildRequest describes.
func call(t *testing.T, r *adaptors.HTTPRequest) (int, []byte) {
	t.Helper()
	hr, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Header {
		hr.Header.Set(h.Key, h.Value)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

type answer struct {
	Content, Reasoning string
	Calls              []string // name + arguments
	Finish             string
	Usage              *adaptors.Usage
}

// roundTrip sends an OpenAI chat body through the adaptor and the mock
// and returns what the client would get.
func roundTrip(t *testing.T, s *Server, body string, stream bool) answer {
	t.Helper()
	a := gemini.New()
	ch := &adaptors.Channel{Key: s.Key, BaseURL: s.URL}
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash", Body: []byte(body), Stream: stream, IncludeUsage: true}
	hr, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	status, out := call(t, hr)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s (error %+v)", status, out, *a.ParseError(status, out))
	}
	var got answer
	if !stream {
		resp, err := a.ParseResponse(req, out)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Choices []struct {
				Message struct {
					Content          *string `json:"content"`
					ReasoningContent string  `json:"reasoning_content"`
					ToolCalls        []struct {
						Function struct{ Name, Arguments string } `json:"function"`
					} `json:"tool_calls"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(resp.Body, &c); err != nil {
			t.Fatal(err)
		}
		m := c.Choices[0].Message
		if m.Content != nil {
			got.Content = *m.Content
		}
		got.Reasoning = m.ReasoningContent
		for _, tc := range m.ToolCalls {
			got.Calls = append(got.Calls, tc.Function.Name+tc.Function.Arguments)
		}
		got.Finish, got.Usage = c.Choices[0].FinishReason, resp.Usage
		return got
	}
	evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(out)))
	if err != io.EOF {
		t.Fatalf("stream end %v", err)
	}
	for _, ev := range evs {
		if ev.Usage != nil {
			got.Usage = ev.Usage
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content          string `json:"content"`
					ReasoningContent string `json:"reasoning_content"`
					ToolCalls        []struct {
						Function struct{ Name, Arguments string } `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		if ev.Data == nil {
			continue
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Choices {
			got.Content += ch.Delta.Content
			got.Reasoning += ch.Delta.ReasoningContent
			for _, tc := range ch.Delta.ToolCalls {
				got.Calls = append(got.Calls, tc.Function.Name+tc.Function.Arguments)
			}
			if ch.FinishReason != nil {
				got.Finish = *ch.FinishReason
			}
		}
	}
	return got
}

func TestMockText(t *testing.T) {
	s := NewServer(t, key)
	for _, stream := range []bool{false, true} {
		got := roundTrip(t, s, `{"model":"gemini-2.5-flash","messages":[{"role":"system","content":"Be kind."},{"role":"user","content":"Hello!"}]}`, stream)
		u := s.TextUsage()
		want := answer{Content: Text, Finish: "stop", Usage: &u}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stream=%v (-want +got):\n%s", stream, diff)
		}
	}
	if path, h, _ := s.LastRequest(); path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" || h.Get("x-goog-api-key") != key {
		t.Errorf("last request %s %v", path, h)
	}
	if s.Requests() != 2 {
		t.Errorf("requests = %d", s.Requests())
	}
}

func TestMockReasoning(t *testing.T) {
	s := NewServer(t, key)
	for _, stream := range []bool{false, true} {
		got := roundTrip(t, s, `{"messages":[{"role":"user","content":"Hello!"}],"reasoning_effort":"low"}`, stream)
		if got.Reasoning != Thought || got.Content != Text {
			t.Errorf("stream=%v: %+v", stream, got)
		}
	}
}

func TestMockToolCall(t *testing.T) {
	s := NewServer(t, key)
	for _, stream := range []bool{false, true} {
		got := roundTrip(t, s, `{"messages":[{"role":"user","content":"Weather in Paris?"}],`+toolsJSON+`}`, stream)
		u := s.ToolUsage()
		want := answer{Calls: []string{`get_weather{"location":"Paris"}`}, Finish: "tool_calls", Usage: &u}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stream=%v (-want +got):\n%s", stream, diff)
		}
	}
}

// TestMockToolConversation sends a whole tool turn back: the mock checks
// the function response pairing and the thought signatures' encoding.
func TestMockToolConversation(t *testing.T) {
	s := NewServer(t, key)
	a := gemini.New()
	first := `{"messages":[{"role":"user","content":"Weather in Paris?"}],` + toolsJSON + `}`
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", Body: []byte(first)}
	hr, _ := a.BuildRequest(&adaptors.Channel{Key: key, BaseURL: s.URL}, req)
	_, out := call(t, hr)
	resp, err := a.ParseResponse(req, out)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Choices []struct {
			Message json.RawMessage `json:"message"`
		} `json:"choices"`
	}
	_ = json.Unmarshal(resp.Body, &c)
	var msg struct {
		ToolCalls []struct {
			ID string `json:"id"`
		} `json:"tool_calls"`
	}
	_ = json.Unmarshal(c.Choices[0].Message, &msg)
	history := `{"messages":[{"role":"user","content":"Weather in Paris?"},` + string(c.Choices[0].Message) +
		`,{"role":"tool","tool_call_id":"` + msg.ToolCalls[0].ID + `","content":"{\"sky\":\"clear\"}"}],` + toolsJSON + `}`
	got := roundTrip(t, s, history, false)
	if got.Content != Text || got.Finish != "stop" {
		t.Errorf("%+v", got)
	}
	// A conversation rebuilt without signatures (another model's history)
	// still validates: the adaptor sends the documented placeholder.
	foreign := `{"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_01","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Rome\"}"}}]},{"role":"tool","tool_call_id":"toolu_01","content":"sunny"}],` + toolsJSON + `}`
	if got := roundTrip(t, s, foreign, true); got.Content != Text {
		t.Errorf("%+v", got)
	}
}

func TestMockImageAndSafety(t *testing.T) {
	s := NewServer(t, key)
	body := `{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"image_url","image_url":{"url":"https://example.com/cat.webp"}}]}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}`
	a := gemini.New()
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", Body: []byte(body)}
	hr, err := a.BuildRequest(&adaptors.Channel{Key: key, BaseURL: s.URL, Config: map[string]string{gemini.ConfigSafetySettings: "BLOCK_ONLY_HIGH"}}, req)
	if err != nil {
		t.Fatal(err)
	}
	if status, out := call(t, hr); status != 200 {
		t.Fatalf("%d %s", status, out)
	}
}

func TestMockEmbeddings(t *testing.T) {
	s := NewServer(t, key)
	a := gemini.New()
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "gemini-embedding-001", OriginModel: "text-embedding-3-small",
		Body: []byte(`{"model":"text-embedding-3-small","input":["a","b"],"dimensions":4}`)}
	hr, err := a.BuildRequest(&adaptors.Channel{Key: key, BaseURL: s.URL}, req)
	if err != nil {
		t.Fatal(err)
	}
	status, out := call(t, hr)
	if status != 200 {
		t.Fatalf("%d %s", status, out)
	}
	resp, err := a.ParseResponse(req, out)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
		Model string `json:"model"`
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 2 || got.Model != "text-embedding-3-small" || resp.Usage != nil {
		t.Fatalf("%s", resp.Body)
	}
	if diff := cmp.Diff(Vector("b", 4), got.Data[1].Embedding); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMockModels(t *testing.T) {
	s := NewServer(t, key)
	a := gemini.New()
	hr, err := a.ModelsRequest(&adaptors.Channel{Key: key, BaseURL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, out := call(t, hr)
	models, err := a.ParseModels(out)
	if err != nil || !strings.Contains(strings.Join(models, ","), "gemini-2.5-flash") {
		t.Errorf("%v %v", models, err)
	}
}

func TestMockAuthAndValidation(t *testing.T) {
	s := NewServer(t, key)
	a := gemini.New()
	chat := &adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}

	hr, _ := a.BuildRequest(&adaptors.Channel{Key: "wrong", BaseURL: s.URL}, chat)
	status, out := call(t, hr)
	e := a.ParseError(status, out)
	if status != 400 || e.Status != 400 || e.Code != "invalid_api_key" || !strings.Contains(e.Message, "API key not valid") {
		t.Errorf("bad key: %d %+v", status, *e)
	}
	hr, _ = a.BuildRequest(&adaptors.Channel{Key: "", BaseURL: s.URL}, chat)
	if status, out := call(t, hr); status != 403 || a.ParseError(status, out).Type != "permission_error" {
		t.Errorf("no key: %d %s", status, out)
	}

	bad := []struct{ path, body, want string }{
		{"/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[]}`, "contents is not specified"},
		{"/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, "valid role"},
		{"/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"max_tokens":3}`, `Unknown name "max_tokens"`},
		{"/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"x","inlineData":{"mimeType":"image/png","data":"AA=="}}]}]}`, "oneof"},
		{"/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`, "number of function response parts"},
		{"/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}},"thoughtSignature":"not base64!"}]}]}`, "thought_signature"},
		{"/v1beta/models/gemini-embedding-001:generateContent", `{"contents":[{"role":"user","parts":[{"text":"x"}]}]}`, "not supported for generateContent"},
		{"/v1beta/models/gemini-embedding-001:batchEmbedContents", `{"requests":[{"model":"models/other","content":{"parts":[{"text":"x"}]}}]}`, "must match"},
	}
	for _, tt := range bad {
		r := &adaptors.HTTPRequest{Method: "POST", URL: s.URL + tt.path, Header: []adaptors.Header{{Key: "x-goog-api-key", Value: key}}, Body: []byte(tt.body)}
		status, out := call(t, r)
		e := a.ParseError(status, out)
		if status/100 != 4 || !strings.Contains(e.Message, tt.want) {
			t.Errorf("%s: %d %+v", tt.body, status, *e)
		}
	}
	// The key may also come as ?key= (Google's REST examples).
	r := &adaptors.HTTPRequest{Method: "POST", URL: s.URL + "/v1beta/models/gemini-2.5-flash:generateContent?key=" + key, Body: []byte(`{"contents":[{"parts":[{"text":"x"}],"role":"user"}]}`)}
	if status, out := call(t, r); status != 200 {
		t.Errorf("?key=: %d %s", status, out)
	}
	// Without alt=sse the stream is one JSON array of responses.
	r = &adaptors.HTTPRequest{Method: "POST", URL: s.URL + "/v1beta/models/gemini-2.5-flash:streamGenerateContent", Header: []adaptors.Header{{Key: "x-goog-api-key", Value: key}}, Body: []byte(`{"contents":[{"parts":[{"text":"x"}],"role":"user"}]}`)}
	if status, out := call(t, r); status != 200 || !bytes.HasPrefix(bytes.TrimSpace(out), []byte("[")) {
		t.Errorf("array stream: %d %s", status, out)
	}
}
