package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"switchyard/storage"
)

// fsm adapts the state machine (storage.Store) to raft.BatchingFSM.
//
// Raft calls ApplyBatch, Apply, Snapshot and Restore from its single FSM
// goroutine, never concurrently with each other; Persist and Release run on
// another goroutine while applies continue, which is why Snapshot only pins
// a Pebble snapshot and Persist does the writing.
type fsm struct {
	store *storage.Store
	// checkpoints is where snapshots keep their Pebble checkpoints.
	checkpoints string
	seq         atomic.Uint64
}

var _ raft.BatchingFSM = (*fsm)(nil)

// ApplyBatch hands the command entries of logs to the store in one call (one
// Pebble batch) and returns one response per log: the storage.Result of a
// command, nil for any other entry type (configuration changes).
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	entries := make([]storage.Entry, 0, len(logs))
	for _, l := range logs {
		if l.Type == raft.LogCommand {
			entries = append(entries, storage.Entry{Index: l.Index, Data: l.Data})
		}
	}
	if len(entries) == 0 {
		return out
	}
	results := f.store.ApplyEntries(entries)
	j := 0
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			out[i] = results[j]
			j++
		}
	}
	return out
}

// Apply applies a single entry; Raft uses ApplyBatch, this is for
// completeness of the raft.FSM interface.
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// Snapshot takes a Pebble checkpoint of the state (hard links: O(files),
// not O(state)); Raft calls it on the FSM goroutine, between applies.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	dir := filepath.Join(f.checkpoints, fmt.Sprintf("%d-%d", time.Now().UnixNano(), f.seq.Add(1)))
	if err := os.MkdirAll(f.checkpoints, 0o700); err != nil {
		return nil, err
	}
	idx, err := f.store.Checkpoint(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &fsmSnapshot{dir: dir, index: idx, checkpoints: f.checkpoints}, nil
}

// Restore replaces the whole state with a snapshot stream (header, then
// what storage.Snapshot.WriteTo writes).
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if _, err := readSnapshotHeader(rc); err != nil {
		return err
	}
	return f.store.Restore(rc)
}

// fsmSnapshot is a checkpoint on its way into a Raft snapshot.
type fsmSnapshot struct {
	dir, checkpoints string
	index            uint64
}

// Persist writes the snapshot header and a reference to the checkpoint
// (not the data: checkpointStore.Open streams it when a follower needs
// it). On error the sink is cancelled so that Raft discards the snapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	err := writeSnapshotHeader(sink, s.index)
	if err == nil {
		_, err = sink.Write([]byte(checkpointMarker + filepath.Base(s.dir)))
	}
	if err != nil {
		_ = os.RemoveAll(s.dir)
		return errors.Join(fmt.Errorf("persist snapshot: %w", err), sink.Cancel())
	}
	return sink.Close()
}

// Release does nothing: the checkpoint lives as long as its snapshot
// (checkpointStore removes checkpoints no snapshot refers to).
func (s *fsmSnapshot) Release() {}

// A Raft snapshot starts with a small header carrying the store's own
// applied index. It can be lower than the Raft index of the snapshot
// (no-op and configuration entries do not reach the store), and it lets a
// starting node decide cheaply whether its state is behind its newest
// snapshot (see restoreIfBehind) without reading the whole file.
const snapshotHeaderMagic = "SYRAFT01"

func writeSnapshotHeader(w io.Writer, storeIndex uint64) error {
	h := binary.BigEndian.AppendUint64([]byte(snapshotHeaderMagic), storeIndex)
	_, err := w.Write(h)
	return err
}

func readSnapshotHeader(r io.Reader) (uint64, error) {
	var h [len(snapshotHeaderMagic) + 8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, fmt.Errorf("read snapshot header: %w", err)
	}
	if string(h[:len(snapshotHeaderMagic)]) != snapshotHeaderMagic {
		return 0, errors.New("read snapshot header: not a switchyard raft snapshot")
	}
	return binary.BigEndian.Uint64(h[len(snapshotHeaderMagic):]), nil
}
