package vertex

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/adaptortest"
)

// FuzzStreamDecoder: whatever the upstream sends, neither decoder (the
// Gemini one or the Claude one, chosen by the model) panics, ends within
// a bounded number of events, keeps its error, and emits only valid JSON
// chunks.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.sse")
	for _, file := range files {
		f.Add(adaptortest.ReadFile(f, file), strings.Contains(file, "claude"), true)
	}
	f.Add([]byte("data: {\"candidates\":[{\"index\":3,\"finishReason\":\"STOP\"}]}\n\n"), false, false)
	f.Add([]byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"), true, false)
	f.Fuzz(func(t *testing.T, body []byte, claude, includeUsage bool) {
		model := "gemini-2.5-flash"
		if claude {
			model = "claude-sonnet-4-5@20250929"
		}
		d := New().NewStreamDecoder(chatReq(model, true, includeUsage), bytes.NewReader(body))
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
