package zhipu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// BigModel's errors are {"error":{"code":"1261","message":"Prompt 超长"}}:
// a business code (a string of digits) under the HTTP status. The codes
// are listed at https://docs.bigmodel.cn/cn/faq/api-code; what an OpenAI
// client needs from them is the error type (and, for the codes OpenAI has
// an equivalent for, OpenAI's code, which the gateway's channel health
// rules read: invalid_api_key and insufficient_quota disable a channel).

// codeInfo is what a business code means in OpenAI's terms.
type codeInfo struct {
	status int    // HTTP status BigModel answers it with (used when it arrives in a 2xx body)
	typ    string // OpenAI error type
	code   string // OpenAI error code; "" keeps BigModel's code
}

// OpenAI error types.
const (
	typeAuth       = "authentication_error"
	typePermission = "permission_error"
	typeQuota      = "insufficient_quota"
	typeInvalid    = "invalid_request_error"
	typeNotFound   = "not_found_error"
	typeRateLimit  = "rate_limit_error"
	typeServer     = "server_error"
)

// codeTable maps BigModel's business codes. Statuses are the error code
// page's (1000–1005 → 401, 1113 → 429, 1200 → 500, 1210 → 400, 1261 →
// 400, the 130x policy and rate limits → 400/429); the others follow the
// code's category.
var codeTable = map[string]codeInfo{
	"500":  {http.StatusInternalServerError, typeServer, ""},
	"1000": {http.StatusUnauthorized, typeAuth, "invalid_api_key"},
	"1001": {http.StatusUnauthorized, typeAuth, "invalid_api_key"},
	"1002": {http.StatusUnauthorized, typeAuth, "invalid_api_key"},
	"1003": {http.StatusUnauthorized, typeAuth, "invalid_api_key"},
	"1004": {http.StatusUnauthorized, typeAuth, "invalid_api_key"},
	"1005": {http.StatusUnauthorized, typeAuth, "invalid_api_key"},
	"1100": {http.StatusInternalServerError, typeServer, ""},
	"1110": {http.StatusForbidden, typePermission, ""},
	"1111": {http.StatusForbidden, typePermission, ""},
	"1112": {http.StatusForbidden, typePermission, ""},
	"1113": {http.StatusTooManyRequests, typeQuota, "insufficient_quota"},
	"1120": {http.StatusInternalServerError, typeServer, ""},
	"1121": {http.StatusForbidden, typePermission, ""},
	"1200": {http.StatusInternalServerError, typeServer, ""},
	"1210": {http.StatusBadRequest, typeInvalid, ""},
	"1211": {http.StatusBadRequest, typeInvalid, "model_not_found"},
	"1212": {http.StatusBadRequest, typeInvalid, ""},
	"1213": {http.StatusBadRequest, typeInvalid, ""},
	"1214": {http.StatusBadRequest, typeInvalid, ""},
	"1215": {http.StatusBadRequest, typeInvalid, ""},
	"1220": {http.StatusForbidden, typePermission, ""},
	"1221": {http.StatusNotFound, typeNotFound, ""},
	"1222": {http.StatusNotFound, typeNotFound, ""},
	"1230": {http.StatusInternalServerError, typeServer, ""},
	"1231": {http.StatusBadRequest, typeInvalid, ""},
	"1234": {http.StatusInternalServerError, typeServer, ""},
	"1261": {http.StatusBadRequest, typeInvalid, "context_length_exceeded"},
	"1300": {http.StatusBadRequest, typeInvalid, ""},
	"1301": {http.StatusBadRequest, typeInvalid, ""},
	"1302": {http.StatusTooManyRequests, typeRateLimit, "rate_limit_exceeded"},
	"1303": {http.StatusTooManyRequests, typeRateLimit, "rate_limit_exceeded"},
	"1304": {http.StatusTooManyRequests, typeRateLimit, ""},
	"1305": {http.StatusTooManyRequests, typeRateLimit, "rate_limit_exceeded"},
	"1308": {http.StatusTooManyRequests, typeRateLimit, ""},
	"1309": {http.StatusTooManyRequests, typeQuota, "insufficient_quota"},
	"1310": {http.StatusTooManyRequests, typeRateLimit, ""},
	"1311": {http.StatusForbidden, typePermission, ""},
	"1312": {http.StatusTooManyRequests, typeRateLimit, "rate_limit_exceeded"},
	"1313": {http.StatusTooManyRequests, typeRateLimit, ""},
}

// errorWire is BigModel's error body, plus the flat {"code","msg"} of
// its v3 API and the {"message"} a proxy in front of it may send.
type errorWire struct {
	Error   json.RawMessage `json:"error"`
	Code    json.RawMessage `json:"code"`
	Msg     json.RawMessage `json:"msg"`
	Message json.RawMessage `json:"message"`
}

// errorObject is the object inside "error".
type errorObject struct {
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
}

// readError extracts BigModel's business code and message from an error
// body ("" for what it lacks).
func readError(body []byte) (code, msg, typ string) {
	if !openaiwire.IsObject(body) {
		return "", "", ""
	}
	var w errorWire
	if openaiwire.DecodeLenient(body, &w) != nil {
		return "", "", ""
	}
	raw := bytes.TrimSpace(w.Error)
	if len(raw) > 0 && raw[0] == '{' {
		var o errorObject
		if openaiwire.DecodeLenient(raw, &o) == nil {
			return scalarText(o.Code), openaiwire.Text(o.Message), openaiwire.Text(o.Type)
		}
		return "", "", ""
	}
	return scalarText(w.Code), openaiwire.FirstText(raw, w.Msg, w.Message), ""
}

// scalarText renders a code sent as a string or a number ("1261", 1261)
// as text; anything else is "".
func scalarText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return openaiwire.Text(raw)
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	return ""
}

// parseError maps an error answer to the OpenAI envelope: BigModel's
// message, the type its business code means (else the status's), and
// OpenAI's code where one matches, else BigModel's code. Bodies without
// a message (HTML pages, empty bodies, garbage) get "zhipu: bad response
// status code N", followed by a short plain-text body. Never nil, never
// a panic.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	e.Type, e.Code = openaiwire.StatusErrorType(status)
	code, msg, typ := readError(body)
	e.Message = msg
	if info, ok := codeTable[code]; ok {
		e.Type = info.typ
		e.Code = code
		if info.code != "" {
			e.Code = info.code
		}
	} else if code != "" {
		e.Code = code
		if typ != "" {
			e.Type = typ
		}
	} else if typ != "" {
		e.Type = typ
	}
	if e.Message == "" {
		e.Message = "zhipu: bad response status code " + strconv.Itoa(status)
		if t := openaiwire.PlainText(body); t != "" {
			e.Message += ": " + t
		}
	}
	return e
}

// embeddedError converts an error that arrived in a 2xx body or stream
// chunk: its status is the one BigModel gives the business code (502
// for an unknown code: the upstream failed while claiming success), so
// that it is never taken for an answer nor billed.
func embeddedError(body []byte) *schema.Error {
	code, _, _ := readError(body)
	status := http.StatusBadGateway
	if info, ok := codeTable[code]; ok {
		status = info.status
	}
	return parseError(status, body)
}
