package tencent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// refAuthorization is a reference TC3 signer written the way Tencent's
// own code writes it — tencentcloud-sdk-go's Client.sendWithSignatureV3
// (tencentcloud/common/client.go) with its sha256hex and hmacsha256
// helpers (tencentcloud/common/sign.go), and signature-process-demo's
// signature-v3/golang/demo.go for the x-tc-action header — with
// crypto/hmac and fmt, so that the stack-based signer is checked against
// something that shares none of its code. action "" signs content-type
// and host only, as the SDK does.
func refAuthorization(secretID, secretKey, host, contentType, action, service string, timestamp int64, body []byte) string {
	sha256hex := func(s string) string {
		b := sha256.Sum256([]byte(s))
		return hex.EncodeToString(b[:])
	}
	hmacsha256 := func(s, key string) string {
		h := hmac.New(sha256.New, []byte(key))
		h.Write([]byte(s))
		return string(h.Sum(nil))
	}
	canonicalHeaders := fmt.Sprintf("content-type:%s\nhost:%s\n", contentType, host)
	signedHeaders := "content-type;host"
	if action != "" {
		canonicalHeaders += fmt.Sprintf("x-tc-action:%s\n", strings.ToLower(action))
		signedHeaders += ";x-tc-action"
	}
	canonicalRequest := fmt.Sprintf("%s\n%s\n%s\n%s\n%s\n%s", "POST", "/", "", canonicalHeaders, signedHeaders, sha256hex(string(body)))
	date := time.Unix(timestamp, 0).UTC().Format("2006-01-02")
	credentialScope := fmt.Sprintf("%s/%s/tc3_request", date, service)
	string2sign := fmt.Sprintf("%s\n%d\n%s\n%s", "TC3-HMAC-SHA256", timestamp, credentialScope, sha256hex(canonicalRequest))
	secretDate := hmacsha256(date, "TC3"+secretKey)
	secretService := hmacsha256(service, secretDate)
	secretSigning := hmacsha256("tc3_request", secretService)
	signature := hex.EncodeToString([]byte(hmacsha256(string2sign, secretSigning)))
	return fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", "TC3-HMAC-SHA256", secretID, credentialScope, signedHeaders, signature)
}

// docPayload is the body of the worked example in Tencent's signature v3
// documentation (CVM DescribeInstances).
const docPayload = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`

// TestSignDocumentedExamples reproduces the signatures Tencent publishes in
// its signature v3 documentation, byte for byte: with the EXAMPLE keys
// (Signature 72e494ea…) and with the masked keys of the current page
// (Signature 2230eefd…), both over content-type;host, timestamp
// 1551113065 (the date in the scope is 2019-02-25 UTC, not the 26th of
// Beijing time).
func TestSignDocumentedExamples(t *testing.T) {
	tests := []struct {
		id, key, want string
	}{
		{"AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
			"TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, " +
				"Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"},
		{"AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******",
			"TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, " +
				"Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"},
	}
	for _, tt := range tests {
		got := SignTC3ContentHost(tt.id, tt.key, "cvm.tencentcloudapi.com", "application/json; charset=utf-8", "cvm", 1551113065, []byte(docPayload))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("(-documented +got):\n%s", diff)
		}
	}
}

// Fixed inputs of the Hunyuan signatures below (the lead cross-checks the
// same inputs against tencentcloud-sdk-go).
const (
	xSecretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
	xSecretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	xHost      = "hunyuan.tencentcloudapi.com"
	xTimestamp = 1735689600 // 2025-01-01T00:00:00Z
	xBody      = `{"Model":"hunyuan-turbos-latest","Messages":[{"Role":"user","Content":"你好"}],"Stream":false}`
)

// TestSignHunyuanFixed pins the Authorization values of fixed Hunyuan
// inputs, derived by the reference signer written after the SDK's code:
// the wire form (content-type;host;x-tc-action) for both actions, and the
// SDK's form (content-type;host).
func TestSignHunyuanFixed(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"ChatCompletions", SignTC3(xSecretID, xSecretKey, xHost, "ChatCompletions", "hunyuan", xTimestamp, []byte(xBody)),
			"TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2025-01-01/hunyuan/tc3_request, " +
				"SignedHeaders=content-type;host;x-tc-action, Signature=" + sigChat},
		{"GetEmbedding", SignTC3(xSecretID, xSecretKey, xHost, "GetEmbedding", "hunyuan", xTimestamp, []byte(`{"Input":"你好"}`)),
			"TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2025-01-01/hunyuan/tc3_request, " +
				"SignedHeaders=content-type;host;x-tc-action, Signature=" + sigEmbed},
		{"SDK form", SignTC3ContentHost(xSecretID, xSecretKey, xHost, "application/json", "hunyuan", xTimestamp, []byte(xBody)),
			"TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2025-01-01/hunyuan/tc3_request, " +
				"SignedHeaders=content-type;host, Signature=" + sigSDK},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if got, want := SignTC3(xSecretID, xSecretKey, xHost, "ChatCompletions", "hunyuan", xTimestamp, []byte(xBody)),
		refAuthorization(xSecretID, xSecretKey, xHost, "application/json", "ChatCompletions", "hunyuan", xTimestamp, []byte(xBody)); got != want {
		t.Errorf("wire form differs from the reference:\n%s\n%s", got, want)
	}
	if got, want := SignTC3ContentHost(xSecretID, xSecretKey, xHost, "application/json", "hunyuan", xTimestamp, []byte(xBody)),
		refAuthorization(xSecretID, xSecretKey, xHost, "application/json", "", "hunyuan", xTimestamp, []byte(xBody)); got != want {
		t.Errorf("SDK form differs from the reference:\n%s\n%s", got, want)
	}
}

// The pinned signatures of TestSignHunyuanFixed (also computed by an
// independent Python implementation of the documented algorithm).
const (
	sigChat  = "e95f3a7fd31401ce8351a89c4bf1f8e3c6fa97e92b8af13b9ea6457c735b97cc"
	sigEmbed = "0e8b46abbb9b2e615e56006282c4743b3978dc2f8d843fdaf80b6cc4bdc3e6a7"
	sigSDK   = "3359f0675d2ceb08f9198216fcc793bdcc97c2e67e539b01af01ba6a0615aab7"
)

// TestSignMatchesReference compares the signer with the reference over
// random inputs: hosts with ports and capitals, long keys (HMAC keys over
// one block are hashed first), empty and large bodies, dates around
// midnight UTC.
func TestSignMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	str := func(n int) string {
		const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_.:"
		b := make([]byte, n)
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		return string(b)
	}
	for i := range 500 {
		id, key := str(1+rng.IntN(40)), str(rng.IntN(100))
		host := str(1 + rng.IntN(300))
		action := []string{"ChatCompletions", "GetEmbedding", "", str(1 + rng.IntN(20))}[i%4]
		service := []string{"hunyuan", str(1 + rng.IntN(20))}[i%2]
		ts := rng.Int64N(4102444800)
		body := make([]byte, rng.IntN(5000))
		for j := range body {
			body[j] = byte(rng.UintN(256))
		}
		want := refAuthorization(id, key, strings.ToLower(host), "application/json", action, service, ts, body)
		var got string
		if action == "" {
			got = SignTC3ContentHost(id, key, host, "application/json", service, ts, body)
		} else {
			got = SignTC3(id, key, host, action, service, ts, body)
		}
		if got != want {
			t.Fatalf("case %d differs:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestHMACMatchesCryptoHMAC(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 31, 32, 63, 64, 65, 100, 200, 1000} {
		for _, m := range []int{0, 1, 100, 191, 192, 193, 1000} {
			key, msg := make([]byte, n), make([]byte, m)
			for i := range key {
				key[i] = byte(rng.UintN(256))
			}
			for i := range msg {
				msg[i] = byte(rng.UintN(256))
			}
			h := hmac.New(sha256.New, key)
			h.Write(msg)
			got := hmacSHA256(key, msg)
			if !hmac.Equal(got[:], h.Sum(nil)) {
				t.Fatalf("key %d bytes, msg %d bytes: differs", n, m)
			}
		}
	}
}

func TestAuthorizationLen(t *testing.T) {
	for _, id := range []string{"", "a", strings.Repeat("x", 100)} {
		got := SignTC3(id, "k", "h", "ChatCompletions", "hunyuan", xTimestamp, nil)
		if n := authorizationLen(id, "hunyuan"); len(got) > n {
			t.Errorf("%d bytes, bound %d", len(got), n)
		}
	}
}
