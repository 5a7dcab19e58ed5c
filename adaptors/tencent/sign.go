package tencent

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// TC3-HMAC-SHA256, Tencent Cloud API 3.0's signature v3
// (https://cloud.tencent.com/document/api/1729/101843), for a POST of a
// JSON body to "/":
//
//	CanonicalRequest = "POST\n/\n\n" + CanonicalHeaders + "\n" + SignedHeaders + "\n" + hex(SHA256(body))
//	CanonicalHeaders = "content-type:application/json\nhost:<host>\nx-tc-action:<action>\n"
//	SignedHeaders    = "content-type;host;x-tc-action"
//	StringToSign     = "TC3-HMAC-SHA256\n" + Timestamp + "\n" + Date + "/" + Service + "/tc3_request\n" + hex(SHA256(CanonicalRequest))
//	SecretSigning    = HMAC(HMAC(HMAC("TC3"+SecretKey, Date), Service), "tc3_request")
//	Signature        = hex(HMAC(SecretSigning, StringToSign))
//	Authorization    = "TC3-HMAC-SHA256 Credential=" + SecretId + "/" + Date + "/" + Service + "/tc3_request, SignedHeaders=" + SignedHeaders + ", Signature=" + Signature
//
// Date is the UTC date (2006-01-02) of Timestamp, the Unix time sent in
// X-TC-Timestamp; header names and values are lower-cased in the
// canonical form, as the documentation requires. content-type and host
// are the headers the documentation makes mandatory; x-tc-action is
// signed too, as in the documentation's current worked example and
// Tencent's signature-process-demo, so that a signature for one action
// cannot be replayed against another. (tencentcloud-sdk-go signs only
// content-type;host — SignTC3ContentHost computes that form, which is the
// one to compare with the SDK.)

const (
	tc3Algorithm = "TC3-HMAC-SHA256"
	tc3Terminal  = "tc3_request"
	contentJSON  = "application/json"
)

// SignTC3 returns the Authorization header value the adaptor sends: a
// TC3-HMAC-SHA256 signature over a POST to "/" of body with Content-Type
// application/json, signing the headers content-type, host and
// x-tc-action. host is the Host header as sent (lower-cased in the
// canonical form), action the X-TC-Action value (e.g. ChatCompletions),
// service the product name of the credential scope ("hunyuan"), and
// timestamp the X-TC-Timestamp value. Exported so that tests in other
// modules can compare it with other implementations. Pure and safe for
// concurrent use.
func SignTC3(secretID, secretKey, host, action, service string, timestamp int64, body []byte) string {
	return string(appendAuthorization(nil, &tc3Request{
		secretID: secretID, secretKey: secretKey, host: host, action: action,
		contentType: contentJSON, service: service, timestamp: timestamp, body: body,
	}))
}

// SignTC3ContentHost returns a TC3-HMAC-SHA256 Authorization header value
// that signs only the two mandatory headers, content-type (whose value is
// contentType) and host: the form tencentcloud-sdk-go's
// Client.sendWithSignatureV3 produces and the documentation's original
// worked example shows. The adaptor does not send this form; it exists so
// that the signer can be compared byte for byte with the SDK and the
// published example. Pure and safe for concurrent use.
func SignTC3ContentHost(secretID, secretKey, host, contentType, service string, timestamp int64, body []byte) string {
	return string(appendAuthorization(nil, &tc3Request{
		secretID: secretID, secretKey: secretKey, host: host,
		contentType: contentType, service: service, timestamp: timestamp, body: body,
	}))
}

// tc3Request is what a signature covers.
type tc3Request struct {
	secretID, secretKey string
	host                string
	// action is signed as x-tc-action when non-empty; empty signs only
	// content-type and host.
	action      string
	contentType string
	service     string
	timestamp   int64
	body        []byte
}

// Sizes of the stack buffers; longer inputs (a very long host) spill to
// the heap and still sign correctly.
const (
	canonicalBuf = 384
	scopeBuf     = 96
)

// appendAuthorization appends the Authorization header value for r to
// dst. Besides dst's growth it allocates nothing: the canonical request,
// the string to sign and every HMAC live on the stack.
func appendAuthorization(dst []byte, r *tc3Request) []byte {
	var dateBuf [16]byte
	date := time.Unix(r.timestamp, 0).UTC().AppendFormat(dateBuf[:0], "2006-01-02")

	// The credential scope: date/service/tc3_request.
	var scopeArr [scopeBuf]byte
	scope := append(scopeArr[:0], date...)
	scope = append(scope, '/')
	scope = append(scope, r.service...)
	scope = append(scope, '/')
	scope = append(scope, tc3Terminal...)

	signed := "content-type;host"
	if r.action != "" {
		signed = "content-type;host;x-tc-action"
	}

	// The canonical request, hashed.
	var canArr [canonicalBuf]byte
	c := append(canArr[:0], "POST\n/\n\ncontent-type:"...)
	c = appendLower(c, r.contentType)
	c = append(c, "\nhost:"...)
	c = appendLower(c, r.host)
	c = append(c, '\n')
	if r.action != "" {
		c = append(c, "x-tc-action:"...)
		c = appendLower(c, r.action)
		c = append(c, '\n')
	}
	c = append(c, '\n')
	c = append(c, signed...)
	c = append(c, '\n')
	bodySum := sha256.Sum256(r.body)
	c = hex.AppendEncode(c, bodySum[:])
	canonicalSum := sha256.Sum256(c)

	// The string to sign; canArr is free again.
	s := append(canArr[:0], tc3Algorithm+"\n"...)
	s = strconv.AppendInt(s, r.timestamp, 10)
	s = append(s, '\n')
	s = append(s, scope...)
	s = append(s, '\n')
	s = hex.AppendEncode(s, canonicalSum[:])

	// The signing key: HMAC chain over date, service, "tc3_request".
	var keyArr [3 + 64]byte
	k := append(keyArr[:0], "TC3"...)
	k = append(k, r.secretKey...)
	kDate := hmacSHA256(k, date)
	clear(keyArr[:]) // the secret is not left on the stack longer than needed
	kService := hmacSHA256(kDate[:], []byte(r.service))
	kSigning := hmacSHA256(kService[:], []byte(tc3Terminal))
	sig := hmacSHA256(kSigning[:], s)

	dst = append(dst, tc3Algorithm+" Credential="...)
	dst = append(dst, r.secretID...)
	dst = append(dst, '/')
	dst = append(dst, scope...)
	dst = append(dst, ", SignedHeaders="...)
	dst = append(dst, signed...)
	dst = append(dst, ", Signature="...)
	return hex.AppendEncode(dst, sig[:])
}

// authorizationLen is an upper bound of the Authorization value's length
// for the given inputs, so callers can size a buffer once.
func authorizationLen(secretID, service string) int {
	return len(tc3Algorithm) + len(" Credential=") + len(secretID) + 1 + 10 + 1 + len(service) + 1 + len(tc3Terminal) +
		len(", SignedHeaders=content-type;host;x-tc-action, Signature=") + 64
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) computed on the stack: crypto/hmac
// allocates its two hash states on every call, four times per signature.
// The tests compare it with crypto/hmac.
func hmacSHA256(key, msg []byte) [sha256.Size]byte {
	const block = 64
	var k [block]byte
	if len(key) > block {
		sum := sha256.Sum256(key)
		copy(k[:], sum[:])
	} else {
		copy(k[:], key)
	}
	var innerArr [block + 192]byte
	in := innerArr[:block]
	for i := range k {
		in[i] = k[i] ^ 0x36
	}
	in = append(in, msg...)
	inner := sha256.Sum256(in)
	var outer [block + sha256.Size]byte
	for i := range k {
		outer[i] = k[i] ^ 0x5c
	}
	copy(outer[block:], inner[:])
	clear(k[:])
	clear(innerArr[:block])
	return sha256.Sum256(outer[:])
}

// appendLower appends s with ASCII letters lower-cased.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
