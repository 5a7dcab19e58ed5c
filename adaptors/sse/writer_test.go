package sse

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"data", AppendData(nil, []byte(`{"a":1}`)), "data: {\"a\":1}\n\n"},
		{"appends", AppendData([]byte("x"), []byte("y")), "xdata: y\n\n"},
		{"empty", AppendData(nil, nil), "data: \n\n"},
		{"multi-line", AppendData(nil, []byte("a\nb\r\nc\rd")), "data: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"trailing newline", AppendData(nil, []byte("a\n")), "data: a\ndata: \n\n"},
		{"done", AppendDone(nil), "data: [DONE]\n\n"},
		{"comment", AppendComment(nil, "PING"), ": PING\n\n"},
		{"comment one line", AppendComment(nil, "a\nb"), ": a b\n\n"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, string(tt.got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func BenchmarkAppendData(b *testing.B) {
	payload := []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" world"},"finish_reason":null}]}`)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendData(buf[:0], payload)
	}
}
