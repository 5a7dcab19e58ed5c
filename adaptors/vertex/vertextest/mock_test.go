package vertextest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
	"switchyard/adaptors/vertex"
	"switchyard/adaptors/vertex/vertextest"
)

// call makes one upstream call described by r.
func call(t *testing.T, r *adaptors.HTTPRequest) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Header {
		req.Header.Add(h.Key, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
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

// exchange does what the transport does before a request: the token
// exchange, the token put in the channel.
func exchange(t *testing.T, a *vertex.Adaptor, ch *adaptors.Channel) {
	t.Helper()
	now := time.Now()
	tr, err := a.TokenRequest(ch, now)
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, tr)
	tok, err := a.ParseToken(status, body, now)
	if err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	if !strings.HasPrefix(tok.Value, "ya29.mock-") || tok.Expires.Sub(now) != 3599*time.Second {
		t.Fatalf("token %+v", tok)
	}
	ch.AccessToken = tok.Value
}

func channel(s *vertextest.Server) adaptors.Channel {
	return adaptors.Channel{Type: 42, Key: s.ServiceAccountJSON(), BaseURL: s.URL, Config: s.ChannelConfig()}
}

func chatReq(model, body string, stream bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body), Stream: stream, IncludeUsage: stream, Created: 1764151200}
}

const (
	hello = `{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}]}`
	tools = `{"messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]}`
	// toolLoop answers the tool call: the mock must answer with text.
	toolLoop = `{"messages":[{"role":"user","content":"What is the weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"{\"temperature\":18}"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}`
)

// answer is what a test reads back from a converted answer.
type answer struct {
	Text   string
	Finish string
	Calls  []string // name(arguments)
	Usage  adaptors.Usage
}

// roundTrip builds, sends and converts one chat request.
func roundTrip(t *testing.T, a *vertex.Adaptor, ch *adaptors.Channel, req *adaptors.Request) answer {
	t.Helper()
	hr, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, hr)
	if status != http.StatusOK {
		t.Fatalf("status %d: %+v", status, *a.ParseError(status, body))
	}
	var out answer
	if !req.Stream {
		resp, err := a.ParseResponse(req, body)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Choices []struct {
				Message struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Function struct{ Name, Arguments string } `json:"function"`
					} `json:"tool_calls"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(resp.Body, &v); err != nil || len(v.Choices) != 1 {
			t.Fatalf("%v: %s", err, resp.Body)
		}
		c := v.Choices[0]
		out.Text, out.Finish = c.Message.Content, c.FinishReason
		for _, tc := range c.Message.ToolCalls {
			out.Calls = append(out.Calls, tc.Function.Name+"("+tc.Function.Arguments+")")
		}
		if resp.Usage != nil {
			out.Usage = *resp.Usage
		}
		return out
	}
	evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
	if err != io.EOF {
		t.Fatalf("stream ended with %v:\n%s", err, body)
	}
	var names, args []string
	for _, ev := range evs {
		if ev.Usage != nil {
			out.Usage = *ev.Usage
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Index    int                              `json:"index"`
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
			out.Text += ch.Delta.Content
			if ch.FinishReason != nil {
				out.Finish = *ch.FinishReason
			}
			for _, tc := range ch.Delta.ToolCalls {
				for len(names) <= tc.Index {
					names, args = append(names, ""), append(args, "")
				}
				names[tc.Index] += tc.Function.Name
				args[tc.Index] += tc.Function.Arguments
			}
		}
	}
	for i := range names {
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(args[i])); err != nil {
			t.Fatalf("arguments %q: %v", args[i], err)
		}
		out.Calls = append(out.Calls, names[i]+"("+compact.String()+")")
	}
	return out
}

// TestChat drives the mock with the adaptor, through the token
// exchange, for both publishers, text and tool calls, streamed or not.
func TestChat(t *testing.T) {
	s := vertextest.NewServer(t)
	a := vertex.New()
	ch := channel(s)
	exchange(t, a, &ch)
	paris := []string{`get_weather({"location":"Paris"})`}
	tests := []struct {
		name, model, body string
		want              answer
	}{
		{"gemini_text", "gemini-2.5-flash", hello, answer{Text: vertextest.GeminiText, Finish: "stop", Usage: s.TextUsage()}},
		{"gemini_tool", "gemini-2.5-flash", tools, answer{Finish: "tool_calls", Calls: paris, Usage: s.ToolUsage()}},
		{"gemini_tool_loop", "gemini-2.5-pro", toolLoop, answer{Text: vertextest.GeminiText, Finish: "stop", Usage: s.TextUsage()}},
		{"claude_text", "claude-sonnet-4-5-20250929", hello, answer{Text: vertextest.ClaudeText, Finish: "stop", Usage: s.ClaudeTextUsage()}},
		{"claude_tool", "claude-sonnet-4@20250514", tools, answer{Finish: "tool_calls", Calls: paris, Usage: s.ClaudeToolUsage()}},
		{"claude_tool_loop", "claude-opus-4-6", toolLoop, answer{Text: vertextest.ClaudeText, Finish: "stop", Usage: s.ClaudeTextUsage()}},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += "_stream"
			}
			t.Run(name, func(t *testing.T) {
				got := roundTrip(t, a, &ch, chatReq(tt.model, tt.body, stream))
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
	if n := s.TokenExchanges(); n != 1 {
		t.Errorf("%d token exchanges, want 1 (the token is reused)", n)
	}
	path, h, _ := s.LastRequest()
	if path != "/v1/projects/switchyard-mock/locations/us-east5/publishers/anthropic/models/claude-opus-4-6:streamRawPredict" {
		t.Errorf("last path %s", path)
	}
	if h.Get("Authorization") != "Bearer ya29.mock-1" {
		t.Errorf("Authorization %q", h.Get("Authorization"))
	}
}

// TestModelRegion routes a model to another location with model_regions;
// a location the mock does not serve is Google's 404.
func TestModelRegion(t *testing.T) {
	s := vertextest.NewServer(t)
	a := vertex.New()
	ch := channel(s)
	ch.Config = map[string]string{"region": "us-central1", "model_regions": `{"claude-haiku-4-5-20251001":"global","gemini-3-pro-preview":"` + s.Region + `"}`}
	exchange(t, a, &ch)
	got := roundTrip(t, a, &ch, chatReq("claude-haiku-4-5-20251001", hello, false))
	if got.Text != vertextest.ClaudeText {
		t.Errorf("claude via global: %+v", got)
	}
	if p, _, _ := s.LastRequest(); !strings.Contains(p, "/locations/global/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict") {
		t.Errorf("path %s", p)
	}
	if got := roundTrip(t, a, &ch, chatReq("gemini-3-pro-preview", hello, true)); got.Text != vertextest.GeminiText {
		t.Errorf("gemini via %s: %+v", s.Region, got)
	}
	hr, err := a.BuildRequest(&ch, chatReq("gemini-2.5-flash", hello, false)) // channel region us-central1
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, hr)
	e := a.ParseError(status, body)
	if status != 404 || e.Type != "invalid_request_error" || !strings.Contains(e.Message, "Publisher Model `projects/switchyard-mock/locations/us-central1/publishers/google/models/gemini-2.5-flash` not found.") {
		t.Errorf("%d %+v", status, *e)
	}
}

// TestEmbeddings: predict with the mock's vectors and token counts.
func TestEmbeddings(t *testing.T) {
	s := vertextest.NewServer(t)
	a := vertex.New()
	ch := channel(s)
	exchange(t, a, &ch)
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005", OriginModel: "text-embedding-005",
		Body: []byte(`{"model":"text-embedding-005","input":["The quick brown fox","jumps"],"dimensions":4}`)}
	hr, err := a.BuildRequest(&ch, req)
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, hr)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	resp, err := a.ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
		Usage adaptors.Usage `json:"usage"`
	}
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	want := 5
	if len(v.Data) != 2 || !cmp.Equal(v.Data[1].Embedding, vertextest.Vector("jumps", 4)) || resp.Usage == nil ||
		*resp.Usage != (adaptors.Usage{PromptTokens: want, TotalTokens: want}) || v.Usage.PromptTokens != want {
		t.Errorf("got %s usage %+v", resp.Body, resp.Usage)
	}
}

// TestAuthFailures: the mock refuses what Google refuses, in Google's
// words, and the adaptor maps it.
func TestAuthFailures(t *testing.T) {
	s := vertextest.NewServer(t)
	a := vertex.New()

	t.Run("bad_token", func(t *testing.T) {
		ch := channel(s)
		ch.AccessToken = "ya29.not-issued"
		hr, err := a.BuildRequest(&ch, chatReq("gemini-2.5-flash", hello, false))
		if err != nil {
			t.Fatal(err)
		}
		status, body := call(t, hr)
		e := a.ParseError(status, body)
		if status != 401 || e.Status != 401 || e.Type != "authentication_error" || !strings.Contains(e.Message, "Request had invalid authentication credentials") {
			t.Errorf("%d %+v", status, *e)
		}
	})
	t.Run("no_token", func(t *testing.T) {
		status, body := call(t, &adaptors.HTTPRequest{Method: "POST",
			URL:  s.URL + "/v1/projects/switchyard-mock/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent",
			Body: []byte(`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`)})
		if e := a.ParseError(status, body); status != 401 || e.Code != "UNAUTHENTICATED" || !strings.Contains(e.Message, "missing required authentication credential") {
			t.Errorf("%d %+v", status, *e)
		}
	})
	t.Run("wrong_project", func(t *testing.T) {
		ch := channel(s)
		ch.Config = map[string]string{"region": s.Region, "vertex_ai_project_id": "someone-else"}
		exchange(t, a, &ch)
		hr, err := a.BuildRequest(&ch, chatReq("claude-opus-4-6", hello, false))
		if err != nil {
			t.Fatal(err)
		}
		status, body := call(t, hr)
		if e := a.ParseError(status, body); status != 403 || e.Type != "permission_error" || !strings.Contains(e.Message, "aiplatform.endpoints.predict") {
			t.Errorf("%d %+v", status, *e)
		}
	})
	t.Run("foreign_key", func(t *testing.T) {
		// The fixed test key of the adaptor's testdata, sent to the mock:
		// its signature does not verify with the mock's key.
		raw, err := os.ReadFile("../testdata/sa/service_account.json")
		if err != nil {
			t.Fatal(err)
		}
		var sa map[string]any
		if err := json.Unmarshal(raw, &sa); err != nil {
			t.Fatal(err)
		}
		sa["token_uri"], sa["client_email"] = s.TokenURI(), vertextest.ClientEmail
		key, _ := json.Marshal(sa)
		ch := adaptors.Channel{Key: string(key), BaseURL: s.URL}
		now := time.Now()
		tr, err := a.TokenRequest(&ch, now)
		if err != nil {
			t.Fatal(err)
		}
		status, body := call(t, tr)
		_, err = a.ParseToken(status, body, now)
		var se *schema.Error
		if status != 400 || !errors.As(err, &se) || se.Code != "invalid_grant" || !strings.Contains(se.Message, "Invalid JWT Signature.") {
			t.Errorf("%d %v", status, err)
		}
	})
	t.Run("stale_jwt", func(t *testing.T) {
		ch := channel(s)
		then := time.Now().Add(-3 * time.Hour)
		tr, err := a.TokenRequest(&ch, then)
		if err != nil {
			t.Fatal(err)
		}
		status, body := call(t, tr)
		if _, err := a.ParseToken(status, body, then); status != 400 || err == nil || !strings.Contains(err.Error(), "Token must be a short-lived token") {
			t.Errorf("%d %v", status, err)
		}
	})
	if n := s.TokenExchanges(); n != 1 {
		t.Errorf("%d tokens issued, want 1 (wrong_project only)", n)
	}
}

// TestClaudeRequestErrors: requests that bypass the adaptor's body
// building get Anthropic's error shape, which the adaptor maps as such.
func TestClaudeRequestErrors(t *testing.T) {
	s := vertextest.NewServer(t)
	a := vertex.New()
	ch := channel(s)
	exchange(t, a, &ch)
	url := s.URL + "/v1/projects/switchyard-mock/locations/us-east5/publishers/anthropic/models/claude-opus-4-6:rawPredict"
	auth := []adaptors.Header{{Key: "Authorization", Value: "Bearer " + ch.AccessToken}}
	tests := []struct{ body, want string }{
		{`{"anthropic_version":"vertex-2023-10-16","model":"claude-opus-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "model: Extra inputs are not permitted"},
		{`{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "anthropic_version: Field required"},
		{`{"anthropic_version":"vertex-2023-10-16","messages":[{"role":"user","content":"hi"}]}`, "max_tokens: Field required"},
		{`{"anthropic_version":"vertex-2023-10-16","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, "stream: rawPredict does not stream; use streamRawPredict"},
	}
	for _, tt := range tests {
		status, body := call(t, &adaptors.HTTPRequest{Method: "POST", URL: url, Header: auth, Body: []byte(tt.body)})
		if e := a.ParseError(status, body); status != 400 || e.Type != "invalid_request_error" || e.Message != tt.want {
			t.Errorf("%s: %d %+v", tt.body, status, *e)
		}
	}
}
