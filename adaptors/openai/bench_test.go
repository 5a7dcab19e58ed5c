package openai

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// bigChatBody is a ~100 KB chat request with model and stream at the end,
// the worst case for finding them.
func bigChatBody(stream bool) []byte {
	var b strings.Builder
	b.WriteString(`{"messages":[`)
	for i := range 50 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"role":"user","content":"` + strings.Repeat("lorem ipsum dolor \\\"sit\\\" amet ", 70) + `"}`)
	}
	b.WriteString(`],"temperature":0.2,"model":"gpt-4o"`)
	if stream {
		b.WriteString(`,"stream":true`)
	}
	b.WriteString(`}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := New(OpenAIConfig())
	ch := &adaptors.Channel{Key: "sk-test"}
	small := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]}`)
	cases := []struct {
		name string
		req  adaptors.Request
	}{
		{"passthrough_small", adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", Body: small}},
		{"passthrough_100KB", adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", Body: bigChatBody(false)}},
		{"stream_rewrite_small", adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", Body: small, Stream: true}},
		{"stream_rewrite_100KB", adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", Body: bigChatBody(true), Stream: true}},
		{"model_mapped_100KB", adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o-2024-08-06", Body: bigChatBody(false)}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.BuildRequest(ch, &c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Reference point: what a sonic.Get peek of model costs on the same
	// body, so the walker's cost can be compared.
	b.Run("reference_sonic_get_model_100KB", func(b *testing.B) {
		body := bigChatBody(false)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sonic.Get(body, "model"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParseResponse(b *testing.B) {
	a := New(OpenAIConfig())
	body := adaptortest.ReadFile(b, "testdata/response/chat.json")
	req := &adaptors.Request{Mode: adaptors.ModeChat}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.ParseResponse(req, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	a := New(OpenAIConfig())
	body := adaptortest.ReadFile(b, "testdata/stream/chat.sse")
	req := &adaptors.Request{Mode: adaptors.ModeChat, Stream: true}
	r := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(body)
		d := a.NewStreamDecoder(req, r)
		for {
			if _, err := d.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
