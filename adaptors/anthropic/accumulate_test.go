package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"switchyard/adaptors/sse"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// readPayloads returns the data payloads of an OpenAI stream capture, as
// the transport would hand them to Chunk (the [DONE] marker excluded).
// Each payload is fed while it still aliases the reader's buffer, so the
// tests also prove that the encoder copies what it keeps.
func forEachPayload(t testing.TB, path string, fn func([]byte)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := sse.NewReader(bytes.NewReader(b), 0)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Data) == "[DONE]" {
			continue
		}
		fn(ev.Data)
	}
}

// renderEvents prints events as the client receives them on the wire.
func renderEvents(evs []Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", ev.Name, ev.Data)
	}
	return b.String()
}

// accMessage is a message rebuilt from a stream the way Anthropic's SDKs
// accumulate one (anthropic-sdk-go Message.Accumulate): message_start
// sets the message, blocks are appended by index, deltas append to the
// block at their index, message_delta overwrites stop_reason,
// stop_sequence and every usage count it carries.
type accMessage struct {
	ID, Model    string
	Content      []accBlock
	StopReason   string
	StopSequence *string
	Usage        usageOut
	Error        *errorEnvelope
}

type accBlock struct {
	Type, Text, Thinking, ID, Name string
	Input                          string
}

// accumulate rebuilds the message and checks the stream grammar more
// strictly than the SDK does: message_start first; every event's name is
// its data's type; blocks start at the next index, only when no block is
// open (no interleaving); deltas match their block's kind; message_delta
// comes once with no open block; message_stop is last. An error event
// may come at any point and must be the last event.
func accumulate(evs []Event) (*accMessage, error) {
	var m accMessage
	open := -1
	started, delta, stopped := false, false, false
	for i, ev := range evs {
		if stopped || m.Error != nil {
			return nil, fmt.Errorf("event %d (%s) after the end", i, ev.Name)
		}
		if bytes.ContainsAny(ev.Data, "\r\n") || !json.Valid(ev.Data) {
			return nil, fmt.Errorf("event %d: data is not one line of json: %q", i, ev.Data)
		}
		var head struct {
			Type  string `json:"type"`
			Index *int   `json:"index"`
		}
		if err := json.Unmarshal(ev.Data, &head); err != nil {
			return nil, err
		}
		if head.Type != ev.Name {
			return nil, fmt.Errorf("event %d: name %q but type %q", i, ev.Name, head.Type)
		}
		if ev.Name == EventError {
			var e errorEnvelope
			if err := json.Unmarshal(ev.Data, &e); err != nil {
				return nil, err
			}
			if e.Error.Type == "" || e.Error.Message == "" {
				return nil, fmt.Errorf("empty error event: %s", ev.Data)
			}
			m.Error = &e
			continue
		}
		if !started && ev.Name != EventMessageStart {
			return nil, fmt.Errorf("event %d: %s before message_start", i, ev.Name)
		}
		switch ev.Name {
		case EventMessageStart:
			if started {
				return nil, errors.New("second message_start")
			}
			started = true
			var e struct {
				Message struct {
					ID, Type, Role, Model string
					Content               []json.RawMessage
					StopReason            *string `json:"stop_reason"`
					Usage                 usageOut
				}
			}
			if err := json.Unmarshal(ev.Data, &e); err != nil {
				return nil, err
			}
			msg := e.Message
			if !strings.HasPrefix(msg.ID, "msg_") || msg.Type != "message" || msg.Role != "assistant" || msg.Content == nil || len(msg.Content) != 0 || msg.StopReason != nil {
				return nil, fmt.Errorf("bad message_start: %s", ev.Data)
			}
			m.ID, m.Model, m.Usage = msg.ID, msg.Model, msg.Usage
		case EventPing:
		case EventContentBlockStart:
			if open >= 0 {
				return nil, fmt.Errorf("event %d: block %d starts while block %d is open", i, *head.Index, open)
			}
			if head.Index == nil || *head.Index != len(m.Content) {
				return nil, fmt.Errorf("event %d: block start index %v, want %d", i, head.Index, len(m.Content))
			}
			var e struct {
				ContentBlock struct {
					Type, Text, Thinking, ID, Name string
					Signature                      *string
					Input                          json.RawMessage
				} `json:"content_block"`
			}
			if err := json.Unmarshal(ev.Data, &e); err != nil {
				return nil, err
			}
			cb := e.ContentBlock
			switch cb.Type {
			case "text", "thinking":
				if cb.Text != "" || cb.Thinking != "" {
					return nil, fmt.Errorf("event %d: block starts with content", i)
				}
			case "tool_use":
				if cb.ID == "" || string(cb.Input) != "{}" {
					return nil, fmt.Errorf("event %d: bad tool_use start: %s", i, ev.Data)
				}
			default:
				return nil, fmt.Errorf("event %d: unknown block type %q", i, cb.Type)
			}
			m.Content = append(m.Content, accBlock{Type: cb.Type, ID: cb.ID, Name: cb.Name, Input: string(cb.Input)})
			open = *head.Index
		case EventContentBlockDelta:
			if head.Index == nil || *head.Index != open {
				return nil, fmt.Errorf("event %d: delta for block %v, open is %d", i, head.Index, open)
			}
			var e struct {
				Delta struct {
					Type, Text, Thinking string
					PartialJSON          string `json:"partial_json"`
				}
			}
			if err := json.Unmarshal(ev.Data, &e); err != nil {
				return nil, err
			}
			b := &m.Content[open]
			switch {
			case e.Delta.Type == "text_delta" && b.Type == "text":
				b.Text += e.Delta.Text
			case e.Delta.Type == "thinking_delta" && b.Type == "thinking":
				b.Thinking += e.Delta.Thinking
			case e.Delta.Type == "input_json_delta" && b.Type == "tool_use":
				if e.Delta.PartialJSON != "" {
					if b.Input == "{}" {
						b.Input = ""
					}
					b.Input += e.Delta.PartialJSON
				}
			default:
				return nil, fmt.Errorf("event %d: %s delta in a %s block", i, e.Delta.Type, b.Type)
			}
		case EventContentBlockStop:
			if head.Index == nil || *head.Index != open {
				return nil, fmt.Errorf("event %d: stop for block %v, open is %d", i, head.Index, open)
			}
			open = -1
		case EventMessageDelta:
			if delta || open >= 0 {
				return nil, fmt.Errorf("event %d: message_delta repeated or with block %d open", i, open)
			}
			delta = true
			var e struct {
				Delta struct {
					StopReason   string  `json:"stop_reason"`
					StopSequence *string `json:"stop_sequence"`
				}
				Usage map[string]int
			}
			if err := json.Unmarshal(ev.Data, &e); err != nil {
				return nil, err
			}
			m.StopReason, m.StopSequence = e.Delta.StopReason, e.Delta.StopSequence
			for k, v := range e.Usage {
				switch k {
				case "input_tokens":
					m.Usage.InputTokens = v
				case "output_tokens":
					m.Usage.OutputTokens = v
				case "cache_read_input_tokens":
					m.Usage.CacheReadInputTokens = v
				case "cache_creation_input_tokens":
					m.Usage.CacheCreationInputTokens = v
				}
			}
		case EventMessageStop:
			if !delta {
				return nil, errors.New("message_stop before message_delta")
			}
			stopped = true
		default:
			return nil, fmt.Errorf("event %d: unknown event %q", i, ev.Name)
		}
	}
	if m.Error == nil && !stopped {
		return nil, errors.New("stream did not end with message_stop or error")
	}
	return &m, nil
}
