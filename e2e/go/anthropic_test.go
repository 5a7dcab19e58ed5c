package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// Issue 4, acceptance 1: the official Anthropic Go SDK drives POST
// /v1/messages (text, an image, tools in both directions, a stream, an
// error) through an OpenAI channel; each answer is billed once.
func TestAnthropicSDK(t *testing.T) {
	g, up, key := setup(t)
	c := anthropic.NewClient(option.WithBaseURL(g.base), option.WithAPIKey("sk-"+key), option.WithMaxRetries(0))
	ctx := context.Background()
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nfake"))

	msg, err := c.Messages.New(ctx, anthropic.MessageNewParams{
		Model: "test-model", MaxTokens: 256,
		System: []anthropic.TextBlockParam{{Text: "Be brief."}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(
			anthropic.NewTextBlock("What is in this picture?"), anthropic.NewImageBlockBase64("image/png", png))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != mockText || msg.StopReason != anthropic.StopReasonEndTurn ||
		msg.Usage.InputTokens != 12 || msg.Usage.OutputTokens != 6 || msg.Role != "assistant" {
		t.Fatalf("message: %+v", msg)
	}
	sent := up.last()
	msgs, _ := sent["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "system" || sent["max_tokens"] != 256.0 ||
		!strings.Contains(mustJSON(msgs[1]), "data:image/png;base64,"+png) {
		t.Fatalf("upstream body: %s", mustJSON(sent))
	}
	g.waitUsed(charge)

	// Tools: the model asks for get_weather; the client answers it.
	tools := []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather", Description: anthropic.String("Weather of a city"),
		InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}, Required: []string{"city"}}}}}
	ask := anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris?"))
	msg, err = c.Messages.New(ctx, anthropic.MessageNewParams{Model: "test-model", MaxTokens: 256, Tools: tools,
		Messages: []anthropic.MessageParam{ask}})
	if err != nil {
		t.Fatal(err)
	}
	if msg.StopReason != anthropic.StopReasonToolUse || len(msg.Content) != 1 || msg.Content[0].Type != "tool_use" ||
		msg.Content[0].Name != "get_weather" || !strings.Contains(string(msg.Content[0].Input), "Paris") {
		t.Fatalf("tool use: %+v", msg.Content)
	}
	if sentTools, _ := up.last()["tools"].([]any); len(sentTools) != 1 {
		t.Fatalf("tools upstream: %s", mustJSON(up.last()))
	}
	g.waitUsed(2 * charge)
	_, err = c.Messages.New(ctx, anthropic.MessageNewParams{Model: "test-model", MaxTokens: 256, Tools: tools,
		Messages: []anthropic.MessageParam{ask, msg.ToParam(),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock(msg.Content[0].ID, "18°C, sunny", false))}})
	if err != nil {
		t.Fatal(err)
	}
	if s := mustJSON(up.last()["messages"]); !strings.Contains(s, `"tool_call_id":"`+msg.Content[0].ID+`"`) ||
		!strings.Contains(s, "18°C, sunny") || !strings.Contains(s, `"role":"tool"`) {
		t.Fatalf("tool result upstream: %s", s)
	}
	g.waitUsed(3 * charge)

	// A stream, accumulated as the SDK does.
	st := c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: "test-model", MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	var acc anthropic.Message
	for st.Next() {
		if err := acc.Accumulate(st.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Content) != 1 || acc.Content[0].Text != mockText || acc.StopReason != anthropic.StopReasonEndTurn || acc.Usage.OutputTokens != 6 {
		t.Fatalf("stream: %+v", acc)
	}
	g.waitUsed(4 * charge)

	// Errors come back in Anthropic's shape.
	_, err = c.Messages.New(ctx, anthropic.MessageNewParams{Model: "no-such-model", MaxTokens: 16,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !strings.Contains(apiErr.RawJSON(), `"type":"error"`) {
		t.Fatalf("unknown model: %v", err)
	}
	bad := anthropic.NewClient(option.WithBaseURL(g.base), option.WithAPIKey("sk-wrong"), option.WithMaxRetries(0))
	_, err = bad.Messages.New(ctx, anthropic.MessageNewParams{Model: "test-model", MaxTokens: 16,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || !strings.Contains(apiErr.RawJSON(), "authentication_error") {
		t.Fatalf("wrong key: %v", err)
	}
	if g.usedQuota() != 4*charge {
		t.Fatalf("errors were billed: %d", g.usedQuota())
	}
}
