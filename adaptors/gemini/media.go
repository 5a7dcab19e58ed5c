package gemini

import (
	"encoding/json"
	"path"
	"strings"

	"switchyard/adaptors/internal/openaiwire"
)

// Media: user content parts (text, images, audio, files) become Gemini
// parts; inline bytes stay base64, as Gemini takes them.

// userParts converts user content: text, images, audio and files.
func userParts(raw []byte, i int) ([]upPart, error) {
	parts, err := contentParts(raw, i)
	if err != nil {
		return nil, err
	}
	out := make([]upPart, 0, len(parts))
	for j, p := range parts {
		switch p.Type {
		case "text":
			if p.Text != "" {
				out = append(out, upPart{Text: p.Text})
			}
		case "image_url":
			part, problem := imagePart(p.ImageURL)
			if problem != "" {
				return nil, invalidBody("messages[%d].content[%d].image_url: %s", i, j, problem)
			}
			out = append(out, part)
		case "input_audio":
			if p.InputAudio == nil || p.InputAudio.Data == "" || p.InputAudio.Format == "" {
				return nil, invalidBody("messages[%d].content[%d].input_audio: data and format are required", i, j)
			}
			out = append(out, upPart{InlineData: &upBlob{MimeType: "audio/" + p.InputAudio.Format, Data: p.InputAudio.Data}})
		case "file":
			if p.File == nil || p.File.FileData == "" {
				return nil, invalidBody("messages[%d].content[%d].file: only inline file_data is supported (no file_id)", i, j)
			}
			mime, data, ok := parseDataURL(p.File.FileData)
			if !ok {
				return nil, invalidBody("messages[%d].content[%d].file.file_data: must be a base64 data: URL", i, j)
			}
			if mime == "" {
				mime = mimeByExt(p.File.Filename, "application/pdf")
			}
			out = append(out, upPart{InlineData: &upBlob{MimeType: mime, Data: data}})
		default:
			return nil, invalidBody("messages[%d].content[%d].type: unsupported content part %q", i, j, p.Type)
		}
	}
	return out, nil
}

// imagePart converts an image_url: a data: URL to inlineData, an http(s)
// URL to fileData. problem says what is wrong with anything else.
func imagePart(raw json.RawMessage) (part upPart, problem string) {
	var u string
	if len(raw) > 0 && raw[0] == '"' {
		_ = openaiwire.API.Unmarshal(raw, &u)
	} else if isPresent(raw) {
		var iu struct {
			URL string `json:"url"`
		}
		if err := openaiwire.API.Unmarshal(raw, &iu); err != nil {
			return upPart{}, err.Error()
		}
		u = iu.URL
	}
	if strings.HasPrefix(u, "data:") {
		mime, data, ok := parseDataURL(u)
		if !ok {
			return upPart{}, "a data: URL must be base64"
		}
		if mime == "" {
			mime = "image/jpeg"
		}
		return upPart{InlineData: &upBlob{MimeType: mime, Data: data}}, ""
	}
	lower := strings.ToLower(u)
	if strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") {
		p := u
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		return upPart{FileData: &upFileData{MimeType: mimeByExt(p, "image/jpeg"), FileURI: u}}, ""
	}
	return upPart{}, "the url must be a data: or http(s) URL"
}

// parseDataURL splits data:<mime>[;params];base64,<data>.
func parseDataURL(u string) (mime, data string, ok bool) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", false
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok || !strings.HasSuffix(strings.ToLower(meta), ";base64") {
		return "", "", false
	}
	mime, _, _ = strings.Cut(meta, ";")
	return strings.TrimSpace(mime), strings.TrimSpace(data), true
}

// mimeByExt guesses a MIME type from a file name or URL path, for the
// types Gemini reads.
func mimeByExt(name, fallback string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	case ".heic":
		return "image/heic"
	case ".heif":
		return "image/heif"
	case ".pdf":
		return "application/pdf"
	case ".mp3":
		return "audio/mp3"
	case ".wav":
		return "audio/wav"
	case ".txt":
		return "text/plain"
	}
	return fallback
}
