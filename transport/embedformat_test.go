package transport

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"testing"

	"github.com/bytedance/sonic"
)

func TestEmbeddingFormat(t *testing.T) {
	floats := []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25,1]}],"model":"m","usage":{"prompt_tokens":5,"total_tokens":5}}`)
	b64 := embeddingFormat(floats, true)
	var got struct {
		Data []struct {
			Embedding any `json:"embedding"`
			Index     int `json:"index"`
		} `json:"data"`
		Model string `json:"model"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := sonic.Unmarshal(b64, &got); err != nil || got.Model != "m" || got.Usage.PromptTokens != 5 {
		t.Fatalf("%s: %v", b64, err)
	}
	s, _ := got.Data[0].Embedding.(string)
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != 12 || math.Float32frombits(binary.LittleEndian.Uint32(raw[4:])) != -0.25 {
		t.Fatalf("base64 %q: %v", s, err)
	}
	// Back to numbers when the client wants floats and the upstream sent
	// base64.
	back := embeddingFormat(b64, false)
	if err := sonic.Unmarshal(back, &got); err != nil {
		t.Fatal(err)
	}
	fs, _ := got.Data[0].Embedding.([]any)
	if len(fs) != 3 || fs[0] != 0.5 || fs[1] != -0.25 || fs[2] != 1.0 {
		t.Fatalf("floats %v", got.Data[0].Embedding)
	}
	// Already right, or unreadable: unchanged (same slice).
	for _, c := range []struct {
		body []byte
		b64  bool
	}{{floats, false}, {b64, true}, {[]byte("not json"), true}, {[]byte(`{"data":[{"embedding":"!!"}]}`), false}} {
		if out := embeddingFormat(c.body, c.b64); &out[0] != &c.body[0] {
			t.Fatalf("changed %s", c.body)
		}
	}
	if !wantsBase64([]byte(`{"input":"x","encoding_format":"base64"}`)) || wantsBase64([]byte(`{"encoding_format":"float"}`)) || wantsBase64([]byte(`{}`)) {
		t.Fatal("wantsBase64")
	}
}
