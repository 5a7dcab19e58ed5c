package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// upstreamCall is what the mock OpenAI upstream saw of one request.
type upstreamCall struct {
	Path   string
	Auth   string
	Header http.Header
	Body   map[string]any
}

// mockOpenAI is a faithful OpenAI upstream for tests: the response bodies
// come from testdata/ (OpenAI's documented shapes), streams are framed as
// OpenAI frames them (data: lines, a usage chunk with empty choices only
// when stream_options.include_usage is true, then data: [DONE]).
type mockOpenAI struct {
	t   testing.TB
	srv *httptest.Server

	mu    sync.Mutex
	calls []upstreamCall

	count       atomic.Int64
	status      atomic.Int64 // non-zero: answer every request with this status
	chunks      int          // content chunks per stream
	chunkDelay  time.Duration
	noUsage     atomic.Bool  // streams and answers without usage
	abortAfter  atomic.Int64 // non-zero: streams break the connection after this many content chunks
	delay       atomic.Int64 // ms to wait before answering at all
	badKeys     sync.Map     // "Bearer <key>" → true: answered with 401
	firstEvent  atomic.Int64 // ms a stream waits, headers sent, before its first event
	aborted     atomic.Int64
	chatBody    []byte
	embedBody   []byte
	errorBodies map[int][]byte
}

func newMockOpenAI(t testing.TB) *mockOpenAI {
	m := &mockOpenAI{t: t, chunks: 5, chatBody: fixture(t, "chat_completion.json"), embedBody: fixture(t, "embedding.json"),
		errorBodies: map[int][]byte{401: fixture(t, "error_invalid_key.json"), 500: fixture(t, "error_server.json")}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func fixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (m *mockOpenAI) last() upstreamCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.calls) == 0 {
		m.t.Fatal("the upstream saw no request")
	}
	return m.calls[len(m.calls)-1]
}

func (m *mockOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		body = readForm(raw, params["boundary"])
	} else {
		_ = json.Unmarshal(raw, &body)
	}
	m.mu.Lock()
	m.calls = append(m.calls, upstreamCall{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Header: r.Header.Clone(), Body: body})
	m.mu.Unlock()
	m.count.Add(1)
	if d := m.delay.Load(); d > 0 {
		select {
		case <-time.After(time.Duration(d) * time.Millisecond):
		case <-r.Context().Done():
			m.aborted.Add(1)
			return
		}
	}
	st := int(m.status.Load())
	if _, bad := m.badKeys.Load(r.Header.Get("Authorization")); bad {
		st = http.StatusUnauthorized
	}
	if st != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		b := m.errorBodies[st]
		if b == nil {
			b = []byte(`{"error":{"message":"mock error","type":"server_error","param":null,"code":null}}`)
		}
		w.Write(b)
		return
	}
	switch r.URL.Path {
	case "/v1/chat/completions":
		if stream, _ := body["stream"].(bool); stream {
			m.stream(w, r, body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		b := m.chatBody
		if m.noUsage.Load() {
			var v map[string]any
			_ = json.Unmarshal(b, &v)
			delete(v, "usage")
			b, _ = json.Marshal(v)
		}
		w.Write(b)
	case "/v1/embeddings":
		w.Header().Set("Content-Type", "application/json")
		w.Write(m.embedBody)
	case "/v1/images/generations", "/v1/images/edits", "/v1/images/variations":
		n := 1
		if v, err := strconv.Atoi(fmt.Sprint(body["n"])); err == nil && v > 0 {
			n = v
		} else if f, ok := body["n"].(float64); ok && f > 0 {
			n = int(f)
		}
		var data []string
		for i := 0; i < n; i++ {
			data = append(data, fmt.Sprintf(`{"url":"https://images.example.com/img-%d.png","revised_prompt":"a cat"}`, i))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"created":1713833628,"data":[%s]}`, strings.Join(data, ","))
	case "/v1/audio/speech":
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(mockAudio)
	case "/v1/audio/transcriptions", "/v1/audio/translations":
		switch body["response_format"] {
		case "text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, mockTranscript+"\n")
		case "srt":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "1\n00:00:00,000 --> 00:00:03,320\n"+mockTranscript+"\n\n")
		case "vtt":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "WEBVTT\n\n00:00:00.000 --> 00:00:03.320\n"+mockTranscript+"\n\n")
		case "verbose_json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"task":"transcribe","language":"english","duration":3.32,"text":%q,"segments":[]}`, mockTranscript)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"text":%q}`, mockTranscript)
		}
	case "/v1/dashboard/billing/subscription":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"billing_subscription","has_payment_method":true,"hard_limit_usd":100,"soft_limit_usd":100,"system_hard_limit_usd":100,"access_until":0}`)
	case "/v1/dashboard/billing/usage":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","total_usage":2500}`)
	case "/v1/models":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"id":"test-model","object":"model","created":1715367049,"owned_by":"system"}]}`)
	case "/v1/moderations":
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixture(m.t, "moderation.json"))
	case "/v1/rerank":
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixture(m.t, "rerank.json"))
	case "/v1/responses":
		if stream, _ := body["stream"].(bool); stream {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(fixture(m.t, "responses.sse"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixture(m.t, "responses.json"))
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"message":"Invalid URL (%s %s)","type":"invalid_request_error","param":null,"code":null}}`, r.Method, r.URL.Path)
	}
}

// stream sends m.chunks content chunks of "word " (5 bytes each).
func (m *mockOpenAI) stream(w http.ResponseWriter, r *http.Request, body map[string]any) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	model, _ := body["model"].(string)
	head := `{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1741569952,"model":"` + model + `","system_fingerprint":"fp_mock",`
	send := func(s string) bool {
		if _, err := io.WriteString(w, "data: "+s+"\n\n"); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if d := m.firstEvent.Load(); d > 0 {
		w.WriteHeader(http.StatusOK)
		fl.Flush()
		select {
		case <-time.After(time.Duration(d) * time.Millisecond):
		case <-r.Context().Done():
			m.aborted.Add(1)
			return
		}
	}
	send(head + `"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}`)
	for i := 0; i < m.chunks; i++ {
		if m.chunkDelay > 0 {
			select {
			case <-time.After(m.chunkDelay):
			case <-r.Context().Done():
				m.aborted.Add(1)
				return
			}
		}
		if n := m.abortAfter.Load(); n > 0 && int64(i) == n {
			panic(http.ErrAbortHandler) // the connection breaks mid-stream
		}
		if !send(head + `"choices":[{"index":0,"delta":{"content":"word "},"logprobs":null,"finish_reason":null}]}`) {
			m.aborted.Add(1)
			return
		}
	}
	send(head + `"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`)
	opts, _ := body["stream_options"].(map[string]any)
	if inc, _ := opts["include_usage"].(bool); inc && !m.noUsage.Load() {
		send(head + fmt.Sprintf(`"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":%d,"total_tokens":%d}}`, m.chunks, 12+m.chunks))
	}
	io.WriteString(w, "data: [DONE]\n\n")
	fl.Flush()
}

func (m *mockOpenAI) url() string { return m.srv.URL }

// mockAudio stands for an MP3 file (an ID3 header and some frame bytes).
var mockAudio = append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, 64)...)

// mockTranscript is what the mock hears in every audio file: 49 bytes.
const mockTranscript = "The beach was a popular spot on a hot summer day."

// readForm reads the text fields of a multipart body, and for file parts
// their file names under "<field>.filename".
func readForm(raw []byte, boundary string) map[string]any {
	out := map[string]any{}
	r := multipart.NewReader(bytes.NewReader(raw), boundary)
	for {
		part, err := r.NextPart()
		if err != nil {
			return out
		}
		b, _ := io.ReadAll(part)
		if part.FileName() != "" {
			out[part.FormName()+".filename"] = part.FileName()
			out[part.FormName()+".size"] = len(b)
			continue
		}
		out[part.FormName()] = string(b)
	}
}
