package ali

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// TestParseErrorGolden maps every error fixture; the file name starts
// with the HTTP status it came with.
func TestParseErrorGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/error/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, ".golden") {
			continue
		}
		n++
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			status, err := strconv.Atoi(name[:3])
			if err != nil {
				t.Fatalf("%s: no status prefix", name)
			}
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			e := New().ParseError(status, body)
			if e == nil || e.Status != status || e.Message == "" || e.Type == "" {
				t.Fatalf("bad error %+v", e)
			}
			golden := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
			adaptortest.Golden(t, golden, []byte(renderError(e)), *update)
		})
	}
	if n < 10 {
		t.Fatalf("only %d error fixtures", n)
	}
}

// TestErrorMapping: DashScope codes to OpenAI types and codes, with the
// upstream status kept.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   schema.Error
	}{
		{401, `{"code":"InvalidApiKey","message":"Invalid API-key provided."}`,
			schema.Error{Status: 401, Message: "Invalid API-key provided.", Type: "authentication_error", Code: "invalid_api_key"}},
		{400, `{"code":"Arrearage","message":"Access denied"}`,
			schema.Error{Status: 400, Message: "Access denied", Type: "insufficient_quota", Code: "insufficient_quota"}},
		{400, `{"code":"DataInspectionFailed","message":"Input data may contain inappropriate content."}`,
			schema.Error{Status: 400, Message: "Input data may contain inappropriate content.", Type: "invalid_request_error", Code: "content_filter"}},
		{400, `{"error":{"message":"Input data may contain inappropriate content.","type":"data_inspection_failed","param":null,"code":"data_inspection_failed"}}`,
			schema.Error{Status: 400, Message: "Input data may contain inappropriate content.", Type: "data_inspection_failed", Code: "content_filter"}},
		{400, `{"code":"InvalidParameter.Model","message":"bad"}`,
			schema.Error{Status: 400, Message: "bad", Type: "invalid_request_error", Code: "InvalidParameter.Model"}},
		{400, `{"code":"BadRequest.EmptyInput","message":"Required input parameter missing from request."}`,
			schema.Error{Status: 400, Message: "Required input parameter missing from request.", Type: "invalid_request_error", Code: "BadRequest.EmptyInput"}},
		{403, `{"code":"Model.AccessDenied","message":"Model access denied."}`,
			schema.Error{Status: 403, Message: "Model access denied.", Type: "permission_error", Code: "Model.AccessDenied"}},
		{404, `{"code":"ModelNotFound","message":"Model not exist."}`,
			schema.Error{Status: 404, Message: "Model not exist.", Type: "invalid_request_error", Code: "model_not_found"}},
		{429, `{"code":"Throttling","message":"Requests throttling triggered."}`,
			schema.Error{Status: 429, Message: "Requests throttling triggered.", Type: "rate_limit_error", Code: "rate_limit_exceeded"}},
		{429, `{"code":"Throttling.AllocationQuota","message":"Allocated quota exceeded"}`,
			schema.Error{Status: 429, Message: "Allocated quota exceeded", Type: "insufficient_quota", Code: "insufficient_quota"}},
		{500, `{"code":"InternalError.Algo","message":"An internal error has occured"}`,
			schema.Error{Status: 500, Message: "An internal error has occured", Type: "server_error", Code: "InternalError.Algo"}},
		{503, `{"code":"ModelUnavailable","message":"Model is unavailable"}`,
			schema.Error{Status: 503, Message: "Model is unavailable", Type: "server_error", Code: "ModelUnavailable"}},
		{418, `{"code":"Teapot","message":"short and stout"}`,
			schema.Error{Status: 418, Message: "short and stout", Type: "invalid_request_error", Code: "Teapot"}},
		{400, `{"code":"InvalidParameter"}`,
			schema.Error{Status: 400, Message: "InvalidParameter", Type: "invalid_request_error", Code: "InvalidParameter"}},
		{500, `{"output":{"task_status":"FAILED","code":"InternalError.Timeout","message":"timed out"}}`,
			schema.Error{Status: 500, Message: "timed out", Type: "server_error", Code: "InternalError.Timeout"}},
		{502, `{"error":"Bad gateway"}`,
			schema.Error{Status: 502, Message: "Bad gateway", Type: "server_error"}},
		{401, ``, schema.Error{Status: 401, Message: "ali: bad response status code 401", Type: "authentication_error", Code: "invalid_api_key"}},
		{503, `no healthy upstream`, schema.Error{Status: 503, Message: "ali: bad response status code 503: no healthy upstream", Type: "server_error"}},
		{500, `{"message":{"detail":"x"}}`, schema.Error{Status: 500, Message: `{"detail":"x"}`, Type: "server_error"}},
		{400, `{"code":42,"message":"numeric code"}`, schema.Error{Status: 400, Message: "numeric code", Type: "invalid_request_error", Code: "42"}},
	}
	for _, tt := range tests {
		got := parseError(tt.status, []byte(tt.body))
		if diff := cmp.Diff(tt.want, *got); diff != "" {
			t.Errorf("%d %s (-want +got):\n%s", tt.status, tt.body, diff)
		}
	}
}
