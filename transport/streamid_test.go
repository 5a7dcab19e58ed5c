package transport

import "testing"

func TestChunkID(t *testing.T) {
	for in, want := range map[string]string{
		`{"id":"chatcmpl-1","object":"chat.completion.chunk"}`: "chatcmpl-1",
		`{ "id":"x"}`:                   "x",
		`{"object":"x","id":"late"}`:    "",
		`{"id":"esc\"aped"}`:            "",
		`{"id":""}`:                     "",
		`{"choices":[{"id":"nested"}]}`: "",
		`not json`:                      "",
	} {
		if got := chunkID([]byte(in)); got != want {
			t.Errorf("chunkID(%s) = %q, want %q", in, got, want)
		}
	}
}
