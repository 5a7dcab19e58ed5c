package cluster

// NATS subjects used inside a Switchyard cluster. They are cluster-internal
// (the NATS client listener is bound to loopback) and all start with "sy.".
// The cluster's own subjects are defined here; the application's events
// (sy.usage.<node>, sy.evt.<kind>) are defined by package actors, which
// publishes them.
const (
	// SubjectPropose carries commands forwarded by followers to the
	// leader (request/reply). Only the current leader subscribes.
	SubjectPropose = "sy.raft.propose"
	// SubjectMember carries membership changes (add voter, remove server)
	// forwarded to the leader (request/reply). Only the leader subscribes.
	SubjectMember = "sy.raft.member"
	// SubjectLeader is published by a node when it becomes leader; the
	// payload is a JSON LeaderInfo.
	SubjectLeader = "sy.raft.leader"
)

// SubjectHeartbeat carries node id's liveness and load.
func SubjectHeartbeat(id string) string { return "sy.node." + id + ".hb" }

// natsQueueLeader is the queue group of the leader-only subscriptions, so
// that an old leader that has not yet noticed it lost leadership and the
// new one never both receive the same request.
const natsQueueLeader = "leader"

// SubjectStatus answers requests for node id's Status (request/reply).
func SubjectStatus(id string) string { return "sy.node." + id + ".status" }
