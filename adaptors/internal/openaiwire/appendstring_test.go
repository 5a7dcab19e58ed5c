package openaiwire

import (
	"encoding/json"
	"testing"
)

// What AppendString writes reads back as the same text (invalid UTF-8 as
// U+FFFD), whatever the input.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quo"te\back`, "ctl\x00\x1f\n\r\t", "é中🙂", "bad\xff\xfeutf8", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString([]byte("x"), s)
		if out[0] != 'x' {
			t.Fatal("dst prefix lost")
		}
		var back string
		if err := json.Unmarshal(out[1:], &back); err != nil {
			t.Fatalf("%q → %s: %v", s, out[1:], err)
		}
		if want := string([]rune(s)); back != want { // each invalid byte → U+FFFD
			t.Fatalf("%q read back as %q", s, back)
		}
	})
}
