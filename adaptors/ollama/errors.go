package ollama

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/schema"
)

// OpenAI error types given to Ollama's errors, which carry only a message.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuthentication = "authentication_error"
	typePermission     = "permission_error"
	typeRateLimit      = "rate_limit_error"
	// typeUpstream is what the rest of the gateway calls an upstream
	// failure with no better name (One API's upstream_error).
	typeUpstream = "upstream_error"
)

// maxMessage caps a message taken from a non-JSON body or a non-string
// error value, so a huge upstream page never becomes a huge error.
const maxMessage = 512

// errorWire is Ollama's error body, {"error":"message"}, which is also
// the shape of an error line in a stream. The OpenAI-compatible API
// answers {"error":{"message",…}} instead.
type errorWire struct {
	Error sonic.NoCopyRawMessage `json:"error"`
}

// isOpenAIError reports whether body is an OpenAI-style error envelope
// (the OpenAI-compatible API's), whose error is an object.
func isOpenAIError(body []byte) bool {
	var w errorWire
	if !isObject(body) || decode(body, &w) != nil {
		return false
	}
	raw := bytes.TrimSpace(w.Error)
	return len(raw) > 0 && raw[0] == '{'
}

// parseError maps an upstream error answer to the OpenAI envelope. It
// reads Ollama's {"error":"…"}; for other bodies (reverse proxies answer
// with plain text or HTML, or nothing) the message is the body's text when
// it is short readable text, else "bad response status code N" as One API
// reports it. It never returns nil and never panics.
func parseError(status int, body []byte) *schema.Error {
	msg := ""
	var w errorWire
	if isObject(body) && decode(body, &w) == nil {
		msg = messageText(w.Error)
	}
	if msg == "" {
		msg = plainText(body)
	}
	if msg == "" {
		e := errorFor(status, "bad response status code "+strconv.Itoa(status))
		e.Code = "bad_response_status_code"
		e.Param = strconv.Itoa(status)
		return e
	}
	return errorFor(status, msg)
}

// errorFor builds the client's error for an Ollama message, with the type
// and code an OpenAI client expects for the status.
func errorFor(status int, msg string) *schema.Error {
	e := &schema.Error{Status: status, Message: msg, Type: typeUpstream}
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		e.Type = typeInvalidRequest
	case http.StatusUnauthorized:
		e.Type = typeAuthentication
		e.Code = "invalid_api_key"
	case http.StatusForbidden:
		e.Type = typePermission
	case http.StatusNotFound:
		// Ollama's 404 is mostly a model the server has not pulled
		// (OpenAI's unknown-model error); a plain "404 page not found"
		// is a wrong base URL or path.
		e.Type = typeInvalidRequest
		if strings.Contains(msg, "model") && strings.Contains(msg, "not found") {
			e.Code = "model_not_found"
		}
	case http.StatusTooManyRequests:
		e.Type = typeRateLimit
		e.Code = "rate_limit_exceeded"
	}
	return e
}

// messageText renders Ollama's error value as a message: a string as is,
// an object by its "message" (or as JSON text), anything else as its JSON
// text; null or absent is "". The message is a copy (api.Unmarshal copies
// its input): errors outlive the body, and a stream's line buffer.
func messageText(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if !isPresent(raw) {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if api.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	case '{':
		var v struct {
			Message string `json:"message"`
		}
		if api.Unmarshal(raw, &v) == nil && v.Message != "" {
			return v.Message
		}
	}
	return capText(raw)
}

// plainText returns body as a message when it is short readable text (a
// proxy's "upstream connect error …", gin's "404 page not found"), else
// "": HTML pages, binary and empty bodies say nothing useful.
func plainText(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] == '<' || body[0] == '{' || body[0] == '[' || !utf8.Valid(body) {
		return ""
	}
	for _, r := range string(body) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return ""
		}
	}
	return capText(body)
}

// capText returns b as a string of at most maxMessage bytes, cut on a
// rune boundary.
func capText(b []byte) string {
	if len(b) > maxMessage {
		b = b[:maxMessage]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}
