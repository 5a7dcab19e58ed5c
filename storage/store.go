package storage

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configures a Pebble instance opened by this package.
type Options struct {
	// InMemory keeps everything in memory (tests). Default false.
	InMemory bool
	// CacheBytes is the block cache size. Default 64 MiB.
	CacheBytes int64
	// MemTableBytes is the memtable size. Default 32 MiB (state) and
	// 32 MiB (local).
	MemTableBytes uint64

	disableWAL bool
}

func (o Options) pebbleOptions() *pebble.Options {
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.MemTableBytes == 0 {
		o.MemTableBytes = 32 << 20
	}
	po := &pebble.Options{
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       o.MemTableBytes,
		DisableWAL:         o.disableWAL,
		Logger:             quietLogger{},
	}
	if o.InMemory {
		po.FS = vfs.NewMem()
	}
	po.Cache = pebble.NewCache(o.CacheBytes)
	return po
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

func openPebble(dir string, o Options) (*pebble.DB, error) {
	po := o.pebbleOptions()
	db, err := pebble.Open(dir, po)
	po.Cache.Unref()
	return db, err
}

// Effects summarises what one ApplyEntries call changed, for the hooks that
// refresh in-memory snapshots and notify actors.
type Effects struct {
	Index    uint64
	Users    bool // some user record changed
	Tokens   bool // some token record changed (config or status)
	Channels bool // some channel changed (config, status)
	Options  bool // some option changed
	Nodes    bool // some cluster member's addresses changed
	// Leases lists every lease whose amount or expiry changed; a lease with
	// Remaining < 0 was removed.
	Leases []Lease
	// Charged lists, per node and account, the quota applied by usage
	// batches in this call.
	Charged []Charge
	// Credited lists users whose balance (or whose tokens' quota) an admin
	// or a top-up changed: a node may now be granted more.
	Credited []int64
}

// Charge is quota applied for one node's usage on one user (and token).
type Charge struct {
	Node    string
	UserID  int64
	TokenID int64
	Quota   int64
	// Requested is what the node computed; Quota may be smaller when the
	// balance ran out (the charge is capped at what the account holds).
	Requested int64
}

func (e *Effects) empty() bool {
	return !e.Users && !e.Tokens && !e.Channels && !e.Options && len(e.Leases) == 0 && len(e.Charged) == 0
}

// Entry is one committed Raft log entry handed to the state machine.
type Entry struct {
	Index uint64
	Data  []byte
}

// Store is the replicated state machine over the state Pebble instance.
//
// ApplyEntries, Snapshot and Restore are called by one goroutine (Raft's
// FSM goroutine). Reads (Get*, List*, …) and WaitApplied are safe from any
// goroutine at any time; they see the state as of some applied index.
type Store struct {
	db *pebble.DB

	applied atomic.Uint64

	mu      sync.Mutex
	notify  chan struct{}
	results map[uint64]Result
	order   []uint64

	hooks []func(*Effects)

	// leaseCache holds the committed leases of the accounts recent batches
	// touched (account → node → lease), so a batch does not scan the store
	// for them. Only the apply goroutine (ApplyEntries, Restore) uses it.
	leaseCache map[acctKey]map[string]Lease
}

const keptResults = 8192

// Open opens (or creates) the state store in dir.
//
// The state store has no write-ahead log: every change it holds is also in
// the Raft log, which is synced. After a crash the store is as of its last
// memtable flush (the applied index is flushed atomically with the data),
// and Raft re-applies the entries after it. Snapshot and Close flush, so a
// Raft snapshot never covers entries the store could lose, and a clean
// restart replays nothing.
func Open(dir string, o Options) (*Store, error) {
	o.disableWAL = true
	db, err := openPebble(dir, o)
	if err != nil {
		return nil, fmt.Errorf("open state store: %w", err)
	}
	s := &Store{db: db, notify: make(chan struct{}), results: make(map[uint64]Result)}
	v, err := s.getU64(keyApplied)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.applied.Store(v)
	return s, nil
}

// Close closes the store. No other method may be called afterwards.
func (s *Store) Close() error {
	ferr := s.db.Flush()
	if err := s.db.Close(); err != nil {
		return err
	}
	return ferr
}

// OnApply registers a hook called after every ApplyEntries or Restore, on
// the applying goroutine, with what changed. Hooks must be fast and must
// not propose commands synchronously. Register hooks before applying.
func (s *Store) OnApply(h func(*Effects)) { s.hooks = append(s.hooks, h) }

// AppliedIndex is the index of the last applied Raft entry.
func (s *Store) AppliedIndex() uint64 { return s.applied.Load() }

// WaitApplied blocks until the applied index reaches index or ctx ends.
func (s *Store) WaitApplied(ctx context.Context, index uint64) error {
	for {
		s.mu.Lock()
		if s.applied.Load() >= index {
			s.mu.Unlock()
			return nil
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitResult waits until index is applied and returns the result of the
// command at that index, as this node's state machine computed it. Results
// of the most recent 8192 entries are kept; an older one (or one that
// arrived inside a snapshot) yields ErrResultUnknown.
func (s *Store) WaitResult(ctx context.Context, index uint64) (Result, error) {
	if err := s.WaitApplied(ctx, index); err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.results[index]
	if !ok {
		return Result{Index: index}, ErrResultUnknown
	}
	return r, nil
}

// ApplyEntries applies committed entries in order, in one Pebble batch
// that also records the new applied index. Entries at or below the applied
// index are skipped (they were applied before a restart). It returns one
// result per entry.
func (s *Store) ApplyEntries(entries []Entry) []Result {
	results := make([]Result, len(entries))
	if len(entries) == 0 {
		return results
	}
	tx := s.newTx()
	defer tx.close()
	last := s.applied.Load()
	for i, e := range entries {
		results[i].Index = e.Index
		if e.Index <= last {
			continue
		}
		last = e.Index
		if len(e.Data) == 0 {
			continue
		}
		cmd, err := Decode(e.Data)
		if err != nil {
			// A command this node cannot understand must not be silently
			// skipped: the replicas would diverge.
			panic(fmt.Sprintf("storage: apply index %d: %v", e.Index, err))
		}
		if cmd == nil {
			continue
		}
		r := tx.apply(cmd)
		r.Index = e.Index
		results[i] = r
	}
	if last == s.applied.Load() {
		return results
	}
	tx.setU64(keyApplied, last)
	tx.effects.Index = last
	if err := tx.commit(); err != nil {
		panic(fmt.Sprintf("storage: commit apply batch: %v", err))
	}
	tx.keepLeases()
	s.finishApply(last, results, &tx.effects)
	return results
}

func (s *Store) finishApply(last uint64, results []Result, fx *Effects) {
	s.mu.Lock()
	for _, r := range results {
		if r.Index == 0 {
			continue
		}
		s.results[r.Index] = r
		s.order = append(s.order, r.Index)
	}
	for len(s.order) > keptResults {
		delete(s.results, s.order[0])
		s.order = s.order[1:]
	}
	s.mu.Unlock()
	// Hooks run before the new index is published, so that a caller woken
	// by WaitApplied already sees refreshed snapshots (read-your-writes).
	for _, h := range s.hooks {
		h(fx)
	}
	s.mu.Lock()
	s.applied.Store(last)
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

// Snapshot is a consistent, point-in-time view of the state, taken in O(1)
// and written out later (while applies continue).
type Snapshot struct {
	snap  *pebble.Snapshot
	index uint64
}

// Snapshot captures the current state. The caller must Close it.
func (s *Store) Snapshot() (*Snapshot, error) {
	// Make the state durable up to here before Raft may compact its log.
	if err := s.db.Flush(); err != nil {
		return nil, fmt.Errorf("flush state before snapshot: %w", err)
	}
	return &Snapshot{snap: s.db.NewSnapshot(), index: s.applied.Load()}, nil
}

// Index is the applied index the snapshot reflects.
func (sn *Snapshot) Index() uint64 { return sn.index }

const snapshotMagic = "SYSNAP01"

// WriteTo streams the snapshot: a magic header, then length-prefixed
// key/value pairs.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	it, err := sn.snap.NewIter(nil)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	return writeKVs(w, it)
}

// Close releases the snapshot.
func (sn *Snapshot) Close() error { return sn.snap.Close() }

// writeKVs writes the snapshot stream format (magic, then length-prefixed
// key/value pairs) of everything it iterates.
func writeKVs(w io.Writer, it *pebble.Iterator) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	n, _ := bw.WriteString(snapshotMagic)
	total := int64(n)
	var hdr [2 * binary.MaxVarintLen64]byte
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		h := binary.AppendUvarint(hdr[:0], uint64(len(k)))
		h = binary.AppendUvarint(h, uint64(len(v)))
		for _, b := range [][]byte{h, k, v} {
			m, err := bw.Write(b)
			total += int64(m)
			if err != nil {
				return total, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return total, err
	}
	return total, bw.Flush()
}

// Checkpoint writes a point-in-time copy of the state into dir (which must
// not exist) and returns the applied index it holds. Pebble hard-links the
// table files, so a checkpoint costs O(files), not O(state). Call it from
// the apply goroutine (no apply may run concurrently: the state store has
// no WAL, so its memtable is flushed first).
func (s *Store) Checkpoint(dir string) (uint64, error) {
	if err := s.db.Flush(); err != nil {
		return 0, fmt.Errorf("flush state before checkpoint: %w", err)
	}
	if err := s.db.Checkpoint(dir); err != nil {
		return 0, fmt.Errorf("checkpoint state: %w", err)
	}
	return s.applied.Load(), nil
}

// WriteCheckpoint streams the state held by a checkpoint directory in the
// format of Snapshot.WriteTo (what Restore reads).
func WriteCheckpoint(dir string, w io.Writer) (int64, error) {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, FormatMajorVersion: pebble.FormatNewest, Logger: quietLogger{}})
	if err != nil {
		return 0, fmt.Errorf("open checkpoint %s: %w", dir, err)
	}
	defer db.Close()
	it, err := db.NewIter(nil)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	return writeKVs(w, it)
}

// Restore replaces the whole state with a snapshot written by WriteTo.
func (s *Store) Restore(r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return errors.New("restore: not a switchyard snapshot")
	}
	clear(s.leaseCache)
	b := s.db.NewBatch()
	if err := b.DeleteRange([]byte{0}, []byte{0xff, 0xff, 0xff, 0xff}, nil); err != nil {
		return err
	}
	for {
		kl, err := binary.ReadUvarint(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		vl, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		kv := make([]byte, kl+vl)
		if _, err := io.ReadFull(br, kv); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if err := b.Set(kv[:kl], kv[kl:], nil); err != nil {
			return err
		}
		if b.Len() > 32<<20 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b = s.db.NewBatch()
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	if err := s.db.Flush(); err != nil {
		return err
	}
	idx, err := s.getU64(keyApplied)
	if err != nil {
		return err
	}
	fx := &Effects{Index: idx, Users: true, Tokens: true, Channels: true, Options: true}
	s.finishApply(idx, nil, fx)
	return nil
}

func (s *Store) getU64(k []byte) (uint64, error) { return readU64(s.db, k) }

// readU64 reads a fixed-width big-endian counter (0 when absent).
func readU64(db pebble.Reader, k []byte) (uint64, error) {
	v, closer, err := db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("key %q: bad u64 value", k)
	}
	return binary.BigEndian.Uint64(v), nil
}

// PrepareRestoredBackup turns a state restored from a backup (Restore of a
// Snapshot written by another cluster) into the state of a new cluster: the
// applied index starts over (the new node's Raft log starts at 1), and the
// old cluster's quota leases and member addresses are dropped (they name
// nodes that are not there). Call it on a store no Raft node uses yet.
func (s *Store) PrepareRestoredBackup() error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, p := range [][]byte{prefixLease, prefixNode} {
		if err := b.DeleteRange(p, PrefixEnd(p), nil); err != nil {
			return err
		}
	}
	if err := b.Set(keyApplied, u64(0), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	clear(s.leaseCache)
	s.applied.Store(0)
	return s.db.Flush()
}

// Digest hashes the whole replicated state, every key and value, as of one
// moment, and returns the applied index that state reflects. Replicas that
// applied the same log hold the same bytes (Apply is deterministic), so
// equal digests at equal indexes prove that they converged. It reads a
// Pebble snapshot: applies may run meanwhile. O(state); for tests and
// operator checks, not for hot paths.
func (s *Store) Digest() (index uint64, sum [sha256.Size]byte, err error) {
	snap := s.db.NewSnapshot()
	defer snap.Close()
	if index, err = readU64(snap, keyApplied); err != nil {
		return 0, sum, err
	}
	it, err := snap.NewIter(nil)
	if err != nil {
		return 0, sum, err
	}
	defer it.Close()
	h := sha256.New()
	var hdr [2 * binary.MaxVarintLen64]byte
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		b := binary.AppendUvarint(hdr[:0], uint64(len(k)))
		h.Write(binary.AppendUvarint(b, uint64(len(v))))
		h.Write(k)
		h.Write(v)
	}
	if err := it.Error(); err != nil {
		return 0, sum, err
	}
	copy(sum[:], h.Sum(nil))
	return index, sum, nil
}
