package gemini

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// ErrBadRequest marks a client request that is not a valid
// GenerateContentRequest. Every error InboundRequest returns wraps it,
// and the text after the sentinel's says what is wrong. The transport
// answers it with HTTP 400 and ErrorBody(400, err.Error()) — Google's
// INVALID_ARGUMENT, which Gemini clients raise as a client error.
var ErrBadRequest = errors.New("gemini: invalid request")

// statusName maps an HTTP status to the google.rpc.Code name Google's
// APIs put in error.status (https://ai.google.dev/gemini-api/docs/troubleshooting
// and google/rpc/code.proto's HTTP mapping). Statuses with no canonical
// code are UNKNOWN.
func statusName(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case http.StatusInternalServerError:
		return "INTERNAL"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	return "UNKNOWN"
}

// errorEnvelope is Google's error body, also the payload of a stream that
// fails mid-way (the genai SDKs read `data: {"error":…}` as an error).
type errorEnvelope struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

// ErrorBody renders an error for a Gemini client:
// {"error":{"code":status,"message":…,"status":<rpc code name>}}, to send
// with HTTP status. Safe for concurrent use.
func ErrorBody(status int, message string) []byte {
	return openaiwire.Marshal(errorEnvelope{Error: errorDetail{Code: status, Message: message, Status: statusName(status)}})
}

// streamErrorBody is the payload that ends a failed stream: an upstream
// error keeps its status, anything else is INTERNAL (500).
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

// Error types given to upstream errors, in the OpenAI spelling clients
// know.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuthentication = "authentication_error"
	typePermission     = "permission_error"
	typeRateLimit      = "rate_limit_error"
	typeServer         = "server_error"
)

// maxTextMessage caps the message taken from a non-JSON error body.
const maxTextMessage = 512

// upError is Google's error object: {"code","message","status","details"}
// (google.rpc.Status in proto JSON), shared by the Gemini API and
// Vertex AI.
type upError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []struct {
		Type   string `json:"@type"`
		Reason string `json:"reason"`
	} `json:"details"`
}

// ParseErrorBody maps a non-2xx answer in Google's format,
// {"error":{"code":…,"message":…,"status":…,"details":[…]}} (also inside
// a one-element array, as some Google endpoints answer), to the OpenAI
// envelope the client gets. Status is the HTTP status given; Message is
// Google's message; Type follows error.status (or the HTTP status when
// there is none): INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND and
// the other client faults are invalid_request_error, UNAUTHENTICATED
// authentication_error, PERMISSION_DENIED permission_error,
// RESOURCE_EXHAUSTED rate_limit_error, the rest server_error. Code is
// "invalid_api_key" for a rejected key (ErrorInfo reason API_KEY_INVALID,
// which Google answers with 400, not 401), else Google's status name.
// Bodies that are not Google's JSON (proxy HTML, plain text, nothing)
// keep their text when it is short plain text, else the message is
// "bad response status code N" with code bad_response_status_code, as
// One API reports it. Never nil, never panics; safe for concurrent use.
func ParseErrorBody(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var list []sonic.NoCopyRawMessage
		if decodeWire(trimmed, &list) == nil && len(list) > 0 {
			trimmed = bytes.TrimSpace(list[0])
		}
	}
	var w struct {
		Error sonic.NoCopyRawMessage `json:"error"`
	}
	var ue upError
	if isObject(trimmed) && decodeWire(trimmed, &w) == nil && isPresent(w.Error) {
		if w.Error[0] == '{' {
			_ = decodeWire(w.Error, &ue)
		} else if w.Error[0] == '"' {
			_ = decodeWire(w.Error, &ue.Message)
		}
	}
	e.Message = strings.Clone(ue.Message)
	switch {
	case e.Message != "":
	case ue.Status != "":
		e.Message = strings.Clone(ue.Status)
	case len(trimmed) > 0 && len(trimmed) <= maxTextMessage && trimmed[0] != '<' && trimmed[0] != '{' && trimmed[0] != '[' && utf8.Valid(trimmed) && printable(trimmed):
		e.Message = string(trimmed)
	default:
		e.Message = "bad response status code " + strconv.Itoa(status)
		e.Code = "bad_response_status_code"
		e.Param = strconv.Itoa(status)
	}
	e.Type = errorType(ue.Status, status)
	if ue.Status != "" {
		e.Code = strings.Clone(ue.Status)
	}
	for _, d := range ue.Details {
		if d.Reason == "API_KEY_INVALID" {
			e.Code = "invalid_api_key"
			e.Type = typeInvalidRequest
		}
	}
	return e
}

// printable reports whether b holds no control characters but
// whitespace.
func printable(b []byte) bool {
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// errorType chooses the OpenAI error type from Google's status name, or
// from the HTTP status when there is none.
func errorType(googleStatus string, status int) string {
	switch googleStatus {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "NOT_FOUND", "ALREADY_EXISTS", "ABORTED", "CANCELLED":
		return typeInvalidRequest
	case "UNAUTHENTICATED":
		return typeAuthentication
	case "PERMISSION_DENIED":
		return typePermission
	case "RESOURCE_EXHAUSTED":
		return typeRateLimit
	case "INTERNAL", "UNKNOWN", "DATA_LOSS", "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNIMPLEMENTED":
		return typeServer
	}
	switch {
	case status == http.StatusUnauthorized:
		return typeAuthentication
	case status == http.StatusForbidden:
		return typePermission
	case status == http.StatusTooManyRequests:
		return typeRateLimit
	case status >= 400 && status < 500:
		return typeInvalidRequest
	}
	return typeServer
}
