package anthropic

import (
	"bytes"
	"testing"

	"switchyard/adaptors/adaptortest"
)

// loadPayloads returns the payloads of a capture, copied.
func loadPayloads(b *testing.B, file string) [][]byte {
	var ps [][]byte
	forEachPayload(b, "testdata/stream/"+file, func(d []byte) { ps = append(ps, bytes.Clone(d)) })
	return ps
}

// BenchmarkStreamEncoder measures the per-stream cost of converting a
// short text stream (the hot path: one encoder per streamed request).
func BenchmarkStreamEncoder(b *testing.B) {
	for _, file := range []string{"text.sse", "parallel_interleaved.sse"} {
		ps := loadPayloads(b, file)
		b.Run(file, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e := NewStreamEncoder("claude-sonnet-4-5", 100)
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
	body := adaptortest.ReadFile(b, "testdata/request/tools.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InboundRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOutboundResponse(b *testing.B) {
	body := adaptortest.ReadFile(b, "testdata/response/parallel_tool_calls.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := OutboundResponse(body, "claude-sonnet-4-5"); err != nil {
			b.Fatal(err)
		}
	}
}
