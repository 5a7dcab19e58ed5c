package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// Prices set by setPrices: test-model ratio 1.5, completion ratio 2.
const (
	chatCharge   = 42 // ceil((12 + 8×2) × 1.5): the mock's non-stream usage
	streamCharge = 33 // ceil((12 + 5×2) × 1.5): 5 chunks, usage chunk on
	embedCharge  = 5  // 5 prompt tokens × 1
)

func setup(t *testing.T) (*gateway, *mockOpenAI) {
	g := startGateway(t, t.TempDir())
	m := newMockOpenAI(t)
	g.addChannel(m, "test-model,test-embed")
	g.setPrices()
	return g, m
}

func sdk(g *gateway, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(g.base+"/v1/"), option.WithAPIKey("sk-"+key), option.WithMaxRetries(0))
}

// Acceptance 1: the official OpenAI Go SDK drives chat (stream and not) and
// embeddings through an OpenAI channel; the upstream sees the channel's key
// and the client's model and messages; each call is billed exactly.
func TestOpenAISDK(t *testing.T) {
	g, m := setup(t)
	uid, access := g.newUser("alice", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	c := sdk(g, tok.Key)
	ctx := context.Background()

	resp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "test-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "Hello! How can I assist you today?" {
		t.Fatalf("content %q", got)
	}
	if resp.Usage.TotalTokens != 20 {
		t.Fatalf("usage %+v", resp.Usage)
	}
	call := m.last()
	if call.Auth != "Bearer sk-upstream-secret" || call.Path != "/v1/chat/completions" || call.Body["model"] != "test-model" {
		t.Fatalf("upstream saw %+v", call)
	}
	msgs, _ := call.Body["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["content"] != "hello there" {
		t.Fatalf("upstream messages %v", call.Body["messages"])
	}

	// Stream with usage requested.
	st := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "test-model",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var text strings.Builder
	var usage int64
	for st.Next() {
		ch := st.Current()
		if len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
		if ch.Usage.TotalTokens > 0 {
			usage = ch.Usage.CompletionTokens
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != strings.Repeat("word ", 5) || usage != 5 {
		t.Fatalf("stream text %q usage %d", text.String(), usage)
	}

	// Stream without usage requested: the gateway still asks the upstream
	// (for billing) but hides the usage chunk.
	st = c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "test-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("again")},
	})
	chunks := 0
	for st.Next() {
		chunks++
		if ch := st.Current(); ch.Usage.TotalTokens != 0 || ch.JSON.Usage.Valid() && ch.Usage.TotalTokens != 0 {
			t.Fatalf("usage chunk sent to a client that did not ask: %s", ch.RawJSON())
		}
	}
	if err := st.Err(); err != nil || chunks != 7 {
		t.Fatalf("stream: %d chunks, err %v", chunks, err)
	}
	opts, _ := m.last().Body["stream_options"].(map[string]any)
	if opts["include_usage"] != true {
		t.Fatalf("gateway did not ask the upstream for usage: %v", m.last().Body)
	}

	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "test-embed",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("embed me")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(emb.Data) != 1 || len(emb.Data[0].Embedding) != 3 {
		t.Fatalf("embedding %+v", emb.Data)
	}
	if m.last().Path != "/v1/embeddings" || m.last().Body["input"] != "embed me" {
		t.Fatalf("upstream saw %+v", m.last())
	}

	want := int64(chatCharge + 2*streamCharge + embedCharge)
	waitFor(t, 5*time.Second, "usage applied", func() bool { return g.user(uid).UsedQuota == want })
	u := g.user(uid)
	if u.Quota != 1_000_000-want || u.RequestCount != 4 {
		t.Fatalf("user %+v, want quota %d and 4 requests", u, 1_000_000-want)
	}
	if tv := g.token(access, tok.ID); tv.UsedQuota != want {
		t.Fatalf("token used %d, want %d", tv.UsedQuota, want)
	}
	if s := g.statQuota("username=alice"); s != want {
		t.Fatalf("log stat %d, want %d", s, want)
	}

	// /v1/models lists what the token may use, in OpenAI's shape.
	page, err := c.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, md := range page.Data {
		ids = append(ids, md.ID)
	}
	if strings.Join(ids, ",") != "test-embed,test-model" {
		t.Fatalf("models %v", ids)
	}
	if md, err := c.Models.Get(ctx, "test-model"); err != nil || md.ID != "test-model" {
		t.Fatalf("get model: %v %v", md, err)
	}
}

// Acceptance 2: 200 concurrent requests on one token are each billed once.
func TestConcurrentBillingExact(t *testing.T) {
	g, m := setup(t)
	uid, access := g.newUser("bob", 10_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != 200 {
				errs <- fmt.Sprintf("%d %s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	want := int64(n * chatCharge)
	waitFor(t, 10*time.Second, "usage applied", func() bool { return g.user(uid).UsedQuota == want })
	time.Sleep(100 * time.Millisecond) // nothing more may arrive
	u := g.user(uid)
	if u.UsedQuota != want || u.RequestCount != n || u.Quota != 10_000_000-want {
		t.Fatalf("user %+v, want used %d over %d requests", u, want, n)
	}
	if s := g.statQuota("username=bob"); s != want {
		t.Fatalf("log stat %d, want %d", s, want)
	}
	if got := m.count.Load(); got != n {
		t.Fatalf("upstream saw %d requests, want %d", got, n)
	}
}

// Acceptance 2: a token with too little quota is refused with 403 and is
// never overdrawn, under concurrency.
func TestLimitedTokenNeverOverdrawn(t *testing.T) {
	g, _ := setup(t)
	uid, access := g.newUser("carol", 10_000_000)
	const limit = 10 * chatCharge
	tok := g.newToken(access, map[string]any{"remain_quota": limit})
	const n = 60
	var mu sync.Mutex
	ok, refused := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`)
			mu.Lock()
			defer mu.Unlock()
			switch resp.StatusCode {
			case 200:
				ok++
			case 403:
				var env struct {
					Error struct {
						Type string `json:"type"`
						Code string `json:"code"`
					} `json:"error"`
				}
				json.Unmarshal(body, &env)
				if env.Error.Type != "insufficient_quota" {
					t.Errorf("403 body %s", body)
				}
				refused++
			default:
				t.Errorf("status %d: %s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	if ok == 0 || refused == 0 || ok > 10 {
		t.Fatalf("%d served, %d refused; want some of each and at most 10 served", ok, refused)
	}
	want := int64(ok * chatCharge)
	waitFor(t, 10*time.Second, "usage applied", func() bool { return g.user(uid).UsedQuota == want })
	tv := g.token(access, tok.ID)
	if tv.UsedQuota != want || tv.RemainQuota != limit-want || tv.RemainQuota < 0 {
		t.Fatalf("token used %d remain %d; want used %d remain %d", tv.UsedQuota, tv.RemainQuota, want, limit-want)
	}
}

// envelope is the OpenAI error body.
type envelope struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	} `json:"error"`
}

// Acceptance 4: every error case answers the OpenAI envelope with the right
// status and the request id, and charges nothing.
func TestErrorsNeverCharge(t *testing.T) {
	g, m := setup(t)
	// Upstream failures go to a second channel (its breaker opens on the
	// 401), so the final request still has a healthy channel.
	bad := newMockOpenAI(t)
	g.addChannel(bad, "err-model")
	g.must("PUT", "/api/option/", map[string]any{"key": "ModelRatio", "value": `{"test-model":1.5,"err-model":1}`}, nil)
	uid, access := g.newUser("dave", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	narrow := g.newToken(access, map[string]any{"unlimited_quota": true, "models": "other-model"})
	poorID, poorAccess := g.newUser("erin", 10)
	poor := g.newToken(poorAccess, map[string]any{"unlimited_quota": true})
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	errChat := `{"model":"err-model","messages":[{"role":"user","content":"hi"}]}`

	cases := []struct {
		name   string
		key    string
		body   string
		status int
		code   string
		setup  func()
	}{
		{"missing key", "", chat, 401, "missing_api_key", nil},
		{"bad key", "sk-" + strings.Repeat("x", 48), chat, 401, "invalid_api_key", nil},
		{"malformed body", tok.Key, `{"model":`, 400, "invalid_request_body", nil},
		{"missing model", tok.Key, `{"messages":[]}`, 400, "missing_model", nil},
		{"model not allowed", narrow.Key, chat, 403, "model_not_allowed", nil},
		{"insufficient quota", poor.Key, chat, 403, "insufficient_user_quota", nil},
		{"no channel", tok.Key, `{"model":"nobody-serves-this","messages":[]}`, 503, "model_not_found", nil},
		{"upstream 500", tok.Key, errChat, 500, "", func() { bad.status.Store(500) }},
		{"upstream 401", tok.Key, errChat, 401, "invalid_api_key", func() { bad.status.Store(401) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad.status.Store(0)
			if c.setup != nil {
				c.setup()
			}
			resp, body := g.post("/v1/chat/completions", c.key, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			var env envelope
			if err := json.Unmarshal(body, &env); err != nil || env.Error.Message == "" || env.Error.Type == "" {
				t.Fatalf("not an OpenAI error envelope: %s", body)
			}
			if c.code != "" && env.Error.Code != c.code {
				t.Fatalf("code %v, want %s: %s", env.Error.Code, c.code, body)
			}
			id := resp.Header.Get("X-Oneapi-Request-Id")
			if id == "" || !strings.Contains(env.Error.Message, id) {
				t.Fatalf("request id %q missing from header or message %q", id, env.Error.Message)
			}
		})
	}
	if m.count.Load() != 0 {
		t.Fatalf("requests refused by the gateway reached the upstream: %d", m.count.Load())
	}
	// A successful request afterwards proves the pipeline is live, so the
	// zero charges above are not an artefact of a stalled shipper.
	if resp, body := g.post("/v1/chat/completions", tok.Key, chat); resp.StatusCode != 200 {
		t.Fatalf("final request: %d %s", resp.StatusCode, body)
	}
	waitFor(t, 5*time.Second, "final usage", func() bool { return g.user(uid).UsedQuota == chatCharge })
	if u := g.user(uid); u.RequestCount != 1 {
		t.Fatalf("user charged for failed requests: %+v", u)
	}
	if u := g.user(poorID); u.UsedQuota != 0 || u.Quota != 10 {
		t.Fatalf("refused user charged: %+v", u)
	}
	if s := g.statQuota(""); s != chatCharge {
		t.Fatalf("consume logs sum %d, want %d", s, chatCharge)
	}
}

// A client that goes away mid-stream cancels the upstream call, and what
// was produced is billed (estimated from the relayed text, since the
// upstream never sent usage).
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	g, m := setup(t)
	m.chunks = 40
	m.chunkDelay = 50 * time.Millisecond
	uid, access := g.newUser("frank", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	c := sdk(g, tok.Key)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "test-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("long story")},
	})
	got := 0
	for st.Next() {
		if len(st.Current().Choices) > 0 && st.Current().Choices[0].Delta.Content != "" {
			got++
		}
		if got == 3 {
			cancel()
			break
		}
	}
	st.Close()
	waitFor(t, 5*time.Second, "upstream cancelled", func() bool { return m.aborted.Load() == 1 })
	waitFor(t, 5*time.Second, "partial stream billed", func() bool { return g.user(uid).UsedQuota > 0 })
	u := g.user(uid)
	// At least the 3 relayed chunks (15 bytes → 4 tokens); far less than
	// the 40 chunks the upstream would have produced.
	min := int64(float64(12+4*2) * 1.5)
	max := int64(float64(12+20*2) * 1.5)
	if u.UsedQuota < min || u.UsedQuota > max {
		t.Fatalf("partial stream billed %d, want between %d and %d", u.UsedQuota, min, max)
	}
}

// Admin writes are visible to the relay immediately (read-your-writes).
func TestTokenUsableRightAfterCreate(t *testing.T) {
	g, _ := setup(t)
	_, access := g.newUser("gina", 1_000_000)
	for i := 0; i < 20; i++ {
		tok := g.newToken(access, map[string]any{"unlimited_quota": true})
		resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("fresh token refused: %d %s", resp.StatusCode, body)
		}
	}
}

// The IP allow-list checks the TCP peer, not headers a client can forge.
func TestTokenSubnetUsesPeerAddress(t *testing.T) {
	g, _ := setup(t)
	_, access := g.newUser("ipuser", 1_000_000)
	elsewhere := g.newToken(access, map[string]any{"unlimited_quota": true, "subnet": "10.0.0.0/8"})
	local := g.newToken(access, map[string]any{"unlimited_quota": true, "subnet": "192.168.1.0/24, 127.0.0.1"})
	chat := `{"model":"test-model","messages":[{"role":"user","content":"hi"}]}`
	req, _ := http.NewRequest("POST", g.base+"/v1/chat/completions", strings.NewReader(chat))
	req.Header.Set("Authorization", "Bearer sk-"+elsewhere.Key)
	req.Header.Set("X-Forwarded-For", "10.1.2.3")
	req.Header.Set("X-Real-IP", "10.1.2.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("forged X-Forwarded-For passed the allow-list: %d", resp.StatusCode)
	}
	if resp, body := g.post("/v1/chat/completions", local.Key, chat); resp.StatusCode != 200 {
		t.Fatalf("allowed address refused: %d %s", resp.StatusCode, body)
	}
	if r := callAPI(t, g.base, access, "POST", "/api/token/", map[string]any{"name": "bad", "subnet": "300.1.1.1"}); r.Success {
		t.Fatal("invalid subnet accepted")
	}
}
