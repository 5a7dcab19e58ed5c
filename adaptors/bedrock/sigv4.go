package bedrock

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"switchyard/adaptors"
)

// AWS Signature Version 4, as the AWS SDK for Go v2 (aws/signer/v4)
// computes it for a plain, non-presigned HTTP request:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
//
//	CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
//	                   CanonicalHeaders \n SignedHeaders \n hex(SHA256(payload))
//	StringToSign     = "AWS4-HMAC-SHA256" \n X-Amz-Date \n Scope \n hex(SHA256(CanonicalRequest))
//	Scope            = yyyymmdd/region/service/aws4_request
//	SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, yyyymmdd), region), service), "aws4_request")
//	Signature        = hex(HMAC(SigningKey, StringToSign))
//
// As in the SDK: the canonical URI is the request's escaped path escaped
// once more (every service but S3; the model id "…-v1:0" travels as
// "…-v1%3A0" and is signed as "…-v1%253A0"); the signed headers are host,
// content-length (when the body is not empty), every header the request
// carries except Authorization, User-Agent, X-Amzn-Trace-Id, Expect and
// Transfer-Encoding, X-Amz-Date and, with temporary credentials,
// X-Amz-Security-Token; header values are trimmed with inner runs of
// spaces collapsed. Bedrock does not need X-Amz-Content-Sha256 and the SDK
// does not send it.

const (
	sigAlgorithm  = "AWS4-HMAC-SHA256"
	amzDateLayout = "20060102T150405Z"
)

// credentials are an AWS access key pair, with the session token of
// temporary (STS) credentials.
type credentials struct {
	AccessKey    string
	SecretKey    string
	SessionToken string
}

// signRequest describes what a signature covers.
type signRequest struct {
	Method string
	// Host is the Host header value: the URL's host, with the port
	// dropped when it is the scheme's default (as the SDK does).
	Host string
	// Path is the request's path exactly as sent (already escaped).
	Path string
	// Query is the canonical query string ("" for none).
	Query string
	// Header holds the request's headers other than the ones the signer
	// adds (host, content-length, x-amz-date, x-amz-security-token).
	Header  []adaptors.Header
	Body    []byte
	Service string
	Region  string
	Time    time.Time
}

// signedHeader is one header of the canonical request.
type signedHeader struct {
	name  string // lower case
	value string
}

// maxSigned is how many signed headers fit the signer's stack array; more
// (never the case for Bedrock requests) spill to the heap.
const maxSigned = 10

// sign appends to dst the headers the signature adds: X-Amz-Date,
// X-Amz-Security-Token for temporary credentials, and Authorization.
func sign(dst []adaptors.Header, r *signRequest, c *credentials) []adaptors.Header {
	t := r.Time.UTC()
	var dateBuf [16]byte
	amzDate := string(t.AppendFormat(dateBuf[:0], amzDateLayout))
	day := amzDate[:8]

	var arr [maxSigned]signedHeader
	hs := arr[:0]
	hs = append(hs, signedHeader{"host", r.Host})
	if len(r.Body) > 0 {
		hs = append(hs, signedHeader{"content-length", strconv.Itoa(len(r.Body))})
	}
	hs = append(hs, signedHeader{"x-amz-date", amzDate})
	if c.SessionToken != "" {
		hs = append(hs, signedHeader{"x-amz-security-token", c.SessionToken})
	}
	for _, h := range r.Header {
		name := lowerASCII(h.Key)
		if ignoredHeader(name) {
			continue
		}
		hs = append(hs, signedHeader{name, h.Value})
	}
	sortHeaders(hs)

	// The canonical request, hashed.
	buf := make([]byte, 0, 384+len(r.Path)+len(c.SessionToken))
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	buf = appendURIPath(buf, r.Path)
	buf = append(buf, '\n')
	buf = append(buf, r.Query...)
	buf = append(buf, '\n')
	for i := 0; i < len(hs); i++ {
		buf = append(buf, hs[i].name...)
		buf = append(buf, ':')
		buf = appendHeaderValue(buf, hs[i].value)
		// Repeated names are one canonical header, values joined by ','.
		for i+1 < len(hs) && hs[i+1].name == hs[i].name {
			i++
			buf = append(buf, ',')
			buf = appendHeaderValue(buf, hs[i].value)
		}
		buf = append(buf, '\n')
	}
	buf = append(buf, '\n')
	signedStart := len(buf)
	for i := range hs {
		if i > 0 && hs[i].name == hs[i-1].name {
			continue
		}
		if len(buf) > signedStart {
			buf = append(buf, ';')
		}
		buf = append(buf, hs[i].name...)
	}
	signedEnd := len(buf)
	buf = append(buf, '\n')
	payload := sha256.Sum256(r.Body)
	buf = hex.AppendEncode(buf, payload[:])
	canonical := sha256.Sum256(buf)

	// The Authorization value is built after the canonical request in
	// the same buffer: credential and signed headers first, the string to
	// sign (scratch) after them, the signature last.
	auth := len(buf)
	buf = append(buf, sigAlgorithm+" Credential="...)
	buf = append(buf, c.AccessKey...)
	buf = append(buf, '/')
	scopeStart := len(buf)
	buf = append(buf, day...)
	buf = append(buf, '/')
	buf = append(buf, r.Region...)
	buf = append(buf, '/')
	buf = append(buf, r.Service...)
	buf = append(buf, "/aws4_request"...)
	scopeEnd := len(buf)
	buf = append(buf, ", SignedHeaders="...)
	buf = append(buf, buf[signedStart:signedEnd]...)
	buf = append(buf, ", Signature="...)
	authEnd := len(buf)

	sts := len(buf)
	buf = append(buf, sigAlgorithm+"\n"...)
	buf = append(buf, amzDate...)
	buf = append(buf, '\n')
	buf = append(buf, buf[scopeStart:scopeEnd]...)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, canonical[:])
	stringToSign := buf[sts:]

	var h hmacSHA256
	key := h.sum([]byte("AWS4"+c.SecretKey), []byte(day))
	key = h.sum(key[:], []byte(r.Region))
	key = h.sum(key[:], []byte(r.Service))
	key = h.sum(key[:], []byte("aws4_request"))
	sig := h.sum(key[:], stringToSign)

	buf = hex.AppendEncode(buf[:authEnd], sig[:])
	dst = append(dst, adaptors.Header{Key: "X-Amz-Date", Value: amzDate})
	if c.SessionToken != "" {
		dst = append(dst, adaptors.Header{Key: "X-Amz-Security-Token", Value: c.SessionToken})
	}
	return append(dst, adaptors.Header{Key: "Authorization", Value: string(buf[auth:])})
}

// ignoredHeader reports whether the SDK leaves a (lower-case) header out
// of the signature: proxies and clients may change these in flight. The
// signer adds host, content-length, x-amz-date and x-amz-security-token
// itself, so a caller's copies of those are ignored too.
func ignoredHeader(name string) bool {
	switch name {
	case "authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding",
		"host", "content-length", "x-amz-date", "x-amz-security-token":
		return true
	}
	return false
}

// sortHeaders sorts by name, stably (insertion sort: a handful of
// headers, no allocation).
func sortHeaders(hs []signedHeader) {
	for i := 1; i < len(hs); i++ {
		for j := i; j > 0 && hs[j].name < hs[j-1].name; j-- {
			hs[j], hs[j-1] = hs[j-1], hs[j]
		}
	}
}

// lowerASCII returns s in lower case, without allocating when it already
// is.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// appendHeaderValue appends v trimmed of surrounding spaces with every
// inner run of spaces collapsed to one, as the SDK canonicalises values.
func appendHeaderValue(dst []byte, v string) []byte {
	i, j := 0, len(v)
	for i < j && v[i] == ' ' {
		i++
	}
	for j > i && v[j-1] == ' ' {
		j--
	}
	space := false
	for k := i; k < j; k++ {
		c := v[k]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// unreserved reports whether c is left as is by AWS URI encoding
// (RFC 3986 unreserved characters).
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// appendURIPath appends path with every byte but unreserved ones and '/'
// percent-encoded (upper-case hex): the canonical URI of an escaped path.
func appendURIPath(dst []byte, path string) []byte {
	if path == "" {
		return append(dst, '/')
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if unreserved(c) || c == '/' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

// appendPathSegment appends s escaped as one path segment: every byte but
// unreserved ones percent-encoded, '/' and ':' included. This is how the
// SDK puts a model id (or an inference-profile ARN) in the URI.
func appendPathSegment(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

// hmacSHA256 computes HMAC-SHA256 (RFC 2104) with sha256.Sum256 over a
// reused scratch buffer, so deriving the signing key allocates nothing.
type hmacSHA256 struct {
	scratch [64 + 256]byte
}

func (h *hmacSHA256) sum(key, msg []byte) [sha256.Size]byte {
	var k [64]byte
	if len(key) > len(k) {
		s := sha256.Sum256(key)
		copy(k[:], s[:])
	} else {
		copy(k[:], key)
	}
	b := h.scratch[:0]
	for _, c := range k {
		b = append(b, c^0x36)
	}
	b = append(b, msg...)
	inner := sha256.Sum256(b)
	b = b[:0]
	for _, c := range k {
		b = append(b, c^0x5c)
	}
	b = append(b, inner[:]...)
	return sha256.Sum256(b)
}
