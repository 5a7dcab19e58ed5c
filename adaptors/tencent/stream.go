package tencent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/sse"
)

// Decoder states.
const (
	stateOpen      = iota // nothing read yet
	stateStreaming        // reading chunks
	stateUsage            // the finish chunk is out; the usage event is next
	stateDone             // d.err is all that is left
)

// maxJSONBody bounds how much of a stream body that turns out to be a
// plain JSON answer (an error Tencent sends instead of a stream) is read.
const maxJSONBody = 1 << 20

// headSize is how much of the body is read to tell an event stream from a
// JSON answer.
const headSize = 512

// maxEmptyReads is how many (0, nil) reads in a row are tolerated before
// giving up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// streamChunk is one stream event: a ChatCompletions answer without the
// Response wrapper, or an error ({"Response": {"Error": …}} or
// {"Error": …}).
type streamChunk struct {
	chatResponse
	Response *struct {
		Error *errorDetail `json:"Error"`
	} `json:"Response"`
}

// callState is one tool call of the stream, in OpenAI order.
type callState struct {
	id     string // Hunyuan's Id (or the one made up for a call without)
	hIndex int    // Hunyuan's Index, or -1
}

// streamDecoder converts a ChatCompletions stream into
// chat.completion.chunk events. The stream is `data: {…}` events with no
// terminator: the chunk whose FinishReason is set is the last, and the
// decoder reads nothing after it. It keeps one sonic decoder and one chunk
// struct for the whole stream and builds each client chunk in a reused
// buffer; the allocations per event are the chunk handed to the caller
// and, when the cumulative usage changed, its Usage.
type streamDecoder struct {
	src          io.Reader
	r            *sse.Reader
	dec          eventDecoder
	chunk        streamChunk
	includeUsage bool
	model        string
	created      int64

	id        string
	prefix    []byte // `{"id":…,"choices":[{"index":0,"delta":` once id is known
	buf       []byte // chunk under construction
	started   bool   // the role has been sent
	calls     []callState
	usage     adaptors.Usage // the last usage Hunyuan reported
	haveUsage bool
	state     int
	err       error // sticky: io.EOF, a *schema.Error, or a read/format error
}

func newStreamDecoder(req *adaptors.Request, body io.Reader) *streamDecoder {
	return &streamDecoder{
		src:          body,
		dec:          newEventDecoder(),
		includeUsage: req.IncludeUsage,
		model:        req.OriginModel,
		created:      req.Created,
	}
}

// Next implements adaptors.StreamDecoder.
func (d *streamDecoder) Next() (adaptors.StreamEvent, error) {
	switch d.state {
	case stateOpen:
		if err := d.open(); err != nil {
			return d.fail(err)
		}
	case stateUsage:
		d.state = stateDone
		if d.haveUsage {
			u := d.usage
			ev := adaptors.StreamEvent{Usage: &u}
			if d.includeUsage {
				ev.Data = adaptors.UsageChunk(adaptors.ModeChat, d.id, d.model, d.created, u)
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
				err = fmt.Errorf("tencent: stream ended before a chunk with a FinishReason: %w", io.ErrUnexpectedEOF)
			} else {
				err = fmt.Errorf("tencent: read stream: %w", err)
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
		choices := d.chunk.Choices[:cap(d.chunk.Choices)]
		clear(choices)
		d.chunk = streamChunk{}
		d.chunk.Choices = choices[:0]
		if err := d.dec.decode(data, &d.chunk); err != nil {
			return d.fail(invalidResponse("stream event: %v", err))
		}
		if ev, ok, err := d.event(); err != nil {
			return d.fail(err)
		} else if ok {
			return ev, nil
		}
	}
}

// open tells an event stream from a JSON answer: Tencent answers a
// request it refuses (a bad signature, an invalid parameter) with a JSON
// error body even when a stream was asked for.
func (d *streamDecoder) open() error {
	head := make([]byte, 0, headSize)
	first := byte(0)
	for empty := 0; first == 0 && len(head) < cap(head); {
		n, err := d.src.Read(head[len(head):cap(head)])
		if n < 0 || n > cap(head)-len(head) {
			return errors.New("tencent: stream source returned an invalid count")
		}
		for _, c := range head[len(head) : len(head)+n] {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				first = c
				break
			}
		}
		head = head[:len(head)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("tencent: read stream: %w", err)
		}
		if n == 0 {
			if empty++; empty >= maxEmptyReads {
				return fmt.Errorf("tencent: read stream: %w", io.ErrNoProgress)
			}
		}
	}
	if first == '{' {
		rest, err := io.ReadAll(io.LimitReader(d.src, maxJSONBody))
		if err != nil {
			return fmt.Errorf("tencent: read answer: %w", err)
		}
		return jsonAnswerError(append(head, rest...))
	}
	d.r = sse.NewReader(io.MultiReader(bytes.NewReader(head), d.src), 0)
	d.state = stateStreaming
	return nil
}

// jsonAnswerError is the error a JSON body in place of a stream stands
// for: Tencent's error, else an invalid response.
func jsonAnswerError(body []byte) error {
	var w errorEnvelope
	if decodeAnswer(body, &w) == nil {
		if det := w.detail(); det != nil {
			return apiError(codeStatus(det.Code), det)
		}
	}
	return invalidResponse("a stream was asked for and the answer is a JSON body that is not an error")
}

// fail ends the stream with err.
func (d *streamDecoder) fail(err error) (adaptors.StreamEvent, error) {
	d.err = err
	d.state = stateDone
	return adaptors.StreamEvent{}, err
}

// event converts the decoded chunk; ok is false when it gives the caller
// nothing (no text, no call, no new usage).
func (d *streamDecoder) event() (adaptors.StreamEvent, bool, error) {
	c := &d.chunk
	if c.Response != nil && c.Response.Error != nil && c.Response.Error.Code != "" {
		return adaptors.StreamEvent{}, false, apiError(codeStatus(c.Response.Error.Code), c.Response.Error)
	}
	if c.Error != nil && c.Error.Code != "" {
		return adaptors.StreamEvent{}, false, apiError(codeStatus(c.Error.Code), c.Error)
	}
	if c.ErrorMsg != nil && c.ErrorMsg.Code != 0 {
		return adaptors.StreamEvent{}, false, streamError(c.ErrorMsg)
	}
	if d.prefix == nil {
		d.id = strings.Clone(c.ID)
		if c.Created > 0 {
			d.created = c.Created
		}
	}
	var ev adaptors.StreamEvent
	// Usage is cumulative: every chunk repeats the totals so far, and the
	// last one is the answer's. It is reported whenever it changes.
	if u, ok := c.Usage.usage(); ok && (!d.haveUsage || u != d.usage) {
		d.usage, d.haveUsage = u, true
		ev.Usage = &u
	}
	var ch *choiceWire
	if len(c.Choices) > 0 {
		ch = &c.Choices[0] // Hunyuan streams one choice
	}
	delta := &messageWire{}
	finish := ""
	if ch != nil {
		delta = &ch.Delta
		finish = ch.FinishReason
	}
	empty := delta.Content == "" && delta.ReasoningContent == "" && !d.newCallData(delta.ToolCalls)
	first := !d.started
	if empty && finish == "" && !first {
		return ev, ev.Usage != nil, nil
	}

	d.begin()
	text := 0
	if s := delta.ReasoningContent; s != "" {
		d.member("reasoning_content", s)
		text += len(s)
	}
	// The first chunk carries the role and, as OpenAI's does, a content
	// member even when it is empty.
	if s := delta.Content; s != "" || first && empty {
		d.member("content", s)
		text += len(s)
	}
	if !empty && len(delta.ToolCalls) > 0 {
		text += d.toolCalls(delta.ToolCalls)
	}
	if d.buf[len(d.buf)-1] == ',' {
		d.buf = d.buf[:len(d.buf)-1]
	}
	d.buf = append(d.buf, `},"finish_reason":`...)
	if finish == "" {
		d.buf = append(d.buf, "null"...)
	} else {
		d.buf = append(d.buf, '"')
		d.buf = append(d.buf, finishReason(finish, len(d.calls) > 0)...)
		d.buf = append(d.buf, '"')
		d.state = stateUsage
		d.err = io.EOF
	}
	d.buf = append(d.buf, "}]}"...)
	ev.Data = bytes.Clone(d.buf)
	ev.TextBytes = text
	return ev, true, nil
}

// toolCalls appends the delta's tool calls to the chunk and returns the
// bytes of arguments they carry. A call seen for the first time (by Id,
// else by Index, else a new call when none is open) goes out with its
// OpenAI index, id, type and name; later fragments of it with the index
// and their arguments only.
func (d *streamDecoder) toolCalls(tcs []toolCallWire) int {
	d.buf = append(d.buf, `"tool_calls":[`...)
	args, items := 0, 0
	for i := range tcs {
		tc := &tcs[i]
		n, isNew := d.callIndex(tc)
		if !isNew && tc.Function.Arguments == "" {
			continue
		}
		if items > 0 {
			d.buf = append(d.buf, ',')
		}
		items++
		d.buf = append(d.buf, `{"index":`...)
		d.buf = strconv.AppendInt(d.buf, int64(n), 10)
		if isNew {
			d.buf = append(d.buf, `,"id":`...)
			d.buf = openaiwire.AppendString(d.buf, d.calls[n].id)
			d.buf = append(d.buf, `,"type":"function","function":{"name":`...)
			d.buf = openaiwire.AppendString(d.buf, tc.Function.Name)
			d.buf = append(d.buf, `,"arguments":`...)
		} else {
			d.buf = append(d.buf, `,"function":{"arguments":`...)
		}
		d.buf = openaiwire.AppendString(d.buf, tc.Function.Arguments)
		d.buf = append(d.buf, "}}"...)
		args += len(tc.Function.Arguments)
	}
	if items == 0 {
		// Nothing new: take the member back out.
		d.buf = d.buf[:len(d.buf)-len(`"tool_calls":[`)]
		return 0
	}
	d.buf = append(d.buf, "],"...)
	return args
}

// newCallData reports whether tcs open a call or carry arguments: repeats
// of a known call with nothing new give the client nothing.
func (d *streamDecoder) newCallData(tcs []toolCallWire) bool {
	for i := range tcs {
		if tcs[i].Function.Arguments != "" || d.find(&tcs[i]) < 0 {
			return true
		}
	}
	return false
}

// find returns the OpenAI index of the known call tc continues (by Id,
// else by Index, else the call in progress), or -1 for a new call.
func (d *streamDecoder) find(tc *toolCallWire) int {
	hIndex := -1
	if tc.Index != nil {
		hIndex = *tc.Index
	}
	for n := len(d.calls) - 1; n >= 0; n-- {
		c := &d.calls[n]
		if tc.ID != "" && c.id == tc.ID || tc.ID == "" && hIndex >= 0 && c.hIndex == hIndex {
			return n
		}
	}
	if tc.ID == "" && hIndex < 0 {
		return len(d.calls) - 1
	}
	return -1
}

// callIndex returns the OpenAI index of tc, registering it when it is a
// new call.
func (d *streamDecoder) callIndex(tc *toolCallWire) (n int, isNew bool) {
	if n := d.find(tc); n >= 0 {
		return n, false
	}
	hIndex := -1
	if tc.Index != nil {
		hIndex = *tc.Index
	}
	id := strings.Clone(tc.ID)
	if id == "" {
		id = callID(d.id, len(d.calls))
	}
	d.calls = append(d.calls, callState{id: id, hIndex: hIndex})
	return len(d.calls) - 1, true
}

// begin starts a chunk in d.buf, up to the opening of the delta's members;
// the first chunk also carries the role. Every member is followed by a
// comma, which the chunk's end takes back.
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

// member appends one string member of the delta.
func (d *streamDecoder) member(name, s string) {
	d.buf = append(d.buf, '"')
	d.buf = append(d.buf, name...)
	d.buf = append(d.buf, `":`...)
	d.buf = openaiwire.AppendString(d.buf, s)
	d.buf = append(d.buf, ',')
}
