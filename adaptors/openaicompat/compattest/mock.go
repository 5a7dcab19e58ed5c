// Package compattest is a mock upstream for the rows of openaicompat: an
// httptest server on 127.0.0.1 that serves exactly the paths a row
// configures, under the row's base path, checks the bearer key like the
// vendor, validates chat requests, and answers in the vendor's own
// dialect of OpenAI's format: Moonshot's usage inside the finishing
// choice, MiniMax's base_resp and missing [DONE], Gemini's cumulative
// usage and index-less tool calls, Spark's code/sid envelope without
// finish_reason, Mistral's refusal of stream_options, DeepSeek's cache-hit
// counters, and the vendors' balance endpoints. It is used by tests only.
package compattest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/openaicompat"
)

// Server is a mock upstream of one openaicompat row. Safe for concurrent
// use.
type Server struct {
	// URL is the server's root. Channels use BaseURL, which adds the row's
	// base path.
	URL string
	// Key is the API key the server accepts.
	Key string
	// Vendor is the row the server mocks.
	Vendor openaicompat.Vendor

	basePath string
	dialect  dialect

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// dialect is the vendor's flavour of OpenAI's format.
type dialect int

const (
	dOpenAI dialect = iota
	dDeepSeek
	dGemini
	dGroq
	dMiniMax
	dMistral
	dMoonshot
	dPerplexity
	dSpark
)

func dialectOf(typ int) dialect {
	switch typ {
	case openaicompat.TypeDeepSeek:
		return dDeepSeek
	case openaicompat.TypeGeminiOpenAICompatible:
		return dGemini
	case openaicompat.TypeGroq:
		return dGroq
	case openaicompat.TypeMiniMax:
		return dMiniMax
	case openaicompat.TypeMistral:
		return dMistral
	case openaicompat.TypeMoonshot:
		return dMoonshot
	case openaicompat.TypePerplexity:
		return dPerplexity
	case openaicompat.TypeXunfeiV2:
		return dSpark
	}
	return dOpenAI
}

// NewServer starts a mock of row v accepting key; it is closed by
// t.Cleanup.
func NewServer(t testing.TB, v openaicompat.Vendor, key string) *Server {
	s := &Server{Key: key, Vendor: v, dialect: dialectOf(v.Type)}
	switch {
	case v.Config.BaseURL != "":
		u, err := url.Parse(v.Config.BaseURL)
		if err != nil {
			t.Fatalf("compattest: base URL of %s: %v", v.Name, err)
		}
		s.basePath = strings.TrimRight(u.Path, "/")
	case v.Type == openaicompat.TypeOpenAICompatible:
		s.basePath = "/v1" // type 50's paths carry no /v1: the operator's base does
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// BaseURL is what a channel's base_url must be to reach the mock: the
// server's root plus the row's base path (/api for OpenRouter, /openai for
// Groq and Novita, /v1beta/openai for Gemini, /v1 for OpenAICompatible).
func (s *Server) BaseURL() string { return s.URL + s.basePath }

// Requests returns the number of requests answered so far (any status).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastRequest returns the last request's path with its query, its headers
// and its body.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), slices.Clone(s.lastBody)
}

// Text is the answer of every chat request that calls no tool.
func (s *Server) Text() string { return "Hello from the " + s.Vendor.Name + " mock!" }

// textDeltas is Text split in stream deltas.
func (s *Server) textDeltas() []string {
	return []string{"Hello", " from the", " " + s.Vendor.Name, " mock!"}
}

// argFragments are the tool call's arguments split in stream fragments.
var argFragments = []string{`{"`, `location`, `":"`, `Paris`, `"}`}

// toolArguments is the tool call's arguments.
const toolArguments = `{"location":"Paris"}`

// TextUsage is the usage of every text answer in OpenAI terms, as the row
// must report it: cache reads and reasoning where the vendor reports them.
func (s *Server) TextUsage() adaptors.Usage {
	switch s.dialect {
	case dSpark, dMistral, dPerplexity, dGroq:
		return adaptors.Usage{PromptTokens: 25, CompletionTokens: 14, TotalTokens: 39}
	case dMoonshot:
		return adaptors.Usage{PromptTokens: 25, CompletionTokens: 14, TotalTokens: 39, CachedTokens: 10}
	case dGemini:
		return adaptors.Usage{PromptTokens: 25, CompletionTokens: 14, TotalTokens: 39, ReasoningTokens: 4}
	}
	return adaptors.Usage{PromptTokens: 25, CompletionTokens: 14, TotalTokens: 39, CachedTokens: 10, ReasoningTokens: 4}
}

// ToolUsage is the usage of every tool-call answer in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage {
	switch s.dialect {
	case dSpark, dMistral, dPerplexity, dGroq:
		return adaptors.Usage{PromptTokens: 64, CompletionTokens: 18, TotalTokens: 82}
	case dGemini:
		return adaptors.Usage{PromptTokens: 64, CompletionTokens: 18, TotalTokens: 82, ReasoningTokens: 6}
	}
	return adaptors.Usage{PromptTokens: 64, CompletionTokens: 18, TotalTokens: 82, CachedTokens: 32}
}

// EmbeddingUsage is the usage of every embeddings answer (per input).
func (s *Server) EmbeddingUsage(inputs int) adaptors.Usage {
	return adaptors.Usage{PromptTokens: 8 * inputs, TotalTokens: 8 * inputs}
}

// RerankUsage is the usage of every rerank answer.
func (s *Server) RerankUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: 12, TotalTokens: 12}
}

// Balance is the balance the row must read from the mock, and whether the
// row has a balance endpoint.
func (s *Server) Balance() (adaptors.Balance, bool) {
	switch s.Vendor.Type {
	case openaicompat.TypeCustom:
		return adaptors.Balance{Amount: 120 - 1234.5/100, Currency: "USD"}, true
	case openaicompat.TypeOpenRouter:
		return adaptors.Balance{Amount: 74.75, Currency: "USD"}, true
	case openaicompat.TypeMoonshot:
		return adaptors.Balance{Amount: 49.58894, Currency: "CNY"}, true
	case openaicompat.TypeStepFun:
		return adaptors.Balance{Amount: 120.36, Currency: "CNY"}, true
	case openaicompat.TypeDeepSeek:
		return adaptors.Balance{Amount: 110, Currency: "CNY"}, true
	case openaicompat.TypeSiliconFlow:
		return adaptors.Balance{Amount: 88.88, Currency: "CNY"}, true
	}
	return adaptors.Balance{}, false
}

// BadKeyStatus is the status the row's adaptor reports for a wrong key:
// 401, except Gemini's 400 (API_KEY_INVALID). MiniMax answers 200 with
// base_resp 2049, which the row reports as 401.
func (s *Server) BadKeyStatus() int {
	if s.dialect == dGemini {
		return http.StatusBadRequest
	}
	return http.StatusUnauthorized
}

// ModelList is what the model-list endpoint answers.
func (s *Server) ModelList() []string {
	if len(s.Vendor.Models) == 0 {
		return []string{"gpt-4o-mini", "text-embedding-3-small"}
	}
	return slices.Clone(s.Vendor.Models)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	s.lastBody = body
	s.mu.Unlock()

	if !s.authorized(w, r) {
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, s.basePath)
	if !ok || path == "" {
		s.notFound(w, r.URL.Path)
		return
	}
	cfg := s.Vendor.Config
	post := r.Method == http.MethodPost
	switch {
	case post && path == cfg.ChatPath:
		s.chat(w, body, "")
	case post && s.routeFor(path) != "":
		s.chat(w, body, s.routeFor(path))
	case post && path == cfg.CompletionsPath && cfg.CompletionsPath != "":
		s.completions(w, body)
	case post && path == cfg.EmbeddingsPath && cfg.EmbeddingsPath != "":
		s.embeddings(w, body)
	case post && path == cfg.RerankPath && cfg.RerankPath != "":
		s.rerank(w, body)
	case post && path == cfg.ImagesGenerationsPath && cfg.ImagesGenerationsPath != "":
		s.images(w, body)
	case r.Method == http.MethodGet && path == cfg.ModelsPath && cfg.ModelsPath != "":
		s.models(w)
	case r.Method == http.MethodGet && s.balance(w, path):
	default:
		s.notFound(w, r.URL.Path)
	}
}

// routeFor returns the model prefix a ModelRoutes path serves, or "".
func (s *Server) routeFor(path string) string {
	for _, rt := range s.Vendor.Config.ModelRoutes {
		if rt.Mode == adaptors.ModeChat && rt.Path == path {
			return rt.Prefix
		}
	}
	return ""
}

// authorized checks `Authorization: Bearer <key>` and answers the
// vendor's refusal otherwise.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	if auth == "Bearer "+s.Key {
		return true
	}
	missing := auth == "" || auth == "Bearer" || auth == "Bearer "
	switch s.Vendor.Type {
	case openaicompat.TypeOpenRouter:
		msg := "User not found."
		if missing {
			msg = "No auth credentials found"
		}
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"message": msg, "code": 401}})
	case openaicompat.TypeGroq:
		writeRaw(w, http.StatusUnauthorized, `{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}`)
	case openaicompat.TypeDeepSeek:
		writeRaw(w, http.StatusUnauthorized, `{"error":{"message":"Authentication Fails, Your api key: ****`+last4(auth)+` is invalid","type":"authentication_error","param":null,"code":"invalid_request_error"}}`)
	case openaicompat.TypeMoonshot:
		writeRaw(w, http.StatusUnauthorized, `{"error":{"message":"Invalid Authentication","type":"invalid_authentication_error"}}`)
	case openaicompat.TypeDoubao:
		writeRaw(w, http.StatusUnauthorized, `{"error":{"code":"AuthenticationError","message":"The API key or AK/SK in the request is missing or invalid. Request id: 021760000000000mock","param":"","type":"Unauthorized"}}`)
	case openaicompat.TypeSiliconFlow:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "Invalid token")
	case openaicompat.TypeMiniMax:
		// MiniMax answers authentication failures with HTTP 200.
		code, msg := 2049, "invalid api key"
		if missing {
			code, msg = 1004, "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
		}
		writeJSON(w, http.StatusOK, map[string]any{"base_resp": map[string]any{"status_code": code, "status_msg": msg}})
	case openaicompat.TypeGeminiOpenAICompatible:
		if missing {
			googleError(w, http.StatusForbidden, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", nil)
		} else {
			googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", []any{
				map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
					"metadata": map[string]string{"service": "generativelanguage.googleapis.com"}},
			})
		}
	case openaicompat.TypeXunfeiV2:
		writeRaw(w, http.StatusUnauthorized, `{"error":{"message":"invalid user","type":"api_error","param":null,"code":null}}`)
	default:
		if missing {
			writeRaw(w, http.StatusUnauthorized, `{"error":{"message":"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).","type":"invalid_request_error","param":null,"code":null}}`)
		} else {
			writeRaw(w, http.StatusUnauthorized, `{"error":{"message":"Incorrect API key provided: `+redact(strings.TrimPrefix(auth, "Bearer "))+`.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		}
	}
	return false
}

func last4(s string) string {
	if len(s) < 4 {
		return s
	}
	return s[len(s)-4:]
}

func redact(key string) string {
	if len(key) <= 8 {
		return "****"
	}
	return key[:3] + "****" + key[len(key)-4:]
}

func (s *Server) notFound(w http.ResponseWriter, path string) {
	switch s.dialect {
	case dGemini:
		googleError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.", nil)
	default:
		writeRaw(w, http.StatusNotFound, `{"error":{"message":"Invalid URL (`+path+`)","type":"invalid_request_error","param":null,"code":null}}`)
	}
}

// badRequest answers a validation failure the vendor's way.
func (s *Server) badRequest(w http.ResponseWriter, msg string) {
	switch s.dialect {
	case dGemini:
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", msg, nil)
	case dMiniMax:
		writeJSON(w, http.StatusOK, map[string]any{"base_resp": map[string]any{"status_code": 2013, "status_msg": "invalid params, " + msg}})
	case dSpark:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"message": msg + " (sid: cha000mock@dx0000000000000000)", "type": "invalid_request_error", "param": nil, "code": "10005"}})
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
	}
}

// googleError writes Google's envelope, wrapped in a one-element array as
// the compatibility layer sends it.
func googleError(w http.ResponseWriter, status int, name, msg string, details []any) {
	e := map[string]any{"code": status, "message": msg, "status": name}
	if details != nil {
		e["details"] = details
	}
	writeJSON(w, status, []any{map[string]any{"error": e}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, string(b))
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// chatRequest is the part of a chat request the mock validates.
type chatRequest struct {
	Model    *string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	Stream        bool             `json:"stream"`
	StreamOptions *json.RawMessage `json:"stream_options"`
}

// turn is what one chat request answers.
type turn struct {
	model        string
	tool         string // the tool to call, or "" for text
	stream       bool
	includeUsage bool
}

func (s *Server) chat(w http.ResponseWriter, body []byte, routePrefix string) {
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, "We could not parse the JSON body of your request.")
		return
	}
	if req.Model == nil || *req.Model == "" {
		s.badRequest(w, "model is required")
		return
	}
	if len(req.Messages) == 0 {
		s.badRequest(w, "messages must not be empty")
		return
	}
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool":
		case "developer":
			if s.dialect == dSpark || s.dialect == dMiniMax {
				s.badRequest(w, fmt.Sprintf("invalid role %q at messages[%d]", m.Role, i))
				return
			}
		default:
			s.badRequest(w, fmt.Sprintf("invalid role %q at messages[%d]", m.Role, i))
			return
		}
	}
	// Doubao: bot applications live under their own path only.
	if s.Vendor.Type == openaicompat.TypeDoubao && (routePrefix != "") != strings.HasPrefix(*req.Model, "bot-") {
		writeRaw(w, http.StatusNotFound, `{"error":{"code":"InvalidEndpointOrModel.NotFound","message":"The model or endpoint `+*req.Model+` does not exist or you do not have access to it.","param":"","type":"NotFound"}}`)
		return
	}
	t := turn{model: *req.Model, stream: req.Stream}
	if req.StreamOptions != nil {
		if s.dialect == dMistral {
			writeRaw(w, http.StatusUnprocessableEntity, `{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","stream_options"],"msg":"Extra inputs are not permitted","input":`+string(*req.StreamOptions)+`}]},"type":"invalid_request_error","param":null,"code":null}`)
			return
		}
		var so struct {
			IncludeUsage bool `json:"include_usage"`
		}
		_ = json.Unmarshal(*req.StreamOptions, &so)
		t.includeUsage = so.IncludeUsage
	}
	if len(req.Tools) > 0 && req.Messages[len(req.Messages)-1].Role == "user" {
		t.tool = req.Tools[0].Function.Name
	}
	if t.stream {
		s.stream(w, t)
		return
	}
	writeRaw(w, http.StatusOK, s.completion(t))
}

// ---- usage in the vendors' spellings ----

// wireUsage writes usage u (OpenAI terms) as the vendor reports it.
func (s *Server) wireUsage(u adaptors.Usage) string {
	switch s.dialect {
	case dSpark, dMistral, dPerplexity, dGroq:
		return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}`, u.PromptTokens, u.CompletionTokens, u.TotalTokens)
	case dMoonshot:
		return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"cached_tokens":%d}`, u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens)
	case dDeepSeek:
		return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d},"completion_tokens_details":{"reasoning_tokens":%d},"prompt_cache_hit_tokens":%d,"prompt_cache_miss_tokens":%d}`,
			u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens, u.ReasoningTokens, u.CachedTokens, u.PromptTokens-u.CachedTokens)
	case dMiniMax:
		return fmt.Sprintf(`{"total_tokens":%d,"total_characters":0,"prompt_tokens":%d,"completion_tokens":%d,"completion_tokens_details":{"reasoning_tokens":%d},"prompt_tokens_details":{"cached_tokens":%d}}`,
			u.TotalTokens, u.PromptTokens, u.CompletionTokens, u.ReasoningTokens, u.CachedTokens)
	case dGemini:
		// completion_tokens leaves the thinking out; total_tokens counts it.
		return fmt.Sprintf(`{"completion_tokens":%d,"prompt_tokens":%d,"total_tokens":%d}`, u.CompletionTokens-u.ReasoningTokens, u.PromptTokens, u.TotalTokens)
	}
	return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":%d,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`,
		u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens, u.ReasoningTokens)
}

func (s *Server) usageFor(t turn) adaptors.Usage {
	if t.tool != "" {
		return s.ToolUsage()
	}
	return s.TextUsage()
}

// ---- non-stream answers ----

const (
	created = 1760000000
	respID  = "chatcmpl-mock0001"
	sparkID = "cha000b0001@dx1905cd86d6bb86d552"
)

// minimaxExtras are the members MiniMax adds to every answer and chunk.
const minimaxExtras = `"input_sensitive":false,"output_sensitive":false,"input_sensitive_type":0,"output_sensitive_type":0,"output_sensitive_int":0`

func (s *Server) completion(t turn) string {
	u := s.wireUsage(s.usageFor(t))
	switch s.dialect {
	case dSpark:
		msg := `{"role":"assistant","content":` + quote(s.Text()) + `}`
		if t.tool != "" {
			msg = `{"role":"assistant","content":"","tool_calls":{"type":"function","function":{"arguments":` + quote(toolArguments) + `,"name":` + quote(t.tool) + `}}}`
		}
		return `{"code":0,"message":"Success","sid":"` + sparkID + `","choices":[{"message":` + msg + `,"index":0}],"usage":` + u + `}`
	case dGemini:
		msg := `{"content":` + quote(s.Text()) + `,"role":"assistant"}`
		finish := "stop"
		if t.tool != "" {
			msg = `{"role":"assistant","tool_calls":[{"extra_content":{"google":{"thought_signature":"CiQBmock"}},"function":{"arguments":` + quote(toolArguments) + `,"name":` + quote(t.tool) + `},"id":"function-call-5310","type":"function"}]}`
			finish = "tool_calls"
		}
		return fmt.Sprintf(`{"choices":[{"finish_reason":%q,"index":0,"message":%s}],"created":%d,"id":"mockGeminiResp01","model":%s,"object":"chat.completion","usage":%s}`,
			finish, msg, created, quote(t.model), u)
	case dMiniMax:
		msg := `{"content":` + quote(s.Text()) + `,"role":"assistant","name":"MiniMax AI","audio_content":""}`
		finish := "stop"
		if t.tool != "" {
			msg = `{"content":"","role":"assistant","name":"MiniMax AI","audio_content":"","tool_calls":[{"id":"call_function_mock_1","type":"function","function":{"name":` + quote(t.tool) + `,"arguments":` + quote(toolArguments) + `}}]}`
			finish = "tool_calls"
		}
		return fmt.Sprintf(`{"id":"mockminimax0001","choices":[{"finish_reason":%q,"index":0,"message":%s}],"created":%d,"model":%s,"object":"chat.completion","usage":%s,%s,"base_resp":{"status_code":0,"status_msg":""}}`,
			finish, msg, created, quote(t.model), u, minimaxExtras)
	}
	msg := `{"role":"assistant","content":` + quote(s.Text()) + `,"refusal":null}`
	finish := "stop"
	if t.tool != "" {
		msg = `{"role":"assistant","content":null,"tool_calls":[{"id":"call_mock0001","type":"function","function":{"name":` + quote(t.tool) + `,"arguments":` + quote(toolArguments) + `}}],"refusal":null}`
		finish = "tool_calls"
	}
	return fmt.Sprintf(`{"id":%q,"object":"chat.completion","created":%d,"model":%s,"choices":[{"index":0,"message":%s,"logprobs":null,"finish_reason":%q}],"usage":%s}`,
		respID, created, quote(t.model), msg, finish, u)
}

// ---- streams ----

// sseWriter writes one stream.
type sseWriter struct {
	w      http.ResponseWriter
	f      http.Flusher
	prefix string // "data: ", or "data:" for Spark
}

func (s *Server) newSSE(w http.ResponseWriter) *sseWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	p := "data: "
	if s.dialect == dSpark {
		p = "data:"
	}
	return &sseWriter{w: w, f: f, prefix: p}
}

func (e *sseWriter) send(payload string) {
	_, _ = io.WriteString(e.w, e.prefix+payload+"\n\n")
	if e.f != nil {
		e.f.Flush()
	}
}

func (s *Server) stream(w http.ResponseWriter, t turn) {
	e := s.newSSE(w)
	switch s.dialect {
	case dSpark:
		s.streamSpark(e, t)
	case dGemini:
		s.streamGemini(e, t)
	case dMiniMax:
		s.streamMiniMax(e, t)
	default:
		s.streamOpenAI(e, t)
	}
}

// streamOpenAI writes OpenAI's stream with the variations of the vendors
// that speak it: the usage-only chunk when asked (DeepSeek's counters
// inside); usage on the finish chunk (Mistral, Perplexity: unasked; Groq:
// in x_groq too); Moonshot's usage inside the finishing choice.
func (s *Server) streamOpenAI(e *sseWriter, t turn) {
	head := fmt.Sprintf(`"id":%q,"object":"chat.completion.chunk","created":%d,"model":%s`, "chatcmpl-mockstream01", created, quote(t.model))
	choice := func(delta, finish, extra string) string {
		return `{` + head + `,"choices":[{"index":0,"delta":` + delta + `,"logprobs":null,"finish_reason":` + finish + extra + `}]`
	}
	u := s.wireUsage(s.usageFor(t))
	e.send(choice(`{"role":"assistant","content":""}`, "null", "") + `}`)
	finish := `"stop"`
	if t.tool != "" {
		e.send(choice(`{"tool_calls":[{"index":0,"id":"call_mockstream01","type":"function","function":{"name":`+quote(t.tool)+`,"arguments":""}}]}`, "null", "") + `}`)
		for _, a := range argFragments {
			e.send(choice(`{"tool_calls":[{"index":0,"function":{"arguments":`+quote(a)+`}}]}`, "null", "") + `}`)
		}
		finish = `"tool_calls"`
	} else {
		for _, d := range s.textDeltas() {
			e.send(choice(`{"content":`+quote(d)+`}`, "null", "") + `}`)
		}
	}
	switch s.dialect {
	case dMoonshot:
		e.send(choice(`{}`, finish, `,"usage":`+u) + `}`)
	case dMistral, dPerplexity:
		e.send(choice(`{}`, finish, "") + `,"usage":` + u + `}`)
	case dGroq:
		e.send(choice(`{}`, finish, "") + `,"x_groq":{"id":"req_mock01","usage":` + u + `}}`)
		if t.includeUsage {
			e.send(`{` + head + `,"choices":[],"usage":` + u + `}`)
		}
	default:
		e.send(choice(`{}`, finish, "") + `}`)
		if t.includeUsage {
			e.send(`{` + head + `,"choices":[],"usage":` + u + `}`)
		}
	}
	e.send("[DONE]")
}

// streamGemini writes the compatibility layer's stream: role in every
// delta, cumulative usage on every chunk, no usage-only chunk, the tool
// call without an index (its arguments over two index-less deltas) and a
// finish_reason of "stop" after it.
func (s *Server) streamGemini(e *sseWriter, t turn) {
	final := s.usageFor(t)
	chunk := func(delta, finish string, step, steps int) string {
		u := final
		// cumulative: the thinking and prompt first, the answer growing.
		answer := final.CompletionTokens - final.ReasoningTokens
		u.CompletionTokens = final.ReasoningTokens + answer*step/steps
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		fr := ""
		if finish != "" {
			fr = `,"finish_reason":"` + finish + `"`
		}
		return fmt.Sprintf(`{"choices":[{"delta":%s%s,"index":0}],"created":%d,"id":"mockGeminiStream01","model":%s,"object":"chat.completion.chunk","usage":%s}`,
			delta, fr, created, quote(t.model), s.wireUsage(u))
	}
	if t.tool != "" {
		e.send(chunk(`{"role":"assistant","tool_calls":[{"extra_content":{"google":{"thought_signature":"CiQBmock"}},"function":{"arguments":"{\"loca","name":`+quote(t.tool)+`},"id":"function-call-5311","type":"function"}]}`, "", 1, 2))
		e.send(chunk(`{"role":"assistant","tool_calls":[{"function":{"arguments":"tion\":\"Paris\"}"}}]}`, "", 2, 2))
		e.send(chunk(`{"content":"","role":"assistant"}`, "stop", 2, 2))
	} else {
		d := s.textDeltas()
		for i, text := range d {
			e.send(chunk(`{"content":`+quote(text)+`,"role":"assistant"}`, "", i+1, len(d)))
		}
		e.send(chunk(`{"content":"","role":"assistant"}`, "stop", len(d), len(d)))
	}
	e.send("[DONE]")
}

// streamMiniMax writes MiniMax's stream: its extra members on every
// chunk, a usage-only chunk with base_resp last, and no [DONE].
func (s *Server) streamMiniMax(e *sseWriter, t turn) {
	head := fmt.Sprintf(`"created":%d,"model":%s,"object":"chat.completion.chunk"`, created, quote(t.model))
	chunk := func(choice string) string {
		return `{"id":"mockminimaxstream","choices":[` + choice + `],` + head + `,"usage":null,` + minimaxExtras + `}`
	}
	delta := func(extra string) string {
		return `{"role":"assistant","name":"MiniMax AI","audio_content":""` + extra + `}`
	}
	finish := "stop"
	if t.tool != "" {
		e.send(chunk(`{"index":0,"delta":` + delta(`,"content":"","tool_calls":[{"id":"call_function_mock_1","type":"function","function":{"name":`+quote(t.tool)+`,"arguments":""},"index":0}]`) + `}`))
		for _, a := range argFragments {
			e.send(chunk(`{"index":0,"delta":` + delta(`,"tool_calls":[{"function":{"arguments":`+quote(a)+`},"index":0}]`) + `}`))
		}
		finish = "tool_calls"
	} else {
		e.send(chunk(`{"index":0,"delta":` + delta(`,"reasoning_content":"The user says hello."`) + `}`))
		for _, d := range s.textDeltas() {
			e.send(chunk(`{"index":0,"delta":` + delta(`,"content":`+quote(d)) + `}`))
		}
	}
	e.send(chunk(`{"finish_reason":"` + finish + `","index":0,"delta":` + delta(`,"content":""`) + `}`))
	e.send(`{"id":"mockminimaxstream","choices":[],` + head + `,"usage":` + s.wireUsage(s.usageFor(t)) + `,"base_resp":{"status_code":0,"status_msg":""}}`)
}

// streamSpark writes Spark's stream: `data:` without a space, its code,
// message and sid on every chunk, no finish_reason, usage on the last
// chunk, the tool call as one object.
func (s *Server) streamSpark(e *sseWriter, t turn) {
	chunk := func(delta, extra string) string {
		return `{"code":0,"message":"Success","sid":"` + sparkID + `","id":"` + sparkID + `","created":` + fmt.Sprint(created) + `,"choices":[{"delta":` + delta + `,"index":0}]` + extra + `}`
	}
	if t.tool != "" {
		e.send(chunk(`{"role":"assistant","content":"","tool_calls":{"type":"function","function":{"arguments":`+quote(toolArguments)+`,"name":`+quote(t.tool)+`}}}`, ""))
	} else {
		for _, d := range s.textDeltas() {
			e.send(chunk(`{"role":"assistant","content":`+quote(d)+`}`, ""))
		}
	}
	e.send(chunk(`{"role":"assistant","content":""}`, `,"usage":`+s.wireUsage(s.usageFor(t))))
	e.send("[DONE]")
}

// ---- other surfaces ----

func (s *Server) completions(w http.ResponseWriter, body []byte) {
	var req struct {
		Model  string `json:"model"`
		Prompt any    `json:"prompt"`
		Stream bool   `json:"stream"`
	}
	if json.Unmarshal(body, &req) != nil || req.Model == "" || req.Prompt == nil {
		s.badRequest(w, "model and prompt are required")
		return
	}
	u := s.wireUsage(s.TextUsage())
	if !req.Stream {
		writeRaw(w, http.StatusOK, fmt.Sprintf(`{"id":"cmpl-mock01","object":"text_completion","created":%d,"model":%s,"choices":[{"text":%s,"index":0,"logprobs":null,"finish_reason":"stop"}],"usage":%s}`,
			created, quote(req.Model), quote(s.Text()), u))
		return
	}
	e := s.newSSE(w)
	head := fmt.Sprintf(`"id":"cmpl-mock01","object":"text_completion","created":%d,"model":%s`, created, quote(req.Model))
	for _, d := range s.textDeltas() {
		e.send(`{` + head + `,"choices":[{"text":` + quote(d) + `,"index":0,"logprobs":null,"finish_reason":null}]}`)
	}
	e.send(`{` + head + `,"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"stop"}]}`)
	e.send(`{` + head + `,"choices":[],"usage":` + u + `}`)
	e.send("[DONE]")
}

func (s *Server) embeddings(w http.ResponseWriter, body []byte) {
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if json.Unmarshal(body, &req) != nil || req.Model == "" || len(req.Input) == 0 {
		s.badRequest(w, "'input' is a required property")
		return
	}
	n := 1
	var list []json.RawMessage
	if json.Unmarshal(req.Input, &list) == nil {
		n = len(list)
	}
	data := make([]string, n)
	for i := range data {
		data[i] = fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":[-0.0128,0.0074,-0.0176,0.0283]}`, i)
	}
	u := s.EmbeddingUsage(n)
	writeRaw(w, http.StatusOK, fmt.Sprintf(`{"object":"list","data":[%s],"model":%s,"usage":{"prompt_tokens":%d,"total_tokens":%d}}`,
		strings.Join(data, ","), quote(req.Model), u.PromptTokens, u.TotalTokens))
}

func (s *Server) rerank(w http.ResponseWriter, body []byte) {
	var req struct {
		Model     string            `json:"model"`
		Query     string            `json:"query"`
		Documents []json.RawMessage `json:"documents"`
	}
	if json.Unmarshal(body, &req) != nil || req.Model == "" || req.Query == "" || len(req.Documents) == 0 {
		s.badRequest(w, "model, query and documents are required")
		return
	}
	results := make([]string, len(req.Documents))
	for i := range results {
		results[i] = fmt.Sprintf(`{"index":%d,"relevance_score":%.2f}`, i, 0.9-float64(i)/10)
	}
	n := s.RerankUsage().PromptTokens
	if s.Vendor.Type == openaicompat.TypeSiliconFlow {
		// SiliconFlow answers in Cohere's shape, tokens in meta.
		writeRaw(w, http.StatusOK, fmt.Sprintf(`{"id":"rerank-mock01","results":[%s],"meta":{"billed_units":{"input_tokens":%d,"output_tokens":0,"search_units":0,"classifications":0},"tokens":{"input_tokens":%d,"output_tokens":0}}}`,
			strings.Join(results, ","), n, n))
		return
	}
	writeRaw(w, http.StatusOK, fmt.Sprintf(`{"model":%s,"results":[%s],"usage":{"prompt_tokens":%d,"total_tokens":%d}}`,
		quote(req.Model), strings.Join(results, ","), n, n))
}

func (s *Server) images(w http.ResponseWriter, body []byte) {
	var req struct {
		Model  string `json:"model"`
		Prompt string `json:"prompt"`
	}
	if json.Unmarshal(body, &req) != nil || req.Model == "" || req.Prompt == "" {
		s.badRequest(w, "model and prompt are required")
		return
	}
	writeRaw(w, http.StatusOK, fmt.Sprintf(`{"created":%d,"data":[{"url":"https://images.invalid/mock-0.png"}]}`, created))
}

func (s *Server) models(w http.ResponseWriter) {
	entries := make([]map[string]any, 0, len(s.ModelList()))
	for _, m := range s.ModelList() {
		entries = append(entries, map[string]any{"id": m, "object": "model", "created": created, "owned_by": s.Vendor.Config.Name})
	}
	if s.Vendor.Type == openaicompat.TypeTogether {
		writeJSON(w, http.StatusOK, entries) // Together answers the bare array
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": entries})
}

// balance answers the vendor's balance endpoints; false when path is none
// of them.
func (s *Server) balance(w http.ResponseWriter, path string) bool {
	var body string
	switch {
	case s.Vendor.Type == openaicompat.TypeCustom && path == "/v1/dashboard/billing/subscription":
		body = `{"object":"billing_subscription","has_payment_method":true,"soft_limit_usd":100,"hard_limit_usd":120,"system_hard_limit_usd":120,"access_until":1893456000}`
	case s.Vendor.Type == openaicompat.TypeCustom && path == "/v1/dashboard/billing/usage":
		body = `{"object":"list","daily_costs":[],"total_usage":1234.5}`
	case s.Vendor.Type == openaicompat.TypeOpenRouter && path == "/v1/credits":
		body = `{"data":{"total_credits":100.5,"total_usage":25.75}}`
	case s.Vendor.Type == openaicompat.TypeMoonshot && path == "/v1/users/me/balance":
		body = `{"code":0,"data":{"available_balance":49.58894,"voucher_balance":46.58893,"cash_balance":3.00001},"scode":"0x0","status":true}`
	case s.Vendor.Type == openaicompat.TypeStepFun && path == "/v1/accounts":
		body = `{"object":"account","type":"prepaid","balance":120.36,"total_cash_balance":100,"total_voucher_balance":20.36}`
	case s.Vendor.Type == openaicompat.TypeDeepSeek && path == "/user/balance":
		body = `{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}`
	case s.Vendor.Type == openaicompat.TypeSiliconFlow && path == "/v1/user/info":
		body = `{"code":20000,"message":"OK","status":true,"data":{"id":"userid","name":"username","image":"","email":"user@example.com","isAdmin":false,"balance":"0.88","status":"normal","introduction":"","role":"","chargeBalance":"88.00","totalBalance":"88.88"}}`
	default:
		return false
	}
	writeRaw(w, http.StatusOK, body)
	return true
}
