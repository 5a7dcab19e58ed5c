// Package xunfeitest is a mock of iFLYTEK's Spark WebSocket chat API for
// tests: an httptest server on 127.0.0.1 that verifies the URL signature
// before the WebSocket upgrade (refusing as iFLYTEK's gateway does), then
// reads the request frame, validates it as the Spark document describes,
// and answers in Spark's frames — text split over several frames, or a
// function call — the last with status 2 and the usage. It is imported by
// tests only; it uses github.com/coder/websocket on the server side, which
// the adaptor itself never imports.
package xunfeitest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchyard/adaptors"
)

// MockText is the text of every answer that is not a function call.
const MockText = "Hello from the Xunfei mock!"

// MockArguments are the arguments of every function call the mock makes.
const MockArguments = `{"location":"Paris"}`

// textParts is MockText as the mock's frames carry it.
var textParts = []string{"Hello", " from the", " Xunfei mock!"}

// Usage the mock reports in the last frame (payload.usage.text):
// question_tokens is the last question alone, prompt_tokens the whole
// prompt, which is what the gateway bills.
const (
	textQuestion, textPrompt, textCompletion = 4, 9, 8
	toolQuestion, toolPrompt, toolCompletion = 12, 62, 19
)

// maxSkew is how far the signed date may be from the mock's clock:
// iFLYTEK's gateway allows 300 s.
const maxSkew = 300 * time.Second

// Refusal bodies of iFLYTEK's gateway (its authentication documents,
// 鉴权结果), and the body it answers for a path it has no route for.
const (
	msgUnauthorized   = "Unauthorized"
	msgCannotVerify   = "HMAC signature cannot be verified"
	msgDoesNotMatch   = "HMAC signature does not match"
	msgClockSkew      = "HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication"
	msgNoRoute        = "no Route matched with those values"
	headersSigned     = "host date request-line"
	algorithmHMAC     = "hmac-sha256"
	readFrameDeadline = 10 * time.Second
)

// routes maps the Spark WebSocket paths to their domains (Web.html §1.1,
// X1ws.html).
var routes = map[string]string{
	"/v1.1/chat":     "lite",
	"/v2.1/chat":     "generalv2",
	"/v3.1/chat":     "generalv3",
	"/chat/pro-128k": "pro-128k",
	"/v3.5/chat":     "generalv3.5",
	"/chat/max-32k":  "max-32k",
	"/v4.0/chat":     "4.0Ultra",
	"/v1/x1":         "x1",
}

// Server is a mock Spark upstream that checks the URL signature and the
// request frame like the real one.
type Server struct {
	URL       string // ws://127.0.0.1:port, to put in the channel's base_url
	AppID     string
	APISecret string
	APIKey    string

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastFrame  []byte
	sessions   int
}

// NewServer starts a mock that accepts the application appID with the
// key pair apiKey/apiSecret; it is closed by t.Cleanup. A channel for it
// has the key appID|apiSecret|apiKey and the base URL s.URL.
func NewServer(t testing.TB, appID, apiSecret, apiKey string) *Server {
	s := &Server{AppID: appID, APISecret: apiSecret, APIKey: apiKey}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = "ws" + strings.TrimPrefix(srv.URL, "http")
	return s
}

// Key is the channel key for the mock, in One API's order.
func (s *Server) Key() string { return s.AppID + "|" + s.APISecret + "|" + s.APIKey }

// Requests returns how many upgrade requests the mock has answered,
// refused ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastRequest returns the path (with the signed query) and headers of
// the last upgrade request, and the request frame it sent (nil when the
// upgrade was refused).
func (s *Server) LastRequest() (path string, header http.Header, frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), bytes.Clone(s.lastFrame)
}

// TextUsage is the usage of every text answer, in OpenAI terms.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: textPrompt, CompletionTokens: textCompletion, TotalTokens: textPrompt + textCompletion}
}

// ToolUsage is the usage of every function-call answer, in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: toolPrompt, CompletionTokens: toolCompletion, TotalTokens: toolPrompt + toolCompletion}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	s.lastFrame = nil
	s.sessions++
	sid := fmt.Sprintf("cht%08x@dx18793cd421fb8945", s.sessions)
	s.mu.Unlock()

	domain, ok := routes[r.URL.Path]
	if !ok {
		refuse(w, http.StatusNotFound, msgNoRoute)
		return
	}
	if status, msg := s.verify(r); status != 0 {
		refuse(w, status, msg)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), readFrameDeadline)
	defer cancel()
	typ, frame, err := conn.Read(ctx)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.lastFrame = bytes.Clone(frame)
	s.mu.Unlock()
	if typ != websocket.MessageText {
		s.send(ctx, conn, errorFrame(10003, "用户的消息格式有错误", sid))
		return
	}
	req, code, msg := s.validate(frame, domain)
	if code != 0 {
		s.send(ctx, conn, errorFrame(code, msg, sid))
		conn.Close(websocket.StatusNormalClosure, "")
		return
	}
	for _, f := range answer(req, sid) {
		if !s.send(ctx, conn, f) {
			return
		}
	}
	// Spark closes the connection when the answer is complete.
	conn.Close(websocket.StatusNormalClosure, "")
}

func (s *Server) send(ctx context.Context, conn *websocket.Conn, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return conn.Write(ctx, websocket.MessageText, b) == nil
}

// refuse answers a refused upgrade with the gateway's {"message": …}.
func refuse(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// verify checks the URL signature of an upgrade request as iFLYTEK's
// gateway does (general_url_authentication.html, 鉴权结果): the
// authorization parameter present (401 Unauthorized), the date within
// 300 s (403), the authorization readable, for a known APIKey, with
// algorithm hmac-sha256 over "host date request-line" (401 cannot be
// verified), and the signature recomputed with that key's APISecret over
// the host parameter, the date and the request line (401 does not
// match). The host parameter must be the Host the request came to: a
// signature made for another host (a port left out) does not match.
// status 0 means the request is authenticated.
func (s *Server) verify(r *http.Request) (status int, msg string) {
	q := r.URL.Query()
	auth := q.Get("authorization")
	if auth == "" {
		return http.StatusUnauthorized, msgUnauthorized
	}
	date := q.Get("date")
	t, err := time.Parse(http.TimeFormat, date)
	if err != nil {
		return http.StatusForbidden, msgClockSkew
	}
	if skew := time.Since(t); skew > maxSkew || skew < -maxSkew {
		return http.StatusForbidden, msgClockSkew
	}
	origin, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		return http.StatusUnauthorized, msgCannotVerify
	}
	fields := parseAuthorization(string(origin))
	key := fields["api_key"]
	if key == "" {
		key = fields["hmac username"] // the form of iFLYTEK's older SDKs
	}
	if key != s.APIKey || fields["algorithm"] != algorithmHMAC || fields["headers"] != headersSigned || fields["signature"] == "" {
		return http.StatusUnauthorized, msgCannotVerify
	}
	host := q.Get("host")
	mac := hmac.New(sha256.New, []byte(s.APISecret))
	mac.Write([]byte("host: " + host + "\ndate: " + date + "\nGET " + r.URL.EscapedPath() + " HTTP/1.1"))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if host != r.Host || !hmac.Equal([]byte(want), []byte(fields["signature"])) {
		return http.StatusUnauthorized, msgDoesNotMatch
	}
	return 0, ""
}

// parseAuthorization reads `name="value", name="value", …`.
func parseAuthorization(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		name, rest, ok := strings.Cut(s, `="`)
		if !ok {
			return nil
		}
		value, rest, ok := strings.Cut(rest, `"`)
		if !ok {
			return nil
		}
		out[strings.TrimSpace(name)] = value
		s = strings.TrimLeft(rest, ", ")
	}
	return out
}

// requestFrame is the request frame as Spark reads it.
type requestFrame struct {
	Header struct {
		AppID string `json:"app_id"`
		UID   string `json:"uid"`
	} `json:"header"`
	Parameter struct {
		Chat struct {
			Domain      string   `json:"domain"`
			Temperature *float64 `json:"temperature"`
			MaxTokens   *int     `json:"max_tokens"`
			TopK        *int     `json:"top_k"`
		} `json:"chat"`
	} `json:"parameter"`
	Payload struct {
		Message struct {
			Text []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"text"`
		} `json:"message"`
		Functions *struct {
			Text []struct {
				Name        string          `json:"name"`
				Description string          `json:"description"`
				Parameters  json.RawMessage `json:"parameters"`
			} `json:"text"`
		} `json:"functions"`
	} `json:"payload"`
}

// validate checks a request frame as the Spark document describes it
// (Web.html §1.3, X1ws.html): header.app_id the application's (else
// 11200, no licence for that app id), uid at most 32 characters, the
// domain of the path, temperature in (0,1] ((0,2] for x1), top_k in
// [1,6], max_tokens at least 1, a non-empty text array of system, user
// and assistant messages with a system message only first, and
// functions with a name and a parameters object. Violations are error
// frames 10163 (the engine's schema check); a frame that is not the
// schema is 10003.
func (s *Server) validate(frame []byte, domain string) (*requestFrame, int, string) {
	var f requestFrame
	if err := json.Unmarshal(frame, &f); err != nil {
		return nil, 10003, "用户的消息格式有错误: " + err.Error()
	}
	invalid := func(format string, args ...any) (*requestFrame, int, string) {
		return nil, 10163, "请求引擎的参数异常 引擎的schema检查不通过: " + fmt.Sprintf(format, args...)
	}
	if f.Header.AppID != s.AppID {
		return nil, 11200, "AppIdNoAuthError"
	}
	if len(f.Header.UID) > 32 {
		return invalid("header.uid longer than 32")
	}
	c := f.Parameter.Chat
	if c.Domain != domain {
		return invalid("parameter.chat.domain %q is not %q", c.Domain, domain)
	}
	maxTemp := 1.0
	if domain == "x1" {
		maxTemp = 2
	}
	if t := c.Temperature; t != nil && (*t <= 0 || *t > maxTemp) {
		return invalid("temperature %v out of (0,%v]", *t, maxTemp)
	}
	if k := c.TopK; k != nil && (*k < 1 || *k > 6) {
		return invalid("top_k %d out of [1,6]", *k)
	}
	if m := c.MaxTokens; m != nil && *m < 1 {
		return invalid("max_tokens %d below 1", *m)
	}
	text := f.Payload.Message.Text
	if len(text) == 0 {
		return invalid("payload.message.text is empty")
	}
	for i, m := range text {
		switch {
		case m.Role == "system" && i == 0, m.Role == "user", m.Role == "assistant":
		case m.Role == "system":
			return invalid("text[%d]: system message not first", i)
		default:
			return invalid("text[%d]: role %q", i, m.Role)
		}
	}
	if fs := f.Payload.Functions; fs != nil {
		if len(fs.Text) == 0 {
			return invalid("payload.functions.text is empty")
		}
		for i, fn := range fs.Text {
			if fn.Name == "" || !bytes.HasPrefix(bytes.TrimSpace(fn.Parameters), []byte("{")) {
				return invalid("functions.text[%d]: name and parameters object required", i)
			}
		}
	}
	return &f, 0, ""
}

// Answer frames, members in Spark's order.
type (
	frameOut struct {
		Header  headerOut   `json:"header"`
		Payload *payloadOut `json:"payload,omitempty"`
	}
	headerOut struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Sid     string `json:"sid"`
		Status  int    `json:"status"`
	}
	payloadOut struct {
		Choices choicesOut `json:"choices"`
		Usage   *usageOut  `json:"usage,omitempty"`
	}
	choicesOut struct {
		Status int       `json:"status"`
		Seq    int       `json:"seq"`
		Text   []textOut `json:"text"`
	}
	textOut struct {
		Content      string           `json:"content"`
		Role         string           `json:"role"`
		ContentType  string           `json:"content_type,omitempty"`
		FunctionCall *functionCallOut `json:"function_call,omitempty"`
		Index        int              `json:"index"`
	}
	functionCallOut struct {
		Arguments string `json:"arguments"`
		Name      string `json:"name"`
	}
	usageOut struct {
		Text usageTextOut `json:"text"`
	}
	usageTextOut struct {
		QuestionTokens   int `json:"question_tokens"`
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
)

func errorFrame(code int, msg, sid string) frameOut {
	return frameOut{Header: headerOut{Code: code, Message: msg, Sid: sid, Status: 2}}
}

// answer returns the answer frames. When the request declares functions
// and is a fresh question (its last message a user message, and no
// assistant message before it), the answer is a call of the first
// function with MockArguments; otherwise MockText over several frames.
// Spark takes function results back only as plain text (the adaptor
// sends them as user messages after the assistant turn that called),
// so an assistant message in the history marks a follow-up.
func answer(req *requestFrame, sid string) []frameOut {
	text := req.Payload.Message.Text
	tool := req.Payload.Functions != nil && text[len(text)-1].Role == "user"
	for _, m := range text {
		if m.Role == "assistant" {
			tool = false
		}
	}
	frame := func(status, seq int, t textOut) frameOut {
		t.Role = "assistant"
		return frameOut{
			Header:  headerOut{Code: 0, Message: "Success", Sid: sid, Status: status},
			Payload: &payloadOut{Choices: choicesOut{Status: status, Seq: seq, Text: []textOut{t}}},
		}
	}
	var out []frameOut
	var usage usageTextOut
	if tool {
		out = []frameOut{
			frame(0, 0, textOut{ContentType: "text"}),
			frame(2, 1, textOut{ContentType: "text", FunctionCall: &functionCallOut{Arguments: MockArguments, Name: req.Payload.Functions.Text[0].Name}}),
		}
		usage = usageTextOut{QuestionTokens: toolQuestion, PromptTokens: toolPrompt, CompletionTokens: toolCompletion, TotalTokens: toolPrompt + toolCompletion}
	} else {
		for i, p := range textParts {
			status := 1
			switch i {
			case 0:
				status = 0
			case len(textParts) - 1:
				status = 2
			}
			out = append(out, frame(status, i, textOut{Content: p}))
		}
		usage = usageTextOut{QuestionTokens: textQuestion, PromptTokens: textPrompt, CompletionTokens: textCompletion, TotalTokens: textPrompt + textCompletion}
	}
	out[len(out)-1].Payload.Usage = &usageOut{Text: usage}
	return out
}
