package openai

import (
	"errors"
	"testing"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// Content-Types of the multipart fixtures under testdata/build, as the
// clients that write such boundaries send them (curl, the Python SDK,
// Node's form-data; webkitType, a browser's, is in multipart_test.go).
const (
	curlType  = "multipart/form-data; boundary=------------------------d74496d66958873e"
	httpxType = "multipart/form-data; boundary=b5a0e6a4a4b44f1c9d2ab1b8a0b3f0c2"
	curl2Type = "multipart/form-data; boundary=--------------------------870591528932466327414434"
)

// TestBuildRequestModesGolden records the upstream request of every API
// surface beyond chat: URL, headers (auth, the client's multipart
// Content-Type) and body (passthrough or rewritten).
func TestBuildRequestModesGolden(t *testing.T) {
	oa := New(OpenAIConfig())
	key := adaptors.Channel{Key: "sk-test"}
	tests := []struct {
		name string
		body string // file under testdata/build
		ch   adaptors.Channel
		req  adaptors.Request
	}{
		{"images_generations_passthrough", "images_generations.json", key,
			adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "dall-e-3", OriginModel: "dall-e-3"}},
		{"images_generations_mapped", "images_generations.json", key,
			adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "gpt-image-1", OriginModel: "dall-e-3"}},
		{"images_edits_multipart_passthrough", "images_edits.multipart", key,
			adaptors.Request{Mode: adaptors.ModeImagesEdits, Model: "gpt-image-1", OriginModel: "gpt-image-1", ContentType: curlType}},
		{"images_edits_multipart_mapped", "images_edits.multipart", key,
			adaptors.Request{Mode: adaptors.ModeImagesEdits, Model: "gpt-image-1.5", OriginModel: "gpt-image-1", ContentType: curlType}},
		{"images_variations_multipart", "images_variations.multipart", adaptors.Channel{Key: "sk-test", Config: map[string]string{"organization": "org-abc"}},
			adaptors.Request{Mode: adaptors.ModeImagesVariations, Model: "dall-e-2", OriginModel: "dall-e-2", ContentType: httpxType}},
		{"audio_speech_mapped", "audio_speech.json", key,
			adaptors.Request{Mode: adaptors.ModeAudioSpeech, Model: "gpt-4o-mini-tts", OriginModel: "tts-1"}},
		{"audio_transcriptions_multipart_mapped", "audio_transcriptions.multipart", key,
			adaptors.Request{Mode: adaptors.ModeAudioTranscriptions, Model: "gpt-4o-transcribe", OriginModel: "whisper-1", ContentType: webkitType}},
		{"audio_transcriptions_model_inserted", "audio_transcriptions_no_model.multipart", key,
			adaptors.Request{Mode: adaptors.ModeAudioTranscriptions, Model: "whisper-1", ContentType: webkitType}},
		{"audio_translations_multipart", "audio_translations.multipart", adaptors.Channel{Key: "sk-test", BaseURL: "https://proxy.example.com/"},
			adaptors.Request{Mode: adaptors.ModeAudioTranslations, Model: "whisper-1", OriginModel: "whisper-1", ContentType: curl2Type}},
		{"moderations_passthrough", "moderations.json", key,
			adaptors.Request{Mode: adaptors.ModeModerations, Model: "omni-moderation-latest", OriginModel: "omni-moderation-latest"}},
		{"rerank_reseller", "rerank.json", adaptors.Channel{Key: "sk-test", BaseURL: "https://reseller.example.com"},
			adaptors.Request{Mode: adaptors.ModeRerank, Model: "jina-reranker-v2-base-multilingual", OriginModel: "jina-reranker-v2-base-multilingual"}},
		{"responses_mapped", "responses.json", key,
			adaptors.Request{Mode: adaptors.ModeResponses, Model: "gpt-4.1-2025-04-14", OriginModel: "gpt-4.1"}},
		// The Responses API takes no stream_options.include_usage (it
		// rejects unknown members); the client's own stream_options stay.
		{"responses_stream", "responses_stream.json", key,
			adaptors.Request{Mode: adaptors.ModeResponses, Model: "gpt-4.1", OriginModel: "gpt-4.1", Stream: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/build/"+tt.body)
			req := tt.req
			req.Body = in
			got, err := oa.BuildRequest(&tt.ch, &req)
			if err != nil {
				t.Fatal(err)
			}
			if isMultipart(req.ContentType) {
				checkModelRewrite(t, req.ContentType, in, header(got, "Content-Type"), got.Body, req.Model)
			} else if !sonic.Valid(got.Body) {
				t.Fatalf("body is not valid JSON: %s", got.Body)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderRequest(got, in), *update)
		})
	}
}

// TestBuildRequestModePaths checks every mode's URL on OpenAI and that a
// Config without a mode's path refuses it.
func TestBuildRequestModePaths(t *testing.T) {
	oa := New(OpenAIConfig())
	chatOnly := New(Config{Name: "chatonly", BaseURL: "https://api.example.com", ChatPath: "/v1/chat/completions"})
	want := map[adaptors.Mode]string{
		adaptors.ModeImagesGenerations:   "/v1/images/generations",
		adaptors.ModeImagesEdits:         "/v1/images/edits",
		adaptors.ModeImagesVariations:    "/v1/images/variations",
		adaptors.ModeAudioSpeech:         "/v1/audio/speech",
		adaptors.ModeAudioTranscriptions: "/v1/audio/transcriptions",
		adaptors.ModeAudioTranslations:   "/v1/audio/translations",
		adaptors.ModeModerations:         "/v1/moderations",
		adaptors.ModeRerank:              "/v1/rerank",
		adaptors.ModeResponses:           "/v1/responses",
	}
	for mode, path := range want {
		req := &adaptors.Request{Mode: mode, Model: "m", OriginModel: "m", Body: []byte(`{"model":"m"}`)}
		r, err := oa.BuildRequest(&adaptors.Channel{Key: "k"}, req)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if r.URL != DefaultBaseURL+path {
			t.Errorf("%s: URL %s, want %s", mode, r.URL, DefaultBaseURL+path)
		}
		if _, err := chatOnly.BuildRequest(&adaptors.Channel{Key: "k"}, req); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s on a chat-only config: err = %v", mode, err)
		}
	}
}

// TestBuildRequestNoStreamOptionsOutsideChat: stream_options is added
// (or, for NoStreamOptions upstreams, stripped) only for chat and legacy
// completions; every other stream body is forwarded as the client wrote
// it.
func TestBuildRequestNoStreamOptionsOutsideChat(t *testing.T) {
	strip := New(Config{Name: "strip", BaseURL: "https://x", ResponsesPath: "/v1/responses", NoStreamOptions: true,
		AudioSpeechPath: "/v1/audio/speech", ImagesGenerationsPath: "/v1/images/generations"})
	for _, a := range []adaptors.Adaptor{New(OpenAIConfig()), strip} {
		for _, mode := range []adaptors.Mode{adaptors.ModeResponses, adaptors.ModeAudioSpeech, adaptors.ModeImagesGenerations} {
			in := []byte(`{"model":"m","stream":true,"stream_options":{"include_obfuscation":false}}`)
			req := &adaptors.Request{Mode: mode, Model: "m", Body: in, Stream: true}
			got, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, req)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Body) != string(in) {
				t.Errorf("%s: body rewritten to %s", mode, got.Body)
			}
			if header(got, "Accept") != "text/event-stream" {
				t.Errorf("%s: no Accept: text/event-stream", mode)
			}
		}
	}
}
