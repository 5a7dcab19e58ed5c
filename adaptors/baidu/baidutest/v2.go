package baidutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"switchyard/adaptors"
)

// V2Text is the text of every Qianfan v2 chat answer that is not a tool
// call.
const V2Text = "Hello from the Baidu Qianfan mock!"

// Usage the v2 mock reports (OpenAI's usage object; the chat answer also
// counts cached prompt tokens in prompt_tokens_details, as OpenAI-style
// upstreams do).
const (
	v2TextPrompt, v2TextCompletion, v2TextCached = 14, 9, 6
	v2ToolPrompt, v2ToolCompletion               = 61, 18
)

// V2Server is a mock Qianfan v2 upstream (OpenAI-compatible) that checks
// the Bearer API Key, and the appid header when the server has an AppID.
type V2Server struct {
	URL   string // base URL to put in the channel's base_url
	Key   string // the API Key it accepts
	AppID string // the application id it requires in appid; "" accepts any

	mu         sync.Mutex
	requests   int
	answers    int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// NewV2Server starts a mock that accepts key (and, when appID is not
// empty, only requests naming it in the appid header); it is closed by
// t.Cleanup. The channel key for it is key, or key|appID.
func NewV2Server(t testing.TB, key, appID string) *V2Server {
	t.Helper()
	s := &V2Server{Key: key, AppID: appID}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns the number of requests answered so far (any status).
func (s *V2Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastRequest returns the path (with query), headers and body of the
// last request.
func (s *V2Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), bytes.Clone(s.lastBody)
}

// TextUsage is the usage of every text answer in OpenAI terms.
func (s *V2Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: v2TextPrompt, CompletionTokens: v2TextCompletion,
		TotalTokens: v2TextPrompt + v2TextCompletion, CachedTokens: v2TextCached}
}

// ToolUsage is the usage of every tool-call answer in OpenAI terms.
func (s *V2Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: v2ToolPrompt, CompletionTokens: v2ToolCompletion, TotalTokens: v2ToolPrompt + v2ToolCompletion}
}

// v2Error writes Qianfan v2's error envelope (its documented codes:
// https://cloud.baidu.com/doc/qianfan-api/s/Om9b4yj3w).
func (s *V2Server) v2Error(w http.ResponseWriter, status int, code, msg, typ string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg, "type": typ}, "id": s.nextID()})
}

func (s *V2Server) nextID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers++
	return fmt.Sprintf("as-v2mock%05d", s.answers)
}

func (s *V2Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath, s.lastHeader, s.lastBody = r.URL.RequestURI(), r.Header.Clone(), body
	s.mu.Unlock()

	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || tok != s.Key {
		s.v2Error(w, http.StatusUnauthorized, "invalid_iam_token", "IAM Certification failed", "invalid_request_error")
		return
	}
	if s.AppID != "" && r.Header.Get("appid") != s.AppID {
		s.v2Error(w, http.StatusUnauthorized, "invalid_appid", "appid is invalid or not authorized", "invalid_request_error")
		return
	}
	if r.Method != http.MethodPost {
		s.v2Error(w, http.StatusBadRequest, "invalid_argument", "method not allowed", "invalid_request_error")
		return
	}
	switch r.URL.Path {
	case "/v2/chat/completions":
		s.chat(w, body)
	case "/v2/embeddings":
		s.embed(w, body)
	default:
		s.v2Error(w, http.StatusNotFound, "not_found", "Not Found", "invalid_request_error")
	}
}

// v2Chat is the part of an OpenAI chat body the mock checks.
type v2Chat struct {
	Model    string `json:"model"`
	Messages []struct {
		Role string `json:"role"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func (s *V2Server) chat(w http.ResponseWriter, body []byte) {
	var c v2Chat
	switch {
	case json.Unmarshal(body, &c) != nil:
		s.v2Error(w, http.StatusBadRequest, "malformed_json", "Invalid Argument", "invalid_request_error")
		return
	case c.Model == "":
		s.v2Error(w, http.StatusBadRequest, "invalid_model", "model is empty", "invalid_request_error")
		return
	case len(c.Messages) == 0:
		s.v2Error(w, http.StatusBadRequest, "invalid_messages", "messages is empty", "invalid_request_error")
		return
	}
	id := s.nextID()
	const created = 1735689600
	tool := len(c.Tools) > 0 && c.Messages[len(c.Messages)-1].Role == "user"
	if !c.Stream {
		msg := map[string]any{"role": "assistant", "content": V2Text}
		finish := "stop"
		u := map[string]any{"prompt_tokens": v2TextPrompt, "completion_tokens": v2TextCompletion, "total_tokens": v2TextPrompt + v2TextCompletion,
			"prompt_tokens_details": map[string]int{"cached_tokens": v2TextCached}}
		if tool {
			msg = map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{
				"id": "call_" + id, "type": "function", "function": map[string]string{"name": c.Tools[0].Function.Name, "arguments": `{"location":"Paris"}`}}}}
			finish = "tool_calls"
			u = map[string]any{"prompt_tokens": v2ToolPrompt, "completion_tokens": v2ToolCompletion, "total_tokens": v2ToolPrompt + v2ToolCompletion}
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "chat.completion", "created": created, "model": c.Model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}, "usage": u})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	chunk := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": c.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
	}
	var u map[string]any
	if tool {
		chunk(map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"index": 0, "id": "call_" + id, "type": "function",
			"function": map[string]string{"name": c.Tools[0].Function.Name, "arguments": ""}}}}, nil)
		for _, frag := range []string{`{"loca`, `tion":"Pa`, `ris"}`} {
			chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]string{"arguments": frag}}}}, nil)
		}
		chunk(map[string]any{}, "tool_calls")
		u = map[string]any{"prompt_tokens": v2ToolPrompt, "completion_tokens": v2ToolCompletion, "total_tokens": v2ToolPrompt + v2ToolCompletion}
	} else {
		chunk(map[string]any{"role": "assistant", "content": ""}, nil)
		for _, part := range []string{"Hello from ", "the Baidu ", "Qianfan mock!"} {
			chunk(map[string]any{"content": part}, nil)
		}
		chunk(map[string]any{}, "stop")
		u = map[string]any{"prompt_tokens": v2TextPrompt, "completion_tokens": v2TextCompletion, "total_tokens": v2TextPrompt + v2TextCompletion,
			"prompt_tokens_details": map[string]int{"cached_tokens": v2TextCached}}
	}
	if c.StreamOptions != nil && c.StreamOptions.IncludeUsage {
		b, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": c.Model, "choices": []any{}, "usage": u})
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
}

func (s *V2Server) embed(w http.ResponseWriter, body []byte) {
	var e struct {
		Model string `json:"model"`
		Input any    `json:"input"`
	}
	if json.Unmarshal(body, &e) != nil {
		s.v2Error(w, http.StatusBadRequest, "malformed_json", "Invalid Argument", "invalid_request_error")
		return
	}
	var texts []string
	switch in := e.Input.(type) {
	case string:
		texts = []string{in}
	case []any:
		for _, x := range in {
			if t, ok := x.(string); ok {
				texts = append(texts, t)
			}
		}
	}
	if e.Model == "" || len(texts) == 0 {
		s.v2Error(w, http.StatusBadRequest, "invalid_argument", "model and input are required", "invalid_request_error")
		return
	}
	data := make([]any, len(texts))
	for i := range texts {
		v := make([]float64, EmbeddingDims)
		for j := range v {
			v[j] = float64(i+1) / float64(j+2)
		}
		data[i] = map[string]any{"object": "embedding", "embedding": v, "index": i}
	}
	n := len(texts) * EmbedTokensPerInput
	writeJSON(w, http.StatusOK, map[string]any{"id": s.nextID(), "object": "list", "created": 1735689600, "model": e.Model,
		"data": data, "usage": map[string]int{"prompt_tokens": n, "total_tokens": n}})
}
