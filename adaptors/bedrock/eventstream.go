package bedrock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// The AWS event-stream encoding (application/vnd.amazon.eventstream) that
// Bedrock's streaming operations answer with:
// https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html and
// https://smithy.io/2.0/aws/amazon-eventstream.html. Each message is
//
//	total length   uint32 BE (the whole message, CRCs included)
//	headers length uint32 BE
//	prelude CRC    uint32 BE, CRC-32 (IEEE) of the 8 bytes above
//	headers        name length uint8, name, value type uint8, value
//	payload        total − headers − 16 bytes
//	message CRC    uint32 BE, CRC-32 of everything before it
//
// Header values by type: 0 true and 1 false (no value), 2 byte, 3 int16,
// 4 int32, 5 int64 and 8 timestamp (big endian), 6 bytes and 7 string
// (uint16 BE length, then the data), 9 uuid (16 bytes).

// Limits of the encoding, as the SDK enforces them: a payload of at most
// 16 MiB and headers of at most 128 KiB.
const (
	preludeLen    = 12
	minMessageLen = preludeLen + 4
	maxPayloadLen = 16 << 20
	maxHeadersLen = 128 << 10
)

// Header value types.
const (
	hvTrue = iota
	hvFalse
	hvByte
	hvInt16
	hvInt32
	hvInt64
	hvBytes
	hvString
	hvTimestamp
	hvUUID
)

// errFrame is wrapped by every framing error: a CRC mismatch, an
// impossible length, a malformed header.
var errFrame = errors.New("malformed event-stream message")

// frame is one decoded message. Its slices alias the reader's buffer and
// are valid until the next call to next.
type frame struct {
	// The headers Bedrock sends, by name; absent ones are empty.
	MessageType   []byte // :message-type: event, exception or error
	EventType     []byte // :event-type
	ExceptionType []byte // :exception-type
	ContentType   []byte // :content-type
	ErrorCode     []byte // :error-code (message type error)
	ErrorMessage  []byte // :error-message
	Payload       []byte
	// Raw is the whole message as read, prelude to CRC.
	Raw []byte
}

// frameReader reads event-stream messages from r into one reused buffer.
// It never panics on bad input and never reads past a message it cannot
// trust: a corrupt length is caught by the prelude CRC before the reader
// waits for that many bytes.
type frameReader struct {
	r   io.Reader
	buf []byte
	f   frame
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: r, buf: make([]byte, 0, 1024)}
}

// next reads one message. At a clean end of input (no byte of a new
// message read) it returns io.EOF; a message cut short is
// io.ErrUnexpectedEOF; a corrupt one wraps errFrame.
func (fr *frameReader) next() (*frame, error) {
	buf := fr.buf[:preludeLen]
	if n, err := io.ReadFull(fr.r, buf); err != nil {
		if err == io.EOF && n == 0 {
			return nil, io.EOF
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	total := binary.BigEndian.Uint32(buf[0:4])
	headersLen := binary.BigEndian.Uint32(buf[4:8])
	if crc := crc32.ChecksumIEEE(buf[:8]); crc != binary.BigEndian.Uint32(buf[8:12]) {
		return nil, fmt.Errorf("%w: prelude checksum %08x, want %08x", errFrame, binary.BigEndian.Uint32(buf[8:12]), crc)
	}
	if total < minMessageLen || headersLen > maxHeadersLen || headersLen > total-minMessageLen ||
		total-minMessageLen-headersLen > maxPayloadLen {
		return nil, fmt.Errorf("%w: length %d with %d bytes of headers", errFrame, total, headersLen)
	}
	// Read the rest, growing the buffer only as bytes arrive, so a length
	// that lies (with a valid prelude CRC) costs no more memory than the
	// input that is really there.
	need := int(total)
	for len(buf) < need {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(need, max(2*cap(buf), 4096)))
			copy(nb, buf)
			buf = nb
		}
		chunk := buf[len(buf):min(cap(buf), need)]
		if _, err := io.ReadFull(fr.r, chunk); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		buf = buf[:len(buf)+len(chunk)]
	}
	fr.buf = buf[:0]
	end := total - 4
	if crc := crc32.ChecksumIEEE(buf[:end]); crc != binary.BigEndian.Uint32(buf[end:]) {
		return nil, fmt.Errorf("%w: message checksum %08x, want %08x", errFrame, binary.BigEndian.Uint32(buf[end:]), crc)
	}
	fr.f = frame{Payload: buf[preludeLen+headersLen : end], Raw: buf}
	if err := parseHeaders(&fr.f, buf[preludeLen:preludeLen+headersLen]); err != nil {
		return nil, err
	}
	return &fr.f, nil
}

// parseHeaders walks the header block, keeping the string headers Bedrock
// uses and skipping every other value by its type's size.
func parseHeaders(f *frame, h []byte) error {
	for len(h) > 0 {
		nameLen := int(h[0])
		if nameLen == 0 || len(h) < 1+nameLen+1 {
			return fmt.Errorf("%w: truncated header name", errFrame)
		}
		name := h[1 : 1+nameLen]
		typ := h[1+nameLen]
		h = h[2+nameLen:]
		var size int
		switch typ {
		case hvTrue, hvFalse:
			size = 0
		case hvByte:
			size = 1
		case hvInt16:
			size = 2
		case hvInt32:
			size = 4
		case hvInt64, hvTimestamp:
			size = 8
		case hvUUID:
			size = 16
		case hvBytes, hvString:
			if len(h) < 2 {
				return fmt.Errorf("%w: truncated header %q", errFrame, name)
			}
			size = int(binary.BigEndian.Uint16(h))
			h = h[2:]
		default:
			return fmt.Errorf("%w: header %q has unknown value type %d", errFrame, name, typ)
		}
		if len(h) < size {
			return fmt.Errorf("%w: truncated header %q", errFrame, name)
		}
		value := h[:size]
		h = h[size:]
		if typ != hvString {
			continue
		}
		switch string(name) {
		case ":message-type":
			f.MessageType = value
		case ":event-type":
			f.EventType = value
		case ":exception-type":
			f.ExceptionType = value
		case ":content-type":
			f.ContentType = value
		case ":error-code":
			f.ErrorCode = value
		case ":error-message":
			f.ErrorMessage = value
		}
	}
	return nil
}
