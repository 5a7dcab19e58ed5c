package bedrock

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"switchyard/adaptors/adaptortest"
)

func TestParseErrorGolden(t *testing.T) {
	a := New(Options{})
	files, _ := filepath.Glob("testdata/error/*")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			status, err := strconv.Atoi(name[:3])
			if err != nil {
				t.Fatal(err)
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			e := a.ParseError(status, body)
			if e == nil || e.Status != status || e.Message == "" || e.Type == "" {
				t.Fatalf("bad error %+v", e)
			}
			got := fmt.Sprintf("%+v\n", *e)
			adaptortest.Golden(t, strings.TrimSuffix(f, filepath.Ext(f))+".golden", []byte(got), *update)
		})
	}
	if n < 10 {
		t.Fatalf("only %d error fixtures", n)
	}
}

func TestErrorTypes(t *testing.T) {
	for status, want := range map[int]string{
		400: "invalid_request_error", 401: "authentication_error", 403: "authentication_error", 404: "not_found_error",
		408: "timeout_error", 413: "invalid_request_error", 424: "upstream_error", 429: "rate_limit_error",
		500: "server_error", 503: "server_error",
	} {
		if got := errorType(status); got != want {
			t.Errorf("errorType(%d) = %q, want %q", status, got, want)
		}
	}
	for name, want := range map[string]int{
		"throttlingException": 429, "ThrottlingException": 429, "validationException": 400, "serviceUnavailableException": 503,
		"internalServerException": 500, "modelStreamErrorException": 424, "modelTimeoutException": 408, "somethingNew": 0,
	} {
		if got := exceptionStatus(name); got != want {
			t.Errorf("exceptionStatus(%q) = %d, want %d", name, got, want)
		}
	}
	// An exception the table does not know is a 500 that keeps its name.
	if e := streamError("brandNewException", []byte(`{"message":"new"}`)); e.Status != 500 || e.Code != "brandNewException" || e.Message != "new" {
		t.Errorf("unknown exception: %+v", *e)
	}
}
