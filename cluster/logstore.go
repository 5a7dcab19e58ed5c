package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"

	"switchyard/storage"
)

// ErrKeyNotFound is what the stable store returns for a missing key. Raft
// compares the error text, not the value, so the text must stay exactly
// "not found".
var ErrKeyNotFound = errors.New("not found")

// LogStore is Raft's log store and stable store on the node-local Pebble
// instance (storage.Local), under the keys storage.RaftLogKey and
// storage.RaftStableKey. It never touches other prefixes of that database
// (the usage outbox lives there too).
//
// Every write is committed with pebble.Sync before it returns: Raft's
// safety depends on a vote, a term or an acknowledged log entry surviving a
// power loss. Writers are grouped by Pebble's commit pipeline, and StoreLogs
// writes a whole batch of entries with one fsync.
//
// All methods are safe for concurrent use; Raft calls them from several
// goroutines.
type LogStore struct {
	db      *pebble.DB
	logLo   []byte
	logHi   []byte
	logIter pebble.IterOptions
}

var (
	_ raft.LogStore    = (*LogStore)(nil)
	_ raft.StableStore = (*LogStore)(nil)
)

// NewLogStore returns a log and stable store over db. The caller owns db
// and closes it after Raft has shut down.
func NewLogStore(db *pebble.DB) *LogStore {
	lo := storage.RaftLogPrefix()
	hi := storage.PrefixEnd(lo)
	return &LogStore{db: db, logLo: lo, logHi: hi, logIter: pebble.IterOptions{LowerBound: lo, UpperBound: hi}}
}

// FirstIndex returns the lowest stored log index, or 0 when the log is empty.
func (s *LogStore) FirstIndex() (uint64, error) { return s.edgeIndex(true) }

// LastIndex returns the highest stored log index, or 0 when the log is empty.
func (s *LogStore) LastIndex() (uint64, error) { return s.edgeIndex(false) }

func (s *LogStore) edgeIndex(first bool) (uint64, error) {
	opts := s.logIter // the iterator may keep the options; give it a copy
	it, err := s.db.NewIter(&opts)
	if err != nil {
		return 0, fmt.Errorf("raft log: %w", err)
	}
	var idx uint64
	var ok bool
	if first {
		ok = it.First()
	} else {
		ok = it.Last()
	}
	if ok {
		idx = storage.RaftLogIndex(it.Key())
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("raft log: %w", err)
	}
	return idx, nil
}

// GetLog reads the entry at index into log. It returns raft.ErrLogNotFound
// when there is no such entry (Raft relies on that exact value).
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	v, closer, err := s.db.Get(storage.RaftLogKey(index))
	if errors.Is(err, pebble.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return fmt.Errorf("raft log %d: %w", index, err)
	}
	// One copy: Data and Extensions point into buf after decoding.
	buf := make([]byte, len(v))
	copy(buf, v)
	if err := closer.Close(); err != nil {
		return fmt.Errorf("raft log %d: %w", index, err)
	}
	if err := decodeLog(buf, log); err != nil {
		return fmt.Errorf("raft log %d: %w", index, err)
	}
	log.Index = index
	return nil
}

// StoreLog stores one entry (synced).
func (s *LogStore) StoreLog(log *raft.Log) error { return s.StoreLogs([]*raft.Log{log}) }

// StoreLogs stores entries in one batch committed with one fsync. Entries
// need not be contiguous with what is stored.
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	size := 0
	for _, l := range logs {
		size += 16 + encodedLogLen(l)
	}
	b := s.db.NewBatchWithSize(size)
	defer b.Close()
	for _, l := range logs {
		key := storage.RaftLogKey(l.Index)
		n := encodedLogLen(l)
		op := b.SetDeferred(len(key), n)
		copy(op.Key, key)
		if got := len(appendLog(op.Value[:0], l)); got != n {
			return fmt.Errorf("raft log %d: encoded %d bytes, expected %d", l.Index, got, n)
		}
		if err := op.Finish(); err != nil {
			return fmt.Errorf("raft log %d: %w", l.Index, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store raft logs: %w", err)
	}
	return nil
}

// DeleteRange deletes the entries min..max, both inclusive (synced).
func (s *LogStore) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	end := s.logHi
	if max < math.MaxUint64 {
		end = storage.RaftLogKey(max + 1)
	}
	if err := s.db.DeleteRange(storage.RaftLogKey(min), end, pebble.Sync); err != nil {
		return fmt.Errorf("delete raft logs %d..%d: %w", min, max, err)
	}
	return nil
}

// Set stores a stable value (synced).
func (s *LogStore) Set(key, val []byte) error {
	if err := s.db.Set(storage.RaftStableKey(key), val, pebble.Sync); err != nil {
		return fmt.Errorf("raft stable %q: %w", key, err)
	}
	return nil
}

// Get returns a stable value, or ErrKeyNotFound.
func (s *LogStore) Get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(storage.RaftStableKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrKeyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("raft stable %q: %w", key, err)
	}
	out := append([]byte(nil), v...)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("raft stable %q: %w", key, err)
	}
	return out, nil
}

// SetUint64 stores a stable integer (synced).
func (s *LogStore) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns a stable integer, or ErrKeyNotFound.
func (s *LogStore) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("raft stable %q: value of %d bytes is not a uint64", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Log entry encoding, version 1 (the index is the key):
//
//	version   1 byte (= 1)
//	type      1 byte (raft.LogType)
//	term      uvarint
//	appended  varint, Unix nanoseconds; 0 = zero time
//	extLen    uvarint
//	ext       extLen bytes
//	data      the rest
const logFormatV1 = 1

func appendedNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func encodedLogLen(l *raft.Log) int {
	var tmp [binary.MaxVarintLen64]byte
	n := 2
	n += len(binary.AppendUvarint(tmp[:0], l.Term))
	n += len(binary.AppendVarint(tmp[:0], appendedNanos(l.AppendedAt)))
	n += len(binary.AppendUvarint(tmp[:0], uint64(len(l.Extensions))))
	return n + len(l.Extensions) + len(l.Data)
}

func appendLog(b []byte, l *raft.Log) []byte {
	b = append(b, logFormatV1, byte(l.Type))
	b = binary.AppendUvarint(b, l.Term)
	b = binary.AppendVarint(b, appendedNanos(l.AppendedAt))
	b = binary.AppendUvarint(b, uint64(len(l.Extensions)))
	b = append(b, l.Extensions...)
	return append(b, l.Data...)
}

var errCorruptLog = errors.New("corrupt log entry")

// decodeLog fills l from b; l.Data and l.Extensions alias b.
func decodeLog(b []byte, l *raft.Log) error {
	if len(b) < 2 || b[0] != logFormatV1 {
		return errCorruptLog
	}
	typ := raft.LogType(b[1])
	b = b[2:]
	term, n := binary.Uvarint(b)
	if n <= 0 {
		return errCorruptLog
	}
	b = b[n:]
	nanos, n := binary.Varint(b)
	if n <= 0 {
		return errCorruptLog
	}
	b = b[n:]
	extLen, n := binary.Uvarint(b)
	if n <= 0 || extLen > uint64(len(b)-n) {
		return errCorruptLog
	}
	b = b[n:]
	*l = raft.Log{Term: term, Type: typ}
	if extLen > 0 {
		l.Extensions = b[:extLen:extLen]
	}
	if rest := b[extLen:]; len(rest) > 0 {
		l.Data = rest
	}
	if nanos != 0 {
		l.AppendedAt = time.Unix(0, nanos)
	}
	return nil
}
