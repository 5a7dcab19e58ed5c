// Package azuretest is a mock Azure OpenAI upstream for tests: an
// httptest server on 127.0.0.1 that checks the api-key header, the
// api-version and the deployment like the real service, and answers chat
// completions (with Azure's content-filter annotations and stream
// preamble) and embeddings. It is used by tests only.
package azuretest

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

// Server is a mock Azure OpenAI resource that checks auth and the request
// like the real one. Safe for concurrent use.
type Server struct {
	// URL is the resource endpoint to put in the channel's base_url.
	URL string
	// Key is the api-key the resource accepts.
	Key string
	// Deployments are the deployment names the resource has.
	Deployments []string

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// DefaultDeployments are the deployments NewServer creates when given
// none: the dot-free names the adaptor derives for common models.
func DefaultDeployments() []string {
	return []string{"gpt-4o", "gpt-4o-mini", "gpt-41", "gpt-35-turbo", "text-embedding-3-small"}
}

// Answer text and model, as the real service reports the underlying model.
const (
	text  = "Hello from the Azure OpenAI mock!"
	model = "gpt-4o-2024-08-06"
)

// textDeltas is text split in several stream deltas.
var textDeltas = []string{"Hello", " from", " the", " Azure", " OpenAI", " mock!"}

// argFragments is the tool call's arguments split in several fragments.
var argFragments = []string{`{"`, `location`, `":"`, `Paris`, `"}`}

// NewServer starts a mock resource accepting key, with the given
// deployments (DefaultDeployments when none). It is closed by t.Cleanup.
func NewServer(t testing.TB, key string, deployments ...string) *Server {
	if len(deployments) == 0 {
		deployments = DefaultDeployments()
	}
	s := &Server{Key: key, Deployments: deployments}
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

// TextUsage is the usage of every text answer, in OpenAI terms: 25 prompt
// tokens of which 10 were cached, 14 completion tokens of which 4 were
// reasoning.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: 25, CompletionTokens: 14, TotalTokens: 39, CachedTokens: 10, ReasoningTokens: 4}
}

// ToolUsage is the usage of every tool-call answer.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: 64, CompletionTokens: 18, TotalTokens: 82, CachedTokens: 32}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	s.lastBody = body
	s.mu.Unlock()

	if r.Header.Get("api-key") != s.Key {
		writeError(w, http.StatusUnauthorized, `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}`)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	version := r.URL.Query().Get("api-version")
	var deployment, op string
	if rest, ok := strings.CutPrefix(r.URL.Path, "/openai/v1/"); ok {
		// The v1 API: no dated version, the deployment is the body's model.
		if version != "" && version != "preview" {
			writeError(w, http.StatusBadRequest, `{"error":{"code":"BadRequest","message":"API version not supported"}}`)
			return
		}
		var m struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(body, &m)
		deployment, op, version = m.Model, rest, "v1"
	} else if rest, ok := strings.CutPrefix(r.URL.Path, "/openai/deployments/"); ok && version != "" {
		deployment, op, _ = strings.Cut(rest, "/")
	} else {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	if !slices.Contains(s.Deployments, deployment) {
		writeError(w, http.StatusNotFound, `{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}`)
		return
	}
	switch op {
	case "chat/completions":
		s.chat(w, version, body)
	case "embeddings":
		s.embeddings(w, body)
	default:
		writeError(w, http.StatusNotFound, notFound)
	}
}

const notFound = `{"error":{"code":"404","message":"Resource not found"}}`

// chatRequest is the part of a chat request the mock validates.
type chatRequest struct {
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

func (s *Server) chat(w http.ResponseWriter, version string, body []byte) {
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		badRequest(w, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", nil)
		return
	}
	if len(req.Messages) == 0 {
		badRequest(w, "[] is too short - 'messages'", "messages")
		return
	}
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			badRequest(w, fmt.Sprintf("'%s' is not one of ['system', 'assistant', 'user', 'tool', 'function', 'developer'] - 'messages.%d.role'", m.Role, i), fmt.Sprintf("messages.%d.role", i))
			return
		}
	}
	var includeUsage bool
	if req.StreamOptions != nil {
		// Versions before 2024-09-01 do not know the field.
		if version != "v1" && version[:min(10, len(version))] < "2024-09-01" {
			badRequest(w, "Unrecognized request argument supplied: stream_options", nil)
			return
		}
		var so struct {
			IncludeUsage bool `json:"include_usage"`
		}
		_ = json.Unmarshal(*req.StreamOptions, &so)
		includeUsage = so.IncludeUsage
	}
	tool := ""
	if len(req.Tools) > 0 && req.Messages[len(req.Messages)-1].Role == "user" {
		tool = req.Tools[0].Function.Name
	}
	if req.Stream {
		s.stream(w, tool, includeUsage)
		return
	}
	var message, finish string
	usage := s.TextUsage()
	if tool != "" {
		message = `{"content":null,"refusal":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"location\":\"Paris\"}","name":` + quote(tool) + `},"id":"call_mockAzure0001","type":"function"}]}`
		finish = "tool_calls"
		usage = s.ToolUsage()
	} else {
		message = `{"content":` + quote(text) + `,"refusal":null,"role":"assistant"}`
		finish = "stop"
	}
	writeJSON(w, `{"choices":[{"content_filter_results":`+filterResults+`,"finish_reason":"`+finish+`","index":0,"logprobs":null,"message":`+message+`}],"created":1733486445,"id":"chatcmpl-mockAzure0001","model":"`+model+`","object":"chat.completion","prompt_filter_results":`+promptFilter+`,"system_fingerprint":"fp_04751d0b65","usage":`+usageJSON(usage)+`}`)
}

// Azure's content-filter annotations.
const (
	filterResults = `{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}`
	promptFilter  = `[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]`
	chunkTail     = `"created":1733486701,"id":"chatcmpl-mockAzure0002","model":"` + model + `","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65"`
)

// stream writes Azure's stream: the prompt-filter preamble (no choices),
// the role chunk, the deltas, the finish chunk, the usage chunk when it
// was asked for, and [DONE].
func (s *Server) stream(w http.ResponseWriter, tool string, includeUsage bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	send := func(payload string) {
		fmt.Fprintf(w, "data: %s\n\n", payload)
		if f != nil {
			f.Flush()
		}
	}
	choice := func(filter, delta, finish string) string {
		return `{"choices":[{"content_filter_results":` + filter + `,"delta":` + delta + `,"finish_reason":` + finish + `,"index":0,"logprobs":null}],` + chunkTail + `,"usage":null}`
	}
	send(`{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":` + promptFilter + `}`)
	usage := s.TextUsage()
	if tool != "" {
		usage = s.ToolUsage()
		send(choice(`{}`, `{"content":null,"refusal":null,"role":"assistant","tool_calls":[{"function":{"arguments":"","name":`+quote(tool)+`},"id":"call_mockAzure0002","index":0,"type":"function"}]}`, "null"))
		for _, a := range argFragments {
			send(choice(`{}`, `{"tool_calls":[{"function":{"arguments":`+quote(a)+`},"index":0}]}`, "null"))
		}
		send(choice(`{}`, `{}`, `"tool_calls"`))
	} else {
		send(choice(`{}`, `{"content":"","refusal":null,"role":"assistant"}`, "null"))
		for _, d := range textDeltas {
			send(choice(filterResults, `{"content":`+quote(d)+`}`, "null"))
		}
		send(choice(`{}`, `{}`, `"stop"`))
	}
	if includeUsage {
		send(`{"choices":[],` + chunkTail + `,"usage":` + usageJSON(usage) + `}`)
	}
	send("[DONE]")
}

func (s *Server) embeddings(w http.ResponseWriter, body []byte) {
	var req struct {
		Input json.RawMessage `json:"input"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Input) == 0 {
		badRequest(w, "'input' is a required property", "input")
		return
	}
	n := 1
	var list []json.RawMessage
	if json.Unmarshal(req.Input, &list) == nil {
		n = len(list)
	}
	var data []string
	for i := range n {
		data = append(data, fmt.Sprintf(`{"embedding":[-0.012838088,-0.007421397,-0.017617522,-0.028278312],"index":%d,"object":"embedding"}`, i))
	}
	writeJSON(w, fmt.Sprintf(`{"data":[%s],"model":"text-embedding-3-small","object":"list","usage":{"prompt_tokens":%d,"total_tokens":%d}}`, strings.Join(data, ","), 4*n, 4*n))
}

func usageJSON(u adaptors.Usage) string {
	return fmt.Sprintf(`{"completion_tokens":%d,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":%d,"rejected_prediction_tokens":0},"prompt_tokens":%d,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":%d},"total_tokens":%d}`,
		u.CompletionTokens, u.ReasoningTokens, u.PromptTokens, u.CachedTokens, u.TotalTokens)
}

// badRequest writes Azure's OpenAI-style validation error.
func badRequest(w http.ResponseWriter, message string, param any) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": message, "type": "invalid_request_error", "param": param, "code": nil}})
	writeError(w, http.StatusBadRequest, string(b))
}

func writeError(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
