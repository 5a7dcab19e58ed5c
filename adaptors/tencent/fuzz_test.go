package tencent

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
// never panic, always end (with io.EOF only after a chunk with a
// FinishReason), and hand out only valid JSON.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.sse")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte(`{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"m"}}}`), true)
	f.Add([]byte("data: {\"Choices\":[{\"Delta\":{\"ToolCalls\":[{\"Index\":-1},{}]},\"FinishReason\":\"x\"}]}\n\n"), true)
	a := New(Options{})
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		d := a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: includeUsage}, bytes.NewReader(body))
		for i := 0; ; i++ {
			if i > len(body)+10 {
				t.Fatalf("decoder did not end after %d events", i)
			}
			ev, err := d.Next()
			if err != nil {
				if err == io.EOF && !bytes.Contains(body, []byte("FinishReason")) {
					t.Fatalf("clean end without a FinishReason")
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

// FuzzParseResponse: no answer body makes a parser panic, and whatever a
// parser accepts gives the client valid JSON.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob("testdata/response/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	a := New(Options{})
	modes := []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings, adaptors.ModeEmbeddings}
	bodies := []string{`{}`, `{"input":"x"}`, `{"input":["a","b"],"encoding_format":"base64"}`}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		m := int(mode) % len(modes)
		resp, err := a.ParseResponse(&adaptors.Request{Mode: modes[m], Body: []byte(bodies[m])}, body)
		if err == nil && !json.Valid(resp.Body) {
			t.Fatalf("invalid client body %q", resp.Body)
		}
		if e := a.ParseError(400, body); e == nil || e.Message == "" {
			t.Fatal("bad error")
		}
	})
}

// FuzzBuildRequest: no client body makes BuildRequest panic; what it
// accepts becomes a valid JSON upstream body.
func FuzzBuildRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/build/*.json")
	for _, p := range files {
		if filepath.Ext(filepath.Base(p[:len(p)-len(".json")])) == ".body" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	a := New(Options{})
	modes := []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		r, err := a.BuildRequest(&adaptors.Channel{Key: "AKIDx|secret"}, &adaptors.Request{Mode: modes[int(mode)%len(modes)], Model: "m", Body: body})
		if err == nil && !json.Valid(r.Body) {
			t.Fatalf("invalid upstream body %q", r.Body)
		}
	})
}
