package openai

import (
	"mime"

	"switchyard/adaptors"
)

var _ adaptors.TypedResponseParser = (*Adaptor)(nil)

// ParseResponse implements adaptors.Adaptor. Without the upstream's
// Content-Type, the answer's type is inferred: speech audio is whatever is
// not a JSON object (its type is derived from the request's
// response_format), a transcript is JSON when it is a JSON object and
// otherwise plain text, SRT or WebVTT as its shape says.
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	return a.ParseTypedResponse(req, "", body)
}

// ParseTypedResponse implements adaptors.TypedResponseParser. The JSON
// surfaces ignore contentType (a JSON object is required whatever the
// header says); speech and transcription answers are told apart by it.
func (a *Adaptor) ParseTypedResponse(req *adaptors.Request, contentType string, body []byte) (*adaptors.Response, error) {
	switch req.Mode {
	case adaptors.ModeAudioSpeech:
		return a.parseSpeech(req, mediaType(contentType), contentType, body)
	case adaptors.ModeAudioTranscriptions, adaptors.ModeAudioTranslations:
		return a.parseTranscript(mediaType(contentType), contentType, body)
	case adaptors.ModeImagesGenerations, adaptors.ModeImagesEdits, adaptors.ModeImagesVariations:
		return a.parseImages(body)
	case adaptors.ModeRerank:
		return a.parseRerank(body)
	case adaptors.ModeModerations:
		resp, err := a.parseJSON(body)
		if err == nil {
			// Moderations are free and report no usage; a vendor's
			// stray usage object must not be billed.
			resp.Usage = nil
		}
		return resp, err
	}
	return a.parseJSON(body)
}

// mediaType returns the lower-case media type of a Content-Type header,
// or "" when it is absent or unparsable (the body's shape decides then).
func mediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}
