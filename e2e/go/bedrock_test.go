package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"switchyard/adaptors"
	"switchyard/adaptors/bedrock"
	"switchyard/adaptors/bedrock/bedrocktest"
)

// The Bedrock adaptor is written without the AWS SDK, and so is the mock
// Bedrock (bedrocktest) it is tested against, apart from the SigV4
// signer the mock verifies signatures with. These tests hold both to the
// AWS SDK for Go v2 (service/bedrockruntime), code no one here wrote:
//
//   - the SDK client talks to the mock: the mock accepts the SDK's real
//     signatures, and its JSON answers and binary event streams are what
//     the SDK decodes, with the content, stop reasons and usage the
//     adaptor's own tests expect;
//   - for a range of OpenAI chat requests, the Converse body the adaptor
//     builds equals, as a JSON value, the body the SDK serializes for the
//     same conversation written with its types, and goes to the same
//     path;
//   - a request the adaptor built and signed, replayed byte for byte,
//     passes the mock's SigV4 check, and fails it with one body byte
//     changed.

const (
	bedrockAK     = "AKIAIOSFODNN7EXAMPLE"
	bedrockSK     = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	bedrockRegion = "us-west-2"

	// The text of the mock's answers.
	bedrockMockText = "Hello from the Bedrock mock!"
	converseLite    = "amazon.nova-lite-v1:0"
	claudeHaiku     = "anthropic.claude-3-haiku-20240307-v1:0"
)

// bedrockClient is an SDK client for the endpoint, signing with the
// mock's access key pair. It loads no shared config, signs with SigV4
// even when AWS_BEARER_TOKEN_BEDROCK is set, and does not retry.
func bedrockClient(endpoint string) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:       bedrockRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(bedrockAK, bedrockSK, ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Timeout: 20 * time.Second},
	}, func(o *bedrockruntime.Options) {
		o.AuthSchemePreference = []string{"sigv4"}
		o.BearerAuthTokenProvider = nil
	})
}

func newBedrockMock(t *testing.T, opts ...bedrocktest.Option) (*bedrocktest.Server, *bedrockruntime.Client) {
	t.Helper()
	m := bedrocktest.NewServer(t, bedrockAK, bedrockSK, bedrockRegion, opts...)
	return m, bedrockClient(m.URL)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func i32(p *int32) int {
	if p == nil {
		return -1
	}
	return int(*p)
}

// checkTokenUsage compares a Converse TokenUsage with the mock's usage in
// OpenAI terms: Bedrock's inputTokens leaves the cached tokens out, its
// totalTokens counts them.
func checkTokenUsage(t *testing.T, u *types.TokenUsage, want adaptors.Usage) {
	t.Helper()
	if u == nil {
		t.Fatal("no usage")
	}
	in, out, total := i32(u.InputTokens), i32(u.OutputTokens), i32(u.TotalTokens)
	read, write := 0, 0
	if u.CacheReadInputTokens != nil {
		read = int(*u.CacheReadInputTokens)
	}
	if u.CacheWriteInputTokens != nil {
		write = int(*u.CacheWriteInputTokens)
	}
	got := adaptors.Usage{PromptTokens: in + read + write, CompletionTokens: out, TotalTokens: total, CachedTokens: read, CacheWriteTokens: write}
	if got != want {
		t.Errorf("usage: input %d, output %d, total %d, cache read %d, cache write %d; in OpenAI terms %+v, want %+v",
			in, out, total, read, write, got, want)
	}
}

// anthropicUsage is the usage member of Claude's Message and stream events.
type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

func checkAnthropicUsage(t *testing.T, u anthropicUsage, want adaptors.Usage) {
	t.Helper()
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
	got := adaptors.Usage{PromptTokens: prompt, CompletionTokens: u.OutputTokens, TotalTokens: prompt + u.OutputTokens,
		CachedTokens: u.CacheReadInputTokens, CacheWriteTokens: u.CacheCreationInputTokens}
	if got != want {
		t.Errorf("usage %+v, in OpenAI terms %+v, want %+v", u, got, want)
	}
}

// weatherTool is the tool the mock calls (it calls the first tool of a
// request whose last turn is the user's).
func weatherTool() types.Tool {
	return &types.ToolMemberToolSpec{Value: types.ToolSpecification{
		Name:        aws.String("get_weather"),
		Description: aws.String("Current weather"),
		InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
			"type":       "object",
			"properties": map[string]any{"location": map[string]any{"type": "string"}},
			"required":   []any{"location"},
		})},
	}}
}

func userText(s string) types.Message {
	return types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: s}}}
}

// checkSDKRequest checks the SDK's last request to the mock against the
// one the adaptor builds for the same model: the same path (the model id
// escaped the same way), and the same signed headers but for the SDK's
// own amz-sdk-invocation-id and amz-sdk-request. Neither sends
// X-Amz-Content-Sha256.
func checkSDKRequest(t *testing.T, m *bedrocktest.Server, model string, stream bool) {
	t.Helper()
	sdkPath, sdkHeader, _ := m.LastRequest()
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: model, Stream: stream,
		Body: []byte(`{"messages":[{"role":"user","content":"Hi"}]}`)}
	hr, err := bedrock.New(bedrock.Options{}).BuildRequest(bedrockChannel("http://127.0.0.1:1"), req)
	if err != nil {
		t.Fatal(err)
	}
	if ours := strings.TrimPrefix(hr.URL, "http://127.0.0.1:1"); ours != sdkPath {
		t.Errorf("path: the SDK sent %s, the adaptor sends %s", sdkPath, ours)
	}
	var ours string
	for _, h := range hr.Header {
		if h.Key == "Authorization" {
			ours = signedHeaders(h.Value)
		}
	}
	var sdk []string
	for _, h := range strings.Split(signedHeaders(sdkHeader.Get("Authorization")), ";") {
		if !strings.HasPrefix(h, "amz-sdk-") {
			sdk = append(sdk, h)
		}
	}
	if strings.Join(sdk, ";") != ours || ours == "" {
		t.Errorf("signed headers: the SDK's %s, ours %s", signedHeaders(sdkHeader.Get("Authorization")), ours)
	}
	if v := sdkHeader.Get("X-Amz-Content-Sha256"); v != "" {
		t.Errorf("the SDK sent X-Amz-Content-Sha256: %s", v)
	}
}

// signedHeaders returns the SignedHeaders of a SigV4 Authorization.
func signedHeaders(authz string) string {
	_, rest, _ := strings.Cut(authz, "SignedHeaders=")
	v, _, _ := strings.Cut(rest, ",")
	return v
}

func bedrockChannel(baseURL string) *adaptors.Channel {
	return &adaptors.Channel{BaseURL: baseURL, Config: map[string]string{"region": bedrockRegion, "ak": bedrockAK, "sk": bedrockSK}}
}

// ---- The SDK against the mock ----

func TestBedrockSDKConverse(t *testing.T) {
	m, c := newBedrockMock(t)
	ctx := testContext(t)

	t.Run("text", func(t *testing.T) {
		out, err := c.Converse(ctx, &bedrockruntime.ConverseInput{
			ModelId:  aws.String(converseLite),
			System:   []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "Be brief."}},
			Messages: []types.Message{userText("Hello!")},
		})
		if err != nil {
			t.Fatalf("Converse: %v", err)
		}
		checkSDKRequest(t, m, converseLite, false)
		msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
		if !ok {
			t.Fatalf("output is %T", out.Output)
		}
		if msg.Value.Role != types.ConversationRoleAssistant || len(msg.Value.Content) != 2 {
			t.Fatalf("message: role %q, %d blocks", msg.Value.Role, len(msg.Value.Content))
		}
		// The mock answers like a reasoning model: reasoning, then text.
		rc, ok := msg.Value.Content[0].(*types.ContentBlockMemberReasoningContent)
		if !ok {
			t.Fatalf("block 0 is %T", msg.Value.Content[0])
		}
		rt, ok := rc.Value.(*types.ReasoningContentBlockMemberReasoningText)
		if !ok || aws.ToString(rt.Value.Text) != "The user greets me. I greet back." || aws.ToString(rt.Value.Signature) == "" {
			t.Errorf("reasoning block: %#v", rc.Value)
		}
		if txt, ok := msg.Value.Content[1].(*types.ContentBlockMemberText); !ok || txt.Value != bedrockMockText {
			t.Errorf("block 1: %#v", msg.Value.Content[1])
		}
		if out.StopReason != types.StopReasonEndTurn {
			t.Errorf("stop reason %q", out.StopReason)
		}
		checkTokenUsage(t, out.Usage, m.TextUsage())
		if out.Metrics == nil || aws.ToInt64(out.Metrics.LatencyMs) <= 0 {
			t.Errorf("metrics %#v", out.Metrics)
		}
	})

	t.Run("tool", func(t *testing.T) {
		out, err := c.Converse(ctx, &bedrockruntime.ConverseInput{
			ModelId:    aws.String(converseLite),
			Messages:   []types.Message{userText("What is the weather in Paris?")},
			ToolConfig: &types.ToolConfiguration{Tools: []types.Tool{weatherTool()}},
		})
		if err != nil {
			t.Fatalf("Converse: %v", err)
		}
		msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
		if !ok || len(msg.Value.Content) != 1 {
			t.Fatalf("output %#v", out.Output)
		}
		tu, ok := msg.Value.Content[0].(*types.ContentBlockMemberToolUse)
		if !ok {
			t.Fatalf("block 0 is %T", msg.Value.Content[0])
		}
		var input map[string]any
		if err := tu.Value.Input.UnmarshalSmithyDocument(&input); err != nil {
			t.Fatal(err)
		}
		if aws.ToString(tu.Value.Name) != "get_weather" || aws.ToString(tu.Value.ToolUseId) == "" ||
			!reflect.DeepEqual(input, map[string]any{"location": "Paris"}) {
			t.Errorf("tool use: name %q, id %q, input %v", aws.ToString(tu.Value.Name), aws.ToString(tu.Value.ToolUseId), input)
		}
		if out.StopReason != types.StopReasonToolUse {
			t.Errorf("stop reason %q", out.StopReason)
		}
		checkTokenUsage(t, out.Usage, m.ToolUsage())
	})
}

// converseStreamResult is what a ConverseStream's events add up to.
type converseStreamResult struct {
	events    []string
	role      types.ConversationRole
	reasoning string
	signature string
	text      string
	toolName  string
	toolID    string
	toolInput string
	stops     int
	stop      types.StopReason
	usage     *types.TokenUsage
}

// readConverseStream reads every event through the SDK's reader.
func readConverseStream(t *testing.T, out *bedrockruntime.ConverseStreamOutput) converseStreamResult {
	t.Helper()
	stream := out.GetStream()
	defer stream.Close()
	var r converseStreamResult
	for ev := range stream.Events() {
		switch v := ev.(type) {
		case *types.ConverseStreamOutputMemberMessageStart:
			r.events = append(r.events, "messageStart")
			r.role = v.Value.Role
		case *types.ConverseStreamOutputMemberContentBlockStart:
			r.events = append(r.events, "contentBlockStart")
			if s, ok := v.Value.Start.(*types.ContentBlockStartMemberToolUse); ok {
				r.toolName, r.toolID = aws.ToString(s.Value.Name), aws.ToString(s.Value.ToolUseId)
			}
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			r.events = append(r.events, "contentBlockDelta")
			switch d := v.Value.Delta.(type) {
			case *types.ContentBlockDeltaMemberText:
				r.text += d.Value
			case *types.ContentBlockDeltaMemberToolUse:
				r.toolInput += aws.ToString(d.Value.Input)
			case *types.ContentBlockDeltaMemberReasoningContent:
				switch rd := d.Value.(type) {
				case *types.ReasoningContentBlockDeltaMemberText:
					r.reasoning += rd.Value
				case *types.ReasoningContentBlockDeltaMemberSignature:
					r.signature += rd.Value
				default:
					t.Errorf("reasoning delta %T", rd)
				}
			default:
				t.Errorf("delta %T", d)
			}
		case *types.ConverseStreamOutputMemberContentBlockStop:
			r.events = append(r.events, "contentBlockStop")
			r.stops++
		case *types.ConverseStreamOutputMemberMessageStop:
			r.events = append(r.events, "messageStop")
			r.stop = v.Value.StopReason
		case *types.ConverseStreamOutputMemberMetadata:
			r.events = append(r.events, "metadata")
			r.usage = v.Value.Usage
		default:
			t.Errorf("unexpected event %T", ev)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return r
}

func TestBedrockSDKConverseStream(t *testing.T) {
	m, c := newBedrockMock(t)
	ctx := testContext(t)

	t.Run("text", func(t *testing.T) {
		out, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{
			ModelId:  aws.String(converseLite),
			System:   []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "Be brief."}},
			Messages: []types.Message{userText("Hello!")},
		})
		if err != nil {
			t.Fatalf("ConverseStream: %v", err)
		}
		r := readConverseStream(t, out)
		checkSDKRequest(t, m, converseLite, true)
		if r.role != types.ConversationRoleAssistant || r.text != bedrockMockText ||
			r.reasoning != "The user greets me. I greet back." || r.signature == "" {
			t.Errorf("role %q, text %q, reasoning %q, signature %q", r.role, r.text, r.reasoning, r.signature)
		}
		if r.stops != 2 || r.stop != types.StopReasonEndTurn || r.events[0] != "messageStart" || r.events[len(r.events)-1] != "metadata" {
			t.Errorf("events %v, stop reason %q", r.events, r.stop)
		}
		checkTokenUsage(t, r.usage, m.TextUsage())
	})

	t.Run("tool", func(t *testing.T) {
		out, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{
			ModelId:    aws.String(converseLite),
			Messages:   []types.Message{userText("What is the weather in Paris?")},
			ToolConfig: &types.ToolConfiguration{Tools: []types.Tool{weatherTool()}},
		})
		if err != nil {
			t.Fatalf("ConverseStream: %v", err)
		}
		r := readConverseStream(t, out)
		var input map[string]any
		if err := json.Unmarshal([]byte(r.toolInput), &input); err != nil {
			t.Fatalf("tool input %q: %v", r.toolInput, err)
		}
		if r.toolName != "get_weather" || r.toolID == "" || !reflect.DeepEqual(input, map[string]any{"location": "Paris"}) || r.text != "" {
			t.Errorf("tool %q id %q input %q, text %q", r.toolName, r.toolID, r.toolInput, r.text)
		}
		want := []string{"messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockDelta", "contentBlockDelta",
			"contentBlockStop", "messageStop", "metadata"}
		if !reflect.DeepEqual(r.events, want) || r.stop != types.StopReasonToolUse {
			t.Errorf("events %v, stop reason %q", r.events, r.stop)
		}
		checkTokenUsage(t, r.usage, m.ToolUsage())
	})
}

// claudeBody is an InvokeModel body for Claude on Bedrock.
func claudeBody(t *testing.T, tools bool) []byte {
	t.Helper()
	body := map[string]any{
		"anthropic_version": "bedrock-2023-05-31",
		"max_tokens":        256,
		"system":            "Be brief.",
		"messages":          []any{map[string]any{"role": "user", "content": "Hello!"}},
	}
	if tools {
		body["messages"] = []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "What is the weather in Paris?"}}}}
		body["tools"] = []any{map[string]any{"name": "get_weather", "description": "Current weather",
			"input_schema": map[string]any{"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}}}}
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// claudeMessage is the Messages API answer, as far as the tests read it.
type claudeMessage struct {
	Type       string `json:"type"`
	Role       string `json:"role"`
	Model      string `json:"model"`
	StopReason string `json:"stop_reason"`
	Content    []struct {
		Type  string         `json:"type"`
		Text  string         `json:"text"`
		ID    string         `json:"id"`
		Name  string         `json:"name"`
		Input map[string]any `json:"input"`
	} `json:"content"`
	Usage anthropicUsage `json:"usage"`
}

func TestBedrockSDKInvokeModel(t *testing.T) {
	m, c := newBedrockMock(t)
	ctx := testContext(t)
	for _, tools := range []bool{false, true} {
		name := map[bool]string{false: "text", true: "tool"}[tools]
		t.Run(name, func(t *testing.T) {
			out, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{
				ModelId:     aws.String(claudeHaiku),
				ContentType: aws.String("application/json"),
				// No Accept: it defaults to application/json, and the
				// adaptor leaves it out (with it the SDK would send and
				// sign an Accept header the adaptor's request lacks).
				Body: claudeBody(t, tools),
			})
			if err != nil {
				t.Fatalf("InvokeModel: %v", err)
			}
			checkSDKRequest(t, m, claudeHaiku, false)
			if ct := aws.ToString(out.ContentType); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			var msg claudeMessage
			if err := json.Unmarshal(out.Body, &msg); err != nil {
				t.Fatalf("body %s: %v", out.Body, err)
			}
			if msg.Type != "message" || msg.Role != "assistant" || msg.Model != "claude-3-haiku-20240307" || len(msg.Content) != 1 {
				t.Fatalf("message %s", out.Body)
			}
			b := msg.Content[0]
			if !tools {
				if b.Type != "text" || b.Text != bedrockMockText || msg.StopReason != "end_turn" {
					t.Errorf("message %s", out.Body)
				}
				checkAnthropicUsage(t, msg.Usage, m.TextUsage())
				return
			}
			if b.Type != "tool_use" || b.Name != "get_weather" || b.ID == "" ||
				!reflect.DeepEqual(b.Input, map[string]any{"location": "Paris"}) || msg.StopReason != "tool_use" {
				t.Errorf("message %s", out.Body)
			}
			checkAnthropicUsage(t, msg.Usage, m.ToolUsage())
		})
	}
}

func TestBedrockSDKInvokeModelWithResponseStream(t *testing.T) {
	m, c := newBedrockMock(t)
	ctx := testContext(t)
	for _, tools := range []bool{false, true} {
		name := map[bool]string{false: "text", true: "tool"}[tools]
		t.Run(name, func(t *testing.T) {
			out, err := c.InvokeModelWithResponseStream(ctx, &bedrockruntime.InvokeModelWithResponseStreamInput{
				ModelId:     aws.String(claudeHaiku),
				ContentType: aws.String("application/json"),
				// No Accept (X-Amzn-Bedrock-Accept here), as above.
				Body: claudeBody(t, tools),
			})
			if err != nil {
				t.Fatalf("InvokeModelWithResponseStream: %v", err)
			}
			checkSDKRequest(t, m, claudeHaiku, true)
			stream := out.GetStream()
			defer stream.Close()

			// Each chunk's bytes, which the SDK has base64-decoded, are
			// one Messages stream event.
			var seen, text, partial, toolName, stop string
			var usage anthropicUsage
			var metrics map[string]any
			for ev := range stream.Events() {
				chunk, ok := ev.(*types.ResponseStreamMemberChunk)
				if !ok {
					t.Fatalf("event %T", ev)
				}
				var e struct {
					Type    string `json:"type"`
					Message struct {
						Usage anthropicUsage `json:"usage"`
					} `json:"message"`
					ContentBlock struct {
						Type string `json:"type"`
						Name string `json:"name"`
					} `json:"content_block"`
					Delta struct {
						Type        string `json:"type"`
						Text        string `json:"text"`
						PartialJSON string `json:"partial_json"`
						StopReason  string `json:"stop_reason"`
					} `json:"delta"`
					Usage   *anthropicUsage `json:"usage"`
					Metrics map[string]any  `json:"amazon-bedrock-invocationMetrics"`
				}
				if err := json.Unmarshal(chunk.Value.Bytes, &e); err != nil {
					t.Fatalf("chunk %q: %v", chunk.Value.Bytes, err)
				}
				seen += e.Type + " "
				switch e.Type {
				case "message_start":
					usage = e.Message.Usage
				case "content_block_start":
					if e.ContentBlock.Type == "tool_use" {
						toolName = e.ContentBlock.Name
					}
				case "content_block_delta":
					text += e.Delta.Text
					partial += e.Delta.PartialJSON
				case "message_delta":
					stop = e.Delta.StopReason
					if e.Usage != nil {
						usage.OutputTokens = e.Usage.OutputTokens
					}
				case "message_stop":
					metrics = e.Metrics
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if !strings.HasPrefix(seen, "message_start content_block_start content_block_delta ") ||
				!strings.HasSuffix(seen, "content_block_stop message_delta message_stop ") {
				t.Errorf("events: %s", seen)
			}
			if metrics == nil {
				t.Error("message_stop has no amazon-bedrock-invocationMetrics")
			}
			if !tools {
				if text != bedrockMockText || stop != "end_turn" {
					t.Errorf("text %q, stop reason %q", text, stop)
				}
				checkAnthropicUsage(t, usage, m.TextUsage())
				return
			}
			var input map[string]any
			if err := json.Unmarshal([]byte(partial), &input); err != nil {
				t.Fatalf("tool input %q: %v", partial, err)
			}
			if toolName != "get_weather" || !reflect.DeepEqual(input, map[string]any{"location": "Paris"}) || stop != "tool_use" || text != "" {
				t.Errorf("tool %q input %q, stop reason %q, text %q", toolName, partial, stop, text)
			}
			checkAnthropicUsage(t, usage, m.ToolUsage())
		})
	}
}

// ---- Our Converse bodies against the SDK's serialization ----

// captured is one request a capture server received.
type captured struct {
	path string // escaped, as sent
	body []byte
}

// captureServer records requests and answers them with a minimal valid
// Converse answer, or ConverseStream event stream.
type captureServer struct {
	URL  string
	mu   sync.Mutex
	reqs []captured
}

func newCaptureServer(t *testing.T) *captureServer {
	cs := &captureServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cs.mu.Lock()
		cs.reqs = append(cs.reqs, captured{path: r.URL.RequestURI(), body: body})
		cs.mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/converse-stream") {
			w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
			w.Write(bedrocktest.EventFrame("messageStart", []byte(`{"role":"assistant"}`)))
			w.Write(bedrocktest.EventFrame("contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":"ok"}}`)))
			w.Write(bedrocktest.EventFrame("contentBlockStop", []byte(`{"contentBlockIndex":0}`)))
			w.Write(bedrocktest.EventFrame("messageStop", []byte(`{"stopReason":"end_turn"}`)))
			w.Write(bedrocktest.EventFrame("metadata", []byte(`{"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"metrics":{"latencyMs":1}}`)))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"stopReason":"end_turn",`+
			`"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"metrics":{"latencyMs":1}}`)
	}))
	t.Cleanup(srv.Close)
	cs.URL = srv.URL
	return cs
}

func (cs *captureServer) last(t *testing.T) captured {
	t.Helper()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.reqs) == 0 {
		t.Fatal("no request captured")
	}
	return cs.reqs[len(cs.reqs)-1]
}

// A 1×1 PNG, and a few bytes standing for a JPEG and a PDF.
const (
	pngBase64  = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	jpegBase64 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
	pdfBase64  = "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg=="
)

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// weatherSchema is the tools' parameters, as JSON and as a document.
const weatherSchemaJSON = `{"type":"object","properties":{"location":{"type":"string","description":"City name"},` +
	`"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["location"]}`

func weatherSchema() document.Interface {
	return document.NewLazyDocument(map[string]any{
		"type": "object",
		"properties": map[string]any{
			"location": map[string]any{"type": "string", "description": "City name"},
			"unit":     map[string]any{"type": "string", "enum": []any{"celsius", "fahrenheit"}},
			"days":     map[string]any{"type": "integer", "minimum": 1, "maximum": 7},
		},
		"required": []any{"location"},
	})
}

const weatherToolsJSON = `"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",` +
	`"parameters":` + weatherSchemaJSON + `}},{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`

func sdkWeatherTools() []types.Tool {
	return []types.Tool{
		&types.ToolMemberToolSpec{Value: types.ToolSpecification{
			Name: aws.String("get_weather"), Description: aws.String("Current weather"),
			InputSchema: &types.ToolInputSchemaMemberJson{Value: weatherSchema()},
		}},
		&types.ToolMemberToolSpec{Value: types.ToolSpecification{
			Name: aws.String("get_time"),
			InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
				"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
			})},
		}},
	}
}

func sdkText(s string) types.ContentBlock { return &types.ContentBlockMemberText{Value: s} }

func sdkSystem(s ...string) []types.SystemContentBlock {
	out := make([]types.SystemContentBlock, len(s))
	for i, v := range s {
		out[i] = &types.SystemContentBlockMemberText{Value: v}
	}
	return out
}

func sdkUser(blocks ...types.ContentBlock) types.Message {
	return types.Message{Role: types.ConversationRoleUser, Content: blocks}
}

func sdkAssistant(blocks ...types.ContentBlock) types.Message {
	return types.Message{Role: types.ConversationRoleAssistant, Content: blocks}
}

func toolUse(id, name string, input map[string]any) types.ContentBlock {
	return &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
		ToolUseId: aws.String(id), Name: aws.String(name), Input: document.NewLazyDocument(input)}}
}

func toolResult(id, s string) types.ContentBlock {
	return &types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{
		ToolUseId: aws.String(id), Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: s}}}}
}

// converseCase is an OpenAI chat request and the same conversation
// written with the SDK's types.
type converseCase struct {
	name   string
	model  string
	config map[string]string // extra channel config
	body   string            // OpenAI chat completions body
	sdk    func(t *testing.T) bedrockruntime.ConverseInput
}

func converseCases() []converseCase {
	return []converseCase{
		{
			name:  "text_and_system",
			model: "meta.llama3-70b-instruct-v1:0",
			body: `{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},` +
				`{"role":"user","content":"Hello there!"}]}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{System: sdkSystem("You are terse."), Messages: []types.Message{sdkUser(sdkText("Hello there!"))}}
			},
		},
		{
			// system and developer messages anywhere, text parts, and
			// consecutive messages of one role merged into one turn.
			name:  "system_parts_and_merged_turns",
			model: converseLite,
			body: `{"model":"gpt-4o","messages":[{"role":"developer","content":[{"type":"text","text":"Answer in French."},{"type":"text","text":"Be polite."}]},` +
				`{"role":"user","content":"Bonjour"},{"role":"user","content":[{"type":"text","text":"Comment ça va ?"},{"type":"text","text":"<b>&</b> \"quoted\" \u2028 😀"}]},` +
				`{"role":"assistant","content":"Très bien."},{"role":"system","content":"Keep it short."},{"role":"assistant","content":[{"type":"text","text":"Et vous ?"}]},` +
				`{"role":"user","content":"Bien, merci."}]}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					System: sdkSystem("Answer in French.", "Be polite.", "Keep it short."),
					Messages: []types.Message{
						sdkUser(sdkText("Bonjour"), sdkText("Comment ça va ?"), sdkText("<b>&</b> \"quoted\" \u2028 😀")),
						sdkAssistant(sdkText("Très bien."), sdkText("Et vous ?")),
						sdkUser(sdkText("Bien, merci.")),
					},
				}
			},
		},
		{
			// tools, an assistant turn with text and two tool calls, two
			// tool results (one as text parts) and a user message after
			// them, which joins the results' user turn.
			name:  "tools_round_trip",
			model: "mistral.mistral-large-2407-v1:0",
			body: `{"model":"gpt-4o","messages":[{"role":"system","content":"Use the tools."},` +
				`{"role":"user","content":"Weather and time in Paris?"},` +
				`{"role":"assistant","content":"Let me check.","tool_calls":[` +
				`{"id":"call_w","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\",\"unit\":\"celsius\",\"days\":2}"}},` +
				`{"id":"call_t","type":"function","function":{"name":"get_time","arguments":"{\"city\":\"Paris\"}"}}]},` +
				`{"role":"tool","tool_call_id":"call_w","content":"18°C, sunny"},` +
				`{"role":"tool","tool_call_id":"call_t","content":[{"type":"text","text":"14:05 "},{"type":"text","text":"CEST"}]},` +
				`{"role":"user","content":"And tomorrow?"}],` + weatherToolsJSON + `}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					System: sdkSystem("Use the tools."),
					Messages: []types.Message{
						sdkUser(sdkText("Weather and time in Paris?")),
						sdkAssistant(sdkText("Let me check."),
							toolUse("call_w", "get_weather", map[string]any{"location": "Paris", "unit": "celsius", "days": 2}),
							toolUse("call_t", "get_time", map[string]any{"city": "Paris"})),
						sdkUser(toolResult("call_w", "18°C, sunny"), toolResult("call_t", "14:05 CEST"), sdkText("And tomorrow?")),
					},
					ToolConfig: &types.ToolConfiguration{Tools: sdkWeatherTools()},
				}
			},
		},
		{
			name:  "tool_call_without_text",
			model: converseLite,
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Oslo?"},` +
				`{"role":"assistant","content":null,"tool_calls":[{"id":"tooluse_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Oslo\"}"}}]},` +
				`{"role":"tool","tool_call_id":"tooluse_1","content":"-3°C"}],` + weatherToolsJSON + `,"tool_choice":"auto"}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					Messages: []types.Message{
						sdkUser(sdkText("Weather in Oslo?")),
						sdkAssistant(toolUse("tooluse_1", "get_weather", map[string]any{"location": "Oslo"})),
						sdkUser(toolResult("tooluse_1", "-3°C")),
					},
					// tool_choice "auto" is Converse's default: not sent.
					ToolConfig: &types.ToolConfiguration{Tools: sdkWeatherTools()},
				}
			},
		},
		{
			name:  "tool_choice_required",
			model: "cohere.command-r-plus-v1:0",
			body:  `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Rome?"}],` + weatherToolsJSON + `,"tool_choice":"required"}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					Messages: []types.Message{sdkUser(sdkText("Weather in Rome?"))},
					ToolConfig: &types.ToolConfiguration{Tools: sdkWeatherTools(),
						ToolChoice: &types.ToolChoiceMemberAny{Value: types.AnyToolChoice{}}},
				}
			},
		},
		{
			name:  "tool_choice_named_strict",
			model: converseLite,
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":"Time in Tokyo?"}],` +
				`"tools":[{"type":"function","function":{"name":"get_time","description":"Local time","strict":true,` +
				`"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}],` +
				`"tool_choice":{"type":"function","function":{"name":"get_time"}}}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					Messages: []types.Message{sdkUser(sdkText("Time in Tokyo?"))},
					ToolConfig: &types.ToolConfiguration{
						Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
							Name: aws.String("get_time"), Description: aws.String("Local time"), Strict: aws.Bool(true),
							InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
								"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
								"required": []any{"city"}, "additionalProperties": false,
							})},
						}}},
						ToolChoice: &types.ToolChoiceMemberTool{Value: types.SpecificToolChoice{Name: aws.String("get_time")}},
					},
				}
			},
		},
		{
			// "none" without tool blocks in the conversation drops the
			// tools altogether.
			name:  "tool_choice_none",
			model: converseLite,
			body:  `{"model":"gpt-4o","messages":[{"role":"user","content":"Just chat."}],` + weatherToolsJSON + `,"tool_choice":"none"}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{Messages: []types.Message{sdkUser(sdkText("Just chat."))}}
			},
		},
		{
			// "none" with tool blocks keeps toolConfig (Converse requires
			// it then) and sends no toolChoice.
			name:  "tool_choice_none_with_tool_history",
			model: converseLite,
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Oslo?"},` +
				`{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"t1","content":"cold"},{"role":"user","content":"Summarise."}],` + weatherToolsJSON + `,"tool_choice":"none"}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					Messages: []types.Message{
						sdkUser(sdkText("Weather in Oslo?")),
						sdkAssistant(toolUse("t1", "get_weather", map[string]any{})),
						sdkUser(toolResult("t1", "cold"), sdkText("Summarise.")),
					},
					ToolConfig: &types.ToolConfiguration{Tools: sdkWeatherTools()},
				}
			},
		},
		{
			name:  "images",
			model: "amazon.nova-pro-v1:0",
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Compare these."},` +
				`{"type":"image_url","image_url":{"url":"data:image/png;base64,` + pngBase64 + `","detail":"high"}},` +
				`{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,` + jpegBase64 + `"}}]}]}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{Messages: []types.Message{sdkUser(
					sdkText("Compare these."),
					&types.ContentBlockMemberImage{Value: types.ImageBlock{Format: types.ImageFormatPng,
						Source: &types.ImageSourceMemberBytes{Value: mustB64(t, pngBase64)}}},
					&types.ContentBlockMemberImage{Value: types.ImageBlock{Format: types.ImageFormatJpeg,
						Source: &types.ImageSourceMemberBytes{Value: mustB64(t, jpegBase64)}}},
				)}}
			},
		},
		{
			name:  "pdf_document",
			model: "amazon.nova-pro-v1:0",
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Summarise the report."},` +
				`{"type":"file","file":{"filename":"Q3 report_final.pdf","file_data":"data:application/pdf;base64,` + pdfBase64 + `"}}]}]}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{Messages: []types.Message{sdkUser(
					sdkText("Summarise the report."),
					&types.ContentBlockMemberDocument{Value: types.DocumentBlock{Format: types.DocumentFormatPdf, Name: aws.String("Q3 report final"),
						Source: &types.DocumentSourceMemberBytes{Value: mustB64(t, pdfBase64)}}},
				)}}
			},
		},
		{
			// max_tokens, temperature, top_p and stop (empty stop strings
			// are dropped); n and seed have no Converse equivalent.
			name:  "sampling_and_stop",
			model: "meta.llama3-70b-instruct-v1:0",
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":"Count."}],"max_tokens":300,"temperature":0.7,"top_p":0.9,` +
				`"stop":["\n\n","END",""],"n":1,"seed":7}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					Messages: []types.Message{sdkUser(sdkText("Count."))},
					InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(300), Temperature: aws.Float32(0.7),
						TopP: aws.Float32(0.9), StopSequences: []string{"\n\n", "END"}},
				}
			},
		},
		{
			// max_completion_tokens wins over max_tokens; temperature 0
			// is sent; a stop string becomes one stop sequence.
			name:  "max_completion_tokens_temperature_zero",
			model: converseLite,
			body:  `{"model":"gpt-4o","messages":[{"role":"user","content":"Go."}],"max_tokens":512,"max_completion_tokens":128,"temperature":0,"stop":"STOP"}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					Messages:        []types.Message{sdkUser(sdkText("Go."))},
					InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(128), Temperature: aws.Float32(0), StopSequences: []string{"STOP"}},
				}
			},
		},
		{
			// The channel's max_tokens applies when the client sets none.
			name:   "channel_default_max_tokens",
			model:  converseLite,
			config: map[string]string{"max_tokens": "2048"},
			body:   `{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					Messages:        []types.Message{sdkUser(sdkText("Hi"))},
					InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(2048)},
				}
			},
		},
		{
			name:  "response_format_json_schema",
			model: converseLite,
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":"Two colors."}],"response_format":{"type":"json_schema",` +
				`"json_schema":{"name":"colors","description":"A list of colors","strict":true,"schema":{"type":"object","properties":{"colors":{"type":"array","items":{"type":"string"}}},"required":["colors"]}}}}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{
					Messages: []types.Message{sdkUser(sdkText("Two colors."))},
					OutputConfig: &types.OutputConfig{TextFormat: &types.OutputFormat{
						Type: types.OutputFormatTypeJsonSchema,
						Structure: &types.OutputFormatStructureMemberJsonSchema{Value: types.JsonSchemaDefinition{
							// The schema travels as a JSON string: the
							// client's bytes, verbatim.
							Schema:      aws.String(`{"type":"object","properties":{"colors":{"type":"array","items":{"type":"string"}}},"required":["colors"]}`),
							Name:        aws.String("colors"),
							Description: aws.String("A list of colors"),
						}},
					}},
				}
			},
		},
		{
			// An inference profile ARN: the "/" and ":" of the model id
			// are escaped in the path.
			name:  "arn_model",
			model: "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/a1b2c3d4e5",
			body:  `{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`,
			sdk: func(t *testing.T) bedrockruntime.ConverseInput {
				return bedrockruntime.ConverseInput{Messages: []types.Message{sdkUser(sdkText("Hi"))}}
			},
		},
	}
}

func TestBedrockConverseRequestsMatchSDK(t *testing.T) {
	cs := newCaptureServer(t)
	sdk := bedrockClient(cs.URL)
	fixed := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	a := bedrock.New(bedrock.Options{Now: fixed})
	ctx := testContext(t)

	for _, tc := range converseCases() {
		for _, stream := range []bool{false, true} {
			name := tc.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				// Ours.
				ch := bedrockChannel(cs.URL)
				for k, v := range tc.config {
					ch.Config[k] = v
				}
				body := tc.body
				if stream {
					body = strings.TrimSuffix(body, "}") + `,"stream":true,"stream_options":{"include_usage":true}}`
				}
				hr, err := a.BuildRequest(ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: tc.model, OriginModel: "gpt-4o",
					Body: []byte(body), Stream: stream, IncludeUsage: stream})
				if err != nil {
					t.Fatalf("BuildRequest: %v", err)
				}
				oursPath := strings.TrimPrefix(hr.URL, cs.URL)

				// The SDK's.
				in := tc.sdk(t)
				in.ModelId = aws.String(tc.model)
				if !stream {
					if _, err := sdk.Converse(ctx, &in); err != nil {
						t.Fatalf("SDK Converse: %v", err)
					}
				} else {
					out, err := sdk.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{
						ModelId: in.ModelId, Messages: in.Messages, System: in.System,
						InferenceConfig: in.InferenceConfig, ToolConfig: in.ToolConfig, OutputConfig: in.OutputConfig,
					})
					if err != nil {
						t.Fatalf("SDK ConverseStream: %v", err)
					}
					if r := readConverseStream(t, out); r.text != "ok" {
						t.Fatalf("SDK read %q from the capture server's stream", r.text)
					}
				}
				got := cs.last(t)

				if oursPath != got.path {
					t.Errorf("path: ours %s, the SDK's %s", oursPath, got.path)
				}
				// Equal as JSON values: member order and number spelling
				// aside (the SDK writes members in alphabetical order),
				// nothing may differ.
				if !sameJSON(t, hr.Body, got.body) {
					t.Errorf("bodies differ\nours: %s\nSDK:  %s", hr.Body, got.body)
				}
			})
		}
	}
}

// ---- Our signed requests against the mock's SDK-based verification ----

// replay sends an adaptor's request as it is, with net/http.
func replay(t *testing.T, hr *adaptors.HTTPRequest, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(hr.Method, hr.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hr.Header {
		req.Header.Set(h.Key, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestBedrockSignedRequestReplay(t *testing.T) {
	fixed := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	m := bedrocktest.NewServer(t, bedrockAK, bedrockSK, bedrockRegion, bedrocktest.WithClock(fixed))
	a := bedrock.New(bedrock.Options{Now: fixed})
	const hello = `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}]}`
	const weather = `{"model":"gpt-4o","messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}`

	for _, tc := range []struct {
		name   string
		model  string
		body   string
		stream bool
	}{
		{"converse_text", converseLite, hello, false},
		{"converse_stream_tool", "meta.llama3-70b-instruct-v1:0", weather, true},
		{"claude_invoke_tool", claudeHaiku, weather, false},
		{"claude_stream_text", "claude-3-5-sonnet-20241022", hello, true},
		{"arn_converse", "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/a1b2c3d4e5", hello, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: tc.model, OriginModel: "gpt-4o", Body: []byte(tc.body), Stream: tc.stream}
			hr, err := a.BuildRequest(bedrockChannel(m.URL), req)
			if err != nil {
				t.Fatal(err)
			}

			resp := replay(t, hr, hr.Body)
			answer, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, answer)
			}
			path, _, body := m.LastRequest()
			if u, _ := url.Parse(hr.URL); path != u.EscapedPath() || !bytes.Equal(body, hr.Body) {
				t.Errorf("the mock saw %s, %d bytes; sent %s, %d bytes", path, len(body), u.EscapedPath(), len(hr.Body))
			}
			// The answer converts: the request reached the model, not
			// only the signature check.
			if tc.stream {
				d := a.NewStreamDecoder(req, bytes.NewReader(answer))
				for {
					if _, err := d.Next(); err != nil {
						if err != io.EOF {
							t.Errorf("stream: %v", err)
						}
						break
					}
				}
			} else if _, err := a.ParseResponse(req, answer); err != nil {
				t.Errorf("answer: %v", err)
			}

			// One byte of the body changed, the length kept: the
			// signature no longer matches.
			tampered := bytes.Clone(hr.Body)
			i := bytes.Index(tampered, []byte(`"user"`))
			if i < 0 {
				t.Fatalf("no user turn in %s", tampered)
			}
			tampered[i+1] = 'U'
			resp = replay(t, hr, tampered)
			answer, _ = io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), "InvalidSignatureException") ||
				!strings.Contains(string(answer), "signature we calculated does not match") {
				t.Errorf("tampered body: status %d, %s, %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), answer)
			}
		})
	}
}
