package vertex

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testNow is the fixed clock of the token tests.
var testNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// testCreated is Request.Created in the tests.
const testCreated = 1795687200 // testNow

// testToken is the access token the tests put in their channels.
const testToken = "ya29.c.c0ASRK0GZ8-test-access-token"

// serviceAccount returns the fixed test key of testdata/sa.
func testKey(t testing.TB) string {
	t.Helper()
	return string(adaptortest.ReadFile(t, "testdata/sa/service_account.json"))
}

// testChannel is a channel with the fixed key, its token and config.
func testChannel(t testing.TB, config map[string]string) adaptors.Channel {
	return adaptors.Channel{ID: 7, Type: 42, Key: testKey(t), Config: config, AccessToken: testToken}
}

func chatReq(model string, stream, includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Stream: stream, IncludeUsage: includeUsage, Created: testCreated}
}

// renderRequest prints an HTTPRequest for golden files: request line,
// headers, then the body (indented when it is JSON; the body sent is
// compact).
func renderRequest(r *adaptors.HTTPRequest) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, r.Body, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(r.Body)
	}
	fmt.Fprintf(&b, "\n%s\n", pretty.Bytes())
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
		return []byte("error: " + renderErr(err) + "\n")
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, resp.Body, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(resp.Body)
	}
	return fmt.Appendf(nil, "usage: %s\n%s\n", renderUsage(resp.Usage), pretty.Bytes())
}

func renderErr(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("*schema.Error %+v", *se)
	}
	return err.Error()
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
	switch {
	case err == io.EOF:
		b.WriteString("end: io.EOF\n")
	default:
		fmt.Fprintf(&b, "end: %s\n", renderErr(err))
	}
	return []byte(b.String())
}

// drain runs a decoder to its end, bounded, copying the events' data.
func drain(t testing.TB, d adaptors.StreamDecoder) ([]adaptors.StreamEvent, error) {
	t.Helper()
	return adaptortest.Drain(t, d)
}
