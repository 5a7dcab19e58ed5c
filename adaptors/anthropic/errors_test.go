package anthropic

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
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

func TestParseErrorGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/error/*")
	var names []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden") {
			names = append(names, f)
		}
	}
	if len(names) < 5 {
		t.Fatalf("fixtures missing: %v", names)
	}
	a := New()
	for _, f := range names {
		base := filepath.Base(f)
		name := strings.TrimSuffix(base, filepath.Ext(base))
		status, err := strconv.Atoi(name[:3])
		if err != nil {
			t.Fatalf("%s: name must start with the status", f)
		}
		t.Run(name, func(t *testing.T) {
			e := a.ParseError(status, adaptortest.ReadFile(t, f))
			if e == nil || e.Status != status || e.Message == "" || e.Type == "" {
				t.Fatalf("ParseError = %+v", e)
			}
			got, err := json.MarshalIndent(schema.Envelope{Error: e}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out := fmt.Sprintf("status: %d\n%s\n", e.Status, got)
			adaptortest.Golden(t, "testdata/error/"+name+".golden", []byte(out), *update)
		})
	}
}

func TestParseErrorBodyShapes(t *testing.T) {
	tests := []struct {
		status            int
		body              string
		wantType, wantMsg string
		wantCode          any
	}{
		{529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, "overloaded_error", "Overloaded", nil},
		{429, `{"type":"error","error":{"type":"rate_limit_error","message":"m","details":{"error_code":"enforced_spend_limit_reached"}}}`, "rate_limit_error", "m", "enforced_spend_limit_reached"},
		{400, `{"message":"flat"}`, "invalid_request_error", "flat", nil},
		{403, `{"error":"string error"}`, "permission_error", "string error", nil},
		{404, `{"error":{"code":404,"message":"Publisher model not found","status":"NOT_FOUND"}}`, "not_found_error", "Publisher model not found", nil},
		{500, `{"type":"error","error":{"type":"api_error","message":{"nested":true}}}`, "api_error", `{"nested":true}`, nil},
		{502, ``, "api_error", "bad response status code 502", "bad_response_status_code"},
		{503, "<html>down</html>", "overloaded_error", "bad response status code 503", "bad_response_status_code"},
		{504, "gateway timeout", "timeout_error", "upstream status 504: gateway timeout", nil},
		{400, "\xff\xfe{", "invalid_request_error", "bad response status code 400", "bad_response_status_code"},
		{413, `{"type":"error","error":`, "request_too_large", "bad response status code 413", "bad_response_status_code"},
	}
	for _, tt := range tests {
		e := ParseErrorBody(tt.status, []byte(tt.body))
		if e.Status != tt.status || e.Type != tt.wantType || e.Message != tt.wantMsg || e.Code != tt.wantCode {
			t.Errorf("ParseErrorBody(%d, %q) = %+v", tt.status, tt.body, *e)
		}
	}
	long := strings.Repeat("é", 400)
	if e := ParseErrorBody(500, []byte(long)); len(e.Message) > 300 || !utf8.ValidString(e.Message) {
		t.Errorf("long plain body not capped: %d bytes", len(e.Message))
	}
}

func TestErrorStatus(t *testing.T) {
	for typ, want := range map[string]int{
		"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402, "permission_error": 403,
		"not_found_error": 404, "conflict_error": 409, "request_too_large": 413, "rate_limit_error": 429,
		"api_error": 500, "timeout_error": 504, "overloaded_error": 529, "": 500, "new_error": 500,
	} {
		if got := errorStatus(typ); got != want {
			t.Errorf("errorStatus(%q) = %d, want %d", typ, got, want)
		}
	}
}
