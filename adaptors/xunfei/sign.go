package xunfei

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// credentials are the three parts of a channel key.
type credentials struct {
	appID, apiSecret, apiKey string
}

// errKey reports a channel key that is not APPID|APISecret|APIKey. It is
// the channel's misconfiguration, not the client's.
var errKey = errors.New("xunfei: channel key must be APPID|APISecret|APIKey")

// parseKey splits a channel key in One API's order, APPID|APISecret|APIKey
// (the three values of the application in iFLYTEK's console). Spaces
// around a part are dropped.
func parseKey(key string) (credentials, error) {
	parts := strings.Split(key, "|")
	if len(parts) != 3 {
		return credentials{}, errKey
	}
	c := credentials{
		appID:     strings.TrimSpace(parts[0]),
		apiSecret: strings.TrimSpace(parts[1]),
		apiKey:    strings.TrimSpace(parts[2]),
	}
	if c.appID == "" || c.apiSecret == "" || c.apiKey == "" {
		return credentials{}, errKey
	}
	return c, nil
}

// endpoint is where a channel's calls go: scheme (ws or wss), host
// (with the port when the base URL has one) and a path prefix (empty for
// iFLYTEK's own host).
type endpoint struct {
	scheme, host, prefix string
}

// defaultEndpoint is iFLYTEK's host (DefaultBaseURL).
var defaultEndpoint = endpoint{scheme: "wss", host: "spark-api.xf-yun.com"}

// parseBaseURL reads a channel's base_url: ws://host[:port] or
// wss://host[:port], which replaces iFLYTEK's host. http and https are
// taken for ws and wss (One API's channel form showed Xunfei's base URL
// as https://spark-api.xf-yun.com). A path is kept as a prefix of the
// model's path, and signed with it. Empty means DefaultBaseURL.
func parseBaseURL(base string) (endpoint, error) {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if base == "" {
		return defaultEndpoint, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return endpoint{}, fmt.Errorf("xunfei: base url %q: %v", base, err)
	}
	e := endpoint{host: u.Host, prefix: u.EscapedPath()}
	switch strings.ToLower(u.Scheme) {
	case "wss", "https":
		e.scheme = "wss"
	case "ws", "http":
		e.scheme = "ws"
	default:
		return endpoint{}, fmt.Errorf("xunfei: base url %q: scheme must be ws:// or wss://", base)
	}
	if e.host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return endpoint{}, fmt.Errorf("xunfei: base url %q must be ws[s]://host[:port]", base)
	}
	return e, nil
}

// signedURL returns the URL to dial for path on e, signed as iFLYTEK's
// WebSocket authentication document describes
// (https://www.xfyun.cn/doc/spark/general_url_authentication.html):
//
//	signature_origin     = "host: {host}\ndate: {date}\nGET {path} HTTP/1.1"
//	signature            = base64(HMAC-SHA256(APISecret, signature_origin))
//	authorization_origin = `api_key="{APIKey}", algorithm="hmac-sha256", headers="host date request-line", signature="{signature}"`
//	authorization        = base64(authorization_origin)
//
// and the URL carries authorization, date and host as query parameters
// (URL-encoded, in that order, as url.Values encodes them). date is now
// in RFC 1123 form, always GMT; iFLYTEK's gateway refuses a date more
// than 300 s off its clock. host is the host actually dialled, port
// included when the base URL has one: it is what the Host header of the
// upgrade request carries, and iFLYTEK's SDKs sign the URL's host the
// same way (urlparse(...).netloc).
func signedURL(e endpoint, path string, c credentials, now time.Time) string {
	date := now.UTC().Format(http.TimeFormat)
	full := e.prefix + path
	q := url.Values{
		"authorization": {authorization(c, e.host, date, "GET "+full+" HTTP/1.1")},
		"date":          {date},
		"host":          {e.host},
	}
	return e.scheme + "://" + e.host + full + "?" + q.Encode()
}

// authorization is the signed authorization parameter for a request line
// on host at date.
func authorization(c credentials, host, date, requestLine string) string {
	mac := hmac.New(sha256.New, []byte(c.apiSecret))
	mac.Write([]byte("host: " + host + "\ndate: " + date + "\n" + requestLine))
	signature := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	origin := `api_key="` + c.apiKey + `", algorithm="hmac-sha256", headers="host date request-line", signature="` + signature + `"`
	return base64.StdEncoding.EncodeToString([]byte(origin))
}
