package transport

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bytedance/sonic"
)

// ImageFetchConfig bounds the downloads of image URLs for providers that
// take chat images only inline (adaptors.ImageInliner).
type ImageFetchConfig struct {
	// MaxBytes caps one image. Default 20 MiB.
	MaxBytes int64
	// Timeout bounds the downloads of one request. Default 20 s.
	Timeout time.Duration
	// AllowPrivate lets image URLs point at loopback, private, link-local
	// and other non-public addresses. Off by default: a client must not
	// make the gateway read its own network (SSRF).
	AllowPrivate bool
	// MaxImages caps the image URLs of one request. Default 32.
	MaxImages int
}

func (c ImageFetchConfig) withDefaults() ImageFetchConfig {
	if c.MaxBytes <= 0 {
		c.MaxBytes = 20 << 20
	}
	if c.Timeout <= 0 {
		c.Timeout = 20 * time.Second
	}
	if c.MaxImages <= 0 {
		c.MaxImages = 32
	}
	return c
}

// imageFetcher downloads chat image URLs and turns them into data: URLs.
// It is safe for concurrent use.
type imageFetcher struct {
	cfg    ImageFetchConfig
	client *http.Client
}

// errImage is a client error about one image URL (answered 400).
type errImage struct {
	url    string
	reason string
}

func (e *errImage) Error() string {
	u := e.url
	if len(u) > 120 {
		u = u[:120] + "…"
	}
	return fmt.Sprintf("image_url %s: %s", u, e.reason)
}

// errPrivateAddress: the URL resolves to an address the gateway refuses
// to connect to.
var errPrivateAddress = errors.New("address not allowed")

func newImageFetcher(cfg ImageFetchConfig) *imageFetcher {
	cfg = cfg.withDefaults()
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !cfg.AllowPrivate {
		// Checked on the address actually dialled, after DNS resolution
		// and for every redirect, so that neither a DNS answer nor a
		// redirect can lead the gateway into its own network.
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return errPrivateAddress
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would bypass the address check
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	}
	return &imageFetcher{cfg: cfg, client: &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a non-HTTP URL")
			}
			return nil
		},
	}}
}

// publicAddr reports whether a is a public unicast address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// nonPublic are special-purpose ranges the netip predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: may embed a private IPv4
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may embed a private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
}

// hasRemoteImage is the cheap test before any parsing: the body names an
// image_url and an http(s) URL somewhere.
func hasRemoteImage(body []byte) bool {
	return bytes.Contains(body, []byte(`"image_url"`)) &&
		(bytes.Contains(body, []byte(`"http://`)) || bytes.Contains(body, []byte(`"https://`)))
}

// inline returns body with every http(s) image_url of its messages
// replaced by a data: URL of the downloaded image; body itself when it has
// none. Errors about an image are *errImage (the client's fault).
func (f *imageFetcher) inline(ctx context.Context, body []byte) ([]byte, error) {
	if !hasRemoteImage(body) {
		return body, nil
	}
	var req map[string]any
	if err := sonic.Unmarshal(body, &req); err != nil {
		return body, nil // the adaptor reports the invalid body
	}
	msgs, _ := req["messages"].([]any)
	type slot struct {
		holder map[string]any // the object whose "url" (or "image_url") is replaced
		key    string
		url    string
	}
	var slots []slot
	for _, m := range msgs {
		mm, _ := m.(map[string]any)
		parts, _ := mm["content"].([]any)
		for _, p := range parts {
			pm, _ := p.(map[string]any)
			if pm == nil || pm["type"] != "image_url" {
				continue
			}
			switch iu := pm["image_url"].(type) {
			case map[string]any:
				if u, _ := iu["url"].(string); isRemote(u) {
					slots = append(slots, slot{iu, "url", u})
				}
			case string: // some clients send the URL itself
				if isRemote(iu) {
					slots = append(slots, slot{pm, "image_url", iu})
				}
			}
		}
	}
	if len(slots) == 0 {
		return body, nil
	}
	if len(slots) > f.cfg.MaxImages {
		return nil, &errImage{slots[0].url, fmt.Sprintf("a request may carry at most %d image URLs", f.cfg.MaxImages)}
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	// The same URL twice is fetched once.
	var unique []string
	seen := map[string]bool{}
	for _, s := range slots {
		if !seen[s.url] {
			seen[s.url] = true
			unique = append(unique, s.url)
		}
	}
	var (
		mu       sync.Mutex
		urls     = make(map[string]string, len(unique)) // URL → data: URL, under mu
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 4)
	)
	for _, u := range unique {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			data, err := f.fetch(ctx, u)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			urls[u] = data
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	for _, s := range slots {
		if s.key == "image_url" {
			s.holder[s.key] = map[string]any{"url": urls[s.url]}
		} else {
			s.holder[s.key] = urls[s.url]
		}
	}
	return sonic.Marshal(req)
}

func isRemote(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

// fetch downloads one image and returns it as a data: URL.
func (f *imageFetcher) fetch(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", &errImage{u, "not a valid URL"}
	}
	req.Header.Set("Accept", "image/*")
	req.Header.Set("User-Agent", "Switchyard-ImageFetch/1")
	resp, err := f.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, errPrivateAddress):
			return "", &errImage{u, "the address is not public"}
		case errors.Is(err, context.DeadlineExceeded):
			return "", &errImage{u, fmt.Sprintf("not downloaded within %v", f.cfg.Timeout)}
		case ctx.Err() != nil:
			return "", ctx.Err()
		}
		return "", &errImage{u, "download failed"}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", &errImage{u, fmt.Sprintf("download answered %d", resp.StatusCode)}
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return "", &errImage{u, fmt.Sprintf("larger than %d bytes", f.cfg.MaxBytes)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return "", &errImage{u, fmt.Sprintf("not downloaded within %v", f.cfg.Timeout)}
		}
		return "", &errImage{u, "download failed"}
	}
	if int64(len(data)) > f.cfg.MaxBytes {
		return "", &errImage{u, fmt.Sprintf("larger than %d bytes", f.cfg.MaxBytes)}
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "image/") {
		// Servers often send octet-stream: trust the bytes, not the label.
		mt = http.DetectContentType(data)
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = mt[:i]
		}
	}
	if !strings.HasPrefix(mt, "image/") {
		return "", &errImage{u, "not an image (" + mt + ")"}
	}
	var b strings.Builder
	b.Grow(len("data:;base64,") + len(mt) + base64.StdEncoding.EncodedLen(len(data)))
	b.WriteString("data:")
	b.WriteString(mt)
	b.WriteString(";base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	_, _ = enc.Write(data)
	_ = enc.Close()
	return b.String(), nil
}
