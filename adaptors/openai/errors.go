package openai

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/schema"
)

// typeUpstream is the error type given to upstream errors that carry none,
// as One API does.
const typeUpstream = "upstream_error"

// maxMessage caps a message taken from a non-string value (an object
// spelled out as JSON), so a huge upstream body never becomes a huge error.
const maxMessage = 1 << 10

// errorWire holds every place an OpenAI-dialect upstream (or a proxy in
// front of it) has been seen to put its error message. Raw members are
// used because the same key holds a string in one vendor and an object in
// another (Mistral's 422 has message:{"detail":[…]}).
type errorWire struct {
	Error    sonic.NoCopyRawMessage `json:"error"`
	Message  sonic.NoCopyRawMessage `json:"message"`
	Msg      sonic.NoCopyRawMessage `json:"msg"`
	Err      sonic.NoCopyRawMessage `json:"err"`
	ErrorMsg sonic.NoCopyRawMessage `json:"error_msg"`
	Header   struct {
		Message sonic.NoCopyRawMessage `json:"message"`
	} `json:"header"`
	Response struct {
		Error struct {
			Message sonic.NoCopyRawMessage `json:"message"`
		} `json:"error"`
	} `json:"response"`
	BaseResp struct {
		StatusMsg sonic.NoCopyRawMessage `json:"status_msg"`
	} `json:"base_resp"`
	// Top-level type/code/param: vendors that flatten the envelope.
	Type  sonic.NoCopyRawMessage `json:"type"`
	Code  sonic.NoCopyRawMessage `json:"code"`
	Param sonic.NoCopyRawMessage `json:"param"`
}

// errorObject is the OpenAI error object inside "error".
type errorObject struct {
	Message sonic.NoCopyRawMessage `json:"message"`
	Type    sonic.NoCopyRawMessage `json:"type"`
	Param   sonic.NoCopyRawMessage `json:"param"`
	Code    sonic.NoCopyRawMessage `json:"code"`
}

// parseError maps an upstream error body to the OpenAI envelope. The
// message is looked up in One API's order: error.message, message, msg,
// err, error_msg, header.message, response.error.message (then MiniMax's
// base_resp.status_msg); when none is found the message is "bad response
// status code N" with code bad_response_status_code and param N, as One
// API reports it. It never returns nil and never panics, whatever the
// body (HTML error pages from proxies, truncated JSON, binary).
func parseError(status int, body []byte) *schema.Error {
	e := &schema.Error{Status: status}
	var w errorWire
	var obj errorObject
	if isObject(body) && decodeJSON(body, &w) == nil {
		if len(w.Error) > 0 && w.Error[0] == '{' {
			if decodeJSON(w.Error, &obj) != nil {
				obj = errorObject{}
			}
		} else if isPresent(w.Error) {
			// {"error":"Unauthorized"}: the error is the message itself.
			obj.Message = w.Error
		}
		for _, raw := range [...][]byte{
			obj.Message, w.Message, w.Msg, w.Err, w.ErrorMsg,
			w.Header.Message, w.Response.Error.Message, w.BaseResp.StatusMsg,
		} {
			if m := text(raw); m != "" {
				e.Message = m
				break
			}
		}
		typ, code, param := obj.Type, obj.Code, obj.Param
		if len(w.Error) == 0 || w.Error[0] != '{' {
			typ, code, param = w.Type, w.Code, w.Param
		}
		e.Type = text(typ)
		e.Code = scalar(code)
		e.Param = scalar(param)
	}
	if e.Message == "" {
		e.Message = "bad response status code " + strconv.Itoa(status)
		e.Code = "bad_response_status_code"
		e.Param = strconv.Itoa(status)
	}
	if e.Type == "" {
		e.Type = typeUpstream
	}
	return e
}

// text renders a raw JSON value as message text: a string is unquoted, a
// number or boolean kept as written, an object or array spelled out as
// compact JSON (capped), null or absent is "".
func text(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if !isPresent(raw) {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if sonic.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	}
	if len(raw) > maxMessage {
		raw = raw[:maxMessage]
		for len(raw) > 0 && !utf8.Valid(raw) {
			raw = raw[:len(raw)-1]
		}
	}
	return string(raw)
}

// scalar converts a raw code or param to what schema.Error holds: a
// string, an int (OpenRouter and others send numeric codes), or nil.
// Non-scalar values are spelled out as JSON text.
func scalar(raw []byte) any {
	raw = bytes.TrimSpace(raw)
	if !isPresent(raw) {
		return nil
	}
	switch c := raw[0]; {
	case c == '"':
		return text(raw)
	case c == '-' || (c >= '0' && c <= '9'):
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil && n >= math.MinInt32 && n <= math.MaxInt32 {
			return int(n)
		}
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return f
		}
	}
	return text(raw)
}
