package baidu

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// TestParseResponseGolden converts each answer of testdata/response into
// the client's body and usage (or error).
func TestParseResponseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/response/*.json")
	if err != nil || len(files) == 0 {
		t.Fatal("no response fixtures", err)
	}
	a := New()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-4.0-8K", OriginModel: "ERNIE-4.0-8K", Created: 1735689600,
				Body: []byte(`{"messages":[{"role":"user","content":"q"}]}`)}
			if strings.HasPrefix(name, "embeddings") {
				req = &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "bge-large-zh", OriginModel: "bge-large-zh",
					Body: []byte(`{"model":"bge-large-zh","input":["推荐一些美食","给我讲个故事"]}`)}
			}
			resp, err := a.ParseResponse(req, adaptortest.ReadFile(t, f))
			adaptortest.Golden(t, "testdata/response/"+name+".golden", renderResponse(t, resp, err), *update)
		})
	}
}

// TestErrorIn200: Baidu's errors arrive with HTTP 200; they must never
// count as answers (nor be billed).
func TestErrorIn200(t *testing.T) {
	for file, want := range map[string]int{"chat_error_110.json": http.StatusUnauthorized, "chat_error_336501.json": http.StatusTooManyRequests} {
		_, err := New().ParseResponse(chatReq("{}", false), adaptortest.ReadFile(t, "testdata/response/"+file))
		var se *schema.Error
		if !errors.As(err, &se) || se.Status != want {
			t.Errorf("%s: got %v, want a *schema.Error with status %d", file, err, want)
		}
	}
	_, err := New().ParseResponse(&adaptors.Request{Mode: adaptors.ModeEmbeddings}, []byte(`{"error_code":18,"error_msg":"Open api qps request limit reached"}`))
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != http.StatusTooManyRequests {
		t.Errorf("embeddings: got %v, want a 429 *schema.Error", err)
	}
}

func TestInvalidAnswers(t *testing.T) {
	for _, body := range []string{``, `<html></html>`, `{"id":"x","result":`, `[1]`, `{}`, `{"id":"as-1","object":"chat.completion"}`} {
		_, err := New().ParseResponse(chatReq("{}", false), []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: got %v, want ErrInvalidResponse", body, err)
		}
	}
	for _, body := range []string{``, `{"data":null}`, `{"id":"x"}`} {
		_, err := New().ParseResponse(&adaptors.Request{Mode: adaptors.ModeEmbeddings}, []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("embeddings %q: got %v, want ErrInvalidResponse", body, err)
		}
	}
}

func TestFinishReasons(t *testing.T) {
	tests := []struct {
		name, answer, want string
	}{
		{"normal", `"finish_reason":"normal"`, "stop"},
		{"absent", ``, "stop"},
		{"stop sequence", `"finish_reason":"stop"`, "stop"},
		{"length", `"finish_reason":"length"`, "length"},
		{"truncated without reason", `"is_truncated":true`, "length"},
		{"content_filter", `"finish_reason":"content_filter"`, "content_filter"},
		{"need_clear_history", `"need_clear_history":true,"finish_reason":"normal"`, "content_filter"},
		{"function_call reason", `"finish_reason":"function_call","function_call":{"name":"f","arguments":"{}"}`, "tool_calls"},
		{"function call under normal", `"finish_reason":"normal","function_call":{"name":"f","arguments":"{}"}`, "tool_calls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"id":"as-1","object":"chat.completion","created":1,"result":"x"`
			if tt.answer != "" {
				body += "," + tt.answer
			}
			resp, err := New().ParseResponse(chatReq("{}", false), []byte(body+"}"))
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				Choices []struct {
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := sonic.Unmarshal(resp.Body, &c); err != nil || len(c.Choices) != 1 {
				t.Fatalf("%v: %s", err, resp.Body)
			}
			if got := c.Choices[0].FinishReason; got != tt.want {
				t.Errorf("finish_reason %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResponseUsage(t *testing.T) {
	tests := []struct {
		usage string
		want  *adaptors.Usage
	}{
		{`{"prompt_tokens":7,"completion_tokens":67,"total_tokens":74}`, &adaptors.Usage{PromptTokens: 7, CompletionTokens: 67, TotalTokens: 74}},
		// Search plugin tokens are in Baidu's total only; the gateway bills prompt + completion.
		{`{"prompt_tokens":3,"completion_tokens":40,"total_tokens":1434,"tool_tokens":1391}`, &adaptors.Usage{PromptTokens: 3, CompletionTokens: 40, TotalTokens: 43}},
		{`{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`, nil},
		{`{"prompt_tokens":-1,"completion_tokens":5}`, &adaptors.Usage{CompletionTokens: 5, TotalTokens: 5}},
		{`null`, nil},
	}
	for _, tt := range tests {
		resp, err := New().ParseResponse(chatReq("{}", false), []byte(`{"id":"a","result":"x","usage":`+tt.usage+`}`))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.usage, diff)
		}
	}
}

// TestCreated: Baidu's timestamp when it sent one, else the time the
// gateway got the request.
func TestCreated(t *testing.T) {
	resp, err := New().ParseResponse(chatReq("{}", false), []byte(`{"id":"a","result":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `"created":1735689600`) {
		t.Errorf("created is not the request's: %s", resp.Body)
	}
}

func TestToolCallID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		n    int
		want string
	}{{"as-cxqr0kx1jx", 0, "call_as-cxqr0kx1jx"}, {"as-1", 2, "call_as-1_2"}, {"", 0, "call_ernie"}} {
		if got := ToolCallID(tt.id, tt.n); got != tt.want {
			t.Errorf("ToolCallID(%q, %d) = %q, want %q", tt.id, tt.n, got, tt.want)
		}
	}
}

func TestEmbeddingsBase64(t *testing.T) {
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, OriginModel: "tao-8k", Body: []byte(`{"input":"x","encoding_format":"base64"}`)}
	resp, err := New().ParseResponse(req, []byte(`{"data":[{"object":"embedding","embedding":[1,-2.5],"index":0}],"usage":{"prompt_tokens":1,"total_tokens":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	// float32 little-endian 1.0 and -2.5.
	if want := `"embedding":"AACAPwAAIMA="`; !strings.Contains(string(resp.Body), want) {
		t.Errorf("body %s lacks %s", resp.Body, want)
	}
}
