package baidu

import (
	"bytes"
	"encoding/json"
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

// ERNIE v1 authenticates with an access token that Baidu's OAuth 2.0
// endpoint issues for the application's API Key and Secret Key (client
// credentials grant, https://cloud.baidu.com/doc/WENXINWORKSHOP/s/Ilkkrb0i5):
//
//	POST {base}/oauth/2.0/token?grant_type=client_credentials&client_id=<API Key>&client_secret=<Secret Key>
//	→ {"refresh_token":…,"expires_in":2592000,"session_key":…,
//	   "access_token":"24.6c5e1ff1….2592000.1485516651.282335-8574074",
//	   "scope":…,"session_secret":…}
//
// The token lives 30 days (expires_in 2592000). The transport makes the
// exchange, caches the token per channel and key until 5 minutes before
// it expires, shares one exchange among concurrent requests, and hands
// it to BuildRequest in Channel.AccessToken (adaptors.TokenExchanger);
// BuildRequest puts it in the query as access_token.

// tokenPath is the OAuth endpoint under the base URL.
const tokenPath = "/oauth/2.0/token"

// defaultTokenLifetime is assumed for an answer without expires_in:
// Baidu's access tokens last 30 days.
const defaultTokenLifetime = 30 * 24 * time.Hour

// ErrBadKey is wrapped by TokenRequest when the channel key is not
// "API_KEY|SECRET_KEY" (One API's format for Baidu channels).
var ErrBadKey = errors.New("baidu: channel key must be API_KEY|SECRET_KEY (the application's API Key and Secret Key)")

// SplitKey splits a v1 channel key "API_KEY|SECRET_KEY" into its halves
// (spaces around each trimmed); ok is false when either is missing.
func SplitKey(key string) (apiKey, secretKey string, ok bool) {
	apiKey, secretKey, found := strings.Cut(strings.TrimSpace(key), "|")
	apiKey, secretKey = strings.TrimSpace(apiKey), strings.TrimSpace(secretKey)
	return apiKey, secretKey, found && apiKey != "" && secretKey != ""
}

// baseURL is the channel's base URL without a trailing slash, or
// DefaultBaseURL. It replaces Baidu's host for every call, the token
// exchange included.
func baseURL(ch *adaptors.Channel) string {
	if b := strings.TrimRight(strings.TrimSpace(ch.BaseURL), "/"); b != "" {
		return b
	}
	return DefaultBaseURL
}

// TokenRequest implements adaptors.TokenExchanger: POST
// {base}/oauth/2.0/token with grant_type=client_credentials, client_id
// (the API Key) and client_secret (the Secret Key) in the query and no
// body, as Baidu documents it. A key that is not "API_KEY|SECRET_KEY"
// is an error wrapping ErrBadKey.
func (a *Adaptor) TokenRequest(ch *adaptors.Channel, now time.Time) (*adaptors.HTTPRequest, error) {
	apiKey, secretKey, ok := SplitKey(ch.Key)
	if !ok {
		return nil, ErrBadKey
	}
	base := baseURL(ch)
	var u strings.Builder
	u.Grow(len(base) + len(tokenPath) + len(apiKey) + len(secretKey) + 64)
	u.WriteString(base)
	u.WriteString(tokenPath)
	u.WriteString("?grant_type=client_credentials&client_id=")
	u.WriteString(url.QueryEscape(apiKey))
	u.WriteString("&client_secret=")
	u.WriteString(url.QueryEscape(secretKey))
	return &adaptors.HTTPRequest{
		Method: http.MethodPost,
		URL:    u.String(),
		Header: []adaptors.Header{{Key: "Accept", Value: "application/json"}},
	}, nil
}

// tokenAnswer is the OAuth endpoint's JSON: a token, or an OAuth error
// ({"error":"invalid_client","error_description":"unknown client id"}).
type tokenAnswer struct {
	AccessToken      string          `json:"access_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	ErrorCode        int             `json:"error_code"`
	ErrorMsg         string          `json:"error_msg"`
}

// maxTokenErrorText caps the part of a non-JSON token error body quoted.
const maxTokenErrorText = 256

// ParseToken implements adaptors.TokenExchanger. A 2xx answer with an
// access_token gives that token, expiring expires_in seconds after now
// (30 days when the answer names no lifetime). A refusal — any non-2xx
// status, or an OAuth error in a 2xx body — is a *schema.Error whose
// message carries Baidu's error and description ("invalid_client:
// unknown client id", "invalid_client: Client authentication failed")
// with type authentication_error: the channel's key is wrong. A 2xx
// answer without either is an error wrapping adaptors.ErrInvalidResponse.
func (a *Adaptor) ParseToken(status int, body []byte, now time.Time) (adaptors.AccessToken, error) {
	var t tokenAnswer
	isJSON := openaiwire.IsObject(body) && json.Unmarshal(body, &t) == nil
	switch {
	case status < 200 || status > 299:
		return adaptors.AccessToken{}, tokenError(status, body, &t, isJSON)
	case !isJSON:
		return adaptors.AccessToken{}, fmt.Errorf("baidu: %w: token answer is not JSON", adaptors.ErrInvalidResponse)
	case t.Error != "" || t.ErrorCode != 0:
		// A refusal under a 2xx status: a credential problem all the same.
		return adaptors.AccessToken{}, tokenError(http.StatusUnauthorized, body, &t, true)
	case t.AccessToken == "":
		return adaptors.AccessToken{}, fmt.Errorf("baidu: %w: token answer has no access_token", adaptors.ErrInvalidResponse)
	}
	life := defaultTokenLifetime
	if n, ok := seconds(t.ExpiresIn); ok && n > 0 {
		life = time.Duration(n) * time.Second
	}
	return adaptors.AccessToken{Value: t.AccessToken, Expires: now.Add(life)}, nil
}

// seconds reads expires_in: a number, or from some proxies a numeric
// string.
func seconds(raw json.RawMessage) (int64, bool) {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, n < 1<<40
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || f > 1<<40 {
		return 0, false
	}
	return int64(f), true
}

// tokenError maps a failed exchange to the OpenAI envelope: 429 stays a
// rate limit, 5xx a server error, anything else is the channel's
// credentials (authentication_error).
func tokenError(status int, body []byte, t *tokenAnswer, isJSON bool) *schema.Error {
	e := &schema.Error{Status: status}
	switch {
	case t.Error != "":
		e.Code = t.Error
		e.Message = "baidu: token exchange failed: " + t.Error
		if t.ErrorDescription != "" {
			e.Message += ": " + t.ErrorDescription
		}
	case t.ErrorCode != 0:
		e.Code = t.ErrorCode
		e.Message = "baidu: token exchange failed: " + t.ErrorMsg
	case !isJSON && openaiwire.PlainText(body) != "":
		e.Message = "baidu: token exchange failed with status " + strconv.Itoa(status) + ": " + capText(openaiwire.PlainText(body), maxTokenErrorText)
	default:
		e.Message = "baidu: token exchange failed with status " + strconv.Itoa(status)
	}
	switch {
	case status == http.StatusTooManyRequests:
		e.Type = typeRateLimit
	case status >= 500:
		e.Type = typeServer
	default:
		e.Type = typeAuthentication
	}
	return e
}

// capText cuts s to at most n bytes on a rune boundary.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
