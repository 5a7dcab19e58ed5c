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
	"strings"
	"text/tabwriter"
	"time"

	"switchyard/admin"
)

const adminUsage = `Usage:
  switchyard admin [--url URL] cluster status        list the cluster's members
  switchyard admin [--url URL] cluster remove ID     remove member ID

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
	c := &apiClient{base: strings.TrimRight(*url, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
	ctx := context.Background()
	switch {
	case len(rest) == 2 && rest[0] == "cluster" && rest[1] == "status":
		var st admin.ClusterStatus
		if err := c.call(ctx, http.MethodGet, "/api/cluster/status", &st); err != nil {
			fmt.Fprintln(errOut, "switchyard admin:", err)
			return 1
		}
		printClusterStatus(out, st)
		return 0
	case len(rest) == 3 && rest[0] == "cluster" && rest[1] == "remove":
		if err := c.call(ctx, http.MethodDelete, "/api/cluster/node/"+rest[2], nil); err != nil {
			fmt.Fprintln(errOut, "switchyard admin:", err)
			return 1
		}
		fmt.Fprintf(out, "removed %s\n", rest[2])
		return 0
	}
	fs.Usage()
	return 2
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

// apiClient calls the management API with an access token.
type apiClient struct {
	base, token string
	http        *http.Client
}

func (c *apiClient) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(nil))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.token)
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
	if out != nil {
		return json.Unmarshal(env.Data, out)
	}
	return nil
}
