package ali

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/adaptortest"
)

// FuzzStreamDecoder: whatever the upstream sends, the decoder never
// panics, ends within a bounded number of events, keeps its error, and
// only emits valid JSON chunks.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.sse")
	for _, file := range files {
		f.Add(adaptortest.ReadFile(f, file), false)
	}
	f.Add([]byte("event:result\ndata:{\"output\":{\"choices\":[{\"message\":{\"tool_calls\":[{\"index\":9,\"function\":{\"arguments\":\"x\"}}]},\"finish_reason\":\"tool_calls\"}]}}\n\n"), true)
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, includeUsage bool) {
		req := chatReq("qwen-plus", true, "")
		req.IncludeUsage = includeUsage
		d := New().NewStreamDecoder(req, bytes.NewReader(body))
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
