package openai

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"switchyard/adaptors"
)

// Multipart request bodies (image edits and variations, transcriptions,
// translations).
//
// The body is forwarded byte for byte with the client's Content-Type (the
// boundary lives there) unless the channel maps the model. Then the body
// is re-encoded with mime/multipart: every part is copied in order with
// its header values (Content-Disposition with name and filename,
// Content-Type) and its content unchanged, only the content of the
// "model" field is replaced (or a "model" field appended when the client
// sent none). Raw parts are read, so a part sent with a
// Content-Transfer-Encoding is copied encoded, as the client wrote it.
// The encoder writes header keys in canonical form and sorted order and
// drops the preamble and epilogue; nothing an HTTP form parser reads
// changes.
//
// The re-encoded body keeps the client's boundary, so the upstream
// Content-Type is the client's exact header. Only when that boundary
// cannot be reused (mime/multipart refuses its characters or length, or
// the new model name contains it) is a new one derived from a hash of the
// body: deterministic (adaptors use no randomness, and golden files stay
// stable) and, being the digest of the very bytes it delimits, absent
// from them.

// errNoBoundary is returned for a multipart Content-Type without a
// boundary parameter.
var errNoBoundary = errors.New("multipart content type has no boundary")

// isMultipart reports whether a Content-Type names a multipart body.
func isMultipart(contentType string) bool {
	ct := strings.TrimSpace(contentType)
	return len(ct) >= len("multipart/") && strings.EqualFold(ct[:len("multipart/")], "multipart/")
}

// multipartBody returns the body and Content-Type to send for a multipart
// request.
func (a *Adaptor) multipartBody(req *adaptors.Request) ([]byte, string, error) {
	_, params, err := mime.ParseMediaType(req.ContentType)
	if err == nil && params["boundary"] == "" {
		err = errNoBoundary
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w: %v", a.cfg.Name, adaptors.ErrInvalidBody, err)
	}
	if req.Model == "" || req.Model == req.OriginModel {
		// The relay read the model from this very body and the channel
		// maps it to itself (or there is no model to set).
		return req.Body, req.ContentType, nil
	}
	body, boundary, err := rewriteMultipartModel(req.Body, params["boundary"], req.Model)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w: %v", a.cfg.Name, adaptors.ErrInvalidBody, err)
	}
	if boundary == params["boundary"] {
		return body, req.ContentType, nil
	}
	return body, mime.FormatMediaType("multipart/form-data", map[string]string{"boundary": boundary}), nil
}

// rewriteMultipartModel returns body with its "model" field set to model,
// and the boundary the result is written with. It returns body itself
// (same slice) when the field already holds model.
func rewriteMultipartModel(body []byte, boundary, model string) ([]byte, string, error) {
	var out bytes.Buffer
	out.Grow(len(body) + len(model) + 128)
	w := multipart.NewWriter(&out)
	outBoundary := boundary
	if strings.Contains(model, boundary) || w.SetBoundary(boundary) != nil {
		outBoundary = hashBoundary(body)
		if err := w.SetBoundary(outBoundary); err != nil {
			return nil, "", err // unreachable: hex digits are valid
		}
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	seen, changed := false, false
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", err
		}
		pw, err := w.CreatePart(p.Header)
		if err != nil {
			return nil, "", err
		}
		if p.FormName() == "model" && p.FileName() == "" {
			seen = true
			old, err := io.ReadAll(p)
			if err != nil {
				return nil, "", err
			}
			if string(old) != model {
				changed = true
			}
			_, err = io.WriteString(pw, model)
			if err != nil {
				return nil, "", err
			}
			continue
		}
		if _, err := io.Copy(pw, p); err != nil {
			return nil, "", err
		}
	}
	if seen && !changed {
		return body, boundary, nil
	}
	if !seen {
		if err := w.WriteField("model", model); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return out.Bytes(), outBoundary, nil
}

// hashBoundary derives a boundary from the body it will delimit.
func hashBoundary(body []byte) string {
	sum := sha256.Sum256(body)
	// 128 bits of the digest keep it under the 70 characters RFC 2046
	// allows a boundary.
	return "switchyard-" + hex.EncodeToString(sum[:16])
}
