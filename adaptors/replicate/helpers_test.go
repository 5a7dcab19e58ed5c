package replicate

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// renderRequest prints an upstream request for a golden file: method,
// URL, headers and the body indented (the bytes sent are compact).
func renderRequest(r *adaptors.HTTPRequest) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	if len(r.Body) > 0 {
		b.WriteString("\n")
		b.Write(indent(r.Body))
	}
	return []byte(b.String())
}

func indent(body []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return append(body, '\n')
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// renderError prints a *schema.Error (or any error) for a golden file.
func renderError(err error) string {
	if se, ok := err.(*schema.Error); ok {
		return fmt.Sprintf("error: status=%d type=%s code=%v param=%v\nmessage: %s\n", se.Status, se.Type, se.Code, se.Param, se.Message)
	}
	return fmt.Sprintf("error: %v\n", err)
}

func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "usage: none\n"
	}
	return fmt.Sprintf("usage: prompt=%d completion=%d total=%d cached=%d cache_write=%d reasoning=%d\n",
		u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens, u.CacheWriteTokens, u.ReasoningTokens)
}

func newReq(model string, stream bool, body []byte) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: body,
		Stream: stream, IncludeUsage: stream, Created: 1721747061}
}
