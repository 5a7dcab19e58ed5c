package anthropic

import (
	"bytes"
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
	body := adaptortest.ReadFile(b, "testdata/inbound/request/tools.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InboundRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOutboundResponse(b *testing.B) {
	body := adaptortest.ReadFile(b, "testdata/inbound/response/parallel_tool_calls.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := OutboundResponse(body, "claude-sonnet-4-5"); err != nil {
			b.Fatal(err)
		}
	}
}

// bigChatBody is a ~100 KB OpenAI chat request: a long conversation with
// a system prompt and tools, the shape of an agent's late turn.
func bigChatBody() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"system","content":"You are a careful assistant."}`)
	for i := range 50 {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		b.WriteString(`,{"role":"` + role + `","content":"` + strings.Repeat(`lorem ipsum dolor \"sit\" amet `, 70) + `"}`)
	}
	b.WriteString(`],"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}],"stream":true}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := New()
	ch := &adaptors.Channel{Key: "sk-ant-test"}
	cases := []struct {
		name string
		body []byte
	}{
		{"small", []byte(`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hello!"}]}`)},
		{"tools", adaptortest.ReadFile(b, "testdata/build/tools.json")},
		{"100KB", bigChatBody()},
	}
	for _, c := range cases {
		req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-sonnet-4-5", OriginModel: "claude-sonnet-4-5", Body: c.body}
		if _, err := a.BuildRequest(ch, req); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.BuildRequest(ch, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseMessage(b *testing.B) {
	body := adaptortest.ReadFile(b, "testdata/response/tool_use.json")
	req := &adaptors.Request{Mode: adaptors.ModeChat, OriginModel: "claude-sonnet-4-5"}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(req, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	a := New()
	for _, file := range []string{"text.sse", "tool_call.sse"} {
		body := adaptortest.ReadFile(b, "testdata/stream/"+file)
		req := &adaptors.Request{Mode: adaptors.ModeChat, OriginModel: "claude-sonnet-4-5", Stream: true, IncludeUsage: true}
		b.Run(file, func(b *testing.B) {
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
		})
	}
}
