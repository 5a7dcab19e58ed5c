// Package ollamatest is a mock Ollama server for tests: it speaks the
// native REST API (POST /api/chat, POST /api/embed, GET /api/tags) the way
// the real server does — auth, request decoding and validation, answers,
// newline-delimited JSON streams, error bodies — so that the adaptor and
// the gateway can be tested end to end without a model.
//
// It is imported by tests only.
package ollamatest

import (
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

// The mock's answers.
const (
	// Text is the answer to every request that does not call a tool.
	Text = "Hello from the Ollama mock!"
	// Thinking is the reasoning trace sent before Text when the request
	// asks for thinking (think true or a level).
	Thinking = "The user greets me; I greet back."
	// ToolArguments are the arguments of the tool call the mock makes.
	ToolArguments = `{"location":"Paris"}`
	// ToolCallID is the id the mock gives its tool call, as newer Ollama
	// servers do ("call_" and eight random letters and digits).
	ToolCallID = "call_k3v9q2zt"
	// EmbedTokensPerInput is the prompt_eval_count of one embedded input.
	EmbedTokensPerInput = 8
)

// textChunks is Text as the stream sends it.
func textChunks() []string { return []string{"Hello", " from", " the", " Ollama", " mock!"} }

// vector is the embedding of every input (truncated to dimensions).
func vector() []float64 { return []float64{0.010071029, -0.0017594862, 0.05007221, 0.04692972} }

// Counts reported by every answer.
const (
	textPrompt, textEval = 26, 12
	toolPrompt, toolEval = 122, 33
)

// Models are the models the mock has "pulled"; a request may name them
// with or without the :latest tag.
func Models() []string {
	return []string{"llama3.2:latest", "qwen3:latest", "gpt-oss:20b", "llava:latest", "nomic-embed-text:latest"}
}

// Server is a mock Ollama upstream that checks auth and the request like
// the real one.
type Server struct {
	URL string // base URL to put in the channel's base_url
	// Key is the API key the server requires as `Authorization: Bearer
	// <key>` (ollama.com, or a proxy in front of a server); empty means
	// no auth, as a local server.
	Key string

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// NewServer starts a mock on 127.0.0.1, closed by t.Cleanup. key empty
// means the server wants no auth.
func NewServer(t testing.TB, key string) *Server {
	s := &Server{Key: key}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns how many requests the server answered (any status).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastRequest returns the path, headers and body of the last request.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), append([]byte(nil), s.lastBody...)
}

// TextUsage is the usage of a text answer in OpenAI terms.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: textPrompt, CompletionTokens: textEval, TotalTokens: textPrompt + textEval}
}

// ToolUsage is the usage of a tool-call answer in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: toolPrompt, CompletionTokens: toolEval, TotalTokens: toolPrompt + toolEval}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath, s.lastHeader, s.lastBody = r.URL.Path, r.Header.Clone(), body
	s.mu.Unlock()

	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/chat":
		s.chat(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/api/embed":
		s.embed(w, body)
	case r.Method == http.MethodGet && r.URL.Path == "/api/tags":
		s.tags(w)
	default:
		// Ollama's router (gin) answers unknown routes in plain text.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 page not found")
	}
}

// writeError writes Ollama's error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(v)
	w.Write(b)
}

// lookupModel returns the pulled model a request names, "" if none.
func lookupModel(name string) string {
	full := name
	if !strings.Contains(name, ":") {
		full += ":latest"
	}
	for _, m := range Models() {
		if m == full {
			return m
		}
	}
	return ""
}

// checkModel answers the errors Ollama gives for a missing or unknown
// model; it reports whether the request may go on.
func checkModel(w http.ResponseWriter, name string) bool {
	if name == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return false
	}
	if lookupModel(name) == "" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", name))
		return false
	}
	return true
}

// ---- /api/chat ----

// chatRequest mirrors Ollama's api.ChatRequest: encoding/json decodes it
// as the server does (content must be a string, images base64, tool call
// arguments an object).
type chatRequest struct {
	Model     string          `json:"model"`
	Messages  []message       `json:"messages"`
	Stream    *bool           `json:"stream"`
	Format    json.RawMessage `json:"format"`
	KeepAlive json.RawMessage `json:"keep_alive"`
	Tools     []tool          `json:"tools"`
	Options   map[string]any  `json:"options"`
	Think     json.RawMessage `json:"think"`
}

type message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Thinking   string     `json:"thinking,omitempty"`
	Images     [][]byte   `json:"images,omitempty"` // base64 on the wire
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolName   string     `json:"tool_name,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type toolCall struct {
	ID       string `json:"id,omitempty"`
	Function struct {
		Index     int            `json:"index"`
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments"`
	} `json:"function"`
}

type tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// chatResponse is Ollama's api.ChatResponse, members in its order.
type chatResponse struct {
	Model              string  `json:"model"`
	CreatedAt          string  `json:"created_at"`
	Message            message `json:"message"`
	Done               bool    `json:"done"`
	DoneReason         string  `json:"done_reason,omitempty"`
	TotalDuration      int64   `json:"total_duration,omitempty"`
	LoadDuration       int64   `json:"load_duration,omitempty"`
	PromptEvalCount    int     `json:"prompt_eval_count,omitempty"`
	PromptEvalDuration int64   `json:"prompt_eval_duration,omitempty"`
	EvalCount          int     `json:"eval_count,omitempty"`
	EvalDuration       int64   `json:"eval_duration,omitempty"`
}

// stamp is the created_at of answer line i: the first at a fixed time,
// later ones a few milliseconds apart, so answers are deterministic.
func stamp(i int) string {
	start := time.Date(2025, 10, 17, 23, 14, 7, 414671000, time.UTC)
	return start.Add(time.Duration(i) * 11 * time.Millisecond).Format(time.RFC3339Nano)
}

func (s *Server) chat(w http.ResponseWriter, body []byte) {
	if len(strings.TrimSpace(string(body))) == 0 {
		writeError(w, http.StatusBadRequest, "missing request body")
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if msg := validateChat(&req); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if !checkModel(w, req.Model) {
		return
	}
	if len(req.Messages) == 0 {
		// Stricter than Ollama, which answers an empty conversation by
		// loading the model (done_reason "load"): an adaptor that drops
		// every message must fail loudly.
		writeError(w, http.StatusBadRequest, "messages are required")
		return
	}
	callTool := len(req.Tools) > 0 && req.Messages[len(req.Messages)-1].Role == "user"
	think := thinks(req.Think)
	stream := req.Stream == nil || *req.Stream // Ollama streams by default
	if !stream {
		resp := chatResponse{Model: req.Model, CreatedAt: stamp(0), Message: message{Role: "assistant"}, Done: true, DoneReason: "stop"}
		if callTool {
			resp.Message.ToolCalls = []toolCall{mockCall(req.Tools[0].Function.Name)}
			setCounts(&resp, toolPrompt, toolEval)
		} else {
			resp.Message.Content = Text
			if think {
				resp.Message.Thinking = Thinking
			}
			setCounts(&resp, textPrompt, textEval)
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	n := 0
	line := func(r chatResponse) {
		r.Model, r.CreatedAt = req.Model, stamp(n)
		n++
		b, _ := json.Marshal(r)
		w.Write(append(b, '\n'))
		if flusher != nil {
			flusher.Flush()
		}
	}
	final := chatResponse{Message: message{Role: "assistant"}, Done: true, DoneReason: "stop"}
	if callTool {
		line(chatResponse{Message: message{Role: "assistant", ToolCalls: []toolCall{mockCall(req.Tools[0].Function.Name)}}})
		setCounts(&final, toolPrompt, toolEval)
	} else {
		if think {
			line(chatResponse{Message: message{Role: "assistant", Thinking: Thinking}})
		}
		for _, c := range textChunks() {
			line(chatResponse{Message: message{Role: "assistant", Content: c}})
		}
		setCounts(&final, textPrompt, textEval)
	}
	line(final)
}

func setCounts(r *chatResponse, prompt, eval int) {
	r.PromptEvalCount, r.EvalCount = prompt, eval
	r.TotalDuration, r.LoadDuration = 174560334, 101397084
	r.PromptEvalDuration, r.EvalDuration = 13074791, 52479709
}

func mockCall(name string) toolCall {
	var c toolCall
	c.ID = ToolCallID
	c.Function.Name = name
	json.Unmarshal([]byte(ToolArguments), &c.Function.Arguments)
	return c
}

// thinks reports whether think asks for a reasoning trace.
func thinks(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "true" || s == `"low"` || s == `"medium"` || s == `"high"`
}

// validateChat checks what Ollama checks of a chat request, returning the
// message of its 400 answer, or "".
func validateChat(r *chatRequest) string {
	for i, m := range r.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool":
		default:
			return fmt.Sprintf("messages[%d]: invalid role %q", i, m.Role)
		}
	}
	for i, t := range r.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return fmt.Sprintf("tools[%d]: a function tool with a name is required", i)
		}
	}
	if f := strings.TrimSpace(string(r.Format)); f != "" && f != "null" && f != `"json"` && !strings.HasPrefix(f, "{") {
		return `invalid format: expected "json" or a valid JSON schema`
	}
	if t := strings.TrimSpace(string(r.Think)); t != "" && t != "null" && t != "true" && t != "false" &&
		t != `"low"` && t != `"medium"` && t != `"high"` {
		return `think must be a boolean or string ("high", "medium", "low", true, or false)`
	}
	if k := strings.TrimSpace(string(r.KeepAlive)); k != "" && k != "null" {
		var v any
		json.Unmarshal(r.KeepAlive, &v)
		switch v := v.(type) {
		case float64:
		case string:
			if _, err := time.ParseDuration(v); err != nil {
				return err.Error()
			}
		default:
			return fmt.Sprintf("Unsupported type: '%T'", v)
		}
	}
	for k, v := range r.Options {
		switch k {
		case "temperature", "top_p", "min_p", "typical_p", "presence_penalty", "frequency_penalty", "repeat_penalty":
			if _, ok := v.(float64); !ok {
				return fmt.Sprintf("option %q must be of type float32", k)
			}
		case "seed", "num_predict", "top_k", "num_ctx", "num_keep", "repeat_last_n":
			if _, ok := v.(float64); !ok {
				return fmt.Sprintf("option %q must be of type integer", k)
			}
		case "stop":
			a, ok := v.([]any)
			if !ok {
				return fmt.Sprintf("option %q must be of type array", k)
			}
			for _, s := range a {
				if _, ok := s.(string); !ok {
					return fmt.Sprintf("option %q must be of an array of strings", k)
				}
			}
		}
	}
	return ""
}

// ---- /api/embed ----

type embedRequest struct {
	Model      string          `json:"model"`
	Input      json.RawMessage `json:"input"`
	Truncate   *bool           `json:"truncate"`
	Dimensions int             `json:"dimensions"`
	KeepAlive  json.RawMessage `json:"keep_alive"`
}

type embedResponse struct {
	Model           string      `json:"model"`
	Embeddings      [][]float64 `json:"embeddings"`
	TotalDuration   int64       `json:"total_duration,omitempty"`
	LoadDuration    int64       `json:"load_duration,omitempty"`
	PromptEvalCount int         `json:"prompt_eval_count,omitempty"`
}

func (s *Server) embed(w http.ResponseWriter, body []byte) {
	var req embedRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !checkModel(w, req.Model) {
		return
	}
	var inputs []string
	var one string
	switch {
	case json.Unmarshal(req.Input, &one) == nil:
		inputs = []string{one}
	case json.Unmarshal(req.Input, &inputs) == nil:
	default:
		writeError(w, http.StatusBadRequest, "invalid input type")
		return
	}
	if len(inputs) == 0 {
		writeError(w, http.StatusBadRequest, "input is required")
		return
	}
	vec := vector()
	dims := len(vec)
	if req.Dimensions > 0 && req.Dimensions < dims {
		dims = req.Dimensions
	}
	resp := embedResponse{Model: req.Model, TotalDuration: 14143917, LoadDuration: 1019500,
		PromptEvalCount: EmbedTokensPerInput * len(inputs)}
	for range inputs {
		resp.Embeddings = append(resp.Embeddings, append([]float64(nil), vec[:dims]...))
	}
	writeJSON(w, http.StatusOK, resp)
}

// ---- /api/tags ----

func (s *Server) tags(w http.ResponseWriter) {
	type details struct {
		Format            string   `json:"format"`
		Family            string   `json:"family"`
		Families          []string `json:"families"`
		ParameterSize     string   `json:"parameter_size"`
		QuantizationLevel string   `json:"quantization_level"`
	}
	type model struct {
		Name       string  `json:"name"`
		Model      string  `json:"model"`
		ModifiedAt string  `json:"modified_at"`
		Size       int64   `json:"size"`
		Digest     string  `json:"digest"`
		Details    details `json:"details"`
	}
	var out struct {
		Models []model `json:"models"`
	}
	for i, name := range Models() {
		family, _, _ := strings.Cut(name, ":")
		out.Models = append(out.Models, model{
			Name: name, Model: name, ModifiedAt: stamp(i), Size: 2019393189 + int64(i),
			Digest:  fmt.Sprintf("%064x", i+1),
			Details: details{Format: "gguf", Family: family, Families: []string{family}, ParameterSize: "3.2B", QuantizationLevel: "Q4_K_M"},
		})
	}
	writeJSON(w, http.StatusOK, out)
}
