package compattest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/openaicompat"
	"switchyard/adaptors/openaicompat/compattest"
	"switchyard/adaptors/schema"
)

const key = "sk-compattest-key-0001"

// do makes the upstream call an adaptor described.
func do(t *testing.T, r *adaptors.HTTPRequest) (int, []byte) {
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
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func chatBody(model string, tool, stream bool) []byte {
	msgs := `[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}]`
	tools := ""
	if tool {
		msgs = `[{"role":"user","content":"What is the weather in Paris?"}]`
		tools = `,"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]`
	}
	s := ""
	if stream {
		s = `,"stream":true`
	}
	return []byte(`{"model":"` + model + `","messages":` + msgs + tools + s + `}`)
}

// answer is what a client got: text, tool calls, finish reason, usage and
// how many usage-only chunks it was shown.
type answer struct {
	text        string
	tool        string
	args        string
	toolID      string
	finish      string
	usage       *adaptors.Usage
	usageChunks int
}

func model(v openaicompat.Vendor) string {
	if len(v.Models) > 0 {
		return v.Models[0]
	}
	return "gpt-4o-mini"
}

// chat makes one chat call through the row's adaptor over HTTP.
func chat(t *testing.T, s *compattest.Server, a adaptors.Adaptor, ch adaptors.Channel, mdl string, tool, stream bool) answer {
	t.Helper()
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: mdl, OriginModel: mdl, Body: chatBody(mdl, tool, stream),
		Stream: stream, IncludeUsage: stream, Created: 1760000001}
	hr, err := a.BuildRequest(&ch, req)
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, hr)
	if status != http.StatusOK {
		t.Fatalf("status %d: %+v", status, *a.ParseError(status, body))
	}
	var out answer
	if !stream {
		resp, err := a.ParseResponse(req, body)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Choices []struct {
				Message struct {
					Content   *string `json:"content"`
					ToolCalls []struct {
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
		if err := json.Unmarshal(resp.Body, &c); err != nil || len(c.Choices) != 1 {
			t.Fatalf("client body %s: %v", resp.Body, err)
		}
		m := c.Choices[0].Message
		if m.Content != nil {
			out.text = *m.Content
		}
		if len(m.ToolCalls) > 0 {
			tc := m.ToolCalls[0]
			if tc.Type != "function" {
				t.Errorf("tool call type %q", tc.Type)
			}
			out.tool, out.args, out.toolID = tc.Function.Name, tc.Function.Arguments, tc.ID
		}
		out.finish, out.usage = c.Choices[0].FinishReason, resp.Usage
		return out
	}
	evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
	if err != io.EOF {
		t.Fatalf("stream ended with %v", err)
	}
	for _, ev := range evs {
		if ev.Usage != nil {
			out.usage = ev.Usage
		}
		if ev.Data == nil {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content   *string `json:"content"`
					ToolCalls []struct {
						Index    *int   `json:"index"`
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage json.RawMessage `json:"usage"`
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("chunk %s: %v", ev.Data, err)
		}
		if c.Choices != nil && len(c.Choices) == 0 && len(c.Usage) > 0 && string(c.Usage) != "null" {
			out.usageChunks++
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				out.text += *ch.Delta.Content
			}
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Index == nil || *tc.Index != 0 {
					t.Fatalf("tool call delta without index 0: %s", ev.Data)
				}
				if tc.Function.Name != "" {
					out.tool = tc.Function.Name
				}
				if tc.ID != "" {
					if out.toolID != "" && out.toolID != tc.ID {
						t.Errorf("tool call id changed from %q to %q", out.toolID, tc.ID)
					}
					out.toolID = tc.ID
				}
				out.args += tc.Function.Arguments
			}
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				out.finish = *ch.FinishReason
			}
		}
	}
	return out
}

// TestRows drives every row's adaptor against its mock over HTTP: text and
// tool calls, streamed and not; usage in OpenAI terms; a wrong key; and
// the row's balance, model list, embeddings, rerank and image endpoints.
func TestRows(t *testing.T) {
	for _, v := range openaicompat.Vendors() {
		t.Run(v.Name, func(t *testing.T) {
			s := compattest.NewServer(t, v, key)
			a := v.New()
			ch := adaptors.Channel{ID: 1, Type: v.Type, Key: key, BaseURL: s.BaseURL()}
			mdl := model(v)
			for _, stream := range []bool{false, true} {
				got := chat(t, s, a, ch, mdl, false, stream)
				if got.text != s.Text() || got.finish != "stop" || got.tool != "" {
					t.Errorf("stream=%v: text %q finish %q tool %q", stream, got.text, got.finish, got.tool)
				}
				if got.usage == nil {
					t.Fatalf("stream=%v: no usage", stream)
				}
				if diff := cmp.Diff(s.TextUsage(), *got.usage); diff != "" {
					t.Errorf("stream=%v: text usage (-want +got):\n%s", stream, diff)
				}
				if stream && got.usageChunks != 1 {
					t.Errorf("usage-only chunks shown: %d, want 1", got.usageChunks)
				}
				path, hdr, _ := s.LastRequest()
				if want := strings.TrimPrefix(s.BaseURL(), s.URL) + v.Config.ChatPath; path != want {
					t.Errorf("path %q, want %q", path, want)
				}
				if stream && hdr.Get("Accept") != "text/event-stream" {
					t.Errorf("Accept %q", hdr.Get("Accept"))
				}

				got = chat(t, s, a, ch, mdl, true, stream)
				if got.tool != "get_weather" || got.args != `{"location":"Paris"}` || got.toolID == "" || got.finish != "tool_calls" {
					t.Errorf("stream=%v: tool call %+v", stream, got)
				}
				if got.usage == nil {
					t.Fatalf("stream=%v: no tool usage", stream)
				}
				if diff := cmp.Diff(s.ToolUsage(), *got.usage); diff != "" {
					t.Errorf("stream=%v: tool usage (-want +got):\n%s", stream, diff)
				}
			}
			badKey(t, s, a, ch, mdl)
			balance(t, s, a, ch)
			models(t, s, a, ch)
			embeddings(t, s, a, ch)
			rerank(t, s, a, ch)
			images(t, s, a, ch)
		})
	}
}

func badKey(t *testing.T, s *compattest.Server, a adaptors.Adaptor, ch adaptors.Channel, mdl string) {
	t.Helper()
	for _, k := range []string{"sk-wrong-key-123456", ""} {
		ch.Key = k
		for _, stream := range []bool{false, true} {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: mdl, OriginModel: mdl, Body: chatBody(mdl, false, stream), Stream: stream}
			hr, err := a.BuildRequest(&ch, req)
			if err != nil {
				t.Fatal(err)
			}
			status, body := do(t, hr)
			var e *schema.Error
			switch {
			case status >= 400:
				e = a.ParseError(status, body)
			case stream:
				_, err = adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
				errors.As(err, &e)
			default:
				_, err = a.ParseResponse(req, body)
				errors.As(err, &e)
			}
			if e == nil || e.Message == "" {
				t.Fatalf("key %q stream=%v: status %d, no error: %s", k, stream, status, body)
			}
			want := s.BadKeyStatus()
			if k == "" && v(s) == openaicompat.TypeGeminiOpenAICompatible {
				want = http.StatusForbidden
			}
			if e.Status != want {
				t.Errorf("key %q stream=%v: status %d, want %d (%+v)", k, stream, e.Status, want, *e)
			}
		}
	}
}

func v(s *compattest.Server) int { return s.Vendor.Type }

func balance(t *testing.T, s *compattest.Server, a adaptors.Adaptor, ch adaptors.Channel) {
	t.Helper()
	want, has := s.Balance()
	bq, ok := a.(adaptors.BalanceQuerier)
	if ok != has {
		t.Fatalf("balance capability %v, mock %v", ok, has)
	}
	if !ok {
		return
	}
	now := time.Date(2025, 3, 17, 12, 0, 0, 0, time.UTC)
	var answers [][]byte
	for range 4 {
		r, err := bq.NextBalanceRequest(&ch, now, answers)
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			break
		}
		status, body := do(t, r)
		if status != http.StatusOK {
			t.Fatalf("balance %s: %d %s", r.URL, status, body)
		}
		answers = append(answers, body)
	}
	got, err := bq.ParseBalance(answers)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("balance (-want +got):\n%s", diff)
	}
}

func models(t *testing.T, s *compattest.Server, a adaptors.Adaptor, ch adaptors.Channel) {
	t.Helper()
	ml, ok := a.(adaptors.ModelLister)
	if !ok {
		return
	}
	r, err := ml.ModelsRequest(&ch)
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, r)
	if status != http.StatusOK {
		t.Fatalf("models: %d %s", status, body)
	}
	got, err := ml.ParseModels(body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.ModelList(), got); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
}

func jsonCall(t *testing.T, a adaptors.Adaptor, ch adaptors.Channel, mode adaptors.Mode, body string) *adaptors.Response {
	t.Helper()
	var m struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal([]byte(body), &m)
	req := &adaptors.Request{Mode: mode, Model: m.Model, OriginModel: m.Model, Body: []byte(body)}
	hr, err := a.BuildRequest(&ch, req)
	if err != nil {
		t.Fatal(err)
	}
	status, b := do(t, hr)
	if status != http.StatusOK {
		t.Fatalf("%s: %d %s", mode, status, b)
	}
	resp, err := a.ParseResponse(req, b)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func embeddings(t *testing.T, s *compattest.Server, a adaptors.Adaptor, ch adaptors.Channel) {
	t.Helper()
	if s.Vendor.Config.EmbeddingsPath == "" {
		return
	}
	resp := jsonCall(t, a, ch, adaptors.ModeEmbeddings, `{"model":"embed-model","input":["one","two"]}`)
	if resp.Usage == nil || *resp.Usage != s.EmbeddingUsage(2) {
		t.Errorf("embeddings usage %v", resp.Usage)
	}
}

func rerank(t *testing.T, s *compattest.Server, a adaptors.Adaptor, ch adaptors.Channel) {
	t.Helper()
	if s.Vendor.Config.RerankPath == "" {
		return
	}
	resp := jsonCall(t, a, ch, adaptors.ModeRerank, `{"model":"rerank-model","query":"Apple","documents":["apple","banana"],"top_n":1}`)
	if resp.Usage == nil || *resp.Usage != s.RerankUsage() {
		t.Errorf("rerank usage %v", resp.Usage)
	}
}

func images(t *testing.T, s *compattest.Server, a adaptors.Adaptor, ch adaptors.Channel) {
	t.Helper()
	if s.Vendor.Config.ImagesGenerationsPath == "" {
		return
	}
	resp := jsonCall(t, a, ch, adaptors.ModeImagesGenerations, `{"model":"image-model","prompt":"A lighthouse","size":"1024x1024"}`)
	if resp.Images != 1 {
		t.Errorf("images %d", resp.Images)
	}
}

// TestDoubaoBotRoute: bot applications are reached at their own path.
func TestDoubaoBotRoute(t *testing.T) {
	var v openaicompat.Vendor
	for _, r := range openaicompat.Vendors() {
		if r.Type == openaicompat.TypeDoubao {
			v = r
		}
	}
	s := compattest.NewServer(t, v, key)
	ch := adaptors.Channel{Key: key, BaseURL: s.BaseURL()}
	got := chat(t, s, v.New(), ch, "bot-20250101000000-abcde", false, false)
	if got.text != s.Text() {
		t.Errorf("text %q", got.text)
	}
	if path, _, _ := s.LastRequest(); path != "/api/v3/bots/chat/completions" {
		t.Errorf("path %q", path)
	}
}

// TestMistralRefusesStreamOptions: the mock refuses stream_options as
// Mistral does, so the row's NoStreamOptions is what makes streams work.
func TestMistralRefusesStreamOptions(t *testing.T) {
	var v openaicompat.Vendor
	for _, r := range openaicompat.Vendors() {
		if r.Type == openaicompat.TypeMistral {
			v = r
		}
	}
	s := compattest.NewServer(t, v, key)
	req, _ := http.NewRequest("POST", s.BaseURL()+"/v1/chat/completions",
		strings.NewReader(`{"model":"mistral-small-latest","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestGeminiStreamUsageNotSummed: over HTTP, the gateway's usage for a
// Gemini stream (the last report) equals the final figures, while the
// sum of the cumulative reports does not.
func TestGeminiStreamUsageNotSummed(t *testing.T) {
	var v openaicompat.Vendor
	for _, r := range openaicompat.Vendors() {
		if r.Type == openaicompat.TypeGeminiOpenAICompatible {
			v = r
		}
	}
	s := compattest.NewServer(t, v, key)
	a := v.New()
	ch := adaptors.Channel{Key: key, BaseURL: s.BaseURL()}
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash",
		Body: chatBody("gemini-2.5-flash", false, true), Stream: true}
	hr, _ := a.BuildRequest(&ch, req)
	_, body := do(t, hr)
	evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	var last *adaptors.Usage
	sum := 0
	for _, ev := range evs {
		if ev.Usage != nil {
			last = ev.Usage
			sum += ev.Usage.CompletionTokens
		}
	}
	if last == nil || *last != s.TextUsage() {
		t.Fatalf("last usage %v, want %v", last, s.TextUsage())
	}
	if sum == s.TextUsage().CompletionTokens {
		t.Error("the mock's stream does not tell a sum from the last value")
	}
}

// TestRequestsCounted: the mock counts every request, refused ones too.
func TestRequestsCounted(t *testing.T) {
	v := openaicompat.Vendors()[0]
	s := compattest.NewServer(t, v, key)
	for range 3 {
		resp, err := http.Get(s.BaseURL() + "/v1/models")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("no key: %d", resp.StatusCode)
		}
	}
	if s.Requests() != 3 {
		t.Errorf("requests %d", s.Requests())
	}
}
