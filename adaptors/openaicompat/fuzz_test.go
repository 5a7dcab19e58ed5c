package openaicompat

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"switchyard/adaptors"
)

// FuzzStreamDecoder feeds arbitrary bodies to the stream decoders of the
// rows whose streams are repaired (quirkDecoder around the openai
// decoder): they must never panic and always end, within a bounded number
// of events, with an error (io.EOF or another).
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.sse")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0), true)
	}
	f.Add([]byte(`{"base_resp":{"status_code":1004,"status_msg":"login fail"}}`), uint8(2), false)
	f.Add([]byte("data:{\"code\":10013,\"message\":\"x\"}\n\n"), uint8(3), true)
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"tool_calls\":{\"function\":{\"name\":\"f\"}}},\"finish_reason\":\"stop\"}]}\n\n"), uint8(1), true)
	var rows []adaptors.Adaptor
	for _, v := range Vendors() {
		if v.quirks != (quirks{}) {
			rows = append(rows, v.New())
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, row uint8, includeUsage bool) {
		a := rows[int(row)%len(rows)]
		d := a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: includeUsage, OriginModel: "m"}, bytes.NewReader(body))
		for i := 0; ; i++ {
			if i > len(body)+10 {
				t.Fatalf("decoder did not end after %d events", i)
			}
			ev, err := d.Next()
			if err != nil {
				if _, again := d.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			}
			if ev.TextBytes < 0 {
				t.Fatal("negative TextBytes")
			}
		}
	})
}
