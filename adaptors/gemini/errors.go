package gemini

import (
	"errors"
	"net/http"

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
