package baidu

import (
	"encoding/json"
	"net/http"
	"strconv"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// OpenAI's error types, in the spelling clients know.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuthentication = "authentication_error"
	typePermission     = "permission_error"
	typeNotFound       = "not_found_error"
	typeRateLimit      = "rate_limit_error"
	typeQuota          = "insufficient_quota"
	typeServer         = "server_error"
)

// codeClass is how the gateway answers one of Baidu's error codes.
type codeClass struct {
	status int
	typ    string
}

// errorCodes maps the error_code of Baidu's {"error_code","error_msg"}
// body to an HTTP status and OpenAI error type. The codes and their
// meaning are Baidu's error code page
// (https://cloud.baidu.com/doc/WENXINWORKSHOP/s/tlmyncueh) and the
// APIErrorCode constants of Baidu's SDK (bce-qianfan-sdk):
//
//	1       Unknown error                         500 server_error
//	2       Service temporarily unavailable       503 server_error
//	3       Unsupported openapi method (no such   404 not_found_error
//	        endpoint: an unknown model)
//	4       Open api request limit reached        429 rate_limit_error
//	        (Baidu's cluster limit; retry)
//	6       No permission to access data          403 permission_error
//	13      Get service token failed              401 authentication_error
//	14      IAM Certification failed              401 authentication_error
//	15      app not exists or create failed       503 server_error (Baidu: a retry helps)
//	17      Open api daily request limit reached  429 insufficient_quota
//	        (daily quota, or paid API not enabled / account in arrears)
//	18      Open api qps request limit reached    429 rate_limit_error
//	19      Open api total request limit reached  429 insufficient_quota
//	100     Invalid parameter (bad access_token)  401 authentication_error
//	110     Access token invalid or no longer valid 401 authentication_error
//	111     Access token expired                  401 authentication_error
//	336000  Internal error                        500 server_error
//	336001  Invalid Argument                      400 invalid_request_error
//	336002  Invalid JSON                          400 invalid_request_error
//	336003  Invalid parameter                     400 invalid_request_error
//	336004  Permission error                      403 permission_error
//	336005  API name not exist                    404 not_found_error
//	336100  server high load, try again           503 server_error
//	336101  Invalid HTTP method                   400 invalid_request_error
//	336104  Invalid argument system               400 invalid_request_error
//	336105  Invalid argument user_setting         400 invalid_request_error
//	336501  Rate limit reached for RPM            429 rate_limit_error
//	336502  Rate limit reached for TPM            429 rate_limit_error
//
// Codes not listed fall back by range (the adaptor's rule, not Baidu's):
// 336001–336499 are request errors (400), 336500–336599 rate limits
// (429), anything else 500.
var errorCodes = map[int]codeClass{
	1:      {http.StatusInternalServerError, typeServer},
	2:      {http.StatusServiceUnavailable, typeServer},
	3:      {http.StatusNotFound, typeNotFound},
	4:      {http.StatusTooManyRequests, typeRateLimit},
	6:      {http.StatusForbidden, typePermission},
	13:     {http.StatusUnauthorized, typeAuthentication},
	14:     {http.StatusUnauthorized, typeAuthentication},
	15:     {http.StatusServiceUnavailable, typeServer},
	17:     {http.StatusTooManyRequests, typeQuota},
	18:     {http.StatusTooManyRequests, typeRateLimit},
	19:     {http.StatusTooManyRequests, typeQuota},
	100:    {http.StatusUnauthorized, typeAuthentication},
	110:    {http.StatusUnauthorized, typeAuthentication},
	111:    {http.StatusUnauthorized, typeAuthentication},
	336000: {http.StatusInternalServerError, typeServer},
	336004: {http.StatusForbidden, typePermission},
	336005: {http.StatusNotFound, typeNotFound},
	336100: {http.StatusServiceUnavailable, typeServer},
}

// Error codes the adaptor names.
const (
	codeTokenInvalid = 110
	codeTokenExpired = 111
)

// classify returns the status and type for a Baidu error code.
func classify(code int) codeClass {
	if c, ok := errorCodes[code]; ok {
		return c
	}
	switch {
	case code > 336000 && code < 336500:
		return codeClass{http.StatusBadRequest, typeInvalidRequest}
	case code >= 336500 && code < 336600:
		return codeClass{http.StatusTooManyRequests, typeRateLimit}
	}
	return codeClass{http.StatusInternalServerError, typeServer}
}

// apiError is the *schema.Error for Baidu's {"error_code","error_msg"},
// wherever it arrives: in a 2xx body, as a stream's only payload, or
// with an error status. The status is the code's (a 2xx answer that
// carries an error must never count as a success); the message is
// Baidu's own; the code is Baidu's number.
func apiError(code int, msg string) *schema.Error {
	c := classify(code)
	if msg == "" {
		msg = "baidu: error code " + strconv.Itoa(code)
	}
	return &schema.Error{Status: c.status, Message: msg, Type: c.typ, Code: code}
}

// errorWire is every error body Baidu's endpoints send: the model APIs'
// {"error_code","error_msg"} and the OAuth endpoint's
// {"error","error_description"}. A proxy's OpenAI-style
// {"error":{"message"}} or {"message"} is read too.
type errorWire struct {
	ErrorCode        int             `json:"error_code"`
	ErrorMsg         string          `json:"error_msg"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
	Message          json.RawMessage `json:"message"`
}

// parseError maps a non-2xx answer to the OpenAI envelope: Status is the
// upstream status; a Baidu error code chooses the type (else the status
// does); the message is Baidu's error_msg, the OAuth error and its
// description, or for other bodies "baidu: bad response status code N"
// followed by a short plain-text body. Never nil.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	e.Type, e.Code = openaiwire.StatusErrorType(status)
	if openaiwire.IsObject(body) {
		var w errorWire
		if openaiwire.DecodeLenient(body, &w) == nil {
			switch {
			case w.ErrorCode != 0:
				e.Type = classify(w.ErrorCode).typ
				e.Code = w.ErrorCode
				e.Message = w.ErrorMsg
			case len(w.Error) > 0 && w.Error[0] == '"':
				// The OAuth endpoint: {"error":"invalid_client","error_description":…}.
				oauth := openaiwire.Text(w.Error)
				e.Code = oauth
				e.Message = oauth
				if w.ErrorDescription != "" {
					e.Message += ": " + w.ErrorDescription
				}
			default:
				e.Message = openaiwire.FirstText(openaiwire.NestedMessage(w.Error), w.Message)
			}
		}
	}
	if e.Message == "" {
		e.Message = "baidu: bad response status code " + strconv.Itoa(status)
		if t := openaiwire.PlainText(body); t != "" {
			e.Message += ": " + t
		}
	}
	return e
}
