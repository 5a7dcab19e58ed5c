package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genai"
)

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Issue 4, acceptance 1: the official Google Gen AI Go SDK drives
// /v1beta/models/{model}:generateContent and :streamGenerateContent
// through an OpenAI channel; keys are accepted in x-goog-api-key and
// ?key=, with or without sk-; errors come back in Google's shape.
func TestGeminiSDK(t *testing.T) {
	g, up, key := setup(t)
	ctx := context.Background()
	c, err := genai.NewClient(ctx, &genai.ClientConfig{APIKey: key, Backend: genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: g.base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Models.GenerateContent(ctx, "test-model", genai.Text("hello"),
		&genai.GenerateContentConfig{SystemInstruction: genai.NewContentFromText("Be brief.", genai.RoleUser), MaxOutputTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() != mockText || resp.UsageMetadata == nil || resp.UsageMetadata.PromptTokenCount != 12 || resp.UsageMetadata.CandidatesTokenCount != 6 {
		t.Fatalf("generateContent: %s", mustJSON(resp))
	}
	sent := up.last()
	if msgs, _ := sent["messages"].([]any); len(msgs) != 2 || sent["model"] != "test-model" || sent["max_tokens"] != 100.0 {
		t.Fatalf("upstream body: %s", mustJSON(sent))
	}
	g.waitUsed(charge)

	var text strings.Builder
	for chunk, err := range c.Models.GenerateContentStream(ctx, "test-model", genai.Text("hi"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(chunk.Text())
	}
	if text.String() != mockText {
		t.Fatalf("stream text %q", text.String())
	}
	g.waitUsed(2 * charge)

	// ?key= with the sk- prefix, over plain HTTP.
	r, err := http.Post(g.base+"/v1beta/models/test-model:generateContent?key=sk-"+key, "application/json",
		strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(b), mockText) {
		t.Fatalf("?key=: %d %s", r.StatusCode, b)
	}
	g.waitUsed(3 * charge)

	// Errors in Google's shape.
	_, err = c.Models.GenerateContent(ctx, "no-such-model", genai.Text("hi"), nil)
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 503 || apiErr.Status != "UNAVAILABLE" {
		t.Fatalf("unknown model: %#v", err)
	}
	r, err = http.Post(g.base+"/v1beta/models/test-model:generateContent?key=wrong", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 401 || !strings.Contains(string(b), `"status":"UNAUTHENTICATED"`) {
		t.Fatalf("wrong key: %d %s", r.StatusCode, b)
	}
	r, err = http.Post(g.base+"/v1beta/models/test-model:embedContent?key="+key, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 400 || !strings.Contains(string(b), "INVALID_ARGUMENT") {
		t.Fatalf("unsupported method: %d %s", r.StatusCode, b)
	}
	if g.usedQuota() != 3*charge {
		t.Fatalf("errors were billed: %d", g.usedQuota())
	}
}
