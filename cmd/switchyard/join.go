package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"switchyard/admin"
	"switchyard/cluster"
	"switchyard/storage"
)

// peersFile (in the data directory) lists the NATS route addresses of the
// cluster's members as this node last knew them, so that a restarted
// member finds the others without --join.
const peersFile = "cluster-peers.json"

func loadPeers(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, peersFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var routes []string
	if err := json.Unmarshal(b, &routes); err != nil {
		return nil, fmt.Errorf("%s: %w", peersFile, err)
	}
	return routes, nil
}

// savePeers writes the members' NATS addresses (atomically).
func savePeers(dir string, nodes []storage.NodeInfo) error {
	var routes []string
	for _, n := range nodes {
		if n.NATSAddr != "" {
			routes = append(routes, n.NATSAddr)
		}
	}
	sort.Strings(routes)
	b, err := json.Marshal(routes)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, peersFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, peersFile))
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// joinClient calls a member's node-to-node routes (cluster secret).
type joinClient struct {
	*apiClient
	log *slog.Logger
}

func newJoinClient(joinURL, secret string, log *slog.Logger) *joinClient {
	return &joinClient{apiClient: &apiClient{
		base: strings.TrimRight(joinURL, "/"), authKey: admin.HeaderClusterSecret, authVal: secret,
		http: &http.Client{Timeout: 70 * time.Second},
	}, log: log}
}

// retry calls f until it succeeds or ctx ends (a member may still be
// starting, or electing a leader).
func (j *joinClient) retry(ctx context.Context, what string, f func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if attempt%5 == 0 {
			j.log.Warn(what+" failed; retrying", "member", j.base, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s via %s: %w", what, j.base, err)
		case <-time.After(time.Second):
		}
	}
}

// peers asks the member for the cluster's NATS route addresses.
func (j *joinClient) peers(ctx context.Context) ([]string, error) {
	var p admin.Peers
	err := j.retry(ctx, "fetching the cluster's peers", func(ctx context.Context) error {
		return j.call(ctx, http.MethodGet, "/api/cluster/peers", nil, &p)
	})
	return p.NATSRoutes, err
}

// join asks the cluster to add this node (as a voter while it has fewer
// than seven). Joining again with the same id and address is harmless.
func (j *joinClient) join(ctx context.Context, id, raftAddr string) error {
	return j.retry(ctx, "joining the cluster", func(ctx context.Context) error {
		return j.call(ctx, http.MethodPost, "/api/cluster/join", admin.JoinRequest{ID: id, RaftAddr: raftAddr}, nil)
	})
}

// httpAdvertise is the HTTP address other nodes and operators use for this
// node: --http-advertise, else the listener's port on the Raft host.
func httpAdvertise(cfg Config, listen net.Addr) string {
	if cfg.HTTPAdvertise != "" {
		return cfg.HTTPAdvertise
	}
	port := ""
	if listen != nil {
		_, port, _ = net.SplitHostPort(listen.String())
	} else {
		_, port, _ = net.SplitHostPort(cfg.Listen)
	}
	host := ""
	for _, a := range []string{cfg.RaftAdvertise, cfg.RaftAddr} {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
			host = h
			break
		}
	}
	if host == "" {
		if listen != nil {
			return listen.String()
		}
		return cfg.Listen
	}
	return net.JoinHostPort(host, port)
}

// clusterAdmin adapts the cluster node to what the admin routes need
// (admin does not import cluster).
type clusterAdmin struct{ n *cluster.Node }

func memberStatus(s cluster.Status) admin.MemberStatus {
	return admin.MemberStatus{ID: s.ID, State: s.State, AppliedIndex: s.AppliedIndex, LastContactMs: s.LastContactMs, Leader: s.Leader}
}

func (c clusterAdmin) Self() admin.MemberStatus { return memberStatus(c.n.LocalStatus()) }

func (c clusterAdmin) PeerStatus(ctx context.Context, id string) (admin.MemberStatus, error) {
	s, err := c.n.PeerStatus(ctx, id)
	return memberStatus(s), err
}

func (c clusterAdmin) Members() ([]admin.Member, error) {
	ms, err := c.n.Members()
	out := make([]admin.Member, len(ms))
	for i, m := range ms {
		out[i] = admin.Member{ID: m.ID, RaftAddr: m.Address, Voter: m.Voter}
	}
	return out, err
}

func (c clusterAdmin) AddVoter(ctx context.Context, id, raftAddr string) error {
	return c.n.AddVoter(ctx, id, raftAddr)
}

func (c clusterAdmin) RemoveServer(ctx context.Context, id string) error {
	return c.n.RemoveServer(ctx, id)
}
