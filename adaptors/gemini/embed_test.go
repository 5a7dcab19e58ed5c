package gemini

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func TestParseEmbedResponse(t *testing.T) {
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "gemini-embedding-001", OriginModel: "text-embedding-3-small"}
	resp, err := New().ParseResponse(req, adaptortest.ReadFile(t, "testdata/response/embed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage != nil {
		t.Errorf("Gemini reports no embedding usage, got %+v", resp.Usage)
	}
	adaptortest.Golden(t, "testdata/response/embed.golden", indentJSON(t, resp.Body), *update)
	var got struct {
		Object string `json:"object"`
		Data   []struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
		Model string `json:"model"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Object != "list" || len(got.Data) != 2 || got.Model != "text-embedding-3-small" {
		t.Fatalf("%s", resp.Body)
	}
	if diff := cmp.Diff([]float64{0.0046911817, 1.25e-05, -0.01976283, 0.07351132}, got.Data[1].Embedding); diff != "" || got.Data[1].Index != 1 || got.Data[1].Object != "embedding" {
		t.Errorf("data[1] (-want +got):\n%s", diff)
	}
}

func TestParseEmbedInvalid(t *testing.T) {
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "e"}
	for _, body := range []string{"", "<html>", `{"embeddings":[{"values":"x"}]}`, `{"embeddings":[{}]}`, `{"embeddings":[{"values":[1,}]}`} {
		if _, err := ParseEmbedResponse(req, []byte(body)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: %v", body, err)
		}
	}
	_, err := ParseEmbedResponse(req, []byte(`{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`))
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != 429 {
		t.Errorf("error body: %v", err)
	}
	resp, err := ParseEmbedResponse(req, []byte(`{"embeddings":[]}`))
	if err != nil || string(resp.Body) != `{"object":"list","data":[],"model":"e","usage":{"prompt_tokens":0,"total_tokens":0}}` {
		t.Errorf("empty: %s %v", resp.Body, err)
	}
}

func TestModels(t *testing.T) {
	a := New()
	r, err := a.ModelsRequest(&adaptors.Channel{Key: "k", BaseURL: "https://p.example/"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "GET" || r.URL != "https://p.example/v1beta/models?pageSize=1000" || len(r.Header) != 1 || r.Header[0] != (adaptors.Header{Key: "x-goog-api-key", Value: "k"}) {
		t.Errorf("request %+v", r)
	}
	got, err := a.ParseModels([]byte(`{
  "models": [
    {"name": "models/gemini-2.5-flash", "version": "001", "displayName": "Gemini 2.5 Flash", "supportedGenerationMethods": ["generateContent", "countTokens"]},
    {"name": "models/gemini-embedding-001", "supportedGenerationMethods": ["embedContent"]},
    {"name": ""}
  ],
  "nextPageToken": "Cg9nZW1pbmktMi41LWZsYXNo"
}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"gemini-2.5-flash", "gemini-embedding-001"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "[]", "<html>", `{"models":[`} {
		if _, err := a.ParseModels([]byte(bad)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if len(Models()) == 0 || &Models()[0] == &Models()[0] {
		t.Error("Models must return a new non-empty slice")
	}
}
