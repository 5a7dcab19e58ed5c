package transport

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/protocol"

	"switchyard/adaptors"
)

// fakeExchanger answers token exchanges with numbered tokens valid for an
// hour (or fails), counting the exchanges and holding them for delay.
type fakeExchanger struct {
	calls atomic.Int64
	delay time.Duration
	fail  atomic.Bool
}

func (f *fakeExchanger) do(ctx context.Context, hr *adaptors.HTTPRequest, stream bool, _ ...time.Duration) (*protocol.Response, error) {
	n := f.calls.Add(1)
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	resp := protocol.AcquireResponse()
	if f.fail.Load() {
		resp.SetStatusCode(400)
		resp.SetBody([]byte(`{"error":"invalid_grant"}`))
		return resp, nil
	}
	resp.SetStatusCode(200)
	resp.SetBody([]byte("tok-" + strconv.FormatInt(n, 10)))
	return resp, nil
}

type fakeTokenAdaptor struct{}

func (fakeTokenAdaptor) TokenRequest(ch *adaptors.Channel, now time.Time) (*adaptors.HTTPRequest, error) {
	if ch.Key == "" {
		return nil, errors.New("no key")
	}
	return &adaptors.HTTPRequest{Method: "POST", URL: "http://token.invalid/token"}, nil
}

func (fakeTokenAdaptor) ParseToken(status int, body []byte, now time.Time) (adaptors.AccessToken, error) {
	if status != 200 {
		return adaptors.AccessToken{}, errors.New("exchange refused: " + string(body))
	}
	return adaptors.AccessToken{Value: string(body), Expires: now.Add(time.Hour)}, nil
}

func TestTokenCache(t *testing.T) {
	c := newTokenCache()
	clock := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	up := &fakeExchanger{delay: 50 * time.Millisecond}
	ch := &adaptors.Channel{ID: 7, Key: `{"type":"service_account"}`}
	ctx := context.Background()

	// Concurrent requests share one exchange.
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Go(func() {
			tok, err := c.get(ctx, fakeTokenAdaptor{}, ch, up)
			if err != nil {
				t.Error(err)
			}
			got[i] = tok
		})
	}
	wg.Wait()
	if up.calls.Load() != 1 {
		t.Fatalf("%d exchanges for 20 concurrent requests", up.calls.Load())
	}
	for _, tok := range got {
		if tok != "tok-1" {
			t.Fatalf("tokens %v", got)
		}
	}
	// Cached until refreshBefore its expiry, then exchanged again.
	advance(time.Hour - refreshBefore - time.Second)
	if tok, _ := c.get(ctx, fakeTokenAdaptor{}, ch, up); tok != "tok-1" || up.calls.Load() != 1 {
		t.Fatalf("token %q after %d exchanges", tok, up.calls.Load())
	}
	advance(2 * time.Second)
	if tok, _ := c.get(ctx, fakeTokenAdaptor{}, ch, up); tok != "tok-2" {
		t.Fatalf("near expiry: token %q", tok)
	}
	// Another key of the channel has its own token.
	other := *ch
	other.Key = `{"type":"service_account","other":true}`
	if tok, _ := c.get(ctx, fakeTokenAdaptor{}, &other, up); tok != "tok-3" {
		t.Fatalf("other key: %q", tok)
	}
	// So has the same key with another config (a service-account key in
	// the config).
	withCfg := *ch
	withCfg.Config = map[string]string{"vertex_ai_adc": `{"client_email":"b@p.iam.gserviceaccount.com"}`}
	if tok, _ := c.get(ctx, fakeTokenAdaptor{}, &withCfg, up); tok != "tok-4" {
		t.Fatalf("other config: %q", tok)
	}
	if tok, _ := c.get(ctx, fakeTokenAdaptor{}, ch, up); tok != "tok-2" {
		t.Fatalf("original credential after the others: %q", tok)
	}
	// A failed refresh keeps using the old token while it is valid…
	up.fail.Store(true)
	advance(time.Hour - refreshBefore + time.Second)
	if tok, err := c.get(ctx, fakeTokenAdaptor{}, ch, up); err != nil || tok != "tok-2" {
		t.Fatalf("failed refresh: %q %v", tok, err)
	}
	// …and once it has expired, fails — remembered for failedFor, so a
	// burst does not hammer the token endpoint.
	advance(refreshBefore)
	calls := up.calls.Load()
	if _, err := c.get(ctx, fakeTokenAdaptor{}, ch, up); err == nil {
		t.Fatal("expired token and failing exchange: no error")
	}
	for range 5 {
		if _, err := c.get(ctx, fakeTokenAdaptor{}, ch, up); err == nil {
			t.Fatal("no error")
		}
	}
	if up.calls.Load() != calls+1 {
		t.Fatalf("%d exchanges after a failure, want 1", up.calls.Load()-calls)
	}
	advance(failedFor)
	up.fail.Store(false)
	if tok, err := c.get(ctx, fakeTokenAdaptor{}, ch, up); err != nil || tok == "tok-2" {
		t.Fatalf("after the failure window: %q %v", tok, err)
	}
	// forget drops the channel's tokens (the upstream answered 401).
	c.forget(7)
	before := up.calls.Load()
	if _, err := c.get(ctx, fakeTokenAdaptor{}, ch, up); err != nil || up.calls.Load() != before+1 {
		t.Fatalf("forget: %v, %d exchanges", err, up.calls.Load()-before)
	}
}

// A waiting request whose client goes away stops waiting; the exchange
// goes on for the others.
func TestTokenCacheWaitCancelled(t *testing.T) {
	c := newTokenCache()
	up := &fakeExchanger{delay: 300 * time.Millisecond}
	ch := &adaptors.Channel{ID: 1, Key: "k"}
	done := make(chan string)
	go func() {
		tok, _ := c.get(context.Background(), fakeTokenAdaptor{}, ch, up)
		done <- tok
	}()
	for up.calls.Load() == 0 { // the first request's exchange is under way
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.get(ctx, fakeTokenAdaptor{}, ch, up); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if tok := <-done; tok != "tok-1" {
		t.Fatalf("first request got %q", tok)
	}
}

// fakeMinter makes numbered tokens valid for 30 minutes, counting mints.
type fakeMinter struct{ mints atomic.Int64 }

func (f *fakeMinter) MintToken(ch *adaptors.Channel, now time.Time) (adaptors.AccessToken, error) {
	if ch.Key == "" {
		return adaptors.AccessToken{}, errors.New("no key")
	}
	n := f.mints.Add(1)
	return adaptors.AccessToken{Value: "jwt-" + strconv.FormatInt(n, 10), Expires: now.Add(30 * time.Minute)}, nil
}

// Minted tokens (Zhipu's JWT) are cached and shared like exchanged ones,
// with no call made.
func TestTokenCacheMints(t *testing.T) {
	c := newTokenCache()
	clock := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return clock }
	m := &fakeMinter{}
	up := &fakeExchanger{}
	ch := &adaptors.Channel{ID: 3, Key: "id.secret"}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if tok, err := c.get(context.Background(), m, ch, up); err != nil || tok != "jwt-1" {
				t.Errorf("token %q %v", tok, err)
			}
		})
	}
	wg.Wait()
	if m.mints.Load() != 1 || up.calls.Load() != 0 {
		t.Fatalf("%d mints, %d calls", m.mints.Load(), up.calls.Load())
	}
	clock = clock.Add(30*time.Minute - refreshBefore)
	if tok, _ := c.get(context.Background(), m, ch, up); tok != "jwt-2" {
		t.Fatalf("near expiry: %q", tok)
	}
	if _, err := c.get(context.Background(), m, &adaptors.Channel{ID: 4}, up); err == nil {
		t.Fatal("mint error not reported")
	}
	if !needsToken(m) || !needsToken(fakeTokenAdaptor{}) || needsToken(struct{}{}) {
		t.Fatal("needsToken")
	}
}
