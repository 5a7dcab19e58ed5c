package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchyard/adaptors"
)

// socketServer answers every frame it receives with the given frames and
// then closes with status (or drops the connection when status is 0).
// Upgrades without the right "signature" query are refused with 401.
func socketServer(t *testing.T, answer []string, status websocket.StatusCode) (string, chan string) {
	got := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("signature") != "ok" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"HMAC signature cannot be verified"}`))
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx := r.Context()
		_, req, err := c.Read(ctx)
		if err != nil {
			return
		}
		got <- r.Header.Get("X-Test") + " " + string(req)
		for _, a := range answer {
			if c.Write(ctx, websocket.MessageText, []byte(a)) != nil {
				return
			}
		}
		if status == 0 {
			c.CloseNow()
			return
		}
		c.Close(status, "")
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), got
}

func TestSocketCall(t *testing.T) {
	ctx := context.Background()
	url, got := socketServer(t, []string{`{"seq":0}`, `{"seq":1,"last":true}`}, websocket.StatusNormalClosure)
	sc := &adaptors.SocketCall{URL: url + "/v3.5/chat?signature=ok", Header: []adaptors.Header{{Key: "X-Test", Value: "adaptor"}},
		Frames: [][]byte{[]byte(`{"hello":1}`)}}

	conn, status, _, err := openSocket(ctx, sc, map[string]string{"X-Test": "channel override"}, time.Second)
	if err != nil || status != 0 {
		t.Fatalf("open: %d %v", status, err)
	}
	body, err := io.ReadAll(&socketReader{ctx: ctx, conn: conn})
	conn.CloseNow()
	if err != nil || string(body) != "{\"seq\":0}\n{\"seq\":1,\"last\":true}\n" {
		t.Fatalf("body %q, err %v", body, err)
	}
	if req := <-got; req != `channel override {"hello":1}` {
		t.Fatalf("upstream got %q", req)
	}

	// A refused upgrade gives the refusal's status and body.
	bad := *sc
	bad.URL = url + "/v3.5/chat?signature=forged"
	if _, status, refusal, err := openSocket(ctx, &bad, nil, time.Second); err == nil || status != 401 ||
		!strings.Contains(string(refusal), "HMAC signature") {
		t.Fatalf("refusal: %d %q %v", status, refusal, err)
	}

	// A connection that drops without a close is a truncated body.
	url, _ = socketServer(t, []string{`{"seq":0}`}, 0)
	sc.URL = url + "/x?signature=ok"
	conn, _, _, err = openSocket(ctx, sc, nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	body, err = io.ReadAll(&socketReader{ctx: ctx, conn: conn})
	conn.CloseNow()
	if err == nil || errors.Is(err, io.EOF) || string(body) != "{\"seq\":0}\n" {
		t.Fatalf("dropped connection: body %q err %v", body, err)
	}

	// Nobody listening: no status, an error.
	sc.URL = "ws://127.0.0.1:1/x"
	if _, status, _, err := openSocket(ctx, sc, nil, time.Second); err == nil || status != 0 {
		t.Fatalf("no server: %d %v", status, err)
	}
}
