package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// natsClusterName is the NATS cluster name every Switchyard node uses;
// servers with different names refuse each other's routes.
const natsClusterName = "switchyard"

// natsMaxPayload bounds one NATS message, so one forwarded command (a usage
// batch of up to a few thousand records) must stay below it.
const natsMaxPayload = 8 << 20

// bus is the node's embedded nats-server and its in-process client
// connection. Core NATS only: no JetStream, nothing is persisted.
type bus struct {
	srv       *server.Server
	nc        *nats.Conn
	advertise string // Config.NATSAdvertise
}

// startBus starts the embedded server and connects to it in-process.
//
// Without a cluster address the server opens no port at all (DontListen).
// With one, routes listen on that address, and the client listener is bound
// to 127.0.0.1 on a random port although we still connect in-process:
// nats-server starts routes only after its client accept loop, which never
// runs under DontListen (routes would never come up).
func startBus(cfg *Config, log *slog.Logger) (*bus, error) {
	opts := &server.Options{
		ServerName: cfg.NodeID,
		NoSigs:     true,
		MaxPayload: natsMaxPayload,
	}
	if cfg.NATSClusterAddr == "" {
		opts.DontListen = true
	} else {
		host, port, err := splitHostPort(cfg.NATSClusterAddr)
		if err != nil {
			return nil, fmt.Errorf("nats cluster address: %w", err)
		}
		opts.Host = "127.0.0.1"
		opts.Port = server.RANDOM_PORT
		opts.Cluster = server.ClusterOpts{Name: natsClusterName, Host: host, Port: port, Advertise: cfg.NATSAdvertise}
		user, pass := routeCredentials(cfg.ClusterSecret)
		if pass != "" {
			// Routes authenticate with the cluster secret: a process that
			// can reach the port but does not know the secret cannot join
			// the bus (and so cannot forward commands to the leader).
			opts.Cluster.Username, opts.Cluster.Password = user, pass
		}
		for _, r := range cfg.NATSRoutes {
			u, err := routeURL(r)
			if err != nil {
				return nil, fmt.Errorf("nats route %q: %w", r, err)
			}
			if pass != "" {
				u.User = url.UserPassword(user, pass)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start nats: %w", err)
	}
	srv.SetLogger(natsLogger{l: log}, false, false)
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("start nats: server not ready after 10s")
	}
	nc, err := nats.Connect("",
		nats.InProcessServer(srv),
		nats.Name(cfg.NodeID),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("nats client error", "component", "nats", "subject", subject, "err", err)
		}),
	)
	if err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	return &bus{srv: srv, nc: nc, advertise: cfg.NATSAdvertise}, nil
}

// clusterAddr is the address other nodes reach the route listener on: the
// advertised one, else the bound one ("" in single-node mode).
func (b *bus) clusterAddr() string {
	if b.advertise != "" {
		return b.advertise
	}
	if a := b.srv.ClusterAddr(); a != nil {
		return a.String()
	}
	return ""
}

func (b *bus) close() {
	b.nc.Close()
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

// splitHostPort parses "host:port"; port 0 means a random port.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// routeCredentials derives the NATS route user and password from the
// cluster secret ("" when there is none).
func routeCredentials(secret string) (user, pass string) {
	if secret == "" {
		return "", ""
	}
	sum := sha256.Sum256([]byte("switchyard nats route\x00" + secret))
	return "switchyard", hex.EncodeToString(sum[:])
}

// routeURL accepts "host:port" or "nats://host:port".
func routeURL(r string) (*url.URL, error) {
	if !strings.Contains(r, "://") {
		r = "nats://" + r
	}
	u, err := url.Parse(r)
	if err != nil {
		return nil, err
	}
	if u.Host == "" {
		return nil, fmt.Errorf("no host")
	}
	return u, nil
}
