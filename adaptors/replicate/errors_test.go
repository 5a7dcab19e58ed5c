package replicate

import (
	"strings"
	"testing"

	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/internal/openaiwire"
)

func TestParseErrorGolden(t *testing.T) {
	a := New()
	files := []string{
		"401_no_token.json", "401_invalid_token.json", "402_insufficient_credit.json",
		"422_invalid_version.json", "429_throttled.json", "500_html.html", "502_empty.txt", "503_envoy.txt",
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			status := 0
			for _, c := range f[:3] {
				status = status*10 + int(c-'0')
			}
			body := adaptortest.ReadFile(t, "testdata/error/"+f)
			e := a.ParseError(status, body)
			name := f[:strings.LastIndexByte(f, '.')]
			adaptortest.Golden(t, "testdata/error/"+name+".golden", []byte(renderError(e)), *update)
		})
	}
}

func TestParseErrorShapes(t *testing.T) {
	a := New()
	tests := []struct {
		status   int
		body     string
		msg, typ string
		code     any
	}{
		{400, `{"title":"Bad request","detail":"Invalid JSON","status":400}`, "Invalid JSON", "invalid_request_error", nil},
		{404, `{"title":"Not found","status":404}`, "Not found", "not_found_error", nil},
		{403, `{"detail":"You do not have permission to perform this action."}`, "You do not have permission to perform this action.", "permission_error", nil},
		{409, `{"title":"Conflict","detail":"x"}`, "x", "invalid_request_error", nil},
		{418, `{"detail":""}`, "replicate: bad response status code 418", "invalid_request_error", nil},
		{500, `{"error":{"message":"proxy failure"}}`, "proxy failure", "server_error", nil},
		{502, `{"error":"Bad gateway"}`, "Bad gateway", "server_error", nil},
		{503, `{"message":"overloaded"}`, "overloaded", "server_error", nil},
		{422, `{"detail":[{"loc":["body","input"],"msg":"field required"}]}`, `[{"loc":["body","input"],"msg":"field required"}]`, "invalid_request_error", nil},
		{429, `{"detail":"Request was throttled. Expected available in 1 second."}`, "Request was throttled. Expected available in 1 second.", "rate_limit_error", "rate_limit_exceeded"},
		{401, `{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}`, "You did not pass a valid authentication token", "authentication_error", "invalid_api_key"},
		{402, `{"title":"Insufficient credit"}`, "Insufficient credit", "insufficient_quota", "insufficient_quota"},
		{504, `{"detail": null, "title": 7}`, "7", "server_error", nil},
		{200, `not json`, "replicate: bad response status code 200: not json", "upstream_error", nil},
		{500, "\xff\x00{\"", "replicate: bad response status code 500", "server_error", nil},
		{500, `{"detail":"` + strings.Repeat("é", 2000) + `"}`, strings.Repeat("é", 2000), "server_error", nil},
	}
	for _, tt := range tests {
		e := a.ParseError(tt.status, []byte(tt.body))
		if e == nil || e.Status != tt.status || e.Message != tt.msg || e.Type != tt.typ || e.Code != tt.code {
			t.Errorf("%d %q: got %+v", tt.status, tt.body, e)
		}
	}
	// A huge non-string value is capped, still valid UTF-8.
	e := a.ParseError(500, []byte(`{"detail":["`+strings.Repeat("é", 2000)+`"]}`))
	if len(e.Message) > openaiwire.MaxErrorText+3 || !strings.HasPrefix(e.Message, `["é`) {
		t.Errorf("capped message: %d bytes %q…", len(e.Message), e.Message[:10])
	}
}

func TestStreamErrorShapes(t *testing.T) {
	for _, tt := range []struct{ data, msg string }{
		{`{"detail": "CUDA error"}`, "CUDA error"},
		{`{}`, "replicate: the prediction failed while streaming"},
		{`boom`, "replicate: the prediction failed while streaming: boom"},
		{``, "replicate: the prediction failed while streaming"},
	} {
		e := streamError([]byte(tt.data))
		if e.Status != 500 || e.Type != "server_error" || e.Code != "prediction_failed" || e.Message != tt.msg {
			t.Errorf("%q: %+v", tt.data, e)
		}
	}
}
