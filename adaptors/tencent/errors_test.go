package tencent

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"switchyard/adaptors/adaptortest"
)

// TestParseErrorGolden maps the error bodies of testdata/error (named
// <status>_<what>) with their status.
func TestParseErrorGolden(t *testing.T) {
	tests := []struct {
		file   string
		status int
	}{
		{"400_invalid_parameter.json", 400},
		{"401_signature_failure.json", 401},
		{"413_proxy_openai.json", 413},
		{"429_request_limit.json", 429},
		{"500_internal_error.json", 500},
		{"502_html.html", 502},
		{"503_text.txt", 503},
		{"504_empty.txt", 504},
	}
	a := testAdaptor()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e := a.ParseError(tt.status, adaptortest.ReadFile(t, "testdata/error/"+tt.file))
			if e == nil || e.Status != tt.status || e.Message == "" || e.Type == "" {
				t.Fatalf("bad error %+v", e)
			}
			name := strings.TrimSuffix(tt.file, filepath.Ext(tt.file))
			adaptortest.Golden(t, "testdata/error/"+name+".golden", fmt.Appendf(nil, "%+v\n", *e), *update)
		})
	}
}

func TestCodeStatus(t *testing.T) {
	tests := map[string]int{
		"AuthFailure.SignatureFailure":               401,
		"AuthFailure.SignatureExpire":                401,
		"AuthFailure.SecretIdNotFound":               401,
		"AuthFailure.InvalidSecretId":                401,
		"AuthFailure.TokenFailure":                   401,
		"AuthFailure.InvalidAuthorization":           401,
		"AuthFailure.UnauthorizedOperation":          403,
		"UnauthorizedOperation":                      403,
		"UnauthorizedOperation.CamNoAuth":            403,
		"OperationDenied.TextIllegalDetected":        400,
		"LimitExceeded":                              429,
		"RequestLimitExceeded":                       429,
		"RequestLimitExceeded.UinLimitExceeded":      429,
		"FailedOperation.EngineServerLimitExceeded":  429,
		"RequestSizeLimitExceeded":                   413,
		"InvalidParameterValue.Model":                404,
		"InvalidParameter":                           400,
		"InvalidParameter.InvalidParameter":          400,
		"InvalidParameterValue":                      400,
		"InvalidParameterValue.ParameterValueError":  400,
		"MissingParameter":                           400,
		"UnknownParameter":                           400,
		"InvalidAction":                              400,
		"NoSuchVersion":                              400,
		"UnsupportedRegion":                          400,
		"ResourceNotFound":                           404,
		"ResourceInsufficient.ChargeResourceExhaust": 402,
		"ResourceUnavailable.InArrears":              402,
		"ResourceUnavailable.LowBalance":             402,
		"FailedOperation.ResourcePackExhausted":      402,
		"FailedOperation.FreeResourcePackExhausted":  402,
		"FailedOperation.ServiceStopArrears":         402,
		"ResourceUnavailable.NotExist":               403,
		"ResourceUnavailable.StopUsing":              403,
		"FailedOperation.ServiceNotActivated":        403,
		"FailedOperation.ServiceStop":                403,
		"FailedOperation.UserUnAuthError":            403,
		"ResourceInsufficient":                       503,
		"ResourceUnavailable":                        503,
		"FailedOperation.EngineRequestTimeout":       504,
		"FailedOperation.EngineServerError":          502,
		"FailedOperation":                            500,
		"FailedOperation.ConsoleServerError":         500,
		"InternalError":                              500,
		"InternalError.Whatever":                     500,
		"AuthFailureX":                               502, // a prefix is a whole dotted segment
		"SomethingNew":                               502,
		"":                                           502,
	}
	for code, want := range tests {
		if got := codeStatus(code); got != want {
			t.Errorf("codeStatus(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestErrorTypes(t *testing.T) {
	tests := []struct {
		body        string
		status      int
		wantStatus  int
		wantType    string
		wantCode    any
		wantMessage string
	}{
		{`{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"The signature is expired, please request again."},"RequestId":"r"}}`,
			401, 401, "authentication_error", "AuthFailure.SignatureExpire", "The signature is expired, please request again."},
		{`{"Response":{"Error":{"Code":"OperationDenied.TextIllegalDetected","Message":"文本包含违法违规信息，审核不通过。"}}}`,
			400, 400, "invalid_request_error", "content_policy_violation", "文本包含违法违规信息，审核不通过。"},
		{`{"Response":{"Error":{"Code":"ResourceUnavailable.LowBalance","Message":"余额不足。"}}}`,
			402, 402, "insufficient_quota", "ResourceUnavailable.LowBalance", "余额不足。"},
		{`{"Error":{"Code":"LimitExceeded","Message":""}}`, 429, 429, "rate_limit_error", "LimitExceeded", "tencent: LimitExceeded"},
		// A status below 400 (never passed by the transport) takes the
		// code's.
		{`{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"m"}}}`, 200, 429, "rate_limit_error", "RequestLimitExceeded", "m"},
		{`not json`, 200, 502, "server_error", nil, "tencent: bad response status code 502: not json"},
		{`{"message":"Bad Gateway"}`, 502, 502, "server_error", nil, "Bad Gateway"},
	}
	a := testAdaptor()
	for _, tt := range tests {
		e := a.ParseError(tt.status, []byte(tt.body))
		if e.Status != tt.wantStatus || e.Type != tt.wantType || e.Code != tt.wantCode || e.Message != tt.wantMessage {
			t.Errorf("%s: %+v", tt.body, *e)
		}
	}
}
