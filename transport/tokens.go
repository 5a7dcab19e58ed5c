package transport

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/protocol"

	"switchyard/adaptors"
)

// tokenCache holds the access tokens obtained for channels whose adaptor
// implements adaptors.TokenExchanger (Vertex AI, Baidu) or
// adaptors.TokenMinter (Zhipu), per channel, key and config. A
// token is used until refreshBefore its expiry; then the next request
// exchanges again, and requests arriving meanwhile wait for that one
// exchange instead of making their own. Node-local: every node exchanges
// for itself, and nothing is lost on a crash but a cached token.
type tokenCache struct {
	mu sync.Mutex
	m  map[tokenKey]*tokenEntry
	// now is the clock (tests move it).
	now func() time.Time
}

// refreshBefore is how long before its expiry a token is replaced, so a
// request never reaches the upstream with a token about to expire.
const refreshBefore = 5 * time.Minute

// exchangeTimeout bounds one exchange.
const exchangeTimeout = 15 * time.Second

// failedFor is how long a failed exchange is remembered, so that a broken
// credential does not make every request of a burst call the token
// endpoint.
const failedFor = 5 * time.Second

type tokenKey struct {
	channel int
	key     [32]byte // SHA-256 of the credential: a key change invalidates
}

type tokenEntry struct {
	tok     adaptors.AccessToken
	err     error
	errAt   time.Time
	pending chan struct{} // non-nil while an exchange runs; closed when done
}

// credentialHash identifies the credential a token was obtained with: the
// key and the channel's config (a service-account key may sit in the
// config, Vertex's vertex_ai_adc), so that editing either exchanges anew.
func credentialHash(ch *adaptors.Channel) [32]byte {
	h := sha256.New()
	h.Write([]byte(ch.Key))
	keys := make([]string, 0, len(ch.Config))
	for k := range ch.Config {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte{0})
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(ch.Config[k]))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func newTokenCache() *tokenCache {
	return &tokenCache{m: map[tokenKey]*tokenEntry{}, now: time.Now}
}

// exchanger makes the exchange call; the transport's upstream client in
// production.
type exchanger interface {
	do(ctx context.Context, hr *adaptors.HTTPRequest, stream bool, firstByte ...time.Duration) (*protocol.Response, error)
}

// needsToken reports whether an adaptor's channels need an access token
// (it implements adaptors.TokenExchanger or adaptors.TokenMinter).
func needsToken(ad any) bool {
	switch ad.(type) {
	case adaptors.TokenExchanger, adaptors.TokenMinter:
		return true
	}
	return false
}

// get returns a valid token for ch from src (an adaptors.TokenMinter or
// adaptors.TokenExchanger), minting or exchanging when there is none.
func (c *tokenCache) get(ctx context.Context, src any, ch *adaptors.Channel, up exchanger) (string, error) {
	k := tokenKey{channel: ch.ID, key: credentialHash(ch)}
	for {
		c.mu.Lock()
		e := c.m[k]
		now := c.now()
		switch {
		case e == nil:
			e = &tokenEntry{}
			c.m[k] = e
		case e.pending != nil:
			wait := e.pending
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		case e.tok.Value != "" && now.Before(e.tok.Expires.Add(-refreshBefore)):
			v := e.tok.Value
			c.mu.Unlock()
			return v, nil
		case e.err != nil && now.Sub(e.errAt) < failedFor:
			err := e.err
			c.mu.Unlock()
			return "", err
		}
		done := make(chan struct{})
		e.pending = done
		c.mu.Unlock()

		var tok adaptors.AccessToken
		var err error
		switch src := src.(type) {
		case adaptors.TokenMinter:
			tok, err = src.MintToken(ch, now)
			if err == nil && tok.Value == "" {
				err = errors.New("token mint: empty token")
			}
		case adaptors.TokenExchanger:
			tok, err = exchange(ctx, src, ch, up, now)
		default:
			err = errors.New("the adaptor makes no tokens")
		}

		c.mu.Lock()
		e.pending = nil
		if err != nil {
			e.err, e.errAt = err, c.now()
			// A still-valid older token stays usable until it expires.
			if e.tok.Value != "" && c.now().Before(e.tok.Expires) {
				v := e.tok.Value
				c.mu.Unlock()
				close(done)
				return v, nil
			}
		} else {
			e.tok, e.err = tok, nil
		}
		c.mu.Unlock()
		close(done)
		if err != nil {
			return "", err
		}
		return tok.Value, nil
	}
}

// forget drops a channel's tokens (the upstream refused one).
func (c *tokenCache) forget(channel int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.channel == channel {
			delete(c.m, k)
		}
	}
}

func exchange(ctx context.Context, te adaptors.TokenExchanger, ch *adaptors.Channel, up exchanger, now time.Time) (adaptors.AccessToken, error) {
	hr, err := te.TokenRequest(ch, now)
	if err != nil {
		return adaptors.AccessToken{}, err
	}
	// The exchange serves every waiting request: the first one's client
	// going away must not fail it for the others.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchangeTimeout)
	defer cancel()
	resp, err := up.do(ctx, hr, false, exchangeTimeout)
	if err != nil {
		return adaptors.AccessToken{}, fmt.Errorf("token exchange: %w", err)
	}
	defer protocol.ReleaseResponse(resp)
	tok, err := te.ParseToken(resp.StatusCode(), resp.Body(), now)
	if err != nil {
		return adaptors.AccessToken{}, err
	}
	if tok.Value == "" {
		return adaptors.AccessToken{}, errors.New("token exchange: empty token")
	}
	return tok, nil
}
