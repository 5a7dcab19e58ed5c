package cohere

import (
	"encoding/json"
	"strconv"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// OpenAI's error types of the errors this package makes itself (other
// statuses are typed by openaiwire.StatusErrorType).
const (
	typeServer = "server_error"
)

// errorWire is Cohere's error body, {"message": "…"} (with an "id" on
// some), plus the {"data": "…"} its OpenAPI document declares and the
// {"error": …} a proxy in front of it may send.
type errorWire struct {
	Message json.RawMessage `json:"message"`
	Data    json.RawMessage `json:"data"`
	Error   json.RawMessage `json:"error"`
}

// parseError maps any error body to the OpenAI envelope: Cohere's message
// when the body has one, else "cohere: bad response status code N"
// (followed by the start of a short text body, e.g. a proxy's plain-text
// reason). Never nil, never a panic.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	e.Type, e.Code = openaiwire.StatusErrorType(status)
	if openaiwire.IsObject(body) {
		var w errorWire
		if openaiwire.DecodeLenient(body, &w) == nil {
			e.Message = openaiwire.FirstText(w.Message, w.Data, openaiwire.NestedMessage(w.Error))
		}
	}
	if e.Message == "" {
		e.Message = "cohere: bad response status code " + strconv.Itoa(status)
		if t := openaiwire.PlainText(body); t != "" {
			e.Message += ": " + t
		}
	}
	return e
}
