package cloudflare

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/schema"
)

// cfError is one entry of the errors array of Cloudflare's v4 envelope
// ({"success":false,"errors":[{"code":10000,"message":"Authentication
// error"}],"messages":[],"result":null}). Some entries explain themselves
// further in an error_chain of the same shape.
type cfError struct {
	Code       sonic.NoCopyRawMessage `json:"code"`
	Message    string                 `json:"message"`
	ErrorChain []struct {
		Message string `json:"message"`
	} `json:"error_chain"`
}

// envelope is the part of Cloudflare's v4 envelope errors are read from.
type envelope struct {
	Success *bool     `json:"success"`
	Errors  []cfError `json:"errors"`
}

// maxMessage caps the message built from an envelope, so a huge upstream
// body never becomes a huge error.
const maxMessage = 1 << 10

// envelopeError returns the error a Cloudflare v4 envelope in body
// reports, or nil when body is not such an envelope or reports success.
// Workers AI answers failures of its OpenAI-compatible endpoints (bad
// token, unknown model, free allocation used up, out of capacity) with
// this envelope rather than OpenAI's.
func envelopeError(status int, body []byte) *schema.Error {
	if !bytes.Contains(body, []byte(`"errors"`)) {
		return nil // fast path: every OpenAI-shaped answer
	}
	var env envelope
	if decode(body, &env) != nil {
		return nil
	}
	failed := env.Success != nil && !*env.Success
	msg := messages(env.Errors, "")
	if !failed && msg == "" {
		return nil
	}
	if msg == "" {
		msg = "Cloudflare API request failed (success: false)"
	}
	e := &schema.Error{Status: status, Message: msg, Type: statusType(status)}
	if len(env.Errors) > 0 {
		e.Code = code(env.Errors[0].Code)
	}
	return e
}

// messages joins the messages of errs ("message: chained message; next
// message"), or returns fallback when there are none.
func messages(errs []cfError, fallback string) string {
	var b strings.Builder
	for _, e := range errs {
		if e.Message == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Message)
		for i, c := range e.ErrorChain {
			if c.Message == "" {
				continue
			}
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(c.Message)
		}
		if b.Len() > maxMessage {
			break
		}
	}
	if b.Len() == 0 {
		return fallback
	}
	s := b.String()
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "")
	}
	return s
}

// code converts an envelope error code (a number, sometimes a string) to
// what schema.Error holds.
func code(raw []byte) any {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if sonic.Unmarshal(raw, &s) == nil {
			return s
		}
		return nil
	}
	if n, err := strconv.Atoi(string(raw)); err == nil {
		return n
	}
	return string(raw)
}

// decode decodes a JSON object; anything else is an error.
func decode(body []byte, v any) error {
	return sonic.Unmarshal(body, v)
}

// typed fills in the error type when the upstream gave none (One API's
// "upstream_error" fallback), from the status, the way OpenAI types its
// own errors. Bodies without a provider message keep the fallback.
func typed(e *schema.Error) *schema.Error {
	if e.Type == "upstream_error" && e.Code != "bad_response_status_code" {
		e.Type = statusType(e.Status)
	}
	return e
}

// statusType is the OpenAI-style error type for an HTTP status.
func statusType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	case status >= 400:
		return "invalid_request_error"
	}
	return "upstream_error"
}
