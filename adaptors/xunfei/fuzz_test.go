package xunfei

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
// never panic, always end (with io.EOF only after a last frame), and hand
// out only valid JSON.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.ndjson")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte(`{"header":{"status":2},"payload":{"choices":{"text":[{"function_call":{"arguments":{}}}]}}}`), true)
	f.Add([]byte(`{"header":{"code":"x","status":"2"}}`+"\n"), true)
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		d := a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: includeUsage}, bytes.NewReader(body))
		for i := 0; ; i++ {
			if i > 4*len(body)+10 {
				t.Fatalf("decoder did not end after %d events", i)
			}
			ev, err := d.Next()
			if err != nil {
				if err == io.EOF && !bytes.Contains(body, []byte("2")) {
					t.Fatalf("clean end without a last frame")
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

// FuzzParseResponse: no answer body makes the parser panic, and what it
// accepts gives the client valid JSON.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob("testdata/response/*.ndjson")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, body)
		if err == nil && !json.Valid(resp.Body) {
			t.Fatalf("invalid client body %q", resp.Body)
		}
	})
}

// FuzzSocketRequest: no client body makes SocketRequest panic; what it
// accepts becomes one valid JSON frame.
func FuzzSocketRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/build/*.json")
	for _, p := range files {
		if filepath.Ext(p[:len(p)-len(".json")]) == ".frame" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := a.SocketRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: adaptors.ModeChat, Model: "Spark-Max", Body: body}, testNow)
		if err == nil && (len(c.Frames) != 1 || !json.Valid(c.Frames[0])) {
			t.Fatalf("invalid frame %q", c.Frames)
		}
	})
}
