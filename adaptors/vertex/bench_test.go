package vertex

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// BenchmarkBuild measures BuildRequest on a small chat body and on a
// ~100 KB conversation with tools, for both publishers.
func BenchmarkBuild(b *testing.B) {
	small := adaptortest.ReadFile(b, "testdata/build/chat_basic.json")
	var big bytes.Buffer
	big.WriteString(`{"model":"m","messages":[{"role":"system","content":"You are a helpful assistant."}`)
	para := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20)
	for big.Len() < 100<<10 {
		fmt.Fprintf(&big, `,{"role":"user","content":%q},{"role":"assistant","content":%q}`, para, para)
	}
	big.WriteString(`,{"role":"user","content":"Summarise."}],"tools":[{"type":"function","function":{"name":"search","parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}],"max_tokens":1024,"stream":true}`)
	a := New()
	ch := testChannel(b, map[string]string{"region": "us-east5"})
	for _, model := range []string{"gemini-2.5-flash", "claude-sonnet-4-5-20250929"} {
		for _, c := range []struct {
			name string
			body []byte
		}{{"small", small}, {"100KB", big.Bytes()}} {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: c.body, Stream: true}
			b.Run(model+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := a.BuildRequest(&ch, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkStreamDecode decodes a realistic stream of each publisher.
func BenchmarkStreamDecode(b *testing.B) {
	for _, c := range []struct{ file, model string }{
		{"gemini_text.sse", "gemini-2.5-flash"},
		{"claude_text.sse", "claude-sonnet-4-5-20250929"},
		{"claude_tool.sse", "claude-opus-4-6"},
	} {
		body := adaptortest.ReadFile(b, "testdata/stream/"+c.file)
		req := chatReq(c.model, true, true)
		b.Run(c.file, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				d := New().NewStreamDecoder(req, bytes.NewReader(body))
				for {
					if _, err := d.Next(); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
				}
			}
		})
	}
}

// BenchmarkTokenRequest measures the JWT signing (once an hour per
// channel; dominated by the RSA signature and the key parse).
func BenchmarkTokenRequest(b *testing.B) {
	a := New()
	ch := testChannel(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.TokenRequest(&ch, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
