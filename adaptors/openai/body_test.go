package openai

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var locateCases = []string{
	`{}`,
	` { } `,
	`{"model":"a"}`,
	`{"messages":[{"role":"user","content":"{\"model\":\"x\"}"}],"model":"gpt-4o"}`,
	`{"stream_options":{"include_usage":true}}`,
	`{"model":"a","stream_options":null,"n":1}`,
	`{ "a" : 1 , "stream_options" : { } , "model" : "m" }`,
	"{\n  \"model\": \"m\",\n  \"stream_options\": {\"include_usage\": false}\n}\n",
	`{"model":"a","model":"b","stream_options":1,"stream_options":{"x":[]}}`,
	`{"Model":"upper is not model"}`,
}

// TestLocateMatchesWalker: the sonic fast path and the Go walker fallback
// must agree on every span, or the fallback would silently behave
// differently on platforms where sonic copies.
func TestLocateMatchesWalker(t *testing.T) {
	for _, body := range locateCases {
		fast, err1 := locateTop([]byte(body))
		slow, err2 := scanTop([]byte(body))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%s: errors differ: %v vs %v", body, err1, err2)
		}
		if diff := cmp.Diff(slow, fast, cmp.AllowUnexported(topLevel{}, member{})); diff != "" {
			t.Errorf("%s (-walker +sonic):\n%s", body, diff)
		}
	}
}

func TestLocateErrors(t *testing.T) {
	for _, body := range []string{``, `[]`, `"x"`, `{`, `{"a":}`, `{"a":1}x`, `{"a" 1}`, `{"a":1,}`, `{'a':1}`} {
		if _, err := locateTop([]byte(body)); err == nil {
			t.Errorf("locateTop(%q) accepted", body)
		}
		if _, err := scanTop([]byte(body)); err == nil {
			t.Errorf("scanTop(%q) accepted", body)
		}
	}
}

func FuzzLocate(f *testing.F) {
	for _, s := range locateCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, err1 := locateTop(body)
		if err1 != nil || bytes.IndexByte(body, '\\') >= 0 {
			// The walker validates less than sonic (nested values are
			// bracket-matched only), and keys with escapes are matched
			// differently by design; compare on clean, valid input.
			return
		}
		slow, err2 := scanTop(body)
		if err2 != nil {
			t.Fatalf("walker rejects what sonic accepts: %q: %v", body, err2)
		}
		if diff := cmp.Diff(slow, fast, cmp.AllowUnexported(topLevel{}, member{})); diff != "" {
			t.Fatalf("%q (-walker +sonic):\n%s", body, diff)
		}
	})
}

// TestRewriteViaWalker runs the splice on spans found by the fallback
// walker, so the path taken where sonic copies is tested here too.
func TestRewriteViaWalker(t *testing.T) {
	plans := []bodyPlan{{model: "z"}, {model: "z", includeUsage: true}, {stripStreamOp: true}, {model: "z", stripStreamOp: true}}
	for _, body := range locateCases {
		for _, plan := range plans {
			want, err := rewriteBody([]byte(body), plan)
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			tl, err := scanTop([]byte(body))
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			got, err := applyPlan([]byte(body), tl, plan)
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if string(got) != string(want) {
				t.Errorf("%s %+v: walker %s, sonic %s", body, plan, got, want)
			}
		}
	}
}
