package cohere

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/sse"
)

// eventWire is one v2 stream event, every type in one struct (absent
// members stay zero). content and tool_calls are objects in the delta
// events and arrays in message-start; the decoder tolerates the mismatch
// and message-start needs neither.
type eventWire struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Index int    `json:"index"`
	Delta struct {
		Message struct {
			Content struct {
				Type     string `json:"type"`
				Text     string `json:"text"`
				Thinking string `json:"thinking"`
			} `json:"content"`
			ToolPlan  string `json:"tool_plan"`
			ToolCalls struct {
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string     `json:"finish_reason"`
		Error        string     `json:"error"`
		Usage        *usageWire `json:"usage"`
	} `json:"delta"`
}

// noIndex marks an event without an index member.
const noIndex = -1

// Decoder states after message-end.
const (
	stateStreaming = iota
	stateUsage     // the finish chunk is out; the usage event is next
	stateDone      // d.err is all that is left
)

// streamDecoder converts a v2 chat stream into chat.completion.chunk
// events. It keeps one sonic decoder and one event struct for the whole
// stream, and builds each chunk by appending to a reused buffer; the
// only allocation per event is the chunk handed to the caller.
type streamDecoder struct {
	r            *sse.Reader
	dec          eventDecoder
	ev           eventWire
	includeUsage bool
	model        string
	created      int64

	id      string
	prefix  []byte // `{"id":…,"choices":[{"index":0,"delta":` once id is known
	buf     []byte // chunk under construction
	started bool   // the role has been sent
	calls   []int  // Cohere's index of each tool call, by OpenAI index
	state   int
	usage   *adaptors.Usage
	err     error // sticky: io.EOF, a *schema.Error, or a read/format error
}

func newStreamDecoder(req *adaptors.Request, body io.Reader) *streamDecoder {
	return &streamDecoder{
		r:            sse.NewReader(body, 0),
		dec:          newEventDecoder(),
		includeUsage: req.IncludeUsage,
		model:        req.OriginModel,
		created:      req.Created,
	}
}

// Next implements adaptors.StreamDecoder.
func (d *streamDecoder) Next() (adaptors.StreamEvent, error) {
	switch d.state {
	case stateUsage:
		d.state = stateDone
		if d.usage != nil {
			ev := adaptors.StreamEvent{Usage: d.usage}
			if d.includeUsage && d.err == io.EOF {
				ev.Data = adaptors.UsageChunk(adaptors.ModeChat, d.id, d.model, d.created, *d.usage)
			}
			return ev, nil
		}
		return adaptors.StreamEvent{}, d.err
	case stateDone:
		return adaptors.StreamEvent{}, d.err
	}
	for {
		sev, err := d.r.Next()
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("cohere: stream ended before message-end: %w", io.ErrUnexpectedEOF)
			} else {
				err = fmt.Errorf("cohere: read stream: %w", err)
			}
			return d.fail(err)
		}
		data := bytes.TrimSpace(sev.Data)
		if len(data) == 0 || string(data) == "[DONE]" {
			continue
		}
		if data[0] != '{' {
			return d.fail(invalidResponse("stream event is not a json object"))
		}
		d.ev = eventWire{Index: noIndex}
		if err := d.dec.decode(data, &d.ev); err != nil {
			return d.fail(invalidResponse("stream event: %v", err))
		}
		typ := d.ev.Type
		if typ == "" {
			typ = sev.Event
		}
		if out, ok := d.event(typ); ok {
			return out, nil
		}
		if d.state != stateStreaming {
			return d.Next()
		}
	}
}

// fail ends the stream with err.
func (d *streamDecoder) fail(err error) (adaptors.StreamEvent, error) {
	d.err = err
	d.state = stateDone
	return adaptors.StreamEvent{}, err
}

// event converts the decoded event d.ev of type typ; ok is false when it
// gives the client nothing.
func (d *streamDecoder) event(typ string) (adaptors.StreamEvent, bool) {
	e := &d.ev
	switch typ {
	case "message-start":
		if d.id == "" {
			d.id = strings.Clone(e.ID)
		}
		if d.started {
			return adaptors.StreamEvent{}, false
		}
		d.begin()
		d.buf = append(d.buf, `"content":""}`...)
		return d.emit(0), true
	case "content-start", "content-delta":
		c := &e.Delta.Message.Content
		if c.Thinking != "" {
			return d.textChunk("reasoning_content", c.Thinking), true
		}
		if c.Text != "" {
			return d.textChunk("content", c.Text), true
		}
	case "tool-plan-delta":
		if p := e.Delta.Message.ToolPlan; p != "" {
			return d.textChunk("content", p), true
		}
	case "tool-call-start":
		tc := &e.Delta.Message.ToolCalls
		n := len(d.calls)
		d.calls = append(d.calls, e.Index)
		d.begin()
		d.buf = append(d.buf, `"tool_calls":[{"index":`...)
		d.buf = strconv.AppendInt(d.buf, int64(n), 10)
		d.buf = append(d.buf, `,"id":`...)
		d.buf = openaiwire.AppendString(d.buf, tc.ID)
		d.buf = append(d.buf, `,"type":"function","function":{"name":`...)
		d.buf = openaiwire.AppendString(d.buf, tc.Function.Name)
		d.buf = append(d.buf, `,"arguments":`...)
		d.buf = openaiwire.AppendString(d.buf, tc.Function.Arguments)
		d.buf = append(d.buf, `}}]}`...)
		return d.emit(len(tc.Function.Arguments)), true
	case "tool-call-delta":
		args := e.Delta.Message.ToolCalls.Function.Arguments
		n := d.callIndex(e.Index)
		if args == "" || n < 0 {
			return adaptors.StreamEvent{}, false
		}
		d.begin()
		d.buf = append(d.buf, `"tool_calls":[{"index":`...)
		d.buf = strconv.AppendInt(d.buf, int64(n), 10)
		d.buf = append(d.buf, `,"function":{"arguments":`...)
		d.buf = openaiwire.AppendString(d.buf, args)
		d.buf = append(d.buf, `}}]}`...)
		return d.emit(len(args)), true
	case "message-end":
		return d.end()
	}
	// content-end, tool-call-end, citation-start/-end, debug, and types
	// added later carry nothing for an OpenAI client.
	return adaptors.StreamEvent{}, false
}

// end handles message-end: the finish chunk now, the usage event next,
// then io.EOF — or, for ERROR and TIMEOUT, the usage event and then the
// error.
func (d *streamDecoder) end() (adaptors.StreamEvent, bool) {
	e := &d.ev
	d.usage = e.Delta.Usage.usage()
	d.state = stateUsage
	finish, ferr := finishReason(e.Delta.FinishReason, e.Delta.Error)
	if ferr != nil {
		d.err = ferr
		return adaptors.StreamEvent{}, false
	}
	d.err = io.EOF
	if finish == "stop" && len(d.calls) > 0 {
		finish = "tool_calls"
	}
	d.begin()
	if d.buf[len(d.buf)-1] == ',' {
		d.buf = d.buf[:len(d.buf)-1] // a stream with no content: the role alone
	}
	d.buf = append(d.buf, `},"finish_reason":"`...)
	d.buf = append(d.buf, finish...)
	d.buf = append(d.buf, `"}]}`...)
	return adaptors.StreamEvent{Data: bytes.Clone(d.buf)}, true
}

// callIndex returns the OpenAI index of the tool call Cohere numbers i
// (the latest call when the event has no index), or -1 when no call has
// started.
func (d *streamDecoder) callIndex(i int) int {
	if len(d.calls) == 0 {
		return -1
	}
	if i != noIndex {
		for n := len(d.calls) - 1; n >= 0; n-- {
			if d.calls[n] == i {
				return n
			}
		}
	}
	return len(d.calls) - 1
}

// begin starts a chunk in d.buf, up to the opening of the delta's
// members; the first chunk also carries the role (followed by a comma:
// every caller adds a member).
func (d *streamDecoder) begin() {
	if d.prefix == nil {
		p := append(make([]byte, 0, 128), `{"id":`...)
		p = openaiwire.AppendString(p, d.id)
		p = append(p, `,"object":"chat.completion.chunk","created":`...)
		p = strconv.AppendInt(p, d.created, 10)
		p = append(p, `,"model":`...)
		p = openaiwire.AppendString(p, d.model)
		p = append(p, `,"choices":[{"index":0,"delta":`...)
		d.prefix = p
	}
	d.buf = append(d.buf[:0], d.prefix...)
	d.buf = append(d.buf, '{')
	if !d.started {
		d.started = true
		d.buf = append(d.buf, `"role":"assistant",`...)
	}
}

// textChunk builds a chunk whose delta has one text member.
func (d *streamDecoder) textChunk(member, s string) adaptors.StreamEvent {
	d.begin()
	d.buf = append(d.buf, '"')
	d.buf = append(d.buf, member...)
	d.buf = append(d.buf, `":`...)
	d.buf = openaiwire.AppendString(d.buf, s)
	d.buf = append(d.buf, '}')
	return d.emit(len(s))
}

// emit closes the chunk in d.buf (finish_reason null) and hands out a
// copy.
func (d *streamDecoder) emit(textBytes int) adaptors.StreamEvent {
	d.buf = append(d.buf, `,"finish_reason":null}]}`...)
	return adaptors.StreamEvent{Data: bytes.Clone(d.buf), TextBytes: textBytes}
}
