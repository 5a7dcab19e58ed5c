package ali

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// OpenAI error types and codes the DashScope codes map to.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuthentication = "authentication_error"
	typePermission     = "permission_error"
	typeRateLimit      = "rate_limit_error"
	typeQuota          = "insufficient_quota"
	typeServer         = "server_error"
)

// errorWire holds every place a DashScope error is found: the native
// {"code","message","request_id"}, the compatible mode's OpenAI envelope
// {"error":{message,type,param,code},"request_id"}, and a failed task's
// output.code / output.message.
type errorWire struct {
	Code      sonic.NoCopyRawMessage `json:"code"`
	Message   sonic.NoCopyRawMessage `json:"message"`
	RequestID string                 `json:"request_id"`
	Error     sonic.NoCopyRawMessage `json:"error"`
	Output    struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"output"`
}

// errorObject is the compatible mode's OpenAI error object.
type errorObject struct {
	Message sonic.NoCopyRawMessage `json:"message"`
	Type    string                 `json:"type"`
	Code    sonic.NoCopyRawMessage `json:"code"`
	Param   sonic.NoCopyRawMessage `json:"param"`
}

// codeInfo is what a DashScope error code means in OpenAI's terms.
type codeInfo struct {
	status int    // the status to use when the upstream's is 2xx
	typ    string // OpenAI error type
	code   string // OpenAI error code; "" keeps DashScope's
}

// classify maps a DashScope error code (Model Studio's error-code table;
// the compatible mode's lower-case codes too). ok is false for codes it
// does not know.
func classify(code string) (codeInfo, bool) {
	switch {
	case code == "InvalidApiKey" || code == "invalid_api_key":
		return codeInfo{http.StatusUnauthorized, typeAuthentication, "invalid_api_key"}, true
	case code == "Arrearage":
		// Overdue payment: DashScope answers 400; the client hears
		// OpenAI's insufficient_quota (402 where the gateway picks).
		return codeInfo{http.StatusPaymentRequired, typeQuota, "insufficient_quota"}, true
	case strings.HasPrefix(code, "DataInspectionFailed") || code == "data_inspection_failed" ||
		strings.HasPrefix(code, "DataInspection"):
		return codeInfo{http.StatusBadRequest, typeInvalidRequest, "content_filter"}, true
	case code == "Throttling.AllocationQuota" || code == "Throttling.FreeTierOnly" || code == "insufficient_quota":
		return codeInfo{http.StatusTooManyRequests, typeQuota, "insufficient_quota"}, true
	case strings.HasPrefix(code, "Throttling") || code == "limit_requests" || code == "rate_limit_exceeded":
		return codeInfo{http.StatusTooManyRequests, typeRateLimit, "rate_limit_exceeded"}, true
	case code == "ModelNotFound" || code == "model_not_found":
		return codeInfo{http.StatusNotFound, typeInvalidRequest, "model_not_found"}, true
	case strings.HasPrefix(code, "AccessDenied") || strings.HasSuffix(code, ".AccessDenied"):
		return codeInfo{http.StatusForbidden, typePermission, ""}, true
	case strings.HasPrefix(code, "InvalidParameter") || strings.HasPrefix(code, "BadRequest") ||
		code == "InvalidURL" || code == "UnsupportedOperation" || code == "invalid_parameter_error" ||
		code == "invalid_request_error":
		return codeInfo{http.StatusBadRequest, typeInvalidRequest, ""}, true
	case strings.HasPrefix(code, "InternalError") || code == "internal_error" || code == "SystemError":
		return codeInfo{http.StatusInternalServerError, typeServer, ""}, true
	case code == "ModelUnavailable" || code == "ServiceUnavailable":
		return codeInfo{http.StatusServiceUnavailable, typeServer, ""}, true
	}
	return codeInfo{}, false
}

// parseError maps any error body to the OpenAI envelope with the
// upstream's status. The message is DashScope's own; the type and code
// follow the DashScope code (see classify), else the status. A body
// without a message gives "ali: bad response status code N" (with the
// start of a short plain-text body). Never nil, never a panic.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	var code string
	if openaiwire.IsObject(body) {
		var w errorWire
		if openaiwire.DecodeLenient(body, &w) == nil {
			code = openaiwire.Text(w.Code)
			e.Message = openaiwire.Text(w.Message)
			if len(w.Error) > 0 && w.Error[0] == '{' {
				var obj errorObject
				if openaiwire.DecodeLenient(w.Error, &obj) == nil {
					e.Message = openaiwire.Text(obj.Message)
					code = openaiwire.Text(obj.Code)
					e.Type = obj.Type
				}
			} else if m := openaiwire.Text(w.Error); m != "" && e.Message == "" {
				e.Message = m
			}
			if code == "" && e.Message == "" {
				code, e.Message = w.Output.Code, w.Output.Message
			}
			if e.Message == "" {
				e.Message = code
			}
		}
	}
	if e.Message == "" {
		e.Message = "ali: bad response status code " + strconv.Itoa(status)
		if t := openaiwire.PlainText(body); t != "" {
			e.Message += ": " + t
		}
	}
	fillType(e, code)
	return e
}

// fillType sets e's type and code from a DashScope code, else (or where
// the code does not say) from e.Status. A type the upstream gave (the
// compatible mode's) is kept.
func fillType(e *schema.Error, code string) {
	info, known := classify(code)
	statusType, statusCode := openaiwire.StatusErrorType(e.Status)
	switch {
	case e.Type != "":
	case known:
		e.Type = info.typ
	default:
		e.Type = statusType
	}
	switch {
	case known && info.code != "":
		e.Code = info.code
	case code != "":
		e.Code = code
	default:
		e.Code = statusCode
	}
}

// answerError is the error of a 2xx answer or stream event that carries a
// DashScope error code instead of a result (content moderation of the
// output, throttling mid-stream, a failed task). Its status is the code's
// (always >= 400; 500 for codes the adaptor does not know), so the
// gateway never bills it as an answer.
func answerError(code, message, requestID string) *schema.Error {
	// The arguments may alias an upstream buffer that is reused: the
	// error keeps copies.
	code, message, requestID = strings.Clone(code), strings.Clone(message), strings.Clone(requestID)
	e := &schema.Error{Status: http.StatusInternalServerError, Message: message}
	if info, ok := classify(code); ok {
		e.Status = info.status
	}
	if e.Message == "" {
		e.Message = "ali: upstream error " + code
	}
	if requestID != "" {
		e.Message += " (request id: " + requestID + ")"
	}
	fillType(e, code)
	return e
}
