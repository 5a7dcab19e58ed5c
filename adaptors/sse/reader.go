package sse

import (
	"bytes"
	"errors"
	"io"
)

// DefaultMaxLine is the longest line a Reader accepts by default. A single
// chunk of an LLM stream is usually under 1 KiB, but tool-call arguments,
// images (base64) and whole-message chunks from some upstreams reach
// megabytes; 64 MiB bounds memory per stream while never cutting a real one.
const DefaultMaxLine = 64 << 20

// initialBuf is the first buffer size: larger than almost every chunk of a
// chat stream, small enough that idle streams cost little.
const initialBuf = 4 << 10

// initialData is the first capacity of the event data buffer: a typical
// chat chunk is 200–500 bytes.
const initialData = 1 << 10

// maxEmptyReads is how many (0, nil) reads in a row are tolerated before
// the reader gives up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// ErrLineTooLong is returned when a line exceeds the Reader's maximum.
var ErrLineTooLong = errors.New("sse: line too long")

// Event is one dispatched server-sent event.
type Event struct {
	// Event is the `event:` field, empty when the upstream sent none (the
	// spec's default type "message").
	Event string
	// Data is the concatenation of the event's `data:` lines joined by
	// "\n". It aliases the Reader's buffer: it is valid only until the next
	// call to Next, and callers that keep it must copy it.
	Data []byte
}

// Reader splits an event stream into events. It is not safe for concurrent
// use; one goroutine reads one stream.
type Reader struct {
	src     io.Reader
	maxLine int

	buf  []byte // bytes read from src; buf[r:w] not yet consumed
	r, w int
	// scanned counts the bytes at the start of buf[r:w] already known to
	// hold no line terminator, so a long line arriving in many reads is
	// scanned once, not once per read.
	scanned int
	eof     bool  // src returned io.EOF
	err     error // sticky error from src (not io.EOF)

	data      []byte // data buffer of the event being assembled
	hasData   bool   // at least one data field seen (the spec's "non-empty buffer")
	event     []byte // event type of the event being assembled
	lastEvent string // cache so a repeated event name does not allocate
}

// NewReader returns a Reader over src. maxLine <= 0 means DefaultMaxLine.
func NewReader(src io.Reader, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &Reader{src: src, maxLine: maxLine}
}

// Next returns the next event. At the end of the stream it dispatches a
// pending event that lacked its terminating blank line, then returns
// io.EOF. A read error of the source is returned as is (after the events
// completed before it); ErrLineTooLong when a line exceeds the maximum.
// After an error, Next keeps returning it.
func (r *Reader) Next() (Event, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && r.hasData {
				return r.dispatch(), nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if r.hasData {
				return r.dispatch(), nil
			}
			// A blank line after only comments or event: lines: the spec
			// resets the event type and dispatches nothing.
			r.event = r.event[:0]
			continue
		}
		r.field(line)
	}
}

// field applies one non-empty line to the event being assembled.
func (r *Reader) field(line []byte) {
	if line[0] == ':' {
		return // comment (keep-alive)
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) { // no allocation: the compiler special-cases this
	case "data":
		if r.data == nil {
			// One right-sized allocation per stream instead of a chain of
			// doublings from zero on the first event.
			r.data = make([]byte, 0, initialData)
		}
		if r.hasData {
			r.data = append(r.data, '\n')
		}
		r.data = append(r.data, value...)
		r.hasData = true
	case "event":
		r.event = append(r.event[:0], value...)
	}
	// id and retry are irrelevant to a relay (it never reconnects to an
	// upstream); unknown fields are ignored as the spec requires.
}

// dispatch returns the assembled event and resets the assembly state.
func (r *Reader) dispatch() Event {
	ev := Event{Data: r.data}
	if len(r.event) > 0 {
		if string(r.event) != r.lastEvent {
			r.lastEvent = string(r.event)
		}
		ev.Event = r.lastEvent
	}
	r.data = r.data[:0]
	r.hasData = false
	r.event = r.event[:0]
	return ev
}

// readLine returns the next line without its terminator (LF, CRLF or CR).
// The slice aliases r.buf and is valid until the next readLine. At EOF a
// final unterminated line is returned before io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	for {
		seg := r.buf[r.r:r.w]
		if i := bytes.IndexByte(seg[r.scanned:], '\n'); i >= 0 {
			i += r.scanned
			r.scanned = 0
			line := seg[:i]
			// A CR before the LF is either the CRLF terminator (last byte)
			// or a bare-CR line end earlier in the segment.
			if j := bytes.IndexByte(line, '\r'); j >= 0 && j < len(line)-1 {
				r.r += j + 1
				return line[:j], nil
			}
			r.r += i + 1
			return trimCR(line), nil
		}
		// No LF buffered. A CR followed by a known byte ends a line; a CR
		// as the very last buffered byte may be the first half of CRLF, so
		// it needs more input (or EOF) to decide.
		if j := bytes.IndexByte(seg[r.scanned:], '\r'); j >= 0 {
			j += r.scanned
			if j < len(seg)-1 || r.eof {
				r.scanned = 0
				r.r += j + 1
				return seg[:j], nil
			}
		}
		// Everything but a possible trailing CR is now known to hold no
		// terminator.
		r.scanned = len(seg)
		if r.scanned > 0 && seg[r.scanned-1] == '\r' {
			r.scanned--
		}
		if r.eof {
			r.scanned = 0
			if len(seg) == 0 {
				return nil, io.EOF
			}
			r.r = r.w
			return seg, nil
		}
		if r.err != nil {
			return nil, r.err
		}
		if err := r.fill(); err != nil {
			// A line cut by a read error is not a line: whatever partial
			// line is buffered is dropped and the error reported.
			r.err = err
			return nil, err
		}
	}
}

// fill reads more bytes from src, compacting or growing the buffer as
// needed. It sets r.eof on io.EOF.
func (r *Reader) fill() error {
	if r.r > 0 {
		// Move the unconsumed tail to the front; cheap because lines are
		// consumed as soon as they are complete, so the tail is short.
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == len(r.buf) {
		if r.w >= r.maxLine+1 { // +1: room for the terminator
			return ErrLineTooLong
		}
		n := max(2*len(r.buf), initialBuf)
		n = min(n, r.maxLine+1)
		nb := make([]byte, n)
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for range maxEmptyReads {
		n, err := r.src.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			return errors.New("sse: source returned an invalid count")
		}
		r.w += n
		if err == io.EOF {
			r.eof = true
			return nil
		}
		if err != nil {
			if n > 0 {
				// Keep the bytes; the error surfaces on the next fill.
				r.err = err
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
