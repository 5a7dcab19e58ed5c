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

// drain runs a decoder to its end, with a guard against decoders that
// never end.
func drain(t testing.TB, d adaptors.StreamDecoder) ([]adaptors.StreamEvent, error) {
	t.Helper()
	var evs []adaptors.StreamEvent
	for range 100000 {
		ev, err := d.Next()
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	t.Fatal("decoder did not end")
	return nil, nil
}

// renderStream prints decoded events for golden files.
func renderStream(evs []adaptors.StreamEvent, err error) []byte {
	var b strings.Builder
	for i, ev := range evs {
		data := "(hidden)"
		if ev.Data != nil {
			data = string(ev.Data)
		}
		fmt.Fprintf(&b, "#%d text=%d usage=%s\n  %s\n", i, ev.TextBytes, renderUsage(ev.Usage), data)
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

type streamCase struct {
	name         string
	file         string
	mode         adaptors.Mode
	includeUsage bool
	cfg          *Config
}

func streamCases() []streamCase {
	groq := Config{Name: "groq", BaseURL: "https://api.groq.com/openai", ChatPath: "/v1/chat/completions", GroqUsage: true}
	return []streamCase{
		{"chat_hide_usage", "chat.sse", adaptors.ModeChat, false, nil},
		{"chat_show_usage", "chat.sse", adaptors.ModeChat, true, nil},
		{"chat_crlf", "chat_crlf.sse", adaptors.ModeChat, true, nil},
		{"chat_no_done", "chat_no_done.sse", adaptors.ModeChat, false, nil},
		{"tool_call", "chat_tool_call.sse", adaptors.ModeChat, false, nil},
		{"azure_content_filter", "azure_content_filter.sse", adaptors.ModeChat, false, nil},
		{"completions", "completions.sse", adaptors.ModeCompletions, true, nil},
		{"deepseek_reasoning", "deepseek_reasoning.sse", adaptors.ModeChat, false, nil},
		{"groq_x_groq_usage", "groq_x_groq_usage.sse", adaptors.ModeChat, false, &groq},
		{"openrouter_midstream_error", "openrouter_midstream_error.sse", adaptors.ModeChat, false, nil},
		{"error_chunk", "error_chunk.sse", adaptors.ModeChat, false, nil},
		{"error_event", "error_event.sse", adaptors.ModeChat, false, nil},
		{"unparsable", "unparsable.sse", adaptors.ModeChat, false, nil},
		{"after_done", "after_done.sse", adaptors.ModeChat, false, nil},
		{"empty", "empty.sse", adaptors.ModeChat, false, nil},
		{"keepalive", "keepalive.sse", adaptors.ModeChat, false, nil},
	}
}

func (c streamCase) adaptor() adaptors.Adaptor {
	if c.cfg != nil {
		return New(*c.cfg)
	}
	return New(OpenAIConfig())
}

func TestStreamGolden(t *testing.T) {
	for _, tt := range streamCases() {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			req := &adaptors.Request{Mode: tt.mode, Stream: true, IncludeUsage: tt.includeUsage}
			evs, err := drain(t, tt.adaptor().NewStreamDecoder(req, bytes.NewReader(in)))
			got := renderStream(evs, err)
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", got, *update)

			// Reading the body one byte at a time must not change anything.
			evs2, err2 := drain(t, tt.adaptor().NewStreamDecoder(req, iotest.OneByteReader(bytes.NewReader(in))))
			if diff := cmp.Diff(string(got), string(renderStream(evs2, err2))); diff != "" {
				t.Errorf("one-byte reads differ:\n%s", diff)
			}
		})
	}
}

// TestStreamInvariants checks the relay contract on every capture, beyond
// the goldens: relayed payloads are the upstream's bytes, the decoder is
// sticky after its end, usage is the last one reported, and a hidden
// usage chunk is never shown.
func TestStreamInvariants(t *testing.T) {
	for _, tt := range streamCases() {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			req := &adaptors.Request{Mode: tt.mode, Stream: true, IncludeUsage: tt.includeUsage}
			d := tt.adaptor().NewStreamDecoder(req, bytes.NewReader(in))
			evs, err := drain(t, d)
			if _, again := d.Next(); again != err {
				t.Errorf("not sticky: %v then %v", err, again)
			}
			for _, ev := range evs {
				if ev.Data != nil && !bytes.Contains(in, ev.Data) {
					t.Errorf("relayed payload is not upstream bytes: %s", ev.Data)
				}
				if ev.Data != nil && !tt.includeUsage && bytes.Contains(ev.Data, []byte(`"choices":[],`)) && bytes.Contains(ev.Data, []byte(`"usage":{`)) {
					t.Errorf("usage-only chunk shown to a client that did not ask: %s", ev.Data)
				}
			}
		})
	}
}

func TestStreamValues(t *testing.T) {
	tests := []struct {
		file      string
		mode      adaptors.Mode
		wantUsage *adaptors.Usage
		wantText  int // total TextBytes
		wantShown int // events with Data
		groq      bool
	}{
		// "" + "Hello" + "!" + " How" + " can I help?" = 0+5+1+4+12
		{"chat.sse", adaptors.ModeChat, &adaptors.Usage{PromptTokens: 19, CompletionTokens: 6, TotalTokens: 25}, 22, 6, false},
		// {"location":"Paris, France"} = 28 bytes of arguments
		{"chat_tool_call.sse", adaptors.ModeChat, &adaptors.Usage{PromptTokens: 68, CompletionTokens: 17, TotalTokens: 85}, 28, 8, false},
		{"azure_content_filter.sse", adaptors.ModeChat, &adaptors.Usage{PromptTokens: 8, CompletionTokens: 3, TotalTokens: 11}, 8, 4, false},
		// "This"+" is"+" indeed"+" a"+" test" = 4+3+7+2+5
		{"completions.sse", adaptors.ModeCompletions, &adaptors.Usage{PromptTokens: 5, CompletionTokens: 7, TotalTokens: 12}, 21, 6, false},
		// reasoning 嗯(3)+，用户(9)+打招呼。(12) + content 你好(6, escaped)+！(3)
		{"deepseek_reasoning.sse", adaptors.ModeChat, &adaptors.Usage{PromptTokens: 13, CompletionTokens: 65, TotalTokens: 78, ReasoningTokens: 55}, 33, 7, false},
		{"groq_x_groq_usage.sse", adaptors.ModeChat, &adaptors.Usage{PromptTokens: 12, CompletionTokens: 3, TotalTokens: 15}, 12, 4, true},
		{"chat_no_done.sse", adaptors.ModeChat, nil, 22, 6, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg := OpenAIConfig()
			cfg.GroqUsage = tt.groq
			d := New(cfg).NewStreamDecoder(&adaptors.Request{Mode: tt.mode, Stream: true}, bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/"+tt.file)))
			evs, err := drain(t, d)
			if err != io.EOF {
				t.Fatalf("end = %v, want io.EOF", err)
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

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		file       string
		wantStatus int
		wantMsg    string
		wantType   string
	}{
		{"error_chunk.sse", 502, "The server had an error while processing your request. Sorry about that!", "server_error"},
		{"error_event.sse", 502, "The server had an error processing your request.", "server_error"},
		{"openrouter_midstream_error.sse", 502, "Provider returned error", "upstream_error"},
	}
	for _, tt := range tests {
		d := New(OpenAIConfig()).NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true}, bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/"+tt.file)))
		_, err := drain(t, d)
		var se *schema.Error
		if !errors.As(err, &se) {
			t.Fatalf("%s: err = %v, want *schema.Error", tt.file, err)
		}
		if se.Status != tt.wantStatus || se.Message != tt.wantMsg || se.Type != tt.wantType {
			t.Errorf("%s: got %+v", tt.file, *se)
		}
	}
}

func TestStreamReadError(t *testing.T) {
	boom := errors.New("connection reset by peer")
	body := io.MultiReader(strings.NewReader("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"cho"), iotest.ErrReader(boom))
	d := New(OpenAIConfig()).NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true}, body)
	evs, err := drain(t, d)
	if len(evs) != 1 || evs[0].TextBytes != 1 {
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

func TestRawTextLen(t *testing.T) {
	tests := []struct {
		raw  string
		want int
	}{
		{``, 0},
		{`null`, 0},
		{`""`, 0},
		{`"abc"`, 3},
		{`"a\nb"`, 3},
		{`"\"\\\/"`, 3},
		{`"\u00e9"`, 2},
		{`"\u4f60\u597d"`, 6},
		{`"\ud83d\ude00"`, 4}, // 😀 as a surrogate pair
		{`"\ud83d"`, 3},       // lone surrogate → U+FFFD
		{`"\uZZZZ"`, 5},       // malformed escape: counted per byte
		{`"你好"`, 6},
		{`[{"type":"text","text":"hi"}]`, 29},
	}
	for _, tt := range tests {
		if got := rawTextLen([]byte(tt.raw)); got != tt.want {
			t.Errorf("rawTextLen(%s) = %d, want %d", tt.raw, got, tt.want)
		}
	}
}

func FuzzStreamDecoder(f *testing.F) {
	for _, tc := range streamCases() {
		b, err := readTestdata("testdata/stream/" + tc.file)
		if err == nil {
			f.Add(b, tc.includeUsage)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, includeUsage bool) {
		cfg := OpenAIConfig()
		cfg.GroqUsage, cfg.BaseResp = true, true
		for _, mode := range []adaptors.Mode{adaptors.ModeChat, adaptors.ModeCompletions} {
			req := &adaptors.Request{Mode: mode, Stream: true, IncludeUsage: includeUsage}
			d := New(cfg).NewStreamDecoder(req, bytes.NewReader(in))
			evs, err := drain(t, d)
			if err == nil {
				t.Fatal("decoder ended without an error")
			}
			for _, ev := range evs {
				if ev.TextBytes < 0 {
					t.Fatalf("negative TextBytes")
				}
				// Relayed bytes come from the input: each line of a
				// (possibly multi-line) payload is an input substring.
				for _, line := range bytes.Split(ev.Data, []byte("\n")) {
					if ev.Data != nil && !bytes.Contains(in, line) {
						t.Fatalf("payload not from the input: %q", ev.Data)
					}
				}
			}
			var se *schema.Error
			if errors.As(err, &se) && (se.Message == "" || se.Type == "") {
				t.Fatalf("empty error fields: %+v", *se)
			}
		}
	})
}
