package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/bytedance/sonic"
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
// Writes are not synced individually; Sync (called by the shipper every
// few milliseconds) makes everything written so far durable, so a process
// crash loses nothing and a power loss at most one sync interval.
//
// Close sequences increase strictly and are what the state machine
// de-duplicates on, so records are shipped in Close order.
//
// All methods are safe for concurrent use.
type Outbox struct {
	db       *pebble.DB
	reqSeq   atomic.Uint64
	closeSeq atomic.Uint64
	dirty    atomic.Bool

	// closeMu orders close-sequence assignment with the write, so that a
	// reader never sees seq n+1 before n is written.
	closeMu sync.Mutex
}

// Outbox opens the usage outbox. highWater is the state machine's applied
// close-sequence for this node; new sequences start above both it and
// anything already in the outbox.
func (l *Local) Outbox(highWater uint64) (*Outbox, error) {
	o := &Outbox{db: l.db}
	lastOpen, err := lastSeq(l.db, prefixOutOpen)
	if err != nil {
		return nil, err
	}
	lastClose, err := lastSeq(l.db, prefixOutClose)
	if err != nil {
		return nil, err
	}
	used, err := l.getU64(keyOutLastClose)
	if err != nil {
		return nil, err
	}
	o.reqSeq.Store(lastOpen)
	o.closeSeq.Store(max(lastClose, highWater, used))
	return o, nil
}

// Raise makes sure new close sequences start above highWater. A node calls
// it once its state has caught up with the Raft log after a restart: the
// state may have applied records whose outbox entries a crash erased, and
// their sequences must never be used again (they would be skipped as
// duplicates).
func (o *Outbox) Raise(highWater uint64) {
	o.closeMu.Lock()
	defer o.closeMu.Unlock()
	if o.closeSeq.Load() < highWater {
		o.closeSeq.Store(highWater)
	}
}

func (l *Local) getU64(k []byte) (uint64, error) {
	v, closer, err := l.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("local key %q: bad value", k)
	}
	return binary.BigEndian.Uint64(v), nil
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
func (o *Outbox) Open(r *OpenRecord) (uint64, error) {
	seq := o.reqSeq.Add(1)
	b, err := sonic.Marshal(r)
	if err != nil {
		return 0, err
	}
	if err := o.db.Set(keyOutOpen(seq), b, pebble.NoSync); err != nil {
		return 0, fmt.Errorf("outbox open: %w", err)
	}
	o.dirty.Store(true)
	return seq, nil
}

// Close records the settled usage of the request opened as openSeq (0 when
// there was no Open) and returns the record's close sequence.
func (o *Outbox) Close(openSeq uint64, r *UsageRecord) (uint64, error) {
	o.closeMu.Lock()
	defer o.closeMu.Unlock()
	r.Seq = o.closeSeq.Load() + 1
	b := r.AppendBinary(make([]byte, 0, 128))
	batch := o.db.NewBatch()
	defer batch.Close()
	_ = batch.Set(keyOutClose(r.Seq), b, nil)
	_ = batch.Set(keyOutLastClose, u64(r.Seq), nil)
	if openSeq != 0 {
		_ = batch.Delete(keyOutOpen(openSeq), nil)
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return 0, fmt.Errorf("outbox close: %w", err)
	}
	o.closeSeq.Store(r.Seq)
	o.dirty.Store(true)
	return r.Seq, nil
}

// Sync makes every record written so far durable (one fsync, skipped when
// nothing was written since the last one).
func (o *Outbox) Sync() error {
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
	return o.db.DeleteRange(keyOutClose(0), keyOutClose(upTo+1), pebble.NoSync)
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
		if err := sonic.Unmarshal(it.Value(), &r); err != nil {
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

// ErrOutboxFull is returned when too many records wait to be shipped
// (Raft has been unavailable for long); the gateway stops admitting
// requests rather than grow without bound.
var ErrOutboxFull = errors.New("usage outbox full: replicated store unavailable")

// Cancel removes the Open of a request that failed without any charge.
func (o *Outbox) Cancel(openSeq uint64) error {
	if err := o.db.Delete(keyOutOpen(openSeq), pebble.NoSync); err != nil {
		return fmt.Errorf("outbox cancel: %w", err)
	}
	o.dirty.Store(true)
	return nil
}
