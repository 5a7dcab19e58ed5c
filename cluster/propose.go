package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/nats-io/nats.go"

	"switchyard/storage"
)

// Propose commits cmd through Raft and returns once this node's state
// machine has applied it (read-your-writes), with the result this node's
// state machine computed. On the leader it appends directly; on a follower
// it forwards the encoded command to the leader over NATS, retrying with
// backoff while there is no leader or the one asked has just lost
// leadership (cases where the command was provably not appended), until
// ctx ends.
//
// An error means the command may or may not have been committed (for
// example ctx ended or the leader died mid-request), except ErrNoLeader,
// ErrShutdown before anything was sent, and encoding errors. Concurrent
// calls are fine and are pipelined; they are committed in no particular
// order relative to each other.
func (n *Node) Propose(ctx context.Context, cmd storage.Command) (storage.Result, error) {
	data, err := storage.Encode(cmd)
	if err != nil {
		return storage.Result{}, err
	}
	ctx, cancel := n.bound(ctx)
	defer cancel()
	idx, err := n.toLeader(ctx, SubjectPropose, data, func() (uint64, error) {
		f := n.raft.Apply(data, n.cfg.ApplyTimeout)
		err := f.Error()
		return f.Index(), err
	})
	if err != nil {
		return storage.Result{}, err
	}
	res, err := n.store.WaitResult(ctx, idx)
	if err != nil {
		return storage.Result{}, n.lifeErr(fmt.Errorf("wait for index %d to apply: %w", idx, err))
	}
	return res, nil
}

// MaxVoters is the most voting members a cluster gets; AddVoter adds
// further nodes as non-voters.
const MaxVoters = 7

// AddVoter adds a member, or updates the address of an existing one. The
// voters stay an odd number, at most MaxVoters (VotersFor): a node that
// would make them even joins as a non-voter and is promoted when the next
// node joins (or a voter is removed). Any node may call it (followers
// forward it to the leader); it returns once the new configuration, and
// any promotion it allowed, is committed.
func (n *Node) AddVoter(ctx context.Context, id, raftAddr string) error {
	return n.changeMembership(ctx, memberAddVoter, id, raftAddr)
}

// RemoveServer removes a member, then promotes a non-voter or demotes a
// voter so that VotersFor(members) vote. Any node may call it; it returns once the
// new configuration is committed.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	return n.changeMembership(ctx, memberRemove, id, "")
}

// Join asks the leader to add this node as a voter (serve --join). It
// retries until a leader is reachable or ctx ends; joining twice is
// harmless.
func (n *Node) Join(ctx context.Context) error {
	return n.AddVoter(ctx, n.cfg.NodeID, string(n.addr))
}

// Member is one server of the Raft configuration.
type Member struct {
	ID      string
	Address string
	Voter   bool
	Leader  bool
}

// Members lists the Raft configuration as this node knows it.
func (n *Node) Members() ([]Member, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raft configuration: %w", err)
	}
	_, leader := n.raft.LeaderWithID()
	var out []Member
	for _, s := range f.Configuration().Servers {
		out = append(out, Member{
			ID:      string(s.ID),
			Address: string(s.Address),
			Voter:   s.Suffrage == raft.Voter,
			Leader:  s.ID == leader,
		})
	}
	return out, nil
}

func (n *Node) changeMembership(ctx context.Context, op byte, id, addr string) error {
	if id == "" {
		return errors.New("cluster: member id is required")
	}
	ctx, cancel := n.bound(ctx)
	defer cancel()
	_, err := n.toLeader(ctx, SubjectMember, encodeMember(op, id, addr), func() (uint64, error) {
		return n.applyMember(op, id, addr)
	})
	return err
}

// bound returns a context that also ends when the node shuts down.
func (n *Node) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(n.life, cancel)
	return ctx, func() { stop(); cancel() }
}

// lifeErr turns an error caused by shutdown into ErrShutdown.
func (n *Node) lifeErr(err error) error {
	if n.life.Err() != nil {
		return fmt.Errorf("%w (%v)", ErrShutdown, err)
	}
	return err
}

// toLeader runs local when this node leads, else sends payload to the
// leader on subject, and retries while the failure proves nothing was
// appended. It returns the Raft index of the committed entry.
func (n *Node) toLeader(ctx context.Context, subject string, payload []byte, local func() (uint64, error)) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, n.lifeErr(err)
	}
	backoff := time.Millisecond
	for {
		var idx uint64
		var err error
		switch {
		case n.IsLeader():
			idx, err = local()
		case subject == SubjectPropose && n.LeaderID() == "":
			// Raft here knows no leader (an election, or this node is cut
			// off from the majority): forwarding over NATS could still
			// commit the command, but this node could not apply it and
			// would answer with a timeout for a write that happened.
			// Past a few heartbeats without a leader it is not an
			// election any more: refuse at once. (Membership changes are
			// forwarded regardless: a joining node knows no leader yet.)
			if since := time.Since(n.raft.LastContact()); !n.raft.LastContact().IsZero() && since > 3*n.cfg.HeartbeatTimeout+n.cfg.ElectionTimeout {
				return 0, fmt.Errorf("%w: no contact with a leader for %s (this node may be cut off from the majority)", ErrNoLeader, since.Round(time.Second))
			}
			err = ErrNoLeader
		default:
			idx, err = n.forward(ctx, subject, payload)
		}
		if err == nil {
			return idx, nil
		}
		if n.life.Err() != nil {
			return 0, n.lifeErr(err)
		}
		if !retryable(err) {
			return 0, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, n.lifeErr(fmt.Errorf("%w: %w (last attempt: %v)", ErrNoLeader, ctx.Err(), err))
		case <-t.C:
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// forward sends one request to whichever node subscribes to subject (the
// leader) and decodes its reply.
func (n *Node) forward(ctx context.Context, subject string, payload []byte) (uint64, error) {
	rctx, cancel := context.WithTimeout(ctx, n.cfg.ApplyTimeout)
	defer cancel()
	msg, err := n.request(rctx, subject, payload)
	if errors.Is(err, nats.ErrNoResponders) {
		return 0, ErrNoLeader
	}
	if err != nil {
		return 0, fmt.Errorf("forward to leader: %w", err)
	}
	return decodeReply(msg.Data)
}

// errRetry is what a leader answers when it could not take a request but
// did not append it either (it is stepping down or shutting down).
var errRetry = errors.New("leader cannot take requests now")

// retryable reports whether err proves the request was not appended to the
// log, so that sending it again cannot apply it twice.
func retryable(err error) bool {
	return errors.Is(err, ErrNoLeader) ||
		errors.Is(err, errRetry) ||
		errors.Is(err, raft.ErrNotLeader) ||
		errors.Is(err, raft.ErrLeadershipTransferInProgress)
}

// serveProposal runs on the leader, on the NATS subscription's goroutine:
// requests from one follower are appended in the order they were sent.
// Only the wait for commit runs on its own goroutine, so forwarded
// proposals are pipelined.
func (n *Node) serveProposal(m *nats.Msg) {
	// An entry that does not decode would stop every replica's state
	// machine; refuse it before it reaches the log.
	if _, err := storage.Decode(m.Data); err != nil {
		n.respond(m, 0, fmt.Errorf("refusing forwarded command: %w", err))
		return
	}
	if !n.track() {
		n.respond(m, 0, errRetry)
		return
	}
	f := n.raft.Apply(m.Data, n.cfg.ApplyTimeout)
	go func() {
		defer n.inflight.Done()
		err := f.Error()
		n.respond(m, f.Index(), err)
	}()
}

// serveMember runs on the leader and applies a forwarded membership change.
func (n *Node) serveMember(m *nats.Msg) {
	op, id, addr, err := decodeMember(m.Data)
	if err != nil {
		n.respond(m, 0, err)
		return
	}
	if !n.track() {
		n.respond(m, 0, errRetry)
		return
	}
	go func() {
		defer n.inflight.Done()
		idx, err := n.applyMember(op, id, addr)
		n.respond(m, idx, err)
	}()
}

// track registers a leader-side goroutine unless shutdown has started.
func (n *Node) track() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing {
		return false
	}
	n.inflight.Add(1)
	return true
}

func (n *Node) applyMember(op byte, id, addr string) (uint64, error) {
	var f raft.IndexFuture
	switch op {
	case memberAddVoter:
		if voters, total, suffrage := n.census(id); suffrage != raft.Voter && voters >= VotersFor(total+1) {
			// The new node (or a non-voter re-joining) would make the
			// voters even or more than seven: it replicates the log and
			// serves, but does not vote.
			f = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, n.cfg.ApplyTimeout)
		} else {
			f = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, n.cfg.ApplyTimeout)
		}
	case memberRemove:
		f = n.raft.RemoveServer(raft.ServerID(id), 0, n.cfg.ApplyTimeout)
	default:
		return 0, fmt.Errorf("unknown membership operation %d", op)
	}
	if err := f.Error(); err != nil {
		return f.Index(), err
	}
	return n.rebalance(f.Index())
}

// VotersFor is how many of total members vote: the largest odd number not
// above total or MaxVoters. An even number of voters tolerates no more
// failures than one fewer, and every commit waits for more of them.
func VotersFor(total int) int {
	v := min(total, MaxVoters)
	if v%2 == 0 {
		v--
	}
	return max(v, 1)
}

// census counts the configuration's voters and members other than id, and
// reports id's suffrage (raft.Staging, which Raft no longer uses, when id
// is not a member).
func (n *Node) census(id string) (voters, total int, suffrage raft.ServerSuffrage) {
	suffrage = raft.Staging
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0, 0, suffrage
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == id {
			suffrage = s.Suffrage
			continue
		}
		total++
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	return voters, total, suffrage
}

// rebalance promotes non-voters (in id order) or demotes voters (in
// reverse id order, never this leader) until the cluster has
// VotersFor(members) voters, after a join or a removal. It returns the
// index of the last configuration change (idx when there was none).
func (n *Node) rebalance(idx uint64) (uint64, error) {
	for {
		if !n.IsLeader() {
			return idx, nil // it removed itself; the next leader's changes will do
		}
		f := n.raft.GetConfiguration()
		if err := f.Error(); err != nil {
			return idx, err
		}
		servers := slices.Clone(f.Configuration().Servers)
		slices.SortFunc(servers, func(a, b raft.Server) int { return strings.Compare(string(a.ID), string(b.ID)) })
		voters := 0
		for _, s := range servers {
			if s.Suffrage == raft.Voter {
				voters++
			}
		}
		want := VotersFor(len(servers))
		var af raft.IndexFuture
		var change string
		switch {
		case voters < want:
			for _, s := range servers {
				if s.Suffrage != raft.Voter {
					af, change = n.raft.AddVoter(s.ID, s.Address, 0, n.cfg.ApplyTimeout), "promoted "+string(s.ID)+" to voter"
					break
				}
			}
		case voters > want:
			for i := len(servers) - 1; i >= 0; i-- {
				if s := servers[i]; s.Suffrage == raft.Voter && string(s.ID) != n.cfg.NodeID {
					af, change = n.raft.DemoteVoter(s.ID, 0, n.cfg.ApplyTimeout), "made "+string(s.ID)+" a non-voter"
					break
				}
			}
		}
		if af == nil {
			return idx, nil
		}
		if err := af.Error(); err != nil {
			return idx, fmt.Errorf("%s: %w", change, err)
		}
		n.log.Info("membership: " + change)
		idx = af.Index()
	}
}

func (n *Node) respond(m *nats.Msg, idx uint64, err error) {
	if rerr := m.Respond(encodeReply(idx, err)); rerr != nil && !errors.Is(rerr, nats.ErrConnectionClosed) {
		n.log.Warn("reply to forwarded request", "subject", m.Subject, "err", rerr)
	}
}

// A reply to a forwarded request is a status byte followed by the
// committed index (uvarint) or an error message.
const (
	replyOK     byte = 0
	replyRetry  byte = 1 // not appended; the sender may retry
	replyFailed byte = 2 // final; the request may or may not have been committed
)

func encodeReply(idx uint64, err error) []byte {
	switch {
	case err == nil:
		return binary.AppendUvarint([]byte{replyOK}, idx)
	case retryable(err):
		return append([]byte{replyRetry}, err.Error()...)
	default:
		return append([]byte{replyFailed}, err.Error()...)
	}
}

func decodeReply(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, errors.New("forward to leader: empty reply")
	}
	switch b[0] {
	case replyOK:
		idx, n := binary.Uvarint(b[1:])
		if n <= 0 || idx == 0 {
			return 0, errors.New("forward to leader: bad reply")
		}
		return idx, nil
	case replyRetry:
		return 0, fmt.Errorf("%w: %s", errRetry, b[1:])
	default:
		return 0, fmt.Errorf("leader: %s", b[1:])
	}
}

// Membership requests: an operation byte, then the id and the address,
// each as a uvarint length and the bytes.
const (
	memberAddVoter byte = 1
	memberRemove   byte = 2
)

func encodeMember(op byte, id, addr string) []byte {
	b := []byte{op}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(len(addr)))
	return append(b, addr...)
}

func decodeMember(b []byte) (op byte, id, addr string, err error) {
	bad := errors.New("malformed membership request")
	if len(b) < 1 {
		return 0, "", "", bad
	}
	op, b = b[0], b[1:]
	var parts [2]string
	for i := range parts {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return 0, "", "", bad
		}
		parts[i] = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	return op, parts[0], parts[1], nil
}
