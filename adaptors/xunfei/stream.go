package xunfei

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// frameWire is one answer frame of the Spark WebSocket API:
//
//	{"header":{"code":0,"message":"Success","sid":"…","status":0|1|2},
//	 "payload":{"choices":{"status":…,"seq":…,"text":[{"content":…,"role":"assistant","index":0}]},
//	            "usage":{"text":{"question_tokens":…,"prompt_tokens":…,"completion_tokens":…,"total_tokens":…}}}}
//
// header.status 2 marks the last frame, which carries the usage; a
// header.code other than 0 is an error frame (header.message says why).
// text items may carry reasoning_content (X1) and function_call.
type frameWire struct {
	Header struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Sid     string `json:"sid"`
		Status  int    `json:"status"`
	} `json:"header"`
	Payload struct {
		Choices struct {
			Status int        `json:"status"`
			Seq    int        `json:"seq"`
			Text   []textWire `json:"text"`
		} `json:"choices"`
		Usage *struct {
			Text usageWire `json:"text"`
		} `json:"usage"`
	} `json:"payload"`
}

// textWire is one payload.choices.text item.
type textWire struct {
	Content          string `json:"content"`
	ReasoningContent string `json:"reasoning_content"`
	Role             string `json:"role"`
	Index            int    `json:"index"`
	FunctionCall     *struct {
		Name string `json:"name"`
		// Arguments is a JSON string holding the arguments' JSON (as
		// iFLYTEK's SDKs type it); an object is taken as it is.
		Arguments sonic.NoCopyRawMessage `json:"arguments"`
	} `json:"function_call"`
}

// usageWire is payload.usage.text. prompt_tokens counts the whole prompt
// (history included); question_tokens only the last question, a part of
// it.
type usageWire struct {
	QuestionTokens   int `json:"question_tokens"`
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// usage converts w; nil when it counts nothing.
func (w *usageWire) usage() *adaptors.Usage {
	if w.PromptTokens <= 0 && w.CompletionTokens <= 0 {
		return nil
	}
	u := &adaptors.Usage{PromptTokens: max(w.PromptTokens, 0), CompletionTokens: max(w.CompletionTokens, 0)}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if w.TotalTokens > u.TotalTokens {
		u.TotalTokens = w.TotalTokens
	}
	return u
}

// last reports whether f is the answer's last frame.
func (f *frameWire) last() bool {
	return f.Header.Status == 2 || f.Payload.Choices.Status == 2
}

// arguments returns a function call's arguments as the JSON text the
// client gets: the string's content, an object spelled out, "{}" when
// empty.
func arguments(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	var s string
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		if sonic.Unmarshal(raw, &s) != nil {
			s = ""
		}
	default:
		s = string(raw)
	}
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

// callID is the id of the n-th function call of the answer with session
// id sid. Spark gives its calls no id; this one is stable for an answer
// and distinct between answers.
func callID(sid string, n int) string {
	if sid == "" {
		return "call_" + strconv.Itoa(n)
	}
	return "call_" + sid + "_" + strconv.Itoa(n)
}

// maxFrame bounds one frame (one line), so a body without newlines
// cannot grow the decoder without limit.
const maxFrame = 32 << 20

// frameReader reads a body of newline-terminated frames. Lines longer
// than its buffer are gathered in line.
type frameReader struct {
	r    *bufio.Reader
	line []byte
	eof  bool
}

func newFrameReader(body io.Reader) frameReader {
	return frameReader{r: bufio.NewReaderSize(body, 4<<10)}
}

// next returns the next non-blank line (valid until the next call), or
// io.EOF at the end of the body. A last line without its newline is
// returned too.
func (fr *frameReader) next() ([]byte, error) {
	for {
		if fr.eof {
			return nil, io.EOF
		}
		fr.line = fr.line[:0]
		var line []byte
		for {
			chunk, err := fr.r.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				if len(fr.line)+len(chunk) > maxFrame {
					return nil, invalidResponse("frame longer than %d bytes", maxFrame)
				}
				fr.line = append(fr.line, chunk...)
				continue
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			if err == io.EOF {
				fr.eof = true
			}
			if len(fr.line) > 0 {
				fr.line = append(fr.line, chunk...)
				line = fr.line
			} else {
				line = chunk
			}
			break
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			return line, nil
		}
	}
}

// frameDecoder decodes frames without copying: strings in the
// destination alias the frame bytes and live only as long as they do.
// One per stream, so frames do not each allocate a sonic decoder.
type frameDecoder struct {
	d *decoder.Decoder
}

func newFrameDecoder() frameDecoder {
	d := decoder.NewDecoder("")
	d.SetOptions(decoder.OptionCaseSensitive)
	return frameDecoder{d: d}
}

// decode decodes the frame b into f. A type mismatch in one member is
// not an error (the rest decodes); anything that is not one JSON object
// is adaptors.ErrInvalidResponse.
func (fd frameDecoder) decode(b []byte, f *frameWire) error {
	*f = frameWire{}
	if len(b) == 0 || b[0] != '{' {
		return invalidResponse("frame is not a json object")
	}
	fd.d.Reset(unsafe.String(unsafe.SliceData(b), len(b)))
	err := fd.d.Decode(f)
	if err == nil || isMismatch(err) {
		err = fd.d.CheckTrailings()
	}
	fd.d.Reset("")
	if err != nil {
		return invalidResponse("frame: %v", err)
	}
	return nil
}

// isMismatch reports whether err is a type mismatch (sonic's native
// decoder reports its own type, the portable fallback encoding/json's).
func isMismatch(err error) bool {
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	return errors.As(err, &mismatch) || errors.As(err, &stdMismatch)
}

// streamDecoder converts the frames of a Spark answer into
// chat.completion.chunk events, as they arrive. One frame may give
// several events (reasoning, text, a function call, the finish chunk and
// the usage event); they wait in a queue that is reused, as are the
// frame struct and the chunk buffer.
type streamDecoder struct {
	fr           frameReader
	dec          frameDecoder
	f            frameWire
	includeUsage bool
	model        string
	created      int64

	id      string
	prefix  []byte // `{"id":…,"choices":[{"index":0,"delta":` once id is known
	buf     []byte // chunk under construction
	started bool   // the role has been sent
	calls   int    // function calls sent
	queue   []adaptors.StreamEvent
	head    int
	done    bool  // the last frame has been read, or the stream failed
	err     error // sticky, returned once the queue is empty
}

func newStreamDecoder(req *adaptors.Request, body io.Reader) *streamDecoder {
	return &streamDecoder{
		fr:           newFrameReader(body),
		dec:          newFrameDecoder(),
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
			d.queue[d.head] = adaptors.StreamEvent{}
			d.head++
			return ev, nil
		}
		d.queue, d.head = d.queue[:0], 0
		if d.done {
			return adaptors.StreamEvent{}, d.err
		}
		line, err := d.fr.next()
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("xunfei: answer ended before its last frame (status 2): %w", io.ErrUnexpectedEOF)
			} else if !errors.Is(err, adaptors.ErrInvalidResponse) {
				err = fmt.Errorf("xunfei: read answer: %w", err)
			}
			d.fail(err)
			continue
		}
		if err := d.dec.decode(line, &d.f); err != nil {
			d.fail(err)
			continue
		}
		d.frame()
	}
}

// fail ends the stream with err once the queue is out.
func (d *streamDecoder) fail(err error) {
	d.done = true
	d.err = err
}

// frame queues the events of the decoded frame d.f.
func (d *streamDecoder) frame() {
	f := &d.f
	if f.Header.Code != 0 {
		d.fail(frameError(f.Header.Code, f.Header.Message, f.Header.Sid))
		return
	}
	if d.id == "" && f.Header.Sid != "" {
		d.id = strings.Clone(f.Header.Sid)
	}
	n := len(d.queue)
	for i := range f.Payload.Choices.Text {
		t := &f.Payload.Choices.Text[i]
		if t.ReasoningContent != "" {
			d.textChunk("reasoning_content", t.ReasoningContent)
		}
		if t.Content != "" {
			d.textChunk("content", t.Content)
		}
		if fc := t.FunctionCall; fc != nil {
			d.callChunk(fc.Name, arguments(fc.Arguments))
		}
	}
	if len(d.queue) == n && !d.started {
		// The first frame said nothing yet: the role chunk, as OpenAI's
		// first chunk.
		d.textChunk("content", "")
	}
	if !f.last() {
		return
	}
	d.finish()
	if f.Payload.Usage != nil {
		if u := f.Payload.Usage.Text.usage(); u != nil {
			ev := adaptors.StreamEvent{Usage: u}
			if d.includeUsage {
				ev.Data = adaptors.UsageChunk(adaptors.ModeChat, d.id, d.model, d.created, *u)
			}
			d.queue = append(d.queue, ev)
		}
	}
	d.fail(io.EOF)
}

// finish queues the chunk with the finish reason: tool_calls when the
// answer called a function, else stop (Spark reports no other ending).
func (d *streamDecoder) finish() {
	reason := "stop"
	if d.calls > 0 {
		reason = "tool_calls"
	}
	d.begin()
	if d.buf[len(d.buf)-1] == ',' {
		d.buf = d.buf[:len(d.buf)-1] // the role alone
	}
	d.buf = append(d.buf, `},"finish_reason":"`...)
	d.buf = append(d.buf, reason...)
	d.buf = append(d.buf, `"}]}`...)
	d.queue = append(d.queue, adaptors.StreamEvent{Data: bytes.Clone(d.buf)})
}

// callChunk queues a function call: the whole call in one chunk (id,
// type, name and arguments), as Spark sends it whole. A call without a
// name continues the previous one's arguments.
func (d *streamDecoder) callChunk(name, args string) {
	if name == "" && d.calls > 0 {
		d.begin()
		d.buf = append(d.buf, `"tool_calls":[{"index":`...)
		d.buf = strconv.AppendInt(d.buf, int64(d.calls-1), 10)
		d.buf = append(d.buf, `,"function":{"arguments":`...)
		d.buf = openaiwire.AppendString(d.buf, args)
		d.buf = append(d.buf, `}}]}`...)
		d.emit(len(args))
		return
	}
	n := d.calls
	d.calls++
	d.begin()
	d.buf = append(d.buf, `"tool_calls":[{"index":`...)
	d.buf = strconv.AppendInt(d.buf, int64(n), 10)
	d.buf = append(d.buf, `,"id":`...)
	d.buf = openaiwire.AppendString(d.buf, callID(d.id, n))
	d.buf = append(d.buf, `,"type":"function","function":{"name":`...)
	d.buf = openaiwire.AppendString(d.buf, name)
	d.buf = append(d.buf, `,"arguments":`...)
	d.buf = openaiwire.AppendString(d.buf, args)
	d.buf = append(d.buf, `}}]}`...)
	d.emit(len(args))
}

// begin starts a chunk in d.buf, up to the opening of the delta's
// members; the first chunk also carries the role (followed by a comma:
// every caller adds a member or trims it).
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

// textChunk queues a chunk whose delta has one text member.
func (d *streamDecoder) textChunk(member, s string) {
	d.begin()
	d.buf = append(d.buf, '"')
	d.buf = append(d.buf, member...)
	d.buf = append(d.buf, `":`...)
	d.buf = openaiwire.AppendString(d.buf, s)
	d.buf = append(d.buf, '}')
	d.emit(len(s))
}

// emit closes the chunk in d.buf (finish_reason null) and queues a copy.
func (d *streamDecoder) emit(textBytes int) {
	d.buf = append(d.buf, `,"finish_reason":null}]}`...)
	d.queue = append(d.queue, adaptors.StreamEvent{Data: bytes.Clone(d.buf), TextBytes: textBytes})
}
