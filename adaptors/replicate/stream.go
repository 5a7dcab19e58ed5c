package replicate

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
	"switchyard/adaptors/sse"
)

// Replicate's stream events
// (https://replicate.com/docs/topics/predictions/streaming).
const (
	eventOutput = "output" // data: a text fragment, as it is
	eventLogs   = "logs"   // data: log lines (ignored)
	eventError  = "error"  // data: {"detail": "…"}
	eventDone   = "done"   // data: {} or {"reason": "canceled" | "error"}
)

// streamDecoder turns a prediction's event stream into
// chat.completion.chunk events: one chunk per `output` event (its data is
// the text fragment itself, multi-line data joined with "\n" as the SSE
// spec says), and at `done` a final chunk with finish_reason "stop".
// The stream carries no usage and no prediction id: no event reports
// usage (the gateway estimates it from TextBytes), and chunks get the id
// "chatcmpl-<created>".
type streamDecoder struct {
	r *sse.Reader
	// prefix is every chunk's JSON up to the inside of "delta".
	prefix   []byte
	buf      []byte // chunk being built, reused
	roleSent bool
	err      error // sticky: io.EOF, *schema.Error or a read error
}

func newStreamDecoder(req *adaptors.Request, body io.Reader) *streamDecoder {
	p := make([]byte, 0, 128+len(req.OriginModel))
	p = append(p, `{"id":"chatcmpl-`...)
	p = append(p, itoa(req.Created)...)
	p = append(p, `","object":"chat.completion.chunk","created":`...)
	p = append(p, itoa(req.Created)...)
	p = append(p, `,"model":`...)
	p = appendString(p, []byte(req.OriginModel))
	p = append(p, `,"choices":[{"index":0,"delta":{`...)
	return &streamDecoder{r: sse.NewReader(body, 0), prefix: p}
}

// Next implements adaptors.StreamDecoder.
func (d *streamDecoder) Next() (adaptors.StreamEvent, error) {
	if d.err != nil {
		return adaptors.StreamEvent{}, d.err
	}
	for {
		ev, err := d.r.Next()
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("replicate: stream ended before its done event: %w", io.ErrUnexpectedEOF)
			} else {
				err = fmt.Errorf("replicate: read stream: %w", err)
			}
			d.err = err
			return adaptors.StreamEvent{}, err
		}
		switch ev.Event {
		case eventOutput:
			if len(ev.Data) == 0 {
				continue
			}
			return adaptors.StreamEvent{Data: d.chunk(ev.Data, false), TextBytes: len(ev.Data)}, nil
		case eventError:
			se := streamError(ev.Data)
			d.err = se
			return adaptors.StreamEvent{}, se
		case eventLogs:
			continue // the model's log lines: nothing for the client
		case eventDone:
			if se := doneError(ev.Data); se != nil {
				d.err = se
				return adaptors.StreamEvent{}, se
			}
			out := adaptors.StreamEvent{Data: d.chunk(nil, true)}
			d.err = io.EOF
			return out, nil
		}
		// Unnamed events, and events Replicate may add: nothing for the
		// client.
	}
}

// chunk builds a chat.completion.chunk carrying text, or the final one.
// The first chunk also carries the assistant role.
func (d *streamDecoder) chunk(text []byte, final bool) []byte {
	b := append(d.buf[:0], d.prefix...)
	if !d.roleSent {
		b = append(b, `"role":"assistant"`...)
		if !final {
			b = append(b, ',')
		}
		d.roleSent = true
	}
	if final {
		b = append(b, `},"finish_reason":"stop"}]}`...)
	} else {
		b = append(b, `"content":`...)
		b = appendString(b, text)
		b = append(b, `},"finish_reason":null}]}`...)
	}
	d.buf = b
	return bytes.Clone(b)
}

// doneError returns the error a done event reports: {"reason": "error"}
// (the prediction failed; an error event usually came first and already
// ended the stream) or {"reason": "canceled"}. Any other payload — {} on
// success, or one this decoder cannot read — is a normal end.
func doneError(data []byte) *schema.Error {
	if !openaiwire.IsObject(data) {
		return nil
	}
	var w struct {
		Reason string `json:"reason"`
	}
	if openaiwire.DecodeLenient(data, &w) != nil {
		return nil
	}
	switch w.Reason {
	case "error":
		return &schema.Error{Status: http.StatusInternalServerError, Type: typeServer, Code: "prediction_failed",
			Message: "replicate: the prediction failed while streaming"}
	case "canceled":
		return &schema.Error{Status: http.StatusInternalServerError, Type: typeServer, Code: "prediction_canceled",
			Message: "replicate: the prediction was canceled while streaming"}
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does; HTML characters are left alone, as OpenAI's own
// chunks leave them.
func appendString(dst, s []byte) []byte {
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid in JSON strings; they are escaped
		// so the chunk also stays valid JavaScript, as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
