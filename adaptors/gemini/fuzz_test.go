package gemini

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/adaptortest"
)

// FuzzStreamDecoder: whatever the upstream sends, the decoder never
// panics, ends within a bounded number of events, and only emits valid
// JSON chunks.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.sse")
	for _, file := range files {
		f.Add(adaptortest.ReadFile(f, file), false)
	}
	f.Add([]byte("data: {\"candidates\":[{\"index\":3,\"finishReason\":\"STOP\"}]}\n\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		d := NewSSEDecoder(chatReq(true, includeUsage), bytes.NewReader(body))
		for range 10000 {
			ev, err := d.Next()
			if err != nil {
				if _, err2 := d.Next(); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
			if ev.Data != nil && !sonic.Valid(ev.Data) {
				t.Fatalf("chunk is not valid JSON: %q", ev.Data)
			}
			if ev.TextBytes < 0 {
				t.Fatal("negative TextBytes")
			}
		}
		t.Fatal("decoder did not end")
	})
}
