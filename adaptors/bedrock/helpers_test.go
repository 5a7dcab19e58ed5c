package bedrock

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/bedrock/bedrocktest"
	"switchyard/adaptors/schema"
)

var update = flag.Bool("update", false, "rewrite golden files and generated stream fixtures in testdata")

// encodeEvents builds the binary event stream a .events file describes.
// Each line is one message:
//
//	event <:event-type> <payload JSON as sent>
//	exception <:exception-type> <payload JSON>
//	chunk <padding length> <Anthropic event JSON>
//
// where chunk is InvokeModelWithResponseStream's event, its payload
// {"bytes":base64(event),"p":padding}. '#' lines are comments.
func encodeEvents(t testing.TB, src []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		name, payload, _ := strings.Cut(rest, " ")
		switch kind {
		case "event":
			out.Write(bedrocktest.EventFrame(name, []byte(payload)))
		case "exception":
			out.Write(bedrocktest.ExceptionFrame(name, []byte(payload)))
		case "chunk":
			n, err := strconv.Atoi(name)
			if err != nil {
				t.Fatalf("bad chunk line %q", line)
			}
			p := `{"bytes":"` + base64.StdEncoding.EncodeToString([]byte(payload)) + `","p":"` + bedrocktest.Pad(n) + `"}`
			out.Write(bedrocktest.EventFrame("chunk", []byte(p)))
		default:
			t.Fatalf("bad line %q", line)
		}
	}
	return out.Bytes()
}

// TestGenerateStreams keeps every testdata/stream/*.bin equal to the
// encoding of its .events source (-update rewrites them).
func TestGenerateStreams(t *testing.T) {
	srcs, _ := filepath.Glob("testdata/stream/*.events")
	if len(srcs) == 0 {
		t.Fatal("no stream sources")
	}
	for _, src := range srcs {
		got := encodeEvents(t, adaptortest.ReadFile(t, src))
		bin := strings.TrimSuffix(src, ".events") + ".bin"
		if *update {
			if err := os.WriteFile(bin, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if want := adaptortest.ReadFile(t, bin); !bytes.Equal(want, got) {
			t.Errorf("%s is stale: run the tests with -update", bin)
		}
	}
}

// readStream returns a generated stream fixture.
func readStream(t testing.TB, name string) []byte {
	t.Helper()
	return adaptortest.ReadFile(t, "testdata/stream/"+name+".bin")
}

func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%+v", *u)
}

// drain runs a decoder to its end, bounded.
func drain(t testing.TB, d adaptors.StreamDecoder) ([]adaptors.StreamEvent, error) {
	t.Helper()
	var evs []adaptors.StreamEvent
	for range 100000 {
		ev, err := d.Next()
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	t.Fatal("decoder did not end")
	return nil, nil
}

// renderStream prints decoded events for golden files.
func renderStream(evs []adaptors.StreamEvent, err error) []byte {
	var b strings.Builder
	for i, ev := range evs {
		data := "(hidden)"
		if ev.Data != nil {
			data = string(ev.Data)
		}
		fmt.Fprintf(&b, "#%d text=%d usage=%s\n  %s\n", i, ev.TextBytes, renderUsage(ev.Usage), data)
	}
	var se *schema.Error
	switch {
	case err == io.EOF:
		b.WriteString("end: io.EOF\n")
	case errors.As(err, &se):
		fmt.Fprintf(&b, "end: *schema.Error %+v\n", *se)
	default:
		fmt.Fprintf(&b, "end: error %v\n", err)
	}
	return []byte(b.String())
}

// renderRequest prints an HTTPRequest for golden files, its JSON body
// indented (the body sent is compact).
func renderRequest(r *adaptors.HTTPRequest) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, r.Body, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(r.Body)
	}
	fmt.Fprintf(&b, "\n%s\n", pretty.Bytes())
	return []byte(b.String())
}
