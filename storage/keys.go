package storage

import (
	"encoding/binary"
)

// Every key prefix of both Pebble instances is defined here. Integers are
// fixed-width big-endian so that byte order is numeric order.
//
// state (replicated):
//
//	m/applied                      last applied Raft index (u64)
//	m/seq/<entity>                 id sequence (u64)
//	u/<uid>                        User
//	un/<username>                  uid (username index)
//	ua/<access token>              uid (management access token index)
//	t/<tid>                        Token
//	tk/<sha256(key)>               tid (API key index)
//	tu/<uid>/<tid>                 ∅ (tokens of a user)
//	c/<cid>                        Channel
//	o/<name>                       option value
//	d/<node>                       last applied usage close-seq of a node (u64)
//	l/<kind>/<id>/<node>           Lease (kind: u user, t token)
//	g/<ts>/<lid>                   Log (time first: retention is a range delete)
//	gu/<uid>/<ts>/<lid>            ∅ (logs of a user)
//	a/d/<yyyymmdd>/<uid>/<model>   daily aggregate
//
// local (node-local, never replicated):
//
//	L<index>                       Raft log entry
//	S<key>                         Raft stable store value
//	oo/<reqseq>                    usage outbox: request opened
//	oc/<closeseq>                  usage outbox: request closed
//	ox/lastclose                   highest close sequence ever used (u64)
var (
	keyApplied = []byte("m/applied")

	prefixSeq       = []byte("m/seq/")
	prefixUser      = []byte("u/")
	prefixUserName  = []byte("un/")
	prefixUserToken = []byte("ua/")
	prefixToken     = []byte("t/")
	prefixTokenKey  = []byte("tk/")
	prefixTokenUser = []byte("tu/")
	prefixChannel   = []byte("c/")
	prefixOption    = []byte("o/")
	prefixDedupe    = []byte("d/")
	prefixLease     = []byte("l/")
	prefixLog       = []byte("g/")
	prefixLogUser   = []byte("gu/")
	prefixAggDay    = []byte("a/d/")
	prefixNode      = []byte("n/")

	prefixRaftLog    = []byte("L")
	prefixRaftStable = []byte("S")
	prefixOutOpen    = []byte("oo/")
	prefixOutClose   = []byte("oc/")
	keyOutLastClose  = []byte("ox/lastclose")
)

func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func join(prefix []byte, parts ...[]byte) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p) + 1
	}
	k := make([]byte, 0, n)
	k = append(k, prefix...)
	for i, p := range parts {
		if i > 0 {
			k = append(k, '/')
		}
		k = append(k, p...)
	}
	return k
}

func u64(v uint64) []byte { return be64(nil, v) }

func keySeq(entity string) []byte    { return join(prefixSeq, []byte(entity)) }
func keyUser(id int64) []byte        { return be64(append([]byte{}, prefixUser...), uint64(id)) }
func keyUserName(name string) []byte { return join(prefixUserName, []byte(name)) }
func keyAccessToken(t string) []byte { return join(prefixUserToken, []byte(t)) }
func keyToken(id int64) []byte       { return be64(append([]byte{}, prefixToken...), uint64(id)) }
func keyTokenKey(hash []byte) []byte { return join(prefixTokenKey, hash) }
func keyChannel(id int64) []byte     { return be64(append([]byte{}, prefixChannel...), uint64(id)) }
func keyOption(name string) []byte   { return join(prefixOption, []byte(name)) }
func keyDedupe(node string) []byte   { return join(prefixDedupe, []byte(node)) }
func keyNode(id string) []byte       { return join(prefixNode, []byte(id)) }
func keyTokenUser(uid, tid int64) []byte {
	return join(prefixTokenUser, u64(uint64(uid)), u64(uint64(tid)))
}

// LeaseKind tells whose balance a lease holds.
type LeaseKind byte

// Lease kinds.
const (
	LeaseUser  LeaseKind = 'u'
	LeaseToken LeaseKind = 't'
)

func (k LeaseKind) name() string {
	if k == LeaseToken {
		return "token"
	}
	return "user"
}

func keyLease(kind LeaseKind, id int64, node string) []byte {
	return join(prefixLease, []byte{byte(kind)}, u64(uint64(id)), []byte(node))
}

func keyLog(ts int64, id int64) []byte {
	return join(prefixLog, u64(uint64(ts)), u64(uint64(id)))
}

func keyLogUser(uid, ts, id int64) []byte {
	return join(prefixLogUser, u64(uint64(uid)), u64(uint64(ts)), u64(uint64(id)))
}

func keyAggDay(day string, uid int64, model string) []byte {
	return join(prefixAggDay, []byte(day), u64(uint64(uid)), []byte(model))
}

// RaftLogKey is the local key of Raft log entry index.
func RaftLogKey(index uint64) []byte { return be64(append([]byte{}, prefixRaftLog...), index) }

// RaftLogIndex decodes a key made by RaftLogKey.
func RaftLogIndex(key []byte) uint64 { return binary.BigEndian.Uint64(key[len(prefixRaftLog):]) }

// RaftLogPrefix is the prefix shared by every Raft log key.
func RaftLogPrefix() []byte { return append([]byte{}, prefixRaftLog...) }

// RaftStableKey is the local key of a Raft stable-store value.
func RaftStableKey(k []byte) []byte { return append(append([]byte{}, prefixRaftStable...), k...) }

func keyOutOpen(seq uint64) []byte  { return be64(append([]byte{}, prefixOutOpen...), seq) }
func keyOutClose(seq uint64) []byte { return be64(append([]byte{}, prefixOutClose...), seq) }

// PrefixEnd returns the smallest key greater than every key with prefix p,
// for use as an exclusive upper bound.
func PrefixEnd(p []byte) []byte {
	end := append([]byte{}, p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
