// Package mockupstream is a fake OpenAI upstream for benchmarks: fixed,
// pre-encoded answers, an optional fixed delay before answering, and SSE
// streams of a configurable number of chunks with an optional delay between
// them. It counts the requests it served so a benchmark can check that a
// gateway sent exactly one upstream request per client request.
package mockupstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/protocol/http1/resp"

	"switchyard/bench/internal/benchsrv"
	"switchyard/bench/internal/oaijson"
)

// Usage numbers the mock reports. Streams report StreamPromptTokens and one
// completion token per chunk.
const (
	PromptTokens       = 19
	CompletionTokens   = 40
	StreamPromptTokens = 19
	Created            = 1700000000
	Model              = "gpt-4o-mini"
)

// Config is the mock's behaviour.
type Config struct {
	Latency    time.Duration // fixed delay before the first byte of every answer
	ChunkDelay time.Duration // delay between two stream chunks
	Chunks     int           // content chunks per stream (>= 1); default 20
}

// Stats is what GET /_stats returns.
type Stats struct {
	Requests   uint64 `json:"requests"` // every /v1/* request served
	Chat       uint64 `json:"chat"`     // non-streamed chat completions
	Streams    uint64 `json:"streams"`  // streamed chat completions
	Embeddings uint64 `json:"embeddings"`
	Models     uint64 `json:"models"`
	Aborted    uint64 `json:"aborted"` // streams cut short by the client
}

// Mock holds the pre-encoded answers and counters. Safe for concurrent use.
type Mock struct {
	cfg          Config
	chat         []byte
	embeddings   []byte
	models       []byte
	framesPlain  [][]byte
	framesUsage  [][]byte
	nReq, nChat  atomic.Uint64
	nStream      atomic.Uint64
	nEmb, nModel atomic.Uint64
	nAborted     atomic.Uint64
}

// New builds a Mock. Chunks <= 0 means 20.
func New(cfg Config) *Mock {
	if cfg.Chunks <= 0 {
		cfg.Chunks = 20
	}
	return &Mock{
		cfg:         cfg,
		chat:        ChatCompletion(),
		embeddings:  Embeddings(),
		models:      ModelList(),
		framesPlain: StreamFrames(cfg.Chunks, false),
		framesUsage: StreamFrames(cfg.Chunks, true),
	}
}

// Stats returns the counters.
func (m *Mock) Stats() Stats {
	return Stats{
		Requests: m.nReq.Load(), Chat: m.nChat.Load(), Streams: m.nStream.Load(),
		Embeddings: m.nEmb.Load(), Models: m.nModel.Load(), Aborted: m.nAborted.Load(),
	}
}

// NewServer returns a Hertz server with the mock's routes on addr
// (host:port). Extra options are appended to the defaults.
func (m *Mock) NewServer(addr string, opts ...config.Option) *server.Hertz {
	h := benchsrv.New(addr, opts...)
	m.Register(h)
	return h
}

// Register adds the mock's routes to h.
func (m *Mock) Register(h *server.Hertz) {
	h.POST("/v1/chat/completions", m.handleChat)
	h.POST("/v1/embeddings", m.handleEmbeddings)
	h.GET("/v1/models", m.handleModels)
	h.GET("/_stats", func(_ context.Context, c *app.RequestContext) {
		b, _ := json.Marshal(m.Stats())
		c.Data(200, "application/json", b)
	})
}

func (m *Mock) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (m *Mock) handleChat(ctx context.Context, c *app.RequestContext) {
	m.nReq.Add(1)
	body := c.Request.Body()
	if !oaijson.IsStream(body) {
		m.nChat.Add(1)
		if !m.wait(ctx, m.cfg.Latency) {
			return
		}
		c.Data(200, "application/json", m.chat)
		return
	}
	m.nStream.Add(1)
	frames := m.framesPlain
	if oaijson.IncludeUsage(body) {
		frames = m.framesUsage
	}
	if !m.wait(ctx, m.cfg.Latency) {
		return
	}
	c.Response.Header.Set("Cache-Control", "no-cache")
	c.Response.Header.SetContentType("text/event-stream")
	w := resp.NewChunkedBodyWriter(&c.Response, c.GetWriter())
	c.Response.HijackWriter(w)
	for i, f := range frames {
		if i > 0 && !m.wait(ctx, m.cfg.ChunkDelay) {
			m.nAborted.Add(1)
			return
		}
		if _, err := w.Write(f); err != nil {
			m.nAborted.Add(1)
			return
		}
		if err := w.Flush(); err != nil {
			m.nAborted.Add(1)
			return
		}
	}
}

func (m *Mock) handleEmbeddings(ctx context.Context, c *app.RequestContext) {
	m.nReq.Add(1)
	m.nEmb.Add(1)
	if !m.wait(ctx, m.cfg.Latency) {
		return
	}
	c.Data(200, "application/json", m.embeddings)
}

func (m *Mock) handleModels(_ context.Context, c *app.RequestContext) {
	m.nReq.Add(1)
	m.nModel.Add(1)
	c.Data(200, "application/json", m.models)
}

// ChatCompletion returns the fixed non-streamed answer (about 570 bytes).
func ChatCompletion() []byte {
	content := "This is a fixed answer from the Switchyard bench mock, ok."
	return []byte(`{"id":"chatcmpl-bench00000000000000000000001","object":"chat.completion","created":` +
		fmt.Sprint(Created) + `,"model":"` + Model + `","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		content + `","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":` +
		fmt.Sprint(PromptTokens) + `,"completion_tokens":` + fmt.Sprint(CompletionTokens) + `,"total_tokens":` +
		fmt.Sprint(PromptTokens+CompletionTokens) + `,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` +
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}},"service_tier":"default","system_fingerprint":"fp_bench"}`)
}

// StreamFrames returns the complete SSE frames of one streamed answer, each
// "data: <json>\n\n": n chat.completion.chunk frames (the first carries the
// role, the last finish_reason "stop"), then, when includeUsage is set, a
// usage frame with empty choices, then "data: [DONE]\n\n". With includeUsage
// every other chunk carries "usage":null, as OpenAI does.
func StreamFrames(n int, includeUsage bool) [][]byte {
	if n < 1 {
		n = 1
	}
	usageNull := ""
	if includeUsage {
		usageNull = `,"usage":null`
	}
	head := `data: {"id":"chatcmpl-bench00000000000000000000001","object":"chat.completion.chunk","created":` +
		fmt.Sprint(Created) + `,"model":"` + Model + `","system_fingerprint":"fp_bench","choices":[`
	frames := make([][]byte, 0, n+2)
	for i := 0; i < n; i++ {
		delta := `{"content":"tok` + fmt.Sprint(i) + ` "}`
		if i == 0 {
			delta = `{"role":"assistant","content":"","refusal":null}`
		}
		finish := "null"
		if i == n-1 {
			finish = `"stop"`
			if n > 1 {
				delta = `{}`
			}
		}
		frames = append(frames, []byte(head+`{"index":0,"delta":`+delta+`,"logprobs":null,"finish_reason":`+finish+`}]`+usageNull+"}\n\n"))
	}
	if includeUsage {
		frames = append(frames, []byte(head+`],"usage":{"prompt_tokens":`+fmt.Sprint(StreamPromptTokens)+
			`,"completion_tokens":`+fmt.Sprint(n)+`,"total_tokens":`+fmt.Sprint(StreamPromptTokens+n)+
			`,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}}`+"\n\n"))
	}
	frames = append(frames, []byte("data: [DONE]\n\n"))
	return frames
}

// Embeddings returns a fixed embeddings answer with a 16-dimension vector.
func Embeddings() []byte {
	var sb strings.Builder
	sb.WriteString(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[`)
	for i := 0; i < 16; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%.6f", float64(i%7)/7-0.4)
	}
	sb.WriteString(`]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`)
	return []byte(sb.String())
}

// ModelList returns a fixed GET /v1/models answer.
func ModelList() []byte {
	return []byte(`{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":` + fmt.Sprint(Created) +
		`,"owned_by":"system"},{"id":"text-embedding-3-small","object":"model","created":` + fmt.Sprint(Created) +
		`,"owned_by":"system"}]}`)
}
