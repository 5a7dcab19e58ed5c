package vertex

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// publicKey reads the fixed test key's public half.
func publicKey(t testing.TB) *rsa.PublicKey {
	t.Helper()
	block, _ := pem.Decode(adaptortest.ReadFile(t, "testdata/sa/public_key.pem"))
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PublicKey)
}

// assertionOf returns the JWT of a token request's form body.
func assertionOf(t testing.TB, r *adaptors.HTTPRequest) string {
	t.Helper()
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if g := form.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Fatalf("grant_type %q", g)
	}
	if len(form) != 2 {
		t.Fatalf("form %v", form)
	}
	return form.Get("assertion")
}

// decodeJWT verifies the JWT's RS256 signature with pub and renders its
// header and claims.
func decodeJWT(t testing.TB, jwt string, pub *rsa.PublicKey) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT has %d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	for i, v := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

// TestTokenRequestGolden pins the whole exchange request for the fixed
// key and clock: RS256 PKCS #1 v1.5 signatures are deterministic, so the
// JWT is too.
func TestTokenRequestGolden(t *testing.T) {
	ch := testChannel(t, nil)
	r, err := New().TokenRequest(&ch, testNow)
	if err != nil {
		t.Fatal(err)
	}
	adaptortest.Golden(t, "testdata/token/request.golden", renderRequest(r), *update)

	jwt := assertionOf(t, r)
	header, claims := decodeJWT(t, jwt, publicKey(t))
	// The golden shows the JWT's header and claims as signed (member
	// order kept), then its signature.
	var b bytes.Buffer
	parts := strings.Split(jwt, ".")
	for _, p := range parts[:2] {
		raw, _ := base64.RawURLEncoding.DecodeString(p)
		if err := json.Indent(&b, raw, "", "  "); err != nil {
			t.Fatal(err)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "signature (RS256, base64url): %s\n", parts[2])
	adaptortest.Golden(t, "testdata/token/jwt.golden", b.Bytes(), *update)

	wantClaims := map[string]any{
		"iss":   "gateway@switchyard-test.iam.gserviceaccount.com",
		"scope": "https://www.googleapis.com/auth/cloud-platform",
		"aud":   "https://oauth2.googleapis.com/token",
		"iat":   float64(testNow.Unix()),
		"exp":   float64(testNow.Unix() + 3600),
	}
	if diff := cmp.Diff(wantClaims, claims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	wantHeader := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "8b1e4f0c2d9a6e3b7f5c1a0d4e8b2f6c9a3d7e1b"}
	if diff := cmp.Diff(wantHeader, header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

// TestTokenRequestKeys: the same JWT whatever form the key comes in.
func TestTokenRequestKeys(t *testing.T) {
	ch := testChannel(t, nil)
	want, err := New().TokenRequest(&ch, testNow)
	if err != nil {
		t.Fatal(err)
	}
	escaped := strings.ReplaceAll(testKey(t), `\n`, `\\n`) // private_key with literal \n sequences
	tests := map[string]adaptors.Channel{
		"pkcs1":       {Key: string(adaptortest.ReadFile(t, "testdata/sa/service_account_pkcs1.json"))},
		"config_adc":  {Key: "unused", Config: map[string]string{"vertex_ai_adc": testKey(t)}},
		"escaped_pem": {Key: escaped},
		"key_spaces":  {Key: "\n  " + testKey(t)},
	}
	for name, ch := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := New().TokenRequest(&ch, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenRequestTokenURI(t *testing.T) {
	var sa map[string]any
	if err := json.Unmarshal([]byte(testKey(t)), &sa); err != nil {
		t.Fatal(err)
	}
	sa["token_uri"] = "http://127.0.0.1:8089/token"
	key, _ := json.Marshal(sa)
	ch := adaptors.Channel{Key: string(key)}
	r, err := New().TokenRequest(&ch, testNow)
	if err != nil {
		t.Fatal(err)
	}
	_, claims := decodeJWT(t, assertionOf(t, r), publicKey(t))
	if r.URL != "http://127.0.0.1:8089/token" || claims["aud"] != r.URL {
		t.Errorf("URL %s aud %v", r.URL, claims["aud"])
	}
	delete(sa, "token_uri")
	delete(sa, "private_key_id")
	key, _ = json.Marshal(sa)
	ch = adaptors.Channel{Key: string(key)}
	if r, err = New().TokenRequest(&ch, testNow); err != nil {
		t.Fatal(err)
	}
	header, claims := decodeJWT(t, assertionOf(t, r), publicKey(t))
	if r.URL != DefaultTokenURI || claims["aud"] != DefaultTokenURI {
		t.Errorf("URL %s aud %v", r.URL, claims["aud"])
	}
	if _, ok := header["kid"]; ok {
		t.Errorf("kid without private_key_id: %v", header)
	}
}

func TestTokenRequestErrors(t *testing.T) {
	var sa map[string]any
	if err := json.Unmarshal([]byte(testKey(t)), &sa); err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) string {
		m := map[string]any{}
		for kk, vv := range sa {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	tests := []struct {
		name string
		ch   adaptors.Channel
		want string
	}{
		{"api_key", adaptors.Channel{Key: "AQ.Ab8RN6Lexpress-mode-key"}, "express mode"},
		{"empty", adaptors.Channel{}, "service account JSON key"},
		{"bad_json", adaptors.Channel{Key: `{"type":`}, "not a service account JSON"},
		{"authorized_user", adaptors.Channel{Key: `{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`}, `type "authorized_user"`},
		{"no_email", adaptors.Channel{Key: with("client_email", nil)}, "no client_email"},
		{"no_key", adaptors.Channel{Key: with("private_key", nil)}, "no client_email or private_key"},
		{"not_pem", adaptors.Channel{Key: with("private_key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")}, "not a PEM block"},
		{"bad_der", adaptors.Channel{Key: with("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}, "private_key:"},
		{"ec_key", adaptors.Channel{Key: with("private_key", ecPEM)}, "*ecdsa.PrivateKey"},
		{"bad_token_uri", adaptors.Channel{Key: with("token_uri", "oauth2.googleapis.com/token")}, "token_uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().TokenRequest(&tt.ch, testNow)
			if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want ErrNoCredentials saying %q", err, tt.want)
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	read := func(name string) []byte { return adaptortest.ReadFile(t, "testdata/token/"+name) }
	tests := []struct {
		name   string
		status int
		body   []byte
		want   adaptors.AccessToken
		err    string // substring of the error, "" for success
		schema *schema.Error
	}{
		{name: "ok", status: 200, body: read("ok.json"),
			want: adaptors.AccessToken{Value: "ya29.c.c0ASRK0GZ8mYq3Vd7tW1xPb9kLr2nHs5uEj6oAi4fTg8wQy3Xe0Uv7Nc1Bm9Rh2Kl5Pz", Expires: testNow.Add(3599 * time.Second)}},
		{name: "no_expiry", status: 200, body: []byte(`{"access_token":"ya29.x","token_type":"Bearer"}`),
			want: adaptors.AccessToken{Value: "ya29.x", Expires: testNow.Add(time.Hour)}},
		{name: "string_expiry_lowercase_type", status: 200, body: []byte(`{"access_token":"ya29.x","expires_in":"120","token_type":"bearer"}`),
			want: adaptors.AccessToken{Value: "ya29.x", Expires: testNow.Add(2 * time.Minute)}},
		{name: "float_expiry", status: 200, body: []byte(`{"access_token":"ya29.x","expires_in":3599.0}`),
			want: adaptors.AccessToken{Value: "ya29.x", Expires: testNow.Add(3599 * time.Second)}},
		{name: "no_token", status: 200, body: []byte(`{"expires_in":3599,"token_type":"Bearer"}`), err: "no access_token"},
		{name: "mac_token", status: 200, body: []byte(`{"access_token":"x","token_type":"mac"}`), err: `token_type "mac"`},
		{name: "html_200", status: 200, body: []byte(`<html>captive portal</html>`), err: "not JSON"},
		{name: "error_in_200", status: 200, body: read("invalid_grant.json"),
			schema: &schema.Error{Status: 400, Message: "vertex: token exchange failed: invalid_grant: Invalid JWT Signature.", Type: "authentication_error", Code: "invalid_grant"}},
		{name: "invalid_grant", status: 400, body: read("invalid_grant.json"),
			schema: &schema.Error{Status: 400, Message: "vertex: token exchange failed: invalid_grant: Invalid JWT Signature.", Type: "authentication_error", Code: "invalid_grant"}},
		{name: "invalid_grant_time", status: 400, body: read("invalid_grant_time.json"),
			schema: &schema.Error{Status: 400, Message: "vertex: token exchange failed: invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.", Type: "authentication_error", Code: "invalid_grant"}},
		{name: "disabled_client", status: 401, body: []byte(`{"error":"invalid_client"}`),
			schema: &schema.Error{Status: 401, Message: "vertex: token exchange failed: invalid_client", Type: "authentication_error", Code: "invalid_client"}},
		{name: "rate_limited", status: 429, body: []byte(`{"error":"rate_limit_exceeded","error_description":"Rate limit exceeded"}`),
			schema: &schema.Error{Status: 429, Message: "vertex: token exchange failed: rate_limit_exceeded: Rate limit exceeded", Type: "rate_limit_error", Code: "rate_limit_exceeded"}},
		{name: "text_503", status: 503, body: []byte("upstream connect error\n"),
			schema: &schema.Error{Status: 503, Message: "vertex: token exchange failed with status 503: upstream connect error", Type: "server_error"}},
		{name: "html_502", status: 502, body: []byte("<html><body>Bad Gateway</body></html>"),
			schema: &schema.Error{Status: 502, Message: "vertex: token exchange failed with status 502", Type: "server_error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().ParseToken(tt.status, tt.body, testNow)
			switch {
			case tt.schema != nil:
				var se *schema.Error
				if !errors.As(err, &se) {
					t.Fatalf("err %v, want a *schema.Error", err)
				}
				if diff := cmp.Diff(tt.schema, se); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, adaptors.ErrInvalidResponse) {
					t.Errorf("err %v, want ErrInvalidResponse saying %q", err, tt.err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestTokenConcurrency: TokenRequest and ParseToken are pure and safe
// for concurrent use (run with -race).
func TestTokenConcurrency(t *testing.T) {
	a := New()
	ch := testChannel(t, nil)
	want, err := a.TokenRequest(&ch, testNow)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			c := ch
			got, err := a.TokenRequest(&c, testNow)
			if err == nil && !bytes.Equal(got.Body, want.Body) {
				err = fmt.Errorf("JWT differs")
			}
			if err == nil {
				_, err = a.ParseToken(200, adaptortest.ReadFile(t, "testdata/token/ok.json"), testNow)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
