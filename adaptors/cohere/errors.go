package cohere

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// OpenAI's error types, chosen by HTTP status since Cohere's error bodies
// carry only a message.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuthentication = "authentication_error"
	typePermission     = "permission_error"
	typeNotFound       = "not_found_error"
	typeRateLimit      = "rate_limit_error"
	typeQuota          = "insufficient_quota"
	typeServer         = "server_error"
	typeUpstream       = "upstream_error"
)

// maxMessage caps a message taken from a non-string value or a non-JSON
// body, so a huge upstream body never becomes a huge error.
const maxMessage = 1 << 10

// errorWire is Cohere's error body, {"message": "…"} (with an "id" on
// some), plus the {"data": "…"} its OpenAPI document declares and the
// {"error": …} a proxy in front of it may send.
type errorWire struct {
	Message json.RawMessage `json:"message"`
	Data    json.RawMessage `json:"data"`
	Error   json.RawMessage `json:"error"`
}

// errorType maps a status to the OpenAI error type and code a client of
// the gateway expects for it.
func errorType(status int) (typ string, code any) {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return typeInvalidRequest, nil
	case http.StatusUnauthorized:
		return typeAuthentication, "invalid_api_key"
	case http.StatusPaymentRequired:
		return typeQuota, "insufficient_quota"
	case http.StatusForbidden:
		return typePermission, nil
	case http.StatusNotFound:
		return typeNotFound, nil
	case http.StatusTooManyRequests:
		return typeRateLimit, "rate_limit_exceeded"
	}
	if status >= 400 && status < 500 {
		return typeInvalidRequest, nil
	}
	if status >= 500 {
		return typeServer, nil
	}
	return typeUpstream, nil
}

// parseError maps any error body to the OpenAI envelope: Cohere's message
// when the body has one, else "cohere: bad response status code N"
// (followed by the start of a short text body, e.g. a proxy's plain-text
// reason). Never nil, never a panic.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	e.Type, e.Code = errorType(status)
	if openaiwire.IsObject(body) {
		var w errorWire
		if openaiwire.DecodeLenient(body, &w) == nil {
			e.Message = firstText(w.Message, w.Data, errorMessage(w.Error))
		}
	}
	if e.Message == "" {
		e.Message = "cohere: bad response status code " + strconv.Itoa(status)
		if t := plainText(body); t != "" {
			e.Message += ": " + t
		}
	}
	return e
}

// errorMessage returns the message inside an "error" member: the member
// itself when it is a string, its "message" when it is an object.
func errorMessage(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return raw
	}
	var obj struct {
		Message json.RawMessage `json:"message"`
	}
	if openaiwire.DecodeLenient(raw, &obj) != nil {
		return nil
	}
	return obj.Message
}

// firstText returns the first non-empty text among raw JSON values.
func firstText(raws ...json.RawMessage) string {
	for _, raw := range raws {
		if t := text(raw); t != "" {
			return t
		}
	}
	return ""
}

// text renders a raw JSON value as message text: a string unquoted, any
// other value spelled out as compact JSON (capped), null or absent "".
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if openaiwire.API.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	}
	return capText(raw)
}

// plainText returns a short body that reads as text (a proxy's "upstream
// connect error …"), or "" for HTML, binary or empty bodies.
func plainText(body []byte) string {
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

// capText caps b at maxMessage bytes on a rune boundary.
func capText(b []byte) string {
	if len(b) > maxMessage {
		b = b[:maxMessage]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}
