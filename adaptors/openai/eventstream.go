package openai

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
	"switchyard/adaptors/sse"
)

// The event decoder: streams whose payloads are typed events
// ({"type":"…",…}) rather than chat.completion.chunk objects.
//
//   - Responses API (POST /v1/responses, stream: true): every event is
//     named twice, by an `event:` line and by its "type". The stream has
//     no [DONE]; it ends with response.completed or response.incomplete
//     (whose "response" carries the usage), or fails with response.failed
//     or an `error` event.
//   - Streamed transcriptions (stream=true) and speech (stream_format
//     "sse"): data-only events; transcript.text.done and speech.audio.done
//     end them and carry the usage.
//   - Streamed image generations and edits: image_generation.* and
//     image_edit.* events, relayed; images are billed per image, so their
//     usage is not reported (as for non-stream image answers).
//
// Every event is relayed byte for byte with its upstream event name
// (StreamEvent.Event). Each payload is decoded once, into eventWire, for
// its type, usage, text delta and errors. The stream ends (io.EOF) after a
// terminal event, at a `data: [DONE]` that an OpenAI-compatible upstream
// may add, or at a clean EOF; whatever follows a terminal event is not
// relayed.

// eventWire picks out of a typed event what the gateway needs.
// String and raw fields alias the payload and are used only while it is
// being converted.
type eventWire struct {
	Type  string                 `json:"type"`
	Delta sonic.NoCopyRawMessage `json:"delta"`
	// Usage is where transcript.text.done and speech.audio.done report it.
	Usage *usageWire `json:"usage"`
	// Response is the Response object of response.completed, .incomplete
	// and .failed.
	Response struct {
		Usage *usageWire             `json:"usage"`
		Error sonic.NoCopyRawMessage `json:"error"`
	} `json:"response"`
	Error    sonic.NoCopyRawMessage `json:"error"`
	BaseResp *baseResp              `json:"base_resp"`
}

// isTextDelta reports whether events of type typ carry generated text in
// "delta" (output text, refusals, reasoning, tool-call arguments and code,
// audio transcripts), which TextBytes counts. Audio deltas (base64) and
// events that repeat finished text (*.done) are not counted.
func isTextDelta(typ string) bool {
	switch typ {
	case "response.output_text.delta",
		"response.refusal.delta",
		"response.reasoning_text.delta",
		"response.reasoning_summary_text.delta",
		"response.function_call_arguments.delta",
		"response.custom_tool_call_input.delta",
		"response.mcp_call_arguments.delta",
		"response.code_interpreter_call_code.delta",
		"response.audio.transcript.delta",
		"transcript.text.delta":
		return true
	}
	return false
}

// eventDecoder turns a typed-event SSE body into adaptors.StreamEvents.
type eventDecoder struct {
	a   *Adaptor
	r   *sse.Reader
	dec jsonDecoder
	w   eventWire // reused, so decoding does not allocate per event
	err error     // sticky: io.EOF, *schema.Error, or a read error
}

func newEventDecoder(a *Adaptor, body io.Reader) *eventDecoder {
	return &eventDecoder{a: a, r: sse.NewReader(body, 0), dec: newJSONDecoder(true)}
}

// Next implements adaptors.StreamDecoder.
func (d *eventDecoder) Next() (adaptors.StreamEvent, error) {
	if d.err != nil {
		return adaptors.StreamEvent{}, d.err
	}
	for {
		ev, err := d.r.Next()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("%s: read stream: %w", d.a.cfg.Name, err)
			}
			d.err = err
			return adaptors.StreamEvent{}, err
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 {
			continue // empty keep-alive event
		}
		if string(data) == doneMarker {
			d.err = io.EOF
			return adaptors.StreamEvent{}, io.EOF
		}
		out, keep, err := d.event(ev.Event, data)
		if err != nil {
			d.err = err
			return adaptors.StreamEvent{}, err
		}
		if keep {
			return out, nil
		}
	}
}

// event converts one event. keep is false for an event that surfaces
// nothing. On a terminal event it sets d.err so that the next call ends
// the stream.
func (d *eventDecoder) event(name string, data []byte) (ev adaptors.StreamEvent, keep bool, err error) {
	if name == "error" {
		// Checked before parsing: an error event is an error whatever its
		// payload looks like.
		return ev, false, eventError(data)
	}
	d.w = eventWire{}
	w := &d.w
	if !isObject(data) || d.dec.decode(data, w) != nil {
		// Unparsable: relay untouched, as the chat decoder does.
		return adaptors.StreamEvent{Event: name, Data: clone(data)}, true, nil
	}
	typ := w.Type
	if typ == "" {
		typ = name
	}
	switch {
	case typ == "error":
		return ev, false, eventError(data)
	case typ == "response.failed":
		se := failedError(w.Response.Error)
		if u := w.Response.Usage.usage(); u != nil {
			// Report what the failed response consumed first; the error
			// follows on the next call.
			d.err = se
			return adaptors.StreamEvent{Usage: u}, true, nil
		}
		return ev, false, se
	}
	if e := d.a.embeddedError(data, w.Error, w.BaseResp); e != nil {
		return ev, false, e
	}
	ev = adaptors.StreamEvent{Event: name, Data: clone(data)}
	switch typ {
	case "response.completed", "response.incomplete":
		ev.Usage = w.Response.Usage.usage()
		d.err = io.EOF
	case "transcript.text.done", "speech.audio.done":
		ev.Usage = w.Usage.usage()
		d.err = io.EOF
	default:
		if isTextDelta(typ) {
			ev.TextBytes = rawTextLen(w.Delta)
		}
	}
	return ev, true, nil
}

// eventError maps an `error` event. OpenAI documents its payload flat
// ({"type":"error","code","message","param"}) and also sends it with the
// error object nested ({"type":"error","error":{…}}); parseError reads
// both. In the flat shape "type" is the event's discriminator, not an
// error type, so it is replaced.
func eventError(data []byte) *schema.Error {
	e := parseError(http.StatusBadGateway, data)
	if e.Type == "error" {
		e.Type = typeUpstream
	}
	return e
}

// failedError maps the error object ({code, message}) of a
// response.failed event's response.
func failedError(raw []byte) *schema.Error {
	e := &schema.Error{Status: http.StatusBadGateway, Type: typeUpstream}
	var obj errorObject
	if len(raw) > 0 && raw[0] == '{' && decodeJSON(raw, &obj) == nil {
		e.Message = text(obj.Message)
		e.Code = scalar(obj.Code)
		if t := text(obj.Type); t != "" {
			e.Type = t
		}
	}
	if e.Message == "" {
		e.Message = "the upstream response failed"
	}
	return e
}
