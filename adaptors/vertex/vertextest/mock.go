// Package vertextest is a mock of Google Cloud's Vertex AI for tests: an
// httptest server on 127.0.0.1 that plays both Google's OAuth token
// endpoint and the Vertex AI prediction service. The token endpoint
// verifies the service account's JWT for real (RS256 signature, issuer,
// audience, scope, lifetime) and issues access tokens; the model
// endpoints accept only those tokens, check the project and location in
// the path, and answer Gemini models (generateContent,
// streamGenerateContent, predict for embeddings) and Claude models
// (rawPredict, streamRawPredict) in their exact wire formats, with
// Google's and Anthropic's own error bodies. A Server is safe for
// concurrent requests.
package vertextest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/adaptors"
)

// The answers of the mock.
const (
	// GeminiText answers every Gemini request that gets no tool call.
	GeminiText = "Hello from the Vertex AI Gemini mock!"
	// ClaudeText answers every Claude request that gets no tool call.
	ClaudeText = "Hello from the Vertex AI Claude mock!"
	// Signature is the thought signature on the mock's Gemini function
	// calls (base64, as Vertex AI sends it).
	Signature = "bW9jay12ZXJ0ZXgtdGhvdWdodC1zaWduYXR1cmU="
)

// The identity of the mock's service account and the place it serves.
const (
	// Project is the project of the service account and the only one the
	// model endpoints accept.
	Project = "switchyard-mock"
	// Region is the location the mock serves (with "global"); us-east5
	// offers both Gemini and Claude models, as the real one does.
	Region = "us-east5"
	// ClientEmail is the service account's email (the JWT's iss).
	ClientEmail = "gateway@switchyard-mock.iam.gserviceaccount.com"
	// KeyID is the service account key's private_key_id (the JWT's kid).
	KeyID = "5f0c3a9e2b7d41c8a6e9f1b3d5c7a9e0b2d4f6a8"
	// Scope is the OAuth scope a JWT must ask for.
	Scope = "https://www.googleapis.com/auth/cloud-platform"
	// AnthropicVersion is the anthropic_version Claude bodies must carry.
	AnthropicVersion = "vertex-2023-10-16"
	// DefaultDimensions is the embedding size when a request sets no
	// outputDimensionality (the real models use 768 or 3072; the mock
	// keeps answers short).
	DefaultDimensions = 8
)

// tokenLifetime is the expires_in the mock's tokens have, as Google's.
const tokenLifetime = 3599

// The service account key: generated once per process (2048-bit RSA
// takes long enough to matter when every test starts a server).
var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyPEM  string
)

func signingKey() (*rsa.PrivateKey, string) {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("vertextest: generating the service account key: " + err.Error())
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic("vertextest: encoding the service account key: " + err.Error())
		}
		key, keyPEM = k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	})
	return key, keyPEM
}

// Server is a mock Vertex AI upstream (and OAuth token endpoint) that
// checks auth and the request like the real ones.
type Server struct {
	URL     string // base URL to put in the channel's base_url
	Project string // the project the model endpoints accept
	Region  string // the location they accept, besides "global"

	key    *rsa.PrivateKey
	keyPEM string

	mu         sync.Mutex
	requests   int
	exchanges  int
	answers    int
	tokens     map[string]bool
	lastPath   string
	lastHeader http.Header
	lastBody   []byte
}

// NewServer starts a mock on 127.0.0.1; it is closed by t.Cleanup.
func NewServer(t testing.TB) *Server {
	t.Helper()
	k, p := signingKey()
	s := &Server{Project: Project, Region: Region, key: k, keyPEM: p, tokens: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// TokenURI is the mock's token endpoint, the token_uri of its service
// account key and the audience its JWTs must name.
func (s *Server) TokenURI() string { return s.URL + "/token" }

// ServiceAccountJSON returns the mock's service account key in the format
// the IAM console downloads, its token_uri pointing at the mock.
func (s *Server) ServiceAccountJSON() string {
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  s.Project,
		"private_key_id":              KeyID,
		"private_key":                 s.keyPEM,
		"client_email":                ClientEmail,
		"client_id":                   "113842917365092847561",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   s.TokenURI(),
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/gateway%40switchyard-mock.iam.gserviceaccount.com",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return string(b)
}

// ChannelConfig is the channel config that reaches the mock's location
// (the project comes from the service account key).
func (s *Server) ChannelConfig() map[string]string {
	return map[string]string{"region": s.Region}
}

// Requests returns the number of requests answered so far (any status,
// token exchanges included).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// TokenExchanges returns the number of access tokens issued so far.
func (s *Server) TokenExchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// LastRequest returns the path (with its query), headers and body of the
// last request.
func (s *Server) LastRequest() (path string, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath, s.lastHeader.Clone(), bytes.Clone(s.lastBody)
}

// Gemini usage, in Vertex AI's terms: promptTokenCount includes the
// cached tokens, candidatesTokenCount excludes the thoughts.
var (
	geminiTextUsage = geminiUsage{PromptTokenCount: 12, CandidatesTokenCount: 6, TotalTokenCount: 27, CachedContentTokenCount: 4, ThoughtsTokenCount: 9}
	geminiToolUsage = geminiUsage{PromptTokenCount: 40, CandidatesTokenCount: 7, TotalTokenCount: 58, CachedContentTokenCount: 8, ThoughtsTokenCount: 11}
)

// Claude usage, in Anthropic's terms: input_tokens excludes the cache
// reads and writes.
var (
	claudeTextUsage = claudeUsage{Input: 12, CacheWrite: 5, CacheRead: 30, Output: 9}
	claudeToolUsage = claudeUsage{Input: 40, CacheWrite: 0, CacheRead: 100, Output: 21}
)

// TextUsage is the usage of every Gemini text answer in OpenAI terms.
func (s *Server) TextUsage() adaptors.Usage { return geminiTextUsage.openai() }

// ToolUsage is the usage of every Gemini tool-call answer in OpenAI terms.
func (s *Server) ToolUsage() adaptors.Usage { return geminiToolUsage.openai() }

// ClaudeTextUsage is the usage of every Claude text answer in OpenAI
// terms: prompt tokens include the cache reads and writes.
func (s *Server) ClaudeTextUsage() adaptors.Usage { return claudeTextUsage.openai() }

// ClaudeToolUsage is the usage of every Claude tool-call answer in
// OpenAI terms.
func (s *Server) ClaudeToolUsage() adaptors.Usage { return claudeToolUsage.openai() }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.lastPath, s.lastHeader, s.lastBody = r.URL.RequestURI(), r.Header.Clone(), body
	s.mu.Unlock()

	if r.URL.Path == "/token" {
		s.token(w, r, body)
		return
	}
	if !s.authorized(w, r) {
		return
	}
	project, loc, publisher, model, method, ok := parsePath(r.URL.Path)
	if !ok || r.Method != http.MethodPost {
		writeGoogleError(w, http.StatusNotFound, "The requested URL was not found on this server.", nil)
		return
	}
	resource := "projects/" + project + "/locations/" + loc + "/publishers/" + publisher + "/models/" + model
	if project != s.Project {
		writeGoogleError(w, http.StatusForbidden,
			"Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/"+resource+"' (or it may not exist).",
			[]any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED", "domain": "aiplatform.googleapis.com",
				"metadata": map[string]string{"permission": "aiplatform.endpoints.predict", "resource": resource}}})
		return
	}
	claude := strings.HasPrefix(model, "claude")
	embedding := strings.Contains(model, "embedding")
	known := (loc == s.Region || loc == "global") &&
		((publisher == "anthropic" && claude) || (publisher == "google" && !claude))
	if !known {
		writeGoogleError(w, http.StatusNotFound, "Publisher Model `"+resource+"` not found.", nil)
		return
	}
	switch {
	case publisher == "anthropic" && (method == "rawPredict" || method == "streamRawPredict"):
		s.claude(w, model, method == "streamRawPredict", body)
	case publisher == "google" && embedding && method == "predict":
		s.predict(w, body)
	case publisher == "google" && !embedding && (method == "generateContent" || method == "streamGenerateContent"):
		s.generate(w, r, model, method == "streamGenerateContent", body)
	default:
		writeGoogleError(w, http.StatusBadRequest, fmt.Sprintf("Model %s does not support method %s.", model, method), nil)
	}
}

// parsePath splits /v1/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:{method}.
func parsePath(p string) (project, loc, publisher, model, method string, ok bool) {
	seg := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(seg) != 9 || seg[0] != "v1" || seg[1] != "projects" || seg[3] != "locations" || seg[5] != "publishers" || seg[7] != "models" {
		return "", "", "", "", "", false
	}
	model, method, ok = strings.Cut(seg[8], ":")
	if !ok || model == "" || seg[2] == "" || seg[4] == "" || seg[6] == "" {
		return "", "", "", "", "", false
	}
	return seg[2], seg[4], seg[6], model, method, true
}

// authorized checks the bearer token, answering Google's 401 otherwise.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found || tok == "" {
		writeGoogleError(w, http.StatusUnauthorized,
			"Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
			[]any{errorInfo("CREDENTIALS_MISSING")})
		return false
	}
	s.mu.Lock()
	valid := s.tokens[tok]
	s.mu.Unlock()
	if !valid {
		writeGoogleError(w, http.StatusUnauthorized,
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
			[]any{errorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED")})
		return false
	}
	return true
}

func errorInfo(reason string) map[string]any {
	return map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
		"metadata": map[string]string{"service": "aiplatform.googleapis.com", "method": "google.cloud.aiplatform.v1.PredictionService.GenerateContent"}}
}

// writeGoogleError answers Google's error body {"error":{code,message,status,details}}.
func writeGoogleError(w http.ResponseWriter, code int, message string, details []any) {
	e := map[string]any{"code": code, "message": message, "status": statusName(code)}
	if details != nil {
		e["details"] = details
	}
	writeJSON(w, code, map[string]any{"error": e})
}

func statusName(code int) string {
	switch code {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 429:
		return "RESOURCE_EXHAUSTED"
	}
	return "INTERNAL"
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// The token endpoint's OAuth errors.
func writeOAuthError(w http.ResponseWriter, code int, typ, description string) {
	writeJSON(w, code, map[string]string{"error": typ, "error_description": description})
}

// token is Google's token endpoint for the jwt-bearer grant: it verifies
// the assertion as Google does and issues an access token.
func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Required parameter is missing: grant_type")
		return
	}
	form, err := parseForm(body)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid request body")
		return
	}
	if g := form["grant_type"]; g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		if g == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Required parameter is missing: grant_type")
		} else {
			writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+g)
		}
		return
	}
	if form["assertion"] == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Required parameter is missing: assertion")
		return
	}
	if typ, msg := s.verify(form["assertion"], time.Now()); typ != "" {
		writeOAuthError(w, http.StatusBadRequest, typ, msg)
		return
	}
	s.mu.Lock()
	s.exchanges++
	tok := fmt.Sprintf("ya29.mock-%d", s.exchanges)
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": tokenLifetime, "token_type": "Bearer"})
}

// parseForm decodes an application/x-www-form-urlencoded body, refusing
// repeated keys.
func parseForm(body []byte) (map[string]string, error) {
	out := map[string]string{}
	for pair := range strings.SplitSeq(string(body), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("repeated %s", k)
		}
		out[k] = v
	}
	return out, nil
}

// verify checks a service-account JWT as Google's token endpoint does and
// returns the OAuth error type and description of the first problem, or
// "" when it is good.
func (s *Server) verify(jwt string, now time.Time) (string, string) {
	const badSig = "Invalid JWT Signature."
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
	}
	var header struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid"`
	}
	if !decodeSegment(parts[0], &header) || header.Alg != "RS256" {
		return "invalid_grant", badSig
	}
	if header.Kid != "" && header.Kid != KeyID {
		return "invalid_grant", badSig
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "invalid_grant", badSig
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return "invalid_grant", badSig
	}
	var claims struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
		Sub   string `json:"sub"`
	}
	if !decodeSegment(parts[1], &claims) {
		return "invalid_grant", badSig
	}
	if claims.Iss != ClientEmail {
		return "invalid_grant", "Invalid grant: account not found"
	}
	if claims.Aud != s.TokenURI() {
		return "invalid_grant", "Invalid JWT: Failed audience check. The right audience is " + s.TokenURI()
	}
	hasScope := false
	for sc := range strings.FieldsSeq(claims.Scope) {
		hasScope = hasScope || sc == Scope
	}
	if !hasScope {
		return "invalid_scope", "Invalid OAuth scope or ID token audience provided."
	}
	const skew = 5 * 60
	n := now.Unix()
	if claims.Iat == 0 || claims.Exp <= claims.Iat || claims.Exp-claims.Iat > 3600 || claims.Iat > n+skew || claims.Exp < n-skew {
		return "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
	}
	return "", ""
}

// decodeSegment decodes one base64url JWT segment holding a JSON object.
func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && json.Unmarshal(b, v) == nil
}
