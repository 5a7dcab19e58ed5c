package zhipu

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
	"switchyard/adaptors/sse"
)

// chunkWire is one v4 stream chunk. Every chunk repeats delta.role; the
// last one carries finish_reason and the usage of the whole answer; an
// error arrives as {"error":{code,message}}.
type chunkWire struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Choices []struct {
		FinishReason string `json:"finish_reason"`
		Delta        struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
			ToolCalls        []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *usageWire             `json:"usage"`
	Error sonic.NoCopyRawMessage `json:"error"`
}

// doneMarker ends a v4 stream.
const doneMarker = "[DONE]"

// Decoder states.
const (
	stateStreaming = iota
	stateDone      // d.err is all that is left
)

// streamDecoder converts a v4 chat stream into chat.completion.chunk
// events. v4's chunks are nearly OpenAI's; they are rebuilt rather than
// relayed so that the model is the one the client asked for, the role
// comes once, tool calls are numbered from 0 with their id only on their
// first chunk, finish reasons are OpenAI's, and the usage v4 puts in its
// last content chunk becomes OpenAI's usage-only chunk (shown only when
// the client asked for it). One sonic decoder, one chunk struct and one
// output buffer serve the whole stream; the only allocation per event is
// the chunk handed to the caller.
type streamDecoder struct {
	r            *sse.Reader
	dec          chunkDecoder
	c            chunkWire
	includeUsage bool
	model        string
	created      int64

	id       string
	prefix   []byte // `{"id":…,"choices":[{"index":0,"delta":` once id is known
	buf      []byte // chunk under construction
	started  bool   // the role has been sent
	calls    []int  // v4's index of each tool call, by OpenAI index
	finished bool   // a finish_reason has been seen
	usage    *adaptors.Usage
	state    int
	err      error // sticky: io.EOF, a *schema.Error, or a read/format error
}

func newStreamDecoder(req *adaptors.Request, body io.Reader) *streamDecoder {
	return &streamDecoder{
		r:            sse.NewReader(body, 0),
		dec:          newChunkDecoder(),
		includeUsage: req.IncludeUsage,
		model:        req.OriginModel,
		created:      req.Created,
	}
}

// Next implements adaptors.StreamDecoder.
func (d *streamDecoder) Next() (adaptors.StreamEvent, error) {
	if d.state == stateDone {
		return adaptors.StreamEvent{}, d.err
	}
	for {
		ev, err := d.r.Next()
		if err != nil {
			if err != io.EOF {
				return d.fail(fmt.Errorf("zhipu: read stream: %w", err))
			}
			if !d.finished {
				return d.fail(fmt.Errorf("zhipu: stream ended before its finish_reason: %w", io.ErrUnexpectedEOF))
			}
			return d.end() // a clean EOF after the last chunk
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 {
			continue // keep-alive
		}
		if string(data) == doneMarker {
			return d.end()
		}
		if ev.Event == "error" {
			return d.fail(embeddedError(data))
		}
		if data[0] != '{' {
			return d.fail(invalidResponse("stream chunk is not a json object"))
		}
		choices := d.c.Choices[:cap(d.c.Choices)]
		clear(choices)
		d.c = chunkWire{Choices: choices[:0]}
		if err := d.dec.decode(data, &d.c); err != nil {
			return d.fail(invalidResponse("stream chunk: %v", err))
		}
		if len(d.c.Error) > 0 && string(d.c.Error) != "null" {
			return d.fail(embeddedError(data))
		}
		out, ok, err := d.chunk()
		if err != nil {
			return d.fail(err)
		}
		if ok {
			return out, nil
		}
	}
}

// fail ends the stream with err.
func (d *streamDecoder) fail(err error) (adaptors.StreamEvent, error) {
	d.err = err
	d.state = stateDone
	return adaptors.StreamEvent{}, err
}

// end finishes a complete stream: the usage event when v4 reported usage
// (its chunk shown only to clients that asked), then io.EOF.
func (d *streamDecoder) end() (adaptors.StreamEvent, error) {
	d.err = io.EOF
	d.state = stateDone
	if d.usage == nil {
		return adaptors.StreamEvent{}, io.EOF
	}
	ev := adaptors.StreamEvent{Usage: d.usage}
	if d.includeUsage {
		ev.Data = usageChunk(d.chunkID(), d.model, d.created, *d.usage)
	}
	return ev, nil
}

// chunkID is the id of the stream's chunks.
func (d *streamDecoder) chunkID() string {
	if d.id == "" {
		return "chatcmpl-zhipu"
	}
	return d.id
}

// usageChunk builds OpenAI's usage-only chunk.
func usageChunk(id, model string, created int64, u adaptors.Usage) []byte {
	b, _ := sonic.ConfigDefault.Marshal(&schema.UsageChunk{ // cannot fail: strings and integers
		ID:      id,
		Object:  schema.ObjectChatCompletionChunk,
		Created: created,
		Model:   model,
		Choices: []struct{}{},
		Usage:   usageSchema(u),
	})
	return b
}

// chunk converts the decoded chunk d.c; ok is false when it gives the
// client nothing (a usage-only chunk, an empty delta).
func (d *streamDecoder) chunk() (ev adaptors.StreamEvent, ok bool, err error) {
	c := &d.c
	if d.prefix == nil {
		d.id = strings.Clone(c.ID)
		if c.Created > 0 {
			d.created = c.Created
		}
	}
	if u := c.Usage.usage(); u != nil {
		d.usage = u // v4 reports the answer's total: the last report wins
	}
	if len(c.Choices) == 0 {
		return ev, false, nil
	}
	ch := &c.Choices[0] // v4 answers with one choice
	delta := &ch.Delta
	wasStarted := d.started
	d.begin()
	empty := true
	if s := delta.ReasoningContent; s != "" {
		d.member("reasoning_content")
		d.buf = openaiwire.AppendString(d.buf, s)
		ev.TextBytes += len(s)
		empty = false
	}
	if s := delta.Content; s != "" {
		d.member("content")
		d.buf = openaiwire.AppendString(d.buf, s)
		ev.TextBytes += len(s)
		empty = false
	}
	if n := d.toolCalls(); n >= 0 {
		ev.TextBytes += n
		empty = false
	}
	finish := "null"
	if ch.FinishReason != "" {
		f, err := finishReason(ch.FinishReason, len(d.calls) > 0)
		if err != nil {
			return ev, false, err
		}
		d.finished = true
		finish = `"` + f + `"`
	} else if empty && wasStarted {
		return adaptors.StreamEvent{}, false, nil
	}
	if empty && !wasStarted {
		d.member("content")
		d.buf = append(d.buf, `""`...)
	}
	d.buf = append(d.buf, `},"finish_reason":`...)
	d.buf = append(d.buf, finish...)
	d.buf = append(d.buf, `}]}`...)
	ev.Data = bytes.Clone(d.buf)
	return ev, true, nil
}

// toolCalls appends the chunk's tool calls to the delta: a call seen for
// the first time with its OpenAI index, id, type, name and arguments,
// later fragments of it with the index and arguments only. It returns
// the bytes of arguments written, or -1 when there was nothing to write.
func (d *streamDecoder) toolCalls() int {
	tcs := d.c.Choices[0].Delta.ToolCalls
	n, wrote := 0, false
	for j := range tcs {
		tc := &tcs[j]
		v4 := j
		if tc.Index != nil {
			v4 = *tc.Index
		}
		i := d.callIndex(v4)
		first := i < 0
		if first {
			i = len(d.calls)
			d.calls = append(d.calls, v4)
		} else if tc.Function.Arguments == "" {
			continue
		}
		if !wrote {
			d.member("tool_calls")
			d.buf = append(d.buf, '[')
			wrote = true
		} else {
			d.buf = append(d.buf, ',')
		}
		d.buf = append(d.buf, `{"index":`...)
		d.buf = strconv.AppendInt(d.buf, int64(i), 10)
		if first {
			d.buf = append(d.buf, `,"id":`...)
			d.buf = openaiwire.AppendString(d.buf, toolCallID(tc.ID, d.chunkID(), i))
			d.buf = append(d.buf, `,"type":"function","function":{"name":`...)
			d.buf = openaiwire.AppendString(d.buf, tc.Function.Name)
			d.buf = append(d.buf, `,"arguments":`...)
		} else {
			d.buf = append(d.buf, `,"function":{"arguments":`...)
		}
		d.buf = openaiwire.AppendString(d.buf, tc.Function.Arguments)
		d.buf = append(d.buf, `}}`...)
		n += len(tc.Function.Arguments)
	}
	if !wrote {
		return -1
	}
	d.buf = append(d.buf, ']')
	return n
}

// callIndex returns the OpenAI index of the tool call v4 numbers v4, or
// -1 for a new call.
func (d *streamDecoder) callIndex(v4 int) int {
	for i, c := range d.calls {
		if c == v4 {
			return i
		}
	}
	return -1
}

// begin starts a chunk in d.buf, up to the opening of the delta's
// members; the first chunk also carries the role.
func (d *streamDecoder) begin() {
	if d.prefix == nil {
		p := append(make([]byte, 0, 128), `{"id":`...)
		p = openaiwire.AppendString(p, d.chunkID())
		p = append(p, `,"object":"chat.completion.chunk","created":`...)
		p = strconv.AppendInt(p, d.created, 10)
		p = append(p, `,"model":`...)
		p = openaiwire.AppendString(p, d.model)
		p = append(p, `,"choices":[{"index":0,"delta":{`...)
		d.prefix = p
	}
	d.buf = append(d.buf[:0], d.prefix...)
	if !d.started {
		d.started = true
		d.buf = append(d.buf, `"role":"assistant"`...)
	}
}

// member starts a delta member: a comma unless it is the first, then its
// quoted name and the colon.
func (d *streamDecoder) member(name string) {
	if d.buf[len(d.buf)-1] != '{' {
		d.buf = append(d.buf, ',')
	}
	d.buf = append(d.buf, '"')
	d.buf = append(d.buf, name...)
	d.buf = append(d.buf, `":`...)
}
