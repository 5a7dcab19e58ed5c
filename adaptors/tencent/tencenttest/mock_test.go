package tencenttest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
	"switchyard/adaptors/tencent"
	"switchyard/adaptors/tencent/tencenttest"
)

const (
	secretID  = "AKIDmockSecretId0000000000000000000"
	secretKey = "mockSecretKey00000000000000000000"
	appID     = "1300000000"
)

// key is One API's channel key form.
const key = appID + "|" + secretID + "|" + secretKey

// call makes the upstream request r describes and returns status and body.
func call(t *testing.T, r *adaptors.HTTPRequest) (int, []byte) {
	t.Helper()
	hr, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Header {
		if strings.EqualFold(h.Key, "Host") {
			hr.Host = h.Value
			continue
		}
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

// roundTrip builds req with a, calls the mock and returns status and body.
func roundTrip(t *testing.T, a *tencent.Adaptor, s *tencenttest.Server, k string, req *adaptors.Request) (int, []byte) {
	t.Helper()
	r, err := a.BuildRequest(&adaptors.Channel{Key: k, BaseURL: s.URL}, req)
	if err != nil {
		t.Fatal(err)
	}
	return call(t, r)
}

func chatReq(body string, stream bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-turbos-latest", OriginModel: "hunyuan-turbos-latest",
		Body: []byte(body), Stream: stream, IncludeUsage: true, Created: 1735689600}
}

const (
	textBody = `{"model":"hunyuan-turbos-latest","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}],"temperature":0.3,"top_p":0.9,"stop":"END"}`
	toolBody = `{"model":"hunyuan-turbos-latest","messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
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
	s := tencenttest.NewServer(t, secretID, secretKey)
	a := tencent.New(tencent.Options{})
	tests := []struct {
		name, body string
		wantText   string
		wantTool   string
		wantUsage  adaptors.Usage
		wantFinish string
	}{
		{"text", textBody, tencenttest.MockText, "", s.TextUsage(), "stop"},
		{"tool", toolBody, "", "get_weather", s.ToolUsage(), "tool_calls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatReq(tt.body, false)
			status, body := roundTrip(t, a, s, key, req)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			resp, err := a.ParseResponse(req, body)
			if err != nil {
				t.Fatalf("%v: %s", err, body)
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
				ch.Message.ToolCalls[0].Function.Arguments != tencenttest.MockArguments || ch.Message.ToolCalls[0].ID == "" {
				t.Errorf("tool calls %+v", ch.Message.ToolCalls)
			}
		})
	}
	if s.Requests() != 2 {
		t.Errorf("requests = %d", s.Requests())
	}
	path, hdr, body := s.LastRequest()
	if path != "/" || hdr.Get("X-TC-Action") != "ChatCompletions" || hdr.Get("X-TC-Version") != "2023-09-01" ||
		!strings.HasPrefix(hdr.Get("Authorization"), "TC3-HMAC-SHA256 Credential="+secretID+"/") || !bytes.Contains(body, []byte(`"Tools"`)) {
		t.Errorf("last request %s %v %s", path, hdr, body)
	}
}

// streamed joins a converted stream the way an OpenAI client does.
type streamed struct {
	text, args, finish string
	ids                []string
	usage              *adaptors.Usage
	usageEvents        int
}

func drainStream(t *testing.T, a *tencent.Adaptor, req *adaptors.Request, body []byte) (streamed, error) {
	t.Helper()
	evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
	var out streamed
	for _, ev := range evs {
		if ev.Usage != nil {
			out.usage = ev.Usage
			out.usageEvents++
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
			out.text += ch.Delta.Content
			for _, tc := range ch.Delta.ToolCalls {
				out.args += tc.Function.Arguments
				if tc.ID != "" {
					out.ids = append(out.ids, tc.ID)
				}
			}
			if ch.FinishReason != nil {
				out.finish += *ch.FinishReason
			}
		}
	}
	return out, err
}

func TestChatStream(t *testing.T) {
	s := tencenttest.NewServer(t, secretID, secretKey)
	a := tencent.New(tencent.Options{})
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
			status, body := roundTrip(t, a, s, key, req)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			got, err := drainStream(t, a, req, body)
			if err != io.EOF {
				t.Fatalf("end %v", err)
			}
			if got.usage == nil {
				t.Fatal("no usage")
			}
			// Hunyuan's usage is cumulative: the last report is the
			// answer's, and it was reported more than once on the way.
			if diff := cmp.Diff(tt.wantUsage, *got.usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			if got.usageEvents < 2 {
				t.Errorf("usage reported %d times", got.usageEvents)
			}
			switch tt.name {
			case "text":
				if got.text != tencenttest.MockText || got.finish != "stop" {
					t.Errorf("text %q finish %q", got.text, got.finish)
				}
			case "tool":
				if got.args != tencenttest.MockArguments || got.finish != "tool_calls" || len(got.ids) != 1 {
					t.Errorf("args %q finish %q ids %v", got.args, got.finish, got.ids)
				}
			}
		})
	}
}

// TestToolConversation: the tool call the mock returns, sent back with
// its result, is a valid conversation and gets a text answer.
func TestToolConversation(t *testing.T) {
	s := tencenttest.NewServer(t, secretID, secretKey)
	a := tencent.New(tencent.Options{})
	req := chatReq(toolBody, false)
	_, body := roundTrip(t, a, s, key, req)
	resp, err := a.ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	var ans answer
	if err := sonic.Unmarshal(resp.Body, &ans); err != nil || len(ans.Choices) == 0 || len(ans.Choices[0].Message.ToolCalls) == 0 {
		t.Fatalf("%v %s", err, resp.Body)
	}
	tc := ans.Choices[0].Message.ToolCalls[0]
	follow := `{"messages":[{"role":"user","content":"What is the weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"` + tc.ID + `","type":"function","function":{"name":"get_weather","arguments":` + quote(tc.Function.Arguments) + `}}]},` +
		`{"role":"tool","tool_call_id":"` + tc.ID + `","content":"21C, sunny"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"tool_choice":"auto"}`
	req = chatReq(follow, false)
	status, out := roundTrip(t, a, s, key, req)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, out)
	}
	resp, err = a.ParseResponse(req, out)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !bytes.Contains(resp.Body, []byte(tencenttest.MockText)) {
		t.Errorf("answer %s", resp.Body)
	}
}

func quote(s string) string {
	b, _ := sonic.Marshal(s)
	return string(b)
}

// TestVisionAndNamedTool: an image (data URL) reaches the vision model as
// Contents, and a named tool_choice forces that tool (ToolChoice custom).
func TestVisionAndNamedTool(t *testing.T) {
	s := tencenttest.NewServer(t, secretID, secretKey)
	a := tencent.New(tencent.Options{})
	img := `{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`
	req := chatReq(img, false)
	req.Model = "hunyuan-vision"
	status, out := roundTrip(t, a, s, key, req)
	if _, err := a.ParseResponse(req, out); status != 200 || err != nil {
		t.Fatalf("vision: %d %v %s", status, err, out)
	}
	named := `{"messages":[{"role":"user","content":"Weather and time?"}],"tools":[` +
		`{"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}},` +
		`{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],` +
		`"tool_choice":{"type":"function","function":{"name":"get_weather"}}}`
	req = chatReq(named, false)
	_, out = roundTrip(t, a, s, key, req)
	resp, err := a.ParseResponse(req, out)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var ans answer
	if err := sonic.Unmarshal(resp.Body, &ans); err != nil || ans.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Errorf("named tool: %v %s", err, resp.Body)
	}
}

// asSchemaError returns the *schema.Error in err.
func asSchemaError(t *testing.T, err error) *schema.Error {
	t.Helper()
	var se *schema.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *schema.Error", err)
	}
	return se
}

// TestAuthFailures: Tencent answers authentication failures with HTTP 200
// and an error inside; the adaptor turns them into *schema.Error 401,
// both for a whole answer and for a stream.
func TestAuthFailures(t *testing.T) {
	s := tencenttest.NewServer(t, secretID, secretKey)
	tests := []struct {
		name     string
		key      string
		clock    time.Duration // adaptor clock skew
		mutate   func(r *adaptors.HTTPRequest)
		wantCode string
	}{
		{"wrong secret key", appID + "|" + secretID + "|wrongSecretKey000000000000000000", 0, nil, "AuthFailure.SignatureFailure"},
		{"unknown secret id", "AKIDunknown|" + secretKey, 0, nil, "AuthFailure.SecretIdNotFound"},
		{"clock 6 minutes behind", key, -6 * time.Minute, nil, "AuthFailure.SignatureExpire"},
		{"clock 6 minutes ahead", key, 6 * time.Minute, nil, "AuthFailure.SignatureExpire"},
		{"body changed after signing", key, 0, func(r *adaptors.HTTPRequest) {
			r.Body = bytes.Replace(r.Body, []byte("Hello!"), []byte("Hello?"), 1)
		}, "AuthFailure.SignatureFailure"},
		{"action changed after signing", key, 0, func(r *adaptors.HTTPRequest) { setHeader(r, "X-TC-Action", "GetEmbedding") }, "AuthFailure.SignatureFailure"},
		{"host changed after signing", key, 0, func(r *adaptors.HTTPRequest) { setHeader(r, "Host", "hunyuan.tencentcloudapi.com") }, "AuthFailure.SignatureFailure"},
		{"no authorization", key, 0, func(r *adaptors.HTTPRequest) { setHeader(r, "Authorization", "") }, "AuthFailure.InvalidAuthorization"},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: "", true: " stream"}[stream], func(t *testing.T) {
				a := tencent.New(tencent.Options{Now: func() time.Time { return time.Now().Add(tt.clock) }})
				req := chatReq(textBody, stream)
				r, err := a.BuildRequest(&adaptors.Channel{Key: tt.key, BaseURL: s.URL}, req)
				if err != nil {
					t.Fatal(err)
				}
				if tt.mutate != nil {
					tt.mutate(r)
				}
				status, body := call(t, r)
				if status != http.StatusOK {
					t.Fatalf("status %d, want 200 (Tencent's way): %s", status, body)
				}
				var se *schema.Error
				if stream {
					_, err = adaptortest.Drain(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
				} else {
					_, err = a.ParseResponse(req, body)
				}
				se = asSchemaError(t, err)
				if se.Code != tt.wantCode || se.Status != http.StatusUnauthorized || se.Type != "authentication_error" || se.Message == "" {
					t.Errorf("error %+v, want code %s status 401", *se, tt.wantCode)
				}
			})
		}
	}
	// ParseError of the same body with a 401 (a proxy that sets the
	// status) also gives 401 and Tencent's message.
	r, _ := tencent.New(tencent.Options{}).BuildRequest(&adaptors.Channel{Key: "AKIDunknown|x", BaseURL: s.URL}, chatReq(textBody, false))
	_, body := call(t, r)
	if e := tencent.New(tencent.Options{}).ParseError(401, body); e.Status != 401 || !strings.Contains(e.Message, "SecretId is not found") {
		t.Errorf("ParseError %+v", *e)
	}
}

func setHeader(r *adaptors.HTTPRequest, k, v string) {
	for i := range r.Header {
		if strings.EqualFold(r.Header[i].Key, k) {
			r.Header[i].Value = v
		}
	}
}

// TestRejections: what the mock refuses as Hunyuan documents, and how
// the adaptor reports it.
func TestRejections(t *testing.T) {
	s := tencenttest.NewServer(t, secretID, secretKey)
	a := tencent.New(tencent.Options{})
	tests := []struct {
		name, body string
		model      string
		status     int
		code       string
	}{
		{"temperature", `{"messages":[{"role":"user","content":"x"}],"temperature":4.8}`, "hunyuan-pro", 400, "InvalidParameter"},
		{"starts with assistant", `{"messages":[{"role":"assistant","content":"a"},{"role":"user","content":"x"}]}`, "hunyuan-pro", 400, "InvalidParameter"},
		{"ends with assistant", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"a"}]}`, "hunyuan-pro", 400, "InvalidParameter"},
		{"unknown tool call id", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c2","content":"r"}]}`, "hunyuan-pro", 400, "InvalidParameter"},
		{"image for a text model", `{"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`, "hunyuan-pro", 400, "InvalidParameter"},
		{"empty model", `{"messages":[{"role":"user","content":"x"}]}`, "", 400, "MissingParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatReq(tt.body, false)
			req.Model = tt.model
			status, body := roundTrip(t, a, s, key, req)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			_, err := a.ParseResponse(req, body)
			if se := asSchemaError(t, err); se.Status != tt.status || se.Code != tt.code {
				t.Errorf("error %+v, want %d %s", *se, tt.status, tt.code)
			}
		})
	}
	// Members Hunyuan does not know are refused: the adaptor must not
	// forward OpenAI's. The mutation is signed again so only the member
	// differs.
	r, err := a.BuildRequest(&adaptors.Channel{Key: key, BaseURL: s.URL}, chatReq(textBody, false))
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Replace(r.Body, []byte(`"TopP":`), []byte(`"top_p":`), 1)
	resign(r, body)
	if _, out := call(t, r); !bytes.Contains(out, []byte("UnknownParameter")) {
		t.Errorf("unknown member accepted: %s", out)
	}
}

// resign replaces r's body and signs it again with the same timestamp.
func resign(r *adaptors.HTTPRequest, body []byte) {
	var host, action, ts string
	for _, h := range r.Header {
		switch h.Key {
		case "Host":
			host = h.Value
		case "X-TC-Action":
			action = h.Value
		case "X-TC-Timestamp":
			ts = h.Value
		}
	}
	n, _ := strconv.ParseInt(ts, 10, 64)
	r.Body = body
	setHeader(r, "Authorization", tencent.SignTC3(secretID, secretKey, host, action, "hunyuan", n, body))
}

func TestEmbeddings(t *testing.T) {
	s := tencenttest.NewServer(t, secretID, secretKey)
	a := tencent.New(tencent.Options{})
	for _, tt := range []struct {
		name, body string
		n          int
	}{
		{"one", `{"model":"hunyuan-embedding","input":"hello"}`, 1},
		{"list", `{"model":"hunyuan-embedding","input":["hello","goodbye","again"]}`, 3},
		{"base64", `{"model":"hunyuan-embedding","input":["hello","goodbye"],"encoding_format":"base64"}`, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "hunyuan-embedding", OriginModel: "hunyuan-embedding", Body: []byte(tt.body)}
			status, body := roundTrip(t, a, s, key, req)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			resp, err := a.ParseResponse(req, body)
			if err != nil {
				t.Fatalf("%v: %.300s", err, body)
			}
			if diff := cmp.Diff(s.EmbedUsage(tt.n), *resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			var list struct {
				Object string `json:"object"`
				Data   []struct {
					Index     int                    `json:"index"`
					Embedding sonic.NoCopyRawMessage `json:"embedding"`
				} `json:"data"`
			}
			if err := sonic.Unmarshal(resp.Body, &list); err != nil || list.Object != "list" || len(list.Data) != tt.n || list.Data[tt.n-1].Index != tt.n-1 {
				t.Fatalf("%v: %.300s", err, resp.Body)
			}
			if tt.name == "base64" {
				if list.Data[0].Embedding[0] != '"' || len(list.Data[0].Embedding) != 2+(4*tencenttest.EmbeddingDimensions+2)/3*4 {
					t.Errorf("base64 embedding of %d bytes", len(list.Data[0].Embedding))
				}
				return
			}
			var v []float64
			if err := sonic.Unmarshal(list.Data[0].Embedding, &v); err != nil || len(v) != tencenttest.EmbeddingDimensions {
				t.Errorf("embedding: %v, %d dims", err, len(v))
			}
		})
	}
	_, hdr, _ := s.LastRequest()
	if hdr.Get("X-TC-Action") != "GetEmbedding" {
		t.Errorf("action %q", hdr.Get("X-TC-Action"))
	}
}

// TestRegionAndProxyHost: X-TC-Region goes only when configured, and the
// signature covers the host actually used.
func TestRegionAndProxyHost(t *testing.T) {
	s := tencenttest.NewServer(t, secretID, secretKey)
	a := tencent.New(tencent.Options{})
	req := chatReq(textBody, false)
	r, err := a.BuildRequest(&adaptors.Channel{Key: key, BaseURL: s.URL + "/", Config: map[string]string{"region": "ap-guangzhou"}}, req)
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, r)
	if _, err := a.ParseResponse(req, body); status != 200 || err != nil {
		t.Fatalf("%d %v %s", status, err, body)
	}
	_, hdr, _ := s.LastRequest()
	if hdr.Get("X-TC-Region") != "ap-guangzhou" || hdr.Get("Host") != strings.TrimPrefix(s.URL, "http://") {
		t.Errorf("headers %v", hdr)
	}
}

func TestUnknownPathAndAction(t *testing.T) {
	s := tencenttest.NewServer(t, secretID, secretKey)
	status, _ := call(t, &adaptors.HTTPRequest{Method: "POST", URL: s.URL + "/v1/chat/completions", Body: []byte(`{}`)})
	if status != 404 {
		t.Errorf("unknown path: %d", status)
	}
	a := tencent.New(tencent.Options{})
	r, _ := a.BuildRequest(&adaptors.Channel{Key: key, BaseURL: s.URL}, chatReq(textBody, false))
	setHeader(r, "X-TC-Action", "ChatStd")
	var host string
	for _, h := range r.Header {
		if h.Key == "Host" {
			host = h.Value
		}
	}
	ts := time.Now().Unix()
	setHeader(r, "X-TC-Timestamp", strconv.FormatInt(ts, 10))
	setHeader(r, "Authorization", tencent.SignTC3(secretID, secretKey, host, "ChatStd", "hunyuan", ts, r.Body))
	_, body := call(t, r)
	if e := a.ParseError(400, body); e.Code != "InvalidAction" {
		t.Errorf("%+v: %s", *e, body)
	}
}
