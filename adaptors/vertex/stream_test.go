package vertex

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// TestStreamGolden decodes each stream of testdata/stream with the
// decoder the model chooses and keeps the client events.
func TestStreamGolden(t *testing.T) {
	tests := []struct {
		name, file, model string
		includeUsage      bool
	}{
		{"gemini_text", "gemini_text", "gemini-2.5-flash", true},
		{"gemini_text_hidden_usage", "gemini_text", "gemini-2.5-flash", false},
		{"gemini_tool", "gemini_tool", "gemini-2.5-pro", true},
		{"gemini_truncated", "gemini_truncated", "gemini-2.5-flash", true},
		{"claude_text", "claude_text", "claude-sonnet-4-5-20250929", true},
		{"claude_tool", "claude_tool", "claude-opus-4-6", false},
		{"claude_error", "claude_error", "claude-sonnet-4-5@20250929", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/stream/"+tt.file+".sse")
			d := New().NewStreamDecoder(chatReq(tt.model, true, tt.includeUsage), bytes.NewReader(body))
			evs, err := drain(t, d)
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", renderStream(evs, err), *update)
		})
	}
}

// TestStreamEnds: the end each stream must have.
func TestStreamEnds(t *testing.T) {
	tests := []struct {
		file, model string
		check       func(error) bool
	}{
		{"gemini_text", "gemini-2.5-flash", func(err error) bool { return err == io.EOF }},
		{"gemini_truncated", "gemini-2.5-flash", func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"claude_text", "claude-opus-4-6", func(err error) bool { return err == io.EOF }},
		{"claude_error", "claude-opus-4-6", func(err error) bool {
			var se *schema.Error
			return errors.As(err, &se) && se.Status == 529 && se.Type == "overloaded_error"
		}},
	}
	for _, tt := range tests {
		body := adaptortest.ReadFile(t, "testdata/stream/"+tt.file+".sse")
		d := New().NewStreamDecoder(chatReq(tt.model, true, false), bytes.NewReader(body))
		_, err := drain(t, d)
		if !tt.check(err) {
			t.Errorf("%s: ended with %v", tt.file, err)
		}
		// Claude's stream cut before message_stop.
		if tt.file == "claude_text" {
			cut := body[:bytes.LastIndex(body, []byte("event: message_stop"))]
			if _, err := drain(t, New().NewStreamDecoder(chatReq(tt.model, true, false), bytes.NewReader(cut))); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("truncated Claude stream ended with %v", err)
			}
		}
	}
}

// TestStreamDecoderChoice: the same bytes mean different things to the
// two decoders; the model decides which one reads them.
func TestStreamDecoderChoice(t *testing.T) {
	gem := adaptortest.ReadFile(t, "testdata/stream/gemini_text.sse")
	if _, err := drain(t, New().NewStreamDecoder(chatReq("claude-opus-4-6", true, false), bytes.NewReader(gem))); err == io.EOF {
		t.Error("a Gemini stream read as Claude's ended normally")
	}
	if _, err := drain(t, New().NewStreamDecoder(chatReq("gemini-2.5-flash", true, false), bytes.NewReader(gem))); err != io.EOF {
		t.Errorf("Gemini stream: %v", err)
	}
	var _ adaptors.StreamDecoder = New().NewStreamDecoder(chatReq("Claude-3-Haiku@20240307", true, false), bytes.NewReader(nil))
}
