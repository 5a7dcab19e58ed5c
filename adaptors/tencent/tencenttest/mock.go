// Package tencenttest is a mock of Tencent Hunyuan's API 3.0 (version
// 2023-09-01) for tests: an httptest server on 127.0.0.1 that verifies
// the TC3-HMAC-SHA256 signature for real — it recomputes it with the
// SecretKey it knows over the request as received (its Host header, the
// headers the signature names, the body) — and validates requests as
// Tencent documents them, then answers ChatCompletions (streamed or not,
// text or a tool call) and GetEmbedding in Tencent's wire format. Like
// Tencent, it answers every error, authentication failures included, with
// HTTP 200 and {"Response": {"Error": {"Code", "Message"}, "RequestId"}}.
// It is imported by tests only.
package tencenttest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/adaptors"
)

// MockText is the text of every chat answer that is not a tool call.
const MockText = "Hello from the Tencent Hunyuan mock!"

// textChunks is MockText as the stream sends it.
var textChunks = []string{"Hello", " from the Tencent", " Hunyuan mock!"}

// MockArguments are the arguments of every tool call the mock makes.
const MockArguments = `{"location":"Paris"}`

// argChunks are MockArguments as the stream sends them.
var argChunks = []string{`{"location":`, `"Paris"}`}

// Note is the disclaimer Hunyuan puts in every answer.
const Note = "以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记"

// Usage the mock reports. Stream chunks carry it cumulatively, as Hunyuan
// does: CompletionTokens grows chunk by chunk up to these totals.
const (
	textPrompt, textCompletion = 12, 9
	toolPrompt, toolCompletion = 31, 14
	embedTokensPerText         = 6
)

// EmbeddingDimensions is the size of the mock's embeddings, as Hunyuan's.
const EmbeddingDimensions = 1024

// MaxSkew is how far X-TC-Timestamp may be from the mock's clock, as
// Tencent allows.
const MaxSkew = 5 * time.Minute

// Server is a mock Tencent Hunyuan upstream that checks auth and the
// request like the real one.
type Server struct {
	URL       string // base URL to put in the channel's base_url
	SecretID  string // the SecretId it knows
	SecretKey string // and its SecretKey

	mu         sync.Mutex
	now        func() time.Time
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// NewServer starts a mock that knows one key pair; it is closed by
// t.Cleanup.
func NewServer(t testing.TB, secretID, secretKey string) *Server {
	s := &Server{SecretID: secretID, SecretKey: secretKey, now: time.Now}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetNow sets the clock timestamps are checked against (time.Now by
// default).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Requests returns how many requests the mock has answered (any status).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastRequest returns the path (with query), headers and body of the last
// request.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), bytes.Clone(s.lastBody)
}

// TextUsage is the usage of every text answer, in OpenAI terms.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: textPrompt, CompletionTokens: textCompletion, TotalTokens: textPrompt + textCompletion}
}

// ToolUsage is the usage of every tool-call answer, in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: toolPrompt, CompletionTokens: toolCompletion, TotalTokens: toolPrompt + toolCompletion}
}

// EmbedUsage is the usage of an embedding answer for n texts.
func (s *Server) EmbedUsage(n int) adaptors.Usage {
	return adaptors.Usage{PromptTokens: n * embedTokensPerText, TotalTokens: n * embedTokensPerText}
}

// apiError is an API 3.0 error.
type apiError struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	n := s.requests
	now := s.now()
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	s.lastHeader.Set("Host", r.Host)
	s.lastBody = body
	s.mu.Unlock()
	reqID := fmt.Sprintf("2b8f6c1e-0000-4000-8000-%012d", n)

	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, reqID, errorf("UnsupportedProtocol", "The mock serves POST requests only."))
		return
	}
	if e := s.checkAuth(r, body, now); e != nil {
		writeError(w, reqID, e)
		return
	}
	if v := r.Header.Get("X-TC-Version"); v != "2023-09-01" {
		writeError(w, reqID, errorf("NoSuchVersion", "The API version `%s` does not exist.", v))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" && !strings.HasPrefix(ct, "application/json;") {
		writeError(w, reqID, errorf("InvalidParameter", "Content-Type `%s` is not supported.", ct))
		return
	}
	switch r.Header.Get("X-TC-Action") {
	case "ChatCompletions":
		s.chat(w, reqID, n, body, now)
	case "GetEmbedding":
		embed(w, reqID, body)
	default:
		writeError(w, reqID, errorf("InvalidAction", "The request `Action` is invalid or not found."))
	}
}

// Tencent's messages for the signature failures (as its API answers them
// in English).
const (
	msgSignatureFailure = "The provided credentials could not be validated. Please check your signature is correct."
	msgSignatureExpire  = "The signature is expired, please request again."
	msgSecretIDNotFound = "The SecretId is not found, please ensure that your SecretId is correct."
	msgInvalidAuth      = "The `Authorization` in the request header is not in the standard format of TencentCloud API."
)

// checkAuth verifies the request's TC3-HMAC-SHA256 signature the way
// Tencent does: it parses Authorization, checks the timestamp against its
// clock and the SecretId against the one it knows, then recomputes the
// signature over the request as received — the headers SignedHeaders
// names (host taken from the Host the client sent), lower-cased and
// trimmed, and the SHA-256 of the body — with its SecretKey.
func (s *Server) checkAuth(r *http.Request, body []byte, now time.Time) *apiError {
	auth := r.Header.Get("Authorization")
	alg, rest, ok := strings.Cut(auth, " ")
	if !ok || alg != "TC3-HMAC-SHA256" {
		return errorf("AuthFailure.InvalidAuthorization", msgInvalidAuth)
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return errorf("AuthFailure.InvalidAuthorization", msgInvalidAuth)
		}
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	signed, sig := fields["SignedHeaders"], fields["Signature"]
	if len(scope) != 4 || scope[3] != "tc3_request" || signed == "" || len(sig) != 64 {
		return errorf("AuthFailure.InvalidAuthorization", msgInvalidAuth)
	}
	tsText := r.Header.Get("X-TC-Timestamp")
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errorf("MissingParameter", "The request is missing a required parameter `Timestamp`.")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return errorf("AuthFailure.SignatureExpire", msgSignatureExpire)
	}
	if scope[0] != s.SecretID {
		return errorf("AuthFailure.SecretIdNotFound", msgSecretIDNotFound)
	}
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	if scope[1] != date || scope[2] != "hunyuan" {
		return errorf("AuthFailure.SignatureFailure", msgSignatureFailure)
	}
	names := strings.Split(signed, ";")
	seen := map[string]bool{}
	for i, name := range names {
		if name != strings.ToLower(name) || (i > 0 && names[i-1] >= name) {
			return errorf("AuthFailure.SignatureFailure", msgSignatureFailure)
		}
		seen[name] = true
	}
	if !seen["content-type"] || !seen["host"] {
		return errorf("AuthFailure.SignatureFailure", msgSignatureFailure)
	}
	var canonical strings.Builder
	canonical.WriteString(r.Method + "\n/\n" + r.URL.RawQuery + "\n")
	for _, name := range names {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		canonical.WriteString(name + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	bodySum := sha256.Sum256(body)
	canonical.WriteString("\n" + signed + "\n" + hex.EncodeToString(bodySum[:]))
	canonicalSum := sha256.Sum256([]byte(canonical.String()))
	toSign := "TC3-HMAC-SHA256\n" + tsText + "\n" + date + "/hunyuan/tc3_request\n" + hex.EncodeToString(canonicalSum[:])
	key := mac([]byte("TC3"+s.SecretKey), date)
	key = mac(key, "hunyuan")
	key = mac(key, "tc3_request")
	want := hex.EncodeToString(mac(key, toSign))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errorf("AuthFailure.SignatureFailure", msgSignatureFailure)
	}
	return nil
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// writeError answers an error as Tencent does: HTTP 200.
func writeError(w http.ResponseWriter, reqID string, e *apiError) {
	writeJSON(w, reqID, struct {
		Error     *apiError `json:"Error"`
		RequestID string    `json:"RequestId"`
	}{e, reqID})
}

// writeJSON writes {"Response": v}.
func writeJSON(w http.ResponseWriter, reqID string, v any) {
	b, _ := json.Marshal(map[string]any{"Response": v})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-TC-RequestId", reqID)
	_, _ = w.Write(b)
}

// checkKeys decodes a JSON object's keys and refuses any not in allowed:
// Tencent's members are exact (capitalised) and it refuses unknown ones.
func checkKeys(raw json.RawMessage, where string, allowed ...string) *apiError {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return errorf("InvalidParameter", "%s must be an object: %v", where, err)
	}
	for k := range obj {
		found := false
		for _, a := range allowed {
			found = found || k == a
		}
		if !found {
			return errorf("UnknownParameter", "The parameter `%s%s` is not recognized.", where, k)
		}
	}
	return nil
}

// chatRequest is the ChatCompletions body (ChatCompletionsRequestParams).
type chatRequest struct {
	Model             *string           `json:"Model"`
	Messages          []json.RawMessage `json:"Messages"`
	Stream            *bool             `json:"Stream"`
	StreamModeration  *bool             `json:"StreamModeration"`
	TopP              *float64          `json:"TopP"`
	Temperature       *float64          `json:"Temperature"`
	EnableEnhancement *bool             `json:"EnableEnhancement"`
	Tools             []json.RawMessage `json:"Tools"`
	ToolChoice        *string           `json:"ToolChoice"`
	CustomTool        json.RawMessage   `json:"CustomTool"`
	Seed              *int64            `json:"Seed"`
	Stop              []string          `json:"Stop"`
}

var chatMembers = []string{"Model", "Messages", "Stream", "StreamModeration", "TopP", "Temperature", "EnableEnhancement",
	"Tools", "ToolChoice", "CustomTool", "SearchInfo", "Citation", "EnableSpeedSearch", "EnableMultimedia", "EnableDeepSearch",
	"Seed", "ForceSearchEnhancement", "Stop", "EnableRecommendedQuestions", "EnableDeepRead", "WebSearchOptions", "TopicChoice"}

// message is a Message.
type message struct {
	Role             string     `json:"Role"`
	Content          *string    `json:"Content"`
	Contents         []content  `json:"Contents"`
	ToolCallID       *string    `json:"ToolCallId"`
	ToolCalls        []toolCall `json:"ToolCalls"`
	ReasoningContent *string    `json:"ReasoningContent"`
}

type content struct {
	Type     string `json:"Type"`
	Text     string `json:"Text,omitempty"`
	ImageURL *struct {
		URL string `json:"Url"`
	} `json:"ImageUrl,omitempty"`
}

type toolCall struct {
	ID       string `json:"Id"`
	Type     string `json:"Type"`
	Function struct {
		Name      string `json:"Name"`
		Arguments string `json:"Arguments"`
	} `json:"Function"`
}

// tool is a Tool; Parameters is a JSON schema as a string.
type tool struct {
	Type     string `json:"Type"`
	Function struct {
		Name        string `json:"Name"`
		Parameters  string `json:"Parameters"`
		Description string `json:"Description"`
	} `json:"Function"`
}

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// parseTool reads and checks one Tool.
func parseTool(raw json.RawMessage, where string) (tool, *apiError) {
	var t tool
	if e := checkKeys(raw, where+".", "Type", "Function"); e != nil {
		return t, e
	}
	var fn struct {
		Function json.RawMessage `json:"Function"`
	}
	_ = json.Unmarshal(raw, &fn)
	if e := checkKeys(fn.Function, where+".Function.", "Name", "Parameters", "Description"); e != nil {
		return t, e
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return t, errorf("InvalidParameter", "%s: %v", where, err)
	}
	if t.Type != "function" {
		return t, errorf("InvalidParameterValue", "%s.Type must be function.", where)
	}
	if !toolName.MatchString(t.Function.Name) {
		return t, errorf("InvalidParameterValue", "%s.Function.Name may contain only a-z, A-Z, 0-9, _ and -.", where)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(t.Function.Parameters), &schema); err != nil {
		return t, errorf("InvalidParameterValue", "%s.Function.Parameters must be a JSON object in a string.", where)
	}
	return t, nil
}

// chat validates a ChatCompletions body and answers it.
func (s *Server) chat(w http.ResponseWriter, reqID string, n int, body []byte, now time.Time) {
	req, tools, e := parseChat(body)
	if e != nil {
		writeError(w, reqID, e)
		return
	}
	var call *tool
	last := lastRole(req)
	if len(tools) > 0 && last == "user" && (req.ToolChoice == nil || *req.ToolChoice != "none") {
		call = &tools[0]
		if req.ToolChoice != nil && *req.ToolChoice == "custom" {
			var ct tool
			_ = json.Unmarshal(req.CustomTool, &ct)
			call = &ct
		}
	}
	a := answer{reqID: reqID, id: fmt.Sprintf("ba1c0f2e-%04d-4d8e-9c3a-6f1e2d3c4b5a", n%10000), created: now.Unix(),
		callID: fmt.Sprintf("call_mock%06dq7h2", n), call: call}
	if req.Stream != nil && *req.Stream {
		a.stream(w)
		return
	}
	a.whole(w)
}

// parseChat decodes and checks a ChatCompletions body as Hunyuan
// documents it.
func parseChat(body []byte) (*chatRequest, []tool, *apiError) {
	if e := checkKeys(body, "", chatMembers...); e != nil {
		return nil, nil, e
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, errorf("InvalidParameter", "Invalid request body: %v", err)
	}
	if req.Model == nil || *req.Model == "" {
		return nil, nil, errorf("MissingParameter", "The request is missing a required parameter `Model`.")
	}
	if len(req.Messages) == 0 {
		return nil, nil, errorf("MissingParameter", "The request is missing a required parameter `Messages`.")
	}
	if len(req.Messages) > 40 {
		return nil, nil, errorf("InvalidParameter", "Messages must have at most 40 items.")
	}
	if t := req.Temperature; t != nil && (*t < 0 || *t > 2) {
		return nil, nil, errorf("InvalidParameter", "Temperature must be 2 or less")
	}
	if p := req.TopP; p != nil && (*p < 0 || *p > 1) {
		return nil, nil, errorf("InvalidParameter", "TopP must be between 0 and 1")
	}
	if sd := req.Seed; sd != nil && (*sd < 1 || *sd > 10000) {
		return nil, nil, errorf("InvalidParameterValue", "Seed must be a positive integer of at most 10000.")
	}
	tools := make([]tool, 0, len(req.Tools))
	for i, raw := range req.Tools {
		t, e := parseTool(raw, fmt.Sprintf("Tools.%d", i))
		if e != nil {
			return nil, nil, e
		}
		tools = append(tools, t)
	}
	if c := req.ToolChoice; c != nil {
		switch *c {
		case "none", "auto":
		case "custom":
			if len(req.CustomTool) == 0 {
				return nil, nil, errorf("MissingParameter", "CustomTool is required when ToolChoice is custom.")
			}
			if _, e := parseTool(req.CustomTool, "CustomTool"); e != nil {
				return nil, nil, e
			}
		default:
			return nil, nil, errorf("InvalidParameterValue", "ToolChoice must be none, auto or custom.")
		}
	}
	if e := checkMessages(&req); e != nil {
		return nil, nil, e
	}
	return &req, tools, nil
}

// checkMessages enforces the order Hunyuan documents: an optional system
// message first, then user (or tool) and assistant turns alternating,
// starting with user and ending with user or tool; tool messages answer
// the calls of the assistant turn before them; Content must not be empty.
func checkMessages(req *chatRequest) *apiError {
	prev := ""
	var calls map[string]bool
	for i, raw := range req.Messages {
		where := fmt.Sprintf("Messages.%d.", i)
		if e := checkKeys(raw, where, "Role", "Content", "Contents", "ToolCallId", "ToolCalls", "FileIDs", "ReasoningContent"); e != nil {
			return e
		}
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			return errorf("InvalidParameter", "%s %v", where, err)
		}
		if m.ReasoningContent != nil {
			return errorf("InvalidParameter", "%sReasoningContent must not be sent back.", where)
		}
		hasText := m.Content != nil && *m.Content != ""
		switch m.Role {
		case "system":
			if i != 0 {
				return errorf("InvalidParameter", "Message role system must be the first message.")
			}
			if !hasText {
				return errorf("InvalidParameter", "%sContent must not be empty.", where)
			}
		case "user":
			if prev != "" && prev != "system" && prev != "assistant" {
				return errorf("InvalidParameter", "Messages must alternate between user and assistant.")
			}
			if len(m.Contents) > 0 {
				if e := checkContents(m.Contents, where, *req.Model); e != nil {
					return e
				}
			} else if !hasText {
				return errorf("InvalidParameter", "%sContent must not be empty.", where)
			}
		case "assistant":
			if prev != "user" && prev != "tool" {
				return errorf("InvalidParameter", "Messages must alternate between user and assistant.")
			}
			if !hasText && len(m.ToolCalls) == 0 {
				return errorf("InvalidParameter", "%sContent must not be empty.", where)
			}
			calls = map[string]bool{}
			for j, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" {
					return errorf("InvalidParameter", "%sToolCalls.%d needs Id, Type function and Function.Name.", where, j)
				}
				calls[tc.ID] = true
			}
		case "tool":
			if prev != "assistant" && prev != "tool" {
				return errorf("InvalidParameter", "A tool message must follow an assistant message with ToolCalls.")
			}
			if m.ToolCallID == nil || !calls[*m.ToolCallID] {
				return errorf("InvalidParameter", "%sToolCallId does not match a ToolCalls Id of the assistant message.", where)
			}
			if !hasText {
				return errorf("InvalidParameter", "%sContent must not be empty.", where)
			}
		default:
			return errorf("InvalidParameterValue", "%sRole must be system, user, assistant or tool.", where)
		}
		prev = m.Role
	}
	if prev != "user" && prev != "tool" {
		return errorf("InvalidParameter", "The last message must be from user or tool.")
	}
	return nil
}

// checkContents checks a vision message: Contents only for the vision
// models, items of type text or image_url, at least one text.
func checkContents(cs []content, where, model string) *apiError {
	if !strings.Contains(model, "vision") {
		return errorf("InvalidParameter", "%sContents is only supported by the vision models.", where)
	}
	text := false
	for j, c := range cs {
		switch c.Type {
		case "text":
			text = text || c.Text != ""
		case "image_url":
			u := ""
			if c.ImageURL != nil {
				u = c.ImageURL.URL
			}
			head, _, _ := strings.Cut(u, ",")
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") &&
				!(strings.HasPrefix(head, "data:image/") && strings.HasSuffix(head, ";base64")) {
				return errorf("InvalidParameterValue", "%sContents.%d.ImageUrl.Url must be an image URL or data:image/…;base64,….", where, j)
			}
		default:
			return errorf("InvalidParameterValue", "%sContents.%d.Type must be text or image_url.", where, j)
		}
	}
	if !text {
		return errorf("InvalidParameter", "%sContents needs at least one text item.", where)
	}
	return nil
}

func lastRole(req *chatRequest) string {
	var m struct {
		Role string `json:"Role"`
	}
	_ = json.Unmarshal(req.Messages[len(req.Messages)-1], &m)
	return m.Role
}

// answer is one chat answer under construction.
type answer struct {
	reqID, id, callID string
	created           int64
	call              *tool // nil: a text answer
}

type usage struct {
	PromptTokens     int `json:"PromptTokens"`
	CompletionTokens int `json:"CompletionTokens"`
	TotalTokens      int `json:"TotalTokens"`
}

func mkUsage(p, c int) usage { return usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c} }

type outCall struct {
	ID       string `json:"Id"`
	Type     string `json:"Type"`
	Function struct {
		Name      string `json:"Name"`
		Arguments string `json:"Arguments"`
	} `json:"Function"`
}

type outMessage struct {
	Role      string    `json:"Role"`
	Content   string    `json:"Content"`
	ToolCalls []outCall `json:"ToolCalls,omitempty"`
}

func (a *answer) outCall(args string, name bool) outCall {
	c := outCall{ID: a.callID, Type: "function"}
	if name {
		c.Function.Name = a.call.Function.Name
	}
	c.Function.Arguments = args
	return c
}

// whole writes the non-stream answer.
func (a *answer) whole(w http.ResponseWriter) {
	type choice struct {
		Index        int        `json:"Index"`
		Message      outMessage `json:"Message"`
		FinishReason string     `json:"FinishReason"`
	}
	resp := struct {
		RequestID string   `json:"RequestId"`
		Note      string   `json:"Note"`
		Choices   []choice `json:"Choices"`
		Created   int64    `json:"Created"`
		ID        string   `json:"Id"`
		Usage     usage    `json:"Usage"`
	}{RequestID: a.reqID, Note: Note, Created: a.created, ID: a.id}
	msg := outMessage{Role: "assistant"}
	finish := "stop"
	resp.Usage = mkUsage(textPrompt, textCompletion)
	if a.call != nil {
		msg.ToolCalls = []outCall{a.outCall(MockArguments, true)}
		finish = "tool_calls"
		resp.Usage = mkUsage(toolPrompt, toolCompletion)
	} else {
		msg.Content = MockText
	}
	resp.Choices = []choice{{Message: msg, FinishReason: finish}}
	writeJSON(w, a.reqID, resp)
}

// stream writes the answer as Hunyuan streams it: `data: {…}` events
// without the Response wrapper, each repeating Role and the usage so far,
// the last with its FinishReason, and no terminator.
func (a *answer) stream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-TC-RequestId", a.reqID)
	type choice struct {
		Delta        outMessage `json:"Delta"`
		FinishReason string     `json:"FinishReason"`
	}
	type chunk struct {
		Note    string   `json:"Note"`
		Choices []choice `json:"Choices"`
		Created int64    `json:"Created"`
		ID      string   `json:"Id"`
		Usage   usage    `json:"Usage"`
	}
	flusher, _ := w.(http.Flusher)
	send := func(d outMessage, finish string, u usage) {
		b, _ := json.Marshal(chunk{Note: Note, Choices: []choice{{Delta: d, FinishReason: finish}}, Created: a.created, ID: a.id, Usage: u})
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	if a.call == nil {
		step := textCompletion / len(textChunks)
		for i, t := range textChunks {
			send(outMessage{Role: "assistant", Content: t}, "", mkUsage(textPrompt, step*(i+1)))
		}
		send(outMessage{Role: "assistant"}, "stop", mkUsage(textPrompt, textCompletion))
		return
	}
	send(outMessage{Role: "assistant", ToolCalls: []outCall{a.outCall("", true)}}, "", mkUsage(toolPrompt, 4))
	send(outMessage{Role: "assistant", ToolCalls: []outCall{a.outCall(argChunks[0], false)}}, "", mkUsage(toolPrompt, 9))
	send(outMessage{Role: "assistant", ToolCalls: []outCall{a.outCall(argChunks[1], false)}}, "", mkUsage(toolPrompt, toolCompletion))
	send(outMessage{Role: "assistant"}, "tool_calls", mkUsage(toolPrompt, toolCompletion))
}

// embed validates a GetEmbedding body and answers it.
func embed(w http.ResponseWriter, reqID string, body []byte) {
	if e := checkKeys(body, "", "Input", "InputList"); e != nil {
		writeError(w, reqID, e)
		return
	}
	var req struct {
		Input     *string  `json:"Input"`
		InputList []string `json:"InputList"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, reqID, errorf("InvalidParameter", "Invalid request body: %v", err))
		return
	}
	texts := req.InputList
	switch {
	case req.Input != nil && req.InputList != nil:
		writeError(w, reqID, errorf("InvalidParameter", "Input and InputList must not both be set."))
		return
	case req.Input != nil:
		texts = []string{*req.Input}
	case len(texts) == 0:
		writeError(w, reqID, errorf("MissingParameter", "The request is missing a required parameter `Input`."))
		return
	case len(texts) > 50:
		writeError(w, reqID, errorf("InvalidParameter", "InputList must have at most 50 items."))
		return
	}
	type item struct {
		Embedding []float64 `json:"Embedding"`
		Index     int       `json:"Index"`
		Object    string    `json:"Object"`
	}
	resp := struct {
		Data      []item `json:"Data"`
		Usage     usage  `json:"Usage"`
		RequestID string `json:"RequestId"`
	}{RequestID: reqID}
	for i, t := range texts {
		if t == "" {
			writeError(w, reqID, errorf("InvalidParameter", "Input must not be empty."))
			return
		}
		v := make([]float64, EmbeddingDimensions)
		for j := range v {
			v[j] = math.Round(math.Sin(float64(i+1)*float64(j+1)+float64(len(t)))*1e6) / 1e6
		}
		resp.Data = append(resp.Data, item{Embedding: v, Index: i, Object: "embedding"})
	}
	n := len(texts) * embedTokensPerText
	resp.Usage = usage{PromptTokens: n, TotalTokens: n}
	writeJSON(w, reqID, resp)
}
