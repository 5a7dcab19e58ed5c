package ali

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestRawString checks the JSON string decoding against encoding/json.
func TestRawString(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `""`, `"tab\tnew\nline"`, `"q\"b\\s\/"`, `"\b\f\r"`, `"\u00e9\u4f60"`, `"😀 \ud83d\ude00"`,
		`"lone \ud83d end"`, `"bad pair \ud83d\u0041"`, `  "spaced"  `,
	} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := rawString([]byte(in)); got != want {
			t.Errorf("rawString(%s) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{``, `"`, `null`, `5`, `"unterminated\"`, `"bad \x escape"`, `"\u12"`, `"\u12zz"`, "\"ctl\x01\"", `"a"b"`} {
		if got := rawString([]byte(in)); got != "" {
			t.Errorf("rawString(%q) = %q, want \"\"", in, got)
		}
	}
}

func TestValidString(t *testing.T) {
	for in, want := range map[string]bool{
		`"ok"`: true, `""`: true, `"\u00e9\n\"\\\/\b\f\r\t"`: true, "\"é\"": true,
		`"`: false, `ok`: false, `"a"b"`: false, "\"\x01\"": false, `"\x"`: false, `"\u12"`: false, `"\u12g4"`: false, `"end\"`: false,
	} {
		if got := validString([]byte(in)); got != want {
			t.Errorf("validString(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestModels(t *testing.T) {
	m := Models()
	for _, want := range []string{"qwen-turbo", "qwen-plus", "qwen-max", "qwen-max-longcontext", "text-embedding-v1",
		"ali-stable-diffusion-xl", "wanx-v1", "qwen3-max", "qwen-vl-max", "qwq-plus", "text-embedding-v4", "wanx2.1-t2i-turbo"} {
		if !slices.Contains(m, want) {
			t.Errorf("Models() lacks %q", want)
		}
	}
	sorted := slices.Clone(m)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(m) {
		t.Error("Models() has duplicates")
	}
	m[0] = "changed"
	if Models()[0] == "changed" {
		t.Error("Models() shares its slice")
	}
}
