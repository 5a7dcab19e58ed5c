package admin

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/route"

	"switchyard/storage"
)

// Cluster is what the cluster routes need from the node's Raft member
// (package cluster's Node, adapted by cmd). Nil in Deps leaves the routes
// answering that clustering is off.
type Cluster interface {
	// Self is this node's status; PeerStatus asks member id for its own.
	Self() MemberStatus
	PeerStatus(ctx context.Context, id string) (MemberStatus, error)
	// Members lists the Raft configuration.
	Members() ([]Member, error)
	AddVoter(ctx context.Context, id, raftAddr string) error
	RemoveServer(ctx context.Context, id string) error
}

// MemberStatus is what a member reports about itself.
type MemberStatus struct {
	ID            string
	State         string // leader, follower, candidate, nonvoter, shutdown
	AppliedIndex  uint64
	LastContactMs int64
	Leader        string // the leader's id as this member knows it
}

// Member is one server of the Raft configuration.
type Member struct {
	ID       string
	RaftAddr string
	Voter    bool
}

// HeaderClusterSecret carries the shared cluster secret on the node-to-node
// routes (join, peers).
const HeaderClusterSecret = "X-Switchyard-Cluster-Secret"

// JoinRequest is the body of POST /api/cluster/join.
type JoinRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
}

// Peers is the data of GET /api/cluster/peers: the NATS route addresses
// of the members this node knows of (its own included).
type Peers struct {
	NATSRoutes []string `json:"nats_routes"`
}

// NodeStatus is one entry of GET /api/cluster/status.
type NodeStatus struct {
	ID string `json:"id"`
	// State is "leader", "follower", "nonvoter", "candidate" or
	// "unreachable" (the member did not answer within a second).
	State         string `json:"state"`
	Voter         bool   `json:"voter"`
	HTTPAddr      string `json:"http_addr"`
	RaftAddr      string `json:"raft_addr"`
	NATSAddr      string `json:"nats_addr"`
	AppliedIndex  uint64 `json:"applied_index"`
	LastContactMs int64  `json:"last_contact_ms"`
}

// ClusterStatus is the data of GET /api/cluster/status.
type ClusterStatus struct {
	Leader string       `json:"leader"`
	Nodes  []NodeStatus `json:"nodes"`
}

func (a *API) mountCluster(api *route.RouterGroup) {
	cl := api.Group("/cluster")
	cl.GET("/status", a.auth(storage.RoleRoot), a.clusterStatus)
	cl.DELETE("/node/:id", a.auth(storage.RoleRoot), a.removeNode)
	cl.GET("/backup", a.auth(storage.RoleRoot), a.backup)
	cl.GET("/peers", a.clusterSecret, a.clusterPeers)
	cl.POST("/join", a.clusterSecret, a.clusterJoin)
}

// clusterSecret admits node-to-node calls that carry the cluster secret.
func (a *API) clusterSecret(ctx context.Context, c *app.RequestContext) {
	if a.d.Cluster == nil || a.d.ClusterSecret == "" {
		failStatus(c, http.StatusNotFound, "this node does not run as a cluster member (start it with --raft-addr and a cluster secret)")
		c.Abort()
		return
	}
	got := c.Request.Header.Peek(HeaderClusterSecret)
	if subtle.ConstantTimeCompare(got, []byte(a.d.ClusterSecret)) != 1 {
		failStatus(c, http.StatusUnauthorized, "wrong or missing cluster secret")
		c.Abort()
		return
	}
	c.Next(ctx)
}

func (a *API) clusterPeers(_ context.Context, c *app.RequestContext) {
	nodes, err := a.d.Store.Nodes()
	if err != nil {
		fail(c, err.Error())
		return
	}
	p := Peers{NATSRoutes: []string{}}
	seen := map[string]bool{}
	add := func(addr string) {
		if addr != "" && !seen[addr] {
			seen[addr] = true
			p.NATSRoutes = append(p.NATSRoutes, addr)
		}
	}
	add(a.d.NATSAddr)
	for _, n := range nodes {
		add(n.NATSAddr)
	}
	ok(c, p)
}

// joinTimeout bounds a join: the leader commits the new configuration
// once the new node's Raft answers.
const joinTimeout = 60 * time.Second

func (a *API) clusterJoin(ctx context.Context, c *app.RequestContext) {
	var req JoinRequest
	if err := sonic.Unmarshal(c.Request.Body(), &req); err != nil || req.ID == "" || req.RaftAddr == "" {
		failStatus(c, http.StatusBadRequest, "body must be {\"id\": …, \"raft_addr\": …}")
		return
	}
	jctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	if err := a.d.Cluster.AddVoter(jctx, req.ID, req.RaftAddr); err != nil {
		a.d.Logger.Warn("join refused", "node", req.ID, "raft_addr", req.RaftAddr, "err", err)
		fail(c, "join failed: "+err.Error())
		return
	}
	a.d.Logger.Info("node joined", "node", req.ID, "raft_addr", req.RaftAddr)
	ok(c, nil)
}

// statusWait is how long the status route waits for each member.
const statusWait = time.Second

func (a *API) clusterStatus(ctx context.Context, c *app.RequestContext) {
	if a.d.Cluster == nil {
		fail(c, "clustering is not available on this node")
		return
	}
	members, err := a.d.Cluster.Members()
	if err != nil {
		fail(c, err.Error())
		return
	}
	infos, err := a.d.Store.Nodes()
	if err != nil {
		fail(c, err.Error())
		return
	}
	byID := map[string]storage.NodeInfo{}
	for _, n := range infos {
		byID[n.ID] = n
	}
	out := ClusterStatus{Leader: a.d.Cluster.Self().Leader, Nodes: make([]NodeStatus, len(members))}
	var wg sync.WaitGroup
	for i, m := range members {
		info := byID[m.ID]
		out.Nodes[i] = NodeStatus{ID: m.ID, Voter: m.Voter, HTTPAddr: info.HTTPAddr, RaftAddr: m.RaftAddr, NATSAddr: info.NATSAddr}
		wg.Add(1)
		go func(ns *NodeStatus) {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, statusWait)
			defer cancel()
			st, err := a.d.Cluster.PeerStatus(sctx, ns.ID)
			if err != nil {
				ns.State = "unreachable"
				return
			}
			ns.State, ns.AppliedIndex, ns.LastContactMs = st.State, st.AppliedIndex, st.LastContactMs
		}(&out.Nodes[i])
	}
	wg.Wait()
	sort.Slice(out.Nodes, func(i, j int) bool { return out.Nodes[i].ID < out.Nodes[j].ID })
	ok(c, out)
}

func (a *API) removeNode(ctx context.Context, c *app.RequestContext) {
	if a.d.Cluster == nil {
		fail(c, "clustering is not available on this node")
		return
	}
	id := c.Param("id")
	if id == a.d.Cluster.Self().ID {
		fail(c, "a node cannot remove itself; ask another member")
		return
	}
	members, err := a.d.Cluster.Members()
	if err != nil {
		fail(c, err.Error())
		return
	}
	found := false
	for _, m := range members {
		found = found || m.ID == id
	}
	if !found {
		fail(c, "no member "+id)
		return
	}
	rctx, cancel := context.WithTimeout(ctx, ProposeTimeout)
	defer cancel()
	if err := a.d.Cluster.RemoveServer(rctx, id); err != nil {
		fail(c, "remove failed: "+err.Error())
		return
	}
	if _, done := a.propose(ctx, c, &storage.RemoveNode{ID: id}); !done {
		return
	}
	a.d.Logger.Info("node removed", "node", id)
	ok(c, nil)
}

// backup streams a consistent copy of the replicated state (every user,
// token, channel, option and log, as of one applied index). `switchyard
// restore` turns it into the data directory of a new cluster.
func (a *API) backup(_ context.Context, c *app.RequestContext) {
	snap, err := a.d.Store.Snapshot()
	if err != nil {
		fail(c, "backup: "+err.Error())
		return
	}
	pr, pw := io.Pipe()
	go func() {
		defer snap.Close()
		_, err := snap.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	c.Response.Header.Set("Content-Type", "application/octet-stream")
	c.Response.Header.Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"switchyard-%d.backup\"", snap.Index()))
	c.Response.Header.Set("X-Switchyard-Applied-Index", strconv.FormatUint(snap.Index(), 10))
	c.SetBodyStream(pr, -1)
}
