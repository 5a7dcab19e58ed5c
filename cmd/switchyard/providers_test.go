package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"

	"switchyard/adaptors"
	"switchyard/adaptors/ali/alitest"
	"switchyard/adaptors/anthropic/anthropictest"
	"switchyard/adaptors/azure/azuretest"
	"switchyard/adaptors/baidu/baidutest"
	"switchyard/adaptors/bedrock/bedrocktest"
	"switchyard/adaptors/cloudflare/cloudflaretest"
	"switchyard/adaptors/cohere/coheretest"
	"switchyard/adaptors/gemini/geminitest"
	"switchyard/adaptors/ollama/ollamatest"
	"switchyard/adaptors/openaicompat"
	"switchyard/adaptors/openaicompat/compattest"
	"switchyard/adaptors/replicate/replicatetest"
	"switchyard/adaptors/tencent/tencenttest"
	"switchyard/adaptors/vertex/vertextest"
	"switchyard/adaptors/xunfei/xunfeitest"
	"switchyard/adaptors/zhipu/zhiputest"
)

// providerMock is what every provider's mock upstream offers the gateway
// tests: how many requests it answered, and the usage it reports for a
// text answer and for a tool call, in OpenAI terms.
type providerMock interface {
	Requests() int
	LastRequest() (path string, header http.Header, body []byte)
	TextUsage() adaptors.Usage
	ToolUsage() adaptors.Usage
}

// providerCase is one provider behind the gateway: the channel that
// reaches its mock and the model to ask for.
type providerCase struct {
	name  string
	model string
	// text is the answer the mock gives to a plain question.
	text string
	// start starts the provider's mock and returns the channel to create
	// (type, key, base_url, config …) and the mock.
	start func(t *testing.T) (map[string]any, providerMock)
	// noTools: the provider has no tool calling.
	noTools bool
	// after runs last, with the mock (provider-specific checks).
	after func(t *testing.T, m providerMock)
	// lists: the provider has a model-list endpoint (the admin's "fetch
	// models" button).
	lists bool
	// estimatedStream: the provider's streams report no usage, so the
	// gateway bills an estimate.
	estimatedStream bool
	// imageModel, when set, is the model that takes images (the channel
	// serves it too).
	imageModel string
	// rawUsage: OpenAI-compatible rows relay the vendor's own usage
	// object (Moonshot's top-level cached_tokens…); only the token totals
	// are compared, the bill still from every detail.
	rawUsage bool
	// noImages: the provider's chat takes text only.
	noImages bool
	// inline: the provider takes images only inline, so the gateway
	// downloads image URLs; otherwise the URL goes upstream as it is.
	inline bool
}

// Modelled prices: ratio 2.5, completion ratio 3, cache reads 0.1 and
// cache writes 1.25 — so that every part of the usage moves the bill.
const (
	provModelRatio      = 2.5
	provCompletionRatio = 3
	provCacheRatio      = 0.1
	provCacheWriteRatio = 1.25
)

// provCharge is the quota the gateway must bill for u at those prices.
func provCharge(u adaptors.Usage) int64 {
	in := float64(u.PromptTokens-u.CachedTokens-u.CacheWriteTokens) + float64(u.CachedTokens)*provCacheRatio +
		float64(u.CacheWriteTokens)*provCacheWriteRatio
	q := (in + float64(u.CompletionTokens)*provCompletionRatio) * provModelRatio
	return int64(math.Ceil(math.Round(q*1e6) / 1e6))
}

var weatherTool = openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
	Name:        "get_weather",
	Description: openai.String("Current weather in a city"),
	Parameters: openai.FunctionParameters{
		"type":       "object",
		"properties": map[string]any{"location": map[string]any{"type": "string"}},
		"required":   []string{"location"},
	},
})

// runProviderCase drives one provider through the gateway with the
// official OpenAI Go SDK: text and tool calls, streamed and not, and a
// tool result sent back; each answer must be right and billed exactly
// from the provider's usage.
func runProviderCase(t *testing.T, pc providerCase) {
	// Image URLs point at a test server on 127.0.0.1.
	g := startGatewayWith(t, t.TempDir(), func(c *Config) { c.ImageFetchPrivate = true })
	chSpec, mock := pc.start(t)
	chSpec["name"] = pc.name
	chSpec["models"] = pc.model
	if pc.imageModel != "" {
		chSpec["models"] = pc.model + "," + pc.imageModel
	}
	chSpec["group"] = "default"
	var created struct {
		ID int64 `json:"id"`
	}
	g.must("POST", "/api/channel/", chSpec, &created)
	prices := func(key string, v float64) {
		b, _ := json.Marshal(map[string]float64{pc.model: v})
		g.must("PUT", "/api/option/", map[string]any{"key": key, "value": string(b)}, nil)
	}
	prices("ModelRatio", provModelRatio)
	prices("CompletionRatio", provCompletionRatio)
	prices("CacheRatio", provCacheRatio)
	prices("CreateCacheRatio", provCacheWriteRatio)
	if pc.imageModel != "" {
		b, _ := json.Marshal(map[string]float64{pc.model: provModelRatio, pc.imageModel: provModelRatio})
		g.must("PUT", "/api/option/", map[string]any{"key": "ModelRatio", "value": string(b)}, nil)
		b, _ = json.Marshal(map[string]float64{pc.model: provCompletionRatio, pc.imageModel: provCompletionRatio})
		g.must("PUT", "/api/option/", map[string]any{"key": "CompletionRatio", "value": string(b)}, nil)
	}
	uid, access := g.newUser("prov", 100_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	c := sdk(g, tok.Key)
	ctx := context.Background()
	used := g.user(uid).UsedQuota
	billed := func(what string, want adaptors.Usage) {
		t.Helper()
		got := billedSince(t, g, uid, used)
		used += got
		if w := provCharge(want); got != w {
			t.Errorf("%s: billed %d, want %d for usage %+v", what, got, w, want)
		}
	}
	checkUsage := func(what string, got openai.CompletionUsage, want adaptors.Usage) {
		t.Helper()
		details := got.PromptTokensDetails.CachedTokens == int64(want.CachedTokens) &&
			got.CompletionTokensDetails.ReasoningTokens == int64(want.ReasoningTokens)
		if got.PromptTokens != int64(want.PromptTokens) || got.CompletionTokens != int64(want.CompletionTokens) ||
			got.TotalTokens != int64(want.TotalTokens) || !details && !pc.rawUsage {
			t.Errorf("%s: usage %+v, want %+v", what, got, want)
		}
	}
	ask := openai.ChatCompletionNewParams{
		Model: pc.model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You are terse."),
			openai.UserMessage("Say hello."),
		},
		MaxTokens: param.NewOpt[int64](256),
	}

	t.Run("text", func(t *testing.T) {
		resp, err := c.Chat.Completions.New(ctx, ask)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Choices[0].Message.Content; got != pc.text || resp.Choices[0].FinishReason != "stop" {
			t.Fatalf("answer %q (%s), want %q", got, resp.Choices[0].FinishReason, pc.text)
		}
		checkUsage("text", resp.Usage, mock.TextUsage())
		billed("text", mock.TextUsage())
	})
	t.Run("text stream", func(t *testing.T) {
		p := ask
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		st := c.Chat.Completions.NewStreaming(ctx, p)
		var acc openai.ChatCompletionAccumulator
		chunks := 0
		for st.Next() {
			chunks++
			acc.AddChunk(st.Current())
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		if chunks < 3 || acc.Choices[0].Message.Content != pc.text || acc.Choices[0].FinishReason != "stop" {
			t.Fatalf("%d chunks: %q (%s)", chunks, acc.Choices[0].Message.Content, acc.Choices[0].FinishReason)
		}
		if pc.estimatedStream {
			// Estimated from the request and the streamed text.
			if acc.Usage.CompletionTokens == 0 || billedSince(t, g, uid, used) == 0 {
				t.Fatalf("no estimate: %+v", acc.Usage)
			}
			used = g.user(uid).UsedQuota
			return
		}
		checkUsage("stream", acc.Usage, mock.TextUsage())
		billed("text stream", mock.TextUsage())
	})
	t.Run("image", func(t *testing.T) {
		if pc.noImages {
			t.Skip("text-only provider")
		}
		pm := pc
		if pc.imageModel != "" {
			pm.model = pc.imageModel
		}
		checkImageInput(t, c, pm, mock)
		billed("image", mock.TextUsage())
	})
	if pc.noTools {
		return
	}
	toolAsk := openai.ChatCompletionNewParams{
		Model:    pc.model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")},
		Tools:    []openai.ChatCompletionToolUnionParam{weatherTool},
	}
	checkCall := func(what string, calls []openai.ChatCompletionMessageToolCallUnion, finish string) string {
		t.Helper()
		if len(calls) != 1 || finish != "tool_calls" {
			t.Fatalf("%s: %d tool calls, finish %q", what, len(calls), finish)
		}
		fn := calls[0].Function
		var args map[string]any
		if err := json.Unmarshal([]byte(fn.Arguments), &args); err != nil || fn.Name != "get_weather" || args["location"] != "Paris" || calls[0].ID == "" {
			t.Fatalf("%s: call %+v (%v)", what, calls[0], err)
		}
		return calls[0].ID
	}
	var callID string
	t.Run("tool call", func(t *testing.T) {
		resp, err := c.Chat.Completions.New(ctx, toolAsk)
		if err != nil {
			t.Fatal(err)
		}
		callID = checkCall("tool call", resp.Choices[0].Message.ToolCalls, string(resp.Choices[0].FinishReason))
		checkUsage("tool call", resp.Usage, mock.ToolUsage())
		billed("tool call", mock.ToolUsage())
	})
	t.Run("tool call stream", func(t *testing.T) {
		p := toolAsk
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		st := c.Chat.Completions.NewStreaming(ctx, p)
		var acc openai.ChatCompletionAccumulator
		for st.Next() {
			acc.AddChunk(st.Current())
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		checkCall("stream", acc.Choices[0].Message.ToolCalls, string(acc.Choices[0].FinishReason))
		checkUsage("tool stream", acc.Usage, mock.ToolUsage())
		billed("tool call stream", mock.ToolUsage())
	})
	t.Run("tool result", func(t *testing.T) {
		if callID == "" {
			t.Skip("no tool call to answer")
		}
		// The standard OpenAI turn: the assistant's tool call with null
		// content, then the tool's result; the mock checks that the
		// result refers to the call and answers in text.
		p := toolAsk
		p.Messages = append(p.Messages,
			openai.ChatCompletionMessageParamUnion{OfAssistant: &openai.ChatCompletionAssistantMessageParam{
				ToolCalls: []openai.ChatCompletionMessageToolCallUnionParam{{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
					ID:       callID,
					Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: "get_weather", Arguments: `{"location":"Paris"}`},
				}}},
			}},
			openai.ToolMessage(`{"temperature_c":18,"sky":"clear"}`, callID),
		)
		resp, err := c.Chat.Completions.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Choices[0].Message.Content; got != pc.text || len(resp.Choices[0].Message.ToolCalls) != 0 {
			t.Fatalf("answer to the tool result: %q %v", got, resp.Choices[0].Message.ToolCalls)
		}
		billed("tool result", mock.TextUsage())
	})
	t.Run("channel test", func(t *testing.T) {
		// The admin's "test" button: one small chat through the channel.
		resp, err := authedGet(g, fmt.Sprintf("/api/channel/test/%d", created.ID))
		if err != nil {
			t.Fatal(err)
		}
		var tr struct {
			Success bool   `json:"success"`
			Message string `json:"message"`
		}
		if json.Unmarshal(resp, &tr); !tr.Success {
			t.Fatalf("channel test: %s", resp)
		}
	})
	if pc.lists {
		t.Run("fetch models", func(t *testing.T) {
			var models []string
			g.must("GET", fmt.Sprintf("/api/channel/fetch_models/%d", created.ID), nil, &models)
			if len(models) == 0 {
				t.Fatal("no models listed")
			}
		})
	}
	if pc.after != nil {
		pc.after(t, mock)
	}
	if n := mock.Requests(); n < 5 {
		t.Errorf("the mock answered %d requests", n)
	}
}

// checkImageInput sends a chat with an image URL served on 127.0.0.1: a
// provider that takes images only inline gets the image's bytes, others
// the URL.
func checkImageInput(t *testing.T, c openai.Client, pc providerCase, mock providerMock) {
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(testPNG)
	}))
	t.Cleanup(img.Close)
	url := img.URL + "/pixel.png"
	resp, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: pc.model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
			openai.TextContentPart("What is in this image?"),
			openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: url}),
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != pc.text {
		t.Fatalf("answer %q", resp.Choices[0].Message.Content)
	}
	_, _, body := mock.LastRequest()
	want := url
	if pc.inline {
		want = base64.StdEncoding.EncodeToString(testPNG)
	}
	if !bytes.Contains(body, []byte(want)) {
		t.Fatalf("the upstream request does not carry %q:\n%s", want, body)
	}
}

// testPNG is a 1×1 PNG.
var testPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

// Issue 5, acceptance 3: through the running gateway, the official OpenAI
// Go SDK gets right answers, streamed and not, text and tool calls, from
// every provider's mock upstream — each of which checks authentication for
// real — and every answer is billed exactly from the provider's usage.
func TestProvidersThroughGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("gateway test")
	}
	for _, pc := range providerCases() {
		t.Run(pc.name, func(t *testing.T) { runProviderCase(t, pc) })
	}
}

// compatCases are the OpenAI-compatible rows of issue 6's providers,
// each against its mock (the vendor's paths, auth and usage semantics).
func compatCases() []providerCase {
	var out []providerCase
	for _, v := range openaicompat.Vendors() {
		switch v.Type {
		case openaicompat.TypeMiniMax, openaicompat.TypeDoubao, openaicompat.TypeMoonshot, openaicompat.TypeDeepSeek,
			openaicompat.TypeLingYiWanWu, openaicompat.TypeBaichuan, openaicompat.TypeSiliconFlow, 19, 32, 48:
		default:
			continue
		}
		v := v
		out = append(out, providerCase{
			name: "compat-" + v.Name, model: v.Models[0], text: "Hello from the " + v.Name + " mock!", rawUsage: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := compattest.NewServer(t, v, "sk-"+strings.ToLower(v.Name)+"-0123")
				return map[string]any{"type": v.Type, "key": m.Key, "base_url": m.BaseURL()}, m
			},
		})
	}
	return out
}

func providerCases() []providerCase {
	return append(compatCases(), []providerCase{
		{
			name: "anthropic", lists: true, model: "claude-sonnet-4-5", text: anthropictest.MockText, inline: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := anthropictest.NewServer(t, "sk-ant-api03-test")
				return map[string]any{"type": 14, "key": m.Key, "base_url": m.URL}, m
			},
		},
		{
			// Claude through InvokeModel, signed with SigV4 from the
			// compact key form; the mock recomputes the signature.
			name: "bedrock-claude", lists: true, model: "claude-3-5-haiku-20241022", text: "Hello from the Bedrock mock!", inline: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := bedrocktest.NewServer(t, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1")
				return map[string]any{"type": 33, "key": "AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY|us-east-1", "base_url": m.URL}, m
			},
		},
		{
			// Llama through Converse, credentials in the channel config.
			name: "bedrock-converse", model: "llama3-70b-8192", text: "Hello from the Bedrock mock!", inline: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := bedrocktest.NewServer(t, "AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "eu-west-1")
				return map[string]any{"type": 33, "key": "unused", "base_url": m.URL,
					"config": `{"region":"eu-west-1","ak":"AKIAI44QH8DHBEXAMPLE","sk":"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}`}, m
			},
		},
		{
			// Gemini on Vertex: a service-account key as the channel key,
			// exchanged (JWT verified by the mock) for a token that every
			// request reuses.
			name: "vertex-gemini", model: "gemini-2.5-flash", text: vertextest.GeminiText, inline: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := vertextest.NewServer(t)
				return map[string]any{"type": 42, "key": m.ServiceAccountJSON(), "base_url": m.URL,
					"config": `{"region":"` + m.Region + `"}`}, m
			},
			after: func(t *testing.T, m providerMock) {
				if n := m.(*vertextest.Server).TokenExchanges(); n != 1 {
					t.Errorf("%d token exchanges, want 1 for every request", n)
				}
			},
		},
		{
			// Claude on Vertex, the key in One API's vertex_ai_adc config.
			name: "vertex-claude", model: "claude-sonnet-4-5-20250929", text: vertextest.ClaudeText, inline: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := vertextest.NewServer(t)
				return map[string]any{"type": 42, "key": "adc-in-config", "base_url": m.URL,
					"config": `{"region":"` + m.Region + `","vertex_ai_adc":` + m.ServiceAccountJSON() + `}`}, vertexClaude{m}
			},
		},
		{
			name: "gemini", lists: true, model: "gemini-2.5-flash", text: geminitest.Text, inline: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := geminitest.NewServer(t, "AIzaSyTest-0123456789")
				return map[string]any{"type": 24, "key": m.Key, "base_url": m.URL}, m
			},
		},
		{
			name: "cohere", lists: true, model: "command-a-03-2025", text: coheretest.MockText,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := coheretest.NewServer(t, "cohere-key-0123")
				return map[string]any{"type": 35, "key": m.Key, "base_url": m.URL}, m
			},
		},
		{
			name: "ollama", lists: true, model: "llama3.2:latest", text: ollamatest.Text, inline: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := ollamatest.NewServer(t, "ollama-proxy-key")
				return map[string]any{"type": 30, "key": m.Key, "base_url": m.URL}, m
			},
		},
		{
			name: "replicate", model: "meta/meta-llama-3-70b-instruct", text: replicatetest.Text,
			noTools: true, estimatedStream: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := replicatetest.NewServer(t, "r8_test_token")
				return map[string]any{"type": 46, "key": m.Key, "base_url": m.URL}, m
			},
		},
		{
			// Spark over a WebSocket whose URL signature the mock checks
			// before the upgrade.
			name: "xunfei", model: "Spark-Max", text: xunfeitest.MockText, noImages: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := xunfeitest.NewServer(t, "app0123", "secret-0123456789", "key-0123456789")
				return map[string]any{"type": 18, "key": m.Key(), "base_url": m.URL}, m
			},
		},
		{
			// GLM with the HS256 JWT minted from the id.secret key; the
			// mock verifies it.
			name: "zhipu", model: "glm-4.6", text: zhiputest.MockText,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := zhiputest.NewServer(t, "0123456789abcdef.secretsecretsecret")
				return map[string]any{"type": 16, "key": m.Key, "base_url": m.URL}, m
			},
		},
		{
			// Hunyuan signed with TC3-HMAC-SHA256 over the host actually
			// used; the mock recomputes the signature.
			name: "tencent", model: "hunyuan-turbos-latest", imageModel: "hunyuan-vision", text: tencenttest.MockText,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := tencenttest.NewServer(t, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")
				return map[string]any{"type": 23, "key": "1250000000|AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE|Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "base_url": m.URL}, m
			},
		},
		{
			// ERNIE v1: the API_KEY|SECRET_KEY pair exchanged for an
			// access token once, then passed as ?access_token=.
			name: "baidu", model: "ERNIE-4.0-8K", text: baidutest.MockText, noImages: true,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := baidutest.NewServer(t, "baidu-api-key", "baidu-secret-key")
				return map[string]any{"type": 15, "key": m.Key(), "base_url": m.URL}, m
			},
			after: func(t *testing.T, m providerMock) {
				if n := m.(*baidutest.Server).TokenExchanges(); n != 1 {
					t.Errorf("%d token exchanges, want 1", n)
				}
			},
		},
		{
			name: "baidu-v2", model: "ernie-4.0-8k", text: baidutest.V2Text,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := baidutest.NewV2Server(t, "bce-v3/ALTAK-key", "app-0123")
				return map[string]any{"type": 47, "key": "bce-v3/ALTAK-key|app-0123", "base_url": m.URL}, m
			},
		},
		{
			// DashScope's native API (incremental SSE with cumulative usage).
			// Images go to the multimodal endpoint, whose mock reports
			// other usage; they are covered in adaptors/ali.
			name: "ali", model: "qwen-plus", noImages: true, text: alitest.Text,
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := alitest.NewServer(t, "sk-dashscope-0123")
				return map[string]any{"type": 17, "key": m.Key, "base_url": m.URL}, m
			},
		},
		{
			name: "azure", model: "gpt-4o", text: "Hello from the Azure OpenAI mock!",
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := azuretest.NewServer(t, "azure-key-0123")
				// One API's field for the api-version.
				return map[string]any{"type": 3, "key": m.Key, "base_url": m.URL, "other": "2024-10-21"}, m
			},
		},
		{
			name: "cloudflare", lists: true, model: "@cf/meta/llama-3.1-8b-instruct", text: "Hello from the Cloudflare Workers AI mock!",
			start: func(t *testing.T) (map[string]any, providerMock) {
				m := cloudflaretest.NewServer(t, "cf-token-0123", "0123456789abcdef0123456789abcdef")
				return map[string]any{"type": 37, "key": m.Key, "base_url": m.URL,
					"config": `{"account_id":"0123456789abcdef0123456789abcdef"}`}, m
			},
		},
	}...)
}

// vertexClaude reports the Vertex mock's usage for Claude models.
type vertexClaude struct{ *vertextest.Server }

func (v vertexClaude) TextUsage() adaptors.Usage { return v.ClaudeTextUsage() }
func (v vertexClaude) ToolUsage() adaptors.Usage { return v.ClaudeToolUsage() }

// An image URL the gateway must not fetch (a loopback address, with
// --image-fetch-private off) is the client's error: 400
// invalid_image_url, the upstream never called, nothing billed.
func TestImageURLGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("gateway test")
	}
	g := startGatewayWith(t, t.TempDir(), nil)
	m := anthropictest.NewServer(t, "sk-ant-api03-test")
	g.must("POST", "/api/channel/", map[string]any{"type": 14, "name": "claude", "key": m.Key, "base_url": m.URL,
		"models": "claude-sonnet-4-5", "group": "default"}, nil)
	uid, access := g.newUser("img", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the gateway fetched a loopback image URL")
		w.Write(testPNG)
	}))
	t.Cleanup(img.Close)
	body := `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},` +
		`{"type":"image_url","image_url":{"url":"` + img.URL + `/cat.png"}}]}]}`
	resp, out := g.post("/v1/chat/completions", tok.Key, body)
	if resp.StatusCode != 400 || !strings.Contains(string(out), "invalid_image_url") || !strings.Contains(string(out), "not public") {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if m.Requests() != 0 {
		t.Fatalf("the upstream was called %d times", m.Requests())
	}
	if u := g.user(uid); u.UsedQuota != 0 {
		t.Fatalf("billed %d", u.UsedQuota)
	}
}
