package bedrock

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/bedrock/bedrocktest"
	"switchyard/adaptors/schema"
)

type streamCase struct {
	name, file, model string
	includeUsage      bool
}

func streamCases() []streamCase {
	return []streamCase{
		{"converse_text", "converse_text", "amazon.nova-lite-v1:0", true},
		{"converse_text_hide_usage", "converse_text", "amazon.nova-lite-v1:0", false},
		{"converse_reasoning_cache", "converse_reasoning_cache", "us.deepseek.r1-v1:0", true},
		{"converse_tool", "converse_tool", "mistral.mistral-large-2407-v1:0", true},
		{"converse_throttled", "converse_throttled", "amazon.nova-lite-v1:0", true},
		{"converse_truncated", "converse_truncated", "amazon.nova-lite-v1:0", true},
		{"converse_model_error", "converse_model_error", "meta.llama3-3-70b-instruct-v1:0", true},
		{"claude_text", "claude_text", "claude-3-haiku-20240307", true},
		{"claude_tool", "claude_tool", "claude-sonnet-4-5-20250929", true},
		{"claude_exception", "claude_exception", "claude-3-haiku-20240307", true},
	}
}

func streamRequest(model string, includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Stream: true, IncludeUsage: includeUsage, Created: 1755163812}
}

func TestStreamGolden(t *testing.T) {
	a := New(Options{})
	for _, c := range streamCases() {
		t.Run(c.name, func(t *testing.T) {
			d := a.NewStreamDecoder(streamRequest(c.model, c.includeUsage), bytes.NewReader(readStream(t, c.file)))
			evs, err := drain(t, d)
			adaptortest.Golden(t, "testdata/stream/"+c.name+".golden", renderStream(evs, err), *update)
			if _, again := d.Next(); !errors.Is(again, err) && again != err {
				t.Errorf("Next after the end = %v, want %v again", again, err)
			}
		})
	}
}

// TestStreamOneByteReads decodes every fixture through a reader that
// returns one byte at a time: framing must not depend on read sizes.
func TestStreamOneByteReads(t *testing.T) {
	a := New(Options{})
	for _, c := range streamCases() {
		whole, errWhole := drain(t, a.NewStreamDecoder(streamRequest(c.model, true), bytes.NewReader(readStream(t, c.file))))
		bytewise, errByte := drain(t, a.NewStreamDecoder(streamRequest(c.model, true), iotest.OneByteReader(bytes.NewReader(readStream(t, c.file)))))
		if diff := cmp.Diff(renderStream(whole, errWhole), renderStream(bytewise, errByte)); diff != "" {
			t.Errorf("%s (-whole +one byte at a time):\n%s", c.name, diff)
		}
	}
}

func TestStreamErrors(t *testing.T) {
	a := New(Options{})
	text := readStream(t, "converse_text")
	corrupt := bytes.Clone(text)
	corrupt[40] ^= 0xff // inside the first message's headers: message CRC fails
	badPrelude := bytes.Clone(text)
	badPrelude[2] ^= 0x01 // total length: prelude CRC fails
	tests := []struct {
		name  string
		model string
		body  []byte
		check func(error) bool
	}{
		{"empty", "amazon.nova-lite-v1:0", nil, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"cut_mid_message", "amazon.nova-lite-v1:0", text[:len(text)-7], func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"message_crc", "amazon.nova-lite-v1:0", corrupt, func(err error) bool { return errors.Is(err, adaptors.ErrInvalidResponse) }},
		{"prelude_crc", "amazon.nova-lite-v1:0", badPrelude, func(err error) bool { return errors.Is(err, adaptors.ErrInvalidResponse) }},
		{"read_error", "amazon.nova-lite-v1:0", nil, func(err error) bool { return errors.Is(err, iotest.ErrTimeout) }},
		{"sse_body", "amazon.nova-lite-v1:0", []byte("data: {\"choices\":[]}\n\n"), func(err error) bool { return errors.Is(err, adaptors.ErrInvalidResponse) }},
		{"unknown_message_type", "amazon.nova-lite-v1:0", bedrocktest.Frame([]bedrocktest.Header{{Name: ":message-type", Value: "gossip"}}, nil),
			func(err error) bool { return errors.Is(err, adaptors.ErrInvalidResponse) }},
		{"error_message", "amazon.nova-lite-v1:0", bedrocktest.Frame([]bedrocktest.Header{{Name: ":message-type", Value: "error"}, {Name: ":error-code", Value: "InternalFailure"}, {Name: ":error-message", Value: "boom"}}, nil),
			func(err error) bool {
				var se *schema.Error
				return errors.As(err, &se) && se.Status == 500 && se.Message == "boom" && se.Code == "InternalFailure"
			}},
		{"payload_not_json", "amazon.nova-lite-v1:0", bedrocktest.EventFrame("contentBlockDelta", []byte("{oops")),
			func(err error) bool { return errors.Is(err, adaptors.ErrInvalidResponse) }},
		{"block_index_out_of_range", "amazon.nova-lite-v1:0", bedrocktest.EventFrame("contentBlockStart", []byte(`{"contentBlockIndex":99999,"start":{"toolUse":{"toolUseId":"t","name":"f"}}}`)),
			func(err error) bool { return errors.Is(err, adaptors.ErrInvalidResponse) }},
		{"claude_bad_base64", "claude-3-haiku-20240307", bedrocktest.EventFrame("chunk", []byte(`{"bytes":"!!!"}`)),
			func(err error) bool { return errors.Is(err, adaptors.ErrInvalidResponse) }},
		{"claude_not_a_chunk", "claude-3-haiku-20240307", bedrocktest.EventFrame("chunk", []byte(`{"p":"abc"}`)),
			func(err error) bool { return errors.Is(err, adaptors.ErrInvalidResponse) }},
		{"claude_truncated", "claude-3-haiku-20240307", readStream(t, "claude_text")[:1200],
			func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tt.body)
			if tt.name == "read_error" {
				r = io.MultiReader(bytes.NewReader(text[:5]), iotest.ErrReader(iotest.ErrTimeout))
			}
			d := a.NewStreamDecoder(streamRequest(tt.model, true), r)
			_, err := drain(t, d)
			if err == io.EOF || !tt.check(err) {
				t.Errorf("error %v (%T)", err, err)
			}
			if _, again := d.Next(); again != err {
				t.Errorf("Next after an error = %v, want the same error", again)
			}
		})
	}
}

// TestStreamTrailerIgnored: nothing after the metadata event (or after
// message_stop) is read or emitted.
func TestStreamTrailerIgnored(t *testing.T) {
	a := New(Options{})
	for _, c := range []struct{ file, model string }{{"converse_text", "amazon.nova-lite-v1:0"}, {"claude_text", "claude-3-haiku-20240307"}} {
		body := append(readStream(t, c.file), bedrocktest.EventFrame("contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":"LEAK"}}`))...)
		body = append(body, "garbage that is not a frame"...)
		evs, err := drain(t, a.NewStreamDecoder(streamRequest(c.model, true), bytes.NewReader(body)))
		if err != io.EOF {
			t.Fatalf("%s: %v", c.file, err)
		}
		for _, ev := range evs {
			if bytes.Contains(ev.Data, []byte("LEAK")) {
				t.Errorf("%s: trailer leaked: %s", c.file, ev.Data)
			}
		}
	}
}
