package baidu

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"switchyard/adaptors/adaptortest"
)

// TestParseErrorGolden maps each error body of testdata/error (named
// <status>_<what>.<ext>) under its status.
func TestParseErrorGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/error/*")
	a := New()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
		name := filepath.Base(f)
		status, err := strconv.Atoi(name[:3])
		if err != nil {
			t.Fatalf("%s: name must start with the status", name)
		}
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			e := a.ParseError(status, body)
			if e == nil || e.Status != status || e.Message == "" || e.Type == "" {
				t.Fatalf("bad error %+v", e)
			}
			adaptortest.Golden(t, "testdata/error/"+strings.TrimSuffix(name, filepath.Ext(name))+".golden", []byte(renderError(e)), *update)
		})
	}
	if n == 0 {
		t.Fatal("no error fixtures")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		code   int
		status int
		typ    string
	}{
		{110, http.StatusUnauthorized, "authentication_error"},
		{111, http.StatusUnauthorized, "authentication_error"},
		{100, http.StatusUnauthorized, "authentication_error"},
		{14, http.StatusUnauthorized, "authentication_error"},
		{17, http.StatusTooManyRequests, "insufficient_quota"},
		{18, http.StatusTooManyRequests, "rate_limit_error"},
		{4, http.StatusTooManyRequests, "rate_limit_error"},
		{336501, http.StatusTooManyRequests, "rate_limit_error"},
		{336502, http.StatusTooManyRequests, "rate_limit_error"},
		{336599, http.StatusTooManyRequests, "rate_limit_error"},
		{336003, http.StatusBadRequest, "invalid_request_error"},
		{336006, http.StatusBadRequest, "invalid_request_error"},
		{336103, http.StatusBadRequest, "invalid_request_error"},
		{336000, http.StatusInternalServerError, "server_error"},
		{336100, http.StatusServiceUnavailable, "server_error"},
		{3, http.StatusNotFound, "not_found_error"},
		{6, http.StatusForbidden, "permission_error"},
		{2, http.StatusServiceUnavailable, "server_error"},
		{999999, http.StatusInternalServerError, "server_error"},
	}
	for _, tt := range tests {
		e := apiError(tt.code, "m")
		if e.Status != tt.status || e.Type != tt.typ || e.Code != tt.code || e.Message != "m" {
			t.Errorf("%d: got %+v, want %d %s", tt.code, *e, tt.status, tt.typ)
		}
	}
	if e := apiError(336003, ""); e.Message == "" {
		t.Error("an empty error_msg gives an empty message")
	}
}

// TestParseErrorKeepsStatus: a Baidu code in a non-2xx body chooses the
// type, never the status (which is the upstream's).
func TestParseErrorKeepsStatus(t *testing.T) {
	e := New().ParseError(http.StatusBadGateway, []byte(`{"error_code":110,"error_msg":"Access token invalid or no longer valid"}`))
	if e.Status != http.StatusBadGateway || e.Type != "authentication_error" || e.Message != "Access token invalid or no longer valid" {
		t.Errorf("got %+v", *e)
	}
	e = New().ParseError(http.StatusBadRequest, []byte(`{"error":{"message":"proxy says no","type":"invalid_request_error"}}`))
	if e.Message != "proxy says no" {
		t.Errorf("proxy error: %+v", *e)
	}
}
