// Package oaijson holds the tiny, allocation-free request sniffers the bench
// tools share. They are deliberately not JSON parsers: the mock upstream and
// the bare proxy must not spend CPU decoding requests, so they look for a
// top-level-looking `"key": true` with optional whitespace around the colon.
package oaijson

import "bytes"

// BoolTrue reports whether body contains `"key"` followed (after optional
// whitespace and a colon) by the literal true. It does not check nesting, so
// it is only suitable for keys that are unique in OpenAI request bodies
// ("stream", "include_usage").
func BoolTrue(body []byte, key string) bool {
	for rest := body; ; {
		i := indexQuotedKey(rest, key)
		if i < 0 {
			return false
		}
		rest = rest[i+len(key)+2:]
		j := skipSpace(rest, 0)
		if j < len(rest) && rest[j] == ':' {
			j = skipSpace(rest, j+1)
			if bytes.HasPrefix(rest[j:], []byte("true")) {
				return true
			}
		}
	}
}

// IsStream reports whether an OpenAI request asks for a streamed answer.
func IsStream(body []byte) bool { return BoolTrue(body, "stream") }

// IncludeUsage reports whether a streamed request asked for the final usage
// chunk (stream_options.include_usage).
func IncludeUsage(body []byte) bool { return BoolTrue(body, "include_usage") }

func indexQuotedKey(b []byte, key string) int {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], '"')
		if i < 0 {
			return -1
		}
		i += off
		end := i + 1 + len(key)
		if end < len(b) && b[end] == '"' && string(b[i+1:end]) == key {
			return i
		}
		off = i + 1
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
