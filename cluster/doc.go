// Package cluster runs a Switchyard node's replication: a hashicorp/raft
// node whose state machine is storage.Store, and an embedded core-NATS
// server that carries forwarded writes and lossy cluster signals. It
// implements storage.Proposer; no other package sees a raft or NATS type.
//
// A single node is a one-voter Raft cluster with an in-memory transport and
// a NATS server that opens no port; only the HTTP port is open. A cluster
// node listens for Raft on Config.RaftAddr and for NATS routes on
// Config.NATSClusterAddr; its NATS client listener is bound to loopback.
//
// Durability. The Raft log and stable store (LogStore) live in the
// node-local Pebble instance and every write to them is fsynced before it
// returns: votes, terms and acknowledged entries survive power loss. The
// state store is written without fsync; it is durable through the log, and
// it is fsynced when Raft snapshots it, before the log is compacted. Raft
// does not restore the snapshot on start (the state store persists itself
// and skips entries at or below its applied index); Open restores it only
// if the state store is behind the newest snapshot (a lost state
// directory).
//
// Writes. Propose commits a command and returns once this node's state
// machine has applied it, with the result computed locally, so the caller
// reads its own write. Followers forward to the leader over NATS
// request/reply (SubjectPropose, subscribed only while leading) and retry
// only when the command was provably not appended; any other error leaves
// the outcome unknown, so commands that must not apply twice carry their
// own idempotency key. Requests from one follower are appended in the order
// they arrive; concurrent Propose calls are not ordered.
//
// Concurrency. Node's methods are safe for concurrent use. The state
// machine is driven by Raft's single FSM goroutine (ApplyBatch, Snapshot,
// Restore); snapshot persistence runs concurrently with applies on a pinned
// Pebble snapshot. Subscribe callbacks run on one goroutine per
// subscription.
package cluster
