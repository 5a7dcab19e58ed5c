package anthropic

import (
	"testing"
)

func TestErrorBody(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{400, `{"type":"error","error":{"type":"invalid_request_error","message":"m"}}`},
		{401, `{"type":"error","error":{"type":"authentication_error","message":"m"}}`},
		{402, `{"type":"error","error":{"type":"billing_error","message":"m"}}`},
		{403, `{"type":"error","error":{"type":"permission_error","message":"m"}}`},
		{404, `{"type":"error","error":{"type":"not_found_error","message":"m"}}`},
		{413, `{"type":"error","error":{"type":"request_too_large","message":"m"}}`},
		{429, `{"type":"error","error":{"type":"rate_limit_error","message":"m"}}`},
		{500, `{"type":"error","error":{"type":"api_error","message":"m"}}`},
		{502, `{"type":"error","error":{"type":"api_error","message":"m"}}`},
		{503, `{"type":"error","error":{"type":"overloaded_error","message":"m"}}`},
		{504, `{"type":"error","error":{"type":"timeout_error","message":"m"}}`},
		{529, `{"type":"error","error":{"type":"overloaded_error","message":"m"}}`},
		// Anthropic: invalid_request_error "may also be used for other 4XX
		// status codes".
		{409, `{"type":"error","error":{"type":"invalid_request_error","message":"m"}}`},
		{422, `{"type":"error","error":{"type":"invalid_request_error","message":"m"}}`},
		{0, `{"type":"error","error":{"type":"api_error","message":"m"}}`},
		{200, `{"type":"error","error":{"type":"api_error","message":"m"}}`},
	}
	for _, tt := range tests {
		if got := string(ErrorBody(tt.status, "m")); got != tt.want {
			t.Errorf("ErrorBody(%d) = %s, want %s", tt.status, got, tt.want)
		}
	}
	// Messages are JSON-escaped, HTML left alone.
	if got, want := string(ErrorBody(400, "max_tokens: \"x\" <y>\n")), `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: \"x\" <y>\n"}}`; got != want {
		t.Errorf("escaping: got %s, want %s", got, want)
	}
}
