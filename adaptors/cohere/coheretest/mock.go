// Package coheretest is a mock of Cohere's API v2 for tests: an
// httptest server on 127.0.0.1 that checks the bearer key and validates
// requests as Cohere documents them, then answers chat (streamed or not),
// embed, rerank and the model list in Cohere's own wire format. It is
// imported by tests only.
package coheretest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchyard/adaptors"
)

// MockText is the text of every chat answer that is not a tool call.
const MockText = "Hello from the Cohere mock!"

// Usage the mock reports. billed_units is what Cohere charges; tokens
// counts what the model processed, which includes Cohere's system
// preamble and so is larger: a gateway that billed from tokens would be
// caught by TextUsage and ToolUsage.
const (
	textBilledIn, textBilledOut = 12, 7
	toolBilledIn, toolBilledOut = 31, 18
	preambleTokens              = 198
	embedBilledIn               = 8
)

// Server is a mock Cohere upstream that checks auth and the request like
// the real one.
type Server struct {
	URL string // base URL to put in the channel's base_url
	Key string // the API key it accepts

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// NewServer starts a mock that accepts key; it is closed by t.Cleanup.
func NewServer(t testing.TB, key string) *Server {
	s := &Server{Key: key}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
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

// TextUsage is the usage of every text answer, in OpenAI terms: Cohere's
// billed_units.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: textBilledIn, CompletionTokens: textBilledOut, TotalTokens: textBilledIn + textBilledOut}
}

// ToolUsage is the usage of every tool-call answer, in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: toolBilledIn, CompletionTokens: toolBilledOut, TotalTokens: toolBilledIn + toolBilledOut}
}

// EmbedUsage is the usage of every embed answer, in OpenAI terms.
func (s *Server) EmbedUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: embedBilledIn, TotalTokens: embedBilledIn}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	s.lastBody = body
	s.mu.Unlock()

	// Cohere's bearer scheme is case-insensitive (its own curl examples
	// write "bearer").
	auth := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(auth, " ")
	switch {
	case auth == "":
		writeError(w, http.StatusUnauthorized, "no api key supplied")
		return
	case !strings.EqualFold(scheme, "bearer") || token != s.Key:
		writeError(w, http.StatusUnauthorized, "invalid api token")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v2/chat":
		s.chat(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == "/v2/embed":
		embed(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/v2/rerank":
		rerank(w, body)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		models(w, r)
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// badRequest is a validation failure, answered 400 with Cohere's
// "invalid request: …" wording.
type badRequest string

func (e badRequest) Error() string { return "invalid request: " + string(e) }

func bad(format string, args ...any) error { return badRequest(fmt.Sprintf(format, args...)) }

// decodeStrict decodes a JSON object body, refusing members Cohere does
// not know (the mock's way of catching OpenAI members sent as is).
func decodeStrict(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return bad("%v", err)
	}
	if d.More() {
		return bad("trailing data after the json body")
	}
	return nil
}

// chatRequest is the v2 chat body.
type chatRequest struct {
	Model            *string           `json:"model"`
	Messages         []json.RawMessage `json:"messages"`
	Tools            []tool            `json:"tools"`
	StrictTools      *bool             `json:"strict_tools"`
	Documents        []json.RawMessage `json:"documents"`
	CitationOptions  json.RawMessage   `json:"citation_options"`
	ResponseFormat   *responseFormat   `json:"response_format"`
	SafetyMode       *string           `json:"safety_mode"`
	MaxTokens        *int              `json:"max_tokens"`
	StopSequences    []string          `json:"stop_sequences"`
	Temperature      *float64          `json:"temperature"`
	Seed             *int              `json:"seed"`
	FrequencyPenalty *float64          `json:"frequency_penalty"`
	PresencePenalty  *float64          `json:"presence_penalty"`
	K                *int              `json:"k"`
	P                *float64          `json:"p"`
	Logprobs         *bool             `json:"logprobs"`
	ToolChoice       *string           `json:"tool_choice"`
	Thinking         *thinking         `json:"thinking"`
	Priority         *int              `json:"priority"`
	Stream           *bool             `json:"stream"`
}

type tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type responseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema"`
}

type thinking struct {
	Type        string `json:"type"`
	TokenBudget *int   `json:"token_budget"`
}

// message is any v2 message; which members are allowed depends on role.
type message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id"`
	ToolPlan   string          `json:"tool_plan"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
	Citations json.RawMessage `json:"citations"`
}

type contentPart struct {
	Type     string          `json:"type"`
	Text     *string         `json:"text"`
	Thinking *string         `json:"thinking"`
	ImageURL *imageURL       `json:"image_url"`
	Document json.RawMessage `json:"document"`
}

type imageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail"`
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request, body []byte) {
	var req chatRequest
	lastRole, err := validateChat(body, &req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id := fmt.Sprintf("c0e1e2e3-0000-4000-8000-%012d", s.Requests())
	callTool := len(req.Tools) > 0 && lastRole == "user" && (req.ToolChoice == nil || *req.ToolChoice != "NONE")
	stream := req.Stream != nil && *req.Stream
	switch {
	case stream && callTool:
		streamTool(w, id, req.Tools[0].Function.Name)
	case stream:
		streamText(w, id)
	case callTool:
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id,
			"message": map[string]any{
				"role":      "assistant",
				"tool_plan": "I will use " + req.Tools[0].Function.Name + " to answer.",
				"tool_calls": []any{map[string]any{
					"id": toolCallID(req.Tools[0].Function.Name), "type": "function",
					"function": map[string]any{"name": req.Tools[0].Function.Name, "arguments": `{"location":"Paris"}`},
				}},
			},
			"finish_reason": "TOOL_CALL",
			"usage":         usage(toolBilledIn, toolBilledOut),
		})
	default:
		writeJSON(w, http.StatusOK, map[string]any{
			"id":            id,
			"message":       map[string]any{"role": "assistant", "content": []any{map[string]any{"type": "text", "text": MockText}}},
			"finish_reason": "COMPLETE",
			"usage":         usage(textBilledIn, textBilledOut),
		})
	}
}

func toolCallID(name string) string { return name + "_mock0k7n2p4q" }

func usage(in, out int) map[string]any {
	return map[string]any{
		"billed_units": map[string]int{"input_tokens": in, "output_tokens": out},
		"tokens":       map[string]int{"input_tokens": in + preambleTokens, "output_tokens": out},
	}
}

// validateChat checks a v2 chat body as Cohere documents it and returns
// the role of the last message.
func validateChat(body []byte, req *chatRequest) (string, error) {
	if err := decodeStrict(body, req); err != nil {
		return "", err
	}
	if req.Model == nil || *req.Model == "" {
		return "", bad("model is required")
	}
	if req.Stream == nil {
		return "", bad("stream is required")
	}
	if len(req.Messages) == 0 {
		return "", bad("messages must not be empty")
	}
	if req.MaxTokens != nil && *req.MaxTokens < 1 {
		return "", bad("max_tokens must be at least 1")
	}
	if req.P != nil && (*req.P < 0.01 || *req.P > 0.99) {
		return "", bad("p must be between 0.01 and 0.99")
	}
	if len(req.StopSequences) > 5 {
		return "", bad("stop_sequences must contain at most 5 sequences")
	}
	if req.ToolChoice != nil {
		switch *req.ToolChoice {
		case "REQUIRED", "NONE":
		default:
			return "", bad("tool_choice must be one of REQUIRED, NONE")
		}
		if len(req.Tools) == 0 {
			return "", bad("tool_choice requires tools")
		}
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type != "text" && rf.Type != "json_object" {
		return "", bad("response_format type must be text or json_object")
	}
	if t := req.Thinking; t != nil && t.Type != "enabled" && t.Type != "disabled" {
		return "", bad("thinking type must be enabled or disabled")
	}
	for i, t := range req.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return "", bad("tools[%d] must be a function with a name", i)
		}
		if len(t.Function.Parameters) == 0 || t.Function.Parameters[0] != '{' {
			return "", bad("tools[%d].function.parameters must be a JSON schema object", i)
		}
	}
	calls := map[string]bool{}
	role := ""
	for i, raw := range req.Messages {
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			return "", bad("messages[%d]: %v", i, err)
		}
		if err := validateMessage(i, &m, calls); err != nil {
			return "", err
		}
		role = m.Role
	}
	return role, nil
}

func validateMessage(i int, m *message, calls map[string]bool) error {
	switch m.Role {
	case "system", "user":
		if m.ToolCallID != "" || m.ToolPlan != "" || m.ToolCalls != nil {
			return bad("messages[%d]: %s messages take only content", i, m.Role)
		}
		return validateContent(i, m.Role, m.Content, true)
	case "assistant":
		if m.ToolCallID != "" {
			return bad("messages[%d]: assistant messages take no tool_call_id", i)
		}
		if len(m.ToolCalls) == 0 && !present(m.Content) {
			return bad("messages[%d]: message must not be empty in a turn", i)
		}
		for j, tc := range m.ToolCalls {
			if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" || !json.Valid([]byte(tc.Function.Arguments)) {
				return bad("messages[%d].tool_calls[%d] needs an id, type function, a name and JSON arguments", i, j)
			}
			calls[tc.ID] = true
		}
		if present(m.Content) {
			return validateContent(i, m.Role, m.Content, true)
		}
		return nil
	case "tool":
		if m.ToolCallID == "" {
			return bad("messages[%d]: tool messages need a tool_call_id", i)
		}
		if !calls[m.ToolCallID] {
			return bad("messages[%d]: tool_call_id %q does not match any earlier tool call", i, m.ToolCallID)
		}
		if m.ToolPlan != "" || m.ToolCalls != nil {
			return bad("messages[%d]: tool messages take tool_call_id and content only", i)
		}
		return validateContent(i, m.Role, m.Content, true)
	}
	return bad("messages[%d]: role must be one of system, user, assistant, tool", i)
}

func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null"
}

// validateContent checks a message's content: a non-empty string, or a
// non-empty array of the parts its role allows.
func validateContent(i int, role string, raw json.RawMessage, required bool) error {
	raw = bytes.TrimSpace(raw)
	if !present(raw) {
		if required {
			return bad("messages[%d]: message must not be empty in a turn", i)
		}
		return nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s == "" {
			return bad("messages[%d]: message must not be empty in a turn", i)
		}
		return nil
	}
	var parts []contentPart
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) == 0 {
		return bad("messages[%d]: content must be a string or a non-empty array of content", i)
	}
	for j, p := range parts {
		ok := false
		switch p.Type {
		case "text":
			ok = p.Text != nil
		case "image_url":
			ok = role == "user" && p.ImageURL != nil &&
				(strings.HasPrefix(p.ImageURL.URL, "data:") || strings.HasPrefix(p.ImageURL.URL, "https://") || strings.HasPrefix(p.ImageURL.URL, "http://"))
		case "thinking":
			ok = role == "assistant" && p.Thinking != nil
		case "document":
			ok = role == "tool" && present(p.Document)
		}
		if !ok {
			return bad("messages[%d].content[%d]: content type %q is not valid in a %s message", i, j, p.Type, role)
		}
	}
	return nil
}

// sseWriter writes v2 stream events: `event: <type>` and the JSON data.
type sseWriter struct {
	w http.ResponseWriter
}

func newSSE(w http.ResponseWriter) sseWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return sseWriter{w: w}
}

func (s sseWriter) event(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", v["type"], b)
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

func messageStart(s sseWriter, id string) {
	s.event(map[string]any{"id": id, "type": "message-start", "delta": map[string]any{"message": map[string]any{
		"role": "assistant", "content": []any{}, "tool_plan": "", "tool_calls": []any{}, "citations": []any{}}}})
}

func messageEnd(s sseWriter, finish string, in, out int) {
	s.event(map[string]any{"type": "message-end", "delta": map[string]any{"finish_reason": finish, "usage": usage(in, out)}})
}

func streamText(w http.ResponseWriter, id string) {
	s := newSSE(w)
	messageStart(s, id)
	s.event(map[string]any{"type": "content-start", "index": 0, "delta": map[string]any{"message": map[string]any{"content": map[string]any{"type": "text", "text": ""}}}})
	for _, piece := range []string{"Hello", " from", " the", " Cohere", " mock!"} {
		s.event(map[string]any{"type": "content-delta", "index": 0, "delta": map[string]any{"message": map[string]any{"content": map[string]any{"text": piece}}}})
	}
	s.event(map[string]any{"type": "content-end", "index": 0})
	messageEnd(s, "COMPLETE", textBilledIn, textBilledOut)
}

func streamTool(w http.ResponseWriter, id, name string) {
	s := newSSE(w)
	messageStart(s, id)
	for _, piece := range []string{"I will use ", name, " to answer."} {
		s.event(map[string]any{"type": "tool-plan-delta", "delta": map[string]any{"message": map[string]any{"tool_plan": piece}}})
	}
	s.event(map[string]any{"type": "tool-call-start", "index": 0, "delta": map[string]any{"message": map[string]any{"tool_calls": map[string]any{
		"id": toolCallID(name), "type": "function", "function": map[string]any{"name": name, "arguments": ""}}}}})
	for _, piece := range []string{`{"loc`, `ation":`, `"Par`, `is"}`} {
		s.event(map[string]any{"type": "tool-call-delta", "index": 0, "delta": map[string]any{"message": map[string]any{"tool_calls": map[string]any{
			"function": map[string]any{"arguments": piece}}}}})
	}
	s.event(map[string]any{"type": "tool-call-end", "index": 0})
	messageEnd(s, "TOOL_CALL", toolBilledIn, toolBilledOut)
}

// embedRequest is the v2 embed body.
type embedRequest struct {
	Texts           []string          `json:"texts"`
	Images          []string          `json:"images"`
	Model           *string           `json:"model"`
	InputType       *string           `json:"input_type"`
	Inputs          []json.RawMessage `json:"inputs"`
	MaxTokens       *int              `json:"max_tokens"`
	OutputDimension *int              `json:"output_dimension"`
	EmbeddingTypes  []string          `json:"embedding_types"`
	Truncate        *string           `json:"truncate"`
	Priority        *int              `json:"priority"`
}

func embed(w http.ResponseWriter, body []byte) {
	var req embedRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch {
	case req.Model == nil || *req.Model == "":
		writeError(w, http.StatusBadRequest, bad("model is required").Error())
		return
	case len(req.Texts) == 0 || len(req.Texts) > 96:
		writeError(w, http.StatusBadRequest, bad("texts must contain between 1 and 96 texts").Error())
		return
	case req.InputType == nil:
		writeError(w, http.StatusBadRequest, bad("valid input_type must be provided with the provided model").Error())
		return
	case len(req.EmbeddingTypes) == 0:
		writeError(w, http.StatusBadRequest, bad("embedding_types is required").Error())
		return
	}
	switch *req.InputType {
	case "search_document", "search_query", "classification", "clustering":
	default:
		writeError(w, http.StatusBadRequest, bad("valid input_type must be provided with the provided model").Error())
		return
	}
	dim := 4 // small, so tests stay readable; Cohere's default is 1536
	if d := req.OutputDimension; d != nil {
		switch *d {
		case 256, 512, 1024, 1536:
			dim = *d
		default:
			writeError(w, http.StatusBadRequest, bad("output_dimension must be one of 256, 512, 1024, 1536").Error())
			return
		}
	}
	embeddings := map[string]any{}
	for _, typ := range req.EmbeddingTypes {
		if typ != "float" {
			continue // the mock serves float only
		}
		vecs := make([][]float64, len(req.Texts))
		for i, text := range req.Texts {
			vecs[i] = make([]float64, dim)
			for j := range vecs[i] {
				vecs[i][j] = float64((len(text)+j)%7)/8 - 0.375
			}
		}
		embeddings["float"] = vecs
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":            "e0e1e2e3-0000-4000-8000-000000000001",
		"embeddings":    embeddings,
		"texts":         req.Texts,
		"meta":          map[string]any{"api_version": map[string]any{"version": "2"}, "billed_units": map[string]int{"input_tokens": embedBilledIn}},
		"response_type": "embeddings_by_type",
	})
}

// rerankRequest is the v2 rerank body.
type rerankRequest struct {
	Model           *string  `json:"model"`
	Query           string   `json:"query"`
	Documents       []string `json:"documents"`
	TopN            *int     `json:"top_n"`
	MaxTokensPerDoc *int     `json:"max_tokens_per_doc"`
	Priority        *int     `json:"priority"`
}

func rerank(w http.ResponseWriter, body []byte) {
	var req rerankRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch {
	case req.Model == nil || *req.Model == "":
		writeError(w, http.StatusBadRequest, bad("model is required").Error())
		return
	case strings.TrimSpace(req.Query) == "":
		writeError(w, http.StatusBadRequest, bad("query must not be empty or be only whitespace").Error())
		return
	case len(req.Documents) == 0:
		writeError(w, http.StatusBadRequest, bad("list of documents must not be empty").Error())
		return
	case req.TopN != nil && *req.TopN < 1:
		writeError(w, http.StatusBadRequest, bad("top_n must be at least 1").Error())
		return
	}
	// Score: the share of query words the document contains.
	words := strings.Fields(strings.ToLower(req.Query))
	type result struct {
		Index          int     `json:"index"`
		RelevanceScore float64 `json:"relevance_score"`
	}
	results := make([]result, len(req.Documents))
	for i, d := range req.Documents {
		d = strings.ToLower(d)
		hits := 0
		for _, wd := range words {
			if strings.Contains(d, wd) {
				hits++
			}
		}
		results[i] = result{Index: i, RelevanceScore: float64(hits) / float64(len(words))}
	}
	sort.SliceStable(results, func(a, b int) bool { return results[a].RelevanceScore > results[b].RelevanceScore })
	if req.TopN != nil && *req.TopN < len(results) {
		results = results[:*req.TopN]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"results": results,
		"id":      "r0e1e2e3-0000-4000-8000-000000000001",
		"meta":    map[string]any{"api_version": map[string]any{"version": "2", "is_experimental": false}, "billed_units": map[string]int{"search_units": 1}},
	})
}

type mockModel struct {
	name      string
	endpoints []string
}

// modelList is the model list the mock serves, in order.
func modelList() []mockModel {
	return []mockModel{
		{"command-a-03-2025", []string{"generate", "chat", "summarize"}},
		{"embed-v4.0", []string{"embed", "classify"}},
		{"rerank-v3.5", []string{"rerank"}},
	}
}

// ModelNames returns the names GET /v1/models lists.
func ModelNames() []string {
	var names []string
	for _, m := range modelList() {
		names = append(names, m.name)
	}
	return names
}

func models(w http.ResponseWriter, r *http.Request) {
	if ps := r.URL.Query().Get("page_size"); ps != "" {
		if n, err := strconv.Atoi(ps); err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, bad("page_size must be between 1 and 1000").Error())
			return
		}
	}
	ms := modelList()
	list := make([]map[string]any, len(ms))
	for i, m := range ms {
		list[i] = map[string]any{"name": m.name, "endpoints": m.endpoints, "finetuned": false, "context_length": 128000}
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": list, "next_page_token": ""})
}
