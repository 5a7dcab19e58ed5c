package transport

import (
	"errors"
	"net/http"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/actors"
	"switchyard/adaptors/schema"
)

// Error types and codes of the gateway's own errors (OpenAI clients read
// type and code; One API clients look for the same codes).
const (
	typeInvalidRequest = "invalid_request_error"
	typeGateway        = "switchyard_error"
	typeUpstream       = "upstream_error"
)

func apiError(status int, typ, code, msg string) *schema.Error {
	var c any
	if code != "" {
		c = code
	}
	return &schema.Error{Status: status, Type: typ, Code: c, Message: msg}
}

var (
	errNoKey      = apiError(http.StatusUnauthorized, typeInvalidRequest, "missing_api_key", "You didn't provide an API key. Provide it in the Authorization header as Bearer sk-...")
	errBadKey     = apiError(http.StatusUnauthorized, typeInvalidRequest, "invalid_api_key", "Incorrect API key provided.")
	errBadJSON    = apiError(http.StatusBadRequest, typeInvalidRequest, "invalid_request_body", "The request body is not valid JSON.")
	errNoModel    = apiError(http.StatusBadRequest, typeInvalidRequest, "missing_model", "You must provide a model parameter.")
	errDraining   = apiError(http.StatusServiceUnavailable, typeGateway, "shutting_down", "The gateway is shutting down; retry on another node.")
	errBusy       = apiError(http.StatusServiceUnavailable, typeGateway, "overloaded", "The gateway is overloaded, try again.")
	errPinDenied  = apiError(http.StatusForbidden, typeGateway, "channel_pin_forbidden", "Only administrators may pin a channel.")
	errPinMissing = apiError(http.StatusForbidden, typeGateway, "channel_not_found", "The pinned channel does not exist or is disabled.")
)

// reserveError maps a Reserve failure to the envelope; a rate limit also
// sets Retry-After on c.
func reserveError(c *app.RequestContext, err error) *schema.Error {
	var rl *actors.RateLimitError
	if errors.As(err, &rl) {
		c.Response.Header.Set("Retry-After", retryAfter(rl.RetryAfter))
		return apiError(http.StatusTooManyRequests, rl.Kind, "rate_limit_exceeded", rl.Msg)
	}
	switch {
	case errors.Is(err, actors.ErrTokenDisabled):
		return apiError(http.StatusUnauthorized, typeInvalidRequest, "token_disabled", err.Error())
	case errors.Is(err, actors.ErrTokenExpired):
		return apiError(http.StatusUnauthorized, typeInvalidRequest, "token_expired", err.Error())
	case errors.Is(err, actors.ErrTokenExhausted), errors.Is(err, actors.ErrInsufficientTokenQ):
		return apiError(http.StatusForbidden, "insufficient_quota", "insufficient_token_quota", err.Error())
	case errors.Is(err, actors.ErrInsufficientQuota):
		return apiError(http.StatusForbidden, "insufficient_quota", "insufficient_user_quota", err.Error())
	case errors.Is(err, actors.ErrUserDisabled):
		return apiError(http.StatusForbidden, typeInvalidRequest, "user_disabled", err.Error())
	case errors.Is(err, actors.ErrModelNotAllowed):
		return apiError(http.StatusForbidden, typeInvalidRequest, "model_not_allowed", err.Error())
	case errors.Is(err, actors.ErrIPNotAllowed):
		return apiError(http.StatusForbidden, typeInvalidRequest, "ip_not_allowed", err.Error())
	}
	return errBusy
}

// writeError renders e with the request id appended to the message, as One
// API does, so users can quote it.
func writeError(c *app.RequestContext, e *schema.Error, reqID string) {
	out := *e
	if reqID != "" {
		out.Message = out.Message + " (request id: " + reqID + ")"
	}
	if out.Type == "" {
		out.Type = typeUpstream
	}
	b, err := sonic.Marshal(schema.Envelope{Error: &out})
	if err != nil {
		b = []byte(`{"error":{"message":"internal error","type":"switchyard_error"}}`)
	}
	status := out.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	c.Data(status, "application/json", b)
}
