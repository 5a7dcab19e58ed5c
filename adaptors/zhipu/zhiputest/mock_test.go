package zhiputest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
	"switchyard/adaptors/zhipu"
)

const testKey = "7f3e2d1c0b9a48f7a6e5d4c3b2a19080.Mk9pLq2RsT4uVw6X"

// client plays the transport: it mints the channel's token (once, as the
// transport's cache does), builds the request, makes the real HTTP call
// and returns the answer.
type client struct {
	t  *testing.T
	a  *zhipu.Adaptor
	ch adaptors.Channel
}

func newClient(t *testing.T, s *Server, config map[string]string) *client {
	c := &client{t: t, a: zhipu.New(), ch: adaptors.Channel{ID: 1, Type: zhipu.ChannelType, Key: s.Key, BaseURL: s.URL, Config: config}}
	tok, err := c.a.MintToken(&c.ch, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.ch.AccessToken = tok.Value
	return c
}

func (c *client) do(req *adaptors.Request) *http.Response {
	c.t.Helper()
	hr, err := c.a.BuildRequest(&c.ch, req)
	if err != nil {
		c.t.Fatal(err)
	}
	r, err := http.NewRequest(hr.Method, hr.URL, bytes.NewReader(hr.Body))
	if err != nil {
		c.t.Fatal(err)
	}
	for _, h := range hr.Header {
		r.Header.Set(h.Key, h.Value)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// call makes a non-stream call and converts the 2xx answer.
func (c *client) call(req *adaptors.Request) *adaptors.Response {
	c.t.Helper()
	resp := c.do(req)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	out, err := c.a.ParseResponse(req, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// stream makes a stream call and decodes it to its end.
func (c *client) stream(req *adaptors.Request) []adaptors.StreamEvent {
	c.t.Helper()
	resp := c.do(req)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		c.t.Errorf("content type %q", ct)
	}
	evs, err := adaptortest.Drain(c.t, c.a.NewStreamDecoder(req, resp.Body))
	if err != io.EOF {
		c.t.Fatalf("stream ended with %v", err)
	}
	return evs
}

func chatReq(model, body string, stream bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body), Stream: stream, IncludeUsage: stream, Created: 1700000000}
}

const (
	textBody = `{"model":"glm-4.6","messages":[{"role":"system","content":"Be nice."},{"role":"user","content":"Hello!"}],"temperature":0,"top_p":1,"max_completion_tokens":50,"stream_options":{"include_usage":true}}`
	toolBody = `{"model":"glm-4.6","messages":[{"role":"user","content":"What is the weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}],"tool_choice":"required"}`
)

type completion struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content          *string `json:"content"`
			ReasoningContent string  `json:"reasoning_content"`
			ToolCalls        []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

func TestChatText(t *testing.T) {
	s := NewServer(t, testKey)
	c := newClient(t, s, nil)
	resp := c.call(chatReq("glm-4.6", textBody, false))
	var v completion
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Choices) != 1 || v.Choices[0].Message.Content == nil || *v.Choices[0].Message.Content != MockText ||
		v.Choices[0].Message.ReasoningContent != mockReasoning || v.Choices[0].FinishReason != "stop" {
		t.Errorf("answer %s", resp.Body)
	}
	if diff := cmp.Diff(s.TextUsage(), *resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	path, h, body := s.LastRequest()
	if path != "/api/paas/v4/chat/completions" || !strings.HasPrefix(h.Get("Authorization"), "Bearer ey") {
		t.Errorf("request %s %v", path, h)
	}
	if bytes.Contains(body, []byte("stream_options")) || bytes.Contains(body, []byte("max_completion_tokens")) {
		t.Errorf("OpenAI members sent: %s", body)
	}
}

func TestChatTool(t *testing.T) {
	s := NewServer(t, testKey)
	c := newClient(t, s, nil)
	resp := c.call(chatReq("glm-4.6", toolBody, false))
	var v completion
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	ch := v.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].ID == "" ||
		ch.Message.ToolCalls[0].Function.Name != "get_weather" || ch.Message.ToolCalls[0].Function.Arguments != `{"location":"Paris"}` {
		t.Errorf("answer %s", resp.Body)
	}
	if diff := cmp.Diff(s.ToolUsage(), *resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	// The conversation goes on with the tool's result: a text answer.
	next := `{"model":"glm-4.6","messages":[{"role":"user","content":"What is the weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"` + ch.Message.ToolCalls[0].ID + `","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"` + ch.Message.ToolCalls[0].ID + `","content":"18°C"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`
	resp = c.call(chatReq("glm-4.6", next, false))
	if diff := cmp.Diff(s.TextUsage(), *resp.Usage); diff != "" {
		t.Errorf("follow-up usage (-want +got):\n%s", diff)
	}
}

// streamed collects what a stream gave the client.
type streamed struct {
	text, reasoning string
	calls           map[int]*struct{ id, name, args string }
	finish          []string
	usage           []adaptors.Usage
	usageChunks     int
	textBytes       int
}

func collect(t *testing.T, evs []adaptors.StreamEvent) streamed {
	out := streamed{calls: map[int]*struct{ id, name, args string }{}}
	for _, ev := range evs {
		out.textBytes += ev.TextBytes
		if ev.Usage != nil {
			out.usage = append(out.usage, *ev.Usage)
		}
		if ev.Data == nil {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
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
			Usage *schema.Usage `json:"usage"`
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("chunk %s: %v", ev.Data, err)
		}
		if len(c.Choices) == 0 && c.Usage != nil {
			out.usageChunks++
		}
		for _, ch := range c.Choices {
			out.text += ch.Delta.Content
			out.reasoning += ch.Delta.ReasoningContent
			for _, tc := range ch.Delta.ToolCalls {
				call := out.calls[tc.Index]
				if call == nil {
					call = &struct{ id, name, args string }{id: tc.ID, name: tc.Function.Name}
					out.calls[tc.Index] = call
				} else if tc.ID != "" {
					t.Errorf("call %d repeats its id", tc.Index)
				}
				call.args += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				out.finish = append(out.finish, *ch.FinishReason)
			}
		}
	}
	return out
}

func TestStreamText(t *testing.T) {
	s := NewServer(t, testKey)
	c := newClient(t, s, nil)
	got := collect(t, c.stream(chatReq("glm-4.6", textBody, true)))
	if got.text != MockText || got.reasoning != "The user greets me; I will greet back." || !slicesEqual(got.finish, "stop") {
		t.Errorf("stream gave %+v", got)
	}
	if diff := cmp.Diff([]adaptors.Usage{s.TextUsage()}, got.usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if got.usageChunks != 1 || got.textBytes != len(MockText)+len(got.reasoning) {
		t.Errorf("usage chunks %d, text bytes %d", got.usageChunks, got.textBytes)
	}
	// Not asked: the usage chunk is hidden, the gateway still gets it.
	req := chatReq("glm-4.6", strings.Replace(textBody, `"temperature":0,`, `"reasoning_effort":"none",`, 1), true)
	req.IncludeUsage = false
	got = collect(t, c.stream(req))
	if got.usageChunks != 0 || len(got.usage) != 1 || got.reasoning != "" || got.text != MockText {
		t.Errorf("hidden usage stream gave %+v", got)
	}
}

func TestStreamTool(t *testing.T) {
	for _, model := range []string{"glm-4.6", "glm-4-plus"} { // fragments (tool_stream) and one chunk
		t.Run(model, func(t *testing.T) {
			s := NewServer(t, testKey)
			c := newClient(t, s, nil)
			body := strings.Replace(toolBody, `"glm-4.6"`, `"`+model+`"`, 1)
			got := collect(t, c.stream(chatReq(model, body, true)))
			call := got.calls[0]
			if len(got.calls) != 1 || call.id == "" || call.name != "get_weather" || call.args != `{"location":"Paris"}` {
				t.Errorf("calls %+v", got.calls)
			}
			if !slicesEqual(got.finish, "tool_calls") {
				t.Errorf("finish %v", got.finish)
			}
			if diff := cmp.Diff([]adaptors.Usage{s.ToolUsage()}, got.usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			_, _, sent := s.LastRequest()
			if want := model == "glm-4.6"; bytes.Contains(sent, []byte(`"tool_stream":true`)) != want {
				t.Errorf("tool_stream sent=%v, want %v: %s", !want, want, sent)
			}
		})
	}
}

func slicesEqual(got []string, want ...string) bool { return cmp.Equal(got, want) }

// TestTokenMintedOnceAndReused: the client mints one token and uses it
// for every call; the mock sees one distinct token. A new mint (another
// instant) is a second token.
func TestTokenMintedOnceAndReused(t *testing.T) {
	s := NewServer(t, testKey)
	c := newClient(t, s, nil)
	for range 3 {
		c.call(chatReq("glm-4-flash", `{"messages":[{"role":"user","content":"hi"}]}`, false))
	}
	if n := s.DistinctTokens(); n != 1 {
		t.Errorf("distinct tokens %d, want 1", n)
	}
	tok, err := c.a.MintToken(&c.ch, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c.ch.AccessToken = tok.Value
	c.call(chatReq("glm-4-flash", `{"messages":[{"role":"user","content":"hi"}]}`, false))
	if n := s.DistinctTokens(); n != 2 || s.Requests() != 4 {
		t.Errorf("distinct tokens %d, requests %d; want 2, 4", n, s.Requests())
	}
}

// TestAuthFailures: what the platform refuses comes back from ParseError
// as a 401 authentication_error carrying BigModel's message.
func TestAuthFailures(t *testing.T) {
	s := NewServer(t, testKey)
	body := `{"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name  string
		setup func(c *client)
		code  string
		msg   string
	}{
		{"wrong secret", func(c *client) {
			id, _, _ := strings.Cut(testKey, ".")
			c.ch.AccessToken = zhipu.SignToken(id, "wrong-secret", time.Now(), time.Now().Add(time.Hour))
		}, "1000", "身份验证失败。"},
		{"unknown key id", func(c *client) {
			c.ch.Key = "0000.Mk9pLq2RsT4uVw6X"
			tok, _ := c.a.MintToken(&c.ch, time.Now())
			c.ch.AccessToken = tok.Value
		}, "1000", "身份验证失败。"},
		{"expired", func(c *client) {
			tok, _ := c.a.MintToken(&c.ch, time.Now().Add(-time.Hour))
			c.ch.AccessToken = tok.Value
		}, "1003", "已过期"},
		{"exp in seconds", func(c *client) {
			c.ch.AccessToken = secondsToken(t)
		}, "1003", "已过期"},
		{"garbage token", func(c *client) { c.ch.AccessToken = "not-a-jwt" }, "1002", "非法"},
		{"plain key not accepted", func(c *client) { c.ch.Config = map[string]string{zhipu.ConfigAuth: zhipu.AuthKey} }, "1002", "非法"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, s, nil)
			tt.setup(c)
			resp := c.do(chatReq("glm-4", body, false))
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d: %s", resp.StatusCode, raw)
			}
			e := c.a.ParseError(resp.StatusCode, raw)
			if e.Status != 401 || e.Type != "authentication_error" || e.Code != "invalid_api_key" || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error %+v", *e)
			}
			var w struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal(raw, &w) != nil || w.Error.Code != tt.code {
				t.Errorf("body %s, want code %s", raw, tt.code)
			}
		})
	}
	// No Authorization header at all.
	resp, err := http.Post(s.URL+"/api/paas/v4/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if e := zhipu.New().ParseError(resp.StatusCode, raw); e.Status != 401 || !strings.Contains(e.Message, "Authentication") {
		t.Errorf("no header: %+v", *e)
	}
}

// secondsToken is a token whose claims are in seconds (JWT's usual unit,
// not BigModel's): correctly signed, but expired in milliseconds.
func secondsToken(t *testing.T) string {
	id, secret, _ := strings.Cut(testKey, ".")
	now := time.Now()
	tok := zhipu.SignToken(id, secret, time.Unix(0, now.Unix()*int64(time.Millisecond)), time.Unix(0, now.Add(time.Hour).Unix()*int64(time.Millisecond)))
	if tok == "" {
		t.Fatal("no token")
	}
	return tok
}

func TestPlainKey(t *testing.T) {
	s := NewServer(t, testKey)
	s.AcceptPlainKeys(true)
	c := newClient(t, s, map[string]string{zhipu.ConfigAuth: zhipu.AuthKey})
	if c.ch.AccessToken != testKey {
		t.Errorf("key mode minted %q", c.ch.AccessToken)
	}
	resp := c.call(chatReq("glm-4-flash", `{"messages":[{"role":"user","content":"hi"}]}`, false))
	if resp.Usage == nil {
		t.Error("no usage")
	}
	_, h, _ := s.LastRequest()
	if h.Get("Authorization") != "Bearer "+testKey || s.DistinctTokens() != 0 {
		t.Errorf("auth %q, tokens %d", h.Get("Authorization"), s.DistinctTokens())
	}
}

func TestValidation(t *testing.T) {
	s := NewServer(t, testKey)
	c := newClient(t, s, nil)
	tests := []struct {
		name, model, body, code string
	}{
		{"unknown model", "gpt-4o", `{"messages":[{"role":"user","content":"hi"}]}`, "1211"},
		{"image data url kept", "glm-4v", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]}`, ""},
		{"tool result without call", "glm-4", `{"messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"call_x","content":"1"}]}`, "1214"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.do(chatReq(tt.model, tt.body, false))
			raw, _ := io.ReadAll(resp.Body)
			if tt.code == "" {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, raw)
				}
				return
			}
			e := c.a.ParseError(resp.StatusCode, raw)
			if resp.StatusCode != 400 || e.Status != 400 || e.Type != "invalid_request_error" {
				t.Errorf("status %d, error %+v", resp.StatusCode, *e)
			}
			var w struct {
				Error struct{ Code string } `json:"error"`
			}
			if json.Unmarshal(raw, &w) != nil || w.Error.Code != tt.code {
				t.Errorf("body %s, want code %s", raw, tt.code)
			}
		})
	}
	// The mock refuses what the adaptor must convert: a data: URL sent as
	// it is, OpenAI's tool_choice, an out-of-range temperature.
	for _, raw := range []string{
		`{"model":"glm-4v","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`,
		`{"model":"glm-4","messages":[{"role":"user","content":"hi"}],"tool_choice":"required"}`,
		`{"model":"glm-4","messages":[{"role":"user","content":"hi"}],"temperature":0}`,
		`{"model":"glm-4","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":5}`,
	} {
		r, _ := http.NewRequest("POST", s.URL+"/api/paas/v4/chat/completions", strings.NewReader(raw))
		r.Header.Set("Authorization", "Bearer "+c.ch.AccessToken)
		r.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", raw, resp.StatusCode)
		}
	}
}

func TestEmbeddingsAndImages(t *testing.T) {
	s := NewServer(t, testKey)
	c := newClient(t, s, nil)
	resp := c.call(&adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embedding-3", OriginModel: "embedding-3",
		Body: []byte(`{"model":"embedding-3","input":["a","b"],"dimensions":4}`)})
	if diff := cmp.Diff(s.EmbedUsage(2), *resp.Usage); diff != "" {
		t.Errorf("embeddings usage (-want +got):\n%s", diff)
	}
	resp = c.call(&adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "cogview-4", OriginModel: "cogview-4",
		Body: []byte(`{"model":"cogview-4","prompt":"a cat","size":"1024x1024"}`)})
	if resp.Images != 1 || resp.Usage != nil {
		t.Errorf("images %d usage %v: %s", resp.Images, resp.Usage, resp.Body)
	}
	path, h, _ := s.LastRequest()
	if path != "/api/paas/v4/images/generations" || !strings.HasPrefix(h.Get("Authorization"), "Bearer ey") {
		t.Errorf("request %s %v", path, h)
	}
	// A model CogView does not know: BigModel's 400.
	r := c.do(&adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "dall-e-3", OriginModel: "dall-e-3",
		Body: []byte(`{"model":"dall-e-3","prompt":"a cat"}`)})
	raw, _ := io.ReadAll(r.Body)
	if e := c.a.ParseError(r.StatusCode, raw); e.Status != 400 || e.Code != "model_not_found" {
		t.Errorf("error %+v", *e)
	}
}

func TestUnknownPath(t *testing.T) {
	s := NewServer(t, testKey)
	c := newClient(t, s, nil)
	c.ch.BaseURL = s.URL + "/api/paas/v3"
	resp := c.do(chatReq("glm-4", `{"messages":[{"role":"user","content":"hi"}]}`, false))
	raw, _ := io.ReadAll(resp.Body)
	e := c.a.ParseError(resp.StatusCode, raw)
	if resp.StatusCode != 404 || e.Type != "not_found_error" || !strings.Contains(e.Message, "不存在") {
		t.Errorf("status %d error %+v", resp.StatusCode, *e)
	}
}
