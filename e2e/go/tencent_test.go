package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	hunyuan "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/hunyuan/v20230901"

	"switchyard/adaptors/tencent"
	"switchyard/adaptors/tencent/tencenttest"
)

// Tencent Hunyuan's TC3-HMAC-SHA256 signature, cross-checked against the
// reference signer in Tencent's official Go SDK (tencentcloud-sdk-go,
// common.Client.sendWithSignatureV3) — code no one here wrote:
//
//   - the SDK's own requests are accepted by the tencenttest mock, which
//     recomputes every signature, and its answers decode in the SDK's
//     types (TestTencentSDKAgainstMock);
//   - on the very request the SDK sends, tencent.SignTC3ContentHost (the
//     SDK's form: content-type;host) yields the SDK's Authorization value
//     byte for byte, for several bodies and hosts
//     (TestTencentSignerMatchesSDK);
//   - the bodies the adaptor builds parse into the SDK's request types and
//     come back out unchanged (TestTencentRequestsParseIntoSDKTypes).

// Tencent's documented example key pair (signature v3 documentation).
const (
	tcSecretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
	tcSecretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
)

// tcClient is the official SDK's Hunyuan client for endpoint ("" for the
// default hunyuan.tencentcloudapi.com) over scheme, sending through rt
// when it is not nil (the SDK's own transport otherwise).
func tcClient(t *testing.T, secretKey, endpoint, scheme string, rt http.RoundTripper) *hunyuan.Client {
	t.Helper()
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = endpoint
	cpf.HttpProfile.Scheme = scheme
	cpf.HttpProfile.ReqTimeout = 10
	c, err := hunyuan.NewClient(common.NewCredential(tcSecretID, secretKey), "", cpf)
	if err != nil {
		t.Fatal(err)
	}
	if rt != nil {
		c.WithHttpTransport(rt)
	}
	return c
}

// tcRequest is one request as the SDK sent it.
type tcRequest struct {
	URL    string // the URL the SDK addressed
	Host   string // its Host header
	Header http.Header
	Body   []byte
}

// tcForwarder is a RoundTripper that records each request the SDK sends
// and forwards it unchanged — Host header, headers and body as they are —
// to the mock at target: a stand-in for DNS, so that the SDK can address
// any host (its default one, a proxy's) and still reach 127.0.0.1.
type tcForwarder struct {
	target    *url.URL
	transport *http.Transport

	mu   sync.Mutex
	reqs []tcRequest
}

func newTCForwarder(t *testing.T, mockURL string) *tcForwarder {
	t.Helper()
	u, err := url.Parse(mockURL)
	if err != nil {
		t.Fatal(err)
	}
	f := &tcForwarder{target: u, transport: &http.Transport{}} // no proxy: straight to 127.0.0.1
	t.Cleanup(f.transport.CloseIdleConnections)
	return f
}

func (f *tcForwarder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, tcRequest{URL: r.URL.String(), Host: host, Header: r.Header.Clone(), Body: body})
	f.mu.Unlock()

	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = f.target.Scheme, f.target.Host
	out.Host = host
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	return f.transport.RoundTrip(out)
}

// only returns the one request recorded, failing unless there is exactly
// one.
func (f *tcForwarder) only(t *testing.T) tcRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) != 1 {
		t.Fatalf("the SDK sent %d requests, want 1", len(f.reqs))
	}
	return f.reqs[0]
}

// tcSignedHeaders returns the SignedHeaders member of a TC3 Authorization.
func tcSignedHeaders(authz string) string {
	for _, f := range strings.Split(authz, ", ") {
		if v, ok := strings.CutPrefix(f, "SignedHeaders="); ok {
			return v
		}
	}
	return ""
}

// tcCheckSignature asserts that our signer, given the host, Content-Type,
// X-TC-Timestamp and body of a request the SDK sent, reproduces the
// SDK's Authorization exactly.
func tcCheckSignature(t *testing.T, host string, h http.Header, body []byte) {
	t.Helper()
	authz := h.Get("Authorization")
	if got := tcSignedHeaders(authz); got != "content-type;host" {
		t.Fatalf("the SDK signed %q, want content-type;host (Authorization %q)", got, authz)
	}
	tsText := h.Get("X-TC-Timestamp")
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		t.Fatalf("X-TC-Timestamp %q: %v", tsText, err)
	}
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	if want := "TC3-HMAC-SHA256 Credential=" + tcSecretID + "/" + date + "/hunyuan/tc3_request, "; !strings.HasPrefix(authz, want) {
		t.Fatalf("Authorization %q does not start with %q", authz, want)
	}
	got := tencent.SignTC3ContentHost(tcSecretID, tcSecretKey, host, h.Get("Content-Type"), "hunyuan", ts, body)
	if got != authz {
		t.Fatalf("our signer and the SDK disagree on host %q, Content-Type %q, timestamp %d, %d-byte body:\nours: %s\nSDK:  %s",
			host, h.Get("Content-Type"), ts, len(body), got, authz)
	}
}

func tcString(s string) *string { return &s }

func tcMessage(role, content string) *hunyuan.Message {
	return &hunyuan.Message{Role: tcString(role), Content: tcString(content)}
}

func tcChatRequest(model string, msgs ...*hunyuan.Message) *hunyuan.ChatCompletionsRequest {
	req := hunyuan.NewChatCompletionsRequest()
	req.Model = tcString(model)
	req.Messages = msgs
	stream := false
	req.Stream = &stream
	return req
}

// tcCheckText asserts a text answer of the mock, decoded by the SDK.
func tcCheckText(t *testing.T, m *tencenttest.Server, resp *hunyuan.ChatCompletionsResponse) {
	t.Helper()
	r := resp.Response
	if r == nil || len(r.Choices) != 1 || r.Choices[0].Message == nil {
		t.Fatalf("the SDK decoded no choice: %s", resp.ToJsonString())
	}
	c := r.Choices[0]
	if c.Message.Content == nil || *c.Message.Content != tencenttest.MockText {
		t.Errorf("content: %s", resp.ToJsonString())
	}
	if c.Message.Role == nil || *c.Message.Role != "assistant" || c.FinishReason == nil || *c.FinishReason != "stop" {
		t.Errorf("role or finish reason: %s", resp.ToJsonString())
	}
	tcCheckUsage(t, r.Usage, m.TextUsage().PromptTokens, m.TextUsage().CompletionTokens)
	if r.Id == nil || *r.Id == "" || r.RequestId == nil || *r.RequestId == "" || r.Note == nil || *r.Note != tencenttest.Note {
		t.Errorf("Id, RequestId or Note: %s", resp.ToJsonString())
	}
	if r.Created == nil || time.Since(time.Unix(*r.Created, 0)).Abs() > time.Minute {
		t.Errorf("Created: %s", resp.ToJsonString())
	}
}

func tcCheckUsage(t *testing.T, u *hunyuan.Usage, prompt, completion int) {
	t.Helper()
	if u == nil || u.PromptTokens == nil || u.CompletionTokens == nil || u.TotalTokens == nil ||
		*u.PromptTokens != int64(prompt) || *u.CompletionTokens != int64(completion) || *u.TotalTokens != int64(prompt+completion) {
		b, _ := json.Marshal(u)
		t.Errorf("usage %s, want %d+%d", b, prompt, completion)
	}
}

// TestTencentSDKAgainstMock drives the official SDK, unmodified (its own
// transport, the mock as its endpoint over http), against the tencenttest
// mock: the mock recomputes the signature of each request, so its
// accepting the SDK's requests shows its verifier agrees with Tencent's
// reference signer — and that a wrong key is refused shows it checks.
func TestTencentSDKAgainstMock(t *testing.T) {
	m := tencenttest.NewServer(t, tcSecretID, tcSecretKey)
	u, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := tcClient(t, tcSecretKey, u.Host, "http", nil)

	t.Run("chat", func(t *testing.T) {
		before := m.Requests()
		req := tcChatRequest("hunyuan-turbos-latest",
			tcMessage("system", "You are a concise assistant."),
			tcMessage("user", "你好，混元！What is 1+1?"))
		temp, topP := 0.7, 0.9
		req.Temperature, req.TopP = &temp, &topP
		resp, err := client.ChatCompletions(req)
		if err != nil {
			t.Fatalf("the mock refused the SDK's request: %v", err)
		}
		if n := m.Requests() - before; n != 1 {
			t.Fatalf("the mock saw %d requests, want 1", n)
		}
		tcCheckText(t, m, resp)

		// What the mock received is what the SDK signed: our signer,
		// fed the same request, agrees.
		path, h, body := m.LastRequest()
		if path != "/" || h.Get("Host") != u.Host || h.Get("X-TC-Action") != "ChatCompletions" || h.Get("X-TC-Version") != "2023-09-01" {
			t.Fatalf("request %s, Host %q, action %q, version %q", path, h.Get("Host"), h.Get("X-TC-Action"), h.Get("X-TC-Version"))
		}
		tcCheckSignature(t, u.Host, h, body)
	})

	t.Run("tool call", func(t *testing.T) {
		req := tcChatRequest("hunyuan-functioncall", tcMessage("user", "What is the weather in Paris?"))
		req.Tools = []*hunyuan.Tool{{
			Type: tcString("function"),
			Function: &hunyuan.ToolFunction{
				Name:        tcString("get_weather"),
				Parameters:  tcString(`{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}`),
				Description: tcString("Current weather of a city"),
			},
		}}
		req.ToolChoice = tcString("auto")
		resp, err := client.ChatCompletions(req)
		if err != nil {
			t.Fatalf("the mock refused the SDK's request: %v", err)
		}
		r := resp.Response
		if r == nil || len(r.Choices) != 1 || r.Choices[0].Message == nil || len(r.Choices[0].Message.ToolCalls) != 1 {
			t.Fatalf("the SDK decoded no tool call: %s", resp.ToJsonString())
		}
		c := r.Choices[0]
		tc := c.Message.ToolCalls[0]
		if c.FinishReason == nil || *c.FinishReason != "tool_calls" || tc.Id == nil || *tc.Id == "" ||
			tc.Type == nil || *tc.Type != "function" || tc.Function == nil ||
			tc.Function.Name == nil || *tc.Function.Name != "get_weather" ||
			tc.Function.Arguments == nil || *tc.Function.Arguments != tencenttest.MockArguments {
			t.Errorf("tool call: %s", resp.ToJsonString())
		}
		tcCheckUsage(t, r.Usage, m.ToolUsage().PromptTokens, m.ToolUsage().CompletionTokens)
		_, h, body := m.LastRequest()
		tcCheckSignature(t, u.Host, h, body)
	})

	t.Run("embedding", func(t *testing.T) {
		req := hunyuan.NewGetEmbeddingRequest()
		req.InputList = []*string{tcString("腾讯混元向量化"), tcString("second text")}
		resp, err := client.GetEmbedding(req)
		if err != nil {
			t.Fatalf("the mock refused the SDK's request: %v", err)
		}
		r := resp.Response
		if r == nil || len(r.Data) != 2 {
			t.Fatalf("the SDK decoded no embeddings: %.300s", resp.ToJsonString())
		}
		for i, d := range r.Data {
			if len(d.Embedding) != tencenttest.EmbeddingDimensions || d.Index == nil || *d.Index != int64(i) {
				t.Errorf("embedding %d: %d dimensions, index %v", i, len(d.Embedding), d.Index)
			}
		}
		want := m.EmbedUsage(2)
		if r.Usage == nil || r.Usage.PromptTokens == nil || *r.Usage.PromptTokens != int64(want.PromptTokens) ||
			r.Usage.TotalTokens == nil || *r.Usage.TotalTokens != int64(want.TotalTokens) {
			b, _ := json.Marshal(r.Usage)
			t.Errorf("usage %s, want %+v", b, want)
		}
		_, h, body := m.LastRequest()
		if h.Get("X-TC-Action") != "GetEmbedding" {
			t.Fatalf("action %q", h.Get("X-TC-Action"))
		}
		tcCheckSignature(t, u.Host, h, body)
	})

	t.Run("wrong key refused", func(t *testing.T) {
		bad := tcClient(t, tcSecretKey+"x", u.Host, "http", nil)
		_, err := bad.ChatCompletions(tcChatRequest("hunyuan-turbos-latest", tcMessage("user", "hi")))
		var sdkErr *tcerr.TencentCloudSDKError
		if !errors.As(err, &sdkErr) || sdkErr.GetCode() != "AuthFailure.SignatureFailure" {
			t.Fatalf("a signature with the wrong key: %v, want AuthFailure.SignatureFailure", err)
		}
	})
}

// tcPost sends a request to the mock as given (Host and headers) and
// returns the Error code of its answer, "" when it accepted.
func tcPost(t *testing.T, mockURL, host string, h http.Header, body []byte) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, mockURL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h.Clone()
	req.Host = host
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Response struct {
			Error *struct{ Code string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	if out.Response.Error == nil {
		return ""
	}
	return out.Response.Error.Code
}

// TestTencentSignerMatchesSDK captures the requests the official SDK
// sends — to its default host and to a proxy's host:port, with ASCII,
// Chinese and large bodies — and shows that tencent.SignTC3ContentHost
// computes exactly the SDK's Authorization on the same input, that the
// mock accepts each request under the Host it was signed for, and that
// the adaptor's own form (tencent.SignTC3, which also signs x-tc-action)
// over the same request is accepted too while a changed body or host is
// refused.
func TestTencentSignerMatchesSDK(t *testing.T) {
	m := tencenttest.NewServer(t, tcSecretID, tcSecretKey)

	// ~60 KB: 39 alternating turns (the mock allows 40) of mixed text.
	var large []*hunyuan.Message
	for i := range 39 {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		large = append(large, tcMessage(role, strconv.Itoa(i)+": "+strings.Repeat("The quick brown fox 敏捷的棕色狐狸 jumps over the lazy dog. ", 24)))
	}

	payloads := []struct {
		name string
		msgs []*hunyuan.Message
	}{
		{"ascii", []*hunyuan.Message{
			tcMessage("system", "Be brief."),
			tcMessage("user", `Hello! "Quote" <b>bold</b> & 'apostrophe' \ backslash`),
		}},
		{"chinese", []*hunyuan.Message{tcMessage("user", "你好！请用中文介绍一下腾讯混元大模型。😀")}},
		{"large", large},
	}
	hosts := []struct {
		name, endpoint, scheme, host, url string
	}{
		{"default host", "", "https", "hunyuan.tencentcloudapi.com", "https://hunyuan.tencentcloudapi.com/"},
		{"proxy host:port", "llm-proxy.example.internal:8443", "http", "llm-proxy.example.internal:8443", "http://llm-proxy.example.internal:8443/"},
	}

	for _, hc := range hosts {
		for _, bc := range payloads {
			t.Run(hc.name+"/"+bc.name, func(t *testing.T) {
				fwd := newTCForwarder(t, m.URL)
				client := tcClient(t, tcSecretKey, hc.endpoint, hc.scheme, fwd)
				resp, err := client.ChatCompletions(tcChatRequest("hunyuan-turbos-latest", bc.msgs...))
				if err != nil {
					t.Fatalf("the mock refused the SDK's request: %v", err)
				}
				tcCheckText(t, m, resp)

				sent := fwd.only(t)
				if sent.URL != hc.url || sent.Host != hc.host {
					t.Fatalf("the SDK addressed %s with Host %q, want %s and %q", sent.URL, sent.Host, hc.url, hc.host)
				}
				if ct := sent.Header.Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type %q", ct)
				}
				if bc.name == "large" && len(sent.Body) < 50_000 {
					t.Fatalf("the large body is only %d bytes", len(sent.Body))
				}
				_, got, gotBody := m.LastRequest()
				if got.Get("Host") != hc.host || !bytes.Equal(gotBody, sent.Body) || got.Get("Authorization") != sent.Header.Get("Authorization") {
					t.Fatal("the mock did not receive the request as the SDK sent it")
				}

				// Our signer on the SDK's input gives the SDK's value.
				tcCheckSignature(t, sent.Host, sent.Header, sent.Body)

				// The same request under the adaptor's signature form,
				// which also signs x-tc-action, is accepted as well.
				ts, _ := strconv.ParseInt(sent.Header.Get("X-TC-Timestamp"), 10, 64)
				h := sent.Header.Clone()
				h.Set("Authorization", tencent.SignTC3(tcSecretID, tcSecretKey, sent.Host, h.Get("X-TC-Action"), "hunyuan", ts, sent.Body))
				if code := tcPost(t, m.URL, sent.Host, h, sent.Body); code != "" {
					t.Errorf("the adaptor's signature form over the SDK's request: %s", code)
				}

				// The mock checks for real: the SDK's signature does not
				// cover a changed body or another host.
				changed := append(bytes.Clone(sent.Body), '\n') // the same JSON value, other bytes
				if code := tcPost(t, m.URL, sent.Host, sent.Header, changed); code != "AuthFailure.SignatureFailure" {
					t.Errorf("a changed body: %q, want AuthFailure.SignatureFailure", code)
				}
				if code := tcPost(t, m.URL, "other.example:8443", sent.Header, sent.Body); code != "AuthFailure.SignatureFailure" {
					t.Errorf("another host: %q, want AuthFailure.SignatureFailure", code)
				}
			})
		}
	}
}

// TestTencentRequestsParseIntoSDKTypes reads the request bodies the
// adaptor builds (its golden testdata/build/*.body.json) with the SDK's
// request types — FromJsonString refuses a member the SDK does not know —
// and marshals them back: nothing may be lost or changed on the way.
func TestTencentRequestsParseIntoSDKTypes(t *testing.T) {
	type sdkRequest interface {
		FromJsonString(string) error
		ToJsonString() string
	}
	for name, body := range bodies(t, "tencent") {
		t.Run(name, func(t *testing.T) {
			var req sdkRequest = hunyuan.NewChatCompletionsRequest()
			if strings.HasPrefix(name, "embedding") {
				req = hunyuan.NewGetEmbeddingRequest()
			}
			if err := req.FromJsonString(string(body)); err != nil {
				t.Fatalf("the SDK cannot read the body: %v\n%s", err, body)
			}
			back := req.ToJsonString()
			if !sameJSON(t, body, []byte(back)) {
				t.Fatalf("the body changed on its way through the SDK's types:\nours: %s\nSDK:  %s", body, back)
			}
		})
	}

	// FromJsonString does refuse what it does not know, so the check
	// above has teeth.
	if err := hunyuan.NewChatCompletionsRequest().FromJsonString(`{"Model":"hunyuan-turbo","MaxTokens":5}`); err == nil {
		t.Error("FromJsonString accepted an unknown member")
	}
	if err := hunyuan.NewGetEmbeddingRequest().FromJsonString(`{"Input":"x","Model":"hunyuan-embedding"}`); err == nil {
		t.Error("GetEmbedding's FromJsonString accepted an unknown member")
	}
}
