package zhipu

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
// never panic, always end (with io.EOF only after a finish_reason or
// [DONE]), and hand out only valid JSON.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.sse")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-1},{\"index\":null,\"id\":\"x\"}]}}]}\n\ndata: [DONE]\n\n"), true)
	f.Add([]byte("data: {\"error\":null,\"choices\":[{\"finish_reason\":\"network_error\"}]}\n\n"), true)
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		d := a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: includeUsage, OriginModel: "m"}, bytes.NewReader(body))
		for i := 0; ; i++ {
			if i > len(body)+10 {
				t.Fatalf("decoder did not end after %d events", i)
			}
			ev, err := d.Next()
			if err != nil {
				if err == io.EOF && !bytes.Contains(body, []byte("finish_reason")) && !bytes.Contains(body, []byte("[DONE]")) {
					t.Fatalf("clean end without finish_reason or [DONE]")
				}
				if _, again := d.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
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

// FuzzParseResponse: no answer body makes the parser panic, and whatever
// it accepts gives the client valid JSON.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob("testdata/response/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat, OriginModel: "m"}, body)
		if err == nil && !json.Valid(resp.Body) {
			t.Fatalf("invalid client body %q", resp.Body)
		}
		if e := a.ParseError(400, body); e == nil || e.Message == "" {
			t.Fatalf("bad error %v", e)
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
		f.Add(b, true)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, stream bool) {
		ch := jwtChannel()
		r, err := a.BuildRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "glm-4.6", Body: body, Stream: stream})
		if err == nil && !json.Valid(r.Body) {
			t.Fatalf("invalid upstream body %q", r.Body)
		}
	})
}
