package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// OpenRecord is written to the outbox before a request goes upstream.
type OpenRecord struct {
	RequestID string `json:"request_id"`
	UserID    int64  `json:"user_id"`
	TokenID   int64  `json:"token_id"`
	TokenName string `json:"token_name"`
	ChannelID int64  `json:"channel_id"`
	Model     string `json:"model"`
	Estimate  int64  `json:"estimate"`
	IsStream  bool   `json:"is_stream"`
	Time      int64  `json:"time"`
}

// Outbox is the node-local usage outbox of DESIGN.md: every request writes
// an Open record before its upstream call and a Close record (the settled
// usage) after. Close deletes the Open in the same batch, so Opens left at
// startup are exactly the requests a crash interrupted.
//
// Writes are group-committed: callers hand their record to one writer
// goroutine, which puts everything that queued up into one Pebble batch
// (one commit, one WAL write). The request path does not wait (Open,
// Settle, Cancel); Close and Wait do. Nothing is synced per write: Pebble
// writes a commit to its WAL file right after it, and Sync (called by the
// shipper every few milliseconds) makes everything queued so far durable.
// So a process crash loses only what was handed over in its last moments
// (a few milliseconds under load, while the writer waits for a CPU), and a
// power loss at most one sync interval.
//
// Close sequences increase strictly, are assigned by the writer in commit
// order (a reader never sees n+1 without n), and are what the state machine
// de-duplicates on, so records are shipped in Close order.
//
// All methods are safe for concurrent use. Stop ends the writer.
type Outbox struct {
	db       *pebble.DB
	reqSeq   atomic.Uint64
	closeSeq atomic.Uint64
	dirty    atomic.Bool

	// onAsyncError receives the error of a write nobody waits for.
	onAsyncError func(error)

	// The Close records not yet shipped, as the writer committed them: the
	// shipper reads them from here instead of reading back what was just
	// written. queue holds every committed Close with sequence > base, in
	// sequence order; older records (found at startup, or dropped when the
	// queue outgrew maxQueued while shipping was stuck) are read from
	// Pebble.
	qmu      sync.Mutex
	queue    []UsageRecord
	base     uint64
	maxQueue int

	ops     chan *outboxOp
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

type opKind uint8

const (
	opOpen opKind = iota
	opClose
	opCancel
	opRaise
	opBarrier
)

// outboxOp is one queued write and, once done is closed, its result.
type outboxOp struct {
	kind    opKind
	open    *OpenRecord
	rec     *UsageRecord
	openSeq uint64
	seq     uint64
	err     error
	done    chan struct{}
	// async ops (Opens) have no waiter: the writer recycles them.
	async bool
}

var opPool = sync.Pool{New: func() any { return &outboxOp{done: make(chan struct{}, 1)} }}

// ErrOutboxStopped is returned by writes after Stop.
var ErrOutboxStopped = errors.New("usage outbox stopped")

// Outbox opens the usage outbox and starts its writer. highWater is the
// state machine's applied close-sequence for this node; new sequences
// start above both it and anything already in the outbox.
func (l *Local) Outbox(highWater uint64) (*Outbox, error) {
	o := &Outbox{db: l.db, ops: make(chan *outboxOp, 4096), stop: make(chan struct{}), stopped: make(chan struct{})}
	lastOpen, err := lastSeq(l.db, prefixOutOpen)
	if err != nil {
		return nil, err
	}
	lastClose, err := lastSeq(l.db, prefixOutClose)
	if err != nil {
		return nil, err
	}
	used, err := readU64(l.db, keyOutLastClose)
	if err != nil {
		return nil, err
	}
	o.reqSeq.Store(lastOpen)
	o.closeSeq.Store(max(lastClose, highWater, used))
	o.base = o.closeSeq.Load()
	o.maxQueue = maxQueued
	go o.writer()
	return o, nil
}

// Stop ends the writer after the writes already queued. Later writes fail
// with ErrOutboxStopped.
func (o *Outbox) Stop() {
	o.once.Do(func() { close(o.stop) })
	<-o.stopped
}

// Raise makes sure new close sequences start above highWater. A node calls
// it once its state has caught up with the Raft log after a restart: the
// state may have applied records whose outbox entries a crash erased, and
// their sequences must never be used again (they would be skipped as
// duplicates).
func (o *Outbox) Raise(highWater uint64) {
	op := o.newOp(opRaise)
	op.seq = highWater
	_, _ = o.do(op)
}

func (o *Outbox) newOp(k opKind) *outboxOp {
	op := opPool.Get().(*outboxOp)
	op.kind = k
	return op
}

// do queues op and waits for its commit.
func (o *Outbox) do(op *outboxOp) (uint64, error) {
	if o.isStopped() {
		return 0, ErrOutboxStopped
	}
	select {
	case o.ops <- op:
	case <-o.stopped:
		return 0, ErrOutboxStopped
	}
	<-op.done
	seq, err := op.seq, op.err
	*op = outboxOp{done: op.done}
	opPool.Put(op)
	return seq, err
}

func (o *Outbox) isStopped() bool {
	select {
	case <-o.stopped:
		return true
	default:
		return false
	}
}

// maxGroup bounds how many writes share one commit.
const maxGroup = 512

func (o *Outbox) writer() {
	defer close(o.stopped)
	group := make([]*outboxOp, 0, maxGroup)
	var buf []byte
	for {
		var first *outboxOp
		select {
		case first = <-o.ops:
		case <-o.stop:
			// Finish what was queued before Stop.
			for {
				select {
				case op := <-o.ops:
					o.commit(append(group[:0], op), &buf)
				default:
					return
				}
			}
		}
		group = append(group[:0], first)
		if len(o.ops) == 0 {
			// Let the producers that are about to write run first: one
			// yield turns many single-record commits into a few groups.
			runtime.Gosched()
		}
	drain:
		for len(group) < maxGroup {
			select {
			case op := <-o.ops:
				group = append(group, op)
			default:
				break drain
			}
		}
		o.commit(group, &buf)
	}
}

// commit writes a group in one batch and releases its callers.
func (o *Outbox) commit(group []*outboxOp, buf *[]byte) {
	b := o.db.NewBatch()
	seq := o.closeSeq.Load()
	var err error
	for _, op := range group {
		switch op.kind {
		case opOpen:
			*buf = op.open.AppendBinary((*buf)[:0])
			err = b.Set(keyOutOpen(op.seq), *buf, nil)
		case opClose:
			seq++
			op.seq = seq
			op.rec.Seq = seq
			*buf = op.rec.AppendBinary((*buf)[:0])
			err = b.Set(keyOutClose(seq), *buf, nil)
			if err == nil && op.openSeq != 0 {
				err = b.Delete(keyOutOpen(op.openSeq), nil)
			}
		case opCancel:
			err = b.Delete(keyOutOpen(op.openSeq), nil)
		case opRaise:
			seq = max(seq, op.seq)
		}
		if err != nil {
			break
		}
	}
	if err == nil && seq != o.closeSeq.Load() {
		err = b.Set(keyOutLastClose, u64(seq), nil)
	}
	if err == nil {
		err = b.Commit(pebble.NoSync)
	}
	b.Close()
	if err == nil {
		o.queueCommitted(group, seq)
		o.dirty.Store(true)
	} else {
		err = fmt.Errorf("outbox write: %w", err)
	}
	for _, op := range group {
		if op.async {
			if err != nil && o.onAsyncError != nil {
				o.onAsyncError(err)
			}
			*op = outboxOp{done: op.done}
			opPool.Put(op)
			continue
		}
		op.err = err
		op.done <- struct{}{}
	}
}

// maxQueued bounds the in-memory queue of unshipped Close records.
const maxQueued = 1 << 16

// queueCommitted publishes a committed group: its Close records join the
// queue and seq becomes the highest close sequence used.
func (o *Outbox) queueCommitted(group []*outboxOp, seq uint64) {
	o.qmu.Lock()
	defer o.qmu.Unlock()
	prev := o.closeSeq.Load() // the highest sequence already queued or dropped
	for _, op := range group {
		if op.kind != opClose {
			continue
		}
		if len(o.queue) >= o.maxQueue {
			// Shipping is stuck: keep the records in Pebble only.
			o.queue = nil
			o.base = prev
		}
		if op.seq > o.base {
			o.queue = append(o.queue, *op.rec)
		}
		prev = op.seq
	}
	o.closeSeq.Store(seq)
}

func lastSeq(db *pebble.DB, p []byte) (uint64, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: PrefixEnd(p)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	k := it.Key()
	if len(k) != len(p)+8 {
		return 0, fmt.Errorf("outbox: bad key %q", k)
	}
	return binary.BigEndian.Uint64(k[len(p):]), nil
}

// Open records a request about to go upstream and returns its sequence.
// It does not wait for the write: an Open only matters after a crash (it
// logs the interrupted request; nothing is charged either way), and the
// writer commits it before any later Close or Cancel of the same request.
// r must not be modified afterwards.
func (o *Outbox) Open(r *OpenRecord) (uint64, error) {
	op := o.newOp(opOpen)
	seq := o.reqSeq.Add(1)
	op.open, op.async, op.seq = r, true, seq
	if err := o.send(op); err != nil {
		return 0, err
	}
	return seq, nil
}

// Close records the settled usage of the request opened as openSeq (0 when
// there was no Open) and returns the record's close sequence (also set in
// r.Seq).
func (o *Outbox) Close(openSeq uint64, r *UsageRecord) (uint64, error) {
	op := o.newOp(opClose)
	op.rec, op.openSeq = r, openSeq
	return o.do(op)
}

// Settle is Close without waiting, for the request path: the record is
// handed to the writer, which commits it (in close order) within
// microseconds (milliseconds under CPU contention). Neither it nor a
// waited Close is synced, and Pebble's WAL writer writes a NoSync commit
// out only after it returns, so both can be lost if the process dies right
// after; Sync (every few milliseconds) covers a power loss. A write error
// goes to the handler set with OnAsyncError. r must not be modified
// afterwards.
func (o *Outbox) Settle(openSeq uint64, r *UsageRecord) error {
	op := o.newOp(opClose)
	op.rec, op.openSeq, op.async = r, openSeq, true
	return o.send(op)
}

// Cancel removes the Open of a request that failed without any charge. It
// does not wait (see Settle).
func (o *Outbox) Cancel(openSeq uint64) error {
	op := o.newOp(opCancel)
	op.openSeq, op.async = openSeq, true
	return o.send(op)
}

// send queues an async op, which belongs to the writer from then on.
func (o *Outbox) send(op *outboxOp) error {
	if o.isStopped() {
		return ErrOutboxStopped
	}
	select {
	case o.ops <- op:
		return nil
	case <-o.stopped:
		return ErrOutboxStopped
	}
}

// OnAsyncError sets the handler for errors of writes nobody waits for
// (Open, Settle, Cancel). Call it before the outbox is used.
func (o *Outbox) OnAsyncError(fn func(error)) { o.onAsyncError = fn }

// Wait returns once every write queued before it is committed.
func (o *Outbox) Wait() error {
	_, err := o.do(o.newOp(opBarrier))
	return err
}

// Sync makes every record written so far durable, queued ones included
// (one fsync, skipped when nothing was written since the last one).
func (o *Outbox) Sync() error {
	if err := o.Wait(); err != nil {
		return err
	}
	if !o.dirty.Swap(false) {
		return nil
	}
	if err := o.db.LogData(nil, pebble.Sync); err != nil {
		o.dirty.Store(true)
		return fmt.Errorf("outbox sync: %w", err)
	}
	return nil
}

// Closed returns up to limit Close records with sequence > after, in
// sequence order.
func (o *Outbox) Closed(after uint64, limit int) ([]UsageRecord, error) {
	o.qmu.Lock()
	if after >= o.base {
		i := sort.Search(len(o.queue), func(i int) bool { return o.queue[i].Seq > after })
		j := min(len(o.queue), i+limit)
		out := append([]UsageRecord(nil), o.queue[i:j]...)
		o.qmu.Unlock()
		return out, nil
	}
	o.qmu.Unlock()
	return o.closedStored(after, limit)
}

// closedStored reads Closed's answer from Pebble.
func (o *Outbox) closedStored(after uint64, limit int) ([]UsageRecord, error) {
	it, err := o.db.NewIter(&pebble.IterOptions{LowerBound: keyOutClose(after + 1), UpperBound: PrefixEnd(prefixOutClose)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []UsageRecord
	for it.First(); it.Valid() && len(out) < limit; it.Next() {
		var r UsageRecord
		if err := r.UnmarshalBinary(it.Value()); err != nil {
			return nil, fmt.Errorf("outbox: decode %q: %w", it.Key(), err)
		}
		out = append(out, r)
	}
	return out, it.Error()
}

// Shipped deletes the Close records with sequences in (from, upTo]: they
// are committed in the replicated state. Point deletions, not a range
// deletion: the shipper calls this many times a second, and range
// tombstones pile up in the memtable where every new iterator would have to
// fragment all of them.
func (o *Outbox) Shipped(from, upTo uint64) error {
	if upTo <= from {
		return nil
	}
	o.dequeue(upTo)
	b := o.db.NewBatch()
	defer b.Close()
	for s := from + 1; s <= upTo; s++ {
		if err := b.Delete(keyOutClose(s), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

// Prune deletes every Close record with sequence ≤ upTo with one range
// deletion; used once at startup for records applied before a crash.
func (o *Outbox) Prune(upTo uint64) error {
	o.dequeue(upTo)
	return o.db.DeleteRange(keyOutClose(0), keyOutClose(upTo+1), pebble.NoSync)
}

// dequeue drops the queued records with sequence ≤ upTo.
func (o *Outbox) dequeue(upTo uint64) {
	o.qmu.Lock()
	defer o.qmu.Unlock()
	i := sort.Search(len(o.queue), func(i int) bool { return o.queue[i].Seq > upTo })
	o.queue = o.queue[i:] // append reallocates once the tail's capacity is used
	o.base = max(o.base, upTo)
}

// Orphans returns the Opens that have no Close, keyed by open sequence.
// Call it at startup, before serving: afterwards every live request has an
// Open too.
func (o *Outbox) Orphans() (map[uint64]OpenRecord, error) {
	it, err := o.db.NewIter(&pebble.IterOptions{LowerBound: prefixOutOpen, UpperBound: PrefixEnd(prefixOutOpen)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[uint64]OpenRecord{}
	for it.First(); it.Valid(); it.Next() {
		var r OpenRecord
		if err := r.UnmarshalBinary(it.Value()); err != nil {
			return nil, fmt.Errorf("outbox: decode %q: %w", it.Key(), err)
		}
		out[binary.BigEndian.Uint64(it.Key()[len(prefixOutOpen):])] = r
	}
	return out, it.Error()
}

// PendingByUser sums the quota of unshipped Close records per user, so a
// restarted node counts them against its leases until they are applied.
func (o *Outbox) PendingByUser() (map[int64]int64, error) {
	out := map[int64]int64{}
	after := uint64(0)
	for {
		recs, err := o.Closed(after, 1024)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return out, nil
		}
		for _, r := range recs {
			out[r.UserID] += r.Quota
			after = r.Seq
		}
	}
}
