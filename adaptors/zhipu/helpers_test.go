package zhipu

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// testKey is an API key in BigModel's "<id>.<secret>" form.
const testKey = "4d1b2c3a5e6f47a8b9c0d1e2f3a4b5c6.Zq8XyW7vU6tS5rQ4"

// testToken stands for a minted JWT in channels given to BuildRequest.
const testToken = "eyJhbGciOiJIUzI1NiIsInNpZ25fdHlwZSI6IlNJR04iLCJ0eXAiOiJKV1QifQ.test-claims.test-signature"

// jwtChannel is a default (JWT) channel whose token the transport minted.
func jwtChannel() adaptors.Channel {
	return adaptors.Channel{ID: 16, Type: ChannelType, Key: testKey, AccessToken: testToken}
}

// keyChannel is a channel in plain-key mode.
func keyChannel() adaptors.Channel {
	return adaptors.Channel{ID: 17, Type: ChannelType, Key: testKey, Config: map[string]string{ConfigAuth: AuthKey}}
}

// renderRequest prints an HTTPRequest for golden files: method, URL,
// headers, the exact body bytes, and (for a reviewer) the body indented.
func renderRequest(r *adaptors.HTTPRequest) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	fmt.Fprintf(&b, "\n%s\n", bytes.TrimRight(r.Body, "\n"))
	var pretty bytes.Buffer
	if json.Indent(&pretty, r.Body, "", "  ") == nil {
		fmt.Fprintf(&b, "\n(indented)\n%s\n", pretty.Bytes())
	}
	return []byte(b.String())
}

func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%+v", *u)
}

// renderResponse prints a converted answer for golden files.
func renderResponse(resp *adaptors.Response, err error) []byte {
	if err != nil {
		var se *schema.Error
		if errors.As(err, &se) {
			return fmt.Appendf(nil, "error: *schema.Error %+v\n", *se)
		}
		return fmt.Appendf(nil, "error: %v\n", err)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, resp.Body, "", "  ") != nil {
		pretty.Write(resp.Body)
	}
	return fmt.Appendf(nil, "usage: %s\nimages: %d\n\n%s\n", renderUsage(resp.Usage), resp.Images, pretty.Bytes())
}

// drain runs a decoder to its end, with a guard against decoders that
// never end.
func drain(t testing.TB, d adaptors.StreamDecoder) ([]adaptors.StreamEvent, error) {
	t.Helper()
	var evs []adaptors.StreamEvent
	for range 100000 {
		ev, err := d.Next()
		if err != nil {
			return evs, err
		}
		if ev.Data != nil {
			ev.Data = bytes.Clone(ev.Data)
		}
		evs = append(evs, ev)
	}
	t.Fatal("decoder did not end")
	return nil, nil
}

// renderStream prints decoded events for golden files.
func renderStream(evs []adaptors.StreamEvent, err error) []byte {
	var b strings.Builder
	for i, ev := range evs {
		data := "(hidden)"
		if ev.Data != nil {
			data = string(ev.Data)
		}
		fmt.Fprintf(&b, "#%d text=%d usage=%s\n  %s\n", i, ev.TextBytes, renderUsage(ev.Usage), data)
	}
	var se *schema.Error
	switch {
	case err == io.EOF:
		b.WriteString("end: io.EOF\n")
	case errors.As(err, &se):
		fmt.Fprintf(&b, "end: *schema.Error %+v\n", *se)
	default:
		fmt.Fprintf(&b, "end: error %v\n", err)
	}
	return []byte(b.String())
}

// statusOf reads the HTTP status from a fixture name ("429_1113.json").
func statusOf(t *testing.T, name string) int {
	s, _, _ := strings.Cut(name, "_")
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("fixture %s does not start with a status", name)
	}
	return n
}

// renderError prints a mapped error for golden files.
func renderError(e *schema.Error) string {
	return fmt.Sprintf("status: %d\ntype: %s\ncode: %#v\nparam: %#v\nmessage: %s\n", e.Status, e.Type, e.Code, e.Param, e.Message)
}
