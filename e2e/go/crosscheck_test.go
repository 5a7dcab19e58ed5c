package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"google.golang.org/genai"
)

// The request bodies the Anthropic and Gemini adaptors build, as their
// golden files record them, are read with the providers' official Go SDK
// types — code no one here wrote. A member the SDK does not know, a value
// of the wrong shape or anything lost on the way shows as a failure.

// bodies returns the built request bodies of one adaptor package.
func bodies(t *testing.T, pkg string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "adaptors", pkg, "testdata", "build", "*.body.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no built request bodies (testdata/build/*.body.json) in adaptors/%s", pkg)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestAnthropicRequestsParseIntoSDKTypes(t *testing.T) {
	for name, body := range bodies(t, "anthropic") {
		t.Run(name, func(t *testing.T) {
			var p anthropic.MessageNewParams
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("the SDK cannot read the body: %v\n%s", err, body)
			}
			// The Messages API takes "stream" beside the params (the SDK
			// sets it itself for NewStreaming). temperature and top_p
			// belong to anthropic-version 2023-06-01, which the adaptor
			// pins; this SDK speaks 2026-10-21, which dropped them (the
			// adaptor leaves them out under that version: golden
			// sampling_version_2026). Anything else must be a field the
			// SDK knows.
			var raw map[string]json.RawMessage
			_ = json.Unmarshal(body, &raw)
			delete(raw, "stream")
			delete(raw, "temperature")
			delete(raw, "top_p")
			if p.Model == "" || p.MaxTokens == 0 || len(p.Messages) == 0 {
				t.Fatalf("model, max_tokens or messages lost: %+v", p)
			}
			for k := range raw {
				if _, extra := p.ExtraFields()[k]; extra {
					t.Errorf("member %q is unknown to the SDK", k)
				}
			}
			again, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			stripped, _ := json.Marshal(raw)
			if !sameJSON(t, stripped, again) {
				t.Errorf("the SDK reads the body differently:\nours: %s\nSDK:  %s", stripped, again)
			}
		})
	}
}

// generateContentRequest is the REST body of models.generateContent, made
// of the Gen AI SDK's own types (their JSON names are the REST API's).
type generateContentRequest struct {
	Contents          []*genai.Content        `json:"contents"`
	SystemInstruction *genai.Content          `json:"systemInstruction,omitempty"`
	Tools             []*genai.Tool           `json:"tools,omitempty"`
	ToolConfig        *genai.ToolConfig       `json:"toolConfig,omitempty"`
	GenerationConfig  *genai.GenerationConfig `json:"generationConfig,omitempty"`
	SafetySettings    []*genai.SafetySetting  `json:"safetySettings,omitempty"`
	CachedContent     string                  `json:"cachedContent,omitempty"`
}

// batchEmbedRequest is the REST body of models.batchEmbedContents.
type batchEmbedRequest struct {
	Requests []struct {
		Model                string         `json:"model"`
		Content              *genai.Content `json:"content"`
		TaskType             string         `json:"taskType,omitempty"`
		Title                string         `json:"title,omitempty"`
		OutputDimensionality *int32         `json:"outputDimensionality,omitempty"`
	} `json:"requests"`
}

func TestGeminiRequestsParseIntoSDKTypes(t *testing.T) {
	for name, body := range bodies(t, "gemini") {
		t.Run(name, func(t *testing.T) {
			var into any = &generateContentRequest{}
			if bytes.Contains(body, []byte(`"requests"`)) {
				into = &batchEmbedRequest{}
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(into); err != nil {
				t.Fatalf("the SDK types cannot read the body: %v\n%s", err, body)
			}
			again, err := json.Marshal(into)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, body, again) {
				t.Errorf("the SDK types read the body differently:\nours: %s\nSDK:  %s", body, again)
			}
		})
	}
}
