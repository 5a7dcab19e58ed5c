package sse

import "bytes"

// AppendData appends payload to dst as one event: `data: <payload>\n\n`.
// A payload that contains line breaks (a multi-line upstream event, or
// pretty-printed JSON) is split into several `data:` lines, which a client
// joins back with "\n", so the event survives the round trip. Safe for
// concurrent use on distinct buffers.
func AppendData(dst, payload []byte) []byte {
	// Fast path (every compact JSON chunk): two vectorised scans instead of
	// IndexAny's byte loop.
	if bytes.IndexByte(payload, '\n') < 0 && bytes.IndexByte(payload, '\r') < 0 {
		dst = append(dst, "data: "...)
		dst = append(dst, payload...)
		return append(dst, '\n', '\n')
	}
	for {
		i := bytes.IndexAny(payload, "\r\n")
		if i < 0 {
			break
		}
		dst = append(dst, "data: "...)
		dst = append(dst, payload[:i]...)
		dst = append(dst, '\n')
		if payload[i] == '\r' && i+1 < len(payload) && payload[i+1] == '\n' {
			i++
		}
		payload = payload[i+1:]
	}
	dst = append(dst, "data: "...)
	dst = append(dst, payload...)
	return append(dst, '\n', '\n')
}

// AppendDone appends OpenAI's end-of-stream marker `data: [DONE]\n\n`.
func AppendDone(dst []byte) []byte {
	return append(dst, "data: [DONE]\n\n"...)
}

// AppendComment appends a comment event (`: <text>\n\n`), which clients
// ignore; the transport uses it as a keep-alive during long silences. Line
// breaks in text are replaced by spaces so the comment stays one line.
func AppendComment(dst []byte, text string) []byte {
	dst = append(dst, ": "...)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, '\n', '\n')
}
