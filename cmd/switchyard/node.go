package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/hlog"

	"switchyard/actors"
	"switchyard/adaptors"
	"switchyard/adaptors/registry"
	"switchyard/admin"
	"switchyard/cluster"
	"switchyard/storage"
	"switchyard/transport"
	"switchyard/ui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// node is one running Switchyard process: stores, cluster, actors, HTTP.
type node struct {
	cfg    Config
	log    *slog.Logger
	store  *storage.Store
	local  *storage.Local
	raft   *cluster.Node
	actors *actors.System
	http   *transport.Server
	done   chan error
	once   sync.Once
	// checksStop ends the scheduled channel checks; checksDone is closed
	// when they have.
	checksStop, checksDone chan struct{}
}

// lazyProposer lets the actors be wired (and their apply hooks registered)
// before the cluster node that implements proposals exists.
type lazyProposer struct{ p storage.Proposer }

func (l *lazyProposer) Propose(ctx context.Context, c storage.Command) (storage.Result, error) {
	if l.p == nil {
		return storage.Result{}, errors.New("cluster not started")
	}
	return l.p.Propose(ctx, c)
}

// quietHertz keeps Hertz's process-wide logger to warnings. Call it once,
// before any node starts (it is not safe while a server logs).
func quietHertz() { hlog.SetLevel(hlog.LevelWarn) }

// startNode opens the data directory and starts serving. listener may be
// nil (cfg.Listen is used). out receives the one-time root password.
//
// tweaks adjust the cluster configuration (tests inject faults with them).
func startNode(cfg Config, listener net.Listener, log *slog.Logger, out io.Writer, tweaks ...func(*cluster.Config)) (*node, error) {
	n := &node{cfg: cfg, log: log, done: make(chan error, 1)}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, err
	}
	var err error
	if n.store, err = storage.Open(filepath.Join(cfg.Data, "state"), storage.Options{}); err != nil {
		return nil, err
	}
	if n.local, err = storage.OpenLocal(filepath.Join(cfg.Data, "local"), storage.Options{}); err != nil {
		n.store.Close()
		return nil, err
	}
	prop := &lazyProposer{}
	reg := registry.New()
	n.actors, err = actors.New(actors.Config{
		Node: cfg.NodeID, Lease: actors.LeasePolicy{Whole: !cfg.clustered()}, Logger: log,
		IsLeader: func() bool { return n.raft != nil && n.raft.IsLeader() },
		Publish: func(subject string, data []byte) error {
			if n.raft == nil {
				return errors.New("cluster not started")
			}
			return n.raft.Publish(subject, data)
		},
		Subscribed: func(subject string) bool { return n.raft != nil && n.raft.HasSubscribers(subject) },
		Subscribe: func(subject string, fn func([]byte)) (func(), error) {
			if n.raft == nil {
				return nil, errors.New("cluster not started")
			}
			return n.raft.Subscribe(subject, fn)
		},
		ClusterSize: func() int {
			if n.raft == nil {
				return 1
			}
			ms, err := n.raft.Members()
			if err != nil || len(ms) == 0 {
				return 1
			}
			return len(ms)
		},
	}, n.store, n.local, prop)
	if err != nil {
		n.closeStores()
		return nil, err
	}
	ccfg := cluster.Config{NodeID: cfg.NodeID, Dir: cfg.Data, Logger: log}
	var joiner *joinClient
	if cfg.clustered() {
		ccfg.RaftAddr, ccfg.RaftAdvertise = cfg.RaftAddr, cfg.RaftAdvertise
		ccfg.NATSClusterAddr, ccfg.NATSAdvertise = cfg.NATSClusterAddr, cfg.NATSAdvertise
		ccfg.ClusterSecret = cfg.ClusterSecret
		if ccfg.NATSRoutes, err = loadPeers(cfg.Data); err != nil {
			n.closeStores()
			return nil, err
		}
		// Without --join a new data directory starts a new cluster; an
		// existing one ignores this.
		ccfg.Bootstrap = cfg.Join == ""
		if cfg.Join != "" {
			joiner = newJoinClient(cfg.Join, cfg.ClusterSecret, log)
			jctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			routes, err := joiner.peers(jctx)
			cancel()
			if err != nil {
				n.closeStores()
				return nil, err
			}
			ccfg.NATSRoutes = union(ccfg.NATSRoutes, routes)
		}
	}
	for _, tw := range tweaks {
		tw(&ccfg)
	}
	n.raft, err = cluster.Open(ccfg, n.store, n.local)
	if err != nil {
		n.closeStores()
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	prop.p = n.raft
	if joiner != nil {
		jctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := joiner.join(jctx, cfg.NodeID, n.raft.RaftAddress())
		cancel()
		if err != nil {
			n.abort()
			return nil, err
		}
	}
	if err := n.bootstrap(out); err != nil {
		n.abort()
		return nil, err
	}
	// Catch up with the Raft log before the usage path starts: the outbox
	// must know every close sequence the state has already applied.
	bctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, err = n.raft.Propose(bctx, &storage.Barrier{})
	cancel()
	if err != nil {
		n.abort()
		return nil, fmt.Errorf("catch up with the log: %w", err)
	}
	if err := n.announce(listener); err != nil {
		n.abort()
		return nil, err
	}
	if err := n.actors.Start(); err != nil {
		n.abort()
		return nil, err
	}
	n.http, err = transport.New(transport.Config{
		Listen: cfg.Listen, Listener: listener, DrainTimeout: cfg.Drain, Node: cfg.NodeID, PProf: cfg.PProf, Logger: log,
		MaxBodyBytes: cfg.MaxBodyMB << 20,
		Images:       transport.ImageFetchConfig{MaxBytes: int64(cfg.ImageFetchMaxMB) << 20, AllowPrivate: cfg.ImageFetchPrivate},
		Limits: &transport.Limits{
			API:      transport.RateLimit{Count: cfg.APIRateLimit, Per: 180 * time.Second},
			Web:      transport.RateLimit{Count: cfg.WebRateLimit, Per: 180 * time.Second},
			Critical: transport.RateLimit{Count: cfg.CriticalRateLimit, Per: 20 * time.Minute},
		},
	}, transport.Deps{
		Catalog: n.actors.Catalog, Accounts: n.actors.Accounts, Health: n.actors.Health, Outbox: n.actors.Outbox,
		Adaptor: func(t int) (adaptors.Adaptor, bool) {
			r, ok := reg.Lookup(t)
			return r.Adaptor, ok
		},
		TypeName: func(t int) string {
			if r, ok := reg.Lookup(t); ok {
				return strings.ToLower(r.Name)
			}
			return "custom"
		},
		Ready: n.raft.Ready,
		Store: n.store,
		RootAccess: func(tok string) bool {
			u, err := n.store.UserByAccessToken(tok)
			return err == nil && u != nil && u.Role >= storage.RoleRoot && u.Status == storage.UserEnabled
		},
	})
	if err != nil {
		n.abort()
		return nil, err
	}
	api := admin.Mount(n.http.Hertz(), admin.Deps{
		Store: n.store, Propose: n.raft, Catalog: n.actors.Catalog, Tester: n.http,
		KnownType: func(t int) bool { _, ok := reg.Lookup(t); return ok },
		Logger:    log, Version: version, StartTime: time.Now().Unix(),
		Cluster: clusterAdmin{n.raft}, ClusterSecret: cfg.ClusterSecret, NATSAddr: n.raft.NATSClusterAddr(),
		IsLeader: n.raft.IsLeader,
	})
	n.checksStop, n.checksDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(n.checksDone)
		api.RunChecks(n.checksStop)
	}()
	n.http.NotFound(staticUI(ui.Files()))
	go func() { n.done <- n.http.Run() }()
	return n, nil
}

// announce records this node's addresses in the replicated state (for
// /api/cluster/status and for nodes joining later) and keeps the members'
// NATS addresses for the next start.
func (n *node) announce(listener net.Listener) error {
	var la net.Addr
	if listener != nil {
		la = listener.Addr()
	}
	self := storage.NodeInfo{
		ID: n.cfg.NodeID, HTTPAddr: httpAdvertise(n.cfg, la), RaftAddr: n.raft.RaftAddress(),
		NATSAddr: n.raft.NATSClusterAddr(), UpdatedAt: time.Now().Unix(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.raft.Propose(ctx, &storage.SetNode{Node: self}); err != nil {
		return fmt.Errorf("announce this node: %w", err)
	}
	if !n.cfg.clustered() {
		return nil
	}
	nodes, err := n.store.Nodes()
	if err != nil {
		return err
	}
	return savePeers(n.cfg.Data, nodes)
}

// bootstrap creates the root user and the session secret on first start.
func (n *node) bootstrap(out io.Writer) error {
	if us, err := n.store.Users(); err != nil || len(us) > 0 {
		return err
	}
	pw := n.cfg.RootPassword
	generated := pw == ""
	if generated {
		pw = admin.RandomHex(12)
	}
	hash, err := admin.HashPassword(pw)
	if err != nil {
		return err
	}
	root := storage.User{
		Username: "root", Password: hash, DisplayName: "Root User", Role: storage.RoleRoot,
		Status: storage.UserEnabled, Group: "default", Quota: 500_000_000_000_000, CreatedTime: time.Now().Unix(),
		AccessToken: n.cfg.RootAccessToken,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := n.raft.Propose(ctx, &storage.Bootstrap{Root: root, Options: map[string]string{
		admin.OptSessionSecret: admin.RandomHex(32),
	}})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if res.Err != nil && !errors.Is(res.Err, storage.ErrBootstrapped) {
		return fmt.Errorf("bootstrap: %w", res.Err)
	}
	if generated && res.Err == nil {
		fmt.Fprintf(out, "\n  Switchyard first start: user \"root\", password %q (shown once; change it).\n\n", pw)
	}
	return nil
}

// stop drains requests, ships usage, returns leases and closes the stores.
func (n *node) stop(ctx context.Context) error {
	var errs []error
	n.once.Do(func() {
		close(n.checksStop)
		<-n.checksDone
		if err := n.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http: %w", err))
		}
		if err := n.actors.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("usage flush: %w", err))
		}
		if err := n.raft.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cluster: %w", err))
		}
		n.closeStores()
	})
	return errors.Join(errs...)
}

func (n *node) abort() {
	if n.raft != nil {
		_ = n.raft.Shutdown(context.Background())
	}
	n.closeStores()
}

func (n *node) closeStores() {
	if n.local != nil {
		n.local.Close()
	}
	if n.store != nil {
		n.store.Close()
	}
}

// staticUI serves the web app, falling back to index.html for client-side
// routes.
func staticUI(files fs.FS) app.HandlerFunc {
	index, _ := fs.ReadFile(files, "index.html")
	return func(_ context.Context, c *app.RequestContext) {
		p := strings.TrimPrefix(string(c.Request.URI().Path()), "/")
		if p != "" && !strings.Contains(p, "..") {
			if b, err := fs.ReadFile(files, p); err == nil {
				c.Data(http.StatusOK, contentType(p), b)
				return
			}
		}
		c.Data(http.StatusOK, "text/html; charset=utf-8", index)
	}
}

func contentType(p string) string {
	switch filepath.Ext(p) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".json":
		return "application/json"
	}
	return "text/html; charset=utf-8"
}
