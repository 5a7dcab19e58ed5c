package transport

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bytedance/sonic"
)

// A 1×1 PNG.
var pngPixel, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

func imageServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/cat.png", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(pngPixel)
	})
	mux.HandleFunc("/unlabelled", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(pngPixel)
	})
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>not an image</body></html>"))
	})
	mux.HandleFunc("/big.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(bytes.Repeat([]byte{1}, 4096))
	})
	mux.HandleFunc("/gone.png", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

func chatWithImages(urls ...string) []byte {
	var parts []any
	parts = append(parts, map[string]any{"type": "text", "text": "What is in these images?"})
	for _, u := range urls {
		parts = append(parts, map[string]any{"type": "image_url", "image_url": map[string]any{"url": u, "detail": "low"}})
	}
	b, _ := sonic.Marshal(map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": parts}}})
	return b
}

func imageURLs(t *testing.T, body []byte) []string {
	t.Helper()
	var v struct {
		Messages []struct {
			Content []struct {
				ImageURL *struct {
					URL    string `json:"url"`
					Detail string `json:"detail"`
				} `json:"image_url"`
			} `json:"content"`
		} `json:"messages"`
	}
	if err := sonic.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range v.Messages {
		for _, p := range m.Content {
			if p.ImageURL != nil {
				out = append(out, p.ImageURL.URL)
				if p.ImageURL.Detail != "low" {
					t.Errorf("detail lost: %+v", p.ImageURL)
				}
			}
		}
	}
	return out
}

func TestInlineImages(t *testing.T) {
	srv, hits := imageServer(t)
	f := newImageFetcher(ImageFetchConfig{AllowPrivate: true, MaxBytes: 1024, Timeout: time.Second})
	ctx := context.Background()
	want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngPixel)

	t.Run("downloaded once per URL", func(t *testing.T) {
		already := "data:image/jpeg;base64,/9j/AAAA"
		body := chatWithImages(srv.URL+"/cat.png", already, srv.URL+"/cat.png", srv.URL+"/unlabelled")
		out, err := f.inline(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		got := imageURLs(t, out)
		if len(got) != 4 || got[0] != want || got[1] != already || got[2] != want || got[3] != want {
			t.Fatalf("urls %v", got)
		}
		if hits.Load() != 1 {
			t.Errorf("the same URL was fetched %d times", hits.Load())
		}
	})
	t.Run("untouched without remote images", func(t *testing.T) {
		body := []byte(`{"model":"m","messages":[{"role":"user","content":"see https://example.com"}]}`)
		out, err := f.inline(ctx, body)
		if err != nil || &out[0] != &body[0] {
			t.Fatalf("body rewritten (%v)", err)
		}
	})
	t.Run("image_url as a bare string", func(t *testing.T) {
		body := []byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"` + srv.URL + `/cat.png"}]}]}`)
		out, err := f.inline(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out, []byte(`"image_url":{"url":"`+want+`"}`)) {
			t.Fatalf("got %s", out)
		}
	})
	for _, c := range []struct{ path, reason string }{
		{"/page.html", "not an image"},
		{"/big.png", "larger than 1024 bytes"},
		{"/gone.png", "download answered 404"},
		{"/slow.png", "not downloaded within 1s"},
	} {
		t.Run(c.path, func(t *testing.T) {
			_, err := f.inline(ctx, chatWithImages(srv.URL+c.path))
			var ie *errImage
			if !errors.As(err, &ie) || !strings.Contains(ie.Error(), c.reason) {
				t.Fatalf("err %v, want %q", err, c.reason)
			}
		})
	}
	t.Run("too many images", func(t *testing.T) {
		few := newImageFetcher(ImageFetchConfig{AllowPrivate: true, MaxImages: 2})
		_, err := few.inline(ctx, chatWithImages(srv.URL+"/cat.png", srv.URL+"/a.png", srv.URL+"/b.png"))
		var ie *errImage
		if !errors.As(err, &ie) || !strings.Contains(ie.Error(), "at most 2") {
			t.Fatalf("err %v", err)
		}
	})
}

// By default the gateway never connects to a non-public address for a
// client's image URL: neither directly, nor through a redirect, nor
// through a name that resolves to one.
func TestInlineImagesRefusesPrivateAddresses(t *testing.T) {
	srv, hits := imageServer(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/cat.png", http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	f := newImageFetcher(ImageFetchConfig{})
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	for _, u := range []string{
		srv.URL + "/cat.png",
		"http://localhost" + port + "/cat.png",
		"http://[::1]" + port + "/cat.png",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.1.2.3/x.png",
	} {
		_, err := f.inline(context.Background(), chatWithImages(u))
		var ie *errImage
		if !errors.As(err, &ie) || !strings.Contains(ie.Error(), "not public") {
			t.Errorf("%s: err %v", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the image server was reached %d times", hits.Load())
	}
}

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700:4700::1111": true,
		"127.0.0.1": false, "10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "255.255.255.255": false,
		"::1": false, "fe80::1": false, "fc00::1": false, "fd00:ec2::254": false, "::ffff:127.0.0.1": false,
		"::ffff:10.0.0.1": false, "64:ff9b::a00:1": false, "2002:a00:1::": false, "224.0.0.1": false,
		"198.18.0.1": false, "192.0.2.1": false,
	} {
		if got := publicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: public=%v, want %v", addr, got, want)
		}
	}
}
