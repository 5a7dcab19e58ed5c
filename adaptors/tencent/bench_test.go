package tencent

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// bigChatBody is a ~100 KB chat request: a long conversation with tools.
func bigChatBody() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"hunyuan-turbos-latest","messages":[{"role":"system","content":"You are a helpful assistant."}`)
	for range 50 {
		b.WriteString(`,{"role":"user","content":"` + strings.Repeat("lorem ipsum dolor \\\"sit\\\" amet ", 35) + `"}`)
		b.WriteString(`,{"role":"assistant","content":"` + strings.Repeat("consectetur adipiscing elit ", 35) + `"}`)
	}
	b.WriteString(`,{"role":"user","content":"and now?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}],"temperature":0.2,"max_tokens":512}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := testAdaptor()
	ch := &adaptors.Channel{Key: testKey}
	cases := []struct {
		name string
		body []byte
	}{
		{"small", []byte(`{"model":"hunyuan-turbos-latest","messages":[{"role":"user","content":"Hello!"}]}`)},
		{"100KB", bigChatBody()},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-turbos-latest", Body: c.body, Stream: true}
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

// BenchmarkSign measures the TC3 signature alone (small body).
func BenchmarkSign(b *testing.B) {
	body := []byte(xBody)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = appendAuthorization(dst[:0], &tc3Request{secretID: xSecretID, secretKey: xSecretKey, host: xHost, action: "ChatCompletions",
			contentType: contentJSON, service: SigningService, timestamp: xTimestamp, body: body})
	}
}

func BenchmarkParseResponse(b *testing.B) {
	a := testAdaptor()
	body := adaptortest.ReadFile(b, "testdata/response/chat_tool_call_ids.json")
	req := &adaptors.Request{Mode: adaptors.ModeChat, OriginModel: "hunyuan"}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.ParseResponse(req, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	a := testAdaptor()
	for _, file := range []string{"multi_turn.sse", "tool_call.sse"} {
		b.Run(file, func(b *testing.B) {
			body := adaptortest.ReadFile(b, "testdata/stream/"+file)
			req := &adaptors.Request{Mode: adaptors.ModeChat, OriginModel: "hunyuan", Stream: true, IncludeUsage: true}
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
