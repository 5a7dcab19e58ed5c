package bedrock

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/anthropic"
)

// Claude on Bedrock is called through InvokeModel and
// InvokeModelWithResponseStream with the Anthropic Messages body, minus
// model (in the path) and stream (the endpoint decides), plus
// anthropic_version "bedrock-2023-05-31" and, for beta features, an
// anthropic_beta array in place of the anthropic-beta header
// (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html).
// The answer is the Messages API's Message; the stream is an event stream
// of "chunk" events whose payload {"bytes":…} is the base64 of one
// Messages stream event's JSON (message_stop also carries
// "amazon-bedrock-invocationMetrics", which the usage already reported by
// message_start and message_delta makes redundant).

// bedrockVersion is the anthropic_version Bedrock requires.
const bedrockVersion = "bedrock-2023-05-31"

// claudeBody builds the InvokeModel body for req.
func claudeBody(ch *adaptors.Channel, req *adaptors.Request) ([]byte, error) {
	body, err := anthropic.BuildBody(req, anthropic.BodyOptions{
		Version:    bedrockVersion,
		OmitModel:  true,
		OmitStream: true,
		MaxTokens:  configInt(ch.Config["max_tokens"]),
	})
	if err != nil {
		return nil, err
	}
	return withBetas(body, req.Passthrough), nil
}

// withBetas adds the client's anthropic-beta header values to body as
// the anthropic_beta member Bedrock reads them from.
func withBetas(body []byte, hs []adaptors.Header) []byte {
	var betas []string
	for _, h := range hs {
		if !strings.EqualFold(h.Key, "anthropic-beta") {
			continue
		}
		for v := range strings.SplitSeq(h.Value, ",") {
			if v = strings.TrimSpace(v); v != "" {
				betas = append(betas, v)
			}
		}
	}
	if len(betas) == 0 || len(body) < 2 || body[0] != '{' {
		return body
	}
	out := make([]byte, 0, len(body)+32*len(betas))
	out = append(out, `{"anthropic_beta":[`...)
	for i, b := range betas {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, b)
	}
	out = append(out, ']')
	if rest := body[1:]; len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[1:]...)
}

// configInt reads a positive integer setting; 0 when unset or invalid.
func configInt(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// chunkPayload is the payload of a "chunk" event (PayloadPart).
type chunkPayload struct {
	Bytes sonic.NoCopyRawMessage `json:"bytes"`
}

// claudeStream converts an InvokeModelWithResponseStream body of a Claude
// model: it unwraps each chunk and hands the Anthropic event inside to
// anthropic's EventDecoder, which makes the client's chunks.
type claudeStream struct {
	fr      *frameReader
	dec     jsonDecoder
	ed      *anthropic.EventDecoder
	p       chunkPayload
	event   []byte // decoded event JSON, reused
	pending []adaptors.StreamEvent
	next    int
	err     error // sticky: io.EOF, *schema.Error, or a read/format error
}

func newClaudeStream(req *adaptors.Request, body io.Reader) *claudeStream {
	return &claudeStream{fr: newFrameReader(body), dec: newJSONDecoder(), ed: anthropic.NewEventDecoder(req)}
}

// errClaudeTruncated marks a Claude stream that ended before message_stop.
var errClaudeTruncated = fmt.Errorf("bedrock: stream ended before message_stop: %w", io.ErrUnexpectedEOF)

// Next implements adaptors.StreamDecoder.
func (d *claudeStream) Next() (adaptors.StreamEvent, error) {
	for {
		if d.next < len(d.pending) {
			ev := d.pending[d.next]
			d.next++
			return ev, nil
		}
		if d.err != nil {
			return adaptors.StreamEvent{}, d.err
		}
		d.pending, d.next = d.pending[:0], 0
		f, err := d.fr.next()
		if err != nil {
			switch {
			case err == io.EOF:
				err = errClaudeTruncated
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

// frame converts one event-stream message into d.pending; io.EOF once
// the Anthropic stream is complete.
func (d *claudeStream) frame(f *frame) error {
	switch string(f.MessageType) {
	case "event":
	case "exception":
		return streamError(string(f.ExceptionType), f.Payload)
	case "error":
		return frameError(f)
	default:
		return fmt.Errorf("bedrock: %w: event-stream message type %q", adaptors.ErrInvalidResponse, f.MessageType)
	}
	if string(f.EventType) != "chunk" {
		return nil // an event type added later
	}
	d.p = chunkPayload{}
	if !isObject(f.Payload) || d.dec.decode(f.Payload, &d.p) != nil || !isString(d.p.Bytes) {
		return fmt.Errorf("bedrock: %w: chunk payload is not {\"bytes\":…}", adaptors.ErrInvalidResponse)
	}
	// The base64 alphabet needs no JSON escapes; one that has them is not
	// base64.
	b64 := d.p.Bytes[1 : len(d.p.Bytes)-1]
	n := base64.StdEncoding.DecodedLen(len(b64))
	if cap(d.event) < n {
		d.event = make([]byte, n)
	}
	m, err := base64.StdEncoding.Decode(d.event[:n], b64)
	if err != nil {
		return fmt.Errorf("bedrock: %w: chunk bytes: %v", adaptors.ErrInvalidResponse, err)
	}
	evs, done, err := d.ed.Decode(d.event[:m])
	if err != nil {
		return err
	}
	d.pending = append(d.pending, evs...)
	if done {
		return io.EOF
	}
	return nil
}
