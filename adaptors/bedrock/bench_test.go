package bedrock

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"switchyard/adaptors"
)

// bigChatBody is a ~100 KB chat request of 50 user/assistant turns.
func bigChatBody() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"m","messages":[{"role":"system","content":"You are terse."}`)
	for i := range 50 {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		b.WriteString(`,{"role":"` + role + `","content":"` + strings.Repeat("lorem ipsum dolor \\\"sit\\\" amet ", 70) + `"}`)
	}
	b.WriteString(`,{"role":"user","content":"Sum it up."}],"temperature":0.2,"max_tokens":512}`)
	return []byte(b.String())
}

func BenchmarkBuild(b *testing.B) {
	a := New(Options{Now: fixedClock})
	small := []byte(`{"model":"m","messages":[{"role":"user","content":"Hello!"}]}`)
	big := bigChatBody()
	cases := []struct {
		name  string
		ch    adaptors.Channel
		model string
		body  []byte
	}{
		{"converse_sigv4_small", adaptors.Channel{Key: testKey}, "amazon.nova-lite-v1:0", small},
		{"converse_sigv4_100KB", adaptors.Channel{Key: testKey}, "amazon.nova-lite-v1:0", big},
		{"converse_bearer_small", adaptors.Channel{Key: testAPIKey, Config: map[string]string{"region": "us-east-1"}}, "amazon.nova-lite-v1:0", small},
		{"claude_sigv4_small", adaptors.Channel{Key: testKey}, "claude-3-haiku-20240307", small},
		{"claude_sigv4_100KB", adaptors.Channel{Key: testKey}, "claude-3-haiku-20240307", big},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: c.model, Body: c.body, Stream: true}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.BuildRequest(&c.ch, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSign is the SigV4 signature alone, on a 100 KB body.
func BenchmarkSign(b *testing.B) {
	body := bigChatBody()
	hs := []adaptors.Header{{Key: "Content-Type", Value: "application/json"}}
	r := &signRequest{Method: "POST", Host: "bedrock-runtime.us-east-1.amazonaws.com", Path: "/model/amazon.nova-lite-v1%3A0/converse",
		Header: hs, Body: body, Service: "bedrock", Region: "us-east-1", Time: signingTime}
	c := &credentials{AccessKey: "AKIDEXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	dst := make([]adaptors.Header, 0, 4)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		dst = sign(dst[:0], r, c)
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	for _, c := range []struct{ file, model string }{
		{"converse_tool", "mistral.mistral-large-2407-v1:0"},
		{"claude_tool", "claude-sonnet-4-5-20250929"},
	} {
		b.Run(c.file, func(b *testing.B) {
			a := New(Options{})
			stream := readStream(b, c.file)
			req := streamRequest(c.model, true)
			r := bytes.NewReader(stream)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(stream)
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

func BenchmarkParseResponse(b *testing.B) {
	a := New(Options{})
	body := []byte(`{"metrics":{"latencyMs":1164},"output":{"message":{"content":[{"text":"I'll look up the weather for you."},{"toolUse":{"input":{"location":"Paris, France"},"name":"get_weather","toolUseId":"tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"}}],"role":"assistant"}},"stopReason":"tool_use","usage":{"inputTokens":371,"outputTokens":86,"totalTokens":457}}`)
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "amazon.nova-lite-v1:0", OriginModel: "m"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.ParseResponse(req, body); err != nil {
			b.Fatal(err)
		}
	}
}
