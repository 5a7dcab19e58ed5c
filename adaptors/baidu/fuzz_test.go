package baidu

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
// never panic, always end within a bounded number of events, end cleanly
// only after a payload with is_end (or a whole JSON answer), and hand out
// only valid JSON.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*")
	for _, p := range files {
		if filepath.Ext(p) == ".golden" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte("data: {\"is_end\":true}\n\n"), true)
	f.Add([]byte("data: {\"function_call\":{\"arguments\":\"x\"},\"is_end\":true}\n\n"), true)
	f.Add([]byte(`{"result":"x"}`), false)
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		d := a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: includeUsage}, bytes.NewReader(body))
		for i := 0; ; i++ {
			if i > 3*len(body)+10 {
				t.Fatalf("decoder did not end after %d events", i)
			}
			ev, err := d.Next()
			if err != nil {
				if err == io.EOF && !bytes.Contains(body, []byte("is_end")) && !bytes.Contains(body, []byte("result")) && !bytes.Contains(body, []byte("function_call")) {
					t.Fatalf("clean end without is_end: %q", body)
				}
				if again, _ := d.Next(); again.Data != nil {
					t.Fatal("event after the end")
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
		f.Add(b, false)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, embed bool) {
		req := &adaptors.Request{Mode: adaptors.ModeChat, Body: []byte(`{}`)}
		if embed {
			req = &adaptors.Request{Mode: adaptors.ModeEmbeddings, Body: []byte(`{"input":"x","encoding_format":"base64"}`)}
		}
		resp, err := a.ParseResponse(req, body)
		if err == nil && !json.Valid(resp.Body) {
			t.Fatalf("invalid client body %q", resp.Body)
		}
		if e := a.ParseError(400, body); e == nil || e.Message == "" {
			t.Fatal("empty error")
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
		f.Add(b, false)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, embed bool) {
		mode := adaptors.ModeChat
		if embed {
			mode = adaptors.ModeEmbeddings
		}
		ch := v1Channel()
		r, err := a.BuildRequest(&ch, &adaptors.Request{Mode: mode, Model: "ERNIE-4.0-8K", Body: body})
		if err == nil && !json.Valid(r.Body) {
			t.Fatalf("invalid upstream body %q", r.Body)
		}
	})
}
