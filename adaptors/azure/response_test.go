package azure

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func TestParseResponseGolden(t *testing.T) {
	a := New()
	tests := []struct {
		name, file string
		mode       adaptors.Mode
		want       *adaptors.Usage
	}{
		{"chat", "chat.json", adaptors.ModeChat,
			&adaptors.Usage{PromptTokens: 33, CompletionTokens: 26, TotalTokens: 59}},
		{"chat_reasoning_cached", "chat_reasoning_cached.json", adaptors.ModeChat,
			&adaptors.Usage{PromptTokens: 1562, CompletionTokens: 212, TotalTokens: 1774, CachedTokens: 1408, ReasoningTokens: 192}},
		{"chat_tool_calls", "chat_tool_calls.json", adaptors.ModeChat,
			&adaptors.Usage{PromptTokens: 58, CompletionTokens: 15, TotalTokens: 73}},
		{"content_filter_finish", "content_filter_finish.json", adaptors.ModeChat,
			&adaptors.Usage{PromptTokens: 24, CompletionTokens: 31, TotalTokens: 55}},
		{"embeddings", "embeddings.json", adaptors.ModeEmbeddings,
			&adaptors.Usage{PromptTokens: 4, TotalTokens: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/response/"+tt.file)
			req := &adaptors.Request{Mode: tt.mode, Model: "gpt-4o", OriginModel: "gpt-4o", Created: 1733486000}
			resp, err := a.ParseResponse(req, in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			adaptortest.Golden(t, "testdata/response/"+tt.name+".golden", renderResponse(resp, err), *update)
		})
	}
}

func TestParseResponseInvalid(t *testing.T) {
	a := New()
	req := &adaptors.Request{Mode: adaptors.ModeChat}
	for _, body := range []string{"", "<html>502</html>", `{"id":"x","choices":[`, `[]`} {
		if _, err := a.ParseResponse(req, []byte(body)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: error %v, want ErrInvalidResponse", body, err)
		}
	}
	// An error object in a 2xx body is an error, not a success.
	_, err := a.ParseResponse(req, adaptortest.ReadFile(t, "testdata/error/404_deployment_not_found.json"))
	var se *schema.Error
	if !errors.As(err, &se) || !strings.Contains(se.Message, "deployment") {
		t.Errorf("error in 2xx body: %v", err)
	}
}

type streamCase struct {
	name, file   string
	includeUsage bool
}

func streamCases() []streamCase {
	return []streamCase{
		// The prompt-filter preamble (choices: []) is dropped; the usage
		// chunk is hidden or shown as the client asked.
		{"chat_hide_usage", "chat.sse", false},
		{"chat_show_usage", "chat.sse", true},
		// An old api-version: no usage at all, the gateway estimates.
		{"chat_no_usage", "chat_no_usage.sse", true},
		{"tool_call", "tool_call.sse", false},
		{"content_filter_finish", "content_filter_finish.sse", false},
	}
}

func TestStreamGolden(t *testing.T) {
	a := New()
	for _, tt := range streamCases() {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			req := &adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: tt.includeUsage}
			evs, err := drain(t, a.NewStreamDecoder(req, bytes.NewReader(in)))
			got := renderStream(evs, err)
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", got, *update)

			evs2, err2 := drain(t, a.NewStreamDecoder(req, iotest.OneByteReader(bytes.NewReader(in))))
			if diff := cmp.Diff(string(got), string(renderStream(evs2, err2))); diff != "" {
				t.Errorf("one-byte reads differ:\n%s", diff)
			}
		})
	}
}

// TestStreamContentFilterPreamble: Azure's first chunk (no choices, only
// prompt_filter_results) never reaches the client, which would index
// choices[0].
func TestStreamContentFilterPreamble(t *testing.T) {
	a := New()
	for _, tt := range streamCases() {
		in := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
		evs, err := drain(t, a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: tt.includeUsage}, bytes.NewReader(in)))
		if err != io.EOF {
			t.Fatalf("%s: end %v", tt.name, err)
		}
		for _, ev := range evs {
			if bytes.Contains(ev.Data, []byte("prompt_filter_results")) {
				t.Errorf("%s: preamble relayed: %s", tt.name, ev.Data)
			}
		}
		var first struct {
			Choices []struct {
				Delta struct {
					Role string `json:"role"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if len(evs) == 0 || sonic.Unmarshal(evs[0].Data, &first) != nil || len(first.Choices) == 0 || first.Choices[0].Delta.Role != "assistant" {
			t.Errorf("%s: first client chunk is not the assistant role chunk", tt.name)
		}
	}
}

func TestParseErrorGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/error/*")
	if err != nil {
		t.Fatal(err)
	}
	a := New()
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".golden") {
			continue
		}
		n++
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			status := statusOf(t, name)
			e := a.ParseError(status, adaptortest.ReadFile(t, path))
			if e == nil || e.Status != status || e.Message == "" || e.Type == "" {
				t.Fatalf("bad error %+v", e)
			}
			env, err := sonic.ConfigStd.MarshalIndent(schema.Envelope{Error: e}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out := fmt.Sprintf("status %d\n%s\n", e.Status, env)
			adaptortest.Golden(t, strings.TrimSuffix(path, filepath.Ext(path))+".golden", []byte(out), *update)
		})
	}
	if n < 5 {
		t.Fatalf("only %d error fixtures", n)
	}
}

func TestErrorTypes(t *testing.T) {
	a := New()
	body := []byte(`{"error":{"code":"Some","message":"m"}}`)
	for status, want := range map[int]string{
		400: "invalid_request_error", 404: "invalid_request_error", 401: "authentication_error",
		403: "permission_error", 429: "rate_limit_error", 500: "server_error", 503: "server_error",
		302: "upstream_error",
	} {
		if got := a.ParseError(status, body).Type; got != want {
			t.Errorf("%d: type %q, want %q", status, got, want)
		}
	}
	// A type the upstream sent is kept.
	if got := a.ParseError(400, []byte(`{"error":{"message":"m","type":"invalid_request_error"}}`)).Type; got != "invalid_request_error" {
		t.Errorf("kept type = %q", got)
	}
	// No provider message: One API's fallback is kept as is.
	e := a.ParseError(502, []byte("<html></html>"))
	if e.Type != "upstream_error" || e.Code != "bad_response_status_code" {
		t.Errorf("fallback = %+v", *e)
	}
}

func TestConformance(t *testing.T) {
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: adaptors.Channel{Key: "azure-conformance-key", BaseURL: endpoint},
		Model:   "gpt-4o",
		Fixtures: adaptortest.Fixtures{
			Stream:        adaptortest.ReadFile(t, "testdata/stream/chat.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 12, CompletionTokens: 4, TotalTokens: 16},
			Response:      adaptortest.ReadFile(t, "testdata/response/chat.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 33, CompletionTokens: 26, TotalTokens: 59},
			ToolStream:    adaptortest.ReadFile(t, "testdata/stream/tool_call.sse"),
			ToolResponse:  adaptortest.ReadFile(t, "testdata/response/chat_tool_calls.json"),
			Errors: map[int][]byte{
				400: adaptortest.ReadFile(t, "testdata/error/400_content_filter.json"),
				401: adaptortest.ReadFile(t, "testdata/error/401_access_denied.json"),
				404: adaptortest.ReadFile(t, "testdata/error/404_deployment_not_found.json"),
				429: adaptortest.ReadFile(t, "testdata/error/429_rate_limit.json"),
			},
			ErrorMessages: map[int]string{
				400: "content management policy",
				401: "Access denied due to invalid subscription key",
				404: "The API deployment for this resource does not exist",
				429: "exceeded token rate limit",
			},
			AuthHeader: "api-key",
		},
	})
}

func FuzzStreamDecoder(f *testing.F) {
	for _, tc := range streamCases() {
		b, err := os.ReadFile("testdata/stream/" + tc.file)
		if err == nil {
			f.Add(b, tc.includeUsage)
		}
	}
	a := New()
	f.Fuzz(func(t *testing.T, in []byte, includeUsage bool) {
		req := &adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: includeUsage}
		evs, err := drain(t, a.NewStreamDecoder(req, bytes.NewReader(in)))
		if err == nil {
			t.Fatal("decoder ended without an error")
		}
		for _, ev := range evs {
			if ev.TextBytes < 0 {
				t.Fatal("negative TextBytes")
			}
		}
		var se *schema.Error
		if errors.As(err, &se) && (se.Message == "" || se.Type == "") {
			t.Fatalf("empty error fields: %+v", *se)
		}
	})
}

// TestAudio: speech and transcription answers keep OpenAI's typed
// handling (binary audio relayed with its type, text transcripts read).
func TestAudio(t *testing.T) {
	a := New()
	speech := &adaptors.Request{Mode: adaptors.ModeAudioSpeech, Model: "tts-1"}
	resp, err := a.ParseTypedResponse(speech, "audio/mpeg", []byte("ID3\x04\x00fake-mp3"))
	if err != nil || resp.ContentType != "audio/mpeg" || string(resp.Body) != "ID3\x04\x00fake-mp3" {
		t.Errorf("speech: %+v %v", resp, err)
	}
	tr := &adaptors.Request{Mode: adaptors.ModeAudioTranscriptions, Model: "whisper"}
	resp, err = a.ParseTypedResponse(tr, "application/json", []byte(`{"text":"Hello there."}`))
	if err != nil || resp.Text != "Hello there." {
		t.Errorf("transcription: %+v %v", resp, err)
	}
}

// TestBuildMultipart: an audio upload goes to the deployment's
// transcriptions path with the client's multipart body and boundary.
func TestBuildMultipart(t *testing.T) {
	body := "--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--XyZ--\r\n"
	req := &adaptors.Request{Mode: adaptors.ModeAudioTranscriptions, Model: "whisper", OriginModel: "whisper",
		Body: []byte(body), ContentType: "multipart/form-data; boundary=XyZ"}
	ch := &adaptors.Channel{Key: "k", BaseURL: endpoint, Config: cfg("api_version", "2024-06-01")}
	r, err := New().BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	want := &adaptors.HTTPRequest{
		Method: "POST",
		URL:    endpoint + "/openai/deployments/whisper/audio/transcriptions?api-version=2024-06-01",
		Header: []adaptors.Header{{Key: "api-key", Value: "k"}, {Key: "Content-Type", Value: "multipart/form-data; boundary=XyZ"}},
		Body:   []byte(body),
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}
