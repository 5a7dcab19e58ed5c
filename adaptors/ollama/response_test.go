package ollama

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "nil"
	}
	return fmt.Sprintf("{prompt=%d completion=%d total=%d cached=%d cache_write=%d reasoning=%d}",
		u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens, u.CacheWriteTokens, u.ReasoningTokens)
}

// renderResponse prints a parse result for golden files: the usage and
// the client body indented, or the error.
func renderResponse(t testing.TB, r *adaptors.Response, err error) []byte {
	t.Helper()
	var b strings.Builder
	var se *schema.Error
	switch {
	case errors.As(err, &se):
		fmt.Fprintf(&b, "error: *schema.Error %+v\n", *se)
	case err != nil:
		fmt.Fprintf(&b, "error: %v\n", err)
	default:
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, r.Body, "", "  "); err != nil {
			t.Fatalf("client body is not JSON: %v: %s", err, r.Body)
		}
		fmt.Fprintf(&b, "usage: %s\n\n%s\n", renderUsage(r.Usage), pretty.Bytes())
	}
	return []byte(b.String())
}

func TestParseResponseGolden(t *testing.T) {
	a := New()
	tests := []struct {
		name string
		file string
		req  adaptors.Request
	}{
		{"chat", "chat.json", adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2:3b", OriginModel: "llama3.2"}},
		{"tool_calls", "tool_calls.json", adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2", OriginModel: "llama3.2"}},
		{"tool_calls_parallel_ids", "tool_calls_parallel_ids.json", adaptors.Request{Mode: adaptors.ModeChat, Model: "qwen3", OriginModel: "my-qwen"}},
		{"thinking_length", "thinking_length.json", adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-oss:20b", OriginModel: "gpt-oss:20b"}},
		{"load", "load.json", adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2", OriginModel: "llama3.2"}},
		{"error_in_200", "error_in_200.json", adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2"}},
		{"embed", "embed.json", adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embeddinggemma", OriginModel: "embeddinggemma",
			Body: []byte(`{"model":"embeddinggemma","input":["a","b"]}`)}},
		{"embed_base64", "embed.json", adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embeddinggemma", OriginModel: "embeddinggemma",
			Body: []byte(`{"model":"embeddinggemma","input":["a","b"],"encoding_format":"base64"}`)}},
		{"openai_chat", "openai_chat.json", adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2", OriginModel: "llama3.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/response/"+tt.file)
			req := tt.req
			req.Created = 1700000000
			got, err := a.ParseResponse(&req, body)
			adaptortest.Golden(t, "testdata/response/"+tt.name+".golden", renderResponse(t, got, err), *update)
		})
	}
}

func TestParseResponseInvalid(t *testing.T) {
	a := New()
	for _, body := range []string{"", "null", "[]", `"x"`, "<html>502</html>", `{"model":"m","message":{`, `{"model":"m"}`, `{"done":true} {"done":true}`} {
		for _, mode := range []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings} {
			_, err := a.ParseResponse(&adaptors.Request{Mode: mode}, []byte(body))
			if !errors.Is(err, adaptors.ErrInvalidResponse) {
				t.Errorf("%s %q: err = %v, want ErrInvalidResponse", mode, body, err)
			}
		}
	}
}

func TestParseResponseCreatedFallback(t *testing.T) {
	// Without created_at the gateway's receive time stands in.
	a := New()
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Created: 1234}
	for _, body := range []string{
		`{"message":{"role":"assistant","content":"x"},"done":true}`,
		`{"created_at":"yesterday","message":{"role":"assistant","content":"x"},"done":true}`,
	} {
		r, err := a.ParseResponse(req, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			ID      string `json:"id"`
			Created int64  `json:"created"`
			Model   string `json:"model"`
		}
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatal(err)
		}
		want := struct {
			ID      string `json:"id"`
			Created int64  `json:"created"`
			Model   string `json:"model"`
		}{"chatcmpl-1234", 1234, "m"}
		if diff := cmp.Diff(want, v); diff != "" {
			t.Errorf("%s (-want +got):\n%s", body, diff)
		}
		if r.Usage != nil {
			t.Errorf("usage %v from an answer without counts", r.Usage)
		}
	}
}

func TestFinishReason(t *testing.T) {
	for _, tt := range []struct {
		reason string
		tools  bool
		want   string
	}{
		{"stop", false, "stop"},
		{"", false, "stop"},
		{"length", false, "length"},
		{"load", false, "stop"},
		{"unload", false, "stop"},
		{"something new", false, "stop"},
		{"stop", true, "tool_calls"},
		{"length", true, "tool_calls"},
	} {
		if got := finishReason(tt.reason, tt.tools); got != tt.want {
			t.Errorf("finishReason(%q, %v) = %q, want %q", tt.reason, tt.tools, got, tt.want)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		prompt, eval int
		want         *adaptors.Usage
	}{
		{0, 0, nil},
		{26, 0, &adaptors.Usage{PromptTokens: 26, TotalTokens: 26}},
		{0, 5, &adaptors.Usage{CompletionTokens: 5, TotalTokens: 5}},
		{26, 298, &adaptors.Usage{PromptTokens: 26, CompletionTokens: 298, TotalTokens: 324}},
	} {
		w := chatWire{PromptEvalCount: tt.prompt, EvalCount: tt.eval}
		if diff := cmp.Diff(tt.want, w.usage()); diff != "" {
			t.Errorf("%d/%d (-want +got):\n%s", tt.prompt, tt.eval, diff)
		}
	}
}

func TestAppendArguments(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{``, `{}`},
		{`null`, `{}`},
		{`{}`, `{}`},
		{`{ "a" : [1, 2], "b": {"c": "d e"} }`, `{"a":[1,2],"b":{"c":"d e"}}`},
		{`"{\"a\":1}"`, `{"a":1}`},
		{`{"html":"<b>&</b>","u":"é"}`, `{"html":"<b>&</b>","u":"é"}`},
	} {
		if got := string(appendArguments([]byte("x"), []byte(tt.in))); got != "x"+tt.want {
			t.Errorf("appendArguments(%s) = %s, want x%s", tt.in, got, tt.want)
		}
	}
}
