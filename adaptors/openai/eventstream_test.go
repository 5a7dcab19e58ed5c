package openai

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// renderEvents prints decoded typed events for golden files: the event
// name, then what renderStream prints.
func renderEvents(evs []adaptors.StreamEvent, err error) []byte {
	var b strings.Builder
	for i, ev := range evs {
		data := "(hidden)"
		if ev.Data != nil {
			data = string(ev.Data)
		}
		fmt.Fprintf(&b, "#%d event=%q text=%d usage=%s\n  %s\n", i, ev.Event, ev.TextBytes, renderUsage(ev.Usage), data)
	}
	var se *schema.Error
	switch {
	case err == io.EOF:
		b.WriteString("end: io.EOF\n")
	case errors.As(err, &se):
		fmt.Fprintf(&b, "end: *schema.Error %+v\n", *se)
	default:
		fmt.Fprintf(&b, "end: error %v\n", err)
	}
	return []byte(b.String())
}

type eventCase struct {
	name string
	file string // under testdata/stream
	mode adaptors.Mode
}

func eventCases() []eventCase {
	return []eventCase{
		{"responses", "responses.sse", adaptors.ModeResponses},
		{"responses_reasoning_tool", "responses_reasoning_tool.sse", adaptors.ModeResponses},
		{"responses_incomplete", "responses_incomplete.sse", adaptors.ModeResponses},
		{"responses_failed", "responses_failed.sse", adaptors.ModeResponses},
		{"responses_failed_usage", "responses_failed_usage.sse", adaptors.ModeResponses},
		{"responses_error_event", "responses_error_event.sse", adaptors.ModeResponses},
		{"responses_error_nested", "responses_error_nested.sse", adaptors.ModeResponses},
		{"responses_truncated", "responses_truncated.sse", adaptors.ModeResponses},
		{"responses_chat_error_event", "error_event.sse", adaptors.ModeResponses},
		{"responses_unparsable", "unparsable.sse", adaptors.ModeResponses},
		{"responses_keepalive", "keepalive.sse", adaptors.ModeResponses},
		{"transcription_stream", "transcription_stream.sse", adaptors.ModeAudioTranscriptions},
		{"speech_stream", "speech_stream.sse", adaptors.ModeAudioSpeech},
		{"images_stream", "images_stream.sse", adaptors.ModeImagesGenerations},
	}
}

func TestEventStreamGolden(t *testing.T) {
	a := New(OpenAIConfig())
	for _, tt := range eventCases() {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			req := &adaptors.Request{Mode: tt.mode, Stream: true}
			evs, err := drain(t, a.NewStreamDecoder(req, bytes.NewReader(in)))
			got := renderEvents(evs, err)
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", got, *update)

			// Reading the body one byte at a time must not change anything.
			evs2, err2 := drain(t, a.NewStreamDecoder(req, iotest.OneByteReader(bytes.NewReader(in))))
			if diff := cmp.Diff(string(got), string(renderEvents(evs2, err2))); diff != "" {
				t.Errorf("one-byte reads differ:\n%s", diff)
			}
		})
	}
}

// TestEventStreamInvariants checks the relay contract on every capture:
// relayed payloads are the upstream's bytes with the upstream's event
// name, the decoder is sticky after its end, and nothing after a terminal
// event reaches the client.
func TestEventStreamInvariants(t *testing.T) {
	a := New(OpenAIConfig())
	leak := "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"LEAK\"}\n\ndata: [DONE]\n\n"
	for _, tt := range eventCases() {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			in = append(bytes.Clone(in), leak...)
			d := a.NewStreamDecoder(&adaptors.Request{Mode: tt.mode, Stream: true}, bytes.NewReader(in))
			evs, err := drain(t, d)
			if _, again := d.Next(); again != err {
				t.Errorf("not sticky: %v then %v", err, again)
			}
			terminated := false
			for _, ev := range evs {
				if ev.Data == nil {
					if ev.Event != "" {
						t.Errorf("hidden event with a name: %+v", ev)
					}
					continue
				}
				// Each line of a (possibly multi-line) payload is upstream
				// bytes.
				for _, line := range bytes.Split(ev.Data, []byte("\n")) {
					if !bytes.Contains(in, line) {
						t.Errorf("relayed payload is not upstream bytes: %s", ev.Data)
					}
				}
				if ev.Event != "" && !bytes.Contains(in, []byte("event: "+ev.Event+"\n")) {
					t.Errorf("event name %q is not the upstream's", ev.Event)
				}
				if bytes.Contains(ev.Data, []byte("LEAK")) {
					terminated = true
				}
			}
			// Streams that end with a terminal event must not relay what
			// follows it; the others (truncated, keep-alive only) reach the
			// trailer, which is the test's own data.
			endsWithTerminal := bytes.Contains(in, []byte(`"type":"response.completed"`)) ||
				bytes.Contains(in, []byte(`"type":"response.incomplete"`)) ||
				bytes.Contains(in, []byte(`"type":"transcript.text.done"`)) ||
				bytes.Contains(in, []byte(`"type":"speech.audio.done"`))
			if endsWithTerminal && terminated {
				t.Errorf("data after the terminal event reached the client")
			}
		})
	}
}

func TestEventStreamValues(t *testing.T) {
	tests := []struct {
		file      string
		mode      adaptors.Mode
		wantUsage *adaptors.Usage
		wantText  int // total TextBytes
		wantShown int // events with Data
		wantErr   error
	}{
		// "Hi there! How can I assist you today?" = 37 bytes of deltas.
		{"responses.sse", adaptors.ModeResponses, &adaptors.Usage{PromptTokens: 37, CompletionTokens: 11, TotalTokens: 48}, 37, 18, io.EOF},
		// 92 bytes of reasoning summary deltas + {"location":"Paris, France"} (28).
		{"responses_reasoning_tool.sse", adaptors.ModeResponses, &adaptors.Usage{PromptTokens: 312, CompletionTokens: 151, TotalTokens: 463, CachedTokens: 256, ReasoningTokens: 128}, 92 + 28, 21, io.EOF},
		{"responses_incomplete.sse", adaptors.ModeResponses, &adaptors.Usage{PromptTokens: 37, CompletionTokens: 10, TotalTokens: 47}, 37, 18, io.EOF},
		// Cut in the sixth delta: "Hi"+" there"+"!"+" How"+" can" = 17
		// bytes, no usage; the cut payload is relayed as it came (as the
		// chat decoder relays what it cannot parse).
		{"responses_truncated.sse", adaptors.ModeResponses, nil, 17, 10, io.EOF},
		{"responses_failed_usage.sse", adaptors.ModeResponses, &adaptors.Usage{PromptTokens: 37, CompletionTokens: 6, TotalTokens: 43}, 37, 14, &schema.Error{}},
		// "I see skies of blue and clouds of white." = 40 bytes.
		{"transcription_stream.sse", adaptors.ModeAudioTranscriptions, &adaptors.Usage{PromptTokens: 14, CompletionTokens: 11, TotalTokens: 25}, 40, 11, io.EOF},
		{"speech_stream.sse", adaptors.ModeAudioSpeech, &adaptors.Usage{PromptTokens: 14, CompletionTokens: 101, TotalTokens: 115}, 0, 3, io.EOF},
		// Images are billed per image: the completed event's usage is not reported.
		{"images_stream.sse", adaptors.ModeImagesGenerations, nil, 0, 2, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d := New(OpenAIConfig()).NewStreamDecoder(&adaptors.Request{Mode: tt.mode, Stream: true}, bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/"+tt.file)))
			evs, err := drain(t, d)
			var se *schema.Error
			if _, wantSchema := tt.wantErr.(*schema.Error); wantSchema && !errors.As(err, &se) || !wantSchema && err != tt.wantErr {
				t.Fatalf("end = %v, want %T %v", err, tt.wantErr, tt.wantErr)
			}
			var usage *adaptors.Usage
			text, shown := 0, 0
			for _, ev := range evs {
				if ev.Usage != nil {
					usage = ev.Usage
				}
				text += ev.TextBytes
				if ev.Data != nil {
					shown++
				}
			}
			if diff := cmp.Diff(tt.wantUsage, usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			if text != tt.wantText {
				t.Errorf("TextBytes = %d, want %d", text, tt.wantText)
			}
			if shown != tt.wantShown {
				t.Errorf("shown events = %d, want %d", shown, tt.wantShown)
			}
		})
	}
}

func TestEventStreamErrors(t *testing.T) {
	tests := []struct {
		file string
		want schema.Error
	}{
		{"responses_failed.sse", schema.Error{Status: 502, Message: "The model failed to generate a response.", Type: "upstream_error", Code: "server_error"}},
		{"responses_failed_usage.sse", schema.Error{Status: 502, Message: "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 30000, Requested 37.", Type: "upstream_error", Code: "rate_limit_exceeded"}},
		{"responses_error_event.sse", schema.Error{Status: 502, Message: "Something went wrong", Type: "upstream_error", Code: "ERR_SOMETHING"}},
		{"responses_error_nested.sse", schema.Error{Status: 502, Message: "Your input exceeds the context window of this model. Please adjust your input and try again.", Type: "invalid_request_error", Code: "context_length_exceeded", Param: "input"}},
		{"error_event.sse", schema.Error{Status: 502, Message: "The server had an error processing your request.", Type: "server_error", Code: "internal_error"}},
		{"error_chunk.sse", schema.Error{Status: 502, Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error"}},
	}
	for _, tt := range tests {
		d := New(OpenAIConfig()).NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeResponses, Stream: true}, bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/"+tt.file)))
		_, err := drain(t, d)
		var se *schema.Error
		if !errors.As(err, &se) {
			t.Fatalf("%s: err = %v, want *schema.Error", tt.file, err)
		}
		if diff := cmp.Diff(tt.want, *se); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
	// An error event whose payload is not JSON is still an error.
	d := New(OpenAIConfig()).NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeResponses, Stream: true}, strings.NewReader("event: error\ndata: upstream overloaded\n\n"))
	var se *schema.Error
	if _, err := drain(t, d); !errors.As(err, &se) || se.Message == "" {
		t.Errorf("non-JSON error event: %v", err)
	}
}

func TestEventStreamReadError(t *testing.T) {
	boom := errors.New("connection reset by peer")
	body := io.MultiReader(strings.NewReader("event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"ab\"}\n\nevent: response.output_text.delta\ndata: {\"ty"), iotest.ErrReader(boom))
	d := New(OpenAIConfig()).NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeResponses, Stream: true}, body)
	evs, err := drain(t, d)
	if len(evs) != 1 || evs[0].TextBytes != 2 || evs[0].Event != "response.output_text.delta" {
		t.Errorf("events before the failure: %+v", evs)
	}
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want wrapping %v", err, boom)
	}
	var se *schema.Error
	if errors.As(err, &se) {
		t.Errorf("a read failure must not look like an upstream error event")
	}
}

// FuzzResponsesStreamDecoder: garbage and truncated input never panics or
// hangs, the decoder always ends with an error (io.EOF at the least), and
// whatever it relays comes from the input.
func FuzzResponsesStreamDecoder(f *testing.F) {
	for _, tc := range eventCases() {
		if b, err := readTestdata("testdata/stream/" + tc.file); err == nil {
			f.Add(b)
			f.Add(b[:len(b)/2])
		}
	}
	a := New(OpenAIConfig())
	f.Fuzz(func(t *testing.T, in []byte) {
		d := a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeResponses, Stream: true}, bytes.NewReader(in))
		evs, err := drain(t, d)
		if err == nil {
			t.Fatal("decoder ended without an error")
		}
		if _, again := d.Next(); again != err {
			t.Fatalf("not sticky: %v then %v", err, again)
		}
		for _, ev := range evs {
			if ev.TextBytes < 0 {
				t.Fatalf("negative TextBytes")
			}
			for _, line := range bytes.Split(ev.Data, []byte("\n")) {
				if ev.Data != nil && !bytes.Contains(in, line) {
					t.Fatalf("payload not from the input: %q", ev.Data)
				}
			}
			if ev.Event != "" && !bytes.Contains(in, []byte(ev.Event)) {
				t.Fatalf("event name not from the input: %q", ev.Event)
			}
		}
		var se *schema.Error
		if errors.As(err, &se) && (se.Message == "" || se.Type == "") {
			t.Fatalf("empty error fields: %+v", *se)
		}
	})
}

func BenchmarkResponsesStreamDecode(b *testing.B) {
	a := New(OpenAIConfig())
	body := adaptortest.ReadFile(b, "testdata/stream/responses.sse")
	req := &adaptors.Request{Mode: adaptors.ModeResponses, Stream: true}
	r := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(body)
		d := a.NewStreamDecoder(req, r)
		for {
			if _, err := d.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
