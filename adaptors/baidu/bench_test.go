package baidu

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
	b.WriteString(`{"model":"ERNIE-4.0-8K","messages":[{"role":"system","content":"You are a helpful assistant."}`)
	for range 50 {
		b.WriteString(`,{"role":"user","content":"` + strings.Repeat("lorem ipsum dolor \\\"sit\\\" amet ", 35) + `"}`)
		b.WriteString(`,{"role":"assistant","content":"` + strings.Repeat("consectetur adipiscing elit ", 35) + `"}`)
	}
	b.WriteString(`,{"role":"user","content":"What is the weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}],"temperature":0.2,"max_tokens":512}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := New()
	ch := v1Channel()
	cases := []struct {
		name string
		body []byte
	}{
		{"small", []byte(`{"model":"ERNIE-4.0-8K","messages":[{"role":"user","content":"Hello!"}]}`)},
		{"100KB", bigChatBody()},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-4.0-8K", Body: c.body, Stream: true}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.BuildRequest(&ch, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseResponse(b *testing.B) {
	a := New()
	body := adaptortest.ReadFile(b, "testdata/response/chat.json")
	req := &adaptors.Request{Mode: adaptors.ModeChat, OriginModel: "ERNIE-4.0-8K"}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.ParseResponse(req, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	a := New()
	for _, file := range []string{"chat.sse", "tool_call.sse"} {
		b.Run(file, func(b *testing.B) {
			body := adaptortest.ReadFile(b, "testdata/stream/"+file)
			req := &adaptors.Request{Mode: adaptors.ModeChat, OriginModel: "ERNIE-4.0-8K", Stream: true, IncludeUsage: true}
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
