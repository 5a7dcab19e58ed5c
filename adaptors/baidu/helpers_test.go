package baidu

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// testToken is the access token the tests' channels carry, in Baidu's
// format.
const testToken = "24.6c5e1ff107f0e8bcef8c46d3424a0e78.2592000.1485516651.282335-8574074"

// v1Channel is a channel the transport has already got a token for.
func v1Channel() adaptors.Channel {
	return adaptors.Channel{Type: ChannelType, Key: "Ab3dEf6hIj9kLm2nOp5qRs8t|Uv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2r", AccessToken: testToken}
}

// renderHead prints a request's method, URL and headers for golden files.
func renderHead(r *adaptors.HTTPRequest) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	return []byte(b.String())
}

// indent pretty-prints a JSON body for golden files (the upstream gets
// the compact bytes).
func indent(t testing.TB, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(body), "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// chatReq is a chat request for body.
func chatReq(body string, stream bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-4.0-8K", OriginModel: "ERNIE-4.0-8K",
		Body: []byte(body), Stream: stream, IncludeUsage: stream, Created: 1735689600}
}

// buildBody builds a v1 chat body and returns it decoded, for unit tests
// that look at members.
func buildBody(t *testing.T, body string) map[string]any {
	t.Helper()
	ch := v1Channel()
	r, err := New().BuildRequest(&ch, chatReq(body, false))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// renderUsage prints a usage for golden files.
func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "none"
	}
	return fmt.Sprintf("prompt=%d completion=%d total=%d cached=%d cache_write=%d reasoning=%d",
		u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens, u.CacheWriteTokens, u.ReasoningTokens)
}

// renderError prints an error for golden files: a *schema.Error field by
// field, anything else by its text.
func renderError(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("schema.Error status=%d type=%s code=%v\nmessage: %s\n", se.Status, se.Type, se.Code, se.Message)
	}
	return "error: " + err.Error() + "\n"
}

// renderResponse prints a ParseResponse result for golden files.
func renderResponse(t testing.TB, resp *adaptors.Response, err error) []byte {
	t.Helper()
	if err != nil {
		return []byte(renderError(err))
	}
	return append(indent(t, resp.Body), "-- usage: "+renderUsage(resp.Usage)+"\n"...)
}

// renderEvents prints decoded stream events and the end for golden files.
func renderEvents(evs []adaptors.StreamEvent, end error) []byte {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Data != nil {
			fmt.Fprintf(&b, "data: %s\n", ev.Data)
		} else {
			b.WriteString("data: (none)\n")
		}
		if ev.Usage != nil {
			fmt.Fprintf(&b, "  usage: %s\n", renderUsage(ev.Usage))
		}
		if ev.TextBytes != 0 {
			fmt.Fprintf(&b, "  text_bytes: %d\n", ev.TextBytes)
		}
	}
	if end == io.EOF {
		b.WriteString("end: io.EOF\n")
	} else {
		b.WriteString("end: " + renderError(end))
	}
	return []byte(b.String())
}

// jsonUnmarshal decodes with encoding/json, independent of the code
// under test.
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
