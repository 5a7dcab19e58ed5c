// Package anthropictest is a mock of Anthropic's Claude API for tests:
// an httptest server on 127.0.0.1 that authenticates and validates
// Messages requests as the real API does and answers in its exact wire
// format (JSON Message, or the server-sent event stream). It is used by
// tests only; a Server is safe for concurrent requests.
package anthropictest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"switchyard/adaptors"
)

// MockText is the answer to every request that does not get a tool call.
const MockText = "Hello from the Anthropic mock!"

// Server is a mock Claude API that checks auth and the request like the
// real one.
type Server struct {
	URL string // base URL to put in the channel's base_url
	Key string // the only x-api-key it accepts

	mu       sync.Mutex
	requests int
	path     string
	header   http.Header
	body     []byte
}

// Usage the mock reports, in Anthropic's terms: input_tokens excludes the
// cached prompt tokens.
const (
	textInput, textCacheWrite, textCacheRead, textOutput = 12, 5, 30, 9
	toolInput, toolCacheWrite, toolCacheRead, toolOutput = 40, 0, 100, 21
)

// NewServer starts a mock accepting key; it is closed by t.Cleanup.
func NewServer(t testing.TB, key string) *Server {
	t.Helper()
	s := &Server{Key: key}
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

// LastRequest returns the path (with query), headers and body of the
// last request.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path, s.header.Clone(), bytes.Clone(s.body)
}

// TextUsage is the usage of a text answer in OpenAI terms: prompt tokens
// include the cache reads and writes.
func (s *Server) TextUsage() adaptors.Usage {
	p := textInput + textCacheWrite + textCacheRead
	return adaptors.Usage{PromptTokens: p, CompletionTokens: textOutput, TotalTokens: p + textOutput,
		CachedTokens: textCacheRead, CacheWriteTokens: textCacheWrite}
}

// ToolUsage is the usage of a tool-call answer in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage {
	p := toolInput + toolCacheWrite + toolCacheRead
	return adaptors.Usage{PromptTokens: p, CompletionTokens: toolOutput, TotalTokens: p + toolOutput,
		CachedTokens: toolCacheRead, CacheWriteTokens: toolCacheWrite}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	_, _ = body.ReadFrom(r.Body)
	s.mu.Lock()
	s.requests++
	n := s.requests
	s.path, s.header, s.body = r.URL.RequestURI(), r.Header.Clone(), body.Bytes()
	s.mu.Unlock()

	w.Header().Set("request-id", fmt.Sprintf("req_01Mock%06d", n))
	if r.Header.Get("x-api-key") != s.Key {
		writeError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		s.models(w)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/messages":
		s.messages(w, body.Bytes(), n)
	default:
		writeError(w, http.StatusNotFound, "not_found_error", "Not found")
	}
}

// writeError answers Anthropic's error envelope.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": typ, "message": msg},
		"request_id": w.Header().Get("request-id"),
	})
	_, _ = w.Write(b)
}

func (s *Server) models(w http.ResponseWriter) {
	w.Header().Set("content-type", "application/json")
	_, _ = w.Write([]byte(`{"data":[` +
		`{"type":"model","id":"claude-opus-4-6","display_name":"Claude Opus 4.6","created_at":"2026-02-05T00:00:00Z"},` +
		`{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},` +
		`{"type":"model","id":"claude-haiku-4-5-20251001","display_name":"Claude Haiku 4.5","created_at":"2025-10-15T00:00:00Z"}` +
		`],"has_more":false,"first_id":"claude-opus-4-6","last_id":"claude-haiku-4-5-20251001"}`))
}

// request is the part of a Messages request the mock validates.
type request struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	Messages  []message       `json:"messages"`
	System    json.RawMessage `json:"system"`
	Stream    bool            `json:"stream"`
	Tools     []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
	Thinking *struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	} `json:"thinking"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type block struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	ID        string `json:"id"`
	ToolUseID string `json:"tool_use_id"`
}

// validate checks a request as the Messages API does and returns
// Anthropic's message for the first problem, or "".
func validate(req *request) (string, bool) {
	if req.Model == "" {
		return "model: Field required", false
	}
	if req.MaxTokens == nil {
		return "max_tokens: Field required", false
	}
	if *req.MaxTokens < 1 {
		return "max_tokens: Input should be greater than or equal to 1", false
	}
	if len(req.Messages) == 0 {
		return "messages: at least one message is required", false
	}
	if req.Messages[0].Role != "user" {
		return "messages: first message must use the \"user\" role", false
	}
	toolUses := map[string]bool{}
	lastUserHasToolResult := false
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i), false
		}
		if i > 0 && req.Messages[i-1].Role == m.Role {
			return fmt.Sprintf("messages: roles must alternate between \"user\" and \"assistant\", but found multiple %q roles in a row", m.Role), false
		}
		blocks, ok := contentBlocks(m.Content)
		if !ok {
			return fmt.Sprintf("messages.%d.content: Input should be a valid list", i), false
		}
		if len(blocks) == 0 {
			return fmt.Sprintf("messages.%d: all messages must have non-empty content", i), false
		}
		hasResult := false
		for j, b := range blocks {
			switch b.Type {
			case "text":
				if b.Text == "" {
					return fmt.Sprintf("messages.%d.content.%d.text: text content blocks must be non-empty", i, j), false
				}
			case "tool_use":
				if m.Role != "assistant" {
					return fmt.Sprintf("messages.%d.content.%d: tool_use blocks are only allowed in assistant messages", i, j), false
				}
				toolUses[b.ID] = true
			case "tool_result":
				if !toolUses[b.ToolUseID] {
					return fmt.Sprintf("messages.%d.content.%d: unexpected `tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", i, j, b.ToolUseID), false
				}
				if j > 0 && blocks[j-1].Type != "tool_result" {
					return fmt.Sprintf("messages.%d.content: tool_result blocks must come first in the content array", i), false
				}
				hasResult = true
			}
		}
		if m.Role == "user" {
			lastUserHasToolResult = hasResult
		}
	}
	for i, t := range req.Tools {
		if t.Name == "" || len(t.InputSchema) == 0 || t.InputSchema[0] != '{' {
			return fmt.Sprintf("tools.%d: name and an input_schema object are required", i), false
		}
	}
	if req.ToolChoice != nil && len(req.Tools) == 0 {
		return "tool_choice: may only be specified while providing tools", false
	}
	if th := req.Thinking; th != nil && th.Type == "enabled" && (th.BudgetTokens < 1024 || th.BudgetTokens >= *req.MaxTokens) {
		return "thinking.budget_tokens: must be at least 1024 and less than max_tokens", false
	}
	last := req.Messages[len(req.Messages)-1]
	return "", len(req.Tools) > 0 && last.Role == "user" && !lastUserHasToolResult
}

// contentBlocks reads a message content: a string (one text block) or
// an array of blocks.
func contentBlocks(raw json.RawMessage) ([]block, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return []block{{Type: "text", Text: s}}, true
	}
	var blocks []block
	if json.Unmarshal(raw, &blocks) != nil {
		return nil, false
	}
	return blocks, true
}

func (s *Server) messages(w http.ResponseWriter, body []byte, n int) {
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "There was an issue with the format of your request: "+err.Error())
		return
	}
	msg, tool := validate(&req)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	id := fmt.Sprintf("msg_01Mock%06d", n)
	toolID := fmt.Sprintf("toolu_01Mock%06d", n)
	toolName := ""
	if tool {
		toolName = req.Tools[0].Name
	}
	if req.Stream {
		s.stream(w, req.Model, id, toolID, toolName)
		return
	}
	var content []any
	var usage map[string]any
	stop := "end_turn"
	if tool {
		content = []any{map[string]any{"type": "tool_use", "id": toolID, "name": toolName, "input": map[string]string{"location": "Paris"}}}
		usage = usageJSON(toolInput, toolCacheWrite, toolCacheRead, toolOutput)
		stop = "tool_use"
	} else {
		content = []any{map[string]any{"type": "text", "text": MockText}}
		usage = usageJSON(textInput, textCacheWrite, textCacheRead, textOutput)
	}
	b, _ := json.Marshal(map[string]any{
		"model": req.Model, "id": id, "type": "message", "role": "assistant", "content": content,
		"stop_reason": stop, "stop_sequence": nil, "usage": usage,
	})
	w.Header().Set("content-type", "application/json")
	_, _ = w.Write(b)
}

func usageJSON(input, cacheWrite, cacheRead, output int) map[string]any {
	return map[string]any{
		"input_tokens":                input,
		"cache_creation_input_tokens": cacheWrite,
		"cache_read_input_tokens":     cacheRead,
		"cache_creation":              map[string]int{"ephemeral_5m_input_tokens": cacheWrite, "ephemeral_1h_input_tokens": 0},
		"output_tokens":               output,
		"service_tier":                "standard",
	}
}

// stream writes the full event sequence of a streamed answer, as the
// API sends it: message_start, ping, one content block (text in several
// text_delta events, or a tool_use whose input arrives in several
// input_json_delta fragments), message_delta with the cumulative usage,
// message_stop.
func (s *Server) stream(w http.ResponseWriter, model, id, toolID, toolName string) {
	w.Header().Set("content-type", "text/event-stream")
	w.Header().Set("cache-control", "no-cache")
	flusher, _ := w.(http.Flusher)
	event := func(name string, data any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	in, cw, cr, out := textInput, textCacheWrite, textCacheRead, textOutput
	stop := "end_turn"
	if toolName != "" {
		in, cw, cr, out = toolInput, toolCacheWrite, toolCacheRead, toolOutput
		stop = "tool_use"
	}
	start := usageJSON(in, cw, cr, 1)
	event("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"model": model, "id": id, "type": "message", "role": "assistant", "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": start,
	}})
	event("ping", map[string]string{"type": "ping"})
	if toolName != "" {
		event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "tool_use", "id": toolID, "name": toolName, "input": map[string]any{}}})
		for _, frag := range []string{"", `{"location":`, ` "Par`, `is"}`} {
			event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]string{"type": "input_json_delta", "partial_json": frag}})
		}
	} else {
		event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]string{"type": "text", "text": ""}})
		words := strings.SplitAfter(MockText, " ")
		for _, w := range words {
			event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]string{"type": "text_delta", "text": w}})
		}
	}
	event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	event("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]int{"input_tokens": in, "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr, "output_tokens": out}})
	event("message_stop", map[string]string{"type": "message_stop"})
}
