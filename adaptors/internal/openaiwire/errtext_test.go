package openaiwire

import (
	"strings"
	"testing"
)

func TestStatusErrorType(t *testing.T) {
	for status, want := range map[int]string{
		400: "invalid_request_error", 401: "authentication_error", 402: "insufficient_quota", 403: "permission_error",
		404: "not_found_error", 409: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error",
		500: "server_error", 503: "server_error", 302: "upstream_error",
	} {
		if got, _ := StatusErrorType(status); got != want {
			t.Errorf("%d: %q, want %q", status, got, want)
		}
	}
}

func TestErrorText(t *testing.T) {
	if got := FirstText(nil, []byte(`null`), []byte(` "" `), []byte(`"the message"`)); got != "the message" {
		t.Errorf("FirstText %q", got)
	}
	if got := Text([]byte(`{"a":1}`)); got != `{"a":1}` {
		t.Errorf("Text of an object %q", got)
	}
	if got := string(NestedMessage([]byte(`{"message":"inner"}`))); got != `"inner"` {
		t.Errorf("NestedMessage %q", got)
	}
	// An invalid byte early in a long body does not empty the message.
	long := "\xff" + strings.Repeat("é", MaxErrorText)
	if got := CapText([]byte(long)); !strings.HasPrefix(got, "\uFFFDé") || len(got) > MaxErrorText+6 { // two bytes may become U+FFFD
		t.Errorf("CapText %q…", got[:10])
	}
	for in, want := range map[string]string{
		"upstream connect error": "upstream connect error", "<html>": "", `{"a":1}`: "", "": "", "a\x00b": "",
	} {
		if got := PlainText([]byte(in)); got != want {
			t.Errorf("PlainText(%q) = %q", in, got)
		}
	}
}
