package baidu

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

var now = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// TestTokenRequestGolden: the exchange call as Baidu documents it.
func TestTokenRequestGolden(t *testing.T) {
	ch := v1Channel()
	r, err := New().TokenRequest(&ch, now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Body != nil {
		t.Errorf("the exchange has a body: %q", r.Body)
	}
	adaptortest.Golden(t, "testdata/build/token.golden", renderHead(r), *update)
}

// TestTokenRequestBaseURL: the channel's base URL replaces the host of
// the exchange too; the credentials are query-escaped.
func TestTokenRequestBaseURL(t *testing.T) {
	ch := adaptors.Channel{Key: " api key+1 | secret&2 ", BaseURL: "http://127.0.0.1:8080/baidu/"}
	r, err := New().TokenRequest(&ch, now)
	if err != nil {
		t.Fatal(err)
	}
	want := "http://127.0.0.1:8080/baidu/oauth/2.0/token?grant_type=client_credentials&client_id=api+key%2B1&client_secret=secret%262"
	if r.URL != want || r.Method != http.MethodPost {
		t.Errorf("got %s %s, want POST %s", r.Method, r.URL, want)
	}
}

func TestTokenRequestBadKey(t *testing.T) {
	for _, key := range []string{"", "onlyapikey", "|secret", "api|", " | "} {
		ch := adaptors.Channel{Key: key}
		if _, err := New().TokenRequest(&ch, now); !errors.Is(err, ErrBadKey) {
			t.Errorf("%q: got %v, want ErrBadKey", key, err)
		}
	}
}

func TestParseToken(t *testing.T) {
	a := New()
	tok, err := a.ParseToken(200, adaptortest.ReadFile(t, "testdata/token/ok.json"), now)
	if err != nil {
		t.Fatal(err)
	}
	want := adaptors.AccessToken{Value: "24.6c5e1ff107f0e8bcef8c46d3424a0e78.2592000.1485516651.282335-8574074", Expires: now.Add(30 * 24 * time.Hour)}
	if tok != want {
		t.Errorf("got %+v, want %+v", tok, want)
	}
	for body, life := range map[string]time.Duration{
		`{"access_token":"24.a"}`:                      30 * 24 * time.Hour, // Baidu's lifetime when unnamed
		`{"access_token":"24.a","expires_in":"3600"}`:  time.Hour,
		`{"access_token":"24.a","expires_in":86400.0}`: 24 * time.Hour,
		`{"access_token":"24.a","expires_in":-5}`:      30 * 24 * time.Hour,
	} {
		tok, err := a.ParseToken(200, []byte(body), now)
		if err != nil || tok.Expires != now.Add(life) {
			t.Errorf("%s: got %+v, %v; want expiry in %v", body, tok, err, life)
		}
	}
}

func TestParseTokenRefused(t *testing.T) {
	a := New()
	tests := []struct {
		name   string
		status int
		body   []byte
		want   string
		typ    string
	}{
		{"unknown client id", 401, adaptortest.ReadFile(t, "testdata/token/invalid_client.json"), "invalid_client: unknown client id", "authentication_error"},
		{"wrong secret", 401, adaptortest.ReadFile(t, "testdata/token/bad_secret.json"), "invalid_client: Client authentication failed", "authentication_error"},
		{"refusal under 200", 200, adaptortest.ReadFile(t, "testdata/token/invalid_client.json"), "unknown client id", "authentication_error"},
		{"error code under 200", 200, []byte(`{"error_code":14,"error_msg":"IAM Certification failed"}`), "IAM Certification failed", "authentication_error"},
		{"rate limited", 429, []byte(`too many requests`), "too many requests", "rate_limit_error"},
		{"server", 502, []byte(`<html>bad gateway</html>`), "status 502", "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.ParseToken(tt.status, tt.body, now)
			var se *schema.Error
			if !errors.As(err, &se) || !strings.Contains(se.Message, tt.want) || se.Type != tt.typ || se.Status < 400 {
				t.Errorf("got %v, want a *schema.Error %s mentioning %q", err, tt.typ, tt.want)
			}
		})
	}
	for _, body := range []string{``, `<html>`, `{}`, `{"access_token":""}`} {
		if _, err := a.ParseToken(200, []byte(body), now); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: got %v, want ErrInvalidResponse", body, err)
		}
	}
}
