package ollama

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// bigChatBody is a ~100 KB chat request: a long conversation of plain
// text turns.
func bigChatBody() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"llama3.2","messages":[{"role":"system","content":"You are terse."}`)
	for i := range 50 {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		b.WriteString(`,{"role":"` + role + `","content":"` + strings.Repeat("lorem ipsum dolor \\\"sit\\\" amet ", 70) + `"}`)
	}
	b.WriteString(`],"temperature":0.2,"max_tokens":512,"stream":true}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := New()
	ch := &adaptors.Channel{}
	small := []byte(`{"model":"llama3.2","messages":[{"role":"user","content":"Hello!"}]}`)
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"small", small},
		{"100KB", bigChatBody()},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2", OriginModel: "llama3.2", Body: c.body, Stream: true}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.BuildRequest(ch, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseResponse(b *testing.B) {
	a := New()
	body := adaptortest.ReadFile(b, "testdata/response/chat.json")
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2", OriginModel: "llama3.2"}
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
	for _, file := range []string{"chat.ndjson", "tool_call.ndjson"} {
		b.Run(strings.TrimSuffix(file, ".ndjson"), func(b *testing.B) {
			body := adaptortest.ReadFile(b, "testdata/stream/"+file)
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2", OriginModel: "llama3.2", Stream: true, IncludeUsage: true}
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
