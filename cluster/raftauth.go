package cluster

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// authStream is Raft's TCP stream layer with mutual authentication by the
// cluster secret: before any Raft traffic both ends prove that they know
// it, answering a fresh challenge each. A process that can reach the Raft
// port without the secret cannot send Raft messages (vote, append entries)
// nor receive the log.
//
// The handshake, on each new connection (ids are node ids, one length
// byte then the bytes):
//
//	server → client  "SYRAFT1" + 16-byte challenge cs + server id
//	client → server  HMAC(key, "client" ‖ cs ‖ client id) + 16-byte challenge cc + client id
//	server → client  HMAC(key, "server" ‖ cc ‖ server id)
//
// where key is derived from the cluster secret. It authenticates; it does
// not encrypt.
type authStream struct {
	net.Listener
	advertise net.Addr
	key       []byte
	self      string  // this node's id, told to the other end
	faults    *Faults // test hook; nil in production
}

const (
	raftAuthMagic   = "SYRAFT1"
	raftAuthNonce   = 16
	raftAuthTimeout = 3 * time.Second
)

// errRaftAuth is returned when the other end does not prove the secret.
var errRaftAuth = errors.New("raft connection: the other node does not know the cluster secret")

func raftKey(secret string) []byte {
	sum := sha256.Sum256([]byte("switchyard raft\x00" + secret))
	return sum[:]
}

func newAuthStream(bind string, advertise net.Addr, secret, self string, faults *Faults) (*authStream, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	if a, ok := advertise.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("raft address %s is not advertisable (set the advertise address)", advertise)
	}
	return &authStream{Listener: ln, advertise: advertise, key: raftKey(secret), self: self, faults: faults}, nil
}

// Addr is the address other nodes dial.
func (s *authStream) Addr() net.Addr { return s.advertise }

func (s *authStream) mac(label string, nonce []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(label))
	m.Write(nonce)
	return m.Sum(nil)
}

// Accept returns the next connection whose client proved the secret;
// others are closed.
func (s *authStream) Accept() (net.Conn, error) {
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if err := s.serverHandshake(c); err != nil {
			c.Close()
			continue
		}
		return c, nil
	}
}

func (s *authStream) serverHandshake(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(raftAuthTimeout))
	defer c.SetDeadline(time.Time{})
	cs := make([]byte, raftAuthNonce)
	if _, err := rand.Read(cs); err != nil {
		return err
	}
	if _, err := c.Write(appendID(append([]byte(raftAuthMagic), cs...), s.self)); err != nil {
		return err
	}
	in := make([]byte, sha256.Size+raftAuthNonce)
	if _, err := io.ReadFull(c, in); err != nil {
		return err
	}
	peer, err := readID(c)
	if err != nil {
		return err
	}
	if !hmac.Equal(in[:sha256.Size], s.mac("client", append(cs, peer...))) {
		return errRaftAuth
	}
	if s.faults.blocked(peer) {
		return errLinkCut
	}
	if _, err := c.Write(s.mac("server", append(in[sha256.Size:], s.self...))); err != nil {
		return err
	}
	s.faults.track(peer, c)
	return nil
}

// errLinkCut refuses a connection to or from a peer a test cut off.
var errLinkCut = errors.New("raft link cut (fault injection)")

// appendID appends a node id (one length byte, then the id).
func appendID(b []byte, id string) []byte {
	if len(id) > 255 {
		id = id[:255]
	}
	return append(append(b, byte(len(id))), id...)
}

func readID(r io.Reader) (string, error) {
	var n [1]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", err
	}
	b := make([]byte, n[0])
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// Dial connects to another node and proves the secret both ways.
func (s *authStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(address), timeout)
	if err != nil {
		return nil, err
	}
	if err := s.clientHandshake(c, timeout); err != nil {
		c.Close()
		return nil, fmt.Errorf("raft connection to %s: %w", address, err)
	}
	return c, nil
}

func (s *authStream) clientHandshake(c net.Conn, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = raftAuthTimeout
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	defer c.SetDeadline(time.Time{})
	hello := make([]byte, len(raftAuthMagic)+raftAuthNonce)
	if _, err := io.ReadFull(c, hello); err != nil {
		return err
	}
	if string(hello[:len(raftAuthMagic)]) != raftAuthMagic {
		return errors.New("not a switchyard raft port")
	}
	peer, err := readID(c)
	if err != nil {
		return err
	}
	if s.faults.blocked(peer) {
		return errLinkCut
	}
	cc := make([]byte, raftAuthNonce)
	if _, err := rand.Read(cc); err != nil {
		return err
	}
	cs := hello[len(raftAuthMagic):]
	if _, err := c.Write(appendID(append(s.mac("client", append(cs, s.self...)), cc...), s.self)); err != nil {
		return err
	}
	proof := make([]byte, sha256.Size)
	if _, err := io.ReadFull(c, proof); err != nil {
		return errRaftAuth // the server closed: it rejected our proof
	}
	if !hmac.Equal(proof, s.mac("server", append(cc, peer...))) {
		return errRaftAuth
	}
	s.faults.track(peer, c)
	return nil
}
