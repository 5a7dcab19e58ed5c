package ollama

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
)

// The adaptor's capabilities are found by type assertion.
var (
	_ adaptors.Adaptor      = (*Adaptor)(nil)
	_ adaptors.ModelLister  = (*Adaptor)(nil)
	_ adaptors.ImageInliner = (*Adaptor)(nil)
)

func TestModelsRequest(t *testing.T) {
	a := New()
	for _, tt := range []struct {
		name string
		ch   adaptors.Channel
		want adaptors.HTTPRequest
	}{
		{"native", adaptors.Channel{},
			adaptors.HTTPRequest{Method: "GET", URL: "http://localhost:11434/api/tags", Header: []adaptors.Header{}}},
		{"native key and base", adaptors.Channel{Key: "k", BaseURL: "https://ollama.com/"},
			adaptors.HTTPRequest{Method: "GET", URL: "https://ollama.com/api/tags", Header: []adaptors.Header{{Key: "Authorization", Value: "Bearer k"}}}},
		{"openai", adaptors.Channel{BaseURL: "http://h:11434/v1", Config: map[string]string{"api": "openai"}},
			adaptors.HTTPRequest{Method: "GET", URL: "http://h:11434/v1/models", Header: []adaptors.Header{}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.ModelsRequest(&tt.ch)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := a.ModelsRequest(&adaptors.Channel{Config: map[string]string{"api": "x"}}); !errors.Is(err, adaptors.ErrUnsupportedMode) {
		t.Errorf("unknown api: err = %v", err)
	}
}

func TestParseModels(t *testing.T) {
	a := New()
	for _, tt := range []struct {
		name, body string
		want       []string
	}{
		{"tags", `{"models":[{"name":"gemma3:latest","model":"gemma3:latest","modified_at":"2025-10-03T23:34:03.409490317-07:00","size":3338801804,"digest":"a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a","details":{"format":"gguf","family":"gemma3","families":["gemma3"],"parameter_size":"4.3B","quantization_level":"Q4_K_M"}},{"name":"","model":"qwen3:8b"}]}`,
			[]string{"gemma3:latest", "qwen3:8b"}},
		{"empty", `{"models":[]}`, []string{}},
		{"openai", `{"object":"list","data":[{"id":"llama3.2:latest","object":"model","created":1761499284,"owned_by":"library"}]}`,
			[]string{"llama3.2:latest"}},
	} {
		got, err := a.ParseModels([]byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	for _, bad := range []string{"", "[]", "<html>", `{"models":`} {
		if _, err := a.ParseModels([]byte(bad)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: err = %v, want ErrInvalidResponse", bad, err)
		}
	}
}

func TestInlinesImages(t *testing.T) {
	a := New()
	for _, tt := range []struct {
		name string
		mode adaptors.Mode
		body string
		want bool
	}{
		{"http image", adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x/a.png"}}]}]}`, true},
		{"https escaped slashes", adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https:\/\/x\/a.png"}}]}]}`, true},
		{"data image", adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`, false},
		{"text only", adaptors.ModeChat, `{"messages":[{"role":"user","content":"see https://example.com"}]}`, false},
		{"embeddings", adaptors.ModeEmbeddings, `{"input":"image_url \"http://x"}`, false},
	} {
		req := adaptors.Request{Mode: tt.mode, Body: []byte(tt.body)}
		if got := a.InlinesImages(&adaptors.Channel{}, &req); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestModels(t *testing.T) {
	m := Models()
	if len(m) == 0 {
		t.Fatal("no default models")
	}
	seen := map[string]bool{}
	for _, name := range m {
		if name == "" || seen[name] {
			t.Errorf("bad or duplicate model %q", name)
		}
		seen[name] = true
	}
}
