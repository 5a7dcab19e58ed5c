package zhipu

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// TestParseResponseGolden converts each answer of testdata/response.
func TestParseResponseGolden(t *testing.T) {
	chat := adaptors.Request{Mode: adaptors.ModeChat, Model: "glm-4-plus", OriginModel: "my-glm", Created: 1700000000}
	tests := []struct {
		file string
		req  adaptors.Request
	}{
		{"chat.json", chat},
		{"chat_tool_calls.json", chat},
		{"chat_reasoning_cached.json", chat},
		{"chat_sensitive.json", chat},
		{"chat_context_window.json", chat},
		{"chat_network_error.json", chat},
		{"error_in_200.json", chat},
		{"no_created.json", chat},
		{"truncated.json", chat},
		{"html.txt", chat},
		{"embeddings.json", adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embedding-3", OriginModel: "embedding-3"}},
		{"images.json", adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "cogview-4", OriginModel: "cogview-4"}},
		{"images_error_in_200.json", adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "cogview-4", OriginModel: "cogview-4"}},
	}
	a := New()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/response/"+tt.file)
			resp, err := a.ParseResponse(&tt.req, body)
			if err == nil && !json.Valid(resp.Body) {
				t.Fatalf("client body is not JSON: %s", resp.Body)
			}
			name := strings.TrimSuffix(strings.TrimSuffix(tt.file, ".json"), ".txt")
			adaptortest.Golden(t, "testdata/response/"+name+".golden", renderResponse(resp, err), *update)
		})
	}
}

func TestParseUsage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *adaptors.Usage
	}{
		{"plain", `{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}`,
			&adaptors.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}},
		{"cached and reasoning", `{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":60},"completion_tokens_details":{"reasoning_tokens":30}}`,
			&adaptors.Usage{PromptTokens: 100, CompletionTokens: 50, TotalTokens: 150, CachedTokens: 60, ReasoningTokens: 30}},
		{"total recomputed", `{"prompt_tokens":10,"completion_tokens":5,"total_tokens":99}`,
			&adaptors.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}},
		{"details capped", `{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":60},"completion_tokens_details":{"reasoning_tokens":-3}}`,
			&adaptors.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15, CachedTokens: 10}},
		{"null details", `{"prompt_tokens":1,"completion_tokens":1,"prompt_tokens_details":null}`,
			&adaptors.Usage{PromptTokens: 1, CompletionTokens: 1, TotalTokens: 2}},
		{"zero", `{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`, nil},
		{"null", `null`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"id":"1","created":1,"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"x"}}],"usage":` + tt.in + `}`
			resp, err := New().ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			var v struct {
				Usage *schema.Usage `json:"usage"`
			}
			if err := json.Unmarshal(resp.Body, &v); err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if v.Usage != nil {
					t.Errorf("client body has usage %+v", v.Usage)
				}
				return
			}
			if diff := cmp.Diff(usageSchema(*tt.want), v.Usage); diff != "" {
				t.Errorf("client usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFinishReason(t *testing.T) {
	tests := []struct {
		in        string
		toolCalls bool
		want      string
	}{
		{"stop", false, "stop"},
		{"stop", true, "tool_calls"},
		{"", false, "stop"},
		{"length", false, "length"},
		{"model_context_window_exceeded", false, "length"},
		{"sensitive", false, "content_filter"},
		{"tool_calls", false, "tool_calls"},
		{"something_new", false, "stop"},
	}
	for _, tt := range tests {
		got, err := finishReason(tt.in, tt.toolCalls)
		if err != nil || got != tt.want {
			t.Errorf("finishReason(%q, %v) = %q, %v; want %q", tt.in, tt.toolCalls, got, err, tt.want)
		}
	}
	_, err := finishReason("network_error", false)
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != http.StatusInternalServerError {
		t.Errorf("network_error gave %v, want a 500 *schema.Error", err)
	}
}

func TestParseResponseInvalid(t *testing.T) {
	for _, body := range []string{``, `[]`, `"x"`, `{"id":"1","choices":[]}`, `{"choices":[{"index":0,`, `{"id":"1"} trailing`} {
		_, err := New().ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: got %v, want ErrInvalidResponse", body, err)
		}
	}
}

// TestEmbeddedErrorStatus: an error inside a 2xx answer is never an
// answer; its status is the one its business code gets.
func TestEmbeddedErrorStatus(t *testing.T) {
	tests := []struct {
		body   string
		status int
		typ    string
		code   any
	}{
		{`{"error":{"code":"1113","message":"余额不足"}}`, 429, "insufficient_quota", "insufficient_quota"},
		{`{"error":{"code":"1002","message":"bad token"}}`, 401, "authentication_error", "invalid_api_key"},
		{`{"error":{"code":"1261","message":"Prompt 超长"}}`, 400, "invalid_request_error", "context_length_exceeded"},
		{`{"error":{"code":"1305","message":"busy"}}`, 429, "rate_limit_error", "rate_limit_exceeded"},
		{`{"error":{"code":"9999","message":"new"}}`, 502, "server_error", "9999"},
		{`{"error":{"message":"no code"}}`, 502, "server_error", nil},
	}
	for _, tt := range tests {
		for _, mode := range []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings, adaptors.ModeImagesGenerations} {
			_, err := New().ParseResponse(&adaptors.Request{Mode: mode}, []byte(tt.body))
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Fatalf("%s %s: got %v, want *schema.Error", mode, tt.body, err)
			}
			if se.Status != tt.status || se.Type != tt.typ || se.Code != tt.code || se.Message == "" {
				t.Errorf("%s %s: got %+v", mode, tt.body, *se)
			}
		}
	}
}
