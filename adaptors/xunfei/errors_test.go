package xunfei

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bytedance/sonic"

	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// statusOf reads the HTTP status from a fixture name ("401_unauthorized.json").
func statusOf(t *testing.T, name string) int {
	s, _, _ := strings.Cut(name, "_")
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("fixture %s does not start with a status", name)
	}
	return n
}

// TestParseErrorGolden: every refusal body of testdata/error becomes the
// envelope in its .golden, with the fixture's status.
func TestParseErrorGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/error/*")
	if err != nil {
		t.Fatal(err)
	}
	a := New()
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
			if e == nil || e.Status != status || e.Message == "" || e.Type == "" {
				t.Fatalf("got %+v", e)
			}
			env, err := sonic.ConfigStd.MarshalIndent(schema.Envelope{Error: e}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out := fmt.Sprintf("status %d\n%s\n", e.Status, env)
			adaptortest.Golden(t, strings.TrimSuffix(path, filepath.Ext(path))+".golden", []byte(out), *update)
		})
	}
	if n < 8 {
		t.Fatalf("only %d error fixtures found", n)
	}
}

// TestFrameErrorStatus: the status, type and code each Spark error code
// gets.
func TestFrameErrorStatus(t *testing.T) {
	tests := []struct {
		code   int
		status int
		typ    string
		errc   any
	}{
		{10003, http.StatusBadRequest, "invalid_request_error", nil},
		{10163, http.StatusBadRequest, "invalid_request_error", nil},
		{10907, http.StatusBadRequest, "invalid_request_error", nil},
		{10013, http.StatusBadRequest, "invalid_request_error", "content_filter"},
		{10014, http.StatusBadRequest, "invalid_request_error", "content_filter"},
		{10019, http.StatusBadRequest, "invalid_request_error", "content_filter"},
		{10015, http.StatusForbidden, "permission_error", nil},
		{11200, http.StatusForbidden, "permission_error", nil},
		{10007, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded"},
		{11201, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded"},
		{11202, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded"},
		{11203, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded"},
		{10008, http.StatusServiceUnavailable, "server_error", nil},
		{10110, http.StatusServiceUnavailable, "server_error", nil},
		{10012, http.StatusBadGateway, "server_error", nil},
		{10222, http.StatusBadGateway, "server_error", nil},
		{10000, http.StatusInternalServerError, "server_error", nil},
		{12345, http.StatusInternalServerError, "server_error", nil},
	}
	for _, tt := range tests {
		e := frameError(tt.code, "m", "sid1")
		if e.Status != tt.status || e.Type != tt.typ || e.Code != tt.errc {
			t.Errorf("%d: got %d %s %v, want %d %s %v", tt.code, e.Status, e.Type, e.Code, tt.status, tt.typ, tt.errc)
		}
		if want := "m (xunfei code " + strconv.Itoa(tt.code) + ", sid sid1)"; e.Message != want {
			t.Errorf("%d: message %q, want %q", tt.code, e.Message, want)
		}
		if e.Status < 400 {
			t.Errorf("%d: an error frame must not look like success", tt.code)
		}
	}
	if e := frameError(10163, "", ""); e.Message != "xunfei: error frame (xunfei code 10163)" {
		t.Errorf("empty message: %q", e.Message)
	}
}

func TestParseErrorGarbage(t *testing.T) {
	for _, body := range []string{"", "\xff\x00{", `{"message":null}`, `{"message":{"a":1}}`, `{"error":{"message":"nested"}}`, strings.Repeat("x", 5000)} {
		e := New().ParseError(401, []byte(body))
		if e == nil || e.Status != 401 || e.Message == "" || e.Type != "authentication_error" {
			t.Errorf("%q: %+v", body, e)
		}
	}
	if e := New().ParseError(401, []byte(`{"error":{"message":"nested"}}`)); e.Message != "nested" {
		t.Errorf("nested: %q", e.Message)
	}
}
