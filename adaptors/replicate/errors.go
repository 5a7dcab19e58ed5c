package replicate

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// OpenAI's error types, chosen by HTTP status: Replicate's problem
// bodies name a title, not a type a client of the gateway knows.
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

// problemWire is Replicate's error body, an RFC 7807 problem document
// ({"title", "detail", "status"}; the rate limiter sends "detail" alone),
// plus the {"error": …} and {"message": …} a proxy in front of it may
// send.
type problemWire struct {
	Title   json.RawMessage `json:"title"`
	Detail  json.RawMessage `json:"detail"`
	Error   json.RawMessage `json:"error"`
	Message json.RawMessage `json:"message"`
}

// errorType maps a status to the OpenAI error type and code a client of
// the gateway expects for it.
func errorType(status int) (typ string, code any) {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusConflict:
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

// parseError maps any error answer to the OpenAI envelope. The message is
// the problem's detail (the specific explanation), else its title, else
// a proxy's error or message; a body without one gives "replicate: bad
// response status code N" followed by a short plain-text body, if any
// (a proxy's "upstream connect error …"). Never nil, never a panic.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	e.Type, e.Code = errorType(status)
	if openaiwire.IsObject(body) {
		var w problemWire
		if openaiwire.DecodeLenient(body, &w) == nil {
			e.Message = firstText(w.Detail, w.Title, errorMessage(w.Error), w.Message)
		}
	}
	if e.Message == "" {
		e.Message = "replicate: bad response status code " + strconv.Itoa(status)
		if t := plainText(body); t != "" {
			e.Message += ": " + t
		}
	}
	return e
}

// streamError is the error of a stream's `error` event, whose data is
// {"detail": "…"}: the prediction failed while it was streaming.
func streamError(data []byte) *schema.Error {
	e := &schema.Error{Status: http.StatusInternalServerError, Type: typeServer, Code: "prediction_failed"}
	if openaiwire.IsObject(data) {
		var w problemWire
		if openaiwire.DecodeLenient(data, &w) == nil {
			e.Message = firstText(w.Detail, w.Title, errorMessage(w.Error), w.Message)
		}
	}
	if e.Message == "" {
		e.Message = "replicate: the prediction failed while streaming"
		if t := plainText(data); t != "" {
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
func text(raw []byte) string {
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

// plainText returns a short body that reads as text, or "" for HTML,
// JSON, binary or empty bodies.
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

// capText caps b at maxMessage bytes; invalid UTF-8 (a rune cut by the
// cap included) becomes U+FFFD.
func capText(b []byte) string {
	if len(b) > maxMessage {
		b = b[:maxMessage]
	}
	if !utf8.Valid(b) {
		return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	}
	return string(b)
}
