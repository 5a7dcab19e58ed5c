package vertex

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// Vertex AI authenticates with an OAuth 2.0 access token. The channel
// holds a service-account key (the JSON file the IAM console downloads);
// the adaptor turns it into a self-signed RS256 JWT, which Google's token
// endpoint exchanges for an access token (RFC 7523 jwt-bearer grant,
// https://developers.google.com/identity/protocols/oauth2/service-account#httprest).
// The transport makes the exchange, caches the token and passes it to
// BuildRequest in Channel.AccessToken (see adaptors.TokenExchanger).

// DefaultTokenURI is Google's OAuth 2.0 token endpoint, used when a
// service-account key names no token_uri.
const DefaultTokenURI = "https://oauth2.googleapis.com/token"

// Scope is the OAuth scope asked for: Vertex AI's methods accept the
// cloud-platform scope.
const Scope = "https://www.googleapis.com/auth/cloud-platform"

// jwtBearerGrant is RFC 7523's grant type, form-encoded.
const jwtBearerGrant = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"

// assertionLifetime is the JWT's lifetime: Google accepts at most one
// hour between iat and exp.
const assertionLifetime = time.Hour

// defaultTokenLifetime is assumed for an answer without expires_in:
// Google's access tokens last one hour.
const defaultTokenLifetime = time.Hour

// ErrNoCredentials is wrapped by TokenRequest and BuildRequest when the
// channel holds no usable service-account key: neither the key nor
// Config["vertex_ai_adc"] is a service-account JSON object, or the one
// found lacks client_email or a usable RSA private_key.
var ErrNoCredentials = errors.New("vertex: channel has no usable service account key")

// serviceAccount is the part of a service-account key file the adaptor
// reads ("type": "service_account").
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// credentialsJSON returns the channel's service-account JSON: the key
// when it is a JSON object, else Config["vertex_ai_adc"] (One API's
// field for it), else "".
func credentialsJSON(ch *adaptors.Channel) string {
	if k := strings.TrimSpace(ch.Key); strings.HasPrefix(k, "{") {
		return k
	}
	if adc := strings.TrimSpace(ch.Config[ConfigADC]); strings.HasPrefix(adc, "{") {
		return adc
	}
	return ""
}

// channelServiceAccount parses the channel's service-account key.
func channelServiceAccount(ch *adaptors.Channel) (*serviceAccount, error) {
	raw := credentialsJSON(ch)
	if raw == "" {
		return nil, fmt.Errorf("%w: put the service account JSON key in the channel key or in config %s (API keys of Vertex AI express mode are not supported)", ErrNoCredentials, ConfigADC)
	}
	var sa serviceAccount
	if err := json.Unmarshal([]byte(raw), &sa); err != nil {
		return nil, fmt.Errorf("%w: the key is not a service account JSON: %v", ErrNoCredentials, err)
	}
	if sa.Type != "" && sa.Type != "service_account" {
		return nil, fmt.Errorf("%w: credentials of type %q are not supported, only service_account keys", ErrNoCredentials, sa.Type)
	}
	if sa.ClientEmail == "" || sa.PrivateKey == "" {
		return nil, fmt.Errorf("%w: the service account JSON has no client_email or private_key", ErrNoCredentials)
	}
	return &sa, nil
}

// tokenURI is the key's token_uri (Google's libraries send the
// assertion there and use it as the audience), or DefaultTokenURI.
func (sa *serviceAccount) tokenURI() (string, error) {
	if sa.TokenURI == "" {
		return DefaultTokenURI, nil
	}
	u, err := url.Parse(sa.TokenURI)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%w: token_uri %q is not an http(s) URL", ErrNoCredentials, sa.TokenURI)
	}
	return sa.TokenURI, nil
}

// parsePrivateKey reads the key's PEM private key: PKCS #8 ("BEGIN
// PRIVATE KEY", what Google issues) or PKCS #1 ("BEGIN RSA PRIVATE
// KEY"). A key pasted with literal "\n" sequences instead of line breaks
// is accepted too. The key is parsed on every call: the transport asks
// for a token about once an hour per channel, so a cache would buy
// nothing and would be mutable state in an adaptor.
func parsePrivateKey(text string) (*rsa.PrivateKey, error) {
	if !strings.Contains(text, "\n") && strings.Contains(text, `\n`) {
		text = strings.ReplaceAll(text, `\n`, "\n")
	}
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("%w: private_key is not a PEM block", ErrNoCredentials)
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			if k, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 == nil {
				key, err = k, nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: private_key: %v", ErrNoCredentials, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: private_key is a %T, Google signs service account JWTs with RSA (RS256)", ErrNoCredentials, key)
	}
	return rk, nil
}

// jwtHeader and jwtClaims are the JWT Google's service-account flow
// takes, members in the order its documentation lists them.
type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid,omitempty"`
}

type jwtClaims struct {
	Iss   string `json:"iss"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
}

// signAssertion builds the signed JWT: header {"alg":"RS256","typ":"JWT",
// "kid":private_key_id}, claims {iss: client_email, scope: Scope, aud:
// token endpoint, exp: iat + 1h, iat: now}, signed with RSASSA-PKCS1-v1_5
// SHA-256, each part base64url without padding. The signature is
// deterministic: the same key, audience and now give the same JWT.
func signAssertion(sa *serviceAccount, key *rsa.PrivateKey, aud string, now time.Time) (string, error) {
	h, _ := json.Marshal(jwtHeader{Alg: "RS256", Typ: "JWT", Kid: sa.PrivateKeyID})
	iat := now.Unix()
	c, _ := json.Marshal(jwtClaims{Iss: sa.ClientEmail, Scope: Scope, Aud: aud, Exp: iat + int64(assertionLifetime/time.Second), Iat: iat})
	enc := base64.RawURLEncoding
	b := make([]byte, 0, enc.EncodedLen(len(h))+enc.EncodedLen(len(c))+2+enc.EncodedLen(key.Size()))
	b = enc.AppendEncode(b, h)
	b = append(b, '.')
	b = enc.AppendEncode(b, c)
	digest := sha256.Sum256(b)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("%w: signing the JWT: %v", ErrNoCredentials, err)
	}
	b = append(b, '.')
	b = enc.AppendEncode(b, sig)
	return string(b), nil
}

// TokenRequest implements adaptors.TokenExchanger: POST {token_uri} with
// the form grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and
// assertion=<JWT signed with the service account's key at now>. The
// token endpoint is the key's token_uri (DefaultTokenURI when absent),
// as Google's client libraries do. Errors wrap ErrNoCredentials.
func (a *Adaptor) TokenRequest(ch *adaptors.Channel, now time.Time) (*adaptors.HTTPRequest, error) {
	sa, err := channelServiceAccount(ch)
	if err != nil {
		return nil, err
	}
	uri, err := sa.tokenURI()
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKey(sa.PrivateKey)
	if err != nil {
		return nil, err
	}
	jwt, err := signAssertion(sa, key, uri, now)
	if err != nil {
		return nil, err
	}
	body := make([]byte, 0, len(jwt)+96)
	body = append(body, "grant_type="+jwtBearerGrant+"&assertion="...)
	body = append(body, jwt...) // base64url and '.': nothing to escape
	return &adaptors.HTTPRequest{
		Method: http.MethodPost,
		URL:    uri,
		Header: []adaptors.Header{{Key: "Content-Type", Value: "application/x-www-form-urlencoded"}},
		Body:   body,
	}, nil
}

// tokenAnswer is the token endpoint's JSON: an access token, or an OAuth
// error ({"error":"invalid_grant","error_description":"Invalid JWT
// Signature."}).
type tokenAnswer struct {
	AccessToken      string          `json:"access_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	TokenType        string          `json:"token_type"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// maxTokenErrorText caps the part of a non-JSON token error body quoted.
const maxTokenErrorText = 256

// ParseToken implements adaptors.TokenExchanger. A 2xx answer gives the
// access_token, expiring expires_in seconds after now (an hour when the
// answer names no lifetime); a token_type other than Bearer, or no
// access_token, is an error wrapping adaptors.ErrInvalidResponse. Any
// other status is a *schema.Error with that status whose message carries
// Google's error and error_description ("invalid_grant: Invalid JWT
// Signature."), type authentication_error for the client faults (the
// channel's key is wrong, disabled or deleted), rate_limit_error for 429
// and server_error otherwise, and code the OAuth error code.
func (a *Adaptor) ParseToken(status int, body []byte, now time.Time) (adaptors.AccessToken, error) {
	var t tokenAnswer
	isJSON := openaiwire.IsObject(body) && json.Unmarshal(body, &t) == nil
	if status < 200 || status > 299 {
		return adaptors.AccessToken{}, tokenError(status, body, &t, isJSON)
	}
	if !isJSON {
		return adaptors.AccessToken{}, fmt.Errorf("vertex: %w: token answer is not JSON", adaptors.ErrInvalidResponse)
	}
	if t.Error != "" {
		return adaptors.AccessToken{}, tokenError(http.StatusBadRequest, body, &t, true)
	}
	if t.AccessToken == "" {
		return adaptors.AccessToken{}, fmt.Errorf("vertex: %w: token answer has no access_token", adaptors.ErrInvalidResponse)
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "Bearer") {
		return adaptors.AccessToken{}, fmt.Errorf("vertex: %w: token_type %q is not Bearer", adaptors.ErrInvalidResponse, t.TokenType)
	}
	life := defaultTokenLifetime
	if n, ok := seconds(t.ExpiresIn); ok && n > 0 {
		life = time.Duration(n) * time.Second
	}
	return adaptors.AccessToken{Value: t.AccessToken, Expires: now.Add(life)}, nil
}

// seconds reads expires_in, a number (or, from some proxies, a numeric
// string).
func seconds(raw json.RawMessage) (int64, bool) {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f > 1e9 {
		return 0, false
	}
	return int64(f), true
}

// tokenError maps a failed exchange to the OpenAI error envelope.
func tokenError(status int, body []byte, t *tokenAnswer, isJSON bool) *schema.Error {
	e := &schema.Error{Status: status}
	if t.Error != "" {
		e.Code = t.Error
	}
	switch {
	case t.Error != "" && t.ErrorDescription != "":
		e.Message = "vertex: token exchange failed: " + t.Error + ": " + t.ErrorDescription
	case t.Error != "":
		e.Message = "vertex: token exchange failed: " + t.Error
	case !isJSON && printableText(body):
		e.Message = "vertex: token exchange failed with status " + strconv.Itoa(status) + ": " + capText(string(bytes.TrimSpace(body)), maxTokenErrorText)
	default:
		e.Message = "vertex: token exchange failed with status " + strconv.Itoa(status)
	}
	switch {
	case status == http.StatusTooManyRequests:
		e.Type = "rate_limit_error"
	case status >= 400 && status < 500:
		e.Type = "authentication_error"
	default:
		e.Type = "server_error"
	}
	return e
}
