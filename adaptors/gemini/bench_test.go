package gemini

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// loadPayloads returns the payloads of a capture, copied.
func loadPayloads(b *testing.B, file string) [][]byte {
	var ps [][]byte
	forEachPayload(b, "testdata/inbound/stream/"+file, func(d []byte) { ps = append(ps, bytes.Clone(d)) })
	return ps
}

// BenchmarkStreamEncoder measures the per-stream cost of converting a
// short stream (the hot path: one encoder per streamed request).
func BenchmarkStreamEncoder(b *testing.B) {
	for _, file := range []string{"text.sse", "parallel_interleaved.sse"} {
		ps := loadPayloads(b, file)
		b.Run(file, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e := NewStreamEncoder("gemini-2.5-flash")
				for _, p := range ps {
					if _, err := e.Chunk(p); err != nil {
						b.Fatal(err)
					}
				}
				e.Finish(nil, nil)
			}
		})
	}
}

func BenchmarkInboundRequest(b *testing.B) {
	body := adaptortest.ReadFile(b, "testdata/inbound/request/function_calling.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InboundRequest(body, "gemini-2.5-flash", false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOutboundResponse(b *testing.B) {
	body := adaptortest.ReadFile(b, "testdata/inbound/response/parallel_tool_calls.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := OutboundResponse(body, "gemini-2.5-flash"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild measures BuildRequest on a small chat body and on a
// ~100 KB conversation with tools.
func BenchmarkBuild(b *testing.B) {
	small := adaptortest.ReadFile(b, "testdata/build/chat_basic.json")
	var big bytes.Buffer
	big.WriteString(`{"model":"gemini-2.5-flash","messages":[{"role":"system","content":"You are a helpful assistant."}`)
	para := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20)
	for i := 0; big.Len() < 100<<10; i++ {
		fmt.Fprintf(&big, `,{"role":"user","content":%q},{"role":"assistant","content":%q}`, para, para)
	}
	big.WriteString(`,{"role":"user","content":"Summarise."}],"tools":[{"type":"function","function":{"name":"search","parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}],"max_tokens":1024,"stream":true}`)
	a := New()
	ch := &adaptors.Channel{Key: "AIzaSyBench"}
	for _, c := range []struct {
		name string
		body []byte
	}{{"small", small}, {"100KB", big.Bytes()}} {
		req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash", Body: c.body, Stream: true}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				if _, err := a.BuildRequest(ch, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStreamDecode measures decoding a streamed answer (the hot
// path: every streamed request goes through one decoder).
func BenchmarkStreamDecode(b *testing.B) {
	for _, file := range []string{"text.sse", "reasoning.sse", "tool_call.sse"} {
		body := adaptortest.ReadFile(b, "testdata/stream/"+file)
		b.Run(file, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			req := chatReq(true, true)
			for b.Loop() {
				d := NewSSEDecoder(req, bytes.NewReader(body))
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

// BenchmarkParseResponse measures converting a non-stream answer.
func BenchmarkParseResponse(b *testing.B) {
	body := adaptortest.ReadFile(b, "testdata/response/tool_calls.json")
	req := chatReq(false, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseGenerateResponse(req, body); err != nil {
			b.Fatal(err)
		}
	}
}
