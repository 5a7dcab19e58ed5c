package oaijson

import "testing"

func TestBoolTrue(t *testing.T) {
	cases := []struct {
		body string
		key  string
		want bool
	}{
		{`{"model":"m","stream":true}`, "stream", true},
		{`{"model":"m","stream" :  true}`, "stream", true},
		{`{"model":"m","stream":false}`, "stream", false},
		{`{"model":"m"}`, "stream", false},
		{`{"stream_options":{"include_usage":true}}`, "stream", false},
		{`{"stream_options":{"include_usage":true},"stream":true}`, "stream", true},
		{`{"stream":true,"stream_options":{"include_usage": true}}`, "include_usage", true},
		{`{"stream":true,"stream_options":{"include_usage":false}}`, "include_usage", false},
		{`{"content":"say \"stream\" please"}`, "stream", false},
		{`"stream"`, "stream", false},
	}
	for _, c := range cases {
		if got := BoolTrue([]byte(c.body), c.key); got != c.want {
			t.Errorf("BoolTrue(%s, %q) = %v, want %v", c.body, c.key, got, c.want)
		}
	}
}
