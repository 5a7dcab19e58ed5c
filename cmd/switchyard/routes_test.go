package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// routesSetup is a gateway with one OpenAI channel serving every model the
// route tests use, and explicit prices.
func routesSetup(t *testing.T) (*gateway, *mockOpenAI, int64, string) {
	g := startGateway(t, t.TempDir())
	m := newMockOpenAI(t)
	g.addChannel(m, "test-model,test-embed,dall-e-2,dall-e-3,gpt-image-1,tts-1,whisper-1,omni-moderation-latest,rerank-model")
	g.must("PUT", "/api/option/", map[string]any{"key": "ModelRatio", "value": `{"test-model":1.5,"test-embed":1,"rerank-model":0.5}`}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "CompletionRatio", "value": `{"test-model":2}`}, nil)
	g.must("PUT", "/api/option/", map[string]any{"key": "ModelPrice", "value": `{"gpt-image-1":0.04}`}, nil)
	uid, access := g.newUser("rosa", 100_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	return g, m, uid, tok.Key
}

// billedSince waits until the user's used quota moved from before and
// stopped moving, and returns the difference.
func billedSince(t *testing.T, g *gateway, uid, before int64) int64 {
	t.Helper()
	var used int64
	waitFor(t, 5*time.Second, "the charge", func() bool {
		u := g.user(uid)
		if u.UsedQuota == before || u.UsedQuota != used {
			used = u.UsedQuota
			time.Sleep(30 * time.Millisecond)
			return false
		}
		return true
	})
	return used - before
}

// Issue 4, acceptances 1 and 5 (Go SDK half): the official OpenAI Go SDK
// drives the image, audio, moderation and Responses routes against the
// mock upstream, and each answer is billed by its documented formula,
// computed here independently.
func TestOpenAIRoutesWithSDK(t *testing.T) {
	g, m, uid, key := routesSetup(t)
	c := sdk(g, key)
	ctx := context.Background()
	used := int64(0)
	check := func(what string, want int64) {
		t.Helper()
		if want == 0 {
			time.Sleep(200 * time.Millisecond)
			if u := g.user(uid).UsedQuota; u != used {
				t.Fatalf("%s: billed %d, want nothing", what, u-used)
			}
			return
		}
		if got := billedSince(t, g, uid, used); got != want {
			t.Fatalf("%s: billed %d, want %d", what, got, want)
		}
		used += want
	}

	// Images: dall-e-3 ratio 20 × size 1 × 1000 per image, two images.
	img, err := c.Images.Generate(ctx, openai.ImageGenerateParams{Model: openai.ImageModelDallE3, Prompt: "a cat",
		N: openai.Int(2), Size: openai.ImageGenerateParamsSize1024x1024})
	if err != nil || len(img.Data) != 2 || img.Data[0].URL == "" {
		t.Fatalf("generate: %v %+v", err, img)
	}
	check("dall-e-3 ×2", 2*int64(20*1*1000))
	// hd at 1024²: ×2.
	if _, err := c.Images.Generate(ctx, openai.ImageGenerateParams{Model: openai.ImageModelDallE3, Prompt: "a cat",
		Quality: openai.ImageGenerateParamsQualityHD, Size: openai.ImageGenerateParamsSize1024x1024}); err != nil {
		t.Fatal(err)
	}
	check("dall-e-3 hd", int64(20*2*1000))
	// A per-image price: $0.04 × 500,000 per image.
	if _, err := c.Images.Generate(ctx, openai.ImageGenerateParams{Model: "gpt-image-1", Prompt: "a cat"}); err != nil {
		t.Fatal(err)
	}
	check("gpt-image-1 ModelPrice", int64(math.Round(0.04*500000)))
	// Edits (multipart): dall-e-2 at 512² is 10 × 1.125 × 1000.
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	ed, err := c.Images.Edit(ctx, openai.ImageEditParams{Image: openai.ImageEditParamsImageUnion{OfFile: openai.File(bytes.NewReader(png), "cat.png", "image/png")},
		Prompt: "add a hat", Model: openai.ImageModelDallE2, Size: openai.ImageEditParamsSize512x512})
	if err != nil || len(ed.Data) != 1 {
		t.Fatalf("edit: %v %+v", err, ed)
	}
	if call := m.last(); call.Path != "/v1/images/edits" || call.Body["image.filename"] != "cat.png" || call.Body["image.size"] != len(png) || call.Body["prompt"] != "add a hat" {
		t.Fatalf("the upstream saw %v", call.Body)
	}
	check("dall-e-2 edit 512²", int64(10*1.125*1000))
	// Variations: three at 256², ratio 10 × 1 × 1000 each.
	va, err := c.Images.NewVariation(ctx, openai.ImageNewVariationParams{Image: openai.File(bytes.NewReader(png), "cat.png", "image/png"),
		Model: openai.ImageModelDallE2, N: openai.Int(3), Size: openai.ImageNewVariationParamsSize256x256})
	if err != nil || len(va.Data) != 3 {
		t.Fatalf("variation: %v %+v", err, va)
	}
	check("dall-e-2 variations ×3", 3*int64(10*1*1000))

	// Speech: Unicode characters × 7.5 (tts-1), rounded up.
	input := "Hello, wörld! 你好"
	sp, err := c.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{Model: openai.SpeechModelTTS1, Input: input,
		Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}})
	if err != nil {
		t.Fatal(err)
	}
	audio, _ := io.ReadAll(sp.Body)
	sp.Body.Close()
	if !bytes.Equal(audio, mockAudio) || sp.Header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("speech: %q %q", sp.Header.Get("Content-Type"), audio)
	}
	check("tts-1", int64(math.Ceil(float64(utf8.RuneCountInString(input))*7.5)))

	// Transcription and translation: tokens of the transcript (⌈bytes/4⌉)
	// × 15 (whisper-1).
	transcriptQuota := int64((len(mockTranscript)+3)/4) * 15
	tr, err := c.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{File: openai.File(bytes.NewReader(mockAudio), "a.mp3", "audio/mpeg"),
		Model: openai.AudioModelWhisper1})
	if err != nil || tr.Text != mockTranscript {
		t.Fatalf("transcription: %v %+v", err, tr)
	}
	check("whisper-1 transcription", transcriptQuota)
	tl, err := c.Audio.Translations.New(ctx, openai.AudioTranslationNewParams{File: openai.File(bytes.NewReader(mockAudio), "a.mp3", "audio/mpeg"),
		Model: openai.AudioModelWhisper1})
	if err != nil || tl.Text != mockTranscript {
		t.Fatalf("translation: %v %+v", err, tl)
	}
	check("whisper-1 translation", transcriptQuota)

	// Moderation: free (ratio 0), passed through.
	mod, err := c.Moderations.New(ctx, openai.ModerationNewParams{Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("I want to kill them.")},
		Model: openai.ModerationModelOmniModerationLatest})
	if err != nil || len(mod.Results) != 1 || !mod.Results[0].Flagged {
		t.Fatalf("moderation: %v %+v", err, mod)
	}
	check("moderation", 0)

	// Responses: (input + output × 2) × 1.5 from the upstream's usage.
	rs, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "test-model", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Tell me a story")}})
	if err != nil || !strings.Contains(rs.OutputText(), "unicorn") || rs.Usage.InputTokens != 36 || rs.Usage.OutputTokens != 87 {
		t.Fatalf("responses: %v %+v", err, rs.Usage)
	}
	check("responses", int64(math.Ceil((36+87*2)*1.5)))
	st := c.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "test-model", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
	var text strings.Builder
	var completed bool
	for st.Next() {
		ev := st.Current()
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.completed":
			completed = ev.Response.Usage.TotalTokens == 48
		}
	}
	if err := st.Err(); err != nil || text.String() != "Hi there! How can I assist you today?" || !completed {
		t.Fatalf("responses stream: %v %q completed=%v", err, text.String(), completed)
	}
	check("responses stream", int64(math.Ceil((37+11*2)*1.5)))
}

// The routes without an SDK method (rerank, the engines embeddings path)
// and the transcript formats the SDK does not parse, over plain HTTP.
func TestOpenAIRoutesPlainHTTP(t *testing.T) {
	g, m, uid, key := routesSetup(t)
	used := int64(0)
	// Rerank: the upstream's 815 prompt tokens × 0.5.
	resp, body := g.post("/v1/rerank", key, `{"model":"rerank-model","query":"organic skincare","documents":["a","b","c"],"top_n":3}`)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "relevance_score") {
		t.Fatalf("rerank: %d %s", resp.StatusCode, body)
	}
	if got := billedSince(t, g, uid, used); got != int64(math.Ceil(815*0.5)) {
		t.Fatalf("rerank billed %d", got)
	}
	used += int64(math.Ceil(815 * 0.5))
	// /v1/engines/:model/embeddings: the model comes from the path.
	resp, body = g.post("/v1/engines/test-embed/embeddings", key, `{"input":"hello"}`)
	if resp.StatusCode != 200 || m.last().Body["model"] != "test-embed" {
		t.Fatalf("engines embeddings: %d %s (upstream %v)", resp.StatusCode, body, m.last().Body)
	}
	if got := billedSince(t, g, uid, used); got != embedCharge {
		t.Fatalf("engines embeddings billed %d", got)
	}
	used += embedCharge
	// Every transcript format reaches the client as the upstream sent it
	// and is billed by the transcript's text alone.
	for _, format := range []string{"text", "srt", "vtt", "verbose_json", "json"} {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.WriteField("model", "whisper-1")
		w.WriteField("response_format", format)
		fw, _ := w.CreateFormFile("file", "a.mp3")
		fw.Write(mockAudio)
		w.Close()
		req, _ := http.NewRequest("POST", g.base+"/v1/audio/transcriptions", &b)
		req.Header.Set("Authorization", "Bearer sk-"+key)
		req.Header.Set("Content-Type", w.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(out), mockTranscript) {
			t.Fatalf("%s: %d %s", format, resp.StatusCode, out)
		}
		if ct := resp.Header.Get("Content-Type"); (format == "json" || format == "verbose_json") != strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s: Content-Type %q", format, ct)
		}
		want := int64((len(mockTranscript)+3)/4) * 15
		if got := billedSince(t, g, uid, used); got != want {
			t.Fatalf("%s: billed %d, want %d", format, got, want)
		}
		used += want
	}
	// An unknown /v1 path: One API's 404 envelope.
	if resp, body := g.post("/v1/no/such/route", key, `{}`); resp.StatusCode != 404 ||
		!strings.Contains(string(body), `"code":"not_found"`) || !strings.Contains(string(body), "Invalid URL (POST /v1/no/such/route)") {
		t.Fatalf("unknown path: %d %s", resp.StatusCode, body)
	}
	// Bad bodies get the OpenAI envelope.
	for path, bad := range map[string]string{"/v1/audio/transcriptions": `{"model":"whisper-1"}`, "/v1/images/generations": `{"model":`} {
		if resp, body := g.post(path, key, bad); resp.StatusCode != 400 || !strings.Contains(string(body), `"error"`) {
			t.Fatalf("%s with %s: %d %s", path, bad, resp.StatusCode, body)
		}
	}
}
