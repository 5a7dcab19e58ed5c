package transport

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"switchyard/actors"
	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// multipartMode reports the modes whose bodies are multipart form data
// (image edits also accept JSON, for GPT image models).
func multipartMode(m adaptors.Mode) bool {
	switch m {
	case adaptors.ModeImagesEdits, adaptors.ModeImagesVariations,
		adaptors.ModeAudioTranscriptions, adaptors.ModeAudioTranslations:
		return true
	}
	return false
}

// imageMode reports the image modes (billed per image).
func imageMode(m adaptors.Mode) bool {
	return m == adaptors.ModeImagesGenerations || m == adaptors.ModeImagesEdits || m == adaptors.ModeImagesVariations
}

// transcriptMode reports speech-to-text (billed by the transcript).
func transcriptMode(m adaptors.Mode) bool {
	return m == adaptors.ModeAudioTranscriptions || m == adaptors.ModeAudioTranslations
}

// chatStream reports the modes whose stream is OpenAI chat chunks ending
// with [DONE] (the others pass named events through and end at EOF).
func chatStream(m adaptors.Mode) bool {
	return m == adaptors.ModeChat || m == adaptors.ModeCompletions
}

// modeWire holds what the relay reads of the bodies of the modes beyond
// chat: image options, speech input, Responses' output budget.
type modeWire struct {
	peekWire
	Size            string `json:"size"`
	Quality         string `json:"quality"`
	Input           any    `json:"input"`
	StreamFormat    string `json:"stream_format"`
	MaxOutputTokens *int64 `json:"max_output_tokens"`
}

// peekMode reads what the relay needs of a request of mode: the chat
// members (peek) for chat, completions and embeddings; more for the
// others, from JSON or from a multipart form.
func peekMode(mode adaptors.Mode, body []byte, contentType string) (peeked, *schema.Error) {
	switch mode {
	case adaptors.ModeChat, adaptors.ModeCompletions, adaptors.ModeEmbeddings:
		p, err := peek(body)
		if err != nil {
			return p, errBadJSON
		}
		if mode == adaptors.ModeEmbeddings {
			p.stream = false
		}
		return p, nil
	}
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt == "multipart/form-data" {
		if !multipartMode(mode) {
			return peeked{}, apiError(http.StatusBadRequest, typeInvalidRequest, "invalid_request_body",
				"This endpoint takes a JSON body.")
		}
		return peekForm(mode, body, params["boundary"])
	}
	if mode == adaptors.ModeImagesVariations || transcriptMode(mode) {
		return peeked{}, apiError(http.StatusBadRequest, typeInvalidRequest, "invalid_request_body",
			"This endpoint takes a multipart/form-data body.")
	}
	var w modeWire
	if err := sonic.Unmarshal(body, &w); err != nil {
		return peeked{}, errBadJSON
	}
	p := peeked{model: w.Model, n: 1, size: w.Size, quality: w.Quality}
	if w.N != nil && *w.N > 1 && *w.N <= 128 {
		p.n = int(*w.N)
	}
	switch mode {
	case adaptors.ModeAudioSpeech:
		p.input, _ = w.Input.(string)
		p.stream = w.StreamFormat == "sse"
	case adaptors.ModeResponses:
		p.stream = w.Stream
		if w.MaxOutputTokens != nil && *w.MaxOutputTokens > 0 {
			p.maxTokens = int(*w.MaxOutputTokens)
		}
	case adaptors.ModeImagesGenerations, adaptors.ModeImagesEdits:
		p.stream = w.Stream
		if p.model == "" {
			p.model = "dall-e-2" // OpenAI's default
		}
	}
	return p, nil
}

// peekForm reads the form fields of a multipart request (file parts are
// skipped without copying).
func peekForm(mode adaptors.Mode, body []byte, boundary string) (peeked, *schema.Error) {
	p := peeked{n: 1, multipart: true}
	bad := apiError(http.StatusBadRequest, typeInvalidRequest, "invalid_request_body", "The multipart form could not be read.")
	if boundary == "" {
		return p, bad
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return p, bad
		}
		if part.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 4096))
		if err != nil {
			return p, bad
		}
		val := strings.TrimSpace(string(v))
		switch part.FormName() {
		case "model":
			p.model = val
		case "n":
			if n, err := strconv.Atoi(val); err == nil && n > 1 && n <= 128 {
				p.n = n
			}
		case "size":
			p.size = val
		case "quality":
			p.quality = val
		case "stream":
			p.stream = val == "true"
		}
	}
	if p.model == "" && imageMode(mode) {
		p.model = "dall-e-2"
	}
	return p, nil
}

// transcriptReserve is the transcript length, in tokens, reserved for a
// speech-to-text request before the answer says how long it is.
const transcriptReserve = 1000

// estimate is the quota a request reserves, by mode.
func (k *call) estimate(group string) int64 {
	p, r := k.p, k.ratios
	switch {
	case imageMode(k.mode):
		return k.pricing.ImageQuota(p.model, group, p.size, p.quality, p.n)
	case k.mode == adaptors.ModeAudioSpeech:
		return r.SpeechQuota(p.input)
	case transcriptMode(k.mode):
		return r.Quota(transcriptReserve, 0)
	case k.mode == adaptors.ModeEmbeddings || k.mode == adaptors.ModeModerations || k.mode == adaptors.ModeRerank:
		return r.Quota(k.prompt, 0)
	}
	budget := p.maxTokens
	if budget == 0 {
		budget = k.pricing.DefaultMaxTokens
	}
	return r.Quota(k.prompt, budget*max(p.n, 1))
}

// charge is what a served request costs and the usage logged with it, by
// mode: images per image (the images returned, else the n asked for),
// speech per input character, speech-to-text by the transcript's tokens
// (TextTokens of the text, or of the streamed text bytes), everything else
// by its token usage (estimated when the upstream reported none).
func (k *call) charge(u *adaptors.Usage, images int, text string, outBytes int) (*adaptors.Usage, int64) {
	switch {
	case imageMode(k.mode):
		if images == 0 {
			images = k.p.n
		}
		return &adaptors.Usage{}, k.pricing.ImageQuota(k.p.model, k.group, k.p.size, k.p.quality, images)
	case k.mode == adaptors.ModeAudioSpeech:
		chars := utf8.RuneCountInString(k.p.input)
		return &adaptors.Usage{PromptTokens: chars, TotalTokens: chars}, k.ratios.SpeechQuota(k.p.input)
	case transcriptMode(k.mode):
		tokens := actors.TextTokens(text)
		if text == "" {
			tokens = (outBytes + 3) / 4
		}
		return &adaptors.Usage{CompletionTokens: tokens, TotalTokens: tokens}, k.ratios.Quota(tokens, 0)
	}
	if u == nil {
		u = &adaptors.Usage{PromptTokens: k.prompt}
		if k.mode != adaptors.ModeEmbeddings && k.mode != adaptors.ModeModerations && k.mode != adaptors.ModeRerank {
			u.CompletionTokens = (outBytes + 3) / 4
		}
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return u, k.ratios.QuotaCached(u.PromptTokens, u.CachedTokens, u.CacheWriteTokens, u.CompletionTokens)
}

// withModel returns a JSON body with its model member set (the engines
// route names the model in the path).
func withModel(body []byte, model string) ([]byte, error) {
	var m map[string]any
	if err := sonic.Unmarshal(body, &m); err != nil || m == nil {
		return nil, errors.New("not a JSON object")
	}
	m["model"] = model
	return sonic.Marshal(m)
}
