package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

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

// Snapshot pins the current state in O(1) (it blocks applies while it runs).
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.store.Snapshot()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{snap: sn}, nil
}

// Restore replaces the whole state with a snapshot written by Persist.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if _, err := readSnapshotHeader(rc); err != nil {
		return err
	}
	return f.store.Restore(rc)
}

// fsmSnapshot streams a pinned state into a Raft snapshot sink.
type fsmSnapshot struct {
	snap *storage.Snapshot
}

// Persist writes the snapshot header and the state. On error the sink is
// cancelled so that Raft discards the partial snapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	err := writeSnapshotHeader(sink, s.snap.Index())
	if err == nil {
		_, err = s.snap.WriteTo(sink)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("persist snapshot: %w", err), sink.Cancel())
	}
	return sink.Close()
}

// Release unpins the state.
func (s *fsmSnapshot) Release() { _ = s.snap.Close() }

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
