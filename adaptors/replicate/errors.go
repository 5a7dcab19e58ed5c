package replicate

import (
	"encoding/json"
	"net/http"
	"strconv"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// OpenAI's error types of the errors this package makes itself (other
// statuses are typed by openaiwire.StatusErrorType).
const (
	typeInvalidRequest = "invalid_request_error"
	typeServer         = "server_error"
)

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

// parseError maps any error answer to the OpenAI envelope. The message is
// the problem's detail (the specific explanation), else its title, else
// a proxy's error or message; a body without one gives "replicate: bad
// response status code N" followed by a short plain-text body, if any
// (a proxy's "upstream connect error …"). Never nil, never a panic.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	e.Type, e.Code = openaiwire.StatusErrorType(status)
	if openaiwire.IsObject(body) {
		var w problemWire
		if openaiwire.DecodeLenient(body, &w) == nil {
			e.Message = openaiwire.FirstText(w.Detail, w.Title, openaiwire.NestedMessage(w.Error), w.Message)
		}
	}
	if e.Message == "" {
		e.Message = "replicate: bad response status code " + strconv.Itoa(status)
		if t := openaiwire.PlainText(body); t != "" {
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
			e.Message = openaiwire.FirstText(w.Detail, w.Title, openaiwire.NestedMessage(w.Error), w.Message)
		}
	}
	if e.Message == "" {
		e.Message = "replicate: the prediction failed while streaming"
		if t := openaiwire.PlainText(data); t != "" {
			e.Message += ": " + t
		}
	}
	return e
}
