// Package geminitest is a mock Gemini API (generativelanguage.googleapis.com)
// for tests: an httptest server on 127.0.0.1 that authenticates like the
// real API (x-goog-api-key or ?key=), validates requests the way the REST
// API does (proto JSON field names, one data member per part, roles,
// function call/response pairing, base64 bytes fields) and answers
// generateContent, streamGenerateContent (alt=sse, or Google's JSON array
// without it), batchEmbedContents and the model list with Google's own
// shapes and error bodies. It holds per-server state only and is safe for
// concurrent use.
package geminitest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"switchyard/adaptors"
)

// Text is the answer to every request that does not get a tool call.
const Text = "Hello from the Gemini mock!"

// Thought is the thought summary sent before Text when the request asks
// for thoughts (thinkingConfig.includeThoughts).
const Thought = "The user greets me, so I greet them back."

// Signature is the thought signature the mock puts on its function calls
// (base64, as the real API sends it).
const Signature = "bW9jay10aG91Z2h0LXNpZ25hdHVyZQ=="

// DefaultDimensions is the embedding size when a request sets no
// outputDimensionality (the real gemini-embedding-001 uses 3072; the mock
// keeps fixtures short).
const DefaultDimensions = 8

// Server is a mock Gemini upstream that checks auth and the request like
// the real one.
type Server struct {
	URL string // base URL to put in the channel's base_url
	Key string // the API key it accepts

	responses atomic.Int64 // responseId counter

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// NewServer starts a mock on 127.0.0.1 that accepts key; it is closed by
// t.Cleanup.
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

// LastRequest returns the path (with its query), headers and body of the
// last request.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), bytes.Clone(s.lastBody)
}

// The usage the mock reports, in Gemini's terms.
var (
	textUsage = usageMetadata{PromptTokenCount: 12, CandidatesTokenCount: 6, TotalTokenCount: 27, CachedContentTokenCount: 4, ThoughtsTokenCount: 9}
	toolUsage = usageMetadata{PromptTokenCount: 40, CandidatesTokenCount: 7, TotalTokenCount: 58, CachedContentTokenCount: 8, ThoughtsTokenCount: 11}
)

// TextUsage is the usage of every text answer in OpenAI terms: prompt
// tokens include the cached ones, completion tokens the thoughts.
func (s *Server) TextUsage() adaptors.Usage { return textUsage.openai() }

// ToolUsage is the usage of every tool-call answer in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage { return toolUsage.openai() }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath, s.lastHeader, s.lastBody = r.URL.RequestURI(), r.Header.Clone(), body
	s.mu.Unlock()

	key := r.Header.Get("x-goog-api-key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	switch {
	case key == "":
		writeError(w, http.StatusForbidden, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", nil)
		return
	case key != s.Key:
		writeError(w, http.StatusBadRequest, "API key not valid. Please pass a valid API key.", []any{
			map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
				"metadata": map[string]string{"service": "generativelanguage.googleapis.com"}},
			map[string]any{"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": "API key not valid. Please pass a valid API key."},
		})
		return
	}

	version, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if version != "v1" && version != "v1beta" && version != "v1alpha" {
		writeError(w, http.StatusNotFound, "Requested entity was not found.", nil)
		return
	}
	if rest == "models" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, modelList())
		return
	}
	model, method, ok := strings.Cut(strings.TrimPrefix(rest, "models/"), ":")
	if !ok || !strings.HasPrefix(rest, "models/") || model == "" || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "Requested entity was not found.", nil)
		return
	}
	embedding := strings.Contains(model, "embedding")
	switch {
	case method == "batchEmbedContents" && embedding:
		s.embed(w, model, body)
	case (method == "generateContent" || method == "streamGenerateContent") && !embedding:
		s.generate(w, r, model, method == "streamGenerateContent", body)
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("models/%s is not found for API version %s, or is not supported for %s. Call ListModels to see the list of available models and their supported methods.", model, version, method), nil)
	}
}

// writeError answers Google's error body: {"error":{code,message,status,details}}.
func writeError(w http.ResponseWriter, code int, message string, details []any) {
	e := map[string]any{"code": code, "message": message, "status": statusName(code)}
	if details != nil {
		e["details"] = details
	}
	writeJSON(w, code, map[string]any{"error": e})
}

// invalid answers a 400 the way the API reports a bad request body.
func invalid(w http.ResponseWriter, message string) {
	writeError(w, http.StatusBadRequest, message, []any{map[string]any{
		"@type":           "type.googleapis.com/google.rpc.BadRequest",
		"fieldViolations": []any{map[string]string{"description": message}},
	}})
}

func statusName(code int) string {
	switch code {
	case 400:
		return "INVALID_ARGUMENT"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 429:
		return "RESOURCE_EXHAUSTED"
	}
	return "INTERNAL"
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// decodeStrict decodes a request body as the API's proto JSON parser
// does: unknown members are errors, reported with Google's wording.
func decodeStrict(body []byte, v any) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return "Invalid JSON payload received. Unknown name " + name + ": Cannot find field."
		}
		return "Invalid JSON payload received. " + msg
	}
	if dec.More() {
		return "Invalid JSON payload received. Unexpected token."
	}
	return ""
}

// validBytes reports whether s decodes as a proto JSON bytes field
// (standard or URL-safe base64, padded or not).
func validBytes(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if _, err := enc.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}

type batchEmbedRequest struct {
	Requests []struct {
		Model   string `json:"model"`
		Content struct {
			Role  string `json:"role"`
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"content"`
		TaskType             string `json:"taskType"`
		Title                string `json:"title"`
		OutputDimensionality *int   `json:"outputDimensionality"`
	} `json:"requests"`
}

// embed answers batchEmbedContents with deterministic unit vectors.
func (s *Server) embed(w http.ResponseWriter, model string, body []byte) {
	var req batchEmbedRequest
	if msg := decodeStrict(body, &req); msg != "" {
		invalid(w, msg)
		return
	}
	if len(req.Requests) == 0 {
		invalid(w, "* BatchEmbedContentsRequest.requests: requests is not specified\n")
		return
	}
	type embedding struct {
		Values []float32 `json:"values"`
	}
	out := struct {
		Embeddings []embedding `json:"embeddings"`
	}{}
	for i, r := range req.Requests {
		if r.Model != "models/"+model {
			invalid(w, fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].model: the model must match the model of the batch (models/%s)\n", i, model))
			return
		}
		if len(r.Content.Parts) == 0 {
			invalid(w, fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].content.parts: contents.parts must not be empty.\n", i))
			return
		}
		dims := DefaultDimensions
		if r.OutputDimensionality != nil {
			dims = *r.OutputDimensionality
		}
		if dims < 1 || dims > 3072 {
			invalid(w, fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].output_dimensionality: must be between 1 and 3072\n", i))
			return
		}
		var text strings.Builder
		for _, p := range r.Content.Parts {
			text.WriteString(p.Text)
		}
		out.Embeddings = append(out.Embeddings, embedding{Values: Vector(text.String(), dims)})
	}
	writeJSON(w, http.StatusOK, out)
}

// Vector is the embedding the mock returns for text: deterministic, of
// length dims and unit norm.
func Vector(text string, dims int) []float32 {
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		h := fnv.New64a()
		_, _ = h.Write([]byte(text))
		_ = binary.Write(h, binary.LittleEndian, int64(i))
		x := float64(int64(h.Sum64()>>11))/float64(1<<52) - 1 // in [-1, 1)
		v[i] = float32(x)
		norm += x * x
	}
	if norm > 0 {
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(norm))
		}
	}
	return v
}

// modelList is a page of ListModelsResponse.
func modelList() any {
	type model struct {
		Name                       string   `json:"name"`
		Version                    string   `json:"version"`
		DisplayName                string   `json:"displayName"`
		InputTokenLimit            int      `json:"inputTokenLimit"`
		OutputTokenLimit           int      `json:"outputTokenLimit"`
		SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
	}
	gen := []string{"generateContent", "countTokens", "createCachedContent", "batchGenerateContent"}
	return map[string]any{"models": []model{
		{"models/gemini-2.5-flash", "001", "Gemini 2.5 Flash", 1048576, 65536, gen},
		{"models/gemini-2.5-pro", "2.5", "Gemini 2.5 Pro", 1048576, 65536, gen},
		{"models/gemini-embedding-001", "001", "Gemini Embedding 001", 2048, 1, []string{"embedContent", "countTextTokens", "countTokens"}},
	}}
}
