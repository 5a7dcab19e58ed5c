package cohere

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/internal/openaiwire"
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

// TestParseErrorGolden: every body of testdata/error becomes the
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

func TestErrorTypes(t *testing.T) {
	tests := []struct {
		status int
		typ    string
		code   any
	}{
		{400, "invalid_request_error", nil},
		{401, "authentication_error", "invalid_api_key"},
		{402, "insufficient_quota", "insufficient_quota"},
		{403, "permission_error", nil},
		{404, "not_found_error", nil},
		{413, "invalid_request_error", nil},
		{422, "invalid_request_error", nil},
		{429, "rate_limit_error", "rate_limit_exceeded"},
		{499, "invalid_request_error", nil},
		{500, "server_error", nil},
		{503, "server_error", nil},
		{200, "upstream_error", nil},
	}
	for _, tt := range tests {
		e := parseError(tt.status, []byte(`{"message":"m"}`))
		if diff := cmp.Diff(schema.Error{Status: tt.status, Message: "m", Type: tt.typ, Code: tt.code}, *e); diff != "" {
			t.Errorf("%d (-want +got):\n%s", tt.status, diff)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{`{"message":"invalid api token"}`, "invalid api token"},
		{`{"id":"abc","message":"x"}`, "x"},
		{`{"data":"internal server error"}`, "internal server error"},
		{`{"error":{"message":"from a proxy"}}`, "from a proxy"},
		{`{"error":"plain"}`, "plain"},
		{`{"message":{"detail":"obj"}}`, `{"detail":"obj"}`},
		{`{"message":""}`, "cohere: bad response status code 400"},
		{`{}`, "cohere: bad response status code 400"},
		{``, "cohere: bad response status code 400"},
		{`Bad Request`, "cohere: bad response status code 400: Bad Request"},
		{`<html>x</html>`, "cohere: bad response status code 400"},
		{"\xff\x00", "cohere: bad response status code 400"},
		{`{"message":"` + strings.Repeat("é", 2000) + `"}`, strings.Repeat("é", 2000)},
	}
	for _, tt := range tests {
		if got := parseError(400, []byte(tt.body)).Message; got != tt.want {
			t.Errorf("%.40q: message %.60q, want %.60q", tt.body, got, tt.want)
		}
	}
	long := parseError(400, []byte(`{"message":[`+strings.Repeat(`"xxxxxxxx",`, 500)+`"y"]}`)).Message
	if len(long) > openaiwire.MaxErrorText {
		t.Errorf("non-string message not capped: %d bytes", len(long))
	}
}
