package vertex

import (
	"bytes"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/anthropic"
	"switchyard/adaptors/gemini"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// parseError maps a non-2xx Vertex AI answer to the OpenAI envelope.
// Vertex AI answers in two shapes, and ParseError (which is not told the
// model) tells them apart by the body:
//
//   - Google's {"error":{"code","message","status","details"}} for
//     everything Vertex AI itself refuses (authentication, permissions,
//     quota, unknown models, Gemini's own errors), mapped by
//     gemini.ParseErrorBody;
//   - Anthropic's {"type":"error","error":{"type","message"}} for the
//     errors Claude's serving relays (invalid_request_error,
//     overloaded_error, …), mapped by anthropic.ParseErrorBody.
//
// Anything else (HTML, text, nothing) goes through gemini.ParseErrorBody,
// which keeps short plain text and reports the status otherwise.
func parseError(status int, body []byte) *schema.Error {
	if isAnthropicError(body) {
		return anthropic.ParseErrorBody(status, body)
	}
	return gemini.ParseErrorBody(status, body)
}

// isAnthropicError reports whether body is Anthropic's error shape: a
// top-level "type":"error", or an "error" object typed by a "type"
// member rather than Google's "code" and "status".
func isAnthropicError(body []byte) bool {
	if !openaiwire.IsObject(body) {
		return false
	}
	var w struct {
		Type  string `json:"type"`
		Error struct {
			Type   string                 `json:"type"`
			Status string                 `json:"status"`
			Code   sonic.NoCopyRawMessage `json:"code"`
		} `json:"error"`
	}
	if openaiwire.DecodeLenient(body, &w) != nil {
		return false
	}
	return w.Type == "error" || (w.Error.Type != "" && w.Error.Status == "" && len(w.Error.Code) == 0)
}

// printableText reports whether b is short-enough plain text to quote:
// valid UTF-8, no control characters but whitespace, not HTML.
func printableText(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == '<' || !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// capText cuts s to at most n bytes on a rune boundary.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
