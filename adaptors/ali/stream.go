package ali

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/sse"
)

// sniffLimit bounds how much of a stream is read to tell the native API's
// stream from the compatible mode's: far more than a first event.
const sniffLimit = 1 << 20

// sniffDecoder reads the start of a chat stream, decides which API sent
// it, and hands the whole stream (the bytes read included) to that API's
// decoder. A native stream names its events ("event:result",
// "event:error") and its payloads have "output" or "code"; a
// compatible-mode stream is OpenAI's (chat.completion.chunk payloads,
// "data: [DONE]").
type sniffDecoder struct {
	a     *Adaptor
	req   *adaptors.Request
	body  io.Reader
	inner adaptors.StreamDecoder
}

// Next implements adaptors.StreamDecoder.
func (s *sniffDecoder) Next() (adaptors.StreamEvent, error) {
	if s.inner == nil {
		s.inner = s.pick()
	}
	return s.inner.Next()
}

// pick reads until the first decisive line and builds the decoder.
func (s *sniffDecoder) pick() adaptors.StreamDecoder {
	buf := make([]byte, 0, 4<<10)
	native, decided := true, false
	scanned := 0 // bytes of buf already split into complete lines
	var readErr error
	for !decided && len(buf) < sniffLimit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := s.body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		for !decided {
			i := bytes.IndexAny(buf[scanned:], "\r\n")
			if i < 0 {
				break
			}
			native, decided = sniffLine(buf[scanned : scanned+i])
			scanned += i + 1
		}
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			if !decided && scanned < len(buf) {
				native, _ = sniffLine(buf[scanned:])
			}
			break
		}
	}
	if !decided && readErr == nil && len(buf) < sniffLimit {
		// The whole body, and no event in it: a JSON error answered with
		// the stream's content type (DashScope's SDKs handle the case).
		if err := bodyError(buf); err != nil {
			return failedDecoder{err}
		}
	}
	var rest io.Reader = s.body
	if readErr != nil {
		rest = errReader{readErr}
	}
	r := io.MultiReader(bytes.NewReader(buf), rest)
	if native {
		return newStreamDecoder(s.req, r)
	}
	return s.a.compat.NewStreamDecoder(s.req, r)
}

// sniffLine looks at one line of a stream's start: decided is true when
// it tells which API sent the stream.
func sniffLine(line []byte) (native, decided bool) {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 {
		return true, false // blank line or comment (:HTTP_STATUS/200)
	}
	value = bytes.TrimSpace(value)
	switch string(name) {
	case "event":
		return true, string(value) == "result" || string(value) == "error"
	case "data":
		if string(value) == "[DONE]" {
			return false, true
		}
		var top struct {
			Output  json.RawMessage `json:"output"`
			Code    json.RawMessage `json:"code"`
			Choices json.RawMessage `json:"choices"`
			Object  json.RawMessage `json:"object"`
			Error   json.RawMessage `json:"error"`
		}
		if len(value) == 0 || value[0] != '{' || bodyAPI.Unmarshal(value, &top) != nil {
			return true, true // the native decoder reports what is wrong
		}
		if top.Output != nil || top.Code != nil {
			return true, true
		}
		return !(top.Choices != nil || top.Object != nil || top.Error != nil), true
	}
	return true, false
}

// bodyError returns the error a whole body holds when it is a DashScope
// error object (native {"code","message"} or the compatible mode's
// {"error":{…}}), nil otherwise.
func bodyError(body []byte) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil
	}
	var w struct {
		Code      string          `json:"code"`
		Message   string          `json:"message"`
		RequestID string          `json:"request_id"`
		Error     json.RawMessage `json:"error"`
	}
	if bodyAPI.Unmarshal(body, &w) != nil {
		return nil
	}
	switch {
	case w.Code != "":
		return answerError(w.Code, w.Message, w.RequestID)
	case len(w.Error) > 0 && w.Error[0] == '{':
		e := parseError(http.StatusInternalServerError, body)
		if c, ok := e.Code.(string); ok {
			if info, known := classify(c); known {
				e.Status = info.status
			}
		}
		return e
	}
	return nil
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Decoder states.
const (
	stateStreaming = iota
	stateDone      // the queue drains, then d.err is all that is left
)

// streamDecoder converts a native DashScope stream, asked with
// incremental_output so every event carries only new text, into
// chat.completion.chunk events. Usage in each event is the total so far:
// the last figures are the request's, never summed. The stream ends with
// the event whose finish_reason is not "null"; nothing after it is read.
//
// One upstream event may give several client events (reasoning, text, a
// tool call's header and its first arguments, the finish chunk, the
// usage event); they are queued and built in one reused buffer, so their
// Data is valid until the queue is drained and the next upstream event
// read, which is after the caller's next Next.
type streamDecoder struct {
	r            *sse.Reader
	dec          *decoder.Decoder
	ev           generationWire
	includeUsage bool
	model        string
	created      int64

	id      string
	prefix  []byte // `{"id":…,"choices":[{"index":0,"delta":` once id is known
	arena   []byte // the queued chunks' bytes
	queue   []adaptors.StreamEvent
	head    int
	started bool        // the role has been sent
	calls   []callState // by OpenAI index
	usage   *adaptors.Usage
	state   int
	err     error // sticky: io.EOF, a *schema.Error, or a read/format error
}

// callState is a streamed tool call: DashScope's index for it and its id.
type callState struct {
	upstream int
	id       string
}

func newStreamDecoder(req *adaptors.Request, body io.Reader) *streamDecoder {
	d := decoder.NewDecoder("")
	d.SetOptions(decoder.OptionCaseSensitive)
	return &streamDecoder{
		r:            sse.NewReader(body, 0),
		dec:          d,
		includeUsage: req.IncludeUsage,
		model:        req.OriginModel,
		created:      req.Created,
	}
}

// Next implements adaptors.StreamDecoder.
func (d *streamDecoder) Next() (adaptors.StreamEvent, error) {
	for {
		if d.head < len(d.queue) {
			ev := d.queue[d.head]
			d.head++
			return ev, nil
		}
		if d.state == stateDone {
			return adaptors.StreamEvent{}, d.err
		}
		d.queue, d.head, d.arena = d.queue[:0], 0, d.arena[:0]
		sev, err := d.r.Next()
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("ali: stream ended before a finish_reason: %w", io.ErrUnexpectedEOF)
			} else {
				err = fmt.Errorf("ali: read stream: %w", err)
			}
			d.fail(err)
			continue
		}
		d.event(sev)
	}
}

// fail ends the stream with err once the queue is drained.
func (d *streamDecoder) fail(err error) {
	d.err = err
	d.state = stateDone
}

// event converts one upstream event into queued client events.
func (d *streamDecoder) event(sev sse.Event) {
	data := bytes.TrimSpace(sev.Data)
	if len(data) == 0 || string(data) == "[DONE]" {
		return
	}
	if data[0] != '{' {
		d.fail(invalidResponse("stream event is not a json object"))
		return
	}
	d.reset()
	if err := d.decode(data); err != nil {
		d.fail(invalidResponse("stream event: %v", err))
		return
	}
	e := &d.ev
	if sev.Event == "error" || e.Code != "" {
		code, msg := e.Code, e.Message
		if code == "" && msg == "" {
			msg = string(data)
		}
		d.fail(answerError(code, msg, e.RequestID))
		return
	}
	if d.id == "" && e.RequestID != "" {
		d.id = chatID(e.RequestID)
	}
	var usage *adaptors.Usage
	if u := e.Usage.usage(); u != nil {
		d.usage = u
		usage = u
	}
	if e.Output == nil {
		return
	}
	first := len(d.queue)
	finish := e.Output.FinishReason
	var text []byte
	if len(e.Output.Choices) > 0 {
		c := &e.Output.Choices[0]
		finish = c.FinishReason
		if c.Message.ReasoningContent != "" {
			d.textChunk("reasoning_content", c.Message.ReasoningContent)
		}
		text = c.Message.Content
		if s := contentString(text); s != "" {
			d.textChunk("content", s)
		}
		for i := range c.Message.ToolCalls {
			d.toolCall(&c.Message.ToolCalls[i])
		}
	} else if s := rawString(e.Output.Text); s != "" {
		d.textChunk("content", s)
	}
	if usage != nil && first < len(d.queue) {
		d.queue[first].Usage = usage
	}
	if reason, done := finishReason(finish); done {
		d.end(reason)
	}
}

// reset zeroes d.ev for the next event, keeping the output, choices and
// usage it has already allocated (the decoder fills them in place).
func (d *streamDecoder) reset() {
	out, usage := d.ev.Output, d.ev.Usage
	d.ev = generationWire{}
	if out != nil {
		choices := out.Choices[:cap(out.Choices)]
		clear(choices)
		*out = outputWire{Choices: choices[:0]}
		d.ev.Output = out
	}
	if usage != nil {
		*usage = usageWire{}
		d.ev.Usage = usage
	}
}

// decode decodes one event payload into d.ev, aliasing data. A type
// mismatch in one member is tolerated; a syntax error or trailing
// garbage is not.
func (d *streamDecoder) decode(data []byte) error {
	d.dec.Reset(unsafe.String(unsafe.SliceData(data), len(data)))
	err := d.dec.Decode(&d.ev)
	if err == nil || isMismatch(err) {
		err = d.dec.CheckTrailings()
	}
	d.dec.Reset("")
	return err
}

// end queues the finish chunk and the usage event, and ends the stream.
func (d *streamDecoder) end(reason string) {
	if reason == "stop" && len(d.calls) > 0 {
		reason = "tool_calls"
	}
	start := d.begin()
	if d.arena[len(d.arena)-1] == ',' {
		d.arena = d.arena[:len(d.arena)-1] // only the role
	}
	d.arena = append(d.arena, `},"finish_reason":"`...)
	d.arena = append(d.arena, reason...)
	d.arena = append(d.arena, `"}]}`...)
	d.queue = append(d.queue, adaptors.StreamEvent{Data: d.arena[start:len(d.arena):len(d.arena)]})
	if d.usage != nil {
		ev := adaptors.StreamEvent{Usage: d.usage}
		if d.includeUsage {
			ev.Data = adaptors.UsageChunk(adaptors.ModeChat, d.id, d.model, d.created, *d.usage)
		}
		d.queue = append(d.queue, ev)
	}
	d.fail(io.EOF)
}

// toolCall queues a tool call fragment: a new call gets a header chunk
// (index, id, type, name, empty arguments), then every fragment's
// arguments follow under the same index. Calls are numbered from 0 in
// order of arrival, whatever DashScope's index; a fragment with neither
// id nor name continues the call with its index (or the last call).
func (d *streamDecoder) toolCall(tc *toolCallWire) {
	up := -1
	if tc.Index != nil {
		up = *tc.Index
	}
	n := -1
	for i := len(d.calls) - 1; i >= 0; i-- {
		if d.calls[i].upstream == up || up < 0 {
			n = i
			break
		}
	}
	// A new call: no call yet (for this index), another id, or a name
	// without an id (continuations carry neither).
	fresh := n < 0 || (tc.ID != "" && tc.ID != d.calls[n].id) || (tc.ID == "" && tc.Function.Name != "")
	if fresh {
		if tc.ID == "" && tc.Function.Name == "" {
			return // arguments of a call never started: nowhere to put them
		}
		n = len(d.calls)
		id := strings.Clone(tc.ID) // tc.ID aliases the event, which the next read overwrites
		if id == "" {
			id = toolCallID(d.id, 0, n)
		}
		d.calls = append(d.calls, callState{upstream: up, id: id})
		start := d.begin()
		d.arena = append(d.arena, `"tool_calls":[{"index":`...)
		d.arena = strconv.AppendInt(d.arena, int64(n), 10)
		d.arena = append(d.arena, `,"id":`...)
		d.arena = openaiwire.AppendString(d.arena, id)
		d.arena = append(d.arena, `,"type":"function","function":{"name":`...)
		d.arena = openaiwire.AppendString(d.arena, tc.Function.Name)
		d.arena = append(d.arena, `,"arguments":""}}]}`...)
		d.emit(start, 0)
	}
	if args := tc.Function.Arguments; args != "" {
		start := d.begin()
		d.arena = append(d.arena, `"tool_calls":[{"index":`...)
		d.arena = strconv.AppendInt(d.arena, int64(n), 10)
		d.arena = append(d.arena, `,"function":{"arguments":`...)
		d.arena = openaiwire.AppendString(d.arena, args)
		d.arena = append(d.arena, `}}]}`...)
		d.emit(start, len(args))
	}
}

// begin starts a chunk at the end of d.arena, up to the opening of the
// delta's members, and returns its start. The first chunk also carries
// the role (followed by a comma: every caller adds a member).
func (d *streamDecoder) begin() int {
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
	start := len(d.arena)
	d.arena = append(d.arena, d.prefix...)
	d.arena = append(d.arena, '{')
	if !d.started {
		d.started = true
		d.arena = append(d.arena, `"role":"assistant",`...)
	}
	return start
}

// textChunk queues a chunk whose delta has one text member.
func (d *streamDecoder) textChunk(member, s string) {
	start := d.begin()
	d.arena = append(d.arena, '"')
	d.arena = append(d.arena, member...)
	d.arena = append(d.arena, `":`...)
	d.arena = openaiwire.AppendString(d.arena, s)
	d.arena = append(d.arena, '}')
	d.emit(start, len(s))
}

// emit closes the chunk started at start (finish_reason null) and queues
// it. The queued slice is capped so nothing appended later reaches it.
func (d *streamDecoder) emit(start, textBytes int) {
	d.arena = append(d.arena, `,"finish_reason":null}]}`...)
	d.queue = append(d.queue, adaptors.StreamEvent{Data: d.arena[start:len(d.arena):len(d.arena)], TextBytes: textBytes})
}
