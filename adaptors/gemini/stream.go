package gemini

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/sse"
)

// maxCandidates bounds the candidate index a stream may use (Gemini
// allows candidateCount up to 8); a larger one is not Gemini's stream.
const maxCandidates = 64

// sseDecoder converts a streamGenerateContent?alt=sse body: `data:` lines,
// each a GenerateContentResponse, no terminator — the stream ends with
// the connection after the payload that carries the finishReason.
type sseDecoder struct {
	r            *sse.Reader
	created      int64
	model        string
	mode         adaptors.Mode
	includeUsage bool

	resp   upResponse // reused: its Candidates backing array survives payloads
	id     string     // responseId of the first payload that had one
	cands  []choiceState
	calls  int  // function calls emitted so far, for ids
	finish bool // some candidate finished: a clean EOF is now the end
	usage  *adaptors.Usage
	done   bool   // the final usage event has been returned
	buf    []byte // chunk under construction
	args   []byte
	err    error // sticky: io.EOF, *schema.Error or a read/format error
}

// choiceState is what the decoder remembers of one candidate (choice).
type choiceState struct {
	started bool // the role has been sent
	calls   int  // tool calls sent, for their indexes
	ended   bool // finishReason seen: later content is not relayed
}

// NewSSEDecoder returns the decoder of a streamGenerateContent?alt=sse
// body for req: OpenAI chat.completion.chunk events, one per payload
// that carries something for the client. The first chunk of each choice
// has delta.role "assistant"; text parts are delta.content, thought parts
// delta.reasoning_content; a functionCall (Gemini never splits one) is a
// whole tool call delta: index (counting the choice's calls from 0), id
// (callID, the same scheme as ParseGenerateResponse), type, name, the
// complete arguments, and extra_content.google.thought_signature when
// Gemini signed it. The payload with a candidate's finishReason carries
// its finish_reason (finishReasonOf); content for that candidate after it
// is dropped.
//
// Usage: usageMetadata is cumulative and repeated, so each event that
// carries it reports it in StreamEvent.Usage (the last one wins, never a
// sum) and, after the upstream's clean EOF, a final event repeats the
// last usage, with OpenAI's usage-only chunk as Data when req.IncludeUsage
// (Data nil otherwise). Then Next returns io.EOF forever. A clean EOF
// before any finishReason is a truncated stream (io.ErrUnexpectedEOF); an
// `{"error":…}` payload a *schema.Error (ParseErrorBody); a payload that
// is not JSON an error wrapping adaptors.ErrInvalidResponse. Vertex AI
// streams the same way. One goroutine uses a decoder.
func NewSSEDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	model := req.OriginModel
	if model == "" {
		model = req.Model
	}
	return &sseDecoder{
		r:            sse.NewReader(body, 0),
		created:      req.Created,
		model:        model,
		mode:         req.Mode,
		includeUsage: req.IncludeUsage,
		buf:          make([]byte, 0, 512),
	}
}

// Next implements adaptors.StreamDecoder.
func (d *sseDecoder) Next() (adaptors.StreamEvent, error) {
	if d.err != nil {
		return adaptors.StreamEvent{}, d.err
	}
	for {
		ev, err := d.r.Next()
		if err == io.EOF {
			return d.end()
		}
		if err != nil {
			d.err = fmt.Errorf("gemini: read stream: %w", err)
			return adaptors.StreamEvent{}, d.err
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 {
			continue
		}
		out, keep, err := d.payload(data)
		if err != nil {
			d.err = err
			return adaptors.StreamEvent{}, err
		}
		if keep {
			return out, nil
		}
	}
}

// end handles the upstream's EOF: the final usage event, then io.EOF.
func (d *sseDecoder) end() (adaptors.StreamEvent, error) {
	if !d.finish {
		d.err = fmt.Errorf("gemini: stream ended before a finishReason: %w", io.ErrUnexpectedEOF)
		return adaptors.StreamEvent{}, d.err
	}
	d.err = io.EOF
	if d.usage == nil || d.done {
		return adaptors.StreamEvent{}, io.EOF
	}
	d.done = true
	ev := adaptors.StreamEvent{Usage: d.usage}
	if d.includeUsage {
		ev.Data = adaptors.UsageChunk(d.mode, d.id, d.model, d.created, *d.usage)
	}
	return ev, nil
}

// payload converts one GenerateContentResponse. keep is false when it
// carries nothing for the client or the gateway.
func (d *sseDecoder) payload(data []byte) (ev adaptors.StreamEvent, keep bool, err error) {
	// Reset the reused response. The old candidates and their parts are
	// zeroed, not just truncated (a decoder may fill a reused element in
	// place), but keep their backing arrays.
	cands := d.resp.Candidates[:cap(d.resp.Candidates)]
	for i := range cands {
		parts := cands[i].Content.Parts[:cap(cands[i].Content.Parts)]
		clear(parts)
		cands[i] = upCandidate{}
		cands[i].Content.Parts = parts[:0]
	}
	d.resp = upResponse{Candidates: cands[:0]}
	r := &d.resp
	if !isObject(data) {
		return ev, false, fmt.Errorf("gemini: %w: stream payload is not a json object", adaptors.ErrInvalidResponse)
	}
	if err := decodeWire(data, r); err != nil {
		return ev, false, fmt.Errorf("gemini: %w: stream payload: %v", adaptors.ErrInvalidResponse, err)
	}
	if isPresent(r.Error) {
		return ev, false, upstreamError(r.Error)
	}
	if d.id == "" && r.ResponseID != "" {
		d.id = strings.Clone(r.ResponseID)
	}
	if u := r.UsageMetadata.usage(); u != nil {
		d.usage = u
		ev.Usage = u
	}
	b := d.startChunk()
	n := 0 // choices written
	if len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		// The prompt was blocked: no candidate will come.
		if st, _ := d.cand(0); !st.ended {
			st.ended, d.finish = true, true
			b = d.openChoice(b, 0, st, n)
			b = append(b, `},"finish_reason":"content_filter"}`...)
			n++
		}
	}
	for i := range r.Candidates {
		c := &r.Candidates[i]
		st, err := d.cand(c.Index)
		if err != nil {
			return ev, false, err
		}
		if st.ended {
			continue
		}
		var text int
		if b, text = d.choice(b, c, st, n); text < 0 {
			continue // nothing for this choice
		}
		ev.TextBytes += text
		n++
	}
	if n == 0 {
		return ev, ev.Usage != nil, nil
	}
	b = append(b, "]}"...)
	d.buf = b
	ev.Data = bytes.Clone(b)
	return ev, true, nil
}

// cand returns the state of candidate i, creating it.
func (d *sseDecoder) cand(i int) (*choiceState, error) {
	if i < 0 || i >= maxCandidates {
		return nil, fmt.Errorf("gemini: %w: candidate index %d", adaptors.ErrInvalidResponse, i)
	}
	for len(d.cands) <= i {
		d.cands = append(d.cands, choiceState{})
	}
	return &d.cands[i], nil
}

// startChunk starts a chat.completion.chunk up to its choices array.
func (d *sseDecoder) startChunk() []byte {
	b := append(d.buf[:0], `{"id":`...)
	b = appendString(b, d.id)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, d.created, 10)
	b = append(b, `,"model":`...)
	b = appendString(b, d.model)
	return append(b, `,"choices":[`...)
}

// openChoice writes a choice up to the inside of its delta, with the role
// when it is the choice's first chunk. n is the number of choices already
// in the chunk.
func (d *sseDecoder) openChoice(b []byte, index int, st *choiceState, n int) []byte {
	if n > 0 {
		b = append(b, ',')
	}
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(index), 10)
	b = append(b, `,"delta":{`...)
	if !st.started {
		st.started = true
		b = append(b, `"role":"assistant"`...)
	}
	return b
}

// choice writes the choice of one candidate and returns the text bytes it
// carries, or -1 (and b unchanged) when it carries nothing.
func (d *sseDecoder) choice(b []byte, c *upCandidate, st *choiceState, n int) ([]byte, int) {
	mark := len(b)
	fresh := !st.started
	b = d.openChoice(b, c.Index, st, n)
	field := fresh // a member precedes in the delta
	textBytes := 0
	for _, thought := range [2]bool{true, false} {
		open := false
		for j := range c.Content.Parts {
			p := &c.Content.Parts[j]
			if p.FunctionCall != nil || p.Thought != thought || p.Text == "" {
				continue
			}
			if !open {
				if field {
					b = append(b, ',')
				}
				if thought {
					b = append(b, `"reasoning_content":"`...)
				} else {
					b = append(b, `"content":"`...)
				}
				open, field = true, true
			}
			b = appendEscaped(b, p.Text)
			textBytes += len(p.Text)
		}
		if open {
			b = append(b, '"')
		}
	}
	calls := 0
	for j := range c.Content.Parts {
		p := &c.Content.Parts[j]
		if p.FunctionCall == nil {
			continue
		}
		if calls == 0 {
			if field {
				b = append(b, ',')
			}
			b = append(b, `"tool_calls":[`...)
			field = true
		} else {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(st.calls), 10)
		b = append(b, `,"id":`...)
		b = appendString(b, callID(p.FunctionCall.ID, d.id, d.calls))
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendString(b, p.FunctionCall.Name)
		b = append(b, `,"arguments":`...)
		d.args = appendArgs(d.args[:0], p.FunctionCall.Args)
		b = appendString(b, string(d.args))
		b = append(b, '}')
		if p.ThoughtSignature != "" {
			b = append(b, `,"extra_content":{"google":{"thought_signature":`...)
			b = appendString(b, p.ThoughtSignature)
			b = append(b, "}}"...)
		}
		b = append(b, '}')
		textBytes += len(d.args)
		st.calls++
		d.calls++
		calls++
	}
	if calls > 0 {
		b = append(b, ']')
	}
	b = append(b, '}')
	if c.FinishReason != "" {
		st.ended, d.finish = true, true
		b = append(b, `,"finish_reason":"`...)
		b = append(b, finishReasonOf(c.FinishReason, st.calls > 0)...)
		b = append(b, `"}`...)
		return b, textBytes
	}
	if !field {
		// Neither role, text, calls nor finish: nothing to send.
		return b[:mark], -1
	}
	return append(b, `,"finish_reason":null}`...), textBytes
}
