package cloudflaretest_test

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
	"switchyard/adaptors/cloudflare"
	"switchyard/adaptors/cloudflare/cloudflaretest"
)

const (
	key     = "cf-mock-token"
	account = "023e105f4ecef8ad9ca31a8372d0c353"
	model   = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
)

const toolBody = `,"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]`

func do(t *testing.T, hr *adaptors.HTTPRequest) (int, []byte) {
	t.Helper()
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

// call builds the request with the adaptor and sends it for real.
func call(t *testing.T, ch *adaptors.Channel, req *adaptors.Request) (int, []byte) {
	t.Helper()
	hr, err := cloudflare.New().BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, hr)
}

func chatReq(m string, stream, tools bool) *adaptors.Request {
	body := `{"model":"` + m + `","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the weather in Paris?"}]`
	if tools {
		body += toolBody
	}
	if stream {
		body += `,"stream":true`
	}
	body += `}`
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: m, OriginModel: m, Body: []byte(body), Stream: stream, IncludeUsage: stream}
}

func channel(s *cloudflaretest.Server, configKey string) *adaptors.Channel {
	return &adaptors.Channel{Key: key, BaseURL: s.URL, Config: map[string]string{configKey: account}}
}

func TestChat(t *testing.T) {
	s := cloudflaretest.NewServer(t, key, account)
	a := cloudflare.New()
	for _, tools := range []bool{false, true} {
		req := chatReq(model, false, tools)
		status, body := call(t, channel(s, "account_id"), req)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
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
			t.Errorf("tools=%v: usage (-want +got):\n%s", tools, diff)
		}
		var c struct {
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
		if err := sonic.Unmarshal(resp.Body, &c); err != nil || len(c.Choices) != 1 {
			t.Fatalf("client body: %v %s", err, resp.Body)
		}
		ch := c.Choices[0]
		if tools {
			if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].Function.Name != "get_weather" ||
				ch.Message.ToolCalls[0].Function.Arguments != `{"location":"Paris"}` || ch.Message.ToolCalls[0].ID == "" {
				t.Errorf("tool answer: %s", resp.Body)
			}
		} else if ch.FinishReason != "stop" || ch.Message.Content == nil || *ch.Message.Content != "Hello from the Cloudflare Workers AI mock!" {
			t.Errorf("text answer: %s", resp.Body)
		}
	}
	path, header, _ := s.LastRequest()
	if path != "/client/v4/accounts/"+account+"/ai/v1/chat/completions" || header.Get("Authorization") != "Bearer "+key {
		t.Errorf("last request %s %v", path, header)
	}
}

func TestStream(t *testing.T) {
	s := cloudflaretest.NewServer(t, key, account)
	a := cloudflare.New()
	for _, tools := range []bool{false, true} {
		req := chatReq(model, true, tools)
		// One API's user_id config key works as well.
		status, body := call(t, channel(s, "user_id"), req)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
		if err != io.EOF {
			t.Fatalf("end %v", err)
		}
		var usage *adaptors.Usage
		var text, args strings.Builder
		var finish, id string
		for _, ev := range evs {
			if ev.Usage != nil {
				usage = ev.Usage
			}
			if ev.Data == nil {
				continue
			}
			var c struct {
				Choices []struct {
					Delta struct {
						Content   string `json:"content"`
						ToolCalls []struct {
							ID       string `json:"id"`
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
					id += tc.ID
				}
				if ch.FinishReason != nil {
					finish = *ch.FinishReason
				}
			}
		}
		want := s.TextUsage()
		if tools {
			want = s.ToolUsage()
			if args.String() != `{"location": "Paris"}` || finish != "tool_calls" || id == "" {
				t.Errorf("tool stream: args %q finish %q id %q", args.String(), finish, id)
			}
		} else if text.String() != "Hello from the Cloudflare Workers AI mock!" || finish != "stop" {
			t.Errorf("text stream: %q finish %q", text.String(), finish)
		}
		if usage == nil || *usage != want {
			t.Errorf("tools=%v: usage %v, want %v", tools, usage, want)
		}
	}
}

func TestEmbeddings(t *testing.T) {
	s := cloudflaretest.NewServer(t, key, account)
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "@cf/baai/bge-m3", OriginModel: "@cf/baai/bge-m3",
		Body: []byte(`{"model":"@cf/baai/bge-m3","input":["I love matcha","me too"]}`)}
	status, body := call(t, channel(s, "account_id"), req)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	resp, err := cloudflare.New().ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage == nil || resp.Usage.PromptTokens != 12 {
		t.Errorf("usage %v", resp.Usage)
	}
}

func TestModels(t *testing.T) {
	s := cloudflaretest.NewServer(t, key, account)
	a := cloudflare.New()
	hr, err := a.ModelsRequest(channel(s, "account_id"))
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, hr)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	got, err := a.ParseModels(body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cloudflaretest.CatalogModels(), got); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	s := cloudflaretest.NewServer(t, key, account)
	a := cloudflare.New()
	tests := []struct {
		name       string
		ch         *adaptors.Channel
		req        *adaptors.Request
		wantStatus int
		wantCode   any
		wantMsg    string
	}{
		{"bad token", &adaptors.Channel{Key: "wrong", BaseURL: s.URL, Config: map[string]string{"account_id": account}},
			chatReq(model, false, false), 401, 10000, "Authentication error"},
		{"other account", &adaptors.Channel{Key: key, BaseURL: s.URL, Config: map[string]string{"account_id": "f00"}},
			chatReq(model, false, false), 400, 7003, "perhaps your object identifier is invalid"},
		{"unknown model", channel(s, "account_id"), chatReq("llama-3", false, false), 400, 5007, "No such model llama-3 or task"},
		{"bad role", channel(s, "account_id"),
			&adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(`{"model":"` + model + `","messages":[{"role":"robot","content":"x"}]}`)},
			400, 5006, "invalid message role"},
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
