package coheretest_test

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
	"switchyard/adaptors/cohere"
	"switchyard/adaptors/cohere/coheretest"
)

const key = "co-mock-key"

// call makes the upstream request r describes and returns status and body.
func call(t *testing.T, r *adaptors.HTTPRequest) (int, []byte) {
	t.Helper()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	hr, err := http.NewRequest(r.Method, r.URL, body)
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
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// roundTrip builds req with the adaptor, calls the mock and returns the
// status and body.
func roundTrip(t *testing.T, s *coheretest.Server, k string, req *adaptors.Request) (int, []byte) {
	t.Helper()
	r, err := cohere.New().BuildRequest(&adaptors.Channel{Key: k, BaseURL: s.URL}, req)
	if err != nil {
		t.Fatal(err)
	}
	return call(t, r)
}

func chatReq(body string, stream bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-03-2025", OriginModel: "command-a-03-2025",
		Body: []byte(body), Stream: stream, IncludeUsage: true, Created: 1735689600}
}

const (
	textBody = `{"model":"command-a-03-2025","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}],"temperature":0.3,"top_p":0.9,"stop":"END"}`
	toolBody = `{"model":"command-a-03-2025","messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}`
)

// answer is the part of a chat.completion the tests look at.
type answer struct {
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
	s := coheretest.NewServer(t, key)
	a := cohere.New()
	tests := []struct {
		name, body string
		wantText   string
		wantTool   string
		wantUsage  adaptors.Usage
		wantFinish string
	}{
		{"text", textBody, coheretest.MockText, "", s.TextUsage(), "stop"},
		{"tool", toolBody, "", "get_weather", s.ToolUsage(), "tool_calls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatReq(tt.body, false)
			status, body := roundTrip(t, s, key, req)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			resp, err := a.ParseResponse(req, body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantUsage, *resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			var ans answer
			if err := sonic.Unmarshal(resp.Body, &ans); err != nil {
				t.Fatal(err)
			}
			ch := ans.Choices[0]
			if ch.FinishReason != tt.wantFinish {
				t.Errorf("finish %q, want %q", ch.FinishReason, tt.wantFinish)
			}
			if tt.wantTool == "" {
				if ch.Message.Content == nil || *ch.Message.Content != tt.wantText {
					t.Errorf("content %v, want %q", ch.Message.Content, tt.wantText)
				}
				return
			}
			if len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].Function.Name != tt.wantTool ||
				ch.Message.ToolCalls[0].Function.Arguments != `{"location":"Paris"}` {
				t.Errorf("tool calls %+v", ch.Message.ToolCalls)
			}
		})
	}
	if s.Requests() != 2 {
		t.Errorf("requests = %d", s.Requests())
	}
	path, hdr, body := s.LastRequest()
	if path != "/v2/chat" || hdr.Get("Authorization") != "Bearer "+key || !bytes.Contains(body, []byte(`"tools"`)) {
		t.Errorf("last request %s %v %s", path, hdr, body)
	}
}

func TestChatStream(t *testing.T) {
	s := coheretest.NewServer(t, key)
	a := cohere.New()
	tests := []struct {
		name, body string
		wantUsage  adaptors.Usage
	}{
		{"text", textBody, s.TextUsage()},
		{"tool", toolBody, s.ToolUsage()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatReq(tt.body, true)
			status, body := roundTrip(t, s, key, req)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
			if err != io.EOF {
				t.Fatalf("end %v", err)
			}
			var text, args, finish strings.Builder
			var usage *adaptors.Usage
			for _, ev := range evs {
				if ev.Usage != nil {
					usage = ev.Usage
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
				if ev.Data == nil {
					continue
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
						finish.WriteString(*ch.FinishReason)
					}
				}
			}
			if usage == nil {
				t.Fatal("no usage")
			}
			if diff := cmp.Diff(tt.wantUsage, *usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			switch tt.name {
			case "text":
				if text.String() != coheretest.MockText || finish.String() != "stop" {
					t.Errorf("text %q finish %q", text.String(), finish.String())
				}
			case "tool":
				if args.String() != `{"location":"Paris"}` || finish.String() != "tool_calls" {
					t.Errorf("args %q finish %q", args.String(), finish.String())
				}
			}
		})
	}
}

// TestToolConversation: the tool call the mock returns, sent back with
// its result, is a valid conversation and gets a text answer.
func TestToolConversation(t *testing.T) {
	s := coheretest.NewServer(t, key)
	body := `{"messages":[{"role":"user","content":"What is the weather in Paris?"},` +
		`{"role":"assistant","content":"I will use get_weather to answer.","tool_calls":[{"id":"get_weather_mock0k7n2p4q","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"get_weather_mock0k7n2p4q","content":"21C, sunny"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"tool_choice":"auto"}`
	req := chatReq(body, false)
	status, out := roundTrip(t, s, key, req)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, out)
	}
	resp, err := cohere.New().ParseResponse(req, out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(resp.Body, []byte(coheretest.MockText)) {
		t.Errorf("answer %s", resp.Body)
	}
}

func TestRejections(t *testing.T) {
	s := coheretest.NewServer(t, key)
	a := cohere.New()
	tests := []struct {
		name   string
		key    string
		body   string
		status int
		msg    string
	}{
		{"bad key", "wrong", textBody, 401, "invalid api token"},
		{"empty key", "", textBody, 401, "invalid api token"},
		{"unknown tool call id", key, `{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"nope","content":"r"}]}`, 400, "does not match any earlier tool call"},
		{"empty user content", key, `{"messages":[{"role":"user","content":""}]}`, 400, "must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := roundTrip(t, s, tt.key, chatReq(tt.body, false))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			e := a.ParseError(status, body)
			if e.Status != tt.status || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error %+v, want %q", *e, tt.msg)
			}
		})
	}
	// Members Cohere does not know are refused: the adaptor must not
	// forward OpenAI's.
	r, err := a.BuildRequest(&adaptors.Channel{Key: key, BaseURL: s.URL}, chatReq(textBody, false))
	if err != nil {
		t.Fatal(err)
	}
	r.Body = bytes.Replace(r.Body, []byte(`"p":`), []byte(`"top_p":`), 1)
	if status, body := call(t, r); status != 400 || !bytes.Contains(body, []byte("top_p")) {
		t.Errorf("unknown member accepted: %d %s", status, body)
	}
}

func TestEmbedRerankModels(t *testing.T) {
	s := coheretest.NewServer(t, key)
	a := cohere.New()

	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embed-v4.0", OriginModel: "embed-v4.0",
		Body: []byte(`{"model":"embed-v4.0","input":["hello","goodbye"]}`)}
	status, body := roundTrip(t, s, key, req)
	if status != 200 {
		t.Fatalf("embed %d: %s", status, body)
	}
	resp, err := a.ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.EmbedUsage(), *resp.Usage); diff != "" {
		t.Errorf("embed usage (-want +got):\n%s", diff)
	}
	var list struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	if err := sonic.Unmarshal(resp.Body, &list); err != nil || len(list.Data) != 2 || len(list.Data[1].Embedding) != 4 || list.Data[1].Index != 1 {
		t.Errorf("embeddings %v: %s", err, resp.Body)
	}

	req = &adaptors.Request{Mode: adaptors.ModeRerank, Model: "rerank-v3.5",
		Body: []byte(`{"model":"rerank-v3.5","query":"capital of France","documents":["Berlin is in Germany",{"text":"Paris is the capital of France"}],"top_n":1,"return_documents":true}`)}
	status, body = roundTrip(t, s, key, req)
	if status != 200 {
		t.Fatalf("rerank %d: %s", status, body)
	}
	resp, err = a.ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage != nil {
		t.Errorf("search units billed as tokens: %+v", resp.Usage)
	}
	var rr struct {
		Results []struct {
			Index    int `json:"index"`
			Document struct {
				Text string `json:"text"`
			} `json:"document"`
		} `json:"results"`
	}
	if err := sonic.Unmarshal(resp.Body, &rr); err != nil || len(rr.Results) != 1 || rr.Results[0].Index != 1 ||
		rr.Results[0].Document.Text != "Paris is the capital of France" {
		t.Errorf("rerank %v: %s", err, resp.Body)
	}

	mr, err := a.ModelsRequest(&adaptors.Channel{Key: key, BaseURL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	status, body = call(t, mr)
	if status != 200 {
		t.Fatalf("models %d: %s", status, body)
	}
	names, err := a.ParseModels(body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(coheretest.ModelNames(), names); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
}

func TestUnknownPath(t *testing.T) {
	s := coheretest.NewServer(t, key)
	status, body := call(t, &adaptors.HTTPRequest{Method: "POST", URL: s.URL + "/v1/chat/completions",
		Header: []adaptors.Header{{Key: "Authorization", Value: "Bearer " + key}}, Body: []byte(`{}`)})
	var se struct {
		Message string `json:"message"`
	}
	if status != 404 || sonic.Unmarshal(body, &se) != nil || se.Message == "" {
		t.Errorf("%d %s", status, body)
	}
}

func TestMissingAuthHeader(t *testing.T) {
	s := coheretest.NewServer(t, key)
	status, body := call(t, &adaptors.HTTPRequest{Method: "GET", URL: s.URL + "/v1/models"})
	e := cohere.New().ParseError(status, body)
	if status != 401 || e.Message != "no api key supplied" || e.Type != "authentication_error" {
		t.Errorf("%d %+v", status, *e)
	}
	// The scheme is case-insensitive, as in Cohere's curl examples.
	status, body = call(t, &adaptors.HTTPRequest{Method: "GET", URL: s.URL + "/v1/models",
		Header: []adaptors.Header{{Key: "Authorization", Value: "bearer " + key}}})
	if status != 200 {
		t.Errorf("lower-case bearer: %d %s", status, body)
	}
}
