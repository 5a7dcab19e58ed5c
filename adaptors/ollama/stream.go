package ollama

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
)

// maxLine bounds one line of a native stream (a chunk is usually under
// 300 bytes; a whole-message line with tool arguments or images can be
// large), so memory per stream stays bounded.
const maxLine = 64 << 20

// errLineTooLong is returned for a stream line longer than maxLine.
var errLineTooLong = errors.New("ollama: stream line too long")

// lineDecoder decodes stream lines with one sonic decoder for the whole
// stream. Strings in the destination alias the line, which stays valid
// until the next line is read; the decoder never keeps them longer.
type lineDecoder struct {
	d *decoder.Decoder
}

func newLineDecoder() lineDecoder {
	d := decoder.NewDecoder("")
	d.SetOptions(decoder.OptionCaseSensitive)
	return lineDecoder{d: d}
}

// decode decodes the JSON value b into v, tolerating type mismatches in
// single fields as decode does.
func (j lineDecoder) decode(b []byte, v any) error {
	j.d.Reset(unsafe.String(unsafe.SliceData(b), len(b)))
	err := j.d.Decode(v)
	if err == nil {
		err = j.d.CheckTrailings()
	}
	if err == nil {
		return nil
	}
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return j.d.CheckTrailings()
	}
	return err
}

// streamDecoder turns a native /api/chat stream — one JSON object per
// line, the last with "done": true — into chat.completion.chunk events.
// When the first line shows a server-sent event stream instead (a channel
// on the OpenAI-compatible API), it hands the body to the OpenAI
// adaptor's decoder.
type streamDecoder struct {
	a   *Adaptor
	req *adaptors.Request
	br  *bufio.Reader

	sniffed bool
	inner   adaptors.StreamDecoder // the OpenAI decoder, on the OpenAI-compatible API

	dec  lineDecoder
	long []byte   // a line longer than br's buffer, assembled
	w    chatWire // reused for every line; its ToolCalls array survives

	prefix   []byte // every chunk's JSON up to "delta":
	id       string
	model    string
	created  int64
	roleSent bool
	calls    int    // tool calls emitted so far (their OpenAI indexes)
	buf      []byte // scratch for building a chunk

	pending []adaptors.StreamEvent // events of the current line not yet returned
	next    int
	ended   bool  // the done line was seen: pending holds the last events
	err     error // sticky: io.EOF, *schema.Error, or a read/format error
}

func newStreamDecoder(a *Adaptor, req *adaptors.Request, body io.Reader) *streamDecoder {
	return &streamDecoder{a: a, req: req, br: bufio.NewReaderSize(body, 4<<10), dec: newLineDecoder()}
}

// Next implements adaptors.StreamDecoder.
func (d *streamDecoder) Next() (adaptors.StreamEvent, error) {
	if d.inner != nil {
		return d.inner.Next()
	}
	for {
		if d.next < len(d.pending) {
			ev := d.pending[d.next]
			d.pending[d.next] = adaptors.StreamEvent{}
			d.next++
			return ev, nil
		}
		if d.err != nil {
			return adaptors.StreamEvent{}, d.err
		}
		if d.ended {
			d.err = io.EOF
			continue
		}
		line, complete, err := d.readLine()
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("ollama: stream ended before its done line: %w", io.ErrUnexpectedEOF)
			} else if err != errLineTooLong {
				err = fmt.Errorf("ollama: read stream: %w", err)
			}
			d.err = err
			continue
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue // blank lines carry nothing
		}
		if !d.sniffed {
			d.sniffed = true
			if isEventStream(line) {
				head := append(append(make([]byte, 0, len(line)+1), line...), '\n')
				d.inner = d.a.compat.NewStreamDecoder(d.req, io.MultiReader(bytes.NewReader(head), d.br))
				return d.inner.Next()
			}
		}
		d.pending, d.next = d.pending[:0], 0
		if err := d.convert(line); err != nil {
			if !complete {
				// The body ended inside this line: the stream was cut.
				err = fmt.Errorf("ollama: stream ended inside a line: %w", io.ErrUnexpectedEOF)
			}
			d.err = err
		}
	}
}

// isEventStream reports whether a stream's first line is server-sent
// event framing rather than a JSON object.
func isEventStream(line []byte) bool {
	if line[0] == ':' {
		return true
	}
	for _, p := range [...]string{"data:", "event:", "id:", "retry:"} {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}

// readLine returns the next line (without bounds on its content) and
// whether it ended with a newline; a last line the body did not end with
// one is returned too. The result aliases the reader's buffers until the
// next call.
func (d *streamDecoder) readLine() ([]byte, bool, error) {
	d.long = d.long[:0]
	for {
		b, err := d.br.ReadSlice('\n')
		switch {
		case err == nil:
			if len(d.long) == 0 {
				return b, true, nil
			}
			d.long = append(d.long, b...)
			return d.long, true, nil
		case err == bufio.ErrBufferFull:
			if len(d.long)+len(b) > maxLine {
				return nil, false, errLineTooLong
			}
			d.long = append(d.long, b...)
		case err == io.EOF && len(d.long)+len(b) > 0:
			d.long = append(d.long, b...)
			return d.long, false, nil
		default:
			return nil, false, err
		}
	}
}

// convert turns one stream line into pending events.
func (d *streamDecoder) convert(line []byte) error {
	if !isObject(line) {
		return fmt.Errorf("ollama: %w: stream line is not a json object", adaptors.ErrInvalidResponse)
	}
	// Reset the reused line, zeroing (not only truncating) the tool
	// calls: the decoder may fill a reused element in place.
	calls := d.w.Message.ToolCalls[:cap(d.w.Message.ToolCalls)]
	clear(calls)
	d.w = chatWire{}
	d.w.Message.ToolCalls = calls[:0]
	w := &d.w
	if err := d.dec.decode(line, w); err != nil {
		return fmt.Errorf("ollama: %w: stream line: %v", adaptors.ErrInvalidResponse, err)
	}
	if isPresent(w.Error) {
		return embeddedError(w)
	}
	if d.prefix == nil {
		d.start(w.CreatedAt)
	}
	if w.Message.Content != "" || w.Message.Thinking != "" {
		d.emitText(w.Message.Thinking, w.Message.Content)
	}
	for i := range w.Message.ToolCalls {
		d.emitCall(&w.Message.ToolCalls[i])
	}
	if w.Done != nil && *w.Done {
		d.emitEnd(w)
		d.ended = true
	}
	return nil
}

// start fixes what every chunk repeats: the id and created time (from
// the first line's created_at) and the model the client asked for.
func (d *streamDecoder) start(createdAt string) {
	d.id, d.created = answerIdentity(createdAt, d.req)
	d.model = clientModel(d.req)
	p := make([]byte, 0, 96+len(d.id)+len(d.model))
	p = append(p, `{"id":`...)
	p = appendString(p, d.id)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = strconv.AppendInt(p, d.created, 10)
	p = append(p, `,"model":`...)
	p = appendString(p, d.model)
	p = append(p, `,"choices":[{"index":0,"delta":`...)
	d.prefix = p
	d.buf = make([]byte, 0, len(p)+256)
}

// openDelta starts a chunk's delta object, with the role on the stream's
// first chunk as OpenAI sends it. It reports whether a member was written.
func (d *streamDecoder) openDelta() bool {
	d.buf = append(append(d.buf[:0], d.prefix...), '{')
	if d.roleSent {
		return false
	}
	d.roleSent = true
	d.buf = append(d.buf, `"role":"assistant"`...)
	return true
}

// closeChunk ends the delta and the chunk and queues it.
func (d *streamDecoder) closeChunk(finish string, textBytes int) {
	d.buf = append(d.buf, `},"finish_reason":`...)
	if finish == "" {
		d.buf = append(d.buf, "null"...)
	} else {
		d.buf = appendString(d.buf, finish)
	}
	d.buf = append(d.buf, "}]}"...)
	data := append(make([]byte, 0, len(d.buf)), d.buf...)
	d.pending = append(d.pending, adaptors.StreamEvent{Data: data, TextBytes: textBytes})
}

// emitText queues a chunk with text and/or thinking.
func (d *streamDecoder) emitText(thinking, content string) {
	sep := d.openDelta()
	if content != "" {
		if sep {
			d.buf = append(d.buf, ',')
		}
		d.buf = append(d.buf, `"content":`...)
		d.buf = appendString(d.buf, content)
		sep = true
	}
	if thinking != "" {
		if sep {
			d.buf = append(d.buf, ',')
		}
		d.buf = append(d.buf, `"reasoning_content":`...)
		d.buf = appendString(d.buf, thinking)
	}
	d.closeChunk("", len(content)+len(thinking))
}

// emitCall queues one tool call as OpenAI streams it: a chunk with its
// index, id, type and name (empty arguments), then one with the
// arguments. Ollama sends each call whole, arguments as an object.
func (d *streamDecoder) emitCall(c *callWire) {
	index := d.calls
	d.calls++
	if d.openDelta() {
		d.buf = append(d.buf, ',')
	}
	d.buf = append(d.buf, `"tool_calls":[{"index":`...)
	d.buf = strconv.AppendInt(d.buf, int64(index), 10)
	d.buf = append(d.buf, `,"id":`...)
	d.buf = appendString(d.buf, toolCallID(c.ID, index))
	d.buf = append(d.buf, `,"type":"function","function":{"name":`...)
	d.buf = appendString(d.buf, c.Function.Name)
	d.buf = append(d.buf, `,"arguments":""}}]`...)
	d.closeChunk("", 0)

	args := appendArguments(nil, c.Function.Arguments)
	d.openDelta()
	d.buf = append(d.buf, `"tool_calls":[{"index":`...)
	d.buf = strconv.AppendInt(d.buf, int64(index), 10)
	d.buf = append(d.buf, `,"function":{"arguments":`...)
	d.buf = appendString(d.buf, unsafe.String(unsafe.SliceData(args), len(args)))
	d.buf = append(d.buf, `}}]`...)
	d.closeChunk("", len(args))
}

// emitEnd queues the finish chunk and the usage of the done line: the
// usage-only chunk (choices: []) is shown only to clients that asked for
// it; the gateway always gets the usage.
func (d *streamDecoder) emitEnd(w *chatWire) {
	d.openDelta()
	d.closeChunk(finishReason(w.DoneReason, d.calls > 0), 0)
	u := w.usage()
	if u == nil {
		return
	}
	ev := adaptors.StreamEvent{Usage: u}
	if d.req.IncludeUsage {
		ev.Data = adaptors.UsageChunk(adaptors.ModeChat, d.id, d.model, d.created, *u)
	}
	d.pending = append(d.pending, ev)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, and
// U+2028/U+2029 escaped so the chunk is safe in any JavaScript client.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
