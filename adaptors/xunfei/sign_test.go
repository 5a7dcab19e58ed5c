package xunfei

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSignatureSparkExample checks the signature against the worked
// example of iFLYTEK's WebSocket authentication document
// (general_url_authentication.html): APISecret
// MjlmNzkzNmZkMDQ2OTc0ZDdmNGE2ZTZi, date Fri, 05 May 2023 10:43:39 GMT,
// host spark-api.xf-yun.com, GET /v1.1/chat, whose HMAC the document
// prints as the bytes below.
func TestSignatureSparkExample(t *testing.T) {
	want := base64.StdEncoding.EncodeToString([]byte("\xcf\x98\x07v\xed\xe9\xc5Ux\x0032\x93\x8e\xbb\xc0\xe5\x83C\xda\xba\x05\x0c\xd1\xdew\xccN7?\r\xa4"))
	c := credentials{appID: "app", apiSecret: "MjlmNzkzNmZkMDQ2OTc0ZDdmNGE2ZTZi", apiKey: "key"}
	auth := authorization(c, "spark-api.xf-yun.com", "Fri, 05 May 2023 10:43:39 GMT", "GET /v1.1/chat HTTP/1.1")
	origin, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		t.Fatal(err)
	}
	wantOrigin := `api_key="key", algorithm="hmac-sha256", headers="host date request-line", signature="` + want + `"`
	if string(origin) != wantOrigin {
		t.Errorf("authorization_origin\n got %s\nwant %s", origin, wantOrigin)
	}
}

// TestSignatureGatewayExample checks the whole authorization parameter
// against the example of iFLYTEK's gateway documents (the same
// hmac-sha256 signing, shown for a POST): APIKey
// apikeyXXXXXXXXXXXXXXXXXXXXXXXXXX, APISecret
// apisecretXXXXXXXXXXXXXXXXXXXXXXX, date Fri, 23 Apr 2021 02:35:47 GMT,
// host api.xf-yun.com.
func TestSignatureGatewayExample(t *testing.T) {
	c := credentials{appID: "app", apiSecret: "apisecretXXXXXXXXXXXXXXXXXXXXXXX", apiKey: "apikeyXXXXXXXXXXXXXXXXXXXXXXXXXX"}
	got := authorization(c, "api.xf-yun.com", "Fri, 23 Apr 2021 02:35:47 GMT", "POST /v1/private/s782b4996 HTTP/1.1")
	const want = "YXBpX2tleT0iYXBpa2V5WFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFgiLCBhbGdvcml0aG09ImhtYWMtc2hhMjU2IiwgaGVhZGVycz0iaG9zdCBkYXRlIHJlcXVlc3QtbGluZSIsIHNpZ25hdHVyZT0iMWp3UWJJQUttUUU3SndJSDBJRHhpQzFwZWpybE4rVnBIWERXT0ZWeTVOTT0i"
	if got != want {
		t.Errorf("authorization\n got %s\nwant %s", got, want)
	}
}

// TestSignedURL: the URL carries authorization, date and host (in that
// order, URL-encoded); the date is GMT whatever now's zone; the host
// signed and sent is the dialled one, port and base path included.
func TestSignedURL(t *testing.T) {
	c := credentials{appID: "app", apiSecret: "MjlmNzkzNmZkMDQ2OTc0ZDdmNGE2ZTZi", apiKey: "key"}
	now := testNow.In(time.FixedZone("CST", 8*3600))
	tests := []struct {
		e           endpoint
		path        string
		wantDial    string
		requestLine string
	}{
		{defaultEndpoint, "/v1.1/chat", "wss://spark-api.xf-yun.com/v1.1/chat", "GET /v1.1/chat HTTP/1.1"},
		{endpoint{scheme: "ws", host: "127.0.0.1:8080"}, "/chat/max-32k", "ws://127.0.0.1:8080/chat/max-32k", "GET /chat/max-32k HTTP/1.1"},
		{endpoint{scheme: "wss", host: "proxy:8443", prefix: "/xf"}, "/v3.5/chat", "wss://proxy:8443/xf/v3.5/chat", "GET /xf/v3.5/chat HTTP/1.1"},
	}
	for _, tt := range tests {
		got := signedURL(tt.e, tt.path, c, now)
		dial, query, _ := strings.Cut(got, "?")
		if dial != tt.wantDial {
			t.Errorf("dial %q, want %q", dial, tt.wantDial)
		}
		var keys []string
		for _, kv := range strings.Split(query, "&") {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
		if diff := cmp.Diff([]string{"authorization", "date", "host"}, keys); diff != "" {
			t.Errorf("query keys (-want +got):\n%s", diff)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		if q.Get("date") != "Fri, 05 May 2023 10:43:39 GMT" || q.Get("host") != tt.e.host {
			t.Errorf("date %q host %q", q.Get("date"), q.Get("host"))
		}
		if want := authorization(c, tt.e.host, q.Get("date"), tt.requestLine); q.Get("authorization") != want {
			t.Errorf("%s: authorization does not sign %q", got, tt.requestLine)
		}
	}
}
