// Package bedrocktest is a mock Amazon Bedrock Runtime for tests: an
// httptest server on 127.0.0.1 that authenticates requests like the real
// service — it verifies AWS Signature Version 4 by recomputing it with
// the AWS SDK's signer, or accepts a Bedrock API key as a bearer token —
// validates InvokeModel (Anthropic Claude Messages) and Converse bodies,
// and answers them in Bedrock's wire format, streams included (AWS
// event-stream frames with correct CRCs). It also serves the control
// plane's ListFoundationModels. It is used by tests only.
package bedrocktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"switchyard/adaptors"
)

// Server is a mock Bedrock that checks auth and the request like the
// real one. Safe for concurrent use.
type Server struct {
	// URL is the endpoint to put in the channel's base_url.
	URL string
	// The credentials the server accepts: an access key pair for region
	// (with SessionToken when set, as for temporary credentials), and
	// APIKey as a bearer token when set.
	AccessKey    string
	SecretKey    string
	SessionToken string
	Region       string
	APIKey       string

	now func() time.Time

	mu         sync.Mutex
	requests   int
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// Option configures a Server.
type Option func(*Server)

// WithAPIKey makes the server also accept "Authorization: Bearer key" (a
// Bedrock API key).
func WithAPIKey(key string) Option { return func(s *Server) { s.APIKey = key } }

// WithSessionToken makes the access key temporary: requests must carry
// the token in X-Amz-Security-Token, signed.
func WithSessionToken(token string) Option { return func(s *Server) { s.SessionToken = token } }

// WithClock sets the clock signatures are checked against (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// NewServer starts a mock Bedrock in region accepting the access key
// pair. It is closed by t.Cleanup.
func NewServer(t testing.TB, accessKey, secretKey, region string, opts ...Option) *Server {
	s := &Server{AccessKey: accessKey, SecretKey: secretKey, Region: region, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns the number of requests answered so far (any status).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastRequest returns the last request's path as sent (escaped, with its
// query string), its headers and its body.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), slices.Clone(s.lastBody)
}

// TextUsage is the usage of every text answer, in OpenAI terms: 25
// prompt tokens (12 uncached, 8 read from the prompt cache, 5 written to
// it) and 9 completion tokens. Converse and Claude answers report the
// same counts in their own terms.
func (s *Server) TextUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: 25, CompletionTokens: 9, TotalTokens: 34, CachedTokens: 8, CacheWriteTokens: 5}
}

// ToolUsage is the usage of every tool-call answer: 64 prompt tokens (40
// uncached, 24 read from the cache) and 18 completion tokens.
func (s *Server) ToolUsage() adaptors.Usage {
	return adaptors.Usage{PromptTokens: 64, CompletionTokens: 18, TotalTokens: 82, CachedTokens: 24}
}

// Bedrock's own error messages.
const (
	msgBadSignature = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgBadToken  = "The security token included in the request is invalid."
	msgNoAuth    = "Missing Authentication Token"
	msgBadAPIKey = "Authentication failed: Please make sure your API Key is valid."
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath = r.URL.RequestURI()
	s.lastHeader = r.Header.Clone()
	s.lastBody = body
	s.mu.Unlock()

	w.Header().Set("x-amzn-RequestId", "6d4b5f1e-8a3c-4f1b-9c2d-0e7a1b2c3d4e")
	if status, typ, msg := s.authenticate(r, body); status != 0 {
		writeError(w, status, typ, msg)
		return
	}
	path := r.URL.EscapedPath()
	switch {
	case r.Method == http.MethodGet && path == "/foundation-models":
		writeJSON(w, http.StatusOK, foundationModels)
		return
	case r.Method != http.MethodPost || !strings.HasPrefix(path, "/model/"):
		writeError(w, http.StatusNotFound, "UnknownOperationException", "")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/model/")
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "")
		return
	}
	model, op := rest[:i], rest[i+1:]
	switch op {
	case "invoke", "invoke-with-response-stream":
		s.invoke(w, model, body, op == "invoke-with-response-stream")
	case "converse", "converse-stream":
		s.converse(w, model, body, op == "converse-stream")
	default:
		writeError(w, http.StatusNotFound, "UnknownOperationException", "")
	}
}

// authenticate checks a bearer API key, or recomputes the request's SigV4
// signature with the AWS SDK's signer from the headers it says it
// signed. It returns 0 when the request is authentic, else the status,
// error type and message Bedrock answers with.
func (s *Server) authenticate(r *http.Request, body []byte) (int, string, string) {
	authz := r.Header.Get("Authorization")
	if key, ok := strings.CutPrefix(authz, "Bearer "); ok {
		if s.APIKey == "" || key != s.APIKey {
			return http.StatusForbidden, "AccessDeniedException", msgBadAPIKey
		}
		return 0, "", ""
	}
	if authz == "" {
		return http.StatusForbidden, "MissingAuthenticationTokenException", msgNoAuth
	}
	cred, signed, sig, ok := parseAuthorization(authz)
	if !ok {
		return http.StatusForbidden, "IncompleteSignatureException",
			"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."
	}
	scope := strings.Split(cred, "/") // AK/date/region/service/aws4_request
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return http.StatusForbidden, "IncompleteSignatureException", "Credential is malformed."
	}
	if scope[0] != s.AccessKey {
		return http.StatusForbidden, "UnrecognizedClientException", msgBadToken
	}
	if r.Header.Get("X-Amz-Security-Token") != s.SessionToken {
		return http.StatusForbidden, "UnrecognizedClientException", msgBadToken
	}
	if scope[2] != s.Region {
		return http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to a valid region. "
	}
	if scope[3] != "bedrock" {
		return http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'. "
	}
	amzDate := r.Header.Get("X-Amz-Date")
	when, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || scope[1] != amzDate[:8] {
		return http.StatusForbidden, "IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got '" + amzDate + "'."
	}
	now := s.now().UTC()
	if d := now.Sub(when); d > 5*time.Minute || d < -5*time.Minute {
		return http.StatusForbidden, "InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-5*time.Minute).Format("20060102T150405Z"), now.Format("20060102T150405Z"))
	}

	// Rebuild the request from what the client says it signed and sign
	// it again with the known secret.
	re, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return http.StatusForbidden, "InvalidSignatureException", msgBadSignature
	}
	re.Host = r.Host
	re.ContentLength = 0
	for _, name := range strings.Split(signed, ";") {
		switch name {
		case "host", "x-amz-date", "x-amz-security-token":
			// Set by the signer from Host and its arguments.
		case "content-length":
			re.ContentLength = int64(len(body))
		default:
			for _, v := range r.Header.Values(name) {
				re.Header.Add(name, v)
			}
		}
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		// A client may sign UNSIGNED-PAYLOAD (or state the hash itself);
		// a stated hash must be the body's.
		if h != "UNSIGNED-PAYLOAD" && h != payloadHash {
			return http.StatusBadRequest, "ValidationException", "The provided 'x-amz-content-sha256' header does not match what was computed."
		}
		payloadHash = h
	}
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}
	if strings.Contains(";"+signed+";", ";x-amz-security-token;") {
		creds.SessionToken = r.Header.Get("X-Amz-Security-Token")
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, re, payloadHash, "bedrock", s.Region, when); err != nil {
		return http.StatusForbidden, "InvalidSignatureException", msgBadSignature
	}
	_, wantSigned, wantSig, _ := parseAuthorization(re.Header.Get("Authorization"))
	if wantSig != sig || wantSigned != signed {
		return http.StatusForbidden, "InvalidSignatureException", msgBadSignature
	}
	return 0, "", ""
}

// parseAuthorization splits "AWS4-HMAC-SHA256 Credential=…,
// SignedHeaders=…, Signature=…".
func parseAuthorization(v string) (cred, signed, sig string, ok bool) {
	rest, found := strings.CutPrefix(v, "AWS4-HMAC-SHA256 ")
	if !found {
		return "", "", "", false
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			sig = val
		}
	}
	return cred, signed, sig, cred != "" && signed != "" && sig != ""
}

// writeError answers Bedrock's error: {"message":…} with the error name in
// x-amzn-ErrorType.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("x-amzn-ErrorType", typ+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	if msg == "" {
		writeJSON(w, status, map[string]any{"Output": map[string]any{"__type": "com.amazon.coral.service#" + typ}, "Version": "1.0"})
		return
	}
	writeJSON(w, status, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"mock: `+err.Error()+`"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
