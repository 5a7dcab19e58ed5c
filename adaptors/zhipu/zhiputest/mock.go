// Package zhiputest is a mock of BigModel's v4 API for tests: an
// httptest server on 127.0.0.1 that verifies the HS256 JWT (or, when
// configured, the plain API key) the way the platform does, validates
// requests as BigModel documents them, then answers chat (streamed or
// not, text or tool calls), embeddings and image generation in BigModel's
// own wire format, with BigModel's error bodies
// ({"error":{"code":"1000","message":"身份验证失败。"}}). It is imported by
// tests only.
package zhiputest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/adaptors"
)

// MockText is the text of every chat answer that is not a tool call.
const MockText = "Hello from the Zhipu mock!"

// mockReasoning is the reasoning the mock streams before its text unless
// thinking is disabled.
const mockReasoning = "The user greets me; I will greet back."

// Usage the mock reports, with cached prompt tokens and reasoning tokens
// so that their conversion is exercised.
const (
	textPrompt, textCached, textCompletion, textReasoning = 25, 8, 16, 5
	toolPrompt, toolCached, toolCompletion, toolReasoning = 64, 32, 20, 6
	embedTokensPerInput                                   = 4
)

// Server is a mock BigModel upstream that checks auth and the request
// like the real one.
type Server struct {
	URL string // base URL to put in the channel's base_url
	Key string // the API key "<id>.<secret>" it knows

	id, secret string

	mu         sync.Mutex
	plainKeys  bool
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
	tokens     map[string]bool
}

// NewServer starts a mock that knows the API key key ("<id>.<secret>");
// it is closed by t.Cleanup. It accepts JWTs minted from the key; call
// AcceptPlainKeys to accept the key itself as a bearer token too.
func NewServer(t testing.TB, key string) *Server {
	id, secret, ok := strings.Cut(key, ".")
	if !ok {
		t.Fatalf("zhiputest: key %q is not <id>.<secret>", key)
	}
	s := &Server{Key: key, id: id, secret: secret, tokens: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AcceptPlainKeys makes the mock accept (on) or refuse the API key itself
// as the bearer token ("Authorization: Bearer <id>.<secret>").
func (s *Server) AcceptPlainKeys(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plainKeys = on
}

// Requests returns how many requests the mock has answered (any status).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastRequest returns the path (with query), headers and body of the
// last request.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), bytes.Clone(s.lastBody)
}

// DistinctTokens returns how many different valid JWTs the mock has
// accepted: a client that mints once and reuses its token makes it 1.
func (s *Server) DistinctTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// TextUsage is the usage of every text answer, in OpenAI terms.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: textPrompt, CompletionTokens: textCompletion, TotalTokens: textPrompt + textCompletion,
		CachedTokens: textCached, ReasoningTokens: textReasoning}
}

// ToolUsage is the usage of every tool-call answer, in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: toolPrompt, CompletionTokens: toolCompletion, TotalTokens: toolPrompt + toolCompletion,
		CachedTokens: toolCached, ReasoningTokens: toolReasoning}
}

// EmbedUsage is the usage of an embeddings answer for n inputs.
func (s *Server) EmbedUsage(n int) adaptors.Usage {
	return adaptors.Usage{PromptTokens: n * embedTokensPerInput, TotalTokens: n * embedTokensPerInput}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	s.lastBody = body
	s.mu.Unlock()

	if code, msg := s.authenticate(r.Header.Get("Authorization")); code != "" {
		writeError(w, http.StatusUnauthorized, code, msg)
		return
	}
	if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeError(w, http.StatusBadRequest, "1210", "API 调用参数有误，请检查文档。Content-Type must be application/json")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/paas/v4/chat/completions":
		s.chat(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/api/paas/v4/embeddings":
		embeddings(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/api/paas/v4/images/generations":
		images(w, body)
	default:
		writeError(w, http.StatusNotFound, "1222", "API "+r.URL.Path+" 不存在")
	}
}

// Authentication failures, with the code page's messages.
const (
	msgAuthFailed   = "身份验证失败。"
	msgNoAuth       = "Header 中未收到 Authentication 参数，无法进行身份验证"
	msgIllegalToken = "Authentication Token 非法，请确认 Authentication Token 正确传递"
	msgExpiredToken = "Authentication Token 已过期，请重新生成/获取"
)

// authenticate checks an Authorization header ("Bearer <token>"; the
// scheme is optional, as older clients sent the bare JWT) and returns a
// business code and message when it fails. A JWT must be HS256 with
// sign_type SIGN, name the mock's key id in api_key, carry a timestamp
// and an exp in the future, both in milliseconds, and be signed with the
// key's secret.
func (s *Server) authenticate(h string) (code, msg string) {
	if h == "" {
		return "1001", msgNoAuth
	}
	tok := h
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "bearer") {
		tok = strings.TrimSpace(rest)
	}
	s.mu.Lock()
	plain := s.plainKeys
	s.mu.Unlock()
	if tok == s.Key {
		if plain {
			return "", ""
		}
		return "1002", msgIllegalToken
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "1002", msgIllegalToken
	}
	var header struct {
		Alg      string `json:"alg"`
		SignType string `json:"sign_type"`
	}
	var claims struct {
		APIKey    string       `json:"api_key"`
		Exp       *json.Number `json:"exp"`
		Timestamp *json.Number `json:"timestamp"`
	}
	if !decodePart(parts[0], &header) || !decodePart(parts[1], &claims) {
		return "1002", msgIllegalToken
	}
	if header.Alg != "HS256" || header.SignType != "SIGN" || claims.Exp == nil || claims.Timestamp == nil {
		return "1002", msgIllegalToken
	}
	exp, err1 := claims.Exp.Int64()
	_, err2 := claims.Timestamp.Int64()
	if err1 != nil || err2 != nil {
		return "1002", msgIllegalToken
	}
	if claims.APIKey != s.id {
		return "1000", msgAuthFailed
	}
	mac := hmac.New(sha256.New, []byte(s.secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return "1000", msgAuthFailed
	}
	// exp is in milliseconds: a token whose exp is in seconds has expired
	// fifty years ago.
	if exp <= time.Now().UnixMilli() {
		return "1003", msgExpiredToken
	}
	s.mu.Lock()
	s.tokens[tok] = true
	s.mu.Unlock()
	return "", ""
}

// decodePart decodes one base64url JSON part of a JWT.
func decodePart(part string, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v) == nil
}

// writeError answers BigModel's error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// apiError is a validation failure: a business code, answered 400.
type apiError struct{ code, msg string }

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func invalidParam(field string) error {
	return &apiError{"1214", field + " 参数非法。请检查文档。"}
}

func badCall(format string, args ...any) error {
	return &apiError{"1210", "API 调用参数有误，请检查文档。" + fmt.Sprintf(format, args...)}
}

func writeAPIError(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{"1210", err.Error()}
	}
	writeError(w, http.StatusBadRequest, e.code, e.msg)
}

// decodeStrict decodes a JSON object body, refusing members v4 does not
// document (the mock's way of catching OpenAI members sent as they are).
func decodeStrict(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return badCall("%v", err)
	}
	if d.More() {
		return badCall("trailing data after the json body")
	}
	return nil
}

// knownModel reports whether BigModel serves model (the mock's list).
func knownModel(model string) bool {
	for _, p := range []string{"glm-", "chatglm", "charglm-", "codegeex-", "embedding-", "cogview-", "cogvideox"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}
