package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of `switchyard serve`. Each field is a flag and
// an environment variable SWITCHYARD_<NAME>; precedence is defaults, then
// environment, then flags. Secrets are never printed.
type Config struct {
	Listen    string        `flag:"listen" help:"HTTP address to serve on"`
	Data      string        `flag:"data" help:"data directory (state, local Raft log, outbox)"`
	NodeID    string        `flag:"node-id" help:"this node's id (unique in a cluster; fixed once data exists)"`
	LogLevel  string        `flag:"log-level" help:"debug, info, warn or error"`
	Drain     time.Duration `flag:"drain-timeout" help:"how long SIGTERM waits for in-flight requests and streams"`
	PProf     bool          `flag:"pprof" help:"serve /debug/pprof/ (profiling; keep off in production)"`
	MaxBodyMB int           `flag:"max-body-mb" help:"largest relay request body in MiB (images and audio uploads, base64 images); larger ones get 413"`
	// Image URLs of chat requests, downloaded for providers that take
	// images only inline (Anthropic, Gemini, Bedrock, Ollama).
	ImageFetchMaxMB   int  `flag:"image-fetch-max-mb" help:"largest image in MiB the gateway downloads for a chat image URL (providers that take images only inline)"`
	ImageFetchPrivate bool `flag:"image-fetch-private" help:"let chat image URLs point at private, loopback and link-local addresses (off: a client cannot make the gateway read its own network)"`
	// Per-address limits (0 disables one); per node.
	APIRateLimit      int `flag:"api-rate-limit" help:"requests per client address per 180 s on /api and /dashboard (root access tokens exempt; 0: no limit)"`
	WebRateLimit      int `flag:"web-rate-limit" help:"requests per client address per 180 s on the web UI (0: no limit)"`
	CriticalRateLimit int `flag:"critical-rate-limit" help:"requests per client address per 20 min on login, registration, reset, verification, OAuth and top-up (0: no limit)"`
	// Cluster (all empty: a single node with no cluster ports).
	RaftAddr        string `flag:"raft-addr" help:"host:port for Raft between nodes; empty runs a single node"`
	RaftAdvertise   string `flag:"raft-advertise" help:"Raft address other nodes dial, when --raft-addr binds 0.0.0.0"`
	NATSClusterAddr string `flag:"nats-cluster-addr" help:"host:port where the embedded NATS server takes routes from other nodes"`
	NATSAdvertise   string `flag:"nats-advertise" help:"NATS route address other nodes dial, when --nats-cluster-addr binds 0.0.0.0"`
	HTTPAdvertise   string `flag:"http-advertise" help:"HTTP address of this node as other nodes and operators reach it; empty: --listen's port on the Raft host"`
	Join            string `flag:"join" help:"HTTP URL of any cluster member to join (first start; harmless later)"`
	ClusterSecret   string `flag:"cluster-secret" secret:"true" help:"shared secret (16+ characters) that authenticates joins, Raft and NATS between nodes (prefer the environment variable)"`
	// Secrets: environment only, so they never show in a process list.
	RootPassword    string `env:"ROOT_PASSWORD" secret:"true" help:"initial root password on first start (generated and printed when empty)"`
	RootAccessToken string `env:"ROOT_ACCESS_TOKEN" secret:"true" help:"initial root management access token on first start"`
}

func defaultConfig() Config {
	return Config{Listen: ":3000", Data: "./data", NodeID: "node1", LogLevel: "info", Drain: 60 * time.Second,
		APIRateLimit: 480, WebRateLimit: 240, CriticalRateLimit: 20, MaxBodyMB: 64, ImageFetchMaxMB: 20}
}

func envName(f reflect.StructField) string {
	if e := f.Tag.Get("env"); e != "" {
		return "SWITCHYARD_" + e
	}
	return "SWITCHYARD_" + strings.ToUpper(strings.ReplaceAll(f.Tag.Get("flag"), "-", "_"))
}

// loadConfig applies the environment and then the flags in args.
func loadConfig(args []string, getenv func(string) string) (Config, error) {
	cfg := defaultConfig()
	v := reflect.ValueOf(&cfg).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if s := getenv(envName(t.Field(i))); s != "" {
			if err := setField(v.Field(i), s); err != nil {
				return cfg, fmt.Errorf("%s: %w", envName(t.Field(i)), err)
			}
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: switchyard serve [flags]\n\nEvery flag can also be set as an environment variable.\n\n")
		printHelp(fs.Output())
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("flag")
		if name == "" {
			continue
		}
		fv := v.Field(i)
		switch p := fv.Addr().Interface().(type) {
		case *string:
			fs.StringVar(p, name, *p, f.Tag.Get("help"))
		case *bool:
			fs.BoolVar(p, name, *p, f.Tag.Get("help"))
		case *time.Duration:
			fs.DurationVar(p, name, *p, f.Tag.Get("help"))
		case *int:
			fs.IntVar(p, name, *p, f.Tag.Get("help"))
		}
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return cfg, cfg.validate()
}

// minSecret is the shortest cluster secret accepted.
const minSecret = 16

func (c Config) validate() error {
	for _, l := range []struct {
		name string
		v    int
	}{{"--api-rate-limit", c.APIRateLimit}, {"--web-rate-limit", c.WebRateLimit}, {"--critical-rate-limit", c.CriticalRateLimit}, {"--max-body-mb", c.MaxBodyMB}, {"--image-fetch-max-mb", c.ImageFetchMaxMB}} {
		if l.v < 0 {
			return fmt.Errorf("%s must not be negative", l.name)
		}
	}
	if c.RaftAddr == "" {
		for _, f := range []struct{ name, v string }{{"--join", c.Join}, {"--nats-cluster-addr", c.NATSClusterAddr}, {"--raft-advertise", c.RaftAdvertise}, {"--nats-advertise", c.NATSAdvertise}} {
			if f.v != "" {
				return fmt.Errorf("%s needs --raft-addr (a cluster node)", f.name)
			}
		}
		return nil
	}
	if c.NATSClusterAddr == "" {
		return errors.New("a cluster node (--raft-addr) needs --nats-cluster-addr")
	}
	if len(c.ClusterSecret) < minSecret {
		return fmt.Errorf("a cluster node (--raft-addr) needs a cluster secret of at least %d characters (SWITCHYARD_CLUSTER_SECRET)", minSecret)
	}
	if c.NodeID == "" || strings.ContainsAny(c.NodeID, " .*>/\\") {
		return fmt.Errorf("--node-id %q: use letters, digits, - and _", c.NodeID)
	}
	return nil
}

// clustered reports whether the node runs as a cluster member.
func (c Config) clustered() bool { return c.RaftAddr != "" }

func setField(f reflect.Value, s string) error {
	switch p := f.Addr().Interface().(type) {
	case *string:
		*p = s
	case *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*p = d
	case *int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		*p = n
	}
	return nil
}

func printHelp(w interface{ Write([]byte) (int, error) }) {
	def := defaultConfig()
	v := reflect.ValueOf(def)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := "(environment only)"
		if fl := f.Tag.Get("flag"); fl != "" {
			name = "--" + fl
		}
		d := fmt.Sprint(v.Field(i).Interface())
		if f.Tag.Get("secret") != "" || d == "" {
			d = "none"
		}
		fmt.Fprintf(w, "  %-22s %-32s %s (default %s)\n", name, envName(f), f.Tag.Get("help"), d)
	}
}

// String prints the configuration with secrets redacted.
func (c Config) String() string {
	v := reflect.ValueOf(c)
	t := v.Type()
	var b strings.Builder
	for i := 0; i < t.NumField(); i++ {
		val := fmt.Sprint(v.Field(i).Interface())
		if t.Field(i).Tag.Get("secret") != "" && val != "" {
			val = "<redacted>"
		}
		fmt.Fprintf(&b, "%s=%s ", t.Field(i).Name, val)
	}
	return strings.TrimSpace(b.String())
}

func usage() {
	fmt.Fprintln(os.Stderr, `Switchyard: a clustered AI API gateway.

Usage:
  switchyard serve [flags]   run a node (switchyard serve --help lists every setting)
  switchyard admin …         manage a running cluster (switchyard admin --help)
  switchyard restore …       create a data directory from a backup (switchyard restore --help)
  switchyard version         print the version`)
}
