package bedrock

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"switchyard/adaptors/schema"
)

// Bedrock answers errors as {"message":"…"} (some front ends spell it
// "Message") with the error name in the x-amzn-ErrorType header, which
// ParseError does not see; the name is sometimes repeated in the body as
// "__type" ("ModelErrorException", or "com.amazon.coral…#Name"). The
// statuses are the ones the API reference documents for InvokeModel,
// Converse and their streaming forms.
//
// Stream errors arrive as event-stream messages with :message-type
// exception and :exception-type naming the error (the union member name,
// e.g. throttlingException), the payload again {"message":…}.

// awsErrors maps the documented error names to their HTTP status.
var awsErrors = [...]struct {
	name   string
	status int
}{
	{"ValidationException", http.StatusBadRequest},
	{"ServiceQuotaExceededException", http.StatusBadRequest},
	{"UnrecognizedClientException", http.StatusForbidden},
	{"AccessDeniedException", http.StatusForbidden},
	{"ResourceNotFoundException", http.StatusNotFound},
	{"ModelTimeoutException", http.StatusRequestTimeout},
	{"ModelErrorException", http.StatusFailedDependency},
	{"ModelStreamErrorException", http.StatusFailedDependency},
	{"ModelNotReadyException", http.StatusTooManyRequests},
	{"ThrottlingException", http.StatusTooManyRequests},
	{"InternalServerException", http.StatusInternalServerError},
	{"ServiceUnavailableException", http.StatusServiceUnavailable},
}

// statusCode is the error name ParseError reports as Code for a status
// when the body names none: the exception Bedrock documents for it.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "ValidationException"
	case http.StatusForbidden:
		return "AccessDeniedException"
	case http.StatusNotFound:
		return "ResourceNotFoundException"
	case http.StatusRequestTimeout:
		return "ModelTimeoutException"
	case http.StatusFailedDependency:
		return "ModelErrorException"
	case http.StatusTooManyRequests:
		return "ThrottlingException"
	case http.StatusInternalServerError:
		return "InternalServerException"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableException"
	}
	return ""
}

// exceptionStatus returns the HTTP status of an AWS error name, matched
// case-insensitively (stream exceptions are camel case), or 0.
func exceptionStatus(name string) int {
	for _, e := range awsErrors {
		if strings.EqualFold(e.name, name) {
			return e.status
		}
	}
	return 0
}

// canonicalName returns the documented spelling of an error name
// (ThrottlingException for throttlingException), or name unchanged.
func canonicalName(name string) string {
	for _, e := range awsErrors {
		if strings.EqualFold(e.name, name) {
			return e.name
		}
	}
	return name
}

// errorType is the OpenAI error type for a status, in the spelling OpenAI
// clients know (invalid_request_error, authentication_error, …).
func errorType(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "authentication_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status == http.StatusRequestTimeout:
		return "timeout_error"
	case status == http.StatusFailedDependency:
		return "upstream_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

// errorWire is every place Bedrock and the proxies in front of it put an
// error's message and name.
type errorWire struct {
	Message    string `json:"message"`
	MessageCap string `json:"Message"`
	Type       string `json:"__type"`
	// Error is the Anthropic envelope {"type":"error","error":{…}}, which
	// proxies in front of Claude on Bedrock sometimes relay.
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// maxErrorText caps the part of a non-JSON body quoted in a message.
const maxErrorText = 256

// parseError maps a non-2xx Bedrock answer to the OpenAI envelope. It
// never returns nil and never panics. Status is the upstream's; Message
// is Bedrock's message (a short non-JSON body is quoted, as One API
// does); Code is the AWS error name, from the body's __type or else the
// one Bedrock documents for the status; Type the OpenAI type for the
// status.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status, Type: errorType(status)}
	var w errorWire
	if isObject(body) && decodeLoose(body, &w) == nil {
		e.Message = first(w.Message, w.MessageCap)
		if w.Error != nil && e.Message == "" {
			e.Message = w.Error.Message
			if w.Error.Type != "" {
				e.Code = w.Error.Type
			}
		}
		if t := w.Type; t != "" {
			if i := strings.LastIndexAny(t, "#:"); i >= 0 {
				t = t[i+1:]
			}
			e.Code = canonicalName(t)
		}
	} else if t := plainText(body); t != "" {
		e.Message = "upstream status " + strconv.Itoa(status) + ": " + t
	}
	if e.Code == nil {
		e.Code = codeFromMessage(e.Message)
	}
	if e.Code == nil {
		if c := statusCode(status); c != "" {
			e.Code = c
		}
	}
	if e.Message == "" {
		e.Message = "bad response status code " + strconv.Itoa(status)
		if e.Code == nil {
			e.Code = "bad_response_status_code"
		}
	}
	return e
}

// codeFromMessage names the error of the authentication failures whose
// message is fixed (their name is only in a header ParseError does not
// see), or returns nil.
func codeFromMessage(msg string) any {
	switch {
	case strings.Contains(msg, "security token included in the request is invalid"):
		return "UnrecognizedClientException"
	case strings.Contains(msg, "signature we calculated does not match"),
		strings.HasPrefix(msg, "Signature expired"), strings.HasPrefix(msg, "Credential should be scoped"):
		return "InvalidSignatureException"
	case msg == "Missing Authentication Token":
		return "MissingAuthenticationTokenException"
	}
	return nil
}

// streamError builds the error of an exception message in a stream:
// name is :exception-type, payload the {"message":…} body.
func streamError(name string, payload []byte) *schema.Error {
	status := exceptionStatus(name)
	if status == 0 {
		status = http.StatusInternalServerError
	}
	e := parseError(status, payload)
	if name != "" {
		e.Code = canonicalName(name)
	}
	return e
}

// plainText returns a printable excerpt of a non-JSON body (an HTML
// error page, a proxy's text), or "" when it has nothing readable.
func plainText(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || !utf8.Valid(body) {
		return ""
	}
	if len(body) > maxErrorText {
		body = body[:maxErrorText]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
		return string(body) + "…"
	}
	return string(body)
}
