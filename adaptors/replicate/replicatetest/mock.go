// Package replicatetest is a mock Replicate server for tests: it speaks
// the predictions API (create on the models or the predictions endpoint,
// sync mode with `Prefer: wait`, polling, the stream URL's server-sent
// events, problem-JSON errors) the way the real one does, so that the
// adaptor and the gateway can be tested end to end without a model.
//
// Every URL the mock puts in a prediction points at the mock itself. It
// is imported by tests only.
package replicatetest

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

// The mock's answers.
const (
	// Text is the output of every prediction.
	Text = "Hello from the Replicate mock!"
	// Version is the version id the mock reports for every model.
	Version = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
	// PollsToFinish is how many polls an asynchronous (non-sync, non-stream)
	// prediction takes to succeed: "processing" at the first, "succeeded"
	// at the second.
	PollsToFinish = 2
)

// textChunks is Text as the model emits it, token by token.
func textChunks() []string { return []string{"Hello", " from", " the", " Replicate", " mock!"} }

// Token counts in every succeeded prediction's metrics.
const inputTokens, outputTokens = 26, 9

// Server is a mock Replicate upstream that checks auth and the request
// like the real one.
type Server struct {
	URL string // base URL to put in the channel's base_url
	Key string // the API token the server accepts

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
	seq        int
	preds      map[string]*prediction
}

// prediction is the mock's record of one prediction.
type prediction struct {
	id      string
	model   string
	input   json.RawMessage
	polls   int
	done    bool
	created string
}

// NewServer starts a mock on 127.0.0.1 that accepts the token key,
// closed by t.Cleanup.
func NewServer(t testing.TB, key string) *Server {
	s := &Server{Key: key, preds: map[string]*prediction{}}
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
	return s.lastPath, s.lastHeader.Clone(), bytes.Clone(s.lastBody)
}

// TextUsage is the usage of every answer in OpenAI terms: the token
// counts of the prediction's metrics (non-stream answers; the stream
// reports none, and the gateway estimates).
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: inputTokens, CompletionTokens: outputTokens, TotalTokens: inputTokens + outputTokens}
}

// ToolUsage is TextUsage: Replicate has no tool calling, so the mock
// never answers a tool call (the adaptor refuses requests with tools
// before they reach it). It exists so that gateway tests can treat every
// mock alike.
func (s *Server) ToolUsage() adaptors.Usage { return s.TextUsage() }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath, s.lastHeader, s.lastBody = r.URL.Path, r.Header.Clone(), body
	s.mu.Unlock()

	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		writeProblem(w, http.StatusUnauthorized, "Unauthenticated", "You did not pass an authentication token")
		return
	case auth != "Bearer "+s.Key:
		writeProblem(w, http.StatusUnauthorized, "Unauthenticated", "You did not pass a valid authentication token")
		return
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && path == "/v1/predictions":
		s.create(w, r, body, "")
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/v1/models/") && strings.HasSuffix(path, "/predictions"):
		model := strings.TrimSuffix(strings.TrimPrefix(path, "/v1/models/"), "/predictions")
		owner, name, ok := strings.Cut(model, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			writeNotFound(w)
			return
		}
		s.create(w, r, body, model)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/predictions/"):
		s.get(w, r, strings.TrimPrefix(path, "/v1/predictions/"))
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/files/"):
		s.stream(w, r, strings.TrimPrefix(path, "/v1/files/"))
	default:
		writeNotFound(w)
	}
}

// writeProblem writes Replicate's RFC 7807 error body.
func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	b, _ := json.Marshal(struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Status int    `json:"status"`
	}{title, detail, status})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeNotFound(w http.ResponseWriter) {
	writeProblem(w, http.StatusNotFound, "Not found", "The requested resource could not be found.")
}

// createBody is the create-prediction body as the API reads it.
type createBody struct {
	Version *string         `json:"version"`
	Input   json.RawMessage `json:"input"`
	Stream  *bool           `json:"stream"`
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, body []byte, model string) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeProblem(w, http.StatusUnsupportedMediaType, "Unsupported media type", "Requests must have a Content-Type of application/json.")
		return
	}
	var req createBody
	if err := json.Unmarshal(body, &req); err != nil {
		writeProblem(w, http.StatusBadRequest, "Invalid JSON", err.Error())
		return
	}
	if model == "" {
		// POST /v1/predictions runs a version: "<id>" or "owner/name:<id>".
		v := ""
		if req.Version != nil {
			v = *req.Version
		}
		if i := strings.LastIndexByte(v, ':'); i >= 0 {
			model, v = v[:i], v[i+1:]
		} else {
			model = "community/model"
		}
		if v != Version {
			writeProblem(w, http.StatusUnprocessableEntity, "Invalid version or not permitted",
				"The specified version does not exist (or perhaps you don't have permission to use it?)")
			return
		}
	}
	var in map[string]json.RawMessage
	if len(req.Input) == 0 || json.Unmarshal(req.Input, &in) != nil || in == nil {
		writeProblem(w, http.StatusUnprocessableEntity, "Input validation failed", "- input: Invalid type. Expected: object\n")
		return
	}
	if p, ok := in["prompt"]; !ok || len(p) == 0 || p[0] != '"' {
		writeProblem(w, http.StatusUnprocessableEntity, "Input validation failed", "- input: prompt is required\n")
		return
	}
	s.mu.Lock()
	s.seq++
	p := &prediction{
		id:      fmt.Sprintf("rmock%021d", s.seq),
		model:   model,
		input:   req.Input,
		created: "2024-07-23T15:04:21.227000Z",
	}
	s.preds[p.id] = p
	// Sync mode (Prefer: wait or wait=N): the model answers well within
	// the wait, so the prediction comes back finished.
	syncMode := strings.HasPrefix(r.Header.Get("Prefer"), "wait") && (req.Stream == nil || !*req.Stream)
	if syncMode {
		p.done = true
	}
	out := s.render(p, r)
	s.mu.Unlock()
	w.Header().Set("Location", s.baseURL(r)+"/v1/predictions/"+p.id)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	p := s.preds[id]
	if p == nil {
		s.mu.Unlock()
		writeNotFound(w)
		return
	}
	p.polls++
	if p.polls >= PollsToFinish {
		p.done = true
	}
	out := s.render(p, r)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// baseURL is the mock's own origin as the client reached it.
func (s *Server) baseURL(r *http.Request) string { return "http://" + r.Host }

// predictionJSON is a prediction object in the field order of Replicate's
// documented example.
type predictionJSON struct {
	ID          string            `json:"id"`
	Model       string            `json:"model"`
	Version     string            `json:"version"`
	Input       json.RawMessage   `json:"input"`
	Logs        string            `json:"logs"`
	Output      []string          `json:"output"`
	DataRemoved bool              `json:"data_removed"`
	Error       *string           `json:"error"`
	Status      string            `json:"status"`
	CreatedAt   string            `json:"created_at"`
	StartedAt   *string           `json:"started_at,omitempty"`
	CompletedAt *string           `json:"completed_at,omitempty"`
	URLs        map[string]string `json:"urls"`
	Metrics     *metrics          `json:"metrics,omitempty"`
}

type metrics struct {
	InputTokenCount  int     `json:"input_token_count"`
	OutputTokenCount int     `json:"output_token_count"`
	PredictTime      float64 `json:"predict_time"`
	TimeToFirstToken float64 `json:"time_to_first_token"`
	TokensPerSecond  float64 `json:"tokens_per_second"`
	TotalTime        float64 `json:"total_time"`
}

// render builds p's current state. Called with s.mu held.
func (s *Server) render(p *prediction, r *http.Request) []byte {
	base := s.baseURL(r)
	out := predictionJSON{
		ID: p.id, Model: p.model, Version: Version, Input: p.input, CreatedAt: p.created,
		URLs: map[string]string{
			"cancel": base + "/v1/predictions/" + p.id + "/cancel",
			"get":    base + "/v1/predictions/" + p.id,
			"stream": base + "/v1/files/bcwr-" + p.id,
			"web":    "https://replicate.com/p/" + p.id,
		},
	}
	started := "2024-07-23T15:04:21.240000Z"
	switch {
	case p.done:
		completed := "2024-07-23T15:04:24.090090Z"
		out.Status, out.StartedAt, out.CompletedAt = "succeeded", &started, &completed
		out.Output = textChunks()
		out.Logs = "INFO 07-23 15:04:21 async_llm_engine.py:173] Added request " + p.id + ".\n"
		out.Metrics = &metrics{InputTokenCount: inputTokens, OutputTokenCount: outputTokens,
			PredictTime: 2.850090, TimeToFirstToken: 0.2104, TokensPerSecond: 31.6, TotalTime: 2.86309}
	case p.polls > 0:
		out.Status, out.StartedAt = "processing", &started
		out.Output = textChunks()[:2] // the tokens so far
	default:
		out.Status = "starting"
	}
	b, _ := json.Marshal(out)
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// stream serves a prediction's stream URL: one `output` event per token,
// then `done`, each with an id as Replicate sends them.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, name string) {
	id := strings.TrimPrefix(name, "bcwr-")
	s.mu.Lock()
	p := s.preds[id]
	if p != nil {
		p.done = true
	}
	s.mu.Unlock()
	if p == nil || id == name {
		writeNotFound(w)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	n := 0
	for _, tok := range textChunks() {
		fmt.Fprintf(w, "event: output\nid: 1721747061:%d\ndata: %s\n\n", n, tok)
		n++
		if f != nil {
			f.Flush()
		}
	}
	fmt.Fprintf(w, "event: done\nid: 1721747061:%d\ndata: {}\n\n", n)
}
