package gemini

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func TestErrorBody(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{400, `{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT"}}`},
		{401, `{"error":{"code":401,"message":"m","status":"UNAUTHENTICATED"}}`},
		{403, `{"error":{"code":403,"message":"m","status":"PERMISSION_DENIED"}}`},
		{404, `{"error":{"code":404,"message":"m","status":"NOT_FOUND"}}`},
		{409, `{"error":{"code":409,"message":"m","status":"ABORTED"}}`},
		{429, `{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED"}}`},
		{499, `{"error":{"code":499,"message":"m","status":"CANCELLED"}}`},
		{500, `{"error":{"code":500,"message":"m","status":"INTERNAL"}}`},
		{501, `{"error":{"code":501,"message":"m","status":"UNIMPLEMENTED"}}`},
		{503, `{"error":{"code":503,"message":"m","status":"UNAVAILABLE"}}`},
		{504, `{"error":{"code":504,"message":"m","status":"DEADLINE_EXCEEDED"}}`},
		{402, `{"error":{"code":402,"message":"m","status":"UNKNOWN"}}`},
		{502, `{"error":{"code":502,"message":"m","status":"UNKNOWN"}}`},
	}
	for _, tt := range tests {
		if got := string(ErrorBody(tt.status, "m")); got != tt.want {
			t.Errorf("ErrorBody(%d) = %s, want %s", tt.status, got, tt.want)
		}
	}
	if got, want := string(ErrorBody(400, "contents: \"x\" <y>\n")), `{"error":{"code":400,"message":"contents: \"x\" <y>\n","status":"INVALID_ARGUMENT"}}`; got != want {
		t.Errorf("escaping: got %s, want %s", got, want)
	}
}

// TestParseErrorGolden maps each upstream error body of testdata/error
// (named <status>_<what>) to the OpenAI error the client gets.
func TestParseErrorGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/error/*")
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		status, err := strconv.Atoi(name[:3])
		if err != nil {
			t.Fatalf("%s: name must start with the status", f)
		}
		t.Run(name, func(t *testing.T) {
			e := New().ParseError(status, adaptortest.ReadFile(t, f))
			if e.Status != status || e.Message == "" || e.Type == "" {
				t.Errorf("%+v", *e)
			}
			body, _ := json.MarshalIndent(schema.Envelope{Error: e}, "", "  ")
			got := fmt.Sprintf("status: %d\n%s\n", e.Status, body)
			adaptortest.Golden(t, "testdata/error/"+name+".golden", []byte(got), *update)
		})
	}
}

func TestParseErrorTypes(t *testing.T) {
	tests := []struct {
		status     int
		body       string
		typ        string
		code       any
		wantPrefix string
	}{
		{400, `{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT"}}`, "invalid_request_error", "INVALID_ARGUMENT", "m"},
		{401, `{"error":{"code":401,"message":"m","status":"UNAUTHENTICATED"}}`, "authentication_error", "UNAUTHENTICATED", "m"},
		{403, `{"error":{"code":403,"message":"m","status":"PERMISSION_DENIED"}}`, "permission_error", "PERMISSION_DENIED", "m"},
		{429, `{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED"}}`, "rate_limit_error", "RESOURCE_EXHAUSTED", "m"},
		{500, `{"error":{"code":500,"message":"m","status":"INTERNAL"}}`, "server_error", "INTERNAL", "m"},
		{504, `{"error":{"code":504,"message":"m","status":"DEADLINE_EXCEEDED"}}`, "server_error", "DEADLINE_EXCEEDED", "m"},
		// No Google status: the HTTP status decides.
		{401, `{"error":{"message":"no"}}`, "authentication_error", nil, "no"},
		{403, `{"error":"denied"}`, "permission_error", nil, "denied"},
		{429, ``, "rate_limit_error", "bad_response_status_code", "bad response status code 429"},
		{418, `<html>teapot</html>`, "invalid_request_error", "bad_response_status_code", "bad response status code 418"},
		{502, "\x00\x01garbage", "server_error", "bad_response_status_code", "bad response status code 502"},
		{503, `{"error":{"status":"UNAVAILABLE"}}`, "server_error", "UNAVAILABLE", "UNAVAILABLE"},
		{400, `{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`, "invalid_request_error", "invalid_api_key", "API key not valid."},
		{400, `[{"error":{"code":400,"message":"in array","status":"INVALID_ARGUMENT"}}]`, "invalid_request_error", "INVALID_ARGUMENT", "in array"},
		{500, `[]`, "server_error", "bad_response_status_code", "bad response status code 500"},
	}
	for _, tt := range tests {
		e := ParseErrorBody(tt.status, []byte(tt.body))
		if e.Status != tt.status || e.Type != tt.typ || e.Code != tt.code || !strings.HasPrefix(e.Message, tt.wantPrefix) {
			t.Errorf("%d %q: got %+v", tt.status, tt.body, *e)
		}
	}
}
