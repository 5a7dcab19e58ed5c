package openai

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// statusOf reads the HTTP status from a fixture name ("429_rate_limit.json").
func statusOf(t *testing.T, name string) int {
	s, _, _ := strings.Cut(name, "_")
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("fixture %s does not start with a status", name)
	}
	return n
}

func TestParseErrorGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/error/*")
	if err != nil {
		t.Fatal(err)
	}
	a := New(OpenAIConfig())
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".golden") {
			continue
		}
		n++
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			status := statusOf(t, name)
			e := a.ParseError(status, adaptortest.ReadFile(t, path))
			if e == nil {
				t.Fatal("nil error")
			}
			if e.Status != status {
				t.Errorf("Status = %d, want %d", e.Status, status)
			}
			// The golden is the envelope the client will receive.
			env, err := sonic.ConfigStd.MarshalIndent(schema.Envelope{Error: e}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out := fmt.Sprintf("status %d\n%s\n", e.Status, env)
			adaptortest.Golden(t, strings.TrimSuffix(path, filepath.Ext(path))+".golden", []byte(out), *update)
		})
	}
	if n < 10 {
		t.Fatalf("only %d error fixtures found", n)
	}
}

// TestParseErrorValues pins the mapping rules independently of goldens.
func TestParseErrorValues(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   schema.Error
	}{
		{401, `{"error":{"message":"Incorrect API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			schema.Error{Status: 401, Message: "Incorrect API key", Type: "invalid_request_error", Code: "invalid_api_key"}},
		{400, `{"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":null}}`,
			schema.Error{Status: 400, Message: "bad", Type: "invalid_request_error", Param: "messages"}},
		{402, `{"error":{"code":402,"message":"Insufficient credits"}}`,
			schema.Error{Status: 402, Message: "Insufficient credits", Type: "upstream_error", Code: 402}},
		{401, `{"message":"Invalid API key"}`,
			schema.Error{Status: 401, Message: "Invalid API key", Type: "upstream_error"}},
		{400, `{"msg":"m1"}`, schema.Error{Status: 400, Message: "m1", Type: "upstream_error"}},
		{400, `{"err":"m2"}`, schema.Error{Status: 400, Message: "m2", Type: "upstream_error"}},
		{400, `{"error_msg":"m3"}`, schema.Error{Status: 400, Message: "m3", Type: "upstream_error"}},
		{400, `{"header":{"message":"m4"}}`, schema.Error{Status: 400, Message: "m4", Type: "upstream_error"}},
		{400, `{"response":{"error":{"message":"m5"}}}`, schema.Error{Status: 400, Message: "m5", Type: "upstream_error"}},
		// Order: error.message wins over message.
		{400, `{"message":"second","error":{"message":"first"}}`, schema.Error{Status: 400, Message: "first", Type: "upstream_error"}},
		// An empty error.message falls through to the next place.
		{400, `{"error":{"message":""},"msg":"fallback"}`, schema.Error{Status: 400, Message: "fallback", Type: "upstream_error"}},
		{401, `{"error":"Unauthorized"}`, schema.Error{Status: 401, Message: "Unauthorized", Type: "upstream_error"}},
		{500, `<html><body>oops</body></html>`, schema.Error{Status: 500, Message: "bad response status code 500", Type: "upstream_error", Code: "bad_response_status_code", Param: "500"}},
		{502, ``, schema.Error{Status: 502, Message: "bad response status code 502", Type: "upstream_error", Code: "bad_response_status_code", Param: "502"}},
		{500, `{"error":{"message":"trunc`, schema.Error{Status: 500, Message: "bad response status code 500", Type: "upstream_error", Code: "bad_response_status_code", Param: "500"}},
		{503, `{"error":null,"message":null}`, schema.Error{Status: 503, Message: "bad response status code 503", Type: "upstream_error", Code: "bad_response_status_code", Param: "503"}},
	}
	for _, tt := range tests {
		got := parseError(tt.status, []byte(tt.body))
		if diff := cmp.Diff(tt.want, *got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.body, diff)
		}
	}
}

func TestParseErrorLongObjectMessageCapped(t *testing.T) {
	long := `{"message":{"detail":"` + strings.Repeat("é", 2000) + `"}}`
	e := parseError(422, []byte(long))
	if len(e.Message) > maxMessage || len(e.Message) < maxMessage-4 {
		t.Fatalf("message length %d, want about %d", len(e.Message), maxMessage)
	}
	if !strings.HasPrefix(e.Message, `{"detail":"é`) {
		t.Fatalf("message %q", e.Message[:20])
	}
}

func FuzzParseError(f *testing.F) {
	files, _ := filepath.Glob("testdata/error/*")
	for _, p := range files {
		if b, err := readTestdata(p); err == nil {
			f.Add(500, b)
		}
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseError(status, body)
		if e == nil || e.Message == "" || e.Type == "" || e.Status != status {
			t.Fatalf("bad error %+v", e)
		}
		if _, err := sonic.Marshal(schema.Envelope{Error: e}); err != nil {
			t.Fatalf("envelope does not marshal: %v", err)
		}
	})
}
