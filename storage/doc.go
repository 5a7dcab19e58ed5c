// Package storage is Switchyard's state: the Pebble engine, the key schema,
// the typed records (users, tokens, channels, logs, options, leases, …), the
// commands that change them, and the deterministic state machine that
// applies committed commands.
//
// Two Pebble instances live under a node's data directory:
//
//   - state (Store): the replicated state machine. Every change arrives as a
//     Command committed by Raft and applied in log order by ApplyEntries on
//     every node. It is written without fsync: the synced Raft log is the
//     durable record, and the applied index is stored in the same batch as
//     the data so that a restarted node skips what it already applied.
//   - local (Local): node-local data that is never replicated: the Raft log
//     and stable store (synced on every write) and the usage outbox.
//
// Invariants:
//   - Apply is deterministic: no clock reads, no randomness, no map
//     iteration order. Ids come from sequences inside the state; times come
//     from the proposer inside the command.
//   - Every key prefix is defined in keys.go with fixed-width big-endian
//     integers, so byte order equals numeric order.
//   - Reads are local and may be stale; callers that must see their own
//     write wait for the applied index (see Store.WaitApplied).
//
// Writers never touch Pebble directly: they build a Command and hand it to a
// Proposer (implemented by package cluster).
package storage
