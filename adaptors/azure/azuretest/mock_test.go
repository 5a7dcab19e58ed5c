package azuretest_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/azure"
	"switchyard/adaptors/azure/azuretest"
)

const key = "azure-mock-key"

const toolBody = `,"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]`

// call builds the request with the adaptor and sends it for real.
func call(t *testing.T, ch *adaptors.Channel, req *adaptors.Request) (int, []byte) {
	t.Helper()
	hr, err := azure.New().BuildRequest(ch, req)
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
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func chatReq(model string, stream, tools bool) *adaptors.Request {
	body := `{"model":"` + model + `","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the weather in Paris?"}]`
	if tools {
		body += toolBody
	}
	if stream {
		body += `,"stream":true`
	}
	body += `}`
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body), Stream: stream, IncludeUsage: stream}
}

// completion is the part of a chat.completion the checks read.
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

func TestChat(t *testing.T) {
	s := azuretest.NewServer(t, key)
	a := azure.New()
	for _, version := range []string{"", "2024-06-01", "v1", "preview"} {
		ch := &adaptors.Channel{Key: key, BaseURL: s.URL, Config: map[string]string{"api_version": version}}
		for _, tools := range []bool{false, true} {
			req := chatReq("gpt-4o", false, tools)
			status, body := call(t, ch, req)
			if status != http.StatusOK {
				t.Fatalf("version %q: status %d: %s", version, status, body)
			}
			resp, err := a.ParseResponse(req, body)
			if err != nil {
				t.Fatal(err)
			}
			want := s.TextUsage()
			if tools {
				want = s.ToolUsage()
			}
			if diff := cmp.Diff(&want, resp.Usage); diff != "" {
				t.Errorf("version %q tools=%v: usage (-want +got):\n%s", version, tools, diff)
			}
			var c completion
			if err := sonic.Unmarshal(resp.Body, &c); err != nil || len(c.Choices) != 1 {
				t.Fatalf("client body: %v %s", err, resp.Body)
			}
			ch0 := c.Choices[0]
			if tools {
				if ch0.FinishReason != "tool_calls" || len(ch0.Message.ToolCalls) != 1 || ch0.Message.ToolCalls[0].Function.Name != "get_weather" ||
					ch0.Message.ToolCalls[0].Function.Arguments != `{"location":"Paris"}` {
					t.Errorf("tool answer: %s", resp.Body)
				}
			} else if ch0.FinishReason != "stop" || ch0.Message.Content == nil || *ch0.Message.Content != "Hello from the Azure OpenAI mock!" {
				t.Errorf("text answer: %s", resp.Body)
			}
		}
	}
	path, header, _ := s.LastRequest()
	if path != "/openai/v1/chat/completions?api-version=preview" || header.Get("api-key") != key {
		t.Errorf("last request %s %v", path, header)
	}
}

func TestStream(t *testing.T) {
	s := azuretest.NewServer(t, key)
	a := azure.New()
	tests := []struct {
		version   string
		tools     bool
		wantUsage bool // the api-version takes stream_options
	}{
		{"", false, true},
		{"", true, true},
		{"2024-09-01-preview", false, true},
		{"v1", true, true},
		// Older versions reject stream_options; the adaptor strips it and
		// the stream carries no usage (the gateway estimates).
		{"2024-06-01", false, false},
		{"2024-08-01-preview", true, false},
	}
	for _, tt := range tests {
		ch := &adaptors.Channel{Key: key, BaseURL: s.URL, Config: map[string]string{"api_version": tt.version}}
		req := chatReq("gpt-4o", true, tt.tools)
		status, body := call(t, ch, req)
		if status != http.StatusOK {
			t.Fatalf("%+v: status %d: %s", tt, status, body)
		}
		evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
		if err != io.EOF {
			t.Fatalf("%+v: end %v", tt, err)
		}
		var usage *adaptors.Usage
		var text, args strings.Builder
		var finish string
		for _, ev := range evs {
			if ev.Usage != nil {
				usage = ev.Usage
			}
			if ev.Data == nil {
				continue
			}
			if bytes.Contains(ev.Data, []byte("prompt_filter_results")) {
				t.Errorf("preamble relayed: %s", ev.Data)
			}
			var c struct {
				Choices []struct {
					Delta struct {
						Content   string `json:"content"`
						ToolCalls []struct {
							Function struct {
								Arguments string `json:"arguments"`
							} `json:"function"`
						} `json:"tool_calls"`
					} `json:"delta"`
					FinishReason *string `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := sonic.Unmarshal(ev.Data, &c); err != nil {
				t.Fatal(err)
			}
			for _, ch := range c.Choices {
				text.WriteString(ch.Delta.Content)
				for _, tc := range ch.Delta.ToolCalls {
					args.WriteString(tc.Function.Arguments)
				}
				if ch.FinishReason != nil {
					finish = *ch.FinishReason
				}
			}
		}
		switch {
		case tt.tools && (args.String() != `{"location":"Paris"}` || finish != "tool_calls"):
			t.Errorf("%+v: tool stream args %q finish %q", tt, args.String(), finish)
		case !tt.tools && (text.String() != "Hello from the Azure OpenAI mock!" || finish != "stop"):
			t.Errorf("%+v: text %q finish %q", tt, text.String(), finish)
		}
		want := s.TextUsage()
		if tt.tools {
			want = s.ToolUsage()
		}
		switch {
		case tt.wantUsage && (usage == nil || *usage != want):
			t.Errorf("%+v: usage %v, want %v", tt, usage, want)
		case !tt.wantUsage && usage != nil:
			t.Errorf("%+v: usage %v reported on an old api-version", tt, usage)
		}
	}
}

func TestEmbeddings(t *testing.T) {
	s := azuretest.NewServer(t, key)
	a := azure.New()
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-3-small", OriginModel: "text-embedding-3-small",
		Body: []byte(`{"model":"text-embedding-3-small","input":["a","b"]}`)}
	status, body := call(t, &adaptors.Channel{Key: key, BaseURL: s.URL}, req)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	resp, err := a.ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage == nil || resp.Usage.PromptTokens != 8 {
		t.Errorf("usage %v", resp.Usage)
	}
	if path, _, _ := s.LastRequest(); path != "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21" {
		t.Errorf("path %s", path)
	}
}

func TestErrors(t *testing.T) {
	s := azuretest.NewServer(t, key, "prod-gpt4o")
	a := azure.New()
	tests := []struct {
		name       string
		ch         *adaptors.Channel
		req        *adaptors.Request
		wantStatus int
		wantCode   any
		wantMsg    string
	}{
		{"bad key", &adaptors.Channel{Key: "wrong", BaseURL: s.URL, Config: map[string]string{"deployments": "gpt-4o=prod-gpt4o"}},
			chatReq("gpt-4o", false, false), 401, "401", "Access denied"},
		{"unknown deployment", &adaptors.Channel{Key: key, BaseURL: s.URL}, chatReq("gpt-4o", false, false),
			404, "DeploymentNotFound", "deployment for this resource does not exist"},
		{"unknown deployment v1", &adaptors.Channel{Key: key, BaseURL: s.URL, Config: map[string]string{"api_version": "v1"}},
			chatReq("gpt-4o", false, false), 404, "DeploymentNotFound", "does not exist"},
		{"bad role", &adaptors.Channel{Key: key, BaseURL: s.URL, Config: map[string]string{"deployments": "gpt-4o=prod-gpt4o"}},
			&adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", OriginModel: "gpt-4o", Body: []byte(`{"model":"gpt-4o","messages":[{"role":"robot","content":"x"}]}`)},
			400, nil, "'robot' is not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, tt.ch, tt.req)
			e := a.ParseError(status, body)
			if e.Status != tt.wantStatus || e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("got %+v from %d %s", *e, status, body)
			}
		})
	}
	if s.Requests() != len(tests) {
		t.Errorf("Requests() = %d, want %d", s.Requests(), len(tests))
	}
}

// TestOldVersionRejectsStreamOptions: the mock, like Azure, refuses
// stream_options on versions that predate it; this is why the adaptor
// strips it there.
func TestOldVersionRejectsStreamOptions(t *testing.T) {
	s := azuretest.NewServer(t, key)
	r, _ := http.NewRequest("POST", s.URL+"/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01",
		strings.NewReader(`{"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`))
	r.Header.Set("api-key", key)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	e := azure.New().ParseError(resp.StatusCode, body)
	if e.Status != 400 || e.Message != "Unrecognized request argument supplied: stream_options" {
		t.Errorf("got %+v", *e)
	}
}
