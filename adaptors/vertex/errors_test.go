package vertex

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

// TestParseErrorGolden maps each upstream error body of testdata/error
// (named <status>_<what>) to the OpenAI error the client gets.
func TestParseErrorGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/error/*")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
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
			adaptortest.Golden(t, "testdata/error/"+name+".golden", renderError(e), *update)
		})
	}
	if n < 10 {
		t.Fatalf("only %d error fixtures", n)
	}
}

// renderError prints the status and the envelope the client gets.
func renderError(e *schema.Error) []byte {
	b, _ := json.MarshalIndent(schema.Envelope{Error: e}, "", "  ")
	return fmt.Appendf(nil, "status: %d\n%s\n", e.Status, b)
}

// TestParseErrorShape: the body's shape chooses the mapping.
func TestParseErrorShape(t *testing.T) {
	tests := []struct {
		body      string
		anthropic bool
		typ       string
	}{
		{`{"type":"error","error":{"type":"rate_limit_error","message":"m"}}`, true, "rate_limit_error"},
		{`{"error":{"type":"not_found_error","message":"m"}}`, true, "not_found_error"},
		{`{"error":{"code":404,"message":"m","status":"NOT_FOUND"}}`, false, "invalid_request_error"},
		{`{"error":{"code":429,"message":"m"}}`, false, "rate_limit_error"},
		{`{"error":"m"}`, false, "rate_limit_error"},
		{`[{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED"}}]`, false, "rate_limit_error"},
		{`{"type":"error","error":"m"}`, true, "rate_limit_error"},
		{`m`, false, "rate_limit_error"},
	}
	for _, tt := range tests {
		if got := isAnthropicError([]byte(tt.body)); got != tt.anthropic {
			t.Errorf("isAnthropicError(%s) = %v", tt.body, got)
		}
		e := New().ParseError(429, []byte(tt.body))
		if e.Status != 429 || e.Type != tt.typ || !strings.Contains(e.Message, "m") {
			t.Errorf("%s: %+v", tt.body, *e)
		}
	}
}
