package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// ErrBadRequest marks a client request that is not a valid Messages API
// request. Every error InboundRequest returns wraps it, and the text after
// the sentinel's says what is wrong (in the style of Anthropic's own
// messages, e.g. "max_tokens: field required"). The transport answers it
// with HTTP 400 and ErrorBody(400, err.Error()), which Anthropic clients
// raise as their BadRequestError.
var ErrBadRequest = errors.New("anthropic: invalid request")

// Anthropic's error types (https://docs.anthropic.com/en/api/errors),
// chosen by HTTP status.
const (
	typeInvalidRequest  = "invalid_request_error"
	typeAuthentication  = "authentication_error"
	typeBilling         = "billing_error"
	typePermission      = "permission_error"
	typeNotFound        = "not_found_error"
	typeRequestTooLarge = "request_too_large"
	typeRateLimit       = "rate_limit_error"
	typeAPI             = "api_error"
	typeTimeout         = "timeout_error"
	typeOverloaded      = "overloaded_error"
)

// errorType maps an HTTP status to the error type Anthropic documents for
// it. Statuses the table does not name fall back as Anthropic's docs say
// they do: invalid_request_error for 4xx, api_error otherwise. 503 counts
// as overloaded_error because that is what an unavailable upstream means to
// an Anthropic client (Anthropic itself uses 529 for it, which clients
// retry the same way).
func errorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return typeInvalidRequest
	case http.StatusUnauthorized:
		return typeAuthentication
	case http.StatusPaymentRequired:
		return typeBilling
	case http.StatusForbidden:
		return typePermission
	case http.StatusNotFound:
		return typeNotFound
	case http.StatusRequestEntityTooLarge:
		return typeRequestTooLarge
	case http.StatusTooManyRequests:
		return typeRateLimit
	case http.StatusGatewayTimeout:
		return typeTimeout
	case http.StatusServiceUnavailable, 529:
		return typeOverloaded
	}
	if status >= 400 && status < 500 {
		return typeInvalidRequest
	}
	return typeAPI
}

// errorEnvelope is Anthropic's error body: {"type":"error","error":{…}}.
// The same object is the data of a stream's `error` event.
type errorEnvelope struct {
	Type  string      `json:"type"`
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// ErrorBody renders an error for an Anthropic client: the body to send
// with HTTP status (the transport keeps the status it chose; Anthropic
// clients read the type from the body and the retry policy from the
// status). Safe for concurrent use.
func ErrorBody(status int, message string) []byte {
	return openaiwire.Marshal(errorEnvelope{
		Type:  "error",
		Error: errorDetail{Type: errorType(status), Message: message},
	})
}

// streamErrorBody is the data of the `error` event that ends a stream
// which failed after it had started: an upstream error keeps its status's
// type (a mid-stream 429 stays rate_limit_error), anything else is an
// api_error, as Anthropic reports its own internal failures.
func streamErrorBody(err error) []byte {
	var se *schema.Error
	if errors.As(err, &se) {
		status := se.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		return ErrorBody(status, se.Message)
	}
	return ErrorBody(http.StatusInternalServerError, err.Error())
}

// upErrorWire is an error answer as Anthropic sends it:
// {"type":"error","error":{"type":…,"message":…},"request_id":…}. The
// top-level message is where Amazon Bedrock puts its own errors
// ({"message":…}), so the hosts that reuse ParseErrorBody get a message
// too.
type upErrorWire struct {
	Type  string          `json:"type"`
	Error json.RawMessage `json:"error"`
	// Message: Bedrock's {"message":…} and similar flat bodies.
	Message json.RawMessage `json:"message"`
}

type upErrorObject struct {
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
	Details struct {
		ErrorCode string `json:"error_code"`
	} `json:"details"`
}

// maxErrorText caps the part of a non-JSON error body quoted in a
// message, so a huge proxy page never becomes a huge error.
const maxErrorText = 256

// ParseErrorBody maps an Anthropic error answer (status and body) to the
// OpenAI error envelope; the Adaptor's ParseError is this function, and
// the Bedrock and Vertex adaptors reuse it for the Messages errors their
// hosts relay. It never returns nil and never panics.
//
// Status is the upstream's. Message is Anthropic's error.message (or a
// flat body's message, or a short plain-text body quoted, or "bad
// response status code N" as One API reports it). Type is Anthropic's
// error.type (invalid_request_error, authentication_error,
// rate_limit_error, overloaded_error, …: the same spelling OpenAI uses
// for the types they share), or the type Anthropic documents for the
// status when the body names none. Code is error.details.error_code when
// Anthropic gives one (enforced_spend_limit_reached, …).
func ParseErrorBody(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	var w upErrorWire
	if openaiwire.IsObject(body) && errorAPI.Unmarshal(body, &w) == nil {
		var obj upErrorObject
		switch {
		case openaiwire.IsObject(w.Error):
			if errorAPI.Unmarshal(w.Error, &obj) == nil {
				e.Message = rawText(obj.Message)
				e.Type = obj.Type
				if obj.Details.ErrorCode != "" {
					e.Code = obj.Details.ErrorCode
				}
			}
		case openaiwire.IsPresent(w.Error):
			e.Message = rawText(w.Error)
		}
		if e.Message == "" {
			e.Message = rawText(w.Message)
		}
	} else if t := plainText(body); t != "" {
		e.Message = "upstream status " + strconv.Itoa(status) + ": " + t
	}
	if e.Message == "" {
		e.Message = "bad response status code " + strconv.Itoa(status)
		e.Code = "bad_response_status_code"
		e.Param = strconv.Itoa(status)
	}
	if e.Type == "" {
		e.Type = errorType(status)
	}
	return e
}

// errorAPI decodes error bodies: case-sensitive keys and copied strings
// (the *schema.Error outlives the body).
var errorAPI = openaiwire.API

// rawText renders a raw JSON value as message text: a string unquoted,
// anything else (numbers, objects) as its compact JSON, capped.
func rawText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if errorAPI.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	}
	return capText(string(raw), maxErrorText)
}

// plainText returns a short plain-text error body (proxies answer
// "upstream connect error or disconnect/reset before headers"), or ""
// for bodies that are empty, binary, HTML or JSON.
func plainText(body []byte) string {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] == '<' || b[0] == '{' || b[0] == '[' || !utf8.Valid(b) {
		return ""
	}
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return ""
		}
	}
	return capText(string(b), maxErrorText)
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

// errorStatus is the HTTP status Anthropic answers with for an error
// type (https://docs.anthropic.com/en/api/errors). It gives an error
// event inside a 200 stream the status the same error has before a
// stream starts: overloaded_error is 529, Anthropic's own status for it,
// which clients retry like any 5xx. Unknown types are 500 (api_error).
func errorStatus(typ string) int {
	switch typ {
	case typeInvalidRequest:
		return http.StatusBadRequest
	case typeAuthentication:
		return http.StatusUnauthorized
	case typeBilling:
		return http.StatusPaymentRequired
	case typePermission:
		return http.StatusForbidden
	case typeNotFound:
		return http.StatusNotFound
	case "conflict_error":
		return http.StatusConflict
	case typeRequestTooLarge:
		return http.StatusRequestEntityTooLarge
	case typeRateLimit:
		return http.StatusTooManyRequests
	case typeTimeout:
		return http.StatusGatewayTimeout
	case typeOverloaded:
		return statusOverloaded
	}
	return http.StatusInternalServerError
}

// statusOverloaded is Anthropic's status for overloaded_error.
const statusOverloaded = 529

// errorFromEvent converts the JSON of an error object carried in a 2xx
// answer (a stream's error event, or a 2xx body of type "error") into a
// *schema.Error with the status errorStatus gives its type.
func errorFromEvent(data []byte) *schema.Error {
	var w upErrorWire
	typ := ""
	if openaiwire.IsObject(data) && errorAPI.Unmarshal(data, &w) == nil && openaiwire.IsObject(w.Error) {
		var obj upErrorObject
		if errorAPI.Unmarshal(w.Error, &obj) == nil {
			typ = obj.Type
		}
	}
	return ParseErrorBody(errorStatus(typ), data)
}
