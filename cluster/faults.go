package cluster

import (
	"context"
	"net"
	"sync"

	"github.com/nats-io/nats.go"
)

// Faults cuts a node off from chosen peers, for partition tests: Raft
// connections to or from them are refused and the open ones are closed,
// and NATS messages between them are dropped (the routes themselves stay
// up, so this is a partition as the node sees it, not as the network
// does). Cut both sides (each node has its own Faults) for a symmetric
// partition.
//
// With Faults set, the node stamps every NATS message it sends with its
// id (header Sy-From) and drops what arrives from a cut peer; without it
// (production) messages carry no header and nothing is checked. The zero
// value cuts nothing. Safe for concurrent use; a nil *Faults does nothing.
type Faults struct {
	mu    sync.Mutex
	cut   map[string]bool
	conns map[string][]net.Conn
}

// headerFrom names the sender of a NATS message (only when Faults is set).
const headerFrom = "Sy-From"

// Cut isolates this node from peers (node ids).
func (f *Faults) Cut(peers ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut == nil {
		f.cut = map[string]bool{}
	}
	for _, p := range peers {
		f.cut[p] = true
		for _, c := range f.conns[p] {
			c.Close()
		}
		delete(f.conns, p)
	}
}

// Heal restores every link.
func (f *Faults) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut = nil
}

func (f *Faults) blocked(peer string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut[peer]
}

func (f *Faults) track(peer string, c net.Conn) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		f.conns = map[string][]net.Conn{}
	}
	live := f.conns[peer][:0]
	for _, old := range f.conns[peer] {
		if old != c {
			live = append(live, old)
		}
	}
	f.conns[peer] = append(live, c)
}

// The node's NATS traffic goes through these three, so that Faults can
// stamp and filter it.

// msg builds an outgoing message, stamped with this node's id under Faults.
func (n *Node) msg(subject string, data []byte) *nats.Msg {
	m := &nats.Msg{Subject: subject, Data: data}
	if n.cfg.Faults != nil {
		m.Header = nats.Header{headerFrom: []string{n.cfg.NodeID}}
	}
	return m
}

func (n *Node) publish(subject string, data []byte) error {
	if n.cfg.Faults == nil {
		return n.bus.nc.Publish(subject, data)
	}
	return n.bus.nc.PublishMsg(n.msg(subject, data))
}

func (n *Node) request(ctx context.Context, subject string, data []byte) (*nats.Msg, error) {
	if n.cfg.Faults == nil {
		return n.bus.nc.RequestWithContext(ctx, subject, data)
	}
	return n.bus.nc.RequestMsgWithContext(ctx, n.msg(subject, data))
}

// handler wraps a subscription's handler: under Faults, messages from cut
// peers are dropped before it sees them.
func (n *Node) handler(h nats.MsgHandler) nats.MsgHandler {
	if n.cfg.Faults == nil {
		return h
	}
	return func(m *nats.Msg) {
		if n.cfg.Faults.blocked(m.Header.Get(headerFrom)) {
			return
		}
		h(m)
	}
}
