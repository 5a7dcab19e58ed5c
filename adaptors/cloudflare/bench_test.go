package cloudflare

import (
	"bytes"
	"io"
	"strings"
	"testing"

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
	b.WriteString(`],"temperature":0.2,"model":"@cf/meta/llama-3.1-8b-instruct"`)
	if stream {
		b.WriteString(`,"stream":true`)
	}
	b.WriteString(`}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := New()
	ch := &adaptors.Channel{Key: "cf-token", Config: map[string]string{"account_id": account}}
	gw := &adaptors.Channel{Key: "cf-token", BaseURL: gateway}
	small := []byte(`{"model":"@cf/meta/llama-3.1-8b-instruct","messages":[{"role":"user","content":"Hello!"}]}`)
	cases := []struct {
		name string
		ch   *adaptors.Channel
		req  adaptors.Request
	}{
		{"small", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "@cf/meta/llama-3.1-8b-instruct", OriginModel: "@cf/meta/llama-3.1-8b-instruct", Body: small}},
		{"100KB", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "@cf/meta/llama-3.1-8b-instruct", OriginModel: "@cf/meta/llama-3.1-8b-instruct", Body: bigChatBody(false)}},
		{"stream_small", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "@cf/meta/llama-3.1-8b-instruct", OriginModel: "@cf/meta/llama-3.1-8b-instruct", Body: small, Stream: true}},
		{"stream_100KB", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "@cf/meta/llama-3.1-8b-instruct", OriginModel: "@cf/meta/llama-3.1-8b-instruct", Body: bigChatBody(true), Stream: true}},
		{"gateway_mapped_100KB", gw, adaptors.Request{Mode: adaptors.ModeChat, Model: "@cf/meta/llama-3.3-70b-instruct-fp8-fast", OriginModel: "@cf/meta/llama-3.1-8b-instruct", Body: bigChatBody(false)}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.BuildRequest(c.ch, &c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	a := New()
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
