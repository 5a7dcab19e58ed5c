package zhipu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
)

var testNow = time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC)

// decodeJWT splits a token and checks its HS256 signature with secret.
func decodeJWT(t *testing.T, tok, secret string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); parts[2] != want {
		t.Fatalf("signature %s, want %s", parts[2], want)
	}
	for i, v := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		if err := d.Decode(v); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	return header, payload
}

func TestMintToken(t *testing.T) {
	ch := adaptors.Channel{Key: " " + testKey + "\n"}
	tok, err := New().MintToken(&ch, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := testNow.Add(30 * time.Minute); !tok.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", tok.Expires, want)
	}
	id, secret, _ := strings.Cut(testKey, ".")
	header, payload := decodeJWT(t, tok.Value, secret)
	if diff := cmp.Diff(map[string]any{"alg": "HS256", "sign_type": "SIGN", "typ": "JWT"}, header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	want := map[string]any{
		"api_key":   id,
		"exp":       json.Number("1759321800000"), // milliseconds: 12:30 UTC
		"timestamp": json.Number("1759320000000"),
	}
	if diff := cmp.Diff(want, payload); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	// The same instant mints the same token (nothing random), and the
	// claims keep the SDK's order.
	again, _ := New().MintToken(&ch, testNow)
	if again.Value != tok.Value {
		t.Error("minting is not deterministic")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.Value, ".")[1])
	if got := string(raw); got != `{"api_key":"4d1b2c3a5e6f47a8b9c0d1e2f3a4b5c6","exp":1759321800000,"timestamp":1759320000000}` {
		t.Errorf("claims JSON %s", got)
	}
}

// TestSignTokenKnownAnswer pins the token bytes for a fixed key and time
// (independent of the decoder above).
func TestSignTokenKnownAnswer(t *testing.T) {
	got := SignToken("12345678", "abcdefg", time.UnixMilli(1700000000000), time.UnixMilli(1700000210000))
	const header = "eyJhbGciOiJIUzI1NiIsInNpZ25fdHlwZSI6IlNJR04iLCJ0eXAiOiJKV1QifQ"                               // {"alg":"HS256","sign_type":"SIGN","typ":"JWT"}
	const payload = "eyJhcGlfa2V5IjoiMTIzNDU2NzgiLCJleHAiOjE3MDAwMDAyMTAwMDAsInRpbWVzdGFtcCI6MTcwMDAwMDAwMDAwMH0" // {"api_key":"12345678","exp":1700000210000,"timestamp":1700000000000}
	mac := hmac.New(sha256.New, []byte("abcdefg"))
	mac.Write([]byte(header + "." + payload))
	want := header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if got != want {
		t.Errorf("token\n got %s\nwant %s", got, want)
	}
}

func TestMintTokenModes(t *testing.T) {
	tests := []struct {
		name    string
		ch      adaptors.Channel
		want    string // Value, "" to skip
		expires time.Duration
		err     error // sentinel, or nil for any error when wantErr
		wantErr bool
	}{
		{"key mode returns the key", adaptors.Channel{Key: " k.s ", Config: map[string]string{ConfigAuth: AuthKey}}, "k.s", 24 * time.Hour, nil, false},
		{"key mode any key", adaptors.Channel{Key: "plain", Config: map[string]string{ConfigAuth: "KEY"}}, "plain", 24 * time.Hour, nil, false},
		{"jwt secret with dots", adaptors.Channel{Key: "id.se.cret"}, "", 30 * time.Minute, nil, false},
		{"no dot", adaptors.Channel{Key: "nodot"}, "", 0, ErrBadKey, true},
		{"empty id", adaptors.Channel{Key: ".secret"}, "", 0, ErrBadKey, true},
		{"empty secret", adaptors.Channel{Key: "id."}, "", 0, ErrBadKey, true},
		{"empty", adaptors.Channel{}, "", 0, ErrBadKey, true},
		{"key mode empty", adaptors.Channel{Config: map[string]string{ConfigAuth: AuthKey}}, "", 0, nil, true},
		{"unknown mode", adaptors.Channel{Key: testKey, Config: map[string]string{ConfigAuth: "hmac"}}, "", 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := New().MintToken(&tt.ch, testNow)
			if tt.wantErr {
				if err == nil || (tt.err != nil && !errors.Is(err, tt.err)) {
					t.Fatalf("got %v, want error %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && tok.Value != tt.want {
				t.Errorf("value %q, want %q", tok.Value, tt.want)
			}
			if tok.Value == "" || !tok.Expires.Equal(testNow.Add(tt.expires)) {
				t.Errorf("token %+v", tok)
			}
		})
	}
}

func TestSplitKey(t *testing.T) {
	id, secret, err := SplitKey("abc.def.ghi")
	if err != nil || id != "abc" || secret != "def.ghi" {
		t.Errorf("SplitKey = %q, %q, %v", id, secret, err)
	}
}
