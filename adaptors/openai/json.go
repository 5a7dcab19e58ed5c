package openai

import (
	"encoding/json"
	"errors"
	"sync"
	"unsafe"

	"github.com/bytedance/sonic/decoder"
)

// jsonDecoder decodes JSON without copying the input: strings and
// NoCopyRawMessage fields in the destination alias the input bytes, so a
// destination must not outlive the bytes it was decoded from (callers keep
// only integers, or copy). One jsonDecoder serves one goroutine; a stream
// decoder keeps one for the whole stream so that chunks do not allocate a
// sonic decoder each.
type jsonDecoder struct {
	d *decoder.Decoder
}

// newJSONDecoder returns a decoder. Case-sensitive key matching is both
// faster and exact (OpenAI's keys are lower case, and "Model" must not be
// taken for "model"); error bodies are decoded case-insensitively because
// some vendors capitalise (Tencent's Response.Error.Message).
func newJSONDecoder(caseSensitive bool) jsonDecoder {
	d := decoder.NewDecoder("")
	if caseSensitive {
		d.SetOptions(decoder.OptionCaseSensitive)
	}
	return jsonDecoder{d: d}
}

// decode decodes the single JSON value b into v. A type mismatch in a
// field the gateway does not strictly need (a vendor sending a string
// where a number was expected) leaves every other field decoded, so it is
// not an error; a syntax error or trailing garbage is.
func (j jsonDecoder) decode(b []byte, v any) error {
	j.d.Reset(unsafe.String(unsafe.SliceData(b), len(b)))
	err := j.d.Decode(v)
	if err == nil {
		err = j.d.CheckTrailings()
	}
	if err == nil {
		return nil
	}
	// The native decoder reports *decoder.MismatchTypeError; the portable
	// fallback (non-amd64/arm64 or unsupported Go) reports encoding/json's.
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return j.d.CheckTrailings()
	}
	return err
}

// strictDecoders recycles case-sensitive decoders for one-shot decodes on
// the request path (a sonic decoder costs a few allocations).
var strictDecoders = sync.Pool{New: func() any { return newJSONDecoder(true) }}

// decodeStrict decodes b into v case-sensitively with a pooled decoder.
func decodeStrict(b []byte, v any) error {
	j := strictDecoders.Get().(jsonDecoder)
	err := j.decode(b, v)
	j.d.Reset("") // drop the reference to b
	strictDecoders.Put(j)
	return err
}

// decodeJSON decodes b into v case-insensitively with a fresh decoder
// (error bodies and other cold paths).
func decodeJSON(b []byte, v any) error {
	return newJSONDecoder(false).decode(b, v)
}
