package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/nats-io/nats.go"

	"switchyard/storage"
)

// Errors returned by Node. Callers match them with errors.Is.
var (
	// ErrShutdown means the node is shut down or shutting down.
	ErrShutdown = errors.New("cluster node is shut down")
	// ErrNoLeader means no leader could be reached before the context
	// ended (election in progress, or this node is in a minority
	// partition). The command was not committed.
	ErrNoLeader = errors.New("no raft leader reachable")
)

// Config configures a Node. The zero value of every field but Dir is
// usable; tests pass short timeouts, temporary directories and port 0.
type Config struct {
	// NodeID is this node's Raft server id and NATS server name. It must be
	// unique in the cluster and must not change once the node has Raft
	// state. Default "node1".
	NodeID string
	// Dir is the node's data directory (e.g. ./data). The node owns
	// Dir/raft-snapshots; the caller opens the state and local stores.
	// Required.
	Dir string
	// RaftAddr is the TCP address Raft listens on ("host:port"; port 0
	// picks a free port, see Node.RaftAddress). Empty means single-node
	// mode: in-memory Raft transport, no port opened, and the node
	// bootstraps itself on first start. Restarting a single node with a
	// RaftAddr turns it into the first node of a cluster (it updates its
	// own address when it becomes leader). Default "".
	RaftAddr string
	// RaftAdvertise is the address other nodes dial to reach this node's
	// Raft; needed when RaftAddr binds 0.0.0.0. Default: RaftAddr's bound
	// address.
	RaftAdvertise string
	// Bootstrap makes the node form a one-voter cluster of itself when it
	// has no Raft state yet. Set it on the first node of a new cluster
	// only; the others start without it and Join. Ignored in single-node
	// mode, which always bootstraps. Default false.
	Bootstrap bool
	// NATSClusterAddr is the address the embedded NATS server accepts
	// routes from other nodes on ("host:port"; port 0 picks a free port,
	// see Node.NATSClusterAddr). Empty means no clustering: NATS opens no
	// port at all. Followers forward proposals over NATS, so every node of
	// a multi-node cluster needs it. Default "".
	NATSClusterAddr string
	// Faults (tests only) cuts this node's Raft links and NATS messages
	// to chosen peers; it needs ClusterSecret. Default nil.
	Faults *Faults
	// ClusterSecret, when set, authenticates the Raft connections and the
	// NATS routes between nodes (every node must have the same). Default
	// "": neither is authenticated (single node, or tests).
	ClusterSecret string
	// NATSAdvertise is the route address other nodes dial, when
	// NATSClusterAddr binds 0.0.0.0 (containers). Default: the bound
	// address.
	NATSAdvertise string
	// NATSRoutes are seed routes ("host:port" or "nats://host:port") to
	// other nodes' NATSClusterAddr; routes gossip the rest, and a route to
	// this node itself is ignored, so every node may get the same list.
	// Default none.
	NATSRoutes []string
	// Logger receives warnings and errors from Raft, NATS and the node.
	// Default: discard.
	Logger *slog.Logger

	// HeartbeatTimeout is how long a follower waits without contact from
	// the leader before it starts an election. Default 1s (50ms in
	// single-node mode, where it only delays the first election).
	HeartbeatTimeout time.Duration
	// ElectionTimeout is how long a candidate waits before retrying an
	// election; at least HeartbeatTimeout. Default 1s (50ms single-node),
	// or HeartbeatTimeout if that is longer.
	ElectionTimeout time.Duration
	// LeaderLeaseTimeout is how long a leader stays leader without
	// contact from a quorum; at most HeartbeatTimeout. Default 500ms
	// (50ms single-node), or HeartbeatTimeout if that is shorter.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout bounds how long a follower may wait to learn a new
	// commit index when there is no other traffic. Default 50ms.
	CommitTimeout time.Duration
	// SnapshotThreshold is how many new log entries trigger an automatic
	// snapshot (checked every SnapshotInterval). Default 8192.
	SnapshotThreshold uint64
	// SnapshotInterval is how often Raft checks whether to snapshot.
	// Default 120s.
	SnapshotInterval time.Duration
	// TrailingLogs is how many log entries are kept after a snapshot, so a
	// slightly lagging follower catches up from the log instead of a full
	// snapshot. Default 10240.
	TrailingLogs uint64
	// ApplyTimeout bounds one attempt to commit: the wait to enqueue a
	// command on the leader, and one forwarded request from a follower (a
	// leader that dies mid-request costs the caller this long). Default 5s.
	ApplyTimeout time.Duration
}

func (c *Config) setDefaults() {
	single := c.RaftAddr == ""
	pick := func(d *time.Duration, cluster, one time.Duration) {
		if *d == 0 {
			*d = cluster
			if single {
				*d = one
			}
		}
	}
	if c.NodeID == "" {
		c.NodeID = "node1"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	pick(&c.HeartbeatTimeout, time.Second, 50*time.Millisecond)
	// Keep defaults consistent with an explicit HeartbeatTimeout (Raft
	// requires lease <= heartbeat <= election).
	pick(&c.ElectionTimeout, max(time.Second, c.HeartbeatTimeout), max(50*time.Millisecond, c.HeartbeatTimeout))
	pick(&c.LeaderLeaseTimeout, min(500*time.Millisecond, c.HeartbeatTimeout), min(50*time.Millisecond, c.HeartbeatTimeout))
	pick(&c.CommitTimeout, 50*time.Millisecond, 50*time.Millisecond)
	pick(&c.SnapshotInterval, 120*time.Second, 120*time.Second)
	pick(&c.ApplyTimeout, 5*time.Second, 5*time.Second)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
}

// Node is one member of the Raft group plus its embedded NATS server. It
// implements storage.Proposer. All methods are safe for concurrent use.
type Node struct {
	cfg   Config
	log   *slog.Logger
	store *storage.Store
	raft  *raft.Raft
	trans closingTransport
	addr  raft.ServerAddress // this node's Raft address, as bound
	bus   *bus

	// life is cancelled when shutdown starts; it ends waits in Propose.
	life       context.Context
	lifeCancel context.CancelFunc

	mu         sync.Mutex
	closing    bool                 // guarded by mu; set once shutdown starts
	leading    bool                 // guarded by mu; as last reported by Raft
	leaderSubs []*nats.Subscription // guarded by mu; non-nil while leading and for a grace period after
	unsubTimer *time.Timer          // guarded by mu; pending delayed unsubscribe
	inflight   sync.WaitGroup       // leader-side goroutines answering forwarded requests

	caughtUp     atomic.Bool
	firstLeader  chan struct{} // closed the first time this node leads
	leaderOnce   sync.Once
	stop         chan struct{} // closed to stop watchLeadership
	loopDone     chan struct{}
	shutdownOnce sync.Once
	shutdownDone chan struct{}
	shutdownErr  error
}

var _ storage.Proposer = (*Node)(nil)

// Open starts NATS and Raft for a node whose state machine is store and
// whose Raft log lives in local. It bootstraps a new single node or a new
// cluster's first node (Config.Bootstrap); a node restarted from the same
// directories keeps its state, applied index and membership. In
// single-node mode Open returns once the node leads; otherwise it returns
// as soon as Raft runs (use Join, Ready or IsLeader to wait for more).
//
// The caller keeps ownership of store and local and closes them after
// Shutdown.
func Open(cfg Config, store *storage.Store, local *storage.Local) (*Node, error) {
	cfg.setDefaults()
	if cfg.Dir == "" {
		return nil, errors.New("cluster: Config.Dir is required")
	}
	if store == nil || local == nil {
		return nil, errors.New("cluster: store and local are required")
	}
	single := cfg.RaftAddr == ""
	log := cfg.Logger.With("node", cfg.NodeID)
	hlog := newHclogBridge(log, "raft")

	files, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(cfg.Dir, "raft-snapshots"), 2, hlog)
	if err != nil {
		return nil, fmt.Errorf("cluster: snapshot store: %w", err)
	}
	checkpoints := filepath.Join(cfg.Dir, "raft-snapshots", "checkpoints")
	snaps := newCheckpointStore(files, checkpoints)
	if err := restoreIfBehind(snaps, store, log); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	logs := NewLogStore(local.DB())
	existing, err := raft.HasExistingState(logs, logs, snaps)
	if err != nil {
		return nil, fmt.Errorf("cluster: read raft state: %w", err)
	}

	b, err := startBus(&cfg, log)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	trans, err := newTransport(&cfg, hlog)
	if err != nil {
		b.close()
		return nil, fmt.Errorf("cluster: raft transport: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hlog
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256
	rc.NoSnapshotRestoreOnStart = true // the state store persists itself
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs

	cached, err := raft.NewLogCache(512, logs)
	if err != nil {
		_ = trans.Close()
		b.close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	r, err := raft.NewRaft(rc, &fsm{store: store, checkpoints: checkpoints}, cached, logs, snaps, trans)
	if err != nil {
		_ = trans.Close()
		b.close()
		return nil, fmt.Errorf("cluster: start raft: %w", err)
	}

	n := &Node{
		cfg:          cfg,
		log:          log,
		store:        store,
		raft:         r,
		trans:        trans,
		addr:         trans.LocalAddr(),
		bus:          b,
		firstLeader:  make(chan struct{}),
		stop:         make(chan struct{}),
		loopDone:     make(chan struct{}),
		shutdownDone: make(chan struct{}),
	}
	n.life, n.lifeCancel = context.WithCancel(context.Background())
	go n.watchLeadership()
	if _, err := b.nc.Subscribe(SubjectStatus(cfg.NodeID), n.handler(n.serveStatus)); err != nil {
		_ = n.shutdown(context.Background(), false)
		return nil, fmt.Errorf("cluster: status subscription: %w", err)
	}

	if !existing && (single || cfg.Bootstrap) {
		boot := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: n.addr}}}
		if err := r.BootstrapCluster(boot).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			_ = n.shutdown(context.Background(), false)
			return nil, fmt.Errorf("cluster: bootstrap: %w", err)
		}
	}
	if single {
		wait := max(10*time.Second, 20*cfg.ElectionTimeout)
		select {
		case <-n.firstLeader:
		case <-time.After(wait):
			_ = n.shutdown(context.Background(), false)
			return nil, fmt.Errorf("cluster: single node did not become leader within %s (is its Raft configuration from a multi-node cluster?)", wait)
		}
	}
	return n, nil
}

type closingTransport interface {
	raft.Transport
	Close() error
}

func newTransport(cfg *Config, hlog hclog.Logger) (closingTransport, error) {
	if cfg.RaftAddr == "" {
		// A stable address, so that a restarted single node finds itself
		// in its persisted configuration.
		_, t := raft.NewInmemTransport(raft.ServerAddress("inmem:" + cfg.NodeID))
		return t, nil
	}
	var adv net.Addr
	if cfg.RaftAdvertise != "" {
		a, err := net.ResolveTCPAddr("tcp", cfg.RaftAdvertise)
		if err != nil {
			return nil, err
		}
		adv = a
	}
	if cfg.ClusterSecret != "" {
		stream, err := newAuthStream(cfg.RaftAddr, adv, cfg.ClusterSecret, cfg.NodeID, cfg.Faults)
		if err != nil {
			return nil, err
		}
		return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: stream, MaxPool: 3, Timeout: 10 * time.Second, Logger: hlog,
		}), nil
	}
	return raft.NewTCPTransportWithLogger(cfg.RaftAddr, adv, 3, 10*time.Second, hlog)
}

// restoreIfBehind restores the state store from the newest Raft snapshot
// when the store is behind it. Raft itself does not (NoSnapshotRestoreOnStart:
// the store normally persists its own state), but it does skip every entry
// up to the snapshot's index on start, so a state directory lost or
// replaced by an older one would otherwise silently miss those entries.
func restoreIfBehind(snaps *checkpointStore, store *storage.Store, log *slog.Logger) error {
	metas, err := snaps.List()
	if err != nil {
		return fmt.Errorf("list raft snapshots: %w", err)
	}
	if len(metas) == 0 {
		return nil
	}
	// The header alone says whether the state is behind; only then is the
	// snapshot's state read.
	_, raw, err := snaps.FileSnapshotStore.Open(metas[0].ID)
	if err != nil {
		return fmt.Errorf("open raft snapshot %s: %w", metas[0].ID, err)
	}
	idx, err := readSnapshotHeader(raw)
	raw.Close()
	if err != nil {
		return fmt.Errorf("raft snapshot %s: %w", metas[0].ID, err)
	}
	if store.AppliedIndex() >= idx {
		return nil
	}
	log.Warn("state store is behind the newest raft snapshot; restoring it",
		"applied", store.AppliedIndex(), "snapshot_applied", idx, "snapshot", metas[0].ID)
	_, rc, err := snaps.Open(metas[0].ID)
	if err != nil {
		return fmt.Errorf("open raft snapshot %s: %w", metas[0].ID, err)
	}
	defer rc.Close()
	if _, err := readSnapshotHeader(rc); err != nil {
		return fmt.Errorf("raft snapshot %s: %w", metas[0].ID, err)
	}
	if err := store.Restore(rc); err != nil {
		return fmt.Errorf("restore raft snapshot %s: %w", metas[0].ID, err)
	}
	return nil
}

// LeaderInfo is published on SubjectLeader by a node that becomes leader.
type LeaderInfo struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Term     uint64 `json:"term"`
}

// watchLeadership follows this node's leadership: while it leads, it
// serves forwarded requests; when it becomes leader it announces itself
// and fixes its own address in the configuration if it changed.
func (n *Node) watchLeadership() {
	defer close(n.loopDone)
	ch := n.raft.LeaderCh()
	for {
		select {
		case <-n.stop:
			n.setLeading(false)
			return
		case leading := <-ch:
			n.setLeading(leading)
			if !leading {
				continue
			}
			n.leaderOnce.Do(func() { close(n.firstLeader) })
			info, _ := json.Marshal(LeaderInfo{ID: n.cfg.NodeID, RaftAddr: string(n.addr), Term: n.raft.CurrentTerm()})
			if err := n.publish(SubjectLeader, info); err != nil {
				n.log.Warn("announce leadership", "err", err)
			}
			n.fixOwnAddress()
		}
	}
}

// setLeading subscribes to the leader-only subjects when this node becomes
// leader. When it stops leading it keeps them for a grace period of two
// election timeouts and answers "retry" meanwhile: NATS may still route a
// request to the old leader's server until the unsubscription has spread,
// and a request that arrives after it unsubscribed is silently dropped,
// which the sender could only see as an (ambiguous) timeout.
func (n *Node) setLeading(leading bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.leading = leading
	if n.unsubTimer != nil {
		n.unsubTimer.Stop()
		n.unsubTimer = nil
	}
	switch {
	case n.closing:
		n.unsubscribeLocked()
	case leading && n.leaderSubs == nil:
		for _, s := range []struct {
			subject string
			handler nats.MsgHandler
		}{{SubjectPropose, n.serveProposal}, {SubjectMember, n.serveMember}} {
			sub, err := n.bus.nc.QueueSubscribe(s.subject, natsQueueLeader, n.handler(s.handler))
			if err != nil {
				n.log.Error("subscribe to leader subject", "subject", s.subject, "err", err)
				continue
			}
			n.leaderSubs = append(n.leaderSubs, sub)
		}
	case !leading && n.leaderSubs != nil:
		n.unsubTimer = time.AfterFunc(2*n.cfg.ElectionTimeout, func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			if !n.leading {
				n.unsubscribeLocked()
			}
		})
	}
}

func (n *Node) unsubscribeLocked() {
	for _, sub := range n.leaderSubs {
		_ = sub.Unsubscribe()
	}
	n.leaderSubs = nil
}

// fixOwnAddress updates this node's entry in the Raft configuration when
// its address changed (a single node restarted with a TCP address).
func (n *Node) fixOwnAddress() {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return
	}
	for _, s := range f.Configuration().Servers {
		if s.ID != raft.ServerID(n.cfg.NodeID) || s.Address == n.addr || s.Suffrage != raft.Voter {
			continue
		}
		n.log.Info("updating own raft address", "old", s.Address, "new", n.addr)
		if err := n.raft.AddVoter(s.ID, n.addr, 0, n.cfg.ApplyTimeout).Error(); err != nil {
			n.log.Warn("update own raft address", "err", err)
		}
	}
}

// IsLeader reports whether this node currently leads (it may lose
// leadership right after).
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// LeaderID is the id of the leader this node knows of, or "" when none.
func (n *Node) LeaderID() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// Ready reports whether this node can serve: it knows a leader and it has
// once caught up, applying everything committed that it knew of. It is
// cheap (atomics only) and meant for /readyz. A node that loses its leader
// (minority partition, election) is not ready until it finds one and
// catches up again.
func (n *Node) Ready() bool {
	if n.LeaderID() == "" {
		n.caughtUp.Store(false)
		return false
	}
	if n.caughtUp.Load() {
		return true
	}
	c := n.raft.CommitIndex()
	if c > 0 && n.raft.AppliedIndex() >= c {
		n.caughtUp.Store(true)
		return true
	}
	return false
}

// RaftAddress is the address this node's Raft transport is bound to (with
// the real port when RaftAddr asked for port 0).
func (n *Node) RaftAddress() string { return string(n.addr) }

// NATSClusterAddr is the address the NATS route listener is bound to, ""
// in single-node mode. Other nodes list it in NATSRoutes.
func (n *Node) NATSClusterAddr() string { return n.bus.clusterAddr() }

// Publish sends data on a NATS subject (at most once, lossy).
func (n *Node) Publish(subject string, data []byte) error {
	if err := n.publish(subject, data); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	return nil
}

// HasSubscribers reports whether any node's NATS client (this one's
// included) subscribes to subject, so publishers can skip building
// messages nobody reads.
func (n *Node) HasSubscribers(subject string) bool {
	acc := n.bus.srv.GlobalAccount()
	return acc != nil && acc.SubscriptionInterest(subject)
}

// Subscribe calls fn with every message published on subject (NATS
// wildcards allowed) by any node, this one included. fn runs on one
// goroutine per subscription, in order; it must not block for long and
// must not keep data after it returns. The returned func unsubscribes.
func (n *Node) Subscribe(subject string, fn func(data []byte)) (unsubscribe func(), err error) {
	sub, err := n.bus.nc.Subscribe(subject, n.handler(func(m *nats.Msg) { fn(m.Data) }))
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	// Round trip to the server: the subscription is registered (and
	// HasSubscribers sees it) when Subscribe returns.
	if err := n.bus.nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	return func() { _ = sub.Unsubscribe(); _ = n.bus.nc.Flush() }, nil
}

// Snapshot takes a Raft snapshot now and compacts the log (keeping
// TrailingLogs entries). Nothing new to snapshot is not an error.
func (n *Node) Snapshot() error {
	err := n.raft.Snapshot().Error()
	if err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	return nil
}

// Shutdown stops Raft (handing leadership to another voter first when
// this node leads a multi-node cluster) and NATS. It is idempotent; when
// ctx ends first it returns ctx's error while shutdown continues in the
// background. The caller closes the stores afterwards.
func (n *Node) Shutdown(ctx context.Context) error { return n.shutdown(ctx, true) }

// Kill stops the node as a crash would, for in-process fault tests: a
// leader does not hand over its leadership first, so the others notice
// only when its heartbeats stop. Otherwise it is Shutdown.
func (n *Node) Kill(ctx context.Context) error { return n.shutdown(ctx, false) }

func (n *Node) shutdown(ctx context.Context, transfer bool) error {
	n.shutdownOnce.Do(func() {
		go func() {
			n.shutdownErr = n.doShutdown(transfer)
			close(n.shutdownDone)
		}()
	})
	select {
	case <-n.shutdownDone:
		return n.shutdownErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (n *Node) doShutdown(transfer bool) error {
	n.mu.Lock()
	n.closing = true
	n.mu.Unlock()
	n.lifeCancel()
	if transfer && n.IsLeader() && n.voters() > 1 {
		if err := n.raft.LeadershipTransfer().Error(); err != nil {
			n.log.Warn("leadership transfer before shutdown", "err", err)
		}
	}
	// Raft shutdown fails pending futures, so the goroutines answering
	// forwarded requests finish; it also closes the transport.
	err := n.raft.Shutdown().Error()
	if nt, ok := n.trans.(*raft.NetworkTransport); ok {
		// Close pooled outbound connections too, so that peers'
		// connection handlers end instead of waiting for a read forever.
		nt.CloseStreams()
	}
	close(n.stop)
	<-n.loopDone
	n.inflight.Wait()
	n.bus.close()
	if err != nil {
		return fmt.Errorf("raft shutdown: %w", err)
	}
	return nil
}

// isVoter reports whether id is a voting member.
func (n *Node) isVoter(id string) bool {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == id {
			return s.Suffrage == raft.Voter
		}
	}
	return false
}

// Status is what a node reports about itself (GET /api/cluster/status
// gathers one from every member over NATS).
type Status struct {
	ID string `json:"id"`
	// State is "leader", "follower", "candidate", "nonvoter" or "shutdown".
	State        string `json:"state"`
	AppliedIndex uint64 `json:"applied_index"`
	// LastContactMs is how long ago this node last heard from the leader
	// (0 on the leader itself).
	LastContactMs int64  `json:"last_contact_ms"`
	RaftAddr      string `json:"raft_addr"`
	Leader        string `json:"leader"`
}

// LocalStatus reports this node's own view.
func (n *Node) LocalStatus() Status {
	st := Status{ID: n.cfg.NodeID, AppliedIndex: n.store.AppliedIndex(), RaftAddr: string(n.addr), Leader: n.LeaderID()}
	switch n.raft.State() {
	case raft.Leader:
		st.State = "leader"
	case raft.Candidate:
		st.State = "candidate"
	case raft.Shutdown:
		st.State = "shutdown"
	default:
		st.State = "follower"
		if !n.isVoter(n.cfg.NodeID) {
			st.State = "nonvoter"
		}
		if lc := n.raft.LastContact(); !lc.IsZero() {
			st.LastContactMs = time.Since(lc).Milliseconds()
		}
	}
	return st
}

// PeerStatus asks member id for its Status over NATS; an unreachable
// member answers with an error when ctx ends.
func (n *Node) PeerStatus(ctx context.Context, id string) (Status, error) {
	if id == n.cfg.NodeID {
		return n.LocalStatus(), nil
	}
	m, err := n.request(ctx, SubjectStatus(id), nil)
	if err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", id, err)
	}
	var st Status
	if err := json.Unmarshal(m.Data, &st); err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", id, err)
	}
	return st, nil
}

// serveStatus answers PeerStatus requests for this node.
func (n *Node) serveStatus(m *nats.Msg) {
	b, err := json.Marshal(n.LocalStatus())
	if err == nil {
		err = m.Respond(b)
	}
	if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		n.log.Warn("answer status request", "err", err)
	}
}

func (n *Node) voters() int {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	v := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			v++
		}
	}
	return v
}
