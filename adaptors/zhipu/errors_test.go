package zhipu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchyard/adaptors/adaptortest"
)

// TestParseErrorGolden maps each error body of testdata/error (the
// status is the file name's prefix).
func TestParseErrorGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/error/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range files {
		if strings.HasSuffix(p, ".golden") {
			continue
		}
		n++
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			status := statusOf(t, name)
			e := New().ParseError(status, body)
			if e == nil || e.Status != status || e.Message == "" || e.Type == "" {
				t.Fatalf("bad error %+v", e)
			}
			golden := strings.TrimSuffix(p, filepath.Ext(p)) + ".golden"
			adaptortest.Golden(t, golden, []byte(renderError(e)), *update)
		})
	}
	if n < 10 {
		t.Fatalf("only %d error fixtures", n)
	}
}

func TestParseErrorTypes(t *testing.T) {
	tests := []struct {
		status int
		body   string
		typ    string
		code   any
	}{
		{401, `{"error":{"code":"1001","message":"Header中未收到Authorization参数"}}`, "authentication_error", "invalid_api_key"},
		{429, `{"error":{"code":"1113","message":"欠费"}}`, "insufficient_quota", "insufficient_quota"},
		{429, `{"error":{"code":"1309","message":"套餐已到期"}}`, "insufficient_quota", "insufficient_quota"},
		{429, `{"error":{"code":"1303","message":"频率过高"}}`, "rate_limit_error", "rate_limit_exceeded"},
		{429, `{"error":{"code":"1304","message":"今日调用次数限额"}}`, "rate_limit_error", "1304"},
		{400, `{"error":{"code":"1211","message":"模型不存在"}}`, "invalid_request_error", "model_not_found"},
		{400, `{"error":{"code":"1214","message":"参数非法"}}`, "invalid_request_error", "1214"},
		{400, `{"error":{"code":1214,"message":"numeric code"}}`, "invalid_request_error", "1214"},
		{403, `{"error":{"code":"1112","message":"账户已被锁定"}}`, "permission_error", "1112"},
		{500, `{"error":{"code":"1234","message":"网络错误"}}`, "server_error", "1234"},
		{400, `{"error":{"code":"7777","message":"unknown"}}`, "invalid_request_error", "7777"},
		{404, `{"error":{"message":"m","type":"invalid_request_error","code":"model_not_found"}}`, "invalid_request_error", "model_not_found"},
		{401, `{"code":1002,"msg":"v3 flat","success":false}`, "authentication_error", "invalid_api_key"},
		{401, `{"error":"Unauthorized"}`, "authentication_error", "invalid_api_key"},
		{429, `{"message":"Too many"}`, "rate_limit_error", "rate_limit_exceeded"},
		{503, `<html>busy</html>`, "server_error", nil},
		{500, ``, "server_error", nil},
	}
	for _, tt := range tests {
		e := parseError(tt.status, []byte(tt.body))
		if e.Status != tt.status || e.Type != tt.typ || e.Code != tt.code || e.Message == "" {
			t.Errorf("%d %s: got %+v, want type %s code %v", tt.status, tt.body, *e, tt.typ, tt.code)
		}
	}
}
