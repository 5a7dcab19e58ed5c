package tencent

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// errorDetail is API 3.0's error object, {"Code": "…", "Message": "…"}.
type errorDetail struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// errorMsgWire is the ErrorMsg member of a ChatCompletions stream chunk:
// {"Msg": "…", "Code": 4000} when the service fails mid-stream (4000
// internal error, 4001 model timeout).
type errorMsgWire struct {
	Msg  string `json:"Msg"`
	Code int64  `json:"Code"`
}

// errorEnvelope is every place an API 3.0 error is found: the documented
// {"Response": {"Error": {…}, "RequestId": "…"}}, and a bare {"Error": …}.
type errorEnvelope struct {
	Response *struct {
		Error     *errorDetail `json:"Error"`
		RequestId string       `json:"RequestId"`
	} `json:"Response"`
	Error *errorDetail `json:"Error"`
}

// proxyError is the message a proxy in front of Hunyuan may answer with
// instead: OpenAI's {"error": {"message": …}} or {"message": …}.
type proxyError struct {
	Error   json.RawMessage `json:"error"`
	Message json.RawMessage `json:"message"`
}

// detail returns the error the envelope carries, or nil.
func (e *errorEnvelope) detail() *errorDetail {
	if e.Response != nil && e.Response.Error != nil && e.Response.Error.Code != "" {
		return e.Response.Error
	}
	if e.Error != nil && e.Error.Code != "" {
		return e.Error
	}
	return nil
}

// codeStatus maps an API 3.0 error code to the HTTP status the client
// is answered with when Tencent reports the error inside a 2xx body (which
// is how it reports every error):
//
//	AuthFailure.UnauthorizedOperation, UnauthorizedOperation.*      403
//	AuthFailure.* (signature, SecretId, expired, token, …)          401
//	OperationDenied.* (moderation refused the text or image)         400
//	LimitExceeded*, RequestLimitExceeded*,
//	  FailedOperation.EngineServerLimitExceeded                      429
//	RequestSizeLimitExceeded                                         413
//	InvalidParameterValue.Model                                      404
//	InvalidParameter*, InvalidParameterValue*, MissingParameter*,
//	  UnknownParameter*, InvalidRequest*, InvalidAction,
//	  NoSuchVersion, UnsupportedRegion, UnsupportedProtocol,
//	  UnsupportedOperation*, ActionOffline                            400
//	ResourceNotFound*                                                404
//	ResourceInsufficient.ChargeResourceExhaust,
//	  ResourceUnavailable.InArrears / .LowBalance,
//	  FailedOperation.ResourcePackExhausted /
//	  .FreeResourcePackExhausted / .ServiceStopArrears               402
//	ResourceUnavailable.NotExist / .StopUsing,
//	  FailedOperation.ServiceNotActivated / .ServiceStop /
//	  .UserUnAuthError / .PartnerAccountUnSupport                    403
//	ResourceInsufficient*, ResourceUnavailable*                      503
//	FailedOperation.EngineRequestTimeout                             504
//	FailedOperation.EngineServerError                                502
//	InternalError*, FailedOperation*                                 500
//	anything else                                                    502
//
// The codes are API 3.0's common errors and the ones the Hunyuan SDK
// lists (tencentcloud/hunyuan/v20230901/errors.go).
func codeStatus(code string) int {
	is := func(prefix string) bool {
		return code == prefix || strings.HasPrefix(code, prefix+".")
	}
	switch {
	case is("AuthFailure.UnauthorizedOperation"), is("UnauthorizedOperation"):
		return http.StatusForbidden
	case is("AuthFailure"):
		return http.StatusUnauthorized
	case is("OperationDenied"):
		return http.StatusBadRequest
	case is("LimitExceeded"), is("RequestLimitExceeded"), code == "FailedOperation.EngineServerLimitExceeded":
		return http.StatusTooManyRequests
	case is("RequestSizeLimitExceeded"):
		return http.StatusRequestEntityTooLarge
	case code == "InvalidParameterValue.Model":
		return http.StatusNotFound
	case is("InvalidParameter"), is("InvalidParameterValue"), is("MissingParameter"), is("UnknownParameter"),
		is("InvalidRequest"), is("InvalidAction"), is("NoSuchVersion"), is("UnsupportedRegion"),
		is("UnsupportedProtocol"), is("UnsupportedOperation"), is("ActionOffline"):
		return http.StatusBadRequest
	case is("ResourceNotFound"):
		return http.StatusNotFound
	}
	switch code {
	case "ResourceInsufficient.ChargeResourceExhaust", "ResourceUnavailable.InArrears", "ResourceUnavailable.LowBalance",
		"FailedOperation.ResourcePackExhausted", "FailedOperation.FreeResourcePackExhausted", "FailedOperation.ServiceStopArrears":
		return http.StatusPaymentRequired
	case "ResourceUnavailable.NotExist", "ResourceUnavailable.StopUsing", "FailedOperation.ServiceNotActivated",
		"FailedOperation.ServiceStop", "FailedOperation.UserUnAuthError", "FailedOperation.PartnerAccountUnSupport":
		return http.StatusForbidden
	case "FailedOperation.EngineRequestTimeout":
		return http.StatusGatewayTimeout
	case "FailedOperation.EngineServerError":
		return http.StatusBadGateway
	}
	switch {
	case is("ResourceInsufficient"), is("ResourceUnavailable"):
		return http.StatusServiceUnavailable
	case is("InternalError"), is("FailedOperation"):
		return http.StatusInternalServerError
	}
	return http.StatusBadGateway
}

// apiError converts an API 3.0 error to the OpenAI envelope with status
// (the mapped status for errors inside a 2xx answer). Code is Tencent's
// own code (AuthFailure.SignatureFailure, …); the type is the one OpenAI
// gives the status, except moderation refusals, which OpenAI reports as
// invalid_request_error with code content_policy_violation.
func apiError(status int, d *errorDetail) *schema.Error {
	e := &schema.Error{Status: status, Message: d.Message, Code: d.Code}
	e.Type, _ = openaiwire.StatusErrorType(status)
	if strings.HasPrefix(d.Code, "OperationDenied") {
		e.Code = "content_policy_violation"
		e.Param = d.Code
	}
	if e.Message == "" {
		e.Message = "tencent: " + d.Code
	}
	return e
}

// streamError converts a stream chunk's ErrorMsg: code 4001 (the model
// timed out) is 504, 4000 (internal error) 500, any other 502.
func streamError(m *errorMsgWire) *schema.Error {
	status := http.StatusBadGateway
	switch m.Code {
	case 4000:
		status = http.StatusInternalServerError
	case 4001:
		status = http.StatusGatewayTimeout
	}
	msg := m.Msg
	if msg == "" {
		msg = "tencent: the stream failed with error code " + strconv.FormatInt(m.Code, 10)
	}
	typ, _ := openaiwire.StatusErrorType(status)
	return &schema.Error{Status: status, Message: msg, Type: typ, Code: strconv.FormatInt(m.Code, 10)}
}

// parseError maps any error body to the OpenAI envelope with the upstream
// status (or, for a status below 400, which the transport never passes,
// the status Tencent's code maps to): Tencent's message and code when the
// body is API 3.0's error, a proxy's OpenAI-style message, else "tencent:
// bad response status code N" followed by the start of a short text body.
// Never nil, never a panic.
func parseError(status int, body []byte) *schema.Error {
	if openaiwire.IsObject(body) {
		var w errorEnvelope
		if openaiwire.DecodeLenient(body, &w) == nil {
			if d := w.detail(); d != nil {
				if status < 400 {
					status = codeStatus(d.Code)
				}
				return apiError(status, d)
			}
		}
	}
	if status < 400 {
		status = http.StatusBadGateway
	}
	e := &schema.Error{Status: status}
	e.Type, e.Code = openaiwire.StatusErrorType(status)
	if openaiwire.IsObject(body) {
		var p proxyError
		if openaiwire.DecodeLenient(body, &p) == nil {
			e.Message = openaiwire.FirstText(openaiwire.NestedMessage(p.Error), p.Message)
		}
	}
	if e.Message == "" {
		e.Message = "tencent: bad response status code " + strconv.Itoa(status)
		if t := openaiwire.PlainText(body); t != "" {
			e.Message += ": " + t
		}
	}
	return e
}
