package openaiwire

import (
	"bytes"
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

// Helpers for providers whose error bodies carry only a message: the
// OpenAI error type is chosen by HTTP status, and the message is read
// from whichever member the provider (or a proxy in front of it) used.

// MaxErrorText caps a message taken from a non-string value or a non-JSON
// body, so a huge upstream body never becomes a huge error.
const MaxErrorText = 1 << 10

// StatusErrorType maps an upstream status to the OpenAI error type and
// code a client of the gateway expects for it.
func StatusErrorType(status int) (typ string, code any) {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error", "invalid_api_key"
	case http.StatusPaymentRequired:
		return "insufficient_quota", "insufficient_quota"
	case http.StatusForbidden:
		return "permission_error", nil
	case http.StatusNotFound:
		return "not_found_error", nil
	case http.StatusTooManyRequests:
		return "rate_limit_error", "rate_limit_exceeded"
	}
	switch {
	case status >= 400 && status < 500:
		return "invalid_request_error", nil
	case status >= 500:
		return "server_error", nil
	}
	return "upstream_error", nil
}

// NestedMessage returns the message inside an "error" member: the member
// itself when it is a string, its "message" when it is an object.
func NestedMessage(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return raw
	}
	var obj struct {
		Message json.RawMessage `json:"message"`
	}
	if DecodeLenient(raw, &obj) != nil {
		return nil
	}
	return obj.Message
}

// FirstText returns the first non-empty text among raw JSON values.
func FirstText(raws ...json.RawMessage) string {
	for _, raw := range raws {
		if t := Text(raw); t != "" {
			return t
		}
	}
	return ""
}

// Text renders a raw JSON value as message text: a string unquoted, any
// other value spelled out as compact JSON (capped), null or absent "".
func Text(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if !IsPresent(raw) {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if API.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	}
	return CapText(raw)
}

// PlainText returns a short body that reads as text, or "" for HTML,
// JSON, binary or empty bodies.
func PlainText(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || len(body) > 512 || body[0] == '<' || body[0] == '{' || !utf8.Valid(body) {
		return ""
	}
	for _, c := range body {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return ""
		}
	}
	return string(body)
}

// CapText caps b at MaxErrorText bytes; invalid UTF-8 (a rune cut by the
// cap included) becomes U+FFFD.
func CapText(b []byte) string {
	if len(b) > MaxErrorText {
		b = b[:MaxErrorText]
	}
	if !utf8.Valid(b) {
		return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	}
	return string(b)
}
