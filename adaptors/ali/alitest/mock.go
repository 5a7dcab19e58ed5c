// Package alitest is a mock DashScope upstream for tests: an httptest
// server on 127.0.0.1 that checks the bearer key and validates requests as
// Model Studio documents them, then answers the native text and
// multimodal generation APIs (streamed with X-DashScope-SSE and
// incremental output, cumulative usage in every event), text embeddings,
// the asynchronous text-to-image task (PENDING, then RUNNING, then
// SUCCEEDED after PollsToFinish polls, with result URLs on the mock
// itself), and the OpenAI-compatible mode's chat and embeddings. It is
// imported by tests only and safe for concurrent use.
package alitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchyard/adaptors"
)

// Text is the answer to every request that does not get a tool call.
const Text = "Hello from the DashScope mock!"

// Thought is the reasoning_content every answer starts with: the mock is
// a thinking model.
const Thought = "The user greets me, so I greet them back."

// ToolArguments are the arguments of every tool call the mock makes.
const ToolArguments = `{"location":"Paris"}`

// PollsToFinish is how many polls an image task takes: the first answers
// RUNNING, the second SUCCEEDED.
const PollsToFinish = 2

// DefaultDimension is the embedding size when a request sets no
// dimension (DashScope's default is 1024; the mock keeps vectors short).
const DefaultDimension = 4

// embedTokensPerText is what the mock bills for each embedded text.
const embedTokensPerText = 4

// usage is a usage the mock reports, in DashScope's terms.
type usage struct {
	input, cached, output, reasoning int
}

var (
	textUsage = usage{input: 24, cached: 8, output: 12, reasoning: 5}
	toolUsage = usage{input: 96, cached: 32, output: 21, reasoning: 4}
)

func (u usage) openai() adaptors.Usage {
	return adaptors.Usage{PromptTokens: u.input, CompletionTokens: u.output, TotalTokens: u.input + u.output,
		CachedTokens: u.cached, ReasoningTokens: u.reasoning}
}

// native renders the usage as DashScope does, with output tokens counted
// so far (a stream's usage grows event by event).
func (u usage) native(output, reasoning int) map[string]any {
	m := map[string]any{
		"total_tokens":          u.input + output,
		"output_tokens":         output,
		"input_tokens":          u.input,
		"prompt_tokens_details": map[string]any{"cached_tokens": u.cached},
	}
	if reasoning > 0 {
		m["output_tokens_details"] = map[string]any{"reasoning_tokens": reasoning}
	}
	return m
}

// Server is a mock DashScope upstream that checks auth and the request
// like the real one.
type Server struct {
	URL string // base URL to put in the channel's base_url
	Key string // the API key it accepts

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
	tasks      map[string]*task
}

// task is an image task.
type task struct {
	n, polls int
	prompt   string
}

// NewServer starts a mock that accepts key; it is closed by t.Cleanup.
func NewServer(t testing.TB, key string) *Server {
	t.Helper()
	s := &Server{Key: key, tasks: map[string]*task{}}
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

// TextUsage is the usage of every text answer in OpenAI terms: prompt
// tokens include the cached ones, completion tokens the reasoning.
func (s *Server) TextUsage() adaptors.Usage { return textUsage.openai() }

// ToolUsage is the usage of every tool-call answer in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage { return toolUsage.openai() }

// EmbedUsage is the usage of an embeddings answer for n texts.
func (s *Server) EmbedUsage(n int) adaptors.Usage {
	return adaptors.Usage{PromptTokens: n * embedTokensPerText, TotalTokens: n * embedTokensPerText}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	n := s.requests
	s.lastPath, s.lastHeader, s.lastBody = r.URL.RequestURI(), r.Header.Clone(), body
	s.mu.Unlock()
	rid := fmt.Sprintf("7c1e2d3f-4a5b-4c6d-8e7f-%012d", n)

	if strings.HasPrefix(r.URL.Path, "/results/") && r.Method == http.MethodGet {
		// Result URLs are signed OSS URLs: no key.
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pngPixel)
		return
	}
	compat := strings.HasPrefix(r.URL.Path, "/compatible-mode/")
	auth := r.Header.Get("Authorization")
	switch {
	case compat && auth != "Bearer "+s.Key:
		writeCompatError(w, http.StatusUnauthorized, "Incorrect API key provided. ", "invalid_request_error", "invalid_api_key", rid)
		return
	case auth == "":
		writeError(w, http.StatusUnauthorized, "InvalidApiKey", "No API-key provided.", rid)
		return
	case auth != "Bearer "+s.Key:
		writeError(w, http.StatusUnauthorized, "InvalidApiKey", "Invalid API-key provided.", rid)
		return
	}
	post := r.Method == http.MethodPost
	switch p := r.URL.Path; {
	case post && p == "/api/v1/services/aigc/text-generation/generation":
		s.generate(w, r, body, false, rid)
	case post && p == "/api/v1/services/aigc/multimodal-generation/generation":
		s.generate(w, r, body, true, rid)
	case post && p == "/api/v1/services/embeddings/text-embedding/text-embedding":
		embed(w, body, rid)
	case post && p == "/api/v1/services/aigc/text2image/image-synthesis":
		s.createTask(w, r, body, rid)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/v1/tasks/"):
		s.pollTask(w, strings.TrimPrefix(p, "/api/v1/tasks/"), rid)
	case post && p == "/compatible-mode/v1/chat/completions":
		compatChat(w, body, rid)
	case post && p == "/compatible-mode/v1/embeddings":
		compatEmbed(w, body, rid)
	default:
		writeError(w, http.StatusBadRequest, "InvalidURL", "Invalid URL provided in your request.", rid)
	}
}

// writeError answers the native error body {"code","message","request_id"}.
func writeError(w http.ResponseWriter, status int, code, msg, rid string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "request_id": rid})
}

// writeCompatError answers the compatible mode's OpenAI error envelope.
func writeCompatError(w http.ResponseWriter, status int, msg, typ, code, rid string) {
	writeJSON(w, status, map[string]any{
		"error":      map[string]any{"message": msg, "type": typ, "param": nil, "code": code},
		"request_id": rid,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// invalid is a validation failure: 400 InvalidParameter with its reason.
type invalid string

func bad(format string, args ...any) error { return invalid(fmt.Sprintf(format, args...)) }

func (e invalid) Error() string { return string(e) }

// decodeStrict decodes a JSON object, refusing members the mock does not
// know (its way of catching OpenAI members sent to the native API).
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return bad("%v", err)
	}
	if d.More() {
		return bad("trailing data after the json body")
	}
	return nil
}

// generationRequest is the native generation body.
type generationRequest struct {
	Model *string `json:"model"`
	Input *struct {
		Messages []message `json:"messages"`
	} `json:"input"`
	Parameters *parameters `json:"parameters"`
}

type message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []toolCall      `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Name       string          `json:"name"`
	Partial    *bool           `json:"partial"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Index    *int   `json:"index"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// parameters are the documented generation parameters.
type parameters struct {
	ResultFormat      *string         `json:"result_format"`
	IncrementalOutput *bool           `json:"incremental_output"`
	EnableSearch      *bool           `json:"enable_search"`
	SearchOptions     json.RawMessage `json:"search_options"`
	MaxTokens         *int            `json:"max_tokens"`
	Temperature       *float64        `json:"temperature"`
	TopP              *float64        `json:"top_p"`
	TopK              *int            `json:"top_k"`
	Seed              *int64          `json:"seed"`
	Stop              json.RawMessage `json:"stop"`
	PresencePenalty   *float64        `json:"presence_penalty"`
	FrequencyPenalty  *float64        `json:"frequency_penalty"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	N                 *int            `json:"n"`
	Tools             []tool          `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
	ResponseFormat    *struct {
		Type       string          `json:"type"`
		JSONSchema json.RawMessage `json:"json_schema"`
	} `json:"response_format"`
	EnableThinking *bool `json:"enable_thinking"`
	ThinkingBudget *int  `json:"thinking_budget"`
}

type tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

func (s *Server) generate(w http.ResponseWriter, r *http.Request, body []byte, multimodal bool, rid string) {
	var req generationRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidParameter", err.Error(), rid)
		return
	}
	if req.Model == nil || *req.Model == "" {
		writeError(w, http.StatusBadRequest, "BadRequest.EmptyModel", `Required parameter "model" missing from request.`, rid)
		return
	}
	if req.Input == nil || len(req.Input.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "BadRequest.EmptyInput", "Required input parameter missing from request.", rid)
		return
	}
	if req.Parameters == nil {
		writeError(w, http.StatusBadRequest, "BadRequest.EmptyParameters", `Required parameter "parameters" missing from request.`, rid)
		return
	}
	stream := r.Header.Get("X-DashScope-SSE") == "enable"
	if err := validateGeneration(&req, multimodal, stream); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidParameter", err.Error(), rid)
		return
	}
	msgs := req.Input.Messages
	p := req.Parameters
	callTool := len(p.Tools) > 0 && msgs[len(msgs)-1].Role == "user" && string(p.ToolChoice) != `"none"`
	switch {
	case stream && callTool:
		streamTool(w, p.Tools[0].Function.Name, multimodal, rid)
	case stream:
		streamText(w, multimodal, rid)
	case callTool:
		writeJSON(w, http.StatusOK, map[string]any{
			"output": map[string]any{"choices": []any{map[string]any{
				"finish_reason": "tool_calls",
				"message": map[string]any{"role": "assistant", "content": content("", multimodal), "reasoning_content": Thought,
					"tool_calls": []any{toolCallOut(p.Tools[0].Function.Name, ToolArguments, true)}},
			}}},
			"usage":      toolUsage.native(toolUsage.output, toolUsage.reasoning),
			"request_id": rid,
		})
	default:
		writeJSON(w, http.StatusOK, map[string]any{
			"output": map[string]any{"choices": []any{map[string]any{
				"finish_reason": "stop",
				"message":       map[string]any{"role": "assistant", "content": content(Text, multimodal), "reasoning_content": Thought},
			}}},
			"usage":      textUsage.native(textUsage.output, textUsage.reasoning),
			"request_id": rid,
		})
	}
}

// content renders message content: a string, or [{"text": …}] on the
// multimodal API.
func content(text string, multimodal bool) any {
	if !multimodal {
		return text
	}
	if text == "" {
		return []any{}
	}
	return []any{map[string]any{"text": text}}
}

// toolCallOut is a (first) tool call fragment or a whole tool call.
func toolCallOut(name, args string, first bool) map[string]any {
	tc := map[string]any{"index": 0, "id": "", "type": "function", "function": map[string]any{"arguments": args}}
	if first {
		tc["id"] = "call_5d4e7a1c9b3f42e8a6c0d1"
		tc["function"].(map[string]any)["name"] = name
	}
	return tc
}

var (
	sizeRe  = regexp.MustCompile(`^[0-9]{3,4}\*[0-9]{3,4}$`)
	imageRe = regexp.MustCompile(`^(https?://\S+|data:image/[a-z+.-]+;base64,[A-Za-z0-9+/=]+)$`)
)

// validateGeneration checks the body as the API documents it.
func validateGeneration(req *generationRequest, multimodal, stream bool) error {
	p := req.Parameters
	if p.ResultFormat == nil || *p.ResultFormat != "message" {
		return bad(`parameters.result_format must be "message" for chat messages`)
	}
	if stream && (p.IncrementalOutput == nil || !*p.IncrementalOutput) {
		return bad("parameters.incremental_output must be true for this mock's streams")
	}
	if !stream && p.IncrementalOutput != nil && *p.IncrementalOutput {
		return bad("parameters.incremental_output is only for streams")
	}
	msgs := req.Input.Messages
	for i, m := range msgs {
		switch m.Role {
		case "system":
			if i != 0 {
				return bad("messages[%d]: the system message must be the first message", i)
			}
		case "user":
		case "assistant":
			for _, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" || !json.Valid([]byte(tc.Function.Arguments)) {
					return bad("messages[%d]: tool_calls need id, type function, a name and JSON arguments", i)
				}
			}
		case "tool":
			if m.ToolCallID == "" {
				return bad("messages[%d]: tool message without tool_call_id", i)
			}
			if i == 0 || (msgs[i-1].Role != "tool" && (msgs[i-1].Role != "assistant" || len(msgs[i-1].ToolCalls) == 0)) {
				return bad("messages[%d]: a tool message must follow an assistant message with tool_calls", i)
			}
		default:
			return bad("messages[%d]: role must be one of system, user, assistant, tool", i)
		}
		if err := validateContent(m.Content, multimodal, m.Role == "user"); err != nil {
			return bad("messages[%d].content: %v", i, err)
		}
	}
	if last := msgs[len(msgs)-1]; last.Role != "user" && last.Role != "tool" && (last.Partial == nil || !*last.Partial) {
		return bad("the last message must be a user or tool message")
	}
	if p.MaxTokens != nil && *p.MaxTokens < 1 {
		return bad("parameters.max_tokens must be at least 1")
	}
	if p.Temperature != nil && (*p.Temperature < 0 || *p.Temperature >= 2) {
		return bad("parameters.temperature must be in [0, 2)")
	}
	if p.TopP != nil && (*p.TopP <= 0 || *p.TopP > 1) {
		return bad("parameters.top_p must be in (0, 1]")
	}
	if p.N != nil && (*p.N < 1 || *p.N > 4) {
		return bad("parameters.n must be in [1, 4]")
	}
	if len(p.Stop) > 0 {
		var list []string
		var one string
		if json.Unmarshal(p.Stop, &list) != nil && json.Unmarshal(p.Stop, &one) != nil {
			return bad("parameters.stop must be a string or an array of strings")
		}
	}
	if f := p.ResponseFormat; f != nil && f.Type != "text" && f.Type != "json_object" && f.Type != "json_schema" {
		return bad("parameters.response_format.type %q is invalid", f.Type)
	}
	names := map[string]bool{}
	for i, t := range p.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return bad("parameters.tools[%d] must be a function with a name", i)
		}
		if len(t.Function.Parameters) > 0 && (t.Function.Parameters[0] != '{') {
			return bad("parameters.tools[%d].function.parameters must be an object", i)
		}
		names[t.Function.Name] = true
	}
	if c := p.ToolChoice; len(c) > 0 {
		var s string
		var named struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		switch {
		case json.Unmarshal(c, &s) == nil:
			if s != "auto" && s != "none" && s != "required" {
				return bad("parameters.tool_choice %q is invalid", s)
			}
		case json.Unmarshal(c, &named) == nil && named.Type == "function" && names[named.Function.Name]:
		default:
			return bad("parameters.tool_choice must be auto, none or a function among the tools")
		}
	}
	return nil
}

// validateContent checks a message's content: a string on the text API,
// an array of {"text"} or {"image"} items on the multimodal one (images
// in user messages only).
func validateContent(raw json.RawMessage, multimodal, images bool) error {
	if !multimodal {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return bad("must be a string on the text-generation API")
		}
		return nil
	}
	var items []map[string]string
	if json.Unmarshal(raw, &items) != nil {
		return bad("must be an array of {text} or {image} items on the multimodal API")
	}
	for _, it := range items {
		text, isText := it["text"]
		img, isImage := it["image"]
		switch {
		case len(it) != 1:
			return bad("each item holds exactly one of text, image")
		case isText:
			_ = text
		case isImage && images && imageRe.MatchString(img):
		case isImage:
			return bad("image must be an http(s) URL or a base64 data URL, in a user message")
		default:
			return bad("unknown content item")
		}
	}
	return nil
}

// sse writes one native event: id, event name, the status comment, data.
type sse struct {
	w  http.ResponseWriter
	id int
}

func newSSE(w http.ResponseWriter) *sse {
	w.Header().Set("Content-Type", "text/event-stream;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	return &sse{w: w}
}

func (e *sse) event(v any) {
	e.id++
	b, _ := json.Marshal(v)
	fmt.Fprintf(e.w, "id:%d\nevent:result\n:HTTP_STATUS/200\ndata:%s\n\n", e.id, b)
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
}

// streamText streams the thought and Text in several deltas, usage
// growing in every event, and a final event with finish_reason "stop".
func streamText(w http.ResponseWriter, multimodal bool, rid string) {
	e := newSSE(w)
	u := textUsage
	type step struct {
		reasoning, text string
		out, think      int
	}
	half := len(Thought) / 2
	steps := []step{
		{reasoning: Thought[:half], out: 3, think: 3},
		{reasoning: Thought[half:], out: 5, think: u.reasoning},
		{text: "Hello from", out: 7, think: u.reasoning},
		{text: " the DashScope", out: 10, think: u.reasoning},
		{text: " mock!", out: u.output, think: u.reasoning},
	}
	for _, s := range steps {
		msg := map[string]any{"content": content(s.text, multimodal), "role": "assistant"}
		if s.reasoning != "" {
			msg["reasoning_content"] = s.reasoning
		}
		e.event(map[string]any{
			"output":     map[string]any{"choices": []any{map[string]any{"message": msg, "finish_reason": "null"}}},
			"usage":      u.native(s.out, s.think),
			"request_id": rid,
		})
	}
	e.event(map[string]any{
		"output": map[string]any{"choices": []any{map[string]any{
			"message": map[string]any{"content": content("", multimodal), "role": "assistant"}, "finish_reason": "stop"}}},
		"usage":      u.native(u.output, u.reasoning),
		"request_id": rid,
	})
}

// streamTool streams a tool call of name: the thought, the first
// fragment (id, name, start of the arguments), the rest of the
// arguments, then finish_reason "tool_calls".
func streamTool(w http.ResponseWriter, name string, multimodal bool, rid string) {
	e := newSSE(w)
	u := toolUsage
	ev := func(msg map[string]any, finish string, out int) {
		e.event(map[string]any{
			"output":     map[string]any{"choices": []any{map[string]any{"message": msg, "finish_reason": finish}}},
			"usage":      u.native(out, u.reasoning),
			"request_id": rid,
		})
	}
	cut := strings.Index(ToolArguments, ":") + 1
	empty := content("", multimodal)
	ev(map[string]any{"content": empty, "reasoning_content": Thought, "role": "assistant"}, "null", u.reasoning)
	ev(map[string]any{"content": empty, "role": "assistant", "tool_calls": []any{toolCallOut(name, ToolArguments[:cut], true)}}, "null", u.reasoning+8)
	ev(map[string]any{"content": empty, "role": "assistant", "tool_calls": []any{toolCallOut(name, ToolArguments[cut:], false)}}, "null", u.output-1)
	ev(map[string]any{"content": empty, "role": "assistant"}, "tool_calls", u.output)
}

// embedRequest is the native text-embedding body.
type embedRequest struct {
	Model *string `json:"model"`
	Input *struct {
		Texts []string `json:"texts"`
	} `json:"input"`
	Parameters *struct {
		TextType   *string `json:"text_type"`
		Dimension  *int    `json:"dimension"`
		OutputType *string `json:"output_type"`
		Instruct   *string `json:"instruct"`
	} `json:"parameters"`
}

func embed(w http.ResponseWriter, body []byte, rid string) {
	var req embedRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidParameter", err.Error(), rid)
		return
	}
	if req.Model == nil || *req.Model == "" {
		writeError(w, http.StatusBadRequest, "BadRequest.EmptyModel", `Required parameter "model" missing from request.`, rid)
		return
	}
	if req.Input == nil || len(req.Input.Texts) == 0 {
		writeError(w, http.StatusBadRequest, "BadRequest.EmptyInput", "Required input parameter missing from request.", rid)
		return
	}
	if len(req.Input.Texts) > 10 {
		writeError(w, http.StatusBadRequest, "InvalidParameter", "batch size is invalid, it should not be larger than 10.", rid)
		return
	}
	dim := DefaultDimension
	if p := req.Parameters; p != nil {
		if p.TextType != nil && *p.TextType != "query" && *p.TextType != "document" {
			writeError(w, http.StatusBadRequest, "InvalidParameter", "text_type must be query or document", rid)
			return
		}
		if p.Dimension != nil {
			switch *p.Dimension {
			case 2048, 1536, 1024, 768, 512, 256, 128, 64:
				dim = *p.Dimension
			default:
				writeError(w, http.StatusBadRequest, "InvalidParameter", "dimension must be one of 2048, 1536, 1024, 768, 512, 256, 128, 64", rid)
				return
			}
		}
	}
	embs := make([]any, len(req.Input.Texts))
	for i, t := range req.Input.Texts {
		if strings.TrimSpace(t) == "" {
			writeError(w, http.StatusBadRequest, "InvalidParameter", "texts must not be empty strings", rid)
			return
		}
		embs[i] = map[string]any{"embedding": vector(t, dim), "text_index": i}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"output":     map[string]any{"embeddings": embs},
		"usage":      map[string]any{"total_tokens": embedTokensPerText * len(embs)},
		"request_id": rid,
	})
}

// vector is a deterministic embedding of text.
func vector(text string, dim int) []float64 {
	v := make([]float64, dim)
	for i := range v {
		v[i] = float64((len(text)*(i+3))%17-8) / 16
	}
	return v
}

// imageRequest is the text2image task body.
type imageRequest struct {
	Model *string `json:"model"`
	Input *struct {
		Prompt         string `json:"prompt"`
		NegativePrompt string `json:"negative_prompt"`
	} `json:"input"`
	Parameters *struct {
		Size *string `json:"size"`
		N    *int    `json:"n"`
		Seed *int    `json:"seed"`
	} `json:"parameters"`
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request, body []byte, rid string) {
	if r.Header.Get("X-DashScope-Async") != "enable" {
		writeError(w, http.StatusForbidden, "AccessDenied", "current user api does not support synchronous calls", rid)
		return
	}
	var req imageRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidParameter", err.Error(), rid)
		return
	}
	switch {
	case req.Model == nil || *req.Model == "":
		writeError(w, http.StatusBadRequest, "BadRequest.EmptyModel", `Required parameter "model" missing from request.`, rid)
		return
	case req.Input == nil || strings.TrimSpace(req.Input.Prompt) == "":
		writeError(w, http.StatusBadRequest, "InvalidParameter", "input.prompt is required", rid)
		return
	}
	n := 1
	if p := req.Parameters; p != nil {
		if p.Size != nil && !sizeRe.MatchString(*p.Size) {
			writeError(w, http.StatusBadRequest, "InvalidParameter", "The size is not match the allowed size ['1024*1024', '720*1280', '1280*720']", rid)
			return
		}
		if p.N != nil {
			if *p.N < 1 || *p.N > 4 {
				writeError(w, http.StatusBadRequest, "InvalidParameter", "n must be in [1, 4]", rid)
				return
			}
			n = *p.N
		}
	}
	s.mu.Lock()
	id := fmt.Sprintf("0385dc79-5ff8-4d82-bcb6-%012d", len(s.tasks)+1)
	s.tasks[id] = &task{n: n, prompt: req.Input.Prompt}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"output": map[string]any{"task_status": "PENDING", "task_id": id}, "request_id": rid})
}

func (s *Server) pollTask(w http.ResponseWriter, id, rid string) {
	s.mu.Lock()
	t := s.tasks[id]
	if t != nil {
		t.polls++
	}
	var polls, n int
	var prompt string
	if t != nil {
		polls, n, prompt = t.polls, t.n, t.prompt
	}
	s.mu.Unlock()
	out := map[string]any{"task_id": id}
	switch {
	case t == nil:
		out["task_status"] = "UNKNOWN"
	case polls < PollsToFinish:
		out["task_status"] = "RUNNING"
		out["submit_time"] = "2025-01-08 16:03:59.840"
		out["task_metrics"] = map[string]any{"TOTAL": n, "SUCCEEDED": 0, "FAILED": 0}
	default:
		results := make([]any, n)
		for i := range results {
			results[i] = map[string]any{"orig_prompt": prompt, "actual_prompt": prompt + ", highly detailed",
				"url": s.URL + "/results/" + id + "-" + strconv.Itoa(i+1) + ".png"}
		}
		out["task_status"] = "SUCCEEDED"
		out["submit_time"] = "2025-01-08 16:03:59.840"
		out["end_time"] = "2025-01-08 16:04:10.660"
		out["results"] = results
		out["task_metrics"] = map[string]any{"TOTAL": n, "SUCCEEDED": n, "FAILED": 0}
		writeJSON(w, http.StatusOK, map[string]any{"request_id": rid, "output": out, "usage": map[string]any{"image_count": n}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"request_id": rid, "output": out})
}

// pngPixel is a 1×1 PNG, what result URLs serve.
var pngPixel = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\xdac\xfc\xcf\xc0\xf0\x1f\x00\x05\x05\x02\x00_\xc8\xf1\xd2\x00\x00\x00\x00IEND\xaeB`\x82")

// compatRequest is the part of an OpenAI chat body the compatible mode's
// mock checks.
type compatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCalls  []toolCall      `json:"tool_calls"`
		ToolCallID string          `json:"tool_call_id"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools      []tool          `json:"tools"`
	ToolChoice json.RawMessage `json:"tool_choice"`
}

func compatChat(w http.ResponseWriter, body []byte, rid string) {
	var req compatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeCompatError(w, http.StatusBadRequest, "<400> InternalError.Algo.InvalidParameter: "+err.Error(), "invalid_request_error", "invalid_parameter_error", rid)
		return
	}
	if req.Model == "" || len(req.Messages) == 0 {
		writeCompatError(w, http.StatusBadRequest, "<400> InternalError.Algo.InvalidParameter: model and messages are required", "invalid_request_error", "invalid_parameter_error", rid)
		return
	}
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			writeCompatError(w, http.StatusBadRequest, fmt.Sprintf("<400> InternalError.Algo.InvalidParameter: messages[%d].role is invalid", i), "invalid_request_error", "invalid_parameter_error", rid)
			return
		}
	}
	id := "chatcmpl-" + rid
	last := req.Messages[len(req.Messages)-1].Role
	callTool := len(req.Tools) > 0 && last == "user" && string(req.ToolChoice) != `"none"`
	u := textUsage
	if callTool {
		u = toolUsage
	}
	usage := map[string]any{
		"prompt_tokens": u.input, "completion_tokens": u.output, "total_tokens": u.input + u.output,
		"prompt_tokens_details":     map[string]any{"cached_tokens": u.cached},
		"completion_tokens_details": map[string]any{"reasoning_tokens": u.reasoning},
	}
	if !req.Stream {
		msg := map[string]any{"role": "assistant", "content": Text, "reasoning_content": Thought}
		finish := "stop"
		if callTool {
			msg["content"] = ""
			msg["tool_calls"] = []any{map[string]any{"id": "call_5d4e7a1c9b3f42e8a6c0d1", "type": "function", "index": 0,
				"function": map[string]any{"name": req.Tools[0].Function.Name, "arguments": ToolArguments}}}
			finish = "tool_calls"
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"choices": []any{map[string]any{"message": msg, "finish_reason": finish, "index": 0, "logprobs": nil}},
			"object":  "chat.completion", "usage": usage, "created": 1735120033, "system_fingerprint": nil,
			"model": req.Model, "id": id,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	chunk := func(delta map[string]any, finish any, usage any, choices bool) {
		c := map[string]any{"object": "chat.completion.chunk", "usage": usage, "created": 1735120033,
			"system_fingerprint": nil, "model": req.Model, "id": id, "choices": []any{}}
		if choices {
			c["choices"] = []any{map[string]any{"delta": delta, "finish_reason": finish, "index": 0, "logprobs": nil}}
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	chunk(map[string]any{"content": nil, "role": "assistant", "reasoning_content": Thought}, nil, nil, true)
	if callTool {
		cut := strings.Index(ToolArguments, ":") + 1
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_5d4e7a1c9b3f42e8a6c0d1", "type": "function",
			"function": map[string]any{"name": req.Tools[0].Function.Name, "arguments": ToolArguments[:cut]}}}}, nil, nil, true)
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "", "type": "function",
			"function": map[string]any{"arguments": ToolArguments[cut:]}}}}, nil, nil, true)
		chunk(map[string]any{}, "tool_calls", nil, true)
	} else {
		chunk(map[string]any{"content": "Hello from"}, nil, nil, true)
		chunk(map[string]any{"content": " the DashScope mock!"}, "stop", nil, true)
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		chunk(nil, nil, usage, false)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func compatEmbed(w http.ResponseWriter, body []byte, rid string) {
	var req struct {
		Model      string          `json:"model"`
		Input      json.RawMessage `json:"input"`
		Dimensions *int            `json:"dimensions"`
	}
	var texts []string
	var one string
	if json.Unmarshal(body, &req) != nil || req.Model == "" ||
		(json.Unmarshal(req.Input, &texts) != nil && json.Unmarshal(req.Input, &one) != nil) {
		writeCompatError(w, http.StatusBadRequest, "<400> InternalError.Algo.InvalidParameter: model and input are required", "invalid_request_error", "invalid_parameter_error", rid)
		return
	}
	if texts == nil {
		texts = []string{one}
	}
	dim := DefaultDimension
	if req.Dimensions != nil {
		dim = *req.Dimensions
	}
	data := make([]any, len(texts))
	for i, t := range texts {
		data[i] = map[string]any{"embedding": vector(t, dim), "index": i, "object": "embedding"}
	}
	n := embedTokensPerText * len(texts)
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "model": req.Model, "object": "list",
		"usage": map[string]any{"prompt_tokens": n, "total_tokens": n}, "id": rid})
}
