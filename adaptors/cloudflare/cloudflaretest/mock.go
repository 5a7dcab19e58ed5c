// Package cloudflaretest is a mock Cloudflare Workers AI upstream for
// tests: an httptest server on 127.0.0.1 that checks the Bearer token and
// the account id in the path like the real API, and serves the
// OpenAI-compatible chat completions (stream and not) and embeddings and
// the model search. It is used by tests only.
package cloudflaretest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"switchyard/adaptors"
)

// Server is a mock Workers AI account that checks auth and the request
// like the real one. Safe for concurrent use.
type Server struct {
	// URL is the API origin to put in the channel's base_url (the mock
	// serves /client/v4/accounts/{AccountID}/ai/… below it).
	URL string
	// Key is the API token the account accepts.
	Key string
	// AccountID is the account the token belongs to.
	AccountID string

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

const text = "Hello from the Cloudflare Workers AI mock!"

// textDeltas is text split in several stream deltas.
var textDeltas = []string{"Hello", " from", " the", " Cloudflare", " Workers AI", " mock!"}

// argFragments is the tool call's arguments split in several fragments.
var argFragments = []string{`{"location": `, `"Paris`, `"}`}

// CatalogModels are the text generation models the model search lists.
func CatalogModels() []string {
	return []string{"@cf/meta/llama-3.1-8b-instruct", "@cf/openai/gpt-oss-120b", "@cf/qwen/qwen3-30b-a3b-fp8"}
}

// NewServer starts a mock account accountID accepting the API token key.
// It is closed by t.Cleanup.
func NewServer(t testing.TB, key, accountID string) *Server {
	s := &Server{Key: key, AccountID: accountID}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns the number of requests answered so far (any status).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastRequest returns the last request's path with its query string, its
// headers and its body.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), slices.Clone(s.lastBody)
}

// TextUsage is the usage of every text answer, in OpenAI terms: 24 prompt
// tokens of which 16 were cached, 12 completion tokens of which 5 were
// reasoning.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: 24, CompletionTokens: 12, TotalTokens: 36, CachedTokens: 16, ReasoningTokens: 5}
}

// ToolUsage is the usage of every tool-call answer.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: 182, CompletionTokens: 21, TotalTokens: 203}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	s.lastBody = body
	s.mu.Unlock()

	if r.Header.Get("Authorization") != "Bearer "+s.Key {
		writeJSON(w, http.StatusUnauthorized, envelope(10000, "Authentication error"))
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/client/v4/accounts/"+s.AccountID+"/ai/")
	if !ok {
		writeJSON(w, http.StatusBadRequest, `{"success":false,"errors":[{"code":7003,"message":"Could not route to `+r.URL.Path+`, perhaps your object identifier is invalid?"},{"code":7000,"message":"No route for that URI"}],"messages":[],"result":null}`)
		return
	}
	switch {
	case rest == "v1/chat/completions" && r.Method == http.MethodPost:
		s.chat(w, body)
	case rest == "v1/embeddings" && r.Method == http.MethodPost:
		s.embeddings(w, body)
	case rest == "models/search" && r.Method == http.MethodGet:
		s.models(w, r.URL.Query().Get("task"))
	default:
		writeJSON(w, http.StatusBadRequest, `{"success":false,"errors":[{"code":7000,"message":"No route for that URI"}],"messages":[],"result":null}`)
	}
}

// chatRequest is the part of a chat request the mock validates.
type chatRequest struct {
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

// knownModel reports whether name is a Workers AI model name.
func knownModel(name string) bool {
	return strings.HasPrefix(name, "@cf/") || strings.HasPrefix(name, "@hf/")
}

func (s *Server) chat(w http.ResponseWriter, body []byte) {
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, aiError(5006, "Bad input: request body is not valid JSON"))
		return
	}
	if !knownModel(req.Model) {
		writeJSON(w, http.StatusBadRequest, aiError(5007, "No such model "+req.Model+" or task"))
		return
	}
	if len(req.Messages) == 0 {
		writeJSON(w, http.StatusBadRequest, aiError(5006, "Bad input: must have required property 'messages'"))
		return
	}
	for _, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			writeJSON(w, http.StatusBadRequest, aiError(5006, "Bad input: invalid message role '"+m.Role+"'"))
			return
		}
	}
	tool := ""
	if len(req.Tools) > 0 && req.Messages[len(req.Messages)-1].Role == "user" {
		tool = req.Tools[0].Function.Name
	}
	if req.Stream {
		s.stream(w, req.Model, tool, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	var message, finish string
	usage := s.TextUsage()
	if tool != "" {
		message = `{"role":"assistant","content":null,"tool_calls":[{"id":"chatcmpl-tool-mock0001","type":"function","function":{"name":` + quote(tool) + `,"arguments":"{\"location\":\"Paris\"}"}}]}`
		finish = "tool_calls"
		usage = s.ToolUsage()
	} else {
		message = `{"role":"assistant","content":` + quote(text) + `,"tool_calls":[]}`
		finish = "stop"
	}
	writeJSON(w, http.StatusOK, `{"id":"id-1753271530425","object":"chat.completion","created":1753271530,"model":`+quote(req.Model)+
		`,"choices":[{"index":0,"message":`+message+`,"logprobs":null,"finish_reason":"`+finish+`"}],"usage":`+usageJSON(usage)+`}`)
}

// stream writes the OpenAI-compatible stream: role chunk, deltas, finish
// chunk, the usage chunk when asked for, [DONE].
func (s *Server) stream(w http.ResponseWriter, model, tool string, includeUsage bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	send := func(payload string) {
		fmt.Fprintf(w, "data: %s\n\n", payload)
		if f != nil {
			f.Flush()
		}
	}
	head := `{"id":"id-1753271600112","object":"chat.completion.chunk","created":1753271600,"model":` + quote(model) + `,"choices":`
	choice := func(delta, finish string) string {
		return head + `[{"index":0,"delta":` + delta + `,"logprobs":null,"finish_reason":` + finish + `}]}`
	}
	send(choice(`{"role":"assistant","content":""}`, "null"))
	usage := s.TextUsage()
	if tool != "" {
		usage = s.ToolUsage()
		send(choice(`{"tool_calls":[{"index":0,"id":"chatcmpl-tool-mock0002","type":"function","function":{"name":`+quote(tool)+`,"arguments":""}}]}`, "null"))
		for _, a := range argFragments {
			send(choice(`{"tool_calls":[{"index":0,"function":{"arguments":`+quote(a)+`}}]}`, "null"))
		}
		send(choice(`{}`, `"tool_calls"`))
	} else {
		send(choice(`{"reasoning_content":"Greet the user."}`, "null"))
		for _, d := range textDeltas {
			send(choice(`{"content":`+quote(d)+`}`, "null"))
		}
		send(choice(`{}`, `"stop"`))
	}
	if includeUsage {
		send(head + `[],"usage":` + usageJSON(usage) + `}`)
	}
	send("[DONE]")
}

func (s *Server) embeddings(w http.ResponseWriter, body []byte) {
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Input) == 0 {
		writeJSON(w, http.StatusBadRequest, aiError(5006, "Bad input: must have required property 'input'"))
		return
	}
	if !knownModel(req.Model) {
		writeJSON(w, http.StatusBadRequest, aiError(5007, "No such model "+req.Model+" or task"))
		return
	}
	n := 1
	var list []json.RawMessage
	if json.Unmarshal(req.Input, &list) == nil {
		n = len(list)
	}
	var data []string
	for i := range n {
		data = append(data, fmt.Sprintf(`{"object":"embedding","embedding":[0.0123,-0.0456,0.0789,-0.0101],"index":%d}`, i))
	}
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"object":"list","data":[%s],"model":%s,"usage":{"prompt_tokens":%d,"total_tokens":%d}}`,
		strings.Join(data, ","), quote(req.Model), 6*n, 6*n))
}

// models answers the model search in Cloudflare's v4 envelope.
func (s *Server) models(w http.ResponseWriter, task string) {
	names := CatalogModels()
	if task == "" {
		names = append(names, "@cf/baai/bge-m3")
	} else if task != "Text Generation" {
		names = nil
	}
	var result []string
	for i, n := range names {
		result = append(result, fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012d","source":1,"name":%s,"description":"","task":{"id":"c329a1f9-323d-4e91-b2aa-582dd4188d34","name":"Text Generation","description":""},"tags":[],"properties":[]}`, i, quote(n)))
	}
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"result":[%s],"result_info":{"count":%d,"page":1,"per_page":100,"total_count":%d},"success":true,"errors":[],"messages":[]}`,
		strings.Join(result, ","), len(result), len(result)))
}

func usageJSON(u adaptors.Usage) string {
	return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d},"completion_tokens_details":{"reasoning_tokens":%d}}`,
		u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens, u.ReasoningTokens)
}

// envelope is Cloudflare's v4 failure envelope.
func envelope(code int, message string) string {
	return fmt.Sprintf(`{"success":false,"errors":[{"code":%d,"message":%s}],"messages":[],"result":null}`, code, quote(message))
}

// aiError is a Workers AI failure, as its inference endpoints send it.
func aiError(code int, message string) string {
	return fmt.Sprintf(`{"errors":[{"message":%s,"code":%d}],"success":false,"result":{},"messages":[]}`, quote("AiError: AiError: "+message+" (6c8e2a4f-1b3d-4f5a-9c7e-0d2b4f6a8c0e)"), code)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
