package xunfei

import (
	"encoding/json"
	"net/http"
	"strconv"

	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// codeContentFilter is the OpenAI error code given to Spark's content
// audit refusals.
const codeContentFilter = "content_filter"

// codeStatus maps the header.code of a Spark error frame to the HTTP
// status the client gets (Spark answers over an open WebSocket, so no
// status comes with it). Codes from the error table of the Spark
// WebSocket document (https://www.xfyun.cn/doc/spark/Web.html, 错误码).
// Codes not listed are 500.
var codeStatus = map[int]int{
	// The request: message format, schema, parameter values, the engine's
	// schema check, too many tokens.
	10003: http.StatusBadRequest,
	10004: http.StatusBadRequest,
	10005: http.StatusBadRequest,
	10163: http.StatusBadRequest,
	10907: http.StatusBadRequest,
	// Content audit: input refused, output refused, a conversation that
	// tends to violate the rules.
	10013: http.StatusBadRequest,
	10014: http.StatusBadRequest,
	10019: http.StatusBadRequest,
	10021: http.StatusBadRequest,
	10022: http.StatusBadRequest,
	// The app id: blacklisted, not licensed (function, version, tokens),
	// no license or volume over the limit.
	10015: http.StatusForbidden,
	10016: http.StatusForbidden,
	11200: http.StatusForbidden,
	// Rate limits: one connection per user, one question at a time, the
	// daily, per-second and concurrency flow controls.
	10006: http.StatusTooManyRequests,
	10007: http.StatusTooManyRequests,
	11201: http.StatusTooManyRequests,
	11202: http.StatusTooManyRequests,
	11203: http.StatusTooManyRequests,
	// Capacity: not enough, busy.
	10008: http.StatusServiceUnavailable,
	10110: http.StatusServiceUnavailable,
	// The engine behind the gateway: connect, receive, send, internal,
	// network.
	10009: http.StatusBadGateway,
	10010: http.StatusBadGateway,
	10011: http.StatusBadGateway,
	10012: http.StatusBadGateway,
	10222: http.StatusBadGateway,
}

// contentCodes are the content audit codes.
var contentCodes = map[int]bool{10013: true, 10014: true, 10019: true, 10021: true, 10022: true}

// frameError converts an error frame (header.code != 0) into the OpenAI
// error envelope: the status of codeStatus, the type OpenAI gives that
// status, code content_filter for audit refusals, and Spark's message
// followed by its code and the session id (sid), which iFLYTEK's support
// asks for.
func frameError(code int, message, sid string) *schema.Error {
	status, ok := codeStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	e := &schema.Error{Status: status}
	e.Type, e.Code = openaiwire.StatusErrorType(status)
	if contentCodes[code] {
		e.Code = codeContentFilter
	}
	if message == "" {
		message = "xunfei: error frame"
	}
	e.Message = message + " (xunfei code " + strconv.Itoa(code)
	if sid != "" {
		e.Message += ", sid " + sid
	}
	e.Message += ")"
	return e
}

// refusalWire is a refused upgrade: iFLYTEK's gateway answers
// {"message": "…"} (HMAC signature cannot be verified / does not match,
// Unauthorized, a stale date). An error frame's shape is read too, for a
// proxy that answers with one.
type refusalWire struct {
	Message json.RawMessage `json:"message"`
	Error   json.RawMessage `json:"error"`
	Header  struct {
		Code    int             `json:"code"`
		Message json.RawMessage `json:"message"`
		Sid     string          `json:"sid"`
	} `json:"header"`
}

// parseError maps a refused upgrade (any status, any body) to the OpenAI
// envelope: the gateway's message, else "xunfei: bad response status
// code N" followed by a short text body. Never nil, never a panic.
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	e.Type, e.Code = openaiwire.StatusErrorType(status)
	if openaiwire.IsObject(body) {
		var w refusalWire
		if openaiwire.DecodeLenient(body, &w) == nil {
			e.Message = openaiwire.FirstText(w.Message, openaiwire.NestedMessage(w.Error), w.Header.Message)
			if w.Header.Code != 0 && e.Message != "" {
				e.Message += " (xunfei code " + strconv.Itoa(w.Header.Code) + ")"
			}
		}
	}
	if e.Message == "" {
		e.Message = "xunfei: bad response status code " + strconv.Itoa(status)
		if t := openaiwire.PlainText(body); t != "" {
			e.Message += ": " + t
		}
	}
	return e
}
