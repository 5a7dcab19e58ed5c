package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/raft"

	"switchyard/storage"
)

// checkpointMarker follows the header of a Raft snapshot whose data is a
// Pebble checkpoint directory (named after the marker) instead of the
// state itself.
const checkpointMarker = "SYCKPT01"

// checkpointStore is hashicorp's file snapshot store whose snapshots made
// on this node hold only a reference to a Pebble checkpoint. Open turns
// such a snapshot into the full stream (header + state) that Restore and
// followers read, through a temporary file because Raft must know the
// exact size before it sends a snapshot. Snapshots received from a leader
// hold the stream itself and are returned as they are.
type checkpointStore struct {
	*raft.FileSnapshotStore
	checkpoints string
}

func newCheckpointStore(files *raft.FileSnapshotStore, checkpoints string) *checkpointStore {
	return &checkpointStore{FileSnapshotStore: files, checkpoints: checkpoints}
}

// Open implements raft.SnapshotStore.
func (c *checkpointStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := c.FileSnapshotStore.Open(id)
	if err != nil {
		return nil, nil, err
	}
	ckpt, head, err := c.peekCheckpoint(rc)
	if err != nil {
		rc.Close()
		return nil, nil, err
	}
	if ckpt == "" {
		// A stream: give back what was peeked, then the rest.
		return meta, struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), rc), rc}, nil
	}
	rc.Close()
	if err := os.MkdirAll(c.checkpoints, 0o700); err != nil {
		return nil, nil, err
	}
	tmp, err := os.CreateTemp(c.checkpoints, "stream-*")
	if err != nil {
		return nil, nil, err
	}
	os.Remove(tmp.Name()) // unlinked: gone when closed
	_, err = tmp.Write(head[:len(snapshotHeaderMagic)+8])
	if err == nil {
		_, err = storage.WriteCheckpoint(filepath.Join(c.checkpoints, ckpt), tmp)
	}
	var size int64
	if err == nil {
		size, err = tmp.Seek(0, io.SeekCurrent)
	}
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		return nil, nil, fmt.Errorf("snapshot %s: stream checkpoint %s: %w", id, ckpt, err)
	}
	m := *meta
	m.Size = size
	return &m, tmp, nil
}

// peekCheckpoint reads the header and, if a checkpoint reference follows,
// its directory name. head is everything read.
func (c *checkpointStore) peekCheckpoint(r io.Reader) (dir string, head []byte, err error) {
	head = make([]byte, len(snapshotHeaderMagic)+8+len(checkpointMarker))
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "", head, nil // shorter than a reference: a (tiny) stream
	}
	if err != nil {
		return "", nil, err
	}
	if string(head[len(head)-len(checkpointMarker):]) != checkpointMarker {
		return "", head, nil
	}
	rest, err := io.ReadAll(io.LimitReader(r, 256))
	if err != nil {
		return "", nil, err
	}
	name := string(rest)
	if name == "" || strings.ContainsAny(name, "/\\") {
		return "", nil, fmt.Errorf("bad checkpoint reference %q", name)
	}
	return name, head, nil
}

// Create implements raft.SnapshotStore; closing the sink also removes the
// checkpoints that no retained snapshot refers to any more.
func (c *checkpointStore) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	sink, err := c.FileSnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return &reapingSink{SnapshotSink: sink, store: c}, nil
}

type reapingSink struct {
	raft.SnapshotSink
	store *checkpointStore
}

func (s *reapingSink) Close() error {
	err := s.SnapshotSink.Close() // the file store reaps old snapshots here
	if err == nil {
		s.store.reapCheckpoints()
	}
	return err
}

// reapCheckpoints deletes checkpoint directories no snapshot refers to.
func (c *checkpointStore) reapCheckpoints() {
	keep := map[string]bool{}
	metas, err := c.FileSnapshotStore.List()
	if err != nil {
		return
	}
	for _, m := range metas {
		_, rc, err := c.FileSnapshotStore.Open(m.ID)
		if err != nil {
			return // keep everything rather than guess
		}
		dir, _, err := c.peekCheckpoint(rc)
		rc.Close()
		if err != nil {
			return
		}
		if dir != "" {
			keep[dir] = true
		}
	}
	entries, err := os.ReadDir(c.checkpoints)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && !keep[e.Name()] {
			_ = os.RemoveAll(filepath.Join(c.checkpoints, e.Name()))
		}
	}
}
