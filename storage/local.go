package storage

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Local is the node-local Pebble instance (data/local): the Raft log and
// stable store (package cluster writes them with Sync through DB) and the
// usage outbox. Nothing in it is replicated.
type Local struct {
	db *pebble.DB
}

// OpenLocal opens (or creates) the node-local store in dir.
func OpenLocal(dir string, o Options) (*Local, error) {
	if o.CacheBytes == 0 {
		o.CacheBytes = 16 << 20
	}
	if o.MemTableBytes == 0 {
		// Outbox records live for milliseconds: a memtable large enough to
		// hold many seconds of them lets their deletions cancel them before
		// they are ever flushed to disk.
		o.MemTableBytes = 32 << 20
	}
	db, err := openPebble(dir, o)
	if err != nil {
		return nil, fmt.Errorf("open local store: %w", err)
	}
	return &Local{db: db}, nil
}

// DB exposes the Pebble handle to package cluster for the Raft log store.
// Keys must come from RaftLogKey and RaftStableKey.
func (l *Local) DB() *pebble.DB { return l.db }

// Close closes the local store.
func (l *Local) Close() error { return l.db.Close() }
