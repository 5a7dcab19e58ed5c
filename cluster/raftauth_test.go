package cluster

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestRaftStreamAuthentication(t *testing.T) {
	server, err := newAuthStream("127.0.0.1:0", nil, "the-secret-0123456789", "s", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := server.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	addr := raft.ServerAddress(server.Addr().String())

	friend, err := newAuthStream("127.0.0.1:0", nil, "the-secret-0123456789", "f", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer friend.Close()
	c, err := friend.Dial(addr, time.Second)
	if err != nil {
		t.Fatalf("dial with the secret: %v", err)
	}
	defer c.Close()
	sc := <-accepted
	defer sc.Close()
	if _, err := c.Write([]byte("append entries")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("append entries"))
	if _, err := io.ReadFull(sc, buf); err != nil || string(buf) != "append entries" {
		t.Fatalf("after the handshake: %q, %v", buf, err)
	}

	stranger, err := newAuthStream("127.0.0.1:0", nil, "another-secret-0123456789", "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if c, err := stranger.Dial(addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a node with another secret connected")
	}
	// A plain TCP client (no handshake) never gets through either.
	raw, err := net.Dial("tcp", string(addr))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = raw.Write(make([]byte, 48))
	raw.Close()
	select {
	case c := <-accepted:
		t.Fatalf("an unauthenticated connection was accepted: %v", c.RemoteAddr())
	case <-time.After(300 * time.Millisecond):
	}

	if _, err := newAuthStream("0.0.0.0:0", nil, "s", "z", nil); err == nil {
		t.Fatal("an unspecified bind address without an advertise address was accepted")
	}
}
