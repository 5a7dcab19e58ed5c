package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/sse"
)

// wireEvent is any Messages stream event; its "type" says which members
// apply. Strings the conversion copies to the client stay raw JSON (they
// alias the event's bytes and are written out as they came, already
// escaped), so an event decodes without allocating.
type wireEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message struct {
		ID    sonic.NoCopyRawMessage `json:"id"`
		Usage deltaUsage             `json:"usage"`
	} `json:"message"`
	ContentBlock struct {
		Type     string                 `json:"type"`
		ID       sonic.NoCopyRawMessage `json:"id"`
		Name     sonic.NoCopyRawMessage `json:"name"`
		Text     sonic.NoCopyRawMessage `json:"text"`
		Thinking sonic.NoCopyRawMessage `json:"thinking"`
	} `json:"content_block"`
	Delta struct {
		Type        string                 `json:"type"`
		Text        sonic.NoCopyRawMessage `json:"text"`
		Thinking    sonic.NoCopyRawMessage `json:"thinking"`
		PartialJSON sonic.NoCopyRawMessage `json:"partial_json"`
		StopReason  string                 `json:"stop_reason"`
	} `json:"delta"`
	Usage deltaUsage `json:"usage"`
}

// deltaUsage is a usage object whose absent members stay at -1, so that a
// message_delta reporting only output_tokens leaves the input counts of
// message_start alone, while one that repeats them (newer API versions
// do) overrides them.
type deltaUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	OutputTokensDetails      struct {
		ThinkingTokens int `json:"thinking_tokens"`
	} `json:"output_tokens_details"`
}

func unsetUsage() deltaUsage {
	u := deltaUsage{InputTokens: -1, CacheCreationInputTokens: -1, CacheReadInputTokens: -1, OutputTokens: -1}
	u.OutputTokensDetails.ThinkingTokens = -1
	return u
}

// mergeInto copies the members that were present into u.
func (d *deltaUsage) mergeInto(u *upUsage) {
	if d.InputTokens >= 0 {
		u.InputTokens = d.InputTokens
	}
	if d.CacheCreationInputTokens >= 0 {
		u.CacheCreationInputTokens = d.CacheCreationInputTokens
	}
	if d.CacheReadInputTokens >= 0 {
		u.CacheReadInputTokens = d.CacheReadInputTokens
	}
	if d.OutputTokens >= 0 {
		u.OutputTokens = d.OutputTokens
	}
	if d.OutputTokensDetails.ThinkingTokens >= 0 {
		u.OutputTokensDetails.ThinkingTokens = d.OutputTokensDetails.ThinkingTokens
	}
}

// maxBlocks bounds the content-block indexes a stream may use, so a
// corrupt index cannot make the decoder allocate without limit.
const maxBlocks = 1 << 14

// blockState is what the decoder remembers of one content block.
type blockState struct {
	tool int32 // tool-call index of a tool_use block, -1 otherwise
	args bool  // a non-empty argument fragment was sent
}

// EventDecoder converts Messages stream events, one event's JSON at a
// time, into OpenAI chat.completion.chunk events. It knows nothing of the
// framing: the Claude API frames events as server-sent events (the
// Adaptor's stream decoder feeds it each data payload), Amazon Bedrock
// wraps each event's JSON in its binary event stream (and adds an
// "amazon-bedrock-invocationMetrics" member to message_stop, which is
// ignored), Vertex AI sends the same server-sent events.
//
// The conversion: message_start gives the chunk id (the message id),
// the first chunk (delta.role "assistant") and the first usage;
// text_delta becomes delta.content, thinking_delta
// delta.reasoning_content; a tool_use block becomes a tool call whose
// first chunk carries its index, id, type and name with empty arguments,
// and whose input_json_delta fragments follow with the same index (tool
// calls are numbered from 0 in the order their blocks start, whatever
// the content-block index; a call that streamed no argument gets "{}"
// when its block stops); message_delta gives the finish chunk
// (stop_reason mapped as ParseMessage does) and the final usage
// (message_delta's counts are cumulative: the last value wins, and input
// and cache counts it repeats replace message_start's); message_stop
// ends the stream with the usage-only chunk (Data only when the client
// asked for usage, Usage always). signature_delta, citations, ping and
// unknown events carry nothing for the client. An error event is
// returned as the *schema.Error it carries, with the status Anthropic
// uses for its type (overloaded_error: 529).
//
// An EventDecoder is used by one goroutine and allocates only the chunks
// it emits.
type EventDecoder struct {
	includeUsage bool
	created      int64
	model        string

	dec    *decoder.Decoder
	ev     wireEvent
	out    []adaptors.StreamEvent
	head   []byte // `{"id":…,"object":…,"created":…,"model":…,` of every chunk
	delta  []byte // scratch: the delta of the chunk being built
	blocks []blockState
	tools  int32
	usage  upUsage
	seen   bool   // usage reported
	finish string // finish_reason once sent
	done   bool
}

// NewEventDecoder starts the conversion of one stream for req (its
// OriginModel is the chunks' model, Created their created, IncludeUsage
// whether the usage-only chunk reaches the client).
func NewEventDecoder(req *adaptors.Request) *EventDecoder {
	d := decoder.NewDecoder("")
	d.SetOptions(decoder.OptionCaseSensitive)
	return &EventDecoder{includeUsage: req.IncludeUsage, created: req.Created, model: req.OriginModel, dec: d,
		delta: make([]byte, 0, 256)}
}

// errTruncated marks a stream that ended before message_stop.
var errTruncated = fmt.Errorf("anthropic: stream ended before message_stop: %w", io.ErrUnexpectedEOF)

// Decode converts the JSON of one event (its "type" member names it).
// events are the client events it yields, in order; the slice is reused
// by the next call, the events' Data and Usage are not. done
// is true once message_stop has been seen: the stream is complete, and
// later calls yield nothing. err is a *schema.Error for an error event,
// or an error wrapping adaptors.ErrInvalidResponse for data that is not
// an event.
func (d *EventDecoder) Decode(data []byte) (events []adaptors.StreamEvent, done bool, err error) {
	d.out = d.out[:0]
	if d.done {
		return nil, true, nil
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, false, nil
	}
	d.ev = wireEvent{}
	d.ev.Message.Usage = unsetUsage()
	d.ev.Usage = unsetUsage()
	d.dec.Reset(unsafe.String(unsafe.SliceData(data), len(data)))
	err = d.dec.Decode(&d.ev)
	if err == nil {
		err = d.dec.CheckTrailings()
	}
	d.dec.Reset("")
	if err != nil {
		// A member of an unexpected type leaves the rest decoded; any
		// other failure means the data is not an event.
		var mismatch *decoder.MismatchTypeError
		var stdMismatch *json.UnmarshalTypeError
		if !errors.As(err, &mismatch) && !errors.As(err, &stdMismatch) {
			return nil, false, fmt.Errorf("anthropic: %w: stream event: %v", adaptors.ErrInvalidResponse, err)
		}
	}
	ev := &d.ev
	switch ev.Type {
	case "message_start":
		d.start(ev.Message.ID)
		ev.Message.Usage.mergeInto(&d.usage)
		d.seen = true
		u := d.usage.toUsage()
		d.emitDelta(`{"role":"assistant","content":""}`, "", u)
	case "content_block_start":
		b, err := d.block(ev.Index)
		if err != nil {
			return nil, false, err
		}
		switch cb := &ev.ContentBlock; cb.Type {
		case "tool_use":
			b.tool = d.tools
			d.tools++
			d.emitToolStart(b.tool, cb.ID, cb.Name)
		case "text":
			d.emitText(`{"content":`, cb.Text)
		case "thinking":
			d.emitText(`{"reasoning_content":`, cb.Thinking)
		}
	case "content_block_delta":
		switch dl := &ev.Delta; dl.Type {
		case "text_delta":
			d.emitText(`{"content":`, dl.Text)
		case "thinking_delta":
			d.emitText(`{"reasoning_content":`, dl.Thinking)
		case "input_json_delta":
			b, err := d.block(ev.Index)
			if err != nil {
				return nil, false, err
			}
			if b.tool >= 0 {
				if n, ok := jsonStringLen(dl.PartialJSON); ok && n > 0 {
					b.args = true
					d.emitArgs(b.tool, dl.PartialJSON, n)
				}
			}
		}
	case "content_block_stop":
		if ev.Index >= 0 && ev.Index < len(d.blocks) {
			if b := &d.blocks[ev.Index]; b.tool >= 0 && !b.args {
				b.args = true
				d.emitArgs(b.tool, []byte(`"{}"`), 2)
			}
		}
	case "message_delta":
		ev.Usage.mergeInto(&d.usage)
		d.seen = true
		u := d.usage.toUsage()
		if d.finish == "" {
			d.finish = finishReason(ev.Delta.StopReason)
			d.emitDelta(`{}`, d.finish, u)
		} else {
			d.out = append(d.out, adaptors.StreamEvent{Usage: u})
		}
	case "message_stop":
		d.done = true
		if d.finish == "" {
			d.finish = finishReason("")
			var u *adaptors.Usage
			if d.seen {
				u = d.usage.toUsage()
			}
			d.emitDelta(`{}`, d.finish, u)
		}
		if d.seen {
			u := d.usage.toUsage()
			ev := adaptors.StreamEvent{Usage: u}
			if d.includeUsage {
				ev.Data = d.usageChunk(u)
			}
			d.out = append(d.out, ev)
		}
		return d.out, true, nil
	case "error":
		return nil, false, errorFromEvent(data)
	}
	return d.out, false, nil
}

// start records the message id and builds the chunk head.
func (d *EventDecoder) start(id []byte) {
	h := make([]byte, 0, 96+len(id)+len(d.model))
	h = append(h, `{"id":`...)
	if _, ok := jsonStringLen(id); ok {
		h = append(h, id...)
	} else {
		h = append(h, `""`...)
	}
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, d.created, 10)
	h = append(h, `,"model":`...)
	h = appendJSONString(h, d.model)
	h = append(h, ',')
	d.head = h
}

// block returns the state of content block i, growing the table.
func (d *EventDecoder) block(i int) (*blockState, error) {
	if i < 0 || i >= maxBlocks {
		return nil, fmt.Errorf("anthropic: %w: content block index %d out of range", adaptors.ErrInvalidResponse, i)
	}
	for len(d.blocks) <= i {
		d.blocks = append(d.blocks, blockState{tool: -1})
	}
	return &d.blocks[i], nil
}

// emit appends a chunk whose choice has the delta JSON in d.delta,
// finish reason finish ("": null), text size and usage. The chunk is
// the event's one allocation.
func (d *EventDecoder) emit(finish string, textBytes int, u *adaptors.Usage) {
	if d.head == nil {
		d.start(nil)
	}
	const open, closeNull = `"choices":[{"index":0,"delta":`, `,"finish_reason":null}]}`
	b := make([]byte, 0, len(d.head)+len(open)+len(d.delta)+len(closeNull)+len(finish)+2)
	b = append(b, d.head...)
	b = append(b, open...)
	b = append(b, d.delta...)
	if finish == "" {
		b = append(b, closeNull...)
	} else {
		b = append(b, `,"finish_reason":"`...)
		b = append(b, finish...)
		b = append(b, `"}]}`...)
	}
	d.out = append(d.out, adaptors.StreamEvent{Data: b, TextBytes: textBytes, Usage: u})
}

// emitDelta emits a chunk whose delta is the constant JSON delta.
func (d *EventDecoder) emitDelta(delta, finish string, u *adaptors.Usage) {
	d.delta = append(d.delta[:0], delta...)
	d.emit(finish, 0, u)
}

// emitText emits a content or reasoning delta whose value is the raw
// JSON string s (nothing for an empty or invalid string). open is the
// delta up to the value, e.g. `{"content":`.
func (d *EventDecoder) emitText(open string, s []byte) {
	n, ok := jsonStringLen(s)
	if !ok || n == 0 {
		return
	}
	d.delta = append(d.delta[:0], open...)
	d.delta = append(d.delta, s...)
	d.delta = append(d.delta, '}')
	d.emit("", n, nil)
}

// emitToolStart emits the first chunk of tool call i.
func (d *EventDecoder) emitToolStart(i int32, id, name []byte) {
	if _, ok := jsonStringLen(id); !ok {
		id = []byte(`""`)
	}
	if _, ok := jsonStringLen(name); !ok {
		name = []byte(`""`)
	}
	b := append(d.delta[:0], `{"tool_calls":[{"index":`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `,"id":`...)
	b = append(b, id...)
	b = append(b, `,"type":"function","function":{"name":`...)
	b = append(b, name...)
	d.delta = append(b, `,"arguments":""}}]}`...)
	d.emit("", 0, nil)
}

// emitArgs emits an argument fragment (raw JSON string s, n bytes of
// text) of tool call i.
func (d *EventDecoder) emitArgs(i int32, s []byte, n int) {
	b := append(d.delta[:0], `{"tool_calls":[{"index":`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `,"function":{"arguments":`...)
	b = append(b, s...)
	d.delta = append(b, `}}]}`...)
	d.emit("", n, nil)
}

// usageChunk is OpenAI's final usage-only chunk.
func (d *EventDecoder) usageChunk(u *adaptors.Usage) []byte {
	if d.head == nil {
		d.start(nil)
	}
	b := make([]byte, 0, len(d.head)+256)
	b = append(b, d.head...)
	b = append(b, `"choices":[],"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CachedTokens), 10)
	b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, int64(u.ReasoningTokens), 10)
	b = append(b, `}}}`...)
	return b
}

// jsonStringLen checks that raw is one well-formed JSON string literal
// (so it can be copied into the client's JSON as is) and returns the
// UTF-8 length of the text it stands for.
func jsonStringLen(raw []byte) (int, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return 0, false
	}
	s := raw[1 : len(raw)-1]
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c < 0x20:
			return 0, false
		case c != '\\':
			n++
			continue
		}
		i++
		if i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			n++
		case 'u':
			if i+4 >= len(s) {
				return 0, false
			}
			r, ok := hex4(s[i+1 : i+5])
			if !ok {
				return 0, false
			}
			i += 4
			if r >= 0xD800 && r < 0xDC00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if lo, ok := hex4(s[i+3 : i+7]); ok && lo >= 0xDC00 && lo < 0xE000 {
					n += 4
					i += 6
					continue
				}
			}
			if l := utf8.RuneLen(r); l > 0 {
				n += l
			} else {
				n += 3 // a lone surrogate decodes as U+FFFD
			}
		default:
			return 0, false
		}
	}
	return n, true
}

// hex4 parses four hex digits.
func hex4(s []byte) (rune, bool) {
	if len(s) != 4 {
		return 0, false
	}
	var r rune
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// streamDecoder reads the Claude API's server-sent events (`event:
// <type>` and `data: <json>`) and converts each with an EventDecoder.
type streamDecoder struct {
	r       *sse.Reader
	ed      *EventDecoder
	pending []adaptors.StreamEvent
	err     error // sticky: io.EOF, *schema.Error, or a read/format error
}

func newStreamDecoder(req *adaptors.Request, body io.Reader) *streamDecoder {
	return &streamDecoder{r: sse.NewReader(body, 0), ed: NewEventDecoder(req)}
}

// Next implements adaptors.StreamDecoder: io.EOF after message_stop (and
// forever after, whatever follows it); a *schema.Error for an error
// event; io.ErrUnexpectedEOF (wrapped) when the body ends before
// message_stop.
func (s *streamDecoder) Next() (adaptors.StreamEvent, error) {
	for {
		if len(s.pending) > 0 {
			ev := s.pending[0]
			s.pending = s.pending[1:]
			return ev, nil
		}
		if s.err != nil {
			return adaptors.StreamEvent{}, s.err
		}
		sev, err := s.r.Next()
		if err != nil {
			if err == io.EOF {
				err = errTruncated
			} else {
				err = fmt.Errorf("anthropic: read stream: %w", err)
			}
			s.err = err
			continue
		}
		if sev.Event == "error" {
			s.err = errorFromEvent(sev.Data)
			continue
		}
		evs, done, err := s.ed.Decode(sev.Data)
		if err != nil {
			s.err = err
			continue
		}
		if done {
			s.err = io.EOF
		}
		s.pending = evs
	}
}
