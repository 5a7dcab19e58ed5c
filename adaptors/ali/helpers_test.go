package ali

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
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// created is the gateway's receive time in every test request.
const created = 1735113344

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
		return append(bytes.Clone(body), '\n')
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// renderError prints an error for a golden file.
func renderError(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
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

// renderResponse prints a converted answer (or the error) for a golden.
func renderResponse(resp *adaptors.Response, err error) []byte {
	if err != nil {
		return []byte(renderError(err))
	}
	var b strings.Builder
	b.WriteString(renderUsage(resp.Usage))
	if resp.Images > 0 {
		fmt.Fprintf(&b, "images: %d\n", resp.Images)
	}
	b.WriteString("\n")
	b.Write(indent(resp.Body))
	return []byte(b.String())
}

// renderStream drains a decoder and prints every event and the end.
func renderStream(t testing.TB, d adaptors.StreamDecoder) []byte {
	t.Helper()
	evs, err := adaptortest.Drain(t, d)
	var b strings.Builder
	for _, ev := range evs {
		if ev.Data != nil {
			fmt.Fprintf(&b, "data: %s\n", ev.Data)
		} else {
			b.WriteString("(no data)\n")
		}
		if ev.TextBytes != 0 {
			fmt.Fprintf(&b, "  text_bytes: %d\n", ev.TextBytes)
		}
		if ev.Usage != nil {
			b.WriteString("  " + renderUsage(ev.Usage))
		}
	}
	if err == io.EOF {
		b.WriteString("end: EOF\n")
	} else {
		b.WriteString("end: " + renderError(err))
	}
	return []byte(b.String())
}

func newReq(mode adaptors.Mode, model string, stream bool, body []byte) *adaptors.Request {
	return &adaptors.Request{Mode: mode, Model: model, OriginModel: model, Body: body,
		Stream: stream, IncludeUsage: stream, Created: created}
}

func chatReq(model string, stream bool, body string) *adaptors.Request {
	if body == "" {
		body = `{"model":"` + model + `","messages":[{"role":"user","content":"Hello!"}]}`
	}
	return newReq(adaptors.ModeChat, model, stream, []byte(body))
}
