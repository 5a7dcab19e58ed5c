package openai

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// typedCase is one non-stream answer of a surface beyond chat: the
// upstream body (a file under testdata/response), the Content-Type it came
// with ("" for none), and the request it answers.
type typedCase struct {
	name        string
	file        string
	mode        adaptors.Mode
	contentType string
	reqBody     string
}

func typedCases() []typedCase {
	const jsonType = "application/json"
	return []typedCase{
		{"images_dalle3_url", "images_dalle3_url.json", adaptors.ModeImagesGenerations, jsonType, ""},
		{"images_gpt_image_b64", "images_gpt_image_b64.json", adaptors.ModeImagesEdits, jsonType, ""},
		{"images_variations", "images_variations.json", adaptors.ModeImagesVariations, jsonType, ""},
		{"images_error_in_200", "images_error_in_200.json", adaptors.ModeImagesGenerations, jsonType, ""},
		{"images_html", "html.txt", adaptors.ModeImagesGenerations, "text/html", ""},
		{"speech_mp3", "speech.mp3", adaptors.ModeAudioSpeech, "audio/mpeg", `{"model":"tts-1","input":"hi","voice":"alloy"}`},
		// Without the upstream's type, the request's response_format says it.
		{"speech_untyped_opus", "speech.mp3", adaptors.ModeAudioSpeech, "", `{"model":"tts-1","input":"hi","voice":"alloy","response_format":"opus"}`},
		{"speech_untyped_default", "speech.mp3", adaptors.ModeAudioSpeech, "", `{"model":"tts-1","input":"hi","voice":"alloy"}`},
		// Raw PCM may start with '{' without being JSON.
		{"speech_pcm_brace", "speech_pcm.pcm", adaptors.ModeAudioSpeech, "", `{"model":"tts-1","input":"hi","voice":"alloy","response_format":"pcm"}`},
		{"speech_error_in_200", "speech_error_in_200.json", adaptors.ModeAudioSpeech, "application/json", `{}`},
		{"speech_error_in_200_untyped", "speech_error_in_200.json", adaptors.ModeAudioSpeech, "", `{}`},
		{"speech_html", "speech_html.html", adaptors.ModeAudioSpeech, "text/html; charset=utf-8", `{}`},
		{"transcription_json", "transcription.json", adaptors.ModeAudioTranscriptions, jsonType, ""},
		{"transcription_verbose_json", "transcription_verbose.json", adaptors.ModeAudioTranscriptions, jsonType, ""},
		{"transcription_diarized_json", "transcription_diarized.json", adaptors.ModeAudioTranscriptions, jsonType, ""},
		{"transcription_text", "transcription.txt", adaptors.ModeAudioTranscriptions, "text/plain; charset=utf-8", ""},
		{"transcription_srt", "transcription.srt", adaptors.ModeAudioTranscriptions, "text/plain; charset=utf-8", ""},
		{"transcription_vtt", "transcription.vtt", adaptors.ModeAudioTranscriptions, "text/plain; charset=utf-8", ""},
		{"transcription_srt_untyped", "transcription.srt", adaptors.ModeAudioTranscriptions, "", ""},
		{"transcription_json_untyped", "transcription.json", adaptors.ModeAudioTranscriptions, "", ""},
		{"transcription_html", "html.txt", adaptors.ModeAudioTranscriptions, "text/html", ""},
		{"transcription_truncated_json", "truncated.json", adaptors.ModeAudioTranscriptions, jsonType, ""},
		{"translation_json", "translation.json", adaptors.ModeAudioTranslations, jsonType, ""},
		{"translation_vtt", "transcription.vtt", adaptors.ModeAudioTranslations, "text/vtt", ""},
		{"moderation", "moderation.json", adaptors.ModeModerations, jsonType, ""},
		{"rerank_jina", "rerank_jina.json", adaptors.ModeRerank, jsonType, ""},
		{"rerank_jina_total_only", "rerank_jina_total_only.json", adaptors.ModeRerank, jsonType, ""},
		{"rerank_cohere_search_units", "rerank_cohere.json", adaptors.ModeRerank, jsonType, ""},
		{"rerank_cohere_billed_tokens", "rerank_cohere_tokens.json", adaptors.ModeRerank, jsonType, ""},
		{"responses", "responses.json", adaptors.ModeResponses, jsonType, ""},
		{"responses_reasoning", "responses_reasoning.json", adaptors.ModeResponses, jsonType, ""},
		{"responses_cached", "responses_cached.json", adaptors.ModeResponses, jsonType, ""},
		{"responses_failed", "responses_failed.json", adaptors.ModeResponses, jsonType, ""},
	}
}

// renderTyped prints a converted answer (or its error) for golden files.
func renderTyped(resp *adaptors.Response, err error) string {
	if err != nil {
		var se *schema.Error
		if errors.As(err, &se) {
			return fmt.Sprintf("schema error: status=%d %+v\n", se.Status, *se)
		}
		if errors.Is(err, adaptors.ErrInvalidResponse) {
			return "invalid response error\n"
		}
		return "unexpected error: " + err.Error() + "\n"
	}
	return fmt.Sprintf("content-type: %q\nimages: %d\ntext: %q\nusage: %s\n", resp.ContentType, resp.Images, resp.Text, renderUsage(resp.Usage))
}

func TestParseTypedResponseGolden(t *testing.T) {
	tp := New(OpenAIConfig()).(adaptors.TypedResponseParser)
	for _, tt := range typedCases() {
		t.Run(tt.name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/response/"+tt.file)
			req := &adaptors.Request{Mode: tt.mode, Body: []byte(tt.reqBody)}
			resp, err := tp.ParseTypedResponse(req, tt.contentType, body)
			if err == nil && !bytes.Equal(resp.Body, body) {
				t.Errorf("body was modified")
			}
			if err != nil && !errors.Is(err, adaptors.ErrInvalidResponse) {
				var se *schema.Error
				if !errors.As(err, &se) {
					t.Errorf("error %v is neither ErrInvalidResponse nor *schema.Error", err)
				}
			}
			adaptortest.Golden(t, "testdata/response/"+tt.name+".golden", []byte(renderTyped(resp, err)), *update)
		})
	}
}

// TestParseTypedResponseValues pins the numbers and texts independently
// of the goldens.
func TestParseTypedResponseValues(t *testing.T) {
	const beach = "The beach was a popular spot on a hot summer day. People were swimming in the ocean, building sandcastles, and playing beach volleyball."
	const beachLines = "The beach was a popular spot on a hot summer day.\nPeople were swimming in the ocean, building sandcastles, and playing beach volleyball."
	tests := []struct {
		name string
		want adaptors.Response // Body is not compared
	}{
		{"images_dalle3_url", adaptors.Response{Images: 1}},
		{"images_gpt_image_b64", adaptors.Response{Images: 2}}, // its usage object is not billed
		{"images_variations", adaptors.Response{Images: 2}},
		{"speech_mp3", adaptors.Response{ContentType: "audio/mpeg"}},
		{"speech_untyped_opus", adaptors.Response{ContentType: "audio/opus"}},
		{"speech_untyped_default", adaptors.Response{ContentType: "audio/mpeg"}},
		{"speech_pcm_brace", adaptors.Response{ContentType: "audio/pcm"}},
		{"transcription_json", adaptors.Response{
			Text:  "Imagine the wildest idea that you've ever had, and you're curious about how it might scale to something that's a 100, a 1,000 times bigger. This is a place where you can get to do that.",
			Usage: &adaptors.Usage{PromptTokens: 14, CompletionTokens: 45, TotalTokens: 59},
		}},
		{"transcription_verbose_json", adaptors.Response{Text: beach}}, // duration usage is not tokens
		{"transcription_diarized_json", adaptors.Response{Text: "Agent: Thanks for calling OpenAI support.\nA: Hi, I'm trying to enable diarization.\nAgent: Happy to walk you through the steps."}},
		{"transcription_text", adaptors.Response{ContentType: "text/plain; charset=utf-8", Text: beach}},
		{"transcription_srt", adaptors.Response{ContentType: "text/plain; charset=utf-8", Text: beachLines}},
		{"transcription_vtt", adaptors.Response{ContentType: "text/plain; charset=utf-8", Text: beachLines}},
		{"transcription_srt_untyped", adaptors.Response{ContentType: "text/plain; charset=utf-8", Text: beachLines}},
		{"translation_vtt", adaptors.Response{ContentType: "text/vtt", Text: beachLines}},
		{"translation_json", adaptors.Response{Text: "Hello, my name is Wolfgang and I come from Germany. Where are you heading today?"}},
		{"moderation", adaptors.Response{}},
		{"rerank_jina", adaptors.Response{Usage: &adaptors.Usage{PromptTokens: 815, TotalTokens: 815}}},
		{"rerank_jina_total_only", adaptors.Response{Usage: &adaptors.Usage{PromptTokens: 38, TotalTokens: 38}}},
		{"rerank_cohere_search_units", adaptors.Response{}},
		{"rerank_cohere_billed_tokens", adaptors.Response{Usage: &adaptors.Usage{PromptTokens: 26, TotalTokens: 26}}},
		{"responses", adaptors.Response{Usage: &adaptors.Usage{PromptTokens: 36, CompletionTokens: 87, TotalTokens: 123}}},
		{"responses_reasoning", adaptors.Response{Usage: &adaptors.Usage{PromptTokens: 81, CompletionTokens: 1035, TotalTokens: 1116, ReasoningTokens: 832}}},
		{"responses_cached", adaptors.Response{Usage: &adaptors.Usage{PromptTokens: 1500, CompletionTokens: 500, TotalTokens: 2000, CachedTokens: 1024, ReasoningTokens: 300}}},
	}
	cases := map[string]typedCase{}
	for _, c := range typedCases() {
		cases[c.name] = c
	}
	tp := New(OpenAIConfig()).(adaptors.TypedResponseParser)
	for _, tt := range tests {
		c, ok := cases[tt.name]
		if !ok {
			t.Fatalf("no case %s", tt.name)
		}
		resp, err := tp.ParseTypedResponse(&adaptors.Request{Mode: c.mode, Body: []byte(c.reqBody)}, c.contentType,
			adaptortest.ReadFile(t, "testdata/response/"+c.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := *resp
		got.Body = nil
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestParseResponseMatchesTyped: ParseResponse (no Content-Type) infers
// what ParseTypedResponse is told, for every answer whose shape is
// unambiguous.
func TestParseResponseMatchesTyped(t *testing.T) {
	a := New(OpenAIConfig())
	tp := a.(adaptors.TypedResponseParser)
	for _, c := range typedCases() {
		if c.contentType == "" || c.name == "speech_mp3" || c.name == "translation_vtt" {
			continue // untyped already, or the typed answer keeps the upstream's own type
		}
		body := adaptortest.ReadFile(t, "testdata/response/"+c.file)
		req := &adaptors.Request{Mode: c.mode, Body: []byte(c.reqBody)}
		typed, err1 := tp.ParseTypedResponse(req, c.contentType, body)
		inferred, err2 := a.ParseResponse(req, body)
		if got, want := renderTyped(inferred, err2), renderTyped(typed, err1); got != want {
			t.Errorf("%s: inferred %q, typed %q", c.name, got, want)
		}
	}
}

func TestTranscriptText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hello there.\n", "Hello there."},
		{"plain with arrow", "Turn left --> then right.\n", "Turn left --> then right."},
		{"srt crlf, multi-line cue", "1\r\n00:00:00,000 --> 00:00:02,000\r\nHello\r\nthere.\r\n\r\n2\r\n00:00:02,000 --> 00:00:03,500\r\nBye.\r\n",
			"Hello\nthere.\nBye."},
		{"srt bom", "\ufeff1\n00:00:00,000 --> 00:00:01,000\nOne.\n", "One."},
		{"vtt header, identifiers, notes, style", "WEBVTT - Generated\nKind: captions\n\nNOTE a comment\nspanning lines\n\nSTYLE\n::cue { color: lime }\n\nintro\n00:00.000 --> 00:01.000 align:start\nFirst line.\n\n00:01.000 --> 00:02.000\nSecond line.\n",
			"First line.\nSecond line."},
		{"vtt empty", "WEBVTT\n", ""},
		{"not vtt", "WEBVTTX\n00:00.000 --> 00:01.000\nx\n", "WEBVTTX\n00:00.000 --> 00:01.000\nx"},
	}
	for _, tt := range tests {
		if got := transcriptText(tt.in); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// FuzzTranscriptText: any text answer converts without panicking, and the
// extracted text never grows beyond the body.
func FuzzTranscriptText(f *testing.F) {
	for _, name := range []string{"transcription.txt", "transcription.srt", "transcription.vtt"} {
		f.Add(adaptortest.ReadFile(f, "testdata/response/"+name))
	}
	a := New(OpenAIConfig())
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeAudioTranscriptions}, body)
		if err != nil {
			return
		}
		if len(resp.Text) > len(body) {
			t.Fatalf("text %q longer than body %q", resp.Text, body)
		}
	})
}
