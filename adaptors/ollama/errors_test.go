package ollama

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func TestParseErrorGolden(t *testing.T) {
	a := New()
	tests := []struct {
		file   string
		status int
	}{
		{"400_no_thinking.json", 400},
		{"401_unauthorized.json", 401},
		{"404_model_not_found.json", 404},
		{"404_plain.txt", 404},
		{"404_openai.json", 404},
		{"500_memory.json", 500},
		{"502_nginx.html", 502},
		{"502_empty.txt", 502},
		{"503_busy.json", 503},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/error/"+tt.file)
			e := a.ParseError(tt.status, body)
			name := strings.TrimSuffix(tt.file, tt.file[strings.LastIndexByte(tt.file, '.'):])
			adaptortest.Golden(t, "testdata/error/"+name+".golden", []byte(fmt.Sprintf("%+v\n", *e)), *update)
		})
	}
}

func TestErrorTypes(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   schema.Error
	}{
		{400, schema.Error{Status: 400, Message: "m", Type: "invalid_request_error"}},
		{401, schema.Error{Status: 401, Message: "m", Type: "authentication_error", Code: "invalid_api_key"}},
		{403, schema.Error{Status: 403, Message: "m", Type: "permission_error"}},
		{404, schema.Error{Status: 404, Message: "m", Type: "invalid_request_error"}},
		{413, schema.Error{Status: 413, Message: "m", Type: "invalid_request_error"}},
		{429, schema.Error{Status: 429, Message: "m", Type: "rate_limit_error", Code: "rate_limit_exceeded"}},
		{500, schema.Error{Status: 500, Message: "m", Type: "upstream_error"}},
		{502, schema.Error{Status: 502, Message: "m", Type: "upstream_error"}},
		{418, schema.Error{Status: 418, Message: "m", Type: "upstream_error"}},
	} {
		if diff := cmp.Diff(tt.want, *errorFor(tt.status, "m")); diff != "" {
			t.Errorf("%d (-want +got):\n%s", tt.status, diff)
		}
	}
	want := schema.Error{Status: 404, Message: `model 'x' not found`, Type: "invalid_request_error", Code: "model_not_found"}
	if diff := cmp.Diff(want, *errorFor(404, `model 'x' not found`)); diff != "" {
		t.Errorf("model not found (-want +got):\n%s", diff)
	}
}

func TestParseErrorShapes(t *testing.T) {
	for _, tt := range []struct {
		body, want string
	}{
		{`{"error":"plain"}`, "plain"},
		{`{"error":{"message":"nested"}}`, "nested"}, // handled by the OpenAI adaptor's parser
		{`{"error":42}`, "42"},
		{`{"error":null}`, "bad response status code 400"},
		{`{"detail":"x"}`, "bad response status code 400"},
		{`{"error":"trunc`, "bad response status code 400"},
		{"upstream connect error or disconnect/reset before headers", "upstream connect error or disconnect/reset before headers"},
		{"\xff\x00binary", "bad response status code 400"},
		{strings.Repeat("é", 400), strings.Repeat("é", 256)},
	} {
		e := New().ParseError(400, []byte(tt.body))
		if e.Message != tt.want || e.Status != 400 || e.Type == "" {
			t.Errorf("%q: got %+v, want message %q", tt.body, *e, tt.want)
		}
	}
}
