package anthropic

import (
	"bytes"
	"fmt"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// Event is one server-sent event for an Anthropic client: the transport
// writes "event: <Name>\ndata: <Data>\n\n". Data is one line of JSON.
type Event struct {
	Name string
	Data []byte
}

// Names of the stream events (Anthropic's "Streaming Messages" docs).
const (
	EventMessageStart      = "message_start"
	EventContentBlockStart = "content_block_start"
	EventContentBlockDelta = "content_block_delta"
	EventContentBlockStop  = "content_block_stop"
	EventMessageDelta      = "message_delta"
	EventMessageStop       = "message_stop"
	EventPing              = "ping"
	EventError             = "error"
)

var (
	pingData        = []byte(`{"type":"ping"}`)
	messageStopData = []byte(`{"type":"message_stop"}`)
)

type messageStartEvent struct {
	Type    string     `json:"type"`
	Message messageOut `json:"message"`
}

type blockStartEvent struct {
	Type         string   `json:"type"`
	Index        int      `json:"index"`
	ContentBlock blockOut `json:"content_block"`
}

type blockDeltaEvent struct {
	Type  string   `json:"type"`
	Index int      `json:"index"`
	Delta deltaOut `json:"delta"`
}

type deltaOut struct {
	Type        string  `json:"type"`
	Text        *string `json:"text,omitempty"`
	Thinking    *string `json:"thinking,omitempty"`
	PartialJSON *string `json:"partial_json,omitempty"`
}

type blockStopEvent struct {
	Type  string `json:"type"`
	Index int    `json:"index"`
}

type messageDeltaEvent struct {
	Type  string `json:"type"`
	Delta struct {
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	} `json:"delta"`
	Usage usageOut `json:"usage"`
}

// blockKind is the kind of a content block.
type blockKind uint8

const (
	kindText blockKind = iota + 1
	kindThinking
	kindTool
)

// toolState is one OpenAI tool call being converted.
type toolState struct {
	id, name string
	args     strings.Builder // arguments received and not yet emitted
	started  bool            // its content_block_start has been sent
}

// segment is a content block held back until the end of the stream.
type segment struct {
	kind blockKind
	text strings.Builder // text or thinking
	tool *toolState
}

// StreamEncoder converts an OpenAI chat completion stream (the payloads of
// its `data:` lines, in order) into the event stream of Anthropic's
// Messages API: message_start and a ping, content blocks (start, deltas,
// stop) with increasing indexes, then message_delta (stop reason and final
// usage) and message_stop — or a single `error` event when the stream
// fails.
//
// Content blocks never interleave, as in Anthropic's own streams (and as
// simple clients assume): reasoning (reasoning_content or reasoning)
// streams as a thinking block and content as a text block, a new block
// starting whenever the kind changes. The first tool call streams live as
// a tool_use block (its start carries the id, the name and "input": {},
// its arguments follow as input_json_delta fragments). A tool call's
// arguments can still arrive while another call is under way (upstreams
// may interleave calls by index), so everything that starts after the
// first tool call — further calls, text — is buffered and emitted whole,
// in arrival order, when the stream finishes. Only choice 0 is converted
// (Anthropic has no n).
//
// Usage: message_start reports the inputTokens estimate given to
// NewStreamEncoder and output_tokens 1, as Anthropic does before it has
// counted. message_delta carries the final figures, split as usageOut
// documents, including input_tokens and cache_read_input_tokens: Anthropic
// SDKs that accumulate a stream overwrite message_start's counts with any
// message_delta count present, so the accumulated message ends with the
// true figures.
//
// A StreamEncoder is used by one goroutine; the transport calls Chunk for
// each upstream payload, then Finish exactly once.
type StreamEncoder struct {
	model       string
	inputTokens int

	msgID    string
	started  bool // message_start sent
	done     bool // Finish called
	next     int  // index of the next content block
	open     blockKind
	live     *toolState // the live tool call; non-nil once tool calls began
	tools    map[int]*toolState
	pending  []*segment
	nTools   int // tool_use blocks started, for generated ids
	anyTool  bool
	finish   string
	matched  bool
	sequence string
	usage    *adaptors.Usage
}

// NewStreamEncoder starts the conversion of one stream. model is the
// model the client asked for; inputTokens is the gateway's estimate of the
// prompt's tokens, reported in message_start before the upstream has
// counted (the final count comes in message_delta).
func NewStreamEncoder(model string, inputTokens int) *StreamEncoder {
	return &StreamEncoder{model: model, inputTokens: max(inputTokens, 0), tools: make(map[int]*toolState)}
}

// Chunk converts one OpenAI chat.completion.chunk payload. The first call
// also yields message_start and a ping. Usage-only chunks (choices: [])
// yield no event; their usage is kept for Finish. A payload that is not a
// chunk (unparsable, or an {"error":…} object) is an error wrapping
// adaptors.ErrInvalidResponse: the stream has failed, and the transport
// should call Finish with that error. The "[DONE]" marker is ignored.
// data is not retained.
func (e *StreamEncoder) Chunk(data []byte) ([]Event, error) {
	if e.done || string(bytes.TrimSpace(data)) == "[DONE]" {
		return nil, nil
	}
	if !openaiwire.IsObject(data) {
		return nil, fmt.Errorf("anthropic: %w: stream chunk is not a json object", adaptors.ErrInvalidResponse)
	}
	var c openaiwire.Chunk
	if err := openaiwire.DecodeLenient(data, &c); err != nil {
		return nil, fmt.Errorf("anthropic: %w: stream chunk: %v", adaptors.ErrInvalidResponse, err)
	}
	if openaiwire.IsPresent(c.Error) {
		return nil, fmt.Errorf("anthropic: %w: upstream error in stream: %s", adaptors.ErrInvalidResponse, c.Error)
	}
	var evs []Event
	if !e.started {
		evs = e.start(c.ID, data)
	}
	if u := c.Usage.ToUsage(); u != nil {
		e.usage = u
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index != 0 {
			continue
		}
		if r := ch.Delta.ReasoningText(); r != "" {
			evs = e.addText(evs, kindThinking, r)
		}
		if t := ch.Delta.Text(); t != "" {
			evs = e.addText(evs, kindText, t)
		}
		for j := range ch.Delta.ToolCalls {
			evs = e.addTool(evs, &ch.Delta.ToolCalls[j])
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			e.finish = *ch.FinishReason
			e.sequence, e.matched = ch.StopSequence()
		}
	}
	return evs, nil
}

// Finish ends the stream. usage is the usage to report: the upstream's,
// or the gateway's estimate when the upstream reported none; nil falls
// back to the usage seen in the chunks, then to the inputTokens estimate
// with no output. If streamErr is non-nil the stream failed: the only
// event is Anthropic's `error` event (type from a *schema.Error's status,
// else api_error; message streamErr's text, so pass an error fit for the
// client). Otherwise Finish closes the open block, emits the held-back
// blocks, message_delta and message_stop. Calls after the first yield
// nothing.
func (e *StreamEncoder) Finish(usage *adaptors.Usage, streamErr error) []Event {
	if e.done {
		return nil
	}
	e.done = true
	if streamErr != nil {
		return []Event{{Name: EventError, Data: streamErrorBody(streamErr)}}
	}
	var evs []Event
	if !e.started {
		evs = e.start("", fmt.Appendf(nil, "%s/%d", e.model, e.inputTokens))
	}
	if e.live != nil && !e.live.started {
		// The first tool call never got its name while live; it goes
		// first among the held-back blocks, where it arrived.
		e.pending = append([]*segment{{kind: kindTool, tool: e.live}}, e.pending...)
	}
	evs = e.closeOpen(evs)
	for _, seg := range e.pending {
		if seg.kind == kindTool {
			evs = e.startTool(evs, seg.tool)
			if seg.tool.args.Len() > 0 {
				evs = append(evs, e.delta(kindTool, seg.tool.args.String()))
			}
		} else {
			evs = e.startBlock(evs, seg.kind)
			evs = append(evs, e.delta(seg.kind, seg.text.String()))
		}
		evs = e.closeOpen(evs)
	}
	e.pending = nil

	if usage == nil {
		usage = e.usage
	}
	uo := usageOut{InputTokens: e.inputTokens}
	if usage != nil {
		uo = anthropicUsage(usage)
	}
	md := messageDeltaEvent{Type: EventMessageDelta, Usage: uo}
	md.Delta.StopReason = stopReason(e.finish, e.matched, e.anyTool)
	if md.Delta.StopReason == stopStopSequence {
		seq := e.sequence
		md.Delta.StopSequence = &seq
	}
	return append(evs,
		Event{Name: EventMessageDelta, Data: openaiwire.Marshal(&md)},
		Event{Name: EventMessageStop, Data: messageStopData})
}

// start emits message_start (with an empty message) and a ping. id is the
// upstream's completion id; seed names the message when there is none.
func (e *StreamEncoder) start(id string, seed []byte) []Event {
	e.started = true
	if id == "" {
		id = fallbackID(seed)
	}
	e.msgID = messageID(id)
	ev := messageStartEvent{Type: EventMessageStart, Message: messageOut{
		ID:      e.msgID,
		Type:    "message",
		Role:    "assistant",
		Model:   e.model,
		Content: []blockOut{},
		Usage:   usageOut{InputTokens: e.inputTokens, OutputTokens: 1},
	}}
	return []Event{{Name: EventMessageStart, Data: openaiwire.Marshal(&ev)}, {Name: EventPing, Data: pingData}}
}

// addText streams text or reasoning into the open block of its kind, or
// holds it back once tool calls have begun.
func (e *StreamEncoder) addText(evs []Event, kind blockKind, s string) []Event {
	if e.live != nil {
		if n := len(e.pending); n > 0 && e.pending[n-1].kind == kind {
			e.pending[n-1].text.WriteString(s)
		} else {
			seg := &segment{kind: kind}
			seg.text.WriteString(s)
			e.pending = append(e.pending, seg)
		}
		return evs
	}
	if e.open != kind {
		evs = e.closeOpen(evs)
		evs = e.startBlock(evs, kind)
	}
	return append(evs, e.delta(kind, s))
}

// addTool takes one tool-call fragment. The first call seen becomes live;
// later ones are held back. A fragment whose id differs from the call
// already at its index starts a new call (some upstreams send every call
// with index 0).
func (e *StreamEncoder) addTool(evs []Event, tc *openaiwire.ToolCallDelta) []Event {
	st := e.tools[tc.Index]
	if st == nil || (tc.ID != "" && st.id != "" && tc.ID != st.id) {
		st = &toolState{}
		e.tools[tc.Index] = st
		e.anyTool = true
		if e.live == nil {
			evs = e.closeOpen(evs)
			e.live = st
		} else {
			e.pending = append(e.pending, &segment{kind: kindTool, tool: st})
		}
	}
	if st.id == "" {
		st.id = tc.ID
	}
	if st.name == "" {
		st.name = tc.Function.Name
	}
	st.args.WriteString(tc.Function.Arguments)
	if st != e.live {
		return evs
	}
	if !st.started && st.name != "" {
		evs = e.startTool(evs, st)
	}
	if st.started && st.args.Len() > 0 {
		evs = append(evs, e.delta(kindTool, st.args.String()))
		st.args.Reset()
	}
	return evs
}

// startBlock opens a text or thinking block.
func (e *StreamEncoder) startBlock(evs []Event, kind blockKind) []Event {
	b := textBlock("")
	if kind == kindThinking {
		b = thinkingBlock("")
	}
	return e.emitStart(evs, kind, b)
}

// startTool opens a tool_use block for st.
func (e *StreamEncoder) startTool(evs []Event, st *toolState) []Event {
	st.started = true
	st.id = toolUseID(st.id, e.msgID, e.nTools)
	e.nTools++
	return e.emitStart(evs, kindTool, toolUseBlock(st.id, st.name, []byte("{}")))
}

func (e *StreamEncoder) emitStart(evs []Event, kind blockKind, b blockOut) []Event {
	ev := blockStartEvent{Type: EventContentBlockStart, Index: e.next, ContentBlock: b}
	e.next++
	e.open = kind
	return append(evs, Event{Name: EventContentBlockStart, Data: openaiwire.Marshal(&ev)})
}

// delta emits a delta of the open block.
func (e *StreamEncoder) delta(kind blockKind, s string) Event {
	ev := blockDeltaEvent{Type: EventContentBlockDelta, Index: e.next - 1}
	switch kind {
	case kindText:
		ev.Delta = deltaOut{Type: "text_delta", Text: &s}
	case kindThinking:
		ev.Delta = deltaOut{Type: "thinking_delta", Thinking: &s}
	default:
		ev.Delta = deltaOut{Type: "input_json_delta", PartialJSON: &s}
	}
	return Event{Name: EventContentBlockDelta, Data: openaiwire.Marshal(&ev)}
}

// closeOpen closes the open block, if any.
func (e *StreamEncoder) closeOpen(evs []Event) []Event {
	if e.open == 0 {
		return evs
	}
	e.open = 0
	return append(evs, Event{Name: EventContentBlockStop, Data: openaiwire.Marshal(&blockStopEvent{Type: EventContentBlockStop, Index: e.next - 1})})
}
