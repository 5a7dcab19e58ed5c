package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/bytedance/sonic"
	"github.com/cockroachdb/pebble/v2"
)

// tx is one apply batch: an indexed Pebble batch (reads see earlier writes
// of the same batch) plus the effects gathered for the hooks. Only the
// apply goroutine uses it.
type tx struct {
	s       *Store
	b       *pebble.Batch
	effects Effects
	leases  map[leaseKey]struct{} // changed leases, written at commit
	// leaseSets caches each touched account's leases (node → lease).
	leaseSets map[acctKey]map[string]*Lease
	aggs      map[string]*DayAggregate // daily aggregates by key
	scratch   []byte                   // encoding buffer (the batch copies what it is given)
	seqs      map[string]uint64        // id sequences by entity

	// Records read or written during the batch, written back at commit in
	// id order. Usage batches touch the same few users, tokens and channels
	// many times; the cache spares a decode and encode per record.
	users    map[int64]*User
	tokens   map[int64]*Token
	channels map[int64]*Channel
	dirtyU   map[int64]bool
	dirtyT   map[int64]bool
	dirtyC   map[int64]bool

	// Log rows are write-only during a batch: they go to a plain batch
	// (no index to maintain) and their user-index keys are written after
	// all rows, so that Pebble inserts each run of keys in order.
	logs     *pebble.Batch
	logUsers [][]byte
}

func (s *Store) newTx() *tx {
	return &tx{
		s: s, b: s.db.NewIndexedBatch(), leases: map[leaseKey]struct{}{},
		leaseSets: map[acctKey]map[string]*Lease{}, aggs: map[string]*DayAggregate{}, seqs: map[string]uint64{},
		users: map[int64]*User{}, tokens: map[int64]*Token{}, channels: map[int64]*Channel{},
		dirtyU: map[int64]bool{}, dirtyT: map[int64]bool{}, dirtyC: map[int64]bool{},
	}
}

// sortedIDs returns m's keys in increasing order.
func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// flush writes the cached records that changed.
func (t *tx) flush() {
	for _, id := range sortedIDs(t.dirtyU) {
		t.setJSON(keyUser(id), t.users[id])
	}
	for _, id := range sortedIDs(t.dirtyT) {
		t.setJSON(keyToken(id), t.tokens[id])
	}
	for _, id := range sortedIDs(t.dirtyC) {
		t.setJSON(keyChannel(id), t.channels[id])
	}
	clear(t.dirtyU)
	clear(t.dirtyT)
	clear(t.dirtyC)
}

func (t *tx) commit() error {
	t.flush()
	if len(t.leases) > 0 {
		t.effects.Leases = t.writeLeases()
	}
	if len(t.aggs) > 0 {
		keys := make([]string, 0, len(t.aggs))
		for k := range t.aggs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.setJSON([]byte(k), t.aggs[k])
		}
	}
	if len(t.seqs) > 0 {
		names := make([]string, 0, len(t.seqs))
		for k := range t.seqs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			t.setU64(keySeq(k), t.seqs[k])
		}
	}
	if t.logs != nil {
		// The log rows commit first, in their own batch: indexing them
		// into the main batch would cost more than they do. A crash
		// between the two commits is harmless: the state store has no
		// WAL, so both are lost unless a flush came between them, and
		// then Raft re-applies the entries, which rewrites the same rows
		// under the same ids (the log id sequence is in the main batch).
		t.addLogUsers()
		if err := t.logs.Commit(pebble.NoSync); err != nil {
			return err
		}
	}
	return t.b.Commit(pebble.NoSync)
}

// addLogUsers writes the user-index keys of the log rows, after the rows.
func (t *tx) addLogUsers() {
	for _, k := range t.logUsers {
		if err := t.logs.Set(k, nil, nil); err != nil {
			panic(fmt.Sprintf("storage: write %q: %v", k, err))
		}
	}
	t.logUsers = t.logUsers[:0]
}

// mergeLogs moves the log rows appended so far into the main batch, so
// that a scan of logs in the same batch sees them.
func (t *tx) mergeLogs() {
	if t.logs == nil {
		return
	}
	t.addLogUsers()
	if err := t.b.Apply(t.logs, nil); err != nil {
		panic(fmt.Sprintf("storage: merge log rows: %v", err))
	}
	t.logs.Close()
	t.logs = nil
}

// close releases the batches; the tx is unusable afterwards.
func (t *tx) close() {
	if t.logs != nil {
		t.logs.Close()
		t.logs = nil
	}
	t.b.Close()
}

func (t *tx) get(k []byte) ([]byte, bool) {
	v, closer, err := t.b.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		panic(fmt.Sprintf("storage: read %q: %v", k, err))
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true
}

func (t *tx) set(k, v []byte) {
	if err := t.b.Set(k, v, nil); err != nil {
		panic(fmt.Sprintf("storage: write %q: %v", k, err))
	}
}

func (t *tx) del(k []byte) {
	if err := t.b.Delete(k, nil); err != nil {
		panic(fmt.Sprintf("storage: delete %q: %v", k, err))
	}
}

func (t *tx) delRange(start, end []byte) {
	if err := t.b.DeleteRange(start, end, nil); err != nil {
		panic(fmt.Sprintf("storage: delete range: %v", err))
	}
}

func (t *tx) getU64(k []byte) uint64 {
	v, ok := t.get(k)
	if !ok || len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (t *tx) setU64(k []byte, v uint64) { t.set(k, u64(v)) }

// seq returns the current value of an entity's id sequence.
func (t *tx) seq(entity string) uint64 {
	if v, ok := t.seqs[entity]; ok {
		return v
	}
	v := t.getU64(keySeq(entity))
	t.seqs[entity] = v
	return v
}

// nextID returns the next id of an entity's sequence (ids start at 1).
func (t *tx) nextID(entity string) int64 {
	n := t.seq(entity) + 1
	t.seqs[entity] = n
	return int64(n)
}

func (t *tx) getJSON(k []byte, v any) bool {
	b, ok := t.get(k)
	if !ok {
		return false
	}
	if err := sonic.Unmarshal(b, v); err != nil {
		panic(fmt.Sprintf("storage: decode %q: %v", k, err))
	}
	return true
}

func (t *tx) setJSON(k []byte, v any) {
	b, err := sonic.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("storage: encode %q: %v", k, err))
	}
	t.set(k, b)
}

// iterate calls fn for every key with prefix p (in key order) as seen by
// the batch. fn must copy what it keeps.
func (t *tx) iterate(p []byte, fn func(k, v []byte) bool) {
	if !bytes.HasPrefix(p, prefixLease) && !bytes.HasPrefix(p, prefixLog) {
		t.flush() // cached records must be visible to the scan
	}
	if bytes.HasPrefix(p, prefixLog) {
		t.mergeLogs()
	}
	it, err := t.b.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: PrefixEnd(p)})
	if err != nil {
		panic(fmt.Sprintf("storage: iterate: %v", err))
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			return
		}
	}
}

// user returns the cached user record; callers modify it in place and
// call markUser. A nil result means no such user.
func (t *tx) user(id int64) *User {
	if u, ok := t.users[id]; ok {
		return u
	}
	var u User
	if !t.getJSON(keyUser(id), &u) {
		return nil
	}
	t.users[id] = &u
	return &u
}

// markUser schedules u for writing. config says whether fields other than
// counters changed (status, group, …), which refreshes the snapshots.
func (t *tx) markUser(u *User, config bool) {
	t.users[u.ID] = u
	t.dirtyU[u.ID] = true
	if config {
		t.effects.Users = true
	}
}

func (t *tx) token(id int64) *Token {
	if tok, ok := t.tokens[id]; ok {
		return tok
	}
	var tok Token
	if !t.getJSON(keyToken(id), &tok) {
		return nil
	}
	t.tokens[id] = &tok
	return &tok
}

func (t *tx) markToken(tok *Token, config bool) {
	t.tokens[tok.ID] = tok
	t.dirtyT[tok.ID] = true
	if config {
		t.effects.Tokens = true
	}
}

func (t *tx) forgetToken(id int64) {
	delete(t.tokens, id)
	delete(t.dirtyT, id)
	t.effects.Tokens = true
}

func (t *tx) channel(id int64) *Channel {
	if c, ok := t.channels[id]; ok {
		return c
	}
	var c Channel
	if !t.getJSON(keyChannel(id), &c) {
		return nil
	}
	t.channels[id] = &c
	return &c
}

func (t *tx) markChannel(c *Channel, config bool) {
	t.channels[c.ID] = c
	t.dirtyC[c.ID] = true
	if config {
		t.effects.Channels = true
	}
}

func (t *tx) forgetChannel(id int64) {
	delete(t.channels, id)
	delete(t.dirtyC, id)
	t.effects.Channels = true
}

// acctLeases returns the cached leases of one account (node → lease),
// loading them from the batch on first use. Leases are rewritten for every
// usage record; keeping them here until commit avoids both the rewrites
// and scans over the batch's growing history of the same keys.
func (t *tx) acctLeases(kind LeaseKind, id int64) map[string]*Lease {
	ak := acctKey{kind, id}
	if m, ok := t.leaseSets[ak]; ok {
		return m
	}
	m := map[string]*Lease{}
	if kept, ok := t.s.leaseCache[ak]; ok {
		for n, l := range kept {
			m[n] = &l
		}
		t.leaseSets[ak] = m
		return m
	}
	p := join(prefixLease, []byte{byte(kind)}, u64(uint64(id)), nil)
	t.iterate(p, func(_, v []byte) bool {
		var l Lease
		if err := sonic.Unmarshal(v, &l); err == nil {
			m[l.Node] = &l
		}
		return true
	})
	t.leaseSets[ak] = m
	return m
}

// maxCachedAccounts bounds the store's lease cache; past it the cache
// starts over (leases are re-read from the store on next use).
const maxCachedAccounts = 1 << 16

// keepLeases copies the leases of every account this batch loaded into the
// store's cache, after a successful commit.
func (t *tx) keepLeases() {
	if t.s.leaseCache == nil || len(t.s.leaseCache) > maxCachedAccounts {
		t.s.leaseCache = make(map[acctKey]map[string]Lease, len(t.leaseSets))
	}
	for ak, m := range t.leaseSets {
		kept := make(map[string]Lease, len(m))
		for n, l := range m {
			kept[n] = *l
		}
		t.s.leaseCache[ak] = kept
	}
}

type acctKey struct {
	kind LeaseKind
	id   int64
}

// leaseKey names one lease in the change set.
type leaseKey struct {
	acctKey
	node string
}

func (t *tx) lease(kind LeaseKind, id int64, node string) (*Lease, bool) {
	l, ok := t.acctLeases(kind, id)[node]
	if !ok {
		return nil, false
	}
	cp := *l
	return &cp, true
}

func (t *tx) putLease(l *Lease) {
	cp := *l
	t.acctLeases(l.Kind, l.ID)[l.Node] = &cp
	t.leases[leaseKey{acctKey{l.Kind, l.ID}, l.Node}] = struct{}{}
}

func (t *tx) dropLease(kind LeaseKind, id int64, node string) {
	delete(t.acctLeases(kind, id), node)
	t.leases[leaseKey{acctKey{kind, id}, node}] = struct{}{}
}

// leasesOf returns every live lease on an account, in node order.
func (t *tx) leasesOf(kind LeaseKind, id int64) []Lease {
	m := t.acctLeases(kind, id)
	out := make([]Lease, 0, len(m))
	for _, l := range m {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// changedLeases lists the leases changed in this batch in key order, with
// Remaining -1 for the removed ones.
func (t *tx) changedLeases() []Lease {
	keys := make([]leaseKey, 0, len(t.leases))
	for k := range t.leases {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.id != b.id {
			return a.id < b.id
		}
		return a.node < b.node
	})
	out := make([]Lease, 0, len(keys))
	for _, k := range keys {
		if l, ok := t.acctLeases(k.kind, k.id)[k.node]; ok {
			out = append(out, *l)
		} else {
			out = append(out, Lease{Kind: k.kind, ID: k.id, Node: k.node, Remaining: -1})
		}
	}
	return out
}

// writeLeases puts the changed leases into the batch.
func (t *tx) writeLeases() []Lease {
	ls := t.changedLeases()
	for i := range ls {
		k := keyLease(ls[i].Kind, ls[i].ID, ls[i].Node)
		if ls[i].Remaining < 0 {
			t.del(k)
		} else {
			t.setJSON(k, &ls[i])
		}
	}
	return ls
}

func (t *tx) appendLog(l *Log) {
	l.ID = t.nextID("log")
	t.scratch = appendLogRow(t.scratch[:0], l)
	if t.logs == nil {
		t.logs = t.s.db.NewBatch()
	}
	if err := t.logs.Set(keyLog(l.CreatedAt, l.ID), t.scratch, nil); err != nil {
		panic(fmt.Sprintf("storage: write log row: %v", err))
	}
	if l.UserID != 0 {
		t.logUsers = append(t.logUsers, keyLogUser(l.UserID, l.CreatedAt, l.ID))
	}
}

func unmarshal(b []byte, v any) error { return sonic.Unmarshal(b, v) }
