package openai

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
)

// Audio answers: /v1/audio/speech returns the audio itself (the format the
// request's response_format names, mp3 by default); transcriptions and
// translations return JSON (json, verbose_json, diarized_json) or, for
// response_format text, srt and vtt, the text itself, which OpenAI labels
// text/plain whatever the format.

// plainText is the Content-Type of text transcripts whose upstream sent
// none, as OpenAI labels them.
const plainText = "text/plain; charset=utf-8"

// parseSpeech converts a speech answer: the audio bytes, relayed as they
// came with their type. A JSON object in their place is an error envelope
// (some upstreams answer 200 with one) or, without one, not audio; a text
// page (a proxy's HTML) is not audio either. Audio carries no usage; the
// gateway bills speech from the request (its input text).
func (a *Adaptor) parseSpeech(req *adaptors.Request, mt, contentType string, body []byte) (*adaptors.Response, error) {
	if mt == "" {
		mt = sniffHTML(body)
	}
	if mt == "application/json" || mt == "" && isObject(body) {
		var w responseWire
		err := decodeStrict(body, &w)
		if err == nil {
			if e := a.embeddedError(body, w.Error, w.BaseResp); e != nil {
				return nil, e
			}
			return nil, fmt.Errorf("%s: %w: json where audio was expected", a.cfg.Name, adaptors.ErrInvalidResponse)
		}
		if mt != "" {
			return nil, fmt.Errorf("%s: %w: %v", a.cfg.Name, adaptors.ErrInvalidResponse, err)
		}
		// Not JSON after all: raw PCM may start with '{'.
	}
	if strings.HasPrefix(mt, "text/") {
		return nil, fmt.Errorf("%s: %w: %s where audio was expected", a.cfg.Name, adaptors.ErrInvalidResponse, mt)
	}
	if len(body) == 0 {
		return nil, fmt.Errorf("%s: %w: empty audio", a.cfg.Name, adaptors.ErrInvalidResponse)
	}
	if contentType == "" {
		contentType = speechType(req.Body)
	}
	return &adaptors.Response{Body: body, ContentType: contentType}, nil
}

// speechType derives the Content-Type of a speech answer from the
// request's response_format, for upstreams that send none.
func speechType(reqBody []byte) string {
	var w struct {
		ResponseFormat string `json:"response_format"`
	}
	if isObject(reqBody) && decodeStrict(reqBody, &w) != nil {
		w.ResponseFormat = ""
	}
	switch w.ResponseFormat {
	case "", "mp3": // mp3 is the default
		return "audio/mpeg"
	case "opus":
		return "audio/opus"
	case "aac":
		return "audio/aac"
	case "flac":
		return "audio/flac"
	case "wav":
		return "audio/wav"
	case "pcm":
		return "audio/pcm"
	}
	return "application/octet-stream"
}

// transcriptWire picks the transcript and usage out of a JSON transcript
// (json, verbose_json and diarized_json all carry the whole text in
// "text"). Token-billed models report usage of type "tokens"
// (input/output/total); whisper-1 reports type "duration" (seconds), which
// is not token usage and decodes to none.
type transcriptWire struct {
	Text     string                 `json:"text"`
	Usage    *usageWire             `json:"usage"`
	Error    sonic.NoCopyRawMessage `json:"error"`
	BaseResp *baseResp              `json:"base_resp"`
}

// parseTranscript converts a transcription or translation answer,
// relayed untouched; Text gets the transcript.
func (a *Adaptor) parseTranscript(mt, contentType string, body []byte) (*adaptors.Response, error) {
	if mt == "" {
		mt = sniffHTML(body)
	}
	if mt == "application/json" || mt == "" && isObject(body) {
		var w transcriptWire
		if err := a.decodeAnswer(body, &w); err != nil {
			return nil, err
		}
		if e := a.embeddedError(body, w.Error, w.BaseResp); e != nil {
			return nil, e
		}
		// Clone: the decoder lets strings alias the body.
		return &adaptors.Response{Body: body, Usage: w.Usage.usage(), Text: strings.Clone(w.Text)}, nil
	}
	if mt == "text/html" || !utf8.Valid(body) {
		return nil, fmt.Errorf("%s: %w: not a transcript", a.cfg.Name, adaptors.ErrInvalidResponse)
	}
	if contentType == "" {
		contentType = plainText
	}
	return &adaptors.Response{Body: body, ContentType: contentType, Text: transcriptText(string(body))}, nil
}

// sniffHTML returns "text/html" when an untyped body is an HTML page (a
// proxy's error or maintenance page answered with 200), else "". Only
// HTML is sniffed: audio formats are too many to recognise, and a
// transcript has no signature.
func sniffHTML(body []byte) string {
	if strings.HasPrefix(http.DetectContentType(body), "text/html") {
		return "text/html"
	}
	return ""
}

// transcriptText extracts the spoken text of a text, SRT or WebVTT
// transcript: subtitle numbers, timings, headers and notes are dropped,
// and the text lines of the cues are joined with newlines. The format is
// recognised by its shape (OpenAI labels all three text/plain): WebVTT
// starts with "WEBVTT"; SRT starts with a cue number followed by a timing
// line; anything else is plain text, returned trimmed.
func transcriptText(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	s = strings.TrimSpace(s)
	vtt := isWebVTT(s)
	if !vtt && !strings.Contains(s, "-->") {
		return s // plain text (also the fast path)
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if vtt || isSRT(s) {
		return cueText(s, vtt)
	}
	return s
}

// isWebVTT reports whether s starts with the WebVTT signature: "WEBVTT"
// alone on its line or followed by a space or tab.
func isWebVTT(s string) bool {
	rest, ok := strings.CutPrefix(s, "WEBVTT")
	return ok && (rest == "" || rest[0] == '\n' || rest[0] == '\r' || rest[0] == ' ' || rest[0] == '\t')
}

// isSRT reports whether s starts with an SRT cue: a number line, then a
// timing line.
func isSRT(s string) bool {
	first, rest, _ := strings.Cut(s, "\n")
	first = strings.TrimSpace(first)
	if first == "" || strings.Trim(first, "0123456789") != "" {
		return false
	}
	second, _, _ := strings.Cut(rest, "\n")
	return strings.Contains(second, "-->")
}

// cueText joins the text lines of the cues of s (blocks separated by
// blank lines; a cue's text follows its timing line). For WebVTT the
// header block and NOTE, STYLE and REGION blocks are skipped, as are
// blocks without a timing line (the format allows nothing else); in SRT
// such a block can only be a cue's text that itself contained a blank
// line, so it is kept.
func cueText(s string, vtt bool) string {
	var b strings.Builder
	b.Grow(len(s) / 2)
	first := true
	for block := range strings.SplitSeq(s, "\n\n") {
		block = strings.Trim(block, "\n")
		if block == "" {
			continue
		}
		if vtt && (first || isVTTMetaBlock(block)) {
			first = false
			continue
		}
		first = false
		text := block
		if _, after, ok := strings.Cut(block, "-->"); ok {
			// The timing line ends at the next newline; everything after
			// it is text.
			_, text, _ = strings.Cut(after, "\n")
		} else if vtt {
			continue
		}
		for line := range strings.SplitSeq(text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(line)
		}
	}
	return b.String()
}

// isVTTMetaBlock reports whether a WebVTT block is a comment, style sheet
// or region definition rather than a cue.
func isVTTMetaBlock(block string) bool {
	for _, kw := range [...]string{"NOTE", "STYLE", "REGION"} {
		if rest, ok := strings.CutPrefix(block, kw); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n') {
			return true
		}
	}
	return false
}
