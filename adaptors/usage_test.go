package adaptors

import (
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"
)

func TestUsageChunk(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		u    Usage
		want string
	}{
		{"chat", ModeChat, Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29},
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29}}`},
		{"details", ModeChat, Usage{PromptTokens: 1117, CompletionTokens: 238, TotalTokens: 1355, CachedTokens: 1024, ReasoningTokens: 192},
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":1117,"completion_tokens":238,"total_tokens":1355,"prompt_tokens_details":{"cached_tokens":1024},"completion_tokens_details":{"reasoning_tokens":192}}}`},
		{"completions", ModeCompletions, Usage{PromptTokens: 5, CompletionTokens: 7, TotalTokens: 12},
			`{"id":"chatcmpl-1","object":"text_completion","created":1741570283,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}`},
	}
	for _, tt := range tests {
		got := UsageChunk(tt.mode, "chatcmpl-1", "gpt-4o", 1741570283, tt.u)
		if diff := cmp.Diff(tt.want, string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		if !sonic.Valid(got) {
			t.Errorf("%s: invalid JSON", tt.name)
		}
	}
	// Model names with characters that need escaping stay valid JSON.
	got := UsageChunk(ModeChat, `id"x`, "a\\b\n", 1, Usage{})
	var back struct{ ID, Model string }
	if err := sonic.Unmarshal(got, &back); err != nil || back.ID != `id"x` || back.Model != "a\\b\n" {
		t.Errorf("escaping: %s → %+v %v", got, back, err)
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{ModeChat: "chat", ModeCompletions: "completions", ModeEmbeddings: "embeddings", 0: "unknown"} {
		if got := m.String(); got != want {
			t.Errorf("%d: %q, want %q", m, got, want)
		}
	}
}
