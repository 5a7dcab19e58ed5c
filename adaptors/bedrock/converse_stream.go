package bedrock

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// ConverseStream answers with an event stream whose events (the
// :event-type header) are, in order: messageStart {role};
// per content block contentBlockStart {contentBlockIndex,
// start:{toolUse:{toolUseId,name}}} (tool blocks only),
// contentBlockDelta {contentBlockIndex, delta:{text} |
// {toolUse:{input}} (a fragment of the input JSON) |
// {reasoningContent:{text}|{signature}|{redactedContent}}} and
// contentBlockStop {contentBlockIndex}; messageStop {stopReason}; and
// metadata {usage, metrics}, the last event of a complete stream. Every
// payload may carry a "p" member of random padding, which is ignored.
// Errors arrive as messages of type exception (see errors.go).

// streamPayload is the union of the ConverseStream event payloads. Text
// members are raw so they are copied into the client's chunks as the
// JSON strings they are, without decoding.
type streamPayload struct {
	ContentBlockIndex int `json:"contentBlockIndex"`
	Start             struct {
		ToolUse struct {
			ToolUseID sonic.NoCopyRawMessage `json:"toolUseId"`
			Name      sonic.NoCopyRawMessage `json:"name"`
		} `json:"toolUse"`
	} `json:"start"`
	Delta struct {
		Text    sonic.NoCopyRawMessage `json:"text"`
		ToolUse struct {
			Input sonic.NoCopyRawMessage `json:"input"`
		} `json:"toolUse"`
		ReasoningContent struct {
			Text sonic.NoCopyRawMessage `json:"text"`
		} `json:"reasoningContent"`
	} `json:"delta"`
	StopReason string      `json:"stopReason"`
	Usage      *tokenUsage `json:"usage"`
}

// maxBlocks bounds the content block index a stream may use, so garbage
// cannot make the decoder grow its table without limit.
const maxBlocks = 4096

// errTruncated marks a stream that ended before its metadata event.
var errTruncated = fmt.Errorf("bedrock: stream ended before its metadata event: %w", io.ErrUnexpectedEOF)

// converseStream converts a ConverseStream body into chat.completion.chunk
// events. One goroutine uses it.
type converseStream struct {
	fr           *frameReader
	dec          jsonDecoder
	p            streamPayload
	includeUsage bool
	created      int64
	model        string

	head     []byte // `{"id":…,"object":…,"created":…,"model":…,` of every chunk
	buf      []byte // scratch for the chunk being built
	ex       []byte // scratch for the delta being built
	out      []adaptors.StreamEvent
	next     int     // events of out already returned
	tools    []int32 // content block index → tool call index, -1 for none
	nTools   int32
	roleSent bool
	finish   string
	usage    *adaptors.Usage
	err      error // sticky: io.EOF, *schema.Error, or a read/format error
}

func newConverseStream(req *adaptors.Request, body io.Reader) *converseStream {
	return &converseStream{
		fr:           newFrameReader(body),
		dec:          newJSONDecoder(),
		includeUsage: req.IncludeUsage,
		created:      req.Created,
		model:        req.OriginModel,
	}
}

// Next implements adaptors.StreamDecoder.
func (d *converseStream) Next() (adaptors.StreamEvent, error) {
	for {
		if d.next < len(d.out) {
			ev := d.out[d.next]
			d.next++
			return ev, nil
		}
		if d.err != nil {
			return adaptors.StreamEvent{}, d.err
		}
		d.out, d.next = d.out[:0], 0
		f, err := d.fr.next()
		if err != nil {
			switch {
			case err == io.EOF:
				err = errTruncated
			case errors.Is(err, errFrame):
				err = fmt.Errorf("bedrock: %w: %v", adaptors.ErrInvalidResponse, err)
			default:
				err = fmt.Errorf("bedrock: read stream: %w", err)
			}
			d.err = err
			continue
		}
		if err := d.frame(f); err != nil {
			d.err = err
		}
	}
}

// frame converts one event-stream message into d.out.
func (d *converseStream) frame(f *frame) error {
	if d.head == nil {
		d.head = chunkHead(completionID(f.Raw), d.created, d.model)
	}
	switch string(f.MessageType) {
	case "event":
	case "exception":
		return streamError(string(f.ExceptionType), f.Payload)
	case "error":
		return frameError(f)
	default:
		return fmt.Errorf("bedrock: %w: event-stream message type %q", adaptors.ErrInvalidResponse, f.MessageType)
	}
	d.p = streamPayload{}
	if !isObject(f.Payload) || d.dec.decode(f.Payload, &d.p) != nil {
		return fmt.Errorf("bedrock: %w: %s event payload is not a JSON object", adaptors.ErrInvalidResponse, f.EventType)
	}
	p := &d.p
	switch string(f.EventType) {
	case "messageStart":
		d.sendRole()
	case "contentBlockStart":
		if p.Start.ToolUse.ToolUseID == nil && p.Start.ToolUse.Name == nil {
			break
		}
		slot, err := d.block(p.ContentBlockIndex)
		if err != nil {
			return err
		}
		*slot = d.nTools
		d.nTools++
		d.sendRole()
		d.emitToolStart(*slot, p.Start.ToolUse.ToolUseID, p.Start.ToolUse.Name)
	case "contentBlockDelta":
		switch {
		case isString(p.Delta.Text):
			d.sendRole()
			d.emitText(`{"content":`, p.Delta.Text)
		case isString(p.Delta.ReasoningContent.Text):
			d.sendRole()
			d.emitText(`{"reasoning_content":`, p.Delta.ReasoningContent.Text)
		case isString(p.Delta.ToolUse.Input):
			slot, err := d.block(p.ContentBlockIndex)
			if err != nil {
				return err
			}
			if *slot < 0 {
				// Input without a start: count the call anyway so its
				// fragments keep one index.
				*slot = d.nTools
				d.nTools++
			}
			d.sendRole()
			d.emitArgs(*slot, p.Delta.ToolUse.Input)
		}
	case "messageStop":
		d.sendFinish(p.StopReason)
	case "metadata":
		d.sendFinish("")
		if p.Usage != nil {
			d.usage = p.Usage.toUsage()
		}
		if d.usage != nil {
			ev := adaptors.StreamEvent{Usage: d.usage}
			if d.includeUsage {
				ev.Data = d.usageChunk(d.usage)
			}
			d.out = append(d.out, ev)
		}
		return io.EOF
	}
	return nil
}

// block returns the tool slot of content block i, growing the table.
func (d *converseStream) block(i int) (*int32, error) {
	if i < 0 || i >= maxBlocks {
		return nil, fmt.Errorf("bedrock: %w: content block index %d out of range", adaptors.ErrInvalidResponse, i)
	}
	for len(d.tools) <= i {
		d.tools = append(d.tools, -1)
	}
	return &d.tools[i], nil
}

// sendRole emits the first chunk (delta.role) once.
func (d *converseStream) sendRole() {
	if d.roleSent {
		return
	}
	d.roleSent = true
	d.emit(`{"role":"assistant","content":""}`, nil, "", 0)
}

// sendFinish emits the finish chunk once; stop is Converse's stopReason
// ("" when the stream ends without messageStop).
func (d *converseStream) sendFinish(stop string) {
	if d.finish != "" {
		return
	}
	d.sendRole()
	d.finish = finishReason(stop)
	if d.nTools > 0 && d.finish == "stop" {
		d.finish = "tool_calls"
	}
	d.emit(`{}`, nil, d.finish, 0)
}

// emit appends a chunk whose delta is delta then extra, with finish
// reason finish ("": null) and textBytes of text.
func (d *converseStream) emit(delta string, extra []byte, finish string, textBytes int) {
	b := append(d.buf[:0], d.head...)
	b = append(b, `"choices":[{"index":0,"delta":`...)
	b = append(b, delta...)
	b = append(b, extra...)
	b = append(b, `,"finish_reason":`...)
	if finish == "" {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = append(b, finish...)
		b = append(b, '"')
	}
	b = append(b, `}]}`...)
	d.buf = b
	d.out = append(d.out, adaptors.StreamEvent{Data: clone(b), TextBytes: textBytes})
}

// emitText emits a content or reasoning delta; open is the delta up to
// the value (`{"content":`), s the raw JSON string.
func (d *converseStream) emitText(open string, s []byte) {
	n := rawTextLen(s)
	if n == 0 {
		return
	}
	ex := append(d.ex[:0], s...)
	ex = append(ex, '}')
	d.ex = ex
	d.emit(open, ex, "", n)
}

// emitToolStart emits the first chunk of tool call i: index, id, type,
// name and empty arguments.
func (d *converseStream) emitToolStart(i int32, id, name []byte) {
	ex := append(d.ex[:0], `{"tool_calls":[{"index":`...)
	ex = strconv.AppendInt(ex, int64(i), 10)
	ex = append(ex, `,"id":`...)
	ex = appendStringOrEmpty(ex, id)
	ex = append(ex, `,"type":"function","function":{"name":`...)
	ex = appendStringOrEmpty(ex, name)
	ex = append(ex, `,"arguments":""}}]}`...)
	d.ex = ex
	d.emit("", ex, "", 0)
}

// emitArgs emits an argument fragment (raw JSON string s) of tool call i.
func (d *converseStream) emitArgs(i int32, s []byte) {
	n := rawTextLen(s)
	if n == 0 {
		return
	}
	ex := append(d.ex[:0], `{"tool_calls":[{"index":`...)
	ex = strconv.AppendInt(ex, int64(i), 10)
	ex = append(ex, `,"function":{"arguments":`...)
	ex = append(ex, s...)
	ex = append(ex, `}}]}`...)
	d.ex = ex
	d.emit("", ex, "", n)
}

// usageChunk is OpenAI's final usage-only chunk.
func (d *converseStream) usageChunk(u *adaptors.Usage) []byte {
	b := append(d.buf[:0], d.head...)
	b = append(b, `"choices":[],"usage":`...)
	b = appendUsageJSON(b, u)
	b = append(b, '}')
	d.buf = b
	return clone(b)
}

// chunkHead is the start of every chunk of a stream.
func chunkHead(id string, created int64, model string) []byte {
	h := make([]byte, 0, 96+len(id)+len(model))
	h = append(h, `{"id":`...)
	h = appendString(h, id)
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, created, 10)
	h = append(h, `,"model":`...)
	h = appendString(h, model)
	return append(h, ',')
}

// isString reports whether raw is a JSON string (the decoder has checked
// its syntax).
func isString(raw []byte) bool {
	return len(raw) >= 2 && raw[0] == '"'
}

// appendStringOrEmpty appends raw when it is a JSON string, else "".
func appendStringOrEmpty(dst, raw []byte) []byte {
	if isString(raw) {
		return append(dst, raw...)
	}
	return append(dst, `""`...)
}

// frameError is the error of a message of type error, which names its
// error in the :error-code and :error-message headers.
func frameError(f *frame) *schema.Error {
	return &schema.Error{
		Status:  http.StatusInternalServerError,
		Type:    errorType(http.StatusInternalServerError),
		Message: nonEmpty(string(f.ErrorMessage), "bedrock stream error"),
		Code:    nonEmpty(string(f.ErrorCode), "UnknownError"),
	}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
