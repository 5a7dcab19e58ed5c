package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

// encoding_format: a client that asks for base64 gets base64 even when the
// upstream answered with numbers (the mock always does), and the numbers
// are the upstream's, as float32.
func TestEmbeddingEncodingFormat(t *testing.T) {
	g, _ := setup(t)
	_, access := g.newUser("emma", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	resp, body := g.post("/v1/embeddings", tok.Key, `{"model":"test-embed","input":"hello","encoding_format":"base64"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var out struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Data) != 1 {
		t.Fatalf("%s: %v", body, err)
	}
	raw, err := base64.StdEncoding.DecodeString(out.Data[0].Embedding)
	if err != nil || len(raw) != 12 {
		t.Fatalf("base64 %q: %v", out.Data[0].Embedding, err)
	}
	for i, want := range []float32{0.0023064255, -0.009327292, -0.0028842222} {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != want {
			t.Fatalf("value %d: %v, want %v", i, got, want)
		}
	}
	// Without encoding_format: numbers, as the upstream sent them.
	_, body = g.post("/v1/embeddings", tok.Key, `{"model":"test-embed","input":"hello"}`)
	var floats struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &floats); err != nil || len(floats.Data[0].Embedding) != 3 {
		t.Fatalf("%s: %v", body, err)
	}
}
