// Package baidutest is a mock of Baidu's large-model APIs for tests: an
// httptest server on 127.0.0.1 that plays Baidu's OAuth token endpoint
// and the ERNIE v1 (wenxinworkshop) chat and embeddings endpoints, and a
// second one (NewV2Server) for Qianfan's OpenAI-compatible v2 API. The v1
// mock issues access tokens for one API Key and Secret Key, with a
// lifetime tests choose, and refuses unknown or expired tokens exactly as
// Baidu does — HTTP 200 with {"error_code":110|111,"error_msg":…} — so a
// gateway's token cache and refresh can be tested end to end. Requests
// are validated as Baidu documents them; answers are Baidu's wire format.
// A Server is safe for concurrent requests. Imported by tests only.
package baidutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/adaptors"
)

// MockText is the text of every chat answer that is not a function call.
const MockText = "Hello from the Baidu ERNIE mock!"

// DefaultExpiresIn is the lifetime of the mock's access tokens unless
// ExpiresIn says otherwise: Baidu's 30 days.
const DefaultExpiresIn = 2592000

// EmbeddingDims is the size of the mock's embeddings (Baidu's models have
// 384 or 1024 dimensions; the mock keeps answers short).
const EmbeddingDims = 8

// EmbedTokensPerInput is the prompt tokens the mock counts per embedded
// text.
const EmbedTokensPerInput = 4

// Paths the mock serves.
const (
	tokenPath    = "/oauth/2.0/token"
	chatPrefix   = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/"
	embedPrefix  = "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/"
	maxStopRunes = 20 // Baidu's limit on one stop sequence
)

// chatEndpoints are the chat endpoints the mock serves (Baidu's; any
// other is "Unsupported openapi method").
var chatEndpoints = map[string]bool{
	"completions_pro": true, "completions": true, "ernie-4.0-8k-latest": true, "ernie-4.0-8k-preview": true,
	"ernie-4.0-turbo-8k": true, "ernie-4.0-turbo-128k": true, "ernie-3.5-128k": true, "ernie-3.5-8k-preview": true,
	"ernie_speed": true, "ernie-speed-128k": true, "ernie-speed-pro-128k": true, "ernie-lite-8k": true,
	"ernie-lite-pro-128k": true, "ernie-tiny-8k": true, "ernie-char-8k": true, "ernie-char-fiction-8k": true,
	"ernie-func-8k": true, "ernie-novel-8k": true, "eb-instant": true,
}

// embedEndpoints are the embeddings endpoints the mock serves.
var embedEndpoints = map[string]bool{"embedding-v1": true, "bge_large_zh": true, "bge_large_en": true, "tao_8k": true}

// Usage the mock reports, in Baidu's terms (which are OpenAI's: ERNIE
// reports no cached or reasoning tokens).
const (
	textPrompt, textCompletion = 9, 12
	toolPrompt, toolCompletion = 58, 21
)

// Option configures a Server.
type Option func(*Server)

// ExpiresIn sets the lifetime, in seconds, of the tokens the mock issues
// (DefaultExpiresIn otherwise).
func ExpiresIn(seconds int) Option { return func(s *Server) { s.expiresIn = seconds } }

// Clock sets the mock's clock (time.Now otherwise), which decides when
// its tokens expire.
func Clock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a mock ERNIE v1 upstream (and OAuth endpoint) that checks
// auth and the request like the real one.
type Server struct {
	URL       string // base URL to put in the channel's base_url
	APIKey    string // the application's API Key (client_id)
	SecretKey string // its Secret Key (client_secret)

	now       func() time.Time
	expiresIn int

	mu         sync.Mutex
	requests   int
	exchanges  int
	answers    int
	tokens     map[string]time.Time // issued token → expiry
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// NewServer starts a mock that issues tokens for apiKey and secretKey;
// it is closed by t.Cleanup.
func NewServer(t testing.TB, apiKey, secretKey string, opts ...Option) *Server {
	t.Helper()
	s := &Server{APIKey: apiKey, SecretKey: secretKey, now: time.Now, expiresIn: DefaultExpiresIn, tokens: map[string]time.Time{}}
	for _, o := range opts {
		o(s)
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Key is the channel key for the mock's application: "API_KEY|SECRET_KEY".
func (s *Server) Key() string { return s.APIKey + "|" + s.SecretKey }

// Requests returns the number of requests answered so far (any status,
// token exchanges included).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// TokenExchanges returns the number of access tokens issued so far.
func (s *Server) TokenExchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// ExpireTokens makes every token issued so far expired, as if their
// lifetime had passed.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok := range s.tokens {
		s.tokens[tok] = time.Time{}
	}
}

// LastRequest returns the path (with its query), headers and body of the
// last request.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), bytes.Clone(s.lastBody)
}

// TextUsage is the usage of every text answer in OpenAI terms.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: textPrompt, CompletionTokens: textCompletion, TotalTokens: textPrompt + textCompletion}
}

// ToolUsage is the usage of every function-call answer in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: toolPrompt, CompletionTokens: toolCompletion, TotalTokens: toolPrompt + toolCompletion}
}

// EmbedUsage is the usage of an embeddings answer for n texts.
func (s *Server) EmbedUsage(n int) adaptors.Usage {
	return adaptors.Usage{PromptTokens: n * EmbedTokensPerInput, TotalTokens: n * EmbedTokensPerInput}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath, s.lastHeader, s.lastBody = r.URL.RequestURI(), r.Header.Clone(), body
	s.mu.Unlock()

	path := r.URL.Path
	switch {
	case path == tokenPath:
		s.token(w, r)
		return
	case strings.HasPrefix(path, chatPrefix), strings.HasPrefix(path, embedPrefix):
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		writeCode(w, 336101, "Invalid HTTP method")
		return
	}
	if code, msg := s.checkToken(r.URL.Query().Get("access_token")); code != 0 {
		writeCode(w, code, msg)
		return
	}
	if ep, ok := strings.CutPrefix(path, chatPrefix); ok {
		if !chatEndpoints[ep] {
			writeCode(w, 3, "Unsupported openapi method")
			return
		}
		s.chat(w, body)
		return
	}
	ep := strings.TrimPrefix(path, embedPrefix)
	if !embedEndpoints[ep] {
		writeCode(w, 3, "Unsupported openapi method")
		return
	}
	s.embed(w, body)
}

// token is the OAuth endpoint: client credentials only.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Method != http.MethodPost:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "method not allowed"})
		return
	case q.Get("grant_type") != "client_credentials":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported"})
		return
	case q.Get("client_id") != s.APIKey:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error_description": "unknown client id", "error": "invalid_client"})
		return
	case q.Get("client_secret") != s.SecretKey:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error_description": "Client authentication failed", "error": "invalid_client"})
		return
	}
	s.mu.Lock()
	s.exchanges++
	n := s.exchanges
	expiry := s.now().Add(time.Duration(s.expiresIn) * time.Second)
	tok := fmt.Sprintf("24.%016x%016x.%d.%d.282335-8574074", n, uint64(n)*0x9e3779b97f4a7c15, s.expiresIn, expiry.Unix())
	s.tokens[tok] = expiry
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"refresh_token":  fmt.Sprintf("25.%032x.315360000.%d.282335-8574074", n, expiry.Unix()+315360000),
		"expires_in":     s.expiresIn,
		"scope":          "public brain_all_scope wenxinworkshop_mgr ai_custom_yiyan_com ai_custom_yiyan_com_eb_instant",
		"session_key":    fmt.Sprintf("9mzdDZXu3dENdFZQurfg0Vz8slgSgvvOAUebNFzyzcpQ5EnbxbF+hfG9DQkpUVQdh4p6HbQcAiz5RmuBAja1JJGg%04d", n%10000),
		"access_token":   tok,
		"session_secret": fmt.Sprintf("%032x", uint64(n)*0x2545f4914f6cdd1d),
	})
}

// checkToken returns Baidu's error for an absent, unknown or expired
// token, or 0.
func (s *Server) checkToken(tok string) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	expiry, ok := s.tokens[tok]
	switch {
	case !ok:
		return 110, "Access token invalid or no longer valid"
	case !s.now().Before(expiry):
		return 111, "Access token expired"
	}
	return 0, ""
}

// writeCode answers Baidu's error body, which Baidu sends with HTTP 200
// (also to stream requests: the stream never starts).
func writeCode(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, http.StatusOK, map[string]any{"error_code": code, "error_msg": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// invalid is a request Baidu refuses: error code 336003 unless code says
// otherwise.
type invalid struct {
	code int
	msg  string
}

func (e *invalid) Error() string { return e.msg }

func bad(format string, args ...any) *invalid {
	return &invalid{code: 336003, msg: fmt.Sprintf(format, args...)}
}

// decodeStrict decodes a JSON object body, refusing members Baidu does
// not know (the mock's way of catching OpenAI members sent as they are).
func decodeStrict(body []byte, v any) *invalid {
	var probe any
	if json.Unmarshal(body, &probe) != nil {
		return &invalid{code: 336002, msg: "Invalid JSON"}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return bad("Invalid parameter: %v", err)
	}
	return nil
}

// chatRequest is ERNIE v1's chat body.
type chatRequest struct {
	Messages        []message  `json:"messages"`
	Functions       []function `json:"functions"`
	Temperature     *float64   `json:"temperature"`
	TopP            *float64   `json:"top_p"`
	PenaltyScore    *float64   `json:"penalty_score"`
	Stream          bool       `json:"stream"`
	System          *string    `json:"system"`
	Stop            []string   `json:"stop"`
	DisableSearch   *bool      `json:"disable_search"`
	EnableCitation  *bool      `json:"enable_citation"`
	MaxOutputTokens *int       `json:"max_output_tokens"`
	ResponseFormat  *string    `json:"response_format"`
	UserID          *string    `json:"user_id"`
	ToolChoice      *struct {
		Type     string          `json:"type"`
		Function json.RawMessage `json:"function"`
		Name     string          `json:"name"`
	} `json:"tool_choice"`
}

type message struct {
	Role         string        `json:"role"`
	Content      *string       `json:"content"`
	Name         string        `json:"name"`
	FunctionCall *functionCall `json:"function_call"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Thoughts  string `json:"thoughts,omitempty"`
}

type function struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Responses   json.RawMessage `json:"responses"`
	Examples    json.RawMessage `json:"examples"`
}

// validate checks a chat body as Baidu's parameter table describes it.
func (c *chatRequest) validate() *invalid {
	n := len(c.Messages)
	switch {
	case n == 0:
		return bad("messages can not be empty")
	case n%2 == 0:
		return bad("the length of messages must be an odd number")
	}
	for i, m := range c.Messages {
		userSide := i%2 == 0
		switch {
		case userSide && m.Role != "user" && m.Role != "function":
			return bad("messages[%d]: role must be user or function", i)
		case userSide && i == 0 && m.Role == "function":
			return bad("the role of the first message can not be function")
		case !userSide && m.Role != "assistant":
			return bad("messages[%d]: role must be assistant", i)
		case m.Content == nil:
			return bad("messages[%d]: content is required", i)
		case *m.Content == "" && (m.Role != "assistant" || m.FunctionCall == nil):
			return bad("messages[%d]: content can not be empty", i)
		case m.Role == "function" && m.Name == "":
			return bad("messages[%d]: name is required when role is function", i)
		case m.FunctionCall != nil && (m.Role != "assistant" || m.FunctionCall.Name == ""):
			return bad("messages[%d]: invalid function_call", i)
		}
	}
	if strings.TrimSpace(*c.Messages[n-1].Content) == "" {
		return bad("the content of the last message can not be blank")
	}
	for i, f := range c.Functions {
		if f.Name == "" || f.Description == "" || len(f.Parameters) == 0 {
			return bad("functions[%d]: name, description and parameters are required", i)
		}
	}
	if t := c.Temperature; t != nil && (*t <= 0 || *t > 1) {
		return bad("temperature must be in (0, 1.0]")
	}
	if p := c.TopP; p != nil && (*p < 0 || *p > 1) {
		return bad("top_p must be in [0, 1.0]")
	}
	if p := c.PenaltyScore; p != nil && (*p < 1 || *p > 2) {
		return bad("penalty_score must be in [1.0, 2.0]")
	}
	if len(c.Stop) > 4 {
		return bad("stop can have at most 4 elements")
	}
	for _, s := range c.Stop {
		if len([]rune(s)) > maxStopRunes {
			return bad("each element of stop can have at most 20 characters")
		}
	}
	if m := c.MaxOutputTokens; m != nil && *m < 2 {
		return bad("max_output_tokens must be at least 2")
	}
	if rf := c.ResponseFormat; rf != nil && *rf != "text" && *rf != "json_object" {
		return bad("response_format must be text or json_object")
	}
	if tc := c.ToolChoice; tc != nil {
		known := false
		for _, f := range c.Functions {
			known = known || f.Name == tc.Name
		}
		if tc.Type != "function" || !known {
			return bad("tool_choice must name a function of functions")
		}
	}
	return nil
}

// chatAnswer is ERNIE v1's answer, and each payload of its stream.
type chatAnswer struct {
	ID               string        `json:"id"`
	Object           string        `json:"object"`
	Created          int64         `json:"created"`
	SentenceID       *int          `json:"sentence_id,omitempty"`
	IsEnd            *bool         `json:"is_end,omitempty"`
	IsTruncated      bool          `json:"is_truncated"`
	Result           string        `json:"result"`
	NeedClearHistory bool          `json:"need_clear_history"`
	FinishReason     string        `json:"finish_reason"`
	FunctionCall     *functionCall `json:"function_call,omitempty"`
	Usage            usage         `json:"usage"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (s *Server) nextID() (string, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers++
	return fmt.Sprintf("as-mock%05d", s.answers), s.now().Unix()
}

func (s *Server) chat(w http.ResponseWriter, body []byte) {
	var c chatRequest
	if e := decodeStrict(body, &c); e != nil {
		writeCode(w, e.code, e.msg)
		return
	}
	if e := c.validate(); e != nil {
		writeCode(w, e.code, e.msg)
		return
	}
	id, created := s.nextID()
	last := c.Messages[len(c.Messages)-1]
	if len(c.Functions) > 0 && last.Role == "user" {
		fc := &functionCall{Name: c.Functions[0].Name, Arguments: `{"location":"Paris"}`,
			Thoughts: "用户想知道巴黎的天气，我需要调用" + c.Functions[0].Name + "。"}
		a := chatAnswer{ID: id, Object: "chat.completion", Created: created, FinishReason: "function_call",
			FunctionCall: fc, Usage: usage{toolPrompt, toolCompletion, toolPrompt + toolCompletion}}
		if c.Stream {
			// ERNIE sends a function call whole, in the payload that ends
			// the stream.
			zero, end := 0, true
			a.SentenceID, a.IsEnd = &zero, &end
			writeStream(w, []chatAnswer{a})
			return
		}
		writeJSON(w, http.StatusOK, a)
		return
	}
	if !c.Stream {
		writeJSON(w, http.StatusOK, chatAnswer{ID: id, Object: "chat.completion", Created: created, Result: MockText,
			FinishReason: "normal", Usage: usage{textPrompt, textCompletion, textPrompt + textCompletion}})
		return
	}
	// The text in several payloads, then the end payload with no text;
	// usage is cumulative, the last payload's the answer's.
	parts := []string{"Hello from ", "the Baidu ", "ERNIE mock!"}
	counts := []int{3, 7, 10}
	var payloads []chatAnswer
	for i := 0; i <= len(parts); i++ {
		p := chatAnswer{ID: id, Object: "chat.completion", Created: created, FinishReason: "normal"}
		sid, end := i, i == len(parts)
		p.SentenceID, p.IsEnd = &sid, &end
		done := textCompletion
		if !end {
			p.Result, done = parts[i], counts[i]
		}
		p.Usage = usage{textPrompt, done, textPrompt + done}
		payloads = append(payloads, p)
	}
	writeStream(w, payloads)
}

// writeStream writes payloads as Baidu's event stream: one data: line
// each.
func writeStream(w http.ResponseWriter, payloads []chatAnswer) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	for _, p := range payloads {
		b, _ := json.Marshal(p)
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
}

// embedRequest is ERNIE v1's embeddings body.
type embedRequest struct {
	Input  []string `json:"input"`
	UserID *string  `json:"user_id"`
}

func (s *Server) embed(w http.ResponseWriter, body []byte) {
	var e embedRequest
	if err := decodeStrict(body, &e); err != nil {
		writeCode(w, err.code, err.msg)
		return
	}
	switch {
	case len(e.Input) == 0:
		writeCode(w, 336003, "input can not be empty")
		return
	case len(e.Input) > 16:
		writeCode(w, 336003, "the number of input texts can not exceed 16")
		return
	}
	type datum struct {
		Object    string    `json:"object"`
		Embedding []float64 `json:"embedding"`
		Index     int       `json:"index"`
	}
	data := make([]datum, len(e.Input))
	for i, text := range e.Input {
		if text == "" {
			writeCode(w, 336003, "input["+strconv.Itoa(i)+"] can not be empty")
			return
		}
		v := make([]float64, EmbeddingDims)
		for j := range v {
			v[j] = math.Round(math.Sin(float64(len(text)*(j+1)+i))*1e6) / 1e6
		}
		data[i] = datum{Object: "embedding", Embedding: v, Index: i}
	}
	id, created := s.nextID()
	n := len(e.Input) * EmbedTokensPerInput
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "object": "embedding_list", "created": created, "data": data,
		"usage": map[string]int{"prompt_tokens": n, "total_tokens": n},
	})
}
