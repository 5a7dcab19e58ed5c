package openai

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%+v", *u)
}

func TestParseResponseGolden(t *testing.T) {
	minimax := New(Config{Name: "minimax", BaseURL: "https://api.minimax.chat", ChatPath: "/v1/text/chatcompletion_v2", BaseResp: true})
	tests := []struct {
		file string
		mode adaptors.Mode
		a    adaptors.Adaptor
	}{
		{"chat.json", adaptors.ModeChat, nil},
		{"chat_reasoning_cached.json", adaptors.ModeChat, nil},
		{"chat_tool_calls.json", adaptors.ModeChat, nil},
		{"completions.json", adaptors.ModeCompletions, nil},
		{"embeddings.json", adaptors.ModeEmbeddings, nil},
		{"deepseek_cache_hit.json", adaptors.ModeChat, nil},
		{"no_usage.json", adaptors.ModeChat, nil},
		{"null_usage.json", adaptors.ModeChat, nil},
		{"zero_usage.json", adaptors.ModeChat, nil},
		{"no_total.json", adaptors.ModeChat, nil},
		{"error_in_200.json", adaptors.ModeChat, nil},
		{"html.txt", adaptors.ModeChat, nil},
		{"truncated.json", adaptors.ModeChat, nil},
		{"array.json", adaptors.ModeChat, nil},
		{"minimax_base_resp_error.json", adaptors.ModeChat, minimax},
		{"minimax_ok.json", adaptors.ModeChat, minimax},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a := tt.a
			if a == nil {
				a = New(OpenAIConfig())
			}
			body := adaptortest.ReadFile(t, "testdata/response/"+tt.file)
			resp, err := a.ParseResponse(&adaptors.Request{Mode: tt.mode}, body)
			var out string
			if err != nil {
				var se *schema.Error
				if errors.As(err, &se) {
					out = fmt.Sprintf("schema error: status=%d %+v\n", se.Status, *se)
				} else {
					if !errors.Is(err, adaptors.ErrInvalidResponse) {
						t.Errorf("error %v does not wrap ErrInvalidResponse", err)
					}
					out = "invalid response error\n"
				}
			} else {
				// The body must be relayed untouched (same bytes).
				if !bytes.Equal(resp.Body, body) {
					t.Errorf("body was modified")
				}
				out = "usage: " + renderUsage(resp.Usage) + "\n"
			}
			adaptortest.Golden(t, "testdata/response/"+strings.TrimSuffix(tt.file, filepath.Ext(tt.file))+".golden", []byte(out), *update)
		})
	}
}

// TestParseResponseUsageValues pins the numbers independently of goldens.
func TestParseResponseUsageValues(t *testing.T) {
	a := New(OpenAIConfig())
	tests := []struct {
		file string
		want *adaptors.Usage
	}{
		{"chat.json", &adaptors.Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29}},
		{"chat_reasoning_cached.json", &adaptors.Usage{PromptTokens: 1117, CompletionTokens: 238, TotalTokens: 1355, CachedTokens: 1024, ReasoningTokens: 192}},
		{"embeddings.json", &adaptors.Usage{PromptTokens: 8, TotalTokens: 8}},
		{"deepseek_cache_hit.json", &adaptors.Usage{PromptTokens: 88, CompletionTokens: 10, TotalTokens: 98, CachedTokens: 64}},
		{"no_total.json", &adaptors.Usage{PromptTokens: 12, CompletionTokens: 3, TotalTokens: 15}},
		{"zero_usage.json", nil},
		{"no_usage.json", nil},
	}
	for _, tt := range tests {
		resp, err := a.ParseResponse(&adaptors.Request{}, adaptortest.ReadFile(t, "testdata/response/"+tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
			t.Errorf("%s usage (-want +got):\n%s", tt.file, diff)
		}
	}
}

func readTestdata(path string) ([]byte, error) { return os.ReadFile(path) }
