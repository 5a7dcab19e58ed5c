package azure

import (
	"net/http"

	"switchyard/adaptors/schema"
)

// typed fills in the error type Azure leaves out. Azure's envelope is
// OpenAI's {"error":{code,message,…}}, which the OpenAI parser reads, but
// its type is null or absent ({"error":{"code":"DeploymentNotFound",…}},
// {"error":{"code":"401",…}}, the content filter's "type":null), so the
// parser falls back to One API's "upstream_error". Clients branch on the
// type, so it is derived from the status the way OpenAI types its own
// errors. Bodies without a provider message (HTML pages, empty bodies:
// code bad_response_status_code) keep "upstream_error".
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
