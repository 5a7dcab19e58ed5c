package replicate

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// bigChatBody is a ~100 KB conversation: 50 turns of ~2 KB, rendered as
// a transcript.
func bigChatBody() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"meta/meta-llama-3-70b-instruct","messages":[{"role":"system","content":"You are a helpful assistant."}`)
	for i := range 50 {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		b.WriteString(`,{"role":"` + role + `","content":"` + strings.Repeat("lorem ipsum dolor \\\"sit\\\" amet ", 70) + `"}`)
	}
	b.WriteString(`],"max_tokens":512,"temperature":0.6,"stop":["<|eot_id|>"]}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := New()
	ch := &adaptors.Channel{Key: "r8_bench"}
	small := []byte(`{"model":"meta/meta-llama-3-70b-instruct","messages":[{"role":"user","content":"Hello!"}]}`)
	for _, c := range []struct {
		name string
		body []byte
	}{{"small", small}, {"100KB", bigChatBody()}} {
		b.Run(c.name, func(b *testing.B) {
			req := newReq("meta/meta-llama-3-70b-instruct", false, c.body)
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

// longStream is a realistic answer: 300 output events of one token each
// (Llama streams a token per event), then done.
func longStream() []byte {
	var b bytes.Buffer
	words := strings.Fields("Once upon a time , there was a llama named Lila who lived high in the Andes and loved to tell stories .")
	for i := range 300 {
		fmt.Fprintf(&b, "event: output\nid: 1721747061:%d\ndata:  %s\n\n", i, words[i%len(words)])
	}
	fmt.Fprintf(&b, "event: done\nid: 1721747061:300\ndata: {}\n\n")
	return b.Bytes()
}

func BenchmarkStreamDecode(b *testing.B) {
	a := New()
	body := longStream()
	req := newReq("meta/meta-llama-3-70b-instruct", true, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d := a.NewStreamDecoder(req, bytes.NewReader(body))
		for {
			if _, err := d.Next(); err != nil {
				break
			}
		}
	}
}

func BenchmarkParseResponse(b *testing.B) {
	a := New()
	body := adaptortest.ReadFile(b, "testdata/response/chat.json")
	req := newReq("meta/meta-llama-3.1-405b-instruct", false, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.ParseResponse(req, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFollowUp(b *testing.B) {
	a := New()
	body := adaptortest.ReadFile(b, "testdata/followup/starting.json")
	ch := &adaptors.Channel{Key: "r8_bench"}
	req := newReq("meta/meta-llama-3-70b-instruct", true, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := a.FollowUp(ch, req, 1, body); err != nil {
			b.Fatal(err)
		}
	}
}
