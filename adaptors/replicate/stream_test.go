package replicate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// renderStream prints every event of a decoded stream and how it ended.
func renderStream(evs []adaptors.StreamEvent, end error) []byte {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "data: %s\n", ev.Data)
		fmt.Fprintf(&b, "  text_bytes=%d %s", ev.TextBytes, renderUsage(ev.Usage))
	}
	if end == io.EOF {
		b.WriteString("end: EOF\n")
	} else {
		b.WriteString("end: " + renderError(end))
	}
	return []byte(b.String())
}

func TestStreamGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/stream/*.sse")
	if err != nil || len(files) == 0 {
		t.Fatal("no stream fixtures", err)
	}
	a := New()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sse")
		t.Run(name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, f)
			d := a.NewStreamDecoder(newReq("meta/meta-llama-3-70b-instruct", true, nil), bytes.NewReader(body))
			evs, end := adaptortest.Drain(t, d)
			for _, ev := range evs {
				if !json.Valid(ev.Data) {
					t.Errorf("event is not JSON: %s", ev.Data)
				}
			}
			if _, again := d.Next(); again != end {
				t.Errorf("Next after the end = %v, want %v again", again, end)
			}
			adaptortest.Golden(t, "testdata/stream/"+name+".golden", renderStream(evs, end), *update)
		})
	}
}

// TestStreamText: the chunks carry exactly the text the events carried,
// whatever the framing and the read sizes.
func TestStreamText(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/stream/multiline.sse")
	want := "Line one.\nLine two:\n- a\n- b \"quoted\" \\ tab\tnaïve café ☕"
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(body) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) },
		"crlf":     func() io.Reader { return bytes.NewReader(bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))) },
	}
	for name, r := range readers {
		evs, err := adaptortest.Drain(t, New().NewStreamDecoder(newReq("m/m", true, nil), r()))
		if err != io.EOF {
			t.Fatalf("%s: %v", name, err)
		}
		var got strings.Builder
		n, roles := 0, 0
		for _, ev := range evs {
			var c struct {
				Choices []struct {
					Delta struct {
						Role    string `json:"role"`
						Content string `json:"content"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(ev.Data, &c); err != nil {
				t.Fatal(err)
			}
			got.WriteString(c.Choices[0].Delta.Content)
			if c.Choices[0].Delta.Role != "" {
				roles++
			}
			n += ev.TextBytes
		}
		if got.String() != want || n != len(want) || roles != 1 {
			t.Errorf("%s: text %q (%d bytes, %d role chunks)", name, got.String(), n, roles)
		}
	}
}

func TestStreamEnds(t *testing.T) {
	tests := []struct {
		name, body string
		code       string // "" = io.EOF; "eof" = io.ErrUnexpectedEOF
	}{
		{"done", "event: done\ndata: {}\n\n", ""},
		{"done unknown reason", "event: done\ndata: {\"reason\":\"finished\"}\n\n", ""},
		{"done garbage", "event: done\ndata: ok\n\n", ""},
		{"done error", "event: done\ndata: {\"reason\":\"error\"}\n\n", "prediction_failed"},
		{"done canceled", "event: done\ndata: {\"reason\":\"canceled\"}\n\n", "prediction_canceled"},
		{"error", "event: output\ndata: a\n\nevent: error\ndata: {\"detail\":\"x\"}\n\n", "prediction_failed"},
		{"empty body", "", "eof"},
		{"output only", "event: output\ndata: a\n\n", "eof"},
		{"done without data is not an event", "event: done\n\n", "eof"},
		{"unterminated done", "event: done\ndata: {}", ""},
		{"unnamed events ignored", "data: hello\n\nevent: done\ndata: {}\n\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New().NewStreamDecoder(newReq("m/m", true, nil), strings.NewReader(tt.body))
			_, err := adaptortest.Drain(t, d)
			var se *schema.Error
			switch tt.code {
			case "":
				if err != io.EOF {
					t.Errorf("end %v, want io.EOF", err)
				}
			case "eof":
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("end %v, want io.ErrUnexpectedEOF", err)
				}
			default:
				if !errors.As(err, &se) || se.Code != tt.code {
					t.Errorf("end %v, want code %s", err, tt.code)
				}
			}
		})
	}
}

// TestStreamReadError: a failing body is reported, not taken for an end.
func TestStreamReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("event: output\ndata: a\n\n"), iotest.ErrReader(boom))
	_, err := adaptortest.Drain(t, New().NewStreamDecoder(newReq("m/m", true, nil), r))
	if !errors.Is(err, boom) {
		t.Errorf("end %v", err)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\n\r\t\x00\x1f", "<html>&", "naïve ☕ 🎉", "\u2028\u2029", "bad \xff\xfe utf8", "\xe2\x82"} {
		got := appendString(nil, []byte(s))
		// encoding/json is the reference: each invalid byte is one U+FFFD.
		want, _ := json.Marshal(s)
		var back, wantBack string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %s is not a JSON string: %v", s, got, err)
			continue
		}
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: round trip %q, want %q", s, back, wantBack)
		}
	}
	if got := string(appendString(nil, []byte("<a>&"))); got != `"<a>&"` {
		t.Errorf("HTML escaped: %s", got)
	}
}

// FuzzStreamDecoder: no input makes the decoder panic or run on, and its
// end is sticky.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.sse")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("event: output\ndata: \xff\n\nevent: done\ndata: {\"reason\":1}\n\n"))
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		d := a.NewStreamDecoder(newReq("m/m", true, nil), bytes.NewReader(body))
		// Every event consumes at least one line, so a stream cannot yield
		// more events than it has bytes.
		for i := 0; ; i++ {
			if i > len(body)+1 {
				t.Fatalf("no end after %d events", i)
			}
			ev, err := d.Next()
			if err != nil {
				if _, again := d.Next(); again != err {
					t.Fatalf("end not sticky: %v then %v", err, again)
				}
				return
			}
			if !json.Valid(ev.Data) {
				t.Fatalf("invalid chunk %q", ev.Data)
			}
		}
	})
}
