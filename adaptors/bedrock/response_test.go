package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func TestParseResponseGolden(t *testing.T) {
	a := New(Options{})
	tests := []struct{ file, model string }{
		{"converse_text.json", "amazon.nova-pro-v1:0"},
		{"converse_tool.json", "mistral.mistral-large-2407-v1:0"},
		{"converse_reasoning_cache.json", "us.deepseek.r1-v1:0"},
		{"converse_guardrail.json", "meta.llama3-3-70b-instruct-v1:0"},
		{"converse_max_tokens.json", "cohere.command-r-v1:0"},
		{"converse_error_in_200.json", "amazon.nova-pro-v1:0"},
		{"converse_not_an_answer.json", "amazon.nova-pro-v1:0"},
		{"converse_html.txt", "amazon.nova-pro-v1:0"},
		{"claude_message.json", "claude-3-haiku-20240307"},
		{"claude_tool.json", "claude-sonnet-4-5-20250929"},
		{"claude_error_in_200.json", "claude-3-haiku-20240307"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/response/"+tt.file)
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: tt.model, OriginModel: "client-" + tt.model, Created: 1755163812}
			resp, err := a.ParseResponse(req, body)
			var out string
			if err != nil {
				var se *schema.Error
				if errors.As(err, &se) {
					out = fmt.Sprintf("schema error: %+v\n", *se)
				} else {
					if !errors.Is(err, adaptors.ErrInvalidResponse) {
						t.Errorf("error %v does not wrap ErrInvalidResponse", err)
					}
					out = "invalid response error\n"
				}
			} else {
				var pretty bytes.Buffer
				if err := json.Indent(&pretty, resp.Body, "", "  "); err != nil {
					t.Fatalf("client body is not JSON: %s", resp.Body)
				}
				out = "usage: " + renderUsage(resp.Usage) + "\n" + pretty.String() + "\n"
			}
			adaptortest.Golden(t, "testdata/response/"+strings.TrimSuffix(tt.file, filepath.Ext(tt.file))+".golden", []byte(out), *update)
		})
	}
}

func TestFinishReason(t *testing.T) {
	for stop, want := range map[string]string{
		"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "model_context_window_exceeded": "length",
		"tool_use": "tool_calls", "guardrail_intervened": "content_filter", "content_filtered": "content_filter",
		"malformed_model_output": "stop", "malformed_tool_use": "stop", "": "stop", "something_new": "stop",
	} {
		if got := finishReason(stop); got != want {
			t.Errorf("finishReason(%q) = %q, want %q", stop, got, want)
		}
	}
}

func TestUsageConversion(t *testing.T) {
	tests := []struct {
		in   *tokenUsage
		want *adaptors.Usage
	}{
		{nil, nil},
		{&tokenUsage{InputTokens: 9, OutputTokens: 14, TotalTokens: 23}, &adaptors.Usage{PromptTokens: 9, CompletionTokens: 14, TotalTokens: 23}},
		{&tokenUsage{InputTokens: 18, OutputTokens: 57, TotalTokens: 1355, CacheReadInputTokens: 1024, CacheWriteInputTokens: 256},
			&adaptors.Usage{PromptTokens: 1298, CompletionTokens: 57, TotalTokens: 1355, CachedTokens: 1024, CacheWriteTokens: 256}},
		// A total that disagrees is recomputed: prompt + completion.
		{&tokenUsage{InputTokens: 1, OutputTokens: 2, TotalTokens: 99}, &adaptors.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.in.toUsage()); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestParseResponseDeterministic: the same answer gives the same bytes
// (the completion id is derived from the answer).
func TestParseResponseDeterministic(t *testing.T) {
	a := New(Options{})
	body := adaptortest.ReadFile(t, "testdata/response/converse_text.json")
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "amazon.nova-pro-v1:0", OriginModel: "m"}
	r1, _ := a.ParseResponse(req, body)
	r2, _ := a.ParseResponse(req, body)
	if !bytes.Equal(r1.Body, r2.Body) {
		t.Error("two parses of one answer differ")
	}
}
