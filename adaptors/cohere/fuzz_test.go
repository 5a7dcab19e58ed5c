package cohere

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"switchyard/adaptors"
)

// FuzzStreamDecoder feeds arbitrary bodies to the stream decoder: it must
// never panic, always end (with io.EOF only after a message-end), and
// hand out only valid JSON.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.sse")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte("event: message-end\ndata: {\"type\":\"message-end\"}\n\n"), true)
	f.Add([]byte("data: {\"type\":\"tool-call-delta\",\"index\":-1}\n\n"), true)
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		d := a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: includeUsage}, bytes.NewReader(body))
		for i := 0; ; i++ {
			if i > len(body)+10 {
				t.Fatalf("decoder did not end after %d events", i)
			}
			ev, err := d.Next()
			if err != nil {
				if err == io.EOF && !bytes.Contains(body, []byte("message-end")) {
					t.Fatalf("clean end without message-end")
				}
				return
			}
			if ev.Data != nil && !json.Valid(ev.Data) {
				t.Fatalf("invalid JSON chunk %q", ev.Data)
			}
			if ev.TextBytes < 0 {
				t.Fatal("negative TextBytes")
			}
		}
	})
}

// FuzzParseResponse: no answer body, whatever its shape, makes a parser
// panic, and whatever a parser accepts gives the client valid JSON.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob("testdata/response/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Add([]byte(`{"results":[{"index":-1,"relevance_score":"x"}],"meta":{"billed_units":{"input_tokens":1e309}}}`), uint8(2))
	a := New()
	modes := []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings, adaptors.ModeRerank}
	bodies := []string{`{}`, `{"input":"x","encoding_format":"base64"}`, `{"query":"q","documents":["a",{"text":"b"}],"return_documents":true}`}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		m := int(mode) % len(modes)
		resp, err := a.ParseResponse(&adaptors.Request{Mode: modes[m], Body: []byte(bodies[m])}, body)
		if err == nil && !json.Valid(resp.Body) {
			t.Fatalf("invalid client body %q", resp.Body)
		}
	})
}

// FuzzBuildRequest: no client body makes BuildRequest panic; what it
// accepts becomes a valid JSON upstream body.
func FuzzBuildRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/build/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	a := New()
	modes := []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings, adaptors.ModeRerank}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		r, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, &adaptors.Request{Mode: modes[int(mode)%len(modes)], Model: "m", Body: body})
		if err == nil && !json.Valid(r.Body) {
			t.Fatalf("invalid upstream body %q", r.Body)
		}
	})
}
