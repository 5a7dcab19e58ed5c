package ollamatest_test

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
	"switchyard/adaptors/ollama"
	"switchyard/adaptors/ollama/ollamatest"
	"switchyard/adaptors/schema"
)

const key = "ollama-test-key"

// call makes the upstream request the adaptor describes.
func call(t *testing.T, r *adaptors.HTTPRequest) (int, []byte) {
	t.Helper()
	hr, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Header {
		hr.Header.Add(h.Key, h.Value)
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

func chatRequest(body string, stream bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2", OriginModel: "llama3.2", Body: []byte(body),
		Stream: stream, IncludeUsage: true, Created: 1700000000}
}

const weatherTool = `"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]`

// answer is the part of a chat.completion the tests read.
type answer struct {
	Choices []struct {
		Message struct {
			Content          *string `json:"content"`
			ReasoningContent string  `json:"reasoning_content"`
			ToolCalls        []struct {
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

func TestMockChat(t *testing.T) {
	s := ollamatest.NewServer(t, key)
	a := ollama.New()
	ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
	for _, tt := range []struct {
		name       string
		body       string
		wantText   string
		wantReason string
		wantTool   bool
		wantUsage  adaptors.Usage
	}{
		{"text", `{"messages":[{"role":"user","content":"Hello!"}]}`, ollamatest.Text, "", false, s.TextUsage()},
		{"thinking", `{"messages":[{"role":"user","content":"Hello!"}],"reasoning_effort":"medium"}`, ollamatest.Text, ollamatest.Thinking, false, s.TextUsage()},
		{"tool", `{"messages":[{"role":"user","content":"Weather in Paris?"}],` + weatherTool + `}`, "", "", true, s.ToolUsage()},
		{"tool result answered with text", `{"messages":[{"role":"user","content":"Weather in Paris?"},` +
			`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
			`{"role":"tool","tool_call_id":"call_1","content":"18°C"}],` + weatherTool + `}`, ollamatest.Text, "", false, s.TextUsage()},
		{"image", `{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="}}]}]}`,
			ollamatest.Text, "", false, s.TextUsage()},
	} {
		t.Run(tt.name+"/whole", func(t *testing.T) {
			req := chatRequest(tt.body, false)
			r, err := a.BuildRequest(ch, req)
			if err != nil {
				t.Fatal(err)
			}
			status, body := call(t, r)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			resp, err := a.ParseResponse(req, body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.wantUsage, resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			var v answer
			if err := json.Unmarshal(resp.Body, &v); err != nil || len(v.Choices) != 1 {
				t.Fatalf("client body %s: %v", resp.Body, err)
			}
			c := v.Choices[0]
			if tt.wantTool {
				if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0].ID != ollamatest.ToolCallID ||
					c.Message.ToolCalls[0].Function.Name != "get_weather" || c.Message.ToolCalls[0].Function.Arguments != ollamatest.ToolArguments {
					t.Errorf("tool answer %s", resp.Body)
				}
				return
			}
			if c.Message.Content == nil || *c.Message.Content != tt.wantText || c.Message.ReasoningContent != tt.wantReason || c.FinishReason != "stop" {
				t.Errorf("text answer %s", resp.Body)
			}
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			req := chatRequest(tt.body, true)
			r, err := a.BuildRequest(ch, req)
			if err != nil {
				t.Fatal(err)
			}
			status, body := call(t, r)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
			if err != io.EOF {
				t.Fatalf("stream ended with %v", err)
			}
			var text, reasoning, args, finish, toolID string
			var usage *adaptors.Usage
			for _, ev := range evs {
				if ev.Usage != nil {
					usage = ev.Usage
				}
				var c struct {
					Choices []struct {
						Delta struct {
							Content          string `json:"content"`
							ReasoningContent string `json:"reasoning_content"`
							ToolCalls        []struct {
								ID       string `json:"id"`
								Function struct {
									Arguments string `json:"arguments"`
								} `json:"function"`
							} `json:"tool_calls"`
						} `json:"delta"`
						FinishReason *string `json:"finish_reason"`
					} `json:"choices"`
				}
				if err := json.Unmarshal(ev.Data, &c); err != nil {
					t.Fatalf("chunk %s: %v", ev.Data, err)
				}
				for _, ch := range c.Choices {
					text += ch.Delta.Content
					reasoning += ch.Delta.ReasoningContent
					for _, tc := range ch.Delta.ToolCalls {
						args += tc.Function.Arguments
						if tc.ID != "" {
							toolID = tc.ID
						}
					}
					if ch.FinishReason != nil {
						finish = *ch.FinishReason
					}
				}
			}
			if diff := cmp.Diff(&tt.wantUsage, usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			if tt.wantTool {
				if args != ollamatest.ToolArguments || toolID != ollamatest.ToolCallID || finish != "tool_calls" {
					t.Errorf("streamed tool call: args %q id %q finish %q", args, toolID, finish)
				}
				return
			}
			if text != tt.wantText || reasoning != tt.wantReason || finish != "stop" {
				t.Errorf("streamed text %q reasoning %q finish %q", text, reasoning, finish)
			}
		})
	}
}

func TestMockRequestSeen(t *testing.T) {
	s := ollamatest.NewServer(t, "")
	a := ollama.New()
	ch := &adaptors.Channel{BaseURL: s.URL, Config: map[string]string{"keep_alive": "5m"}}
	req := chatRequest(`{"messages":[{"role":"user","content":"Hello!"}]}`, false)
	r, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, r); status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	path, header, body := s.LastRequest()
	if path != "/api/chat" || header.Get("Authorization") != "" || header.Get("Content-Type") != "application/json" {
		t.Errorf("path %q headers %v", path, header)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m["stream"] != false || m["keep_alive"] != "5m" {
		t.Errorf("body %s: %v", body, err)
	}
	if s.Requests() != 1 {
		t.Errorf("requests = %d", s.Requests())
	}
}

func TestMockErrors(t *testing.T) {
	s := ollamatest.NewServer(t, key)
	a := ollama.New()
	for _, tt := range []struct {
		name   string
		ch     adaptors.Channel
		model  string
		body   string
		status int
		msg    string
		typ    string
	}{
		{"bad key", adaptors.Channel{Key: "wrong", BaseURL: s.URL}, "llama3.2", `{"messages":[{"role":"user","content":"x"}]}`,
			401, "unauthorized", "authentication_error"},
		{"no key", adaptors.Channel{BaseURL: s.URL}, "llama3.2", `{"messages":[{"role":"user","content":"x"}]}`,
			401, "unauthorized", "authentication_error"},
		{"unknown model", adaptors.Channel{Key: key, BaseURL: s.URL}, "llama9", `{"messages":[{"role":"user","content":"x"}]}`,
			404, `model "llama9" not found, try pulling it first`, "invalid_request_error"},
		{"bad keep_alive", adaptors.Channel{Key: key, BaseURL: s.URL, Config: map[string]string{"keep_alive": "forever"}}, "llama3.2",
			`{"messages":[{"role":"user","content":"x"}]}`, 400, `time: invalid duration "forever"`, "invalid_request_error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: tt.model, OriginModel: tt.model, Body: []byte(tt.body)}
			r, err := a.BuildRequest(&tt.ch, req)
			if err != nil {
				t.Fatal(err)
			}
			status, body := call(t, r)
			e := a.ParseError(status, body)
			want := schema.Error{Status: tt.status, Message: tt.msg, Type: tt.typ}
			got := schema.Error{Status: e.Status, Message: e.Message, Type: e.Type}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMockValidates(t *testing.T) {
	// The mock refuses what Ollama refuses, so an adaptor bug shows.
	s := ollamatest.NewServer(t, "")
	for _, tt := range []struct{ body, msg string }{
		{``, "missing request body"},
		{`{"messages":[{"role":"user","content":"x"}]}`, "model is required"},
		{`{"model":"llama3.2","messages":[]}`, "messages are required"},
		{`{"model":"llama3.2","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`, "cannot unmarshal"},
		{`{"model":"llama3.2","messages":[{"role":"user","content":"x","images":["not base64!"]}]}`, "illegal base64"},
		{`{"model":"llama3.2","messages":[{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}]}`, "cannot unmarshal"},
		{`{"model":"llama3.2","messages":[{"role":"robot","content":"x"}]}`, "invalid role"},
		{`{"model":"llama3.2","messages":[{"role":"user","content":"x"}],"think":"max"}`, "think must be"},
		{`{"model":"llama3.2","messages":[{"role":"user","content":"x"}],"format":"yaml"}`, "invalid format"},
		{`{"model":"llama3.2","messages":[{"role":"user","content":"x"}],"options":{"stop":"x"}}`, "must be of type array"},
		{`{"model":"llama3.2","messages":[{"role":"user","content":"x"}],"options":{"temperature":"hot"}}`, "must be of type float32"},
	} {
		resp, err := http.Post(s.URL+"/api/chat", "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), tt.msg) {
			t.Errorf("%s: %d %s, want 400 with %q", tt.body, resp.StatusCode, b, tt.msg)
		}
	}
}

func TestMockEmbeddings(t *testing.T) {
	s := ollamatest.NewServer(t, key)
	a := ollama.New()
	ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "nomic-embed-text", OriginModel: "nomic-embed-text",
		Body: []byte(`{"model":"nomic-embed-text","input":["a","b","c"],"dimensions":2}`)}
	r, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, r)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	resp, err := a.ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	want := adaptors.Usage{PromptTokens: 3 * ollamatest.EmbedTokensPerInput, TotalTokens: 3 * ollamatest.EmbedTokensPerInput}
	if diff := cmp.Diff(&want, resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	var v struct {
		Object string `json:"object"`
		Data   []struct {
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
		Model string `json:"model"`
	}
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Object != "list" || len(v.Data) != 3 || v.Data[2].Index != 2 || len(v.Data[0].Embedding) != 2 || v.Model != "nomic-embed-text" {
		t.Errorf("embeddings %s", resp.Body)
	}
}

func TestMockModels(t *testing.T) {
	s := ollamatest.NewServer(t, key)
	a := ollama.New()
	r, err := a.ModelsRequest(&adaptors.Channel{Key: key, BaseURL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, r)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	got, err := a.ParseModels(body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ollamatest.Models(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMockUnknownPath(t *testing.T) {
	s := ollamatest.NewServer(t, "")
	a := ollama.New()
	// A channel on the OpenAI-compatible API against a server that only
	// speaks the native one (the mock): gin's plain-text 404.
	ch := &adaptors.Channel{BaseURL: s.URL, Config: map[string]string{"api": "openai"}}
	req := chatRequest(`{"model":"llama3.2","messages":[{"role":"user","content":"x"}]}`, false)
	r, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, r)
	e := a.ParseError(status, body)
	if e.Status != 404 || e.Message != "404 page not found" {
		t.Errorf("got %+v", *e)
	}
	var se *schema.Error
	if _, err := a.ParseResponse(req, []byte(`{"error":"x"}`)); !errors.As(err, &se) {
		t.Errorf("error in 2xx: %v", err)
	}
}
