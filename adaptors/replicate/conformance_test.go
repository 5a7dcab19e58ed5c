package replicate

import (
	"io"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// conformanceCase is this adaptor's row for the shared suite. Replicate
// has no tool calling and its streams report no usage, so there are no
// tool fixtures and StreamUsage is zero.
func conformanceCase(t *testing.T) adaptortest.Case {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	return adaptortest.Case{
		Adaptor: New(),
		Channel: adaptors.Channel{Key: "r8_conformance"},
		Model:   "meta/meta-llama-3-70b-instruct",
		Fixtures: adaptortest.Fixtures{
			Stream:        read("stream/chat.sse"),
			Trailer:       []byte("event: output\nid: 1721747061:99\ndata: LEAK\n\nevent: done\ndata: {}\n\n"),
			Response:      read("response/chat.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 26, CompletionTokens: 84, TotalTokens: 110},
			Errors: map[int][]byte{
				401: read("error/401_invalid_token.json"),
				402: read("error/402_insufficient_credit.json"),
				422: read("error/422_invalid_version.json"),
				429: read("error/429_throttled.json"),
			},
			ErrorMessages: map[int]string{
				401: "You did not pass a valid authentication token",
				402: "You have insufficient credit",
				429: "Request was throttled",
			},
			AuthHeader:    "Authorization",
			NoTools:       true,
			NoStreamUsage: true,
		},
	}
}

// TestConformance runs the shared suite. Replicate's language models
// have no tool calling and its streams report no usage: the suite checks
// instead that tools are refused and no usage is invented.
func TestConformance(t *testing.T) {
	adaptortest.Run(t, conformanceCase(t))
}

// TestConformanceStreamEnd repeats the checks of the suite's stream_end
// that its usage check (which stops that subtest here) skips: nothing
// after `done` reaches the client, the end is sticky, text is counted and
// a finish_reason is sent.
func TestConformanceStreamEnd(t *testing.T) {
	c := conformanceCase(t)
	body := append(append([]byte(nil), c.Fixtures.Stream...), c.Fixtures.Trailer...)
	for _, include := range []bool{false, true} {
		req := newReq(c.Model, true, nil)
		req.IncludeUsage = include
		d := c.Adaptor.NewStreamDecoder(req, strings.NewReader(string(body)))
		evs, err := adaptortest.Drain(t, d)
		if err != io.EOF {
			t.Fatalf("end %v, want io.EOF", err)
		}
		if _, again := d.Next(); again != io.EOF {
			t.Errorf("Next after the end = %v", again)
		}
		text, finishes := 0, 0
		for _, ev := range evs {
			if strings.Contains(string(ev.Data), "LEAK") {
				t.Errorf("data after done reached the client: %s", ev.Data)
			}
			if ev.Usage != nil {
				t.Errorf("usage invented: %+v", *ev.Usage)
			}
			text += ev.TextBytes
			if strings.Contains(string(ev.Data), `"finish_reason":"stop"`) {
				finishes++
			}
		}
		if text == 0 || finishes != 1 {
			t.Errorf("text bytes %d, finish chunks %d", text, finishes)
		}
	}
}
