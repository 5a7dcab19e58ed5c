package azure

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
	b.WriteString(`],"temperature":0.2,"model":"gpt-4o"`)
	if stream {
		b.WriteString(`,"stream":true`)
	}
	b.WriteString(`}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := New()
	ch := &adaptors.Channel{Key: "azure-key", BaseURL: endpoint}
	v1 := &adaptors.Channel{Key: "azure-key", BaseURL: endpoint, Config: map[string]string{"api_version": "v1"}}
	small := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]}`)
	cases := []struct {
		name string
		ch   *adaptors.Channel
		req  adaptors.Request
	}{
		{"small", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", OriginModel: "gpt-4o", Body: small}},
		{"100KB", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", OriginModel: "gpt-4o", Body: bigChatBody(false)}},
		{"stream_small", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", OriginModel: "gpt-4o", Body: small, Stream: true}},
		{"stream_100KB", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4o", OriginModel: "gpt-4o", Body: bigChatBody(true), Stream: true}},
		{"v1_100KB", v1, adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-4.1", OriginModel: "gpt-4o", Body: bigChatBody(false)}},
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
