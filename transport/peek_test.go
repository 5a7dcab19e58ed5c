package transport

import (
	"strings"
	"testing"
)

// Both peek paths (one decode for small bodies, targeted lookups for large
// ones) read the same members and refuse the same bad bodies.
func TestPeek(t *testing.T) {
	pad := `,"messages":[{"role":"user","content":"` + strings.Repeat("x", peekSmall) + `"}]`
	cases := []struct {
		body string
		want peeked
		bad  bool
	}{
		{`{"model":"m"}`, peeked{model: "m", n: 1}, false},
		{`{"model":"m","stream":true,"stream_options":{"include_usage":true},"max_tokens":5,"n":3}`,
			peeked{model: "m", stream: true, includeUsage: true, maxTokens: 5, n: 3}, false},
		{`{"model":"m","stream":false,"stream_options":{"include_usage":true},"max_completion_tokens":7,"max_tokens":5}`,
			peeked{model: "m", maxTokens: 7, n: 1}, false},
		{`{"model":"m","n":1000,"max_tokens":0}`, peeked{model: "m", n: 1}, false},
		{`{"model":`, peeked{}, true},
		{`not json`, peeked{}, true},
	}
	for _, c := range cases {
		for _, big := range []bool{false, true} {
			body := c.body
			if big && !c.bad {
				body = strings.TrimSuffix(body, "}") + pad + "}"
			} else if big {
				body += pad
			}
			got, err := peek([]byte(body))
			if (err != nil) != c.bad {
				t.Fatalf("big=%v %s: err %v", big, c.body, err)
			}
			if !c.bad && got != c.want {
				t.Fatalf("big=%v %s: got %+v want %+v", big, c.body, got, c.want)
			}
		}
	}
}
