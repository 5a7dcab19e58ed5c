package baidu

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

// maxJSONStreamAnswer bounds what is read of a stream answer that turns
// out to be one JSON object (an error) instead of an event stream.
const maxJSONStreamAnswer = 1 << 20

// maxHead bounds the leading whitespace read before the stream's first
// byte of content.
const maxHead = 64 << 10

// streamDecoder converts an ERNIE v1 chat stream into chat.completion.chunk
// events. Each server-sent event is one data: payload, the shape of the
// whole answer plus sentence_id and is_end; the payload with is_end true
// is the last, and nothing after it is read. Its usage is cumulative (each
// payload repeats the totals so far), so the last one counts. Baidu
// reports errors to a stream request as one JSON object instead of a
// stream (HTTP 200); the decoder returns it as a *schema.Error. It keeps
// one sonic decoder, one payload struct and one chunk buffer for the
// whole stream; per event it allocates the chunk handed out.
type streamDecoder struct {
	body         io.Reader
	r            *sse.Reader // nil until the first Next looked at the body
	dec          eventDecoder
	ev           chatAnswer
	includeUsage bool
	model        string
	reqCreated   int64

	seen     bool // a payload has given id and created
	id       string
	created  int64
	prefix   []byte // `{"id":…,"choices":[{"index":0,"delta":` once id is known
	buf      []byte // chunk under construction
	sep      bool   // the delta under construction has a member
	started  bool   // the role has been sent
	calls    int    // tool calls opened so far
	callName string // the function of the open tool call
	usage    *adaptors.Usage

	queue  [3]adaptors.StreamEvent // events of the last payload, handed out in order
	qi, qn int
	err    error // sticky once queue is drained: io.EOF, a *schema.Error, or a read/format error
}

func newStreamDecoder(req *adaptors.Request, body io.Reader) *streamDecoder {
	return &streamDecoder{
		body:         body,
		dec:          newEventDecoder(),
		includeUsage: req.IncludeUsage,
		model:        req.OriginModel,
		reqCreated:   req.Created,
	}
}

// Next implements adaptors.StreamDecoder.
func (d *streamDecoder) Next() (adaptors.StreamEvent, error) {
	for {
		if d.qi < d.qn {
			ev := d.queue[d.qi]
			d.queue[d.qi] = adaptors.StreamEvent{}
			d.qi++
			return ev, nil
		}
		if d.err != nil {
			return adaptors.StreamEvent{}, d.err
		}
		d.qi, d.qn = 0, 0
		d.step()
	}
}

// step reads one payload and converts it into d.queue, or sets d.err.
func (d *streamDecoder) step() {
	if d.r == nil {
		if d.open(); d.err != nil || d.qn > 0 {
			return
		}
	}
	sev, err := d.r.Next()
	if err != nil {
		if err == io.EOF {
			d.err = fmt.Errorf("baidu: stream ended before the is_end payload: %w", io.ErrUnexpectedEOF)
		} else {
			d.err = fmt.Errorf("baidu: read stream: %w", err)
		}
		return
	}
	data := bytes.TrimSpace(sev.Data)
	if len(data) == 0 {
		return
	}
	if data[0] != '{' {
		d.err = invalidResponse("stream payload is not a json object")
		return
	}
	d.ev = chatAnswer{}
	if err := d.dec.decode(data, &d.ev); err != nil {
		d.err = invalidResponse("stream payload: %v", err)
		return
	}
	d.payload()
}

// open looks at the start of the body. An event stream is handed to an
// SSE reader. A JSON object is Baidu's error answer ({"error_code",
// "error_msg"}: d.err is the *schema.Error), or a whole answer where a
// stream was expected, converted as a stream of that one payload.
func (d *streamDecoder) open() {
	var head []byte
	var chunk [512]byte
	empty := 0
	for {
		n, err := d.body.Read(chunk[:])
		head = append(head, chunk[:n]...)
		if i := firstContent(head); i >= 0 {
			if head[i] == '{' {
				d.jsonAnswer(head, err)
				return
			}
			break
		}
		switch {
		case err == io.EOF:
			d.err = fmt.Errorf("baidu: empty stream: %w", io.ErrUnexpectedEOF)
			return
		case err != nil:
			d.err = fmt.Errorf("baidu: read stream: %w", err)
			return
		case n == 0:
			if empty++; empty > 100 {
				d.err = fmt.Errorf("baidu: read stream: %w", io.ErrNoProgress)
				return
			}
		}
		if len(head) > maxHead {
			break
		}
	}
	d.r = sse.NewReader(io.MultiReader(bytes.NewReader(head), d.body), 0)
}

// firstContent returns the index of the first byte of head that is not
// whitespace, or -1.
func firstContent(head []byte) int {
	for i, c := range head {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return i
	}
	return -1
}

// jsonAnswer handles a stream body that is one JSON object; head is what
// was read of it, readErr the error of that read.
func (d *streamDecoder) jsonAnswer(head []byte, readErr error) {
	body := head
	if readErr == nil {
		rest, err := io.ReadAll(io.LimitReader(d.body, maxJSONStreamAnswer))
		if err != nil {
			d.err = fmt.Errorf("baidu: read stream: %w", err)
			return
		}
		body = append(body, rest...)
	} else if readErr != io.EOF {
		d.err = fmt.Errorf("baidu: read stream: %w", readErr)
		return
	}
	d.ev = chatAnswer{}
	if err := decodeAnswer(body, &d.ev); err != nil {
		d.err = err
		return
	}
	if d.ev.ErrorCode != 0 {
		d.err = apiError(d.ev.ErrorCode, d.ev.ErrorMsg)
		return
	}
	if d.ev.Result == nil && d.ev.FunctionCall == nil {
		d.err = invalidResponse("stream answer is a json object that is neither an error nor an answer")
		return
	}
	d.ev.IsEnd = true
	d.payload()
}

// payload converts the decoded payload d.ev.
func (d *streamDecoder) payload() {
	e := &d.ev
	if e.ErrorCode != 0 {
		d.err = apiError(e.ErrorCode, e.ErrorMsg)
		return
	}
	if !d.seen {
		d.seen = true
		d.id = strings.Clone(e.ID)
		d.created = e.Created
		if d.created == 0 {
			d.created = d.reqCreated
		}
	}
	// Usage is cumulative: the latest figures replace the earlier ones.
	u := e.Usage.usage()
	if u != nil {
		d.usage = u
	}
	if ev, ok := d.delta(); ok {
		ev.Usage = u
		d.push(ev)
	}
	if e.IsEnd {
		d.finish()
	}
}

// delta builds the chunk of the payload's text, reasoning and function
// call; ok is false when it has none.
func (d *streamDecoder) delta() (adaptors.StreamEvent, bool) {
	e := &d.ev
	text := ""
	if e.Result != nil {
		text = *e.Result
	}
	var thoughts, args, name string
	if fc := e.FunctionCall; fc != nil {
		thoughts, args, name = fc.Thoughts, fc.Arguments, fc.Name
	}
	// ERNIE sends one function call per answer, whole. A later payload
	// naming no function or the same one continues its arguments; one
	// naming another function opens a new call.
	newCall := name != "" && (d.calls == 0 || name != d.callName)
	moreArgs := !newCall && args != "" && d.calls > 0
	if text == "" && thoughts == "" && !newCall && !moreArgs {
		return adaptors.StreamEvent{}, false
	}
	d.begin()
	if text != "" {
		d.member("content")
		d.buf = openaiwire.AppendString(d.buf, text)
	}
	if thoughts != "" {
		d.member("reasoning_content")
		d.buf = openaiwire.AppendString(d.buf, thoughts)
	}
	switch {
	case newCall:
		if args == "" && e.IsEnd {
			args = "{}"
		}
		n := d.calls
		d.calls++
		d.callName = strings.Clone(name)
		d.member("tool_calls")
		d.buf = append(d.buf, `[{"index":`...)
		d.buf = strconv.AppendInt(d.buf, int64(n), 10)
		d.buf = append(d.buf, `,"id":`...)
		d.buf = openaiwire.AppendString(d.buf, ToolCallID(d.id, n))
		d.buf = append(d.buf, `,"type":"function","function":{"name":`...)
		d.buf = openaiwire.AppendString(d.buf, name)
		d.buf = append(d.buf, `,"arguments":`...)
		d.buf = openaiwire.AppendString(d.buf, args)
		d.buf = append(d.buf, `}}]`...)
	case moreArgs:
		d.member("tool_calls")
		d.buf = append(d.buf, `[{"index":`...)
		d.buf = strconv.AppendInt(d.buf, int64(d.calls-1), 10)
		d.buf = append(d.buf, `,"function":{"arguments":`...)
		d.buf = openaiwire.AppendString(d.buf, args)
		d.buf = append(d.buf, `}}]`...)
	default:
		args = ""
	}
	d.buf = append(d.buf, `},"finish_reason":null}]}`...)
	return adaptors.StreamEvent{Data: bytes.Clone(d.buf), TextBytes: len(text) + len(thoughts) + len(args)}, true
}

// finish queues the finish chunk and the usage event, and ends the stream.
func (d *streamDecoder) finish() {
	d.begin()
	d.buf = append(d.buf, `},"finish_reason":"`...)
	d.buf = append(d.buf, finishReason(&d.ev, d.calls > 0)...)
	d.buf = append(d.buf, `"}]}`...)
	d.push(adaptors.StreamEvent{Data: bytes.Clone(d.buf)})
	if d.usage != nil {
		ev := adaptors.StreamEvent{Usage: d.usage}
		if d.includeUsage {
			ev.Data = adaptors.UsageChunk(adaptors.ModeChat, d.id, d.model, d.created, *d.usage)
		}
		d.push(ev)
	}
	d.err = io.EOF
}

func (d *streamDecoder) push(ev adaptors.StreamEvent) {
	d.queue[d.qn] = ev
	d.qn++
}

// begin starts a chunk in d.buf, up to and including the delta's opening
// brace; the first chunk of the stream also carries the role.
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
	d.sep = false
	if !d.started {
		d.started = true
		d.member("role")
		d.buf = append(d.buf, `"assistant"`...)
	}
}

// member starts the delta member name.
func (d *streamDecoder) member(name string) {
	if d.sep {
		d.buf = append(d.buf, ',')
	}
	d.sep = true
	d.buf = append(d.buf, '"')
	d.buf = append(d.buf, name...)
	d.buf = append(d.buf, `":`...)
}
