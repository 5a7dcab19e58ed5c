package openai

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/sse"
)

// chunkWire picks out of a stream chunk what the gateway needs. Text
// fields are raw so that a vendor sending content as an array of parts
// (Mistral's reasoning models) still decodes; their sizes are measured
// without building strings.
type chunkWire struct {
	Choices []struct {
		Delta struct {
			Content          sonic.NoCopyRawMessage `json:"content"`
			ReasoningContent sonic.NoCopyRawMessage `json:"reasoning_content"`
			Reasoning        sonic.NoCopyRawMessage `json:"reasoning"` // OpenRouter's spelling
			Refusal          sonic.NoCopyRawMessage `json:"refusal"`
			ToolCalls        []struct {
				Function struct {
					Arguments sonic.NoCopyRawMessage `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
			FunctionCall struct {
				Arguments sonic.NoCopyRawMessage `json:"arguments"`
			} `json:"function_call"` // deprecated, still sent by old models
		} `json:"delta"`
		Text sonic.NoCopyRawMessage `json:"text"` // legacy completions
	} `json:"choices"`
	Usage *usageWire `json:"usage"`
	XGroq struct {
		Usage *usageWire `json:"usage"`
	} `json:"x_groq"`
	Error    sonic.NoCopyRawMessage `json:"error"`
	BaseResp *baseResp              `json:"base_resp"`
}

// textBytes is the size of the generated text in c (UTF-8 bytes after
// unescaping).
func (c *chunkWire) textBytes() int {
	n := 0
	for i := range c.Choices {
		ch := &c.Choices[i]
		d := &ch.Delta
		n += rawTextLen(d.Content) + rawTextLen(d.ReasoningContent) + rawTextLen(d.Reasoning) +
			rawTextLen(d.Refusal) + rawTextLen(d.FunctionCall.Arguments) + rawTextLen(ch.Text)
		for j := range d.ToolCalls {
			n += rawTextLen(d.ToolCalls[j].Function.Arguments)
		}
	}
	return n
}

// doneMarker is OpenAI's end-of-stream payload.
const doneMarker = "[DONE]"

// streamDecoder turns an OpenAI SSE body into adaptors.StreamEvents. The
// payload bytes are relayed as the upstream wrote them; each chunk is
// decoded once, only for usage, text size and errors.
type streamDecoder struct {
	a            *Adaptor
	includeUsage bool
	r            *sse.Reader
	dec          jsonDecoder
	c            chunkWire // reused: its Choices backing array survives chunks
	err          error     // sticky: io.EOF, *schema.Error, or a read error
}

func newStreamDecoder(a *Adaptor, req *adaptors.Request, body io.Reader) *streamDecoder {
	return &streamDecoder{a: a, includeUsage: req.IncludeUsage, r: sse.NewReader(body, 0), dec: newJSONDecoder(true)}
}

// Next implements adaptors.StreamDecoder.
func (d *streamDecoder) Next() (adaptors.StreamEvent, error) {
	if d.err != nil {
		return adaptors.StreamEvent{}, d.err
	}
	for {
		ev, err := d.r.Next()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("%s: read stream: %w", d.a.cfg.Name, err)
			}
			d.err = err
			return adaptors.StreamEvent{}, err
		}
		if ev.Event == "error" {
			// OpenAI's ErrorEvent: data is the error object itself (which
			// parseError reads as a flattened envelope) or an envelope.
			se := parseError(http.StatusBadGateway, ev.Data)
			d.err = se
			return adaptors.StreamEvent{}, se
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 {
			continue // empty keep-alive event
		}
		if string(data) == doneMarker {
			d.err = io.EOF
			return adaptors.StreamEvent{}, io.EOF
		}
		out, keep, err := d.chunk(data)
		if err != nil {
			d.err = err
			return adaptors.StreamEvent{}, err
		}
		if keep {
			return out, nil
		}
	}
}

// chunk converts one data payload. keep is false for a chunk that carries
// nothing at all (dropped without surfacing an event).
func (d *streamDecoder) chunk(data []byte) (ev adaptors.StreamEvent, keep bool, err error) {
	// Reset the reused chunk. The old choices are zeroed, not just
	// truncated, because a decoder may fill a reused element in place and
	// leave fields absent from this chunk holding the previous values.
	choices := d.c.Choices[:cap(d.c.Choices)]
	clear(choices)
	d.c = chunkWire{Choices: choices[:0]}
	c := &d.c
	if !isObject(data) || d.dec.decode(data, c) != nil {
		// Unparsable: relay untouched, as One API does; the client may
		// understand what we do not.
		return adaptors.StreamEvent{Data: clone(data)}, true, nil
	}
	if e := d.a.embeddedError(data, c.Error, c.BaseResp); e != nil {
		return ev, false, e
	}
	uw := c.Usage
	if uw == nil && d.a.cfg.GroqUsage {
		uw = c.XGroq.Usage
	}
	ev.Usage = uw.usage()
	ev.TextBytes = c.textBytes()
	switch {
	case len(c.Choices) > 0:
		ev.Data = clone(data)
	case c.Usage != nil:
		// The usage-only final chunk: the gateway always asks for it, the
		// client sees it only if it asked too.
		if d.includeUsage {
			ev.Data = clone(data)
		}
	default:
		// No choices and no usage: Azure's prompt-filter preamble and
		// similar bookkeeping chunks. Clients that index choices[0] would
		// crash on them.
		if ev.Usage == nil {
			return ev, false, nil
		}
	}
	return ev, true, nil
}

func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}

// rawTextLen returns the UTF-8 length of the text in a raw JSON value: a
// string is measured as decoded (escapes counted as the bytes they stand
// for) without allocating; null or absent is 0; any other value (content
// parts arrays) counts its raw size, a fair estimate for billing
// fallbacks.
func rawTextLen(raw []byte) int {
	if len(raw) < 2 || raw[0] != '"' {
		if isPresent(raw) {
			return len(raw)
		}
		return 0
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return len(s)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			n++
			continue
		}
		i++
		if s[i] != 'u' {
			n++ // \n, \", \\, \/, \t, …: one byte each
			continue
		}
		r, ok := hex4(s, i+1)
		if !ok {
			n++
			continue
		}
		i += 4
		if r >= 0xD800 && r < 0xDC00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
			if lo, ok := hex4(s, i+3); ok && lo >= 0xDC00 && lo < 0xE000 {
				n += 4 // a surrogate pair is one 4-byte rune
				i += 6
				continue
			}
		}
		if l := utf8.RuneLen(r); l > 0 {
			n += l
		} else {
			n += 3 // lone surrogate: decoded as U+FFFD
		}
	}
	return n
}

// hex4 parses four hex digits at s[i:].
func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
