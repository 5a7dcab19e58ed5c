package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// ev is a comparable copy of an Event (Data as string so cmp prints it).
type ev struct {
	Event, Data string
}

// readAll drains r, copying each event, and returns the final error.
func readAll(r *Reader) ([]ev, error) {
	var out []ev
	for {
		e, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, ev{e.Event, string(e.Data)})
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []ev
	}{
		{"openai", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []ev{{"", `{"a":1}`}, {"", "[DONE]"}}},
		{"no space after colon", "data:{\"a\":1}\n\n", []ev{{"", `{"a":1}`}}},
		{"only one space stripped", "data:  x\n\n", []ev{{"", " x"}}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []ev{{"", "a"}, {"", "b"}}},
		{"bare cr", "data: a\r\rdata: b\r\r", []ev{{"", "a"}, {"", "b"}}},
		{"mixed terminators", "data: a\r\n\ndata: b\n\r\n", []ev{{"", "a"}, {"", "b"}}},
		{"multi-line data", "data: a\ndata: b\ndata\n\n", []ev{{"", "a\nb\n"}}},
		{"empty data is an event", "data:\n\n", []ev{{"", ""}}},
		{"comments skipped", ": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: x\n\n", []ev{{"", "x"}}},
		{"event field", "event: error\ndata: {\"message\":\"boom\"}\n\n", []ev{{"error", `{"message":"boom"}`}}},
		{"event reset after dispatch", "event: a\ndata: 1\n\ndata: 2\n\n", []ev{{"a", "1"}, {"", "2"}}},
		{"event without data dropped", "event: ping\n\ndata: 1\n\n", []ev{{"", "1"}}},
		{"id and retry ignored", "id: 7\nretry: 10\ndata: x\n\n", []ev{{"", "x"}}},
		{"field without colon", "data\n\n", []ev{{"", ""}}},
		{"unknown field", "foo: bar\ndata: x\n\n", []ev{{"", "x"}}},
		{"eof without blank line", "data: a\n\ndata: b", []ev{{"", "a"}, {"", "b"}}},
		{"eof after line end", "data: a\n", []ev{{"", "a"}}},
		{"eof after cr", "data: a\r", []ev{{"", "a"}}},
		{"leading blank lines", "\n\n\ndata: a\n\n", []ev{{"", "a"}}},
		{"empty", "", nil},
		{"colon in value", "data: {\"u\":\"http://x\"}\n\n", []ev{{"", `{"u":"http://x"}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every source shape must give the same events: whole, one byte
			// at a time (every line split across reads), and with
			// data-then-EOF reads.
			sources := map[string]io.Reader{
				"whole":   strings.NewReader(tt.in),
				"onebyte": iotest.OneByteReader(strings.NewReader(tt.in)),
				"dataeof": iotest.DataErrReader(strings.NewReader(tt.in)),
			}
			for sname, src := range sources {
				got, err := readAll(NewReader(src, 0))
				if err != io.EOF {
					t.Errorf("%s: final error = %v, want io.EOF", sname, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s: events (-want +got):\n%s", sname, diff)
				}
			}
		})
	}
}

func TestReaderLongLines(t *testing.T) {
	big := strings.Repeat("x", 3<<20) // larger than any growth step
	in := "data: " + big + "\n\ndata: small\n\n"
	got, err := readAll(NewReader(strings.NewReader(in), 0))
	if err != io.EOF {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 2 || got[0].Data != big || got[1].Data != "small" {
		t.Fatalf("got %d events, first len %d", len(got), len(got[0].Data))
	}

	// Over the limit: ErrLineTooLong, sticky.
	r := NewReader(strings.NewReader("data: "+strings.Repeat("y", 100)+"\n\n"), 64)
	if _, err := r.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("err = %v, want ErrLineTooLong", err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("second err = %v, want sticky ErrLineTooLong", err)
	}

	// Exactly at the limit passes.
	line := "data: " + strings.Repeat("z", 58) // 64 bytes
	got, err = readAll(NewReader(strings.NewReader(line+"\n\n"), 64))
	if err != io.EOF || len(got) != 1 || len(got[0].Data) != 58 {
		t.Fatalf("at limit: %v %v", got, err)
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	src := io.MultiReader(strings.NewReader("data: a\n\ndata: cut"), iotest.ErrReader(boom))
	r := NewReader(src, 0)
	e, err := r.Next()
	if err != nil || string(e.Data) != "a" {
		t.Fatalf("first = %q, %v", e.Data, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("sticky err = %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	if _, err := NewReader(zeroReader{}, 0).Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

// TestReaderReusesBuffer checks the documented aliasing: Data is
// overwritten by the next call, and steady-state reading does not allocate.
func TestReaderAllocs(t *testing.T) {
	chunk := []byte("data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n")
	src := &repeatReader{chunk: chunk, max: 37}
	r := NewReader(src, 0)
	for range 10 { // warm up buffers
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("allocs per event = %v, want 0", allocs)
	}
}

// repeatReader yields chunk forever, at most max bytes per Read, in pieces
// that do not line up with event boundaries.
type repeatReader struct {
	chunk []byte
	max   int
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	p = p[:min(len(p), r.max)]
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.chunk[r.off:])
		n += c
		r.off = (r.off + c) % len(r.chunk)
	}
	return n, nil
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"data: {\"a\":1}\n\ndata: [DONE]\n\n",
		"event: error\r\ndata: x\r\n\r\n",
		": c\r\rdata\rdata:\n\n",
		"data: a\ndata: b",
		"\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, errW := readAll(NewReader(bytes.NewReader(in), 1<<10))
		split, errS := readAll(NewReader(iotest.OneByteReader(bytes.NewReader(in)), 1<<10))
		// Chunking of the source must never change the result.
		if diff := cmp.Diff(whole, split); diff != "" {
			t.Fatalf("whole vs one-byte reads differ:\n%s", diff)
		}
		if (errW == io.EOF) != (errS == io.EOF) {
			t.Fatalf("errors differ: %v vs %v", errW, errS)
		}
		// Round trip through the writer: every event read back unchanged.
		if errW == io.EOF {
			var buf []byte
			for _, e := range whole {
				if e.Event != "" {
					buf = append(buf, "event: "+e.Event+"\n"...)
				}
				buf = AppendData(buf, []byte(e.Data))
			}
			again, err := readAll(NewReader(bytes.NewReader(buf), 4<<10))
			if err != io.EOF {
				t.Fatalf("re-read error %v", err)
			}
			if diff := cmp.Diff(normalize(whole), normalize(again)); diff != "" {
				t.Fatalf("round trip differs:\n%s", diff)
			}
		}
	})
}

// normalize maps CRLF and CR in data to LF: the writer splits on any line
// break, and the reader joins data lines with LF.
func normalize(evs []ev) []ev {
	out := make([]ev, len(evs))
	for i, e := range evs {
		d := strings.ReplaceAll(e.Data, "\r\n", "\n")
		d = strings.ReplaceAll(d, "\r", "\n")
		out[i] = ev{e.Event, d}
	}
	return out
}

func BenchmarkReader(b *testing.B) {
	chunk := []byte("data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_fc9f1d7035\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n")
	// 16 KiB per read, like a socket under load.
	r := NewReader(&repeatReader{chunk: chunk, max: 16 << 10}, 0)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// slowLine delivers one long line in small reads; the reader must not
// rescan the pending line on every read (quadratic time).
func BenchmarkReaderLongLineSmallReads(b *testing.B) {
	line := []byte("data: " + strings.Repeat("x", 1<<20) + "\n\n")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(&repeatReader{chunk: line, max: 4 << 10}, 0)
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
