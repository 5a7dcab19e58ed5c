package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"switchyard/admin"
	"switchyard/storage"
)

const adminUsage = `Usage:
  switchyard admin [--url URL] cluster status        list the cluster's members
  switchyard admin [--url URL] cluster remove ID     remove member ID
  switchyard admin [--url URL] backup FILE           save a copy of the replicated state

The management access token (root) comes from SWITCHYARD_ADMIN_TOKEN; --url
(or SWITCHYARD_URL) is any member's HTTP address (default http://127.0.0.1:3000).
`

// adminCmd runs `switchyard admin …` against a running node's API and
// returns the process exit code.
func adminCmd(args []string, getenv func(string) string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() { fmt.Fprint(errOut, adminUsage) }
	base := getenv("SWITCHYARD_URL")
	if base == "" {
		base = "http://127.0.0.1:3000"
	}
	url := fs.String("url", base, "HTTP address of any member")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	token := getenv("SWITCHYARD_ADMIN_TOKEN")
	if token == "" {
		fmt.Fprintln(errOut, "switchyard admin: set SWITCHYARD_ADMIN_TOKEN to a root access token")
		return 2
	}
	c := &apiClient{base: strings.TrimRight(*url, "/"), authKey: "Authorization", authVal: token, http: &http.Client{Timeout: 30 * time.Second}}
	ctx := context.Background()
	switch {
	case len(rest) == 2 && rest[0] == "cluster" && rest[1] == "status":
		var st admin.ClusterStatus
		if err := c.call(ctx, http.MethodGet, "/api/cluster/status", nil, &st); err != nil {
			fmt.Fprintln(errOut, "switchyard admin:", err)
			return 1
		}
		printClusterStatus(out, st)
		return 0
	case len(rest) == 3 && rest[0] == "cluster" && rest[1] == "remove":
		if err := c.call(ctx, http.MethodDelete, "/api/cluster/node/"+rest[2], nil, nil); err != nil {
			fmt.Fprintln(errOut, "switchyard admin:", err)
			return 1
		}
		fmt.Fprintf(out, "removed %s\n", rest[2])
		return 0
	case len(rest) == 2 && rest[0] == "backup":
		idx, err := c.download(ctx, "/api/cluster/backup", rest[1])
		if err != nil {
			fmt.Fprintln(errOut, "switchyard admin:", err)
			return 1
		}
		fmt.Fprintf(out, "backup of applied index %s written to %s\n", idx, rest[1])
		return 0
	}
	fs.Usage()
	return 2
}

// download saves a streamed response to file (atomically) and returns the
// applied index it reflects.
func (c *apiClient) download(ctx context.Context, path, file string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set(c.authKey, c.authVal)
	client := *c.http
	client.Timeout = 0 // a large state takes long; ctx bounds it
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/octet-stream" {
		var env struct {
			Message string `json:"message"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env)
		return "", fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, env.Message)
	}
	tmp := file + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("backup: %w", err)
	}
	return resp.Header.Get("X-Switchyard-Applied-Index"), nil
}

const restoreUsage = `Usage: switchyard restore [--data DIR] FILE

Creates the data directory of a new single-node cluster from a backup
(switchyard admin backup). DIR must not hold a node yet. Start it with
switchyard serve --data DIR; grow it with --join as usual.
`

// restoreCmd is `switchyard restore`.
func restoreCmd(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() { fmt.Fprint(errOut, restoreUsage) }
	data := fs.String("data", "./data", "data directory to create")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	if err := restoreBackup(*data, fs.Arg(0)); err != nil {
		fmt.Fprintln(errOut, "switchyard restore:", err)
		return 1
	}
	fmt.Fprintf(out, "restored %s into %s; start it with: switchyard serve --data %s\n", fs.Arg(0), *data, *data)
	return 0
}

func restoreBackup(data, file string) error {
	for _, sub := range []string{"state", "local", "raft-snapshots"} {
		if entries, err := os.ReadDir(filepath.Join(data, sub)); err == nil && len(entries) > 0 {
			return fmt.Errorf("%s already holds a node (%s is not empty)", data, sub)
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	st, err := storage.Open(filepath.Join(data, "state"), storage.Options{})
	if err != nil {
		return err
	}
	err = st.Restore(f)
	if err == nil {
		err = st.PrepareRestoredBackup()
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.RemoveAll(filepath.Join(data, "state"))
	}
	return err
}

func printClusterStatus(w io.Writer, st admin.ClusterStatus) {
	fmt.Fprintf(w, "leader: %s\n", st.Leader)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tVOTER\tHTTP\tRAFT\tNATS\tAPPLIED\tLAST CONTACT")
	for _, n := range st.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\t%d\t%dms\n", n.ID, n.State, n.Voter, n.HTTPAddr, n.RaftAddr, n.NATSAddr, n.AppliedIndex, n.LastContactMs)
	}
	tw.Flush()
}

// apiClient calls a node's /api routes and decodes the {success, message,
// data} envelope. The management CLI authenticates with an access token,
// joining nodes with the cluster secret.
type apiClient struct {
	base             string
	authKey, authVal string // the authentication header
	http             *http.Client
}

// call sends body (JSON, when not nil) and decodes the envelope's data
// into out (when not nil).
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set(c.authKey, c.authVal)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Success bool            `json:"success"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&env); err != nil {
		return fmt.Errorf("%s %s: HTTP %d: %w", method, path, resp.StatusCode, err)
	}
	if !env.Success {
		return errors.New(env.Message)
	}
	if out != nil && len(env.Data) > 0 {
		return json.Unmarshal(env.Data, out)
	}
	return nil
}
