package anthropic

import (
	"errors"
	"net/http"

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
