package gemini

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// callState is one tool call being accumulated.
type callState struct {
	id, name string
	args     strings.Builder
}

// candState is the state of one choice (candidate) of the stream.
type candState struct {
	calls  map[int]*callState
	order  []*callState // calls in order of first appearance
	finish string
}

// StreamEncoder converts an OpenAI chat completion stream (the payloads of
// its `data:` lines, in order) into the payloads of a Gemini
// streamGenerateContent stream: each one a GenerateContentResponse JSON
// object, which the transport frames as `data: <payload>\r\n\r\n` for
// alt=sse (what the SDKs ask for), or as the elements of a JSON array
// otherwise.
//
// Text and reasoning deltas go out as they arrive, as text and thought
// parts of the candidate with the choice's index. Tool calls are sent
// once complete: Gemini streams never split a functionCall, and OpenAI
// upstreams stream arguments in fragments (and may interleave calls), so
// the arguments are accumulated and the calls sent in the final payload,
// which also carries every candidate's finishReason and the
// usageMetadata.
//
// A StreamEncoder is used by one goroutine; the transport calls Chunk for
// each upstream payload, then Finish exactly once.
type StreamEncoder struct {
	model string
	id    string
	done  bool
	cands map[int]*candState
	usage *adaptors.Usage
}

// NewStreamEncoder starts the conversion of one stream. model is the
// model named in the client's URL, reported as modelVersion.
func NewStreamEncoder(model string) *StreamEncoder {
	return &StreamEncoder{model: model, cands: make(map[int]*candState)}
}

// Chunk converts one OpenAI chat.completion.chunk payload into zero or
// one Gemini payloads (none for chunks that carry no text: role-only,
// usage-only, tool-call fragments). Usage is kept for Finish. A payload
// that is not a chunk (unparsable, or an {"error":…} object) is an error
// wrapping adaptors.ErrInvalidResponse: the stream has failed, and the
// transport should call Finish with that error. The "[DONE]" marker is
// ignored. data is not retained.
func (e *StreamEncoder) Chunk(data []byte) ([][]byte, error) {
	if e.done || string(bytes.TrimSpace(data)) == "[DONE]" {
		return nil, nil
	}
	if !openaiwire.IsObject(data) {
		return nil, fmt.Errorf("gemini: %w: stream chunk is not a json object", adaptors.ErrInvalidResponse)
	}
	var c openaiwire.Chunk
	if err := openaiwire.DecodeLenient(data, &c); err != nil {
		return nil, fmt.Errorf("gemini: %w: stream chunk: %v", adaptors.ErrInvalidResponse, err)
	}
	if openaiwire.IsPresent(c.Error) {
		return nil, fmt.Errorf("gemini: %w: upstream error in stream: %s", adaptors.ErrInvalidResponse, c.Error)
	}
	if e.id == "" {
		e.id = c.ID
	}
	if u := c.Usage.ToUsage(); u != nil {
		e.usage = u
	}
	var cands []candidate
	for i := range c.Choices {
		ch := &c.Choices[i]
		st := e.cand(ch.Index)
		var parts []partOut
		if r := ch.Delta.ReasoningText(); r != "" {
			parts = append(parts, thoughtPart(r))
		}
		if t := ch.Delta.Text(); t != "" {
			parts = append(parts, textPart(t))
		}
		for j := range ch.Delta.ToolCalls {
			st.addCall(&ch.Delta.ToolCalls[j])
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			st.finish = *ch.FinishReason
		}
		if len(parts) > 0 {
			cands = append(cands, candidate{Content: contentOut{Parts: parts, Role: "model"}, Index: ch.Index})
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	return [][]byte{openaiwire.Marshal(&generateResponse{Candidates: cands, ModelVersion: e.model, ResponseID: e.id})}, nil
}

// Finish ends the stream. usage is the usage to report: the upstream's,
// or the gateway's estimate when the upstream reported none; nil falls
// back to the usage seen in the chunks, and usageMetadata is left out if
// there was none. If streamErr is non-nil the stream failed, and the one
// payload is Google's error object (the status of a *schema.Error, else
// 500 INTERNAL; message streamErr's text, so pass an error fit for the
// client). Otherwise the final payload carries the accumulated function
// calls (or an empty text part), each candidate's finishReason and the
// usage. Calls after the first yield nothing.
func (e *StreamEncoder) Finish(usage *adaptors.Usage, streamErr error) [][]byte {
	if e.done {
		return nil
	}
	e.done = true
	if streamErr != nil {
		return [][]byte{streamErrorBody(streamErr)}
	}
	if usage == nil {
		usage = e.usage
	}
	if len(e.cands) == 0 {
		e.cand(0)
	}
	indexes := make([]int, 0, len(e.cands))
	for i := range e.cands {
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	final := generateResponse{UsageMetadata: geminiUsage(usage), ModelVersion: e.model, ResponseID: e.id}
	for _, i := range indexes {
		st := e.cands[i]
		var parts []partOut
		for _, call := range st.order {
			parts = append(parts, callPart(call.id, call.name, call.args.String()))
		}
		if len(parts) == 0 {
			parts = []partOut{textPart("")}
		}
		final.Candidates = append(final.Candidates, candidate{
			Content:      contentOut{Parts: parts, Role: "model"},
			FinishReason: finishReason(st.finish),
			Index:        i,
		})
	}
	return [][]byte{openaiwire.Marshal(&final)}
}

// cand returns the state of choice i, creating it.
func (e *StreamEncoder) cand(i int) *candState {
	st := e.cands[i]
	if st == nil {
		st = &candState{calls: make(map[int]*callState)}
		e.cands[i] = st
	}
	return st
}

// addCall accumulates one tool-call fragment. A fragment whose id
// differs from the call already at its index starts a new call (some
// upstreams send every call with index 0).
func (st *candState) addCall(tc *openaiwire.ToolCallDelta) {
	call := st.calls[tc.Index]
	if call == nil || (tc.ID != "" && call.id != "" && tc.ID != call.id) {
		call = &callState{}
		st.calls[tc.Index] = call
		st.order = append(st.order, call)
	}
	if call.id == "" {
		call.id = tc.ID
	}
	if call.name == "" {
		call.name = tc.Function.Name
	}
	call.args.WriteString(tc.Function.Arguments)
}
