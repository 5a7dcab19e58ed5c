package baidutest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/baidu"
	"switchyard/adaptors/baidu/baidutest"
	"switchyard/adaptors/schema"
)

const (
	apiKey    = "Ab3dEf6hIj9kLm2nOp5qRs8t"
	secretKey = "Uv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2r"
)

// do makes the upstream request r describes and returns status and body.
func do(t *testing.T, r *adaptors.HTTPRequest) (int, []byte) {
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

// exchange plays the transport's token exchange for ch.
func exchange(t *testing.T, a *baidu.Adaptor, ch *adaptors.Channel, now time.Time) (adaptors.AccessToken, error) {
	t.Helper()
	r, err := a.TokenRequest(ch, now)
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, r)
	return a.ParseToken(status, body, now)
}

// channel returns a channel of s with a fresh token.
func channel(t *testing.T, s *baidutest.Server) *adaptors.Channel {
	t.Helper()
	ch := &adaptors.Channel{Type: baidu.ChannelType, Key: s.Key(), BaseURL: s.URL}
	tok, err := exchange(t, baidu.New(), ch, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ch.AccessToken = tok.Value
	return ch
}

func chatReq(body string, stream bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-4.0-8K", OriginModel: "ERNIE-4.0-8K",
		Body: []byte(body), Stream: stream, IncludeUsage: true, Created: 1735689600}
}

const (
	textBody = `{"model":"ERNIE-4.0-8K","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}],"temperature":0,"top_p":0.9,"stop":"END","max_tokens":256}`
	toolBody = `{"model":"ERNIE-4.0-8K","messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}`
	// A whole tool round: the call, its result, and the model's answer.
	toolRoundBody = `{"model":"ERNIE-4.0-8K","messages":[{"role":"user","content":"What is the weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"17°C, cloudy"}],` +
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

// complete sends a non-stream chat request through the adaptor.
func complete(t *testing.T, a adaptors.Adaptor, ch *adaptors.Channel, body string) (*adaptors.Response, answer, error) {
	t.Helper()
	r, err := a.BuildRequest(ch, chatReq(body, false))
	if err != nil {
		t.Fatal(err)
	}
	status, b := do(t, r)
	if status != http.StatusOK {
		return nil, answer{}, a.ParseError(status, b)
	}
	resp, err := a.ParseResponse(chatReq(body, false), b)
	if err != nil {
		return nil, answer{}, err
	}
	var ans answer
	if err := sonic.Unmarshal(resp.Body, &ans); err != nil || len(ans.Choices) != 1 {
		t.Fatalf("client body %v: %s", err, resp.Body)
	}
	return resp, ans, nil
}

// streamed is what a stream gave the client.
type streamed struct {
	text, args, name, id, finish string
	usage                        *adaptors.Usage
}

// stream sends a stream chat request through the adaptor and drains it.
func stream(t *testing.T, a adaptors.Adaptor, ch *adaptors.Channel, body string) (streamed, error) {
	t.Helper()
	body = `{"stream":true,` + strings.TrimPrefix(body, "{") // a stream's client body says so
	r, err := a.BuildRequest(ch, chatReq(body, true))
	if err != nil {
		t.Fatal(err)
	}
	status, b := do(t, r)
	if status != http.StatusOK {
		return streamed{}, a.ParseError(status, b)
	}
	evs, err := adaptortest.Drain(t, a.NewStreamDecoder(chatReq(body, true), bytes.NewReader(b)))
	var s streamed
	for _, ev := range evs {
		if ev.Usage != nil {
			s.usage = ev.Usage
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
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
			t.Fatalf("chunk %v: %s", err, ev.Data)
		}
		for _, ch := range c.Choices {
			s.text += ch.Delta.Content
			for _, tc := range ch.Delta.ToolCalls {
				s.args += tc.Function.Arguments
				s.name += tc.Function.Name
				s.id += tc.ID
			}
			if ch.FinishReason != nil {
				s.finish = *ch.FinishReason
			}
		}
	}
	if err == io.EOF {
		err = nil
	}
	return s, err
}

func TestChat(t *testing.T) {
	s := baidutest.NewServer(t, apiKey, secretKey)
	ch := channel(t, s)
	a := baidu.New()

	resp, ans, err := complete(t, a, ch, textBody)
	if err != nil {
		t.Fatal(err)
	}
	if got := ans.Choices[0]; *got.Message.Content != baidutest.MockText || got.FinishReason != "stop" {
		t.Errorf("answer %+v", got)
	}
	if diff := cmp.Diff(s.TextUsage(), *resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	path, header, body := s.LastRequest()
	if !strings.HasPrefix(path, "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro?access_token=24.") ||
		header.Get("Content-Type") != "application/json" || !bytes.Contains(body, []byte(`"system":"Be brief."`)) {
		t.Errorf("request %s %v %s", path, header, body)
	}

	got, err := stream(t, a, ch, textBody)
	if err != nil {
		t.Fatal(err)
	}
	if got.text != baidutest.MockText || got.finish != "stop" || got.usage == nil || *got.usage != s.TextUsage() {
		t.Errorf("stream %+v", got)
	}
}

func TestToolCall(t *testing.T) {
	s := baidutest.NewServer(t, apiKey, secretKey)
	ch := channel(t, s)
	a := baidu.New()

	resp, ans, err := complete(t, a, ch, toolBody)
	if err != nil {
		t.Fatal(err)
	}
	c := ans.Choices[0]
	if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0].Function.Name != "get_weather" ||
		c.Message.ToolCalls[0].Function.Arguments != `{"location":"Paris"}` || c.Message.ToolCalls[0].ID == "" {
		t.Errorf("answer %+v", c)
	}
	if *resp.Usage != s.ToolUsage() {
		t.Errorf("usage %+v, want %+v", *resp.Usage, s.ToolUsage())
	}

	got, err := stream(t, a, ch, toolBody)
	if err != nil {
		t.Fatal(err)
	}
	if got.name != "get_weather" || got.args != `{"location":"Paris"}` || got.id == "" || got.finish != "tool_calls" || *got.usage != s.ToolUsage() {
		t.Errorf("stream %+v", got)
	}

	// The result goes back as ERNIE's function message; the model answers.
	_, ans, err = complete(t, a, ch, toolRoundBody)
	if err != nil {
		t.Fatal(err)
	}
	if *ans.Choices[0].Message.Content != baidutest.MockText {
		t.Errorf("answer after the tool round %+v", ans.Choices[0])
	}
	_, _, body := s.LastRequest()
	if !bytes.Contains(body, []byte(`{"role":"function","content":"17°C, cloudy","name":"get_weather"}`)) {
		t.Errorf("tool result not sent as a function message: %s", body)
	}
}

func TestEmbeddings(t *testing.T) {
	s := baidutest.NewServer(t, apiKey, secretKey)
	ch := channel(t, s)
	a := baidu.New()
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "Embedding-V1", OriginModel: "Embedding-V1",
		Body: []byte(`{"model":"Embedding-V1","input":["推荐一些美食","给我讲个故事"]}`)}
	r, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, r)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	resp, err := a.ParseResponse(req, body)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	if err := sonic.Unmarshal(resp.Body, &list); err != nil || len(list.Data) != 2 || len(list.Data[1].Embedding) != baidutest.EmbeddingDims {
		t.Errorf("%v: %s", err, resp.Body)
	}
	if *resp.Usage != s.EmbedUsage(2) {
		t.Errorf("usage %+v", *resp.Usage)
	}
}

// TestTokenExpiry: the mock's tokens expire after expires_in; an expired
// token is Baidu's error 111 under HTTP 200, which the adaptor turns into
// a 401; a new exchange makes calls work again.
func TestTokenExpiry(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	s := baidutest.NewServer(t, apiKey, secretKey, baidutest.ExpiresIn(600), baidutest.Clock(now))
	a := baidu.New()
	ch := &adaptors.Channel{Key: s.Key(), BaseURL: s.URL}
	tok, err := exchange(t, a, ch, now())
	if err != nil {
		t.Fatal(err)
	}
	if want := now().Add(600 * time.Second); !tok.Expires.Equal(want) || !strings.HasPrefix(tok.Value, "24.") {
		t.Errorf("token %+v, want one expiring at %v", tok, want)
	}
	ch.AccessToken = tok.Value
	if _, _, err := complete(t, a, ch, textBody); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	clock = clock.Add(601 * time.Second)
	mu.Unlock()
	_, _, err = complete(t, a, ch, textBody)
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || se.Code != 111 || se.Message != "Access token expired" {
		t.Fatalf("expired token: got %v", err)
	}
	// A stream request gets the same error, as one JSON object.
	if _, err := stream(t, a, ch, textBody); !errors.As(err, &se) || se.Code != 111 {
		t.Fatalf("expired token, stream: got %v", err)
	}

	tok, err = exchange(t, a, ch, now())
	if err != nil {
		t.Fatal(err)
	}
	ch.AccessToken = tok.Value
	if _, _, err := complete(t, a, ch, textBody); err != nil {
		t.Fatal(err)
	}
	if s.TokenExchanges() != 2 {
		t.Errorf("%d exchanges, want 2", s.TokenExchanges())
	}

	s.ExpireTokens()
	if _, _, err := complete(t, a, ch, textBody); !errors.As(err, &se) || se.Code != 111 {
		t.Errorf("after ExpireTokens: got %v", err)
	}
}

// TestBadCredentials: a wrong API Key or Secret Key fails the exchange
// with Baidu's OAuth error (401); an unknown token fails a call with
// error 110 (401).
func TestBadCredentials(t *testing.T) {
	s := baidutest.NewServer(t, apiKey, secretKey)
	a := baidu.New()
	for key, want := range map[string]string{
		"wrong-api-key|" + secretKey: "unknown client id",
		apiKey + "|wrong-secret":     "Client authentication failed",
	} {
		_, err := exchange(t, a, &adaptors.Channel{Key: key, BaseURL: s.URL}, time.Now())
		var se *schema.Error
		if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || !strings.Contains(se.Message, want) {
			t.Errorf("%s: got %v, want a 401 mentioning %q", key, err, want)
		}
	}
	// The token endpoint's refusal read by ParseError, as the transport
	// would for a non-2xx answer.
	r, _ := a.TokenRequest(&adaptors.Channel{Key: "x|y", BaseURL: s.URL}, time.Now())
	status, body := do(t, r)
	if e := a.ParseError(status, body); e.Status != http.StatusUnauthorized || e.Type != "authentication_error" {
		t.Errorf("ParseError of the refusal: %+v", *e)
	}
	if s.TokenExchanges() != 0 {
		t.Errorf("tokens issued for bad credentials")
	}

	ch := &adaptors.Channel{Key: s.Key(), BaseURL: s.URL, AccessToken: "24.forged"}
	_, _, err := complete(t, a, ch, textBody)
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || se.Code != 110 {
		t.Errorf("forged token: got %v", err)
	}
}

// TestValidation: the mock refuses what Baidu refuses, with its error
// body under HTTP 200.
func TestValidation(t *testing.T) {
	s := baidutest.NewServer(t, apiKey, secretKey)
	ch := channel(t, s)
	q := "?access_token=" + url.QueryEscape(ch.AccessToken)
	for _, tt := range []struct {
		path, body string
		code       int
	}{
		{"chat/completions", `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`, 336003},
		{"chat/completions", `{"messages":[{"role":"assistant","content":"a"}]}`, 336003},
		{"chat/completions", `{"messages":[{"role":"user","content":" "}]}`, 336003},
		{"chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"a"}]}`, 336003},
		{"chat/completions", `{"messages":[{"role":"user","content":"a"}],"temperature":0}`, 336003},
		{"chat/completions", `{"messages":[`, 336002},
		{"chat/no-such-model", `{"messages":[{"role":"user","content":"a"}]}`, 3},
		{"embeddings/tao_8k", `{"input":[]}`, 336003},
	} {
		status, body := do(t, &adaptors.HTTPRequest{Method: "POST", URL: s.URL + "/rpc/2.0/ai_custom/v1/wenxinworkshop/" + tt.path + q,
			Header: []adaptors.Header{{Key: "Content-Type", Value: "application/json"}}, Body: []byte(tt.body)})
		_, err := baidu.New().ParseResponse(chatReq("{}", false), body)
		var se *schema.Error
		if status != 200 || !errors.As(err, &se) || se.Code != tt.code {
			t.Errorf("%s %s: status %d, %v; want error code %d", tt.path, tt.body, status, err, tt.code)
		}
	}
}

func TestV2(t *testing.T) {
	s := baidutest.NewV2Server(t, "bce-v3/ALTAK-mock/0123456789abcdef", "app-mock01")
	a := baidu.NewV2()
	ch := &adaptors.Channel{Type: baidu.V2ChannelType, Key: s.Key + "|" + s.AppID, BaseURL: s.URL}
	v2Text := strings.Replace(textBody, "ERNIE-4.0-8K", "ernie-4.0-turbo-8k", 1)
	v2Tool := strings.Replace(toolBody, "ERNIE-4.0-8K", "ernie-4.0-turbo-8k", 1)

	resp, ans, err := complete(t, a, ch, v2Text)
	if err != nil {
		t.Fatal(err)
	}
	if *ans.Choices[0].Message.Content != baidutest.V2Text || *resp.Usage != s.TextUsage() {
		t.Errorf("answer %+v usage %+v", ans.Choices[0], *resp.Usage)
	}
	_, header, _ := s.LastRequest()
	if header.Get("appid") != s.AppID || header.Get("Authorization") != "Bearer "+s.Key {
		t.Errorf("headers %v", header)
	}
	got, err := stream(t, a, ch, v2Text)
	if err != nil || got.text != baidutest.V2Text || got.usage == nil || *got.usage != s.TextUsage() {
		t.Errorf("stream %+v, %v", got, err)
	}
	resp, ans, err = complete(t, a, ch, v2Tool)
	if err != nil || ans.Choices[0].FinishReason != "tool_calls" || *resp.Usage != s.ToolUsage() {
		t.Errorf("tool answer %+v, %v", ans, err)
	}
	got, err = stream(t, a, ch, v2Tool)
	if err != nil || got.args != `{"location":"Paris"}` || got.finish != "tool_calls" || *got.usage != s.ToolUsage() {
		t.Errorf("tool stream %+v, %v", got, err)
	}

	for name, key := range map[string]string{"bad key": "bce-v3/ALTAK-wrong/0|" + s.AppID, "no appid": s.Key} {
		_, _, err := complete(t, a, &adaptors.Channel{Key: key, BaseURL: s.URL}, v2Text)
		var se *schema.Error
		if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || se.Message == "" {
			t.Errorf("%s: got %v, want a 401", name, err)
		}
	}
}
