package zhipu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchyard/adaptors"
)

// BigModel authenticates a call with "Authorization: Bearer <token>". The
// channel's key is the API key the console issues, "<id>.<secret>". The
// token is either the key itself (Config["auth"] = "key") or, by default
// and as One API does for channel type 16, a JWT the adaptor mints from
// it: HS256 over the secret, header {"alg":"HS256","sign_type":"SIGN"},
// claims {"api_key": id, "exp": ms, "timestamp": ms} — times in
// milliseconds since the epoch, not JWT's seconds (the official SDKs'
// generate_token: zhipuai/core/_jwt_token.py, zai/core/_jwt_token.py,
// ai.z.openapi.core.token.TokenManager). The transport caches the minted
// token (adaptors.TokenMinter) and hands it to BuildRequest in
// Channel.AccessToken.

// TokenTTL is the lifetime of a minted JWT. The transport replaces a
// token 5 minutes before it expires, so a token serves 25 minutes of
// requests. (The Python SDK mints 3.5-minute tokens for a 3-minute cache;
// the Java SDK adds 5 minutes of slack to its cache time, as this TTL
// does to the transport's.)
const TokenTTL = 30 * time.Minute

// keyTokenTTL is the nominal lifetime reported for the plain key in
// AuthKey mode, where nothing expires; it only spaces out the transport's
// calls of MintToken.
const keyTokenTTL = 24 * time.Hour

// jwtHeader is the token's JOSE header, base64url-encoded, as PyJWT
// writes it for the official Python SDK: its sorted keys, the SDK's
// sign_type, and PyJWT's default typ (the Java SDK's auth0 java-jwt adds
// typ as well).
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","sign_type":"SIGN","typ":"JWT"}`))

// ErrBadKey is wrapped by MintToken and BuildRequest when the channel's
// key is not "<id>.<secret>" in JWT mode.
var ErrBadKey = errors.New("zhipu: key is not <id>.<secret>")

// claims are the JWT's payload, in the SDK's order.
type claims struct {
	APIKey    string `json:"api_key"`
	Exp       int64  `json:"exp"`
	Timestamp int64  `json:"timestamp"`
}

// authMode returns the channel's authentication scheme, AuthJWT or
// AuthKey; an unknown value is an error so that a typo fails loudly.
func authMode(ch *adaptors.Channel) (string, error) {
	switch m := strings.ToLower(strings.TrimSpace(ch.Config[ConfigAuth])); m {
	case "", AuthJWT:
		return AuthJWT, nil
	case AuthKey:
		return AuthKey, nil
	default:
		return "", fmt.Errorf("zhipu: channel config %q is %q: want %q or %q", ConfigAuth, m, AuthJWT, AuthKey)
	}
}

// SplitKey splits an API key "<id>.<secret>" at its first dot. Spaces
// around the key are ignored; both parts must be non-empty.
func SplitKey(key string) (id, secret string, err error) {
	id, secret, ok := strings.Cut(strings.TrimSpace(key), ".")
	if !ok || id == "" || secret == "" {
		return "", "", fmt.Errorf("%w (set the channel config %s=%s to send a plain API key)", ErrBadKey, ConfigAuth, AuthKey)
	}
	return id, secret, nil
}

// MintToken implements adaptors.TokenMinter. In JWT mode it signs a
// token for the key's id that expires TokenTTL after now. In key mode
// there is nothing to mint: it returns the key itself (BuildRequest sends
// ch.Key in that mode and ignores Channel.AccessToken).
func (a *Adaptor) MintToken(ch *adaptors.Channel, now time.Time) (adaptors.AccessToken, error) {
	mode, err := authMode(ch)
	if err != nil {
		return adaptors.AccessToken{}, err
	}
	if mode == AuthKey {
		key := strings.TrimSpace(ch.Key)
		if key == "" {
			return adaptors.AccessToken{}, errors.New("zhipu: channel has no key")
		}
		return adaptors.AccessToken{Value: key, Expires: now.Add(keyTokenTTL)}, nil
	}
	id, secret, err := SplitKey(ch.Key)
	if err != nil {
		return adaptors.AccessToken{}, err
	}
	exp := now.Add(TokenTTL)
	return adaptors.AccessToken{Value: SignToken(id, secret, now, exp), Expires: exp}, nil
}

// SignToken returns the HS256 JWT for the key id, signed with secret,
// issued at now and expiring at exp (both sent in milliseconds).
func SignToken(id, secret string, now, exp time.Time) string {
	payload, _ := json.Marshal(claims{APIKey: id, Exp: exp.UnixMilli(), Timestamp: now.UnixMilli()}) // cannot fail: a string and two ints
	enc := base64.RawURLEncoding
	tok := make([]byte, 0, len(jwtHeader)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(sha256.Size))
	tok = append(tok, jwtHeader...)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(tok)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, mac.Sum(nil))
	return string(tok)
}

// authorization returns the Authorization header value for ch: the
// minted JWT (ch.AccessToken) or, in key mode, the key.
func authorization(ch *adaptors.Channel) (string, error) {
	mode, err := authMode(ch)
	if err != nil {
		return "", err
	}
	if mode == AuthKey {
		key := strings.TrimSpace(ch.Key)
		if key == "" {
			return "", errors.New("zhipu: channel has no key")
		}
		return "Bearer " + key, nil
	}
	if ch.AccessToken == "" {
		if _, _, err := SplitKey(ch.Key); err != nil {
			return "", err
		}
		return "", errors.New("zhipu: no token for the channel (the transport mints one first: adaptors.TokenMinter)")
	}
	return "Bearer " + ch.AccessToken, nil
}
