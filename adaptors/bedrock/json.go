package bedrock

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"
)

// jsonDecoder decodes without copying the input: strings and
// NoCopyRawMessage fields alias the input bytes, so a destination must
// not outlive them. One jsonDecoder serves one goroutine; a stream decoder
// keeps one for the whole stream.
type jsonDecoder struct {
	d *decoder.Decoder
}

// newJSONDecoder returns a case-sensitive decoder: Bedrock's keys are
// exact camel case.
func newJSONDecoder() jsonDecoder {
	d := decoder.NewDecoder("")
	d.SetOptions(decoder.OptionCaseSensitive)
	return jsonDecoder{d: d}
}

// decode decodes the single JSON value b into v. A type mismatch in one
// field leaves the others decoded and is not an error; a syntax error or
// trailing garbage is.
func (j jsonDecoder) decode(b []byte, v any) error {
	j.d.Reset(unsafe.String(unsafe.SliceData(b), len(b)))
	err := j.d.Decode(v)
	if err == nil {
		err = j.d.CheckTrailings()
	}
	j.d.Reset("") // drop the reference to b
	if err == nil {
		return nil
	}
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return nil
	}
	return err
}

// copyAPI decodes one-shot bodies whose strings outlive the input (the
// client's request, error bodies): strings are copied, keys exact.
var copyAPI = sonic.Config{CaseSensitive: true, CopyString: true}.Froze()

// looseAPI decodes error bodies, whose keys vary in case.
var looseAPI = sonic.Config{CopyString: true}.Froze()

// decodeLoose decodes an error body case-insensitively.
func decodeLoose(b []byte, v any) error {
	err := looseAPI.Unmarshal(b, v)
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return nil
	}
	return err
}

// isObject reports whether b holds a JSON object (after leading
// whitespace); syntax is checked by the decoder.
func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

// isPresent reports whether a raw member was sent with a non-null value.
func isPresent(raw []byte) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// appendString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, every
// other character (HTML ones included) as is, as the providers' own
// answers are written.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', upperHex[c>>4], upperHex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendRawString appends raw, a JSON string literal taken from an
// upstream payload, as is; anything else (a number, an object, garbage
// that the decoder let through as raw) is quoted so the output stays
// valid JSON.
func appendRawString(dst []byte, raw []byte) []byte {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		return append(dst, raw...)
	}
	return appendString(dst, string(raw))
}

// rawTextLen returns the UTF-8 length of the text of a raw JSON string as
// decoded (escapes counted as the bytes they stand for), without
// allocating; a value that is not a string counts its raw size.
func rawTextLen(raw []byte) int {
	if len(raw) < 2 || raw[0] != '"' {
		if isPresent(raw) {
			return len(raw)
		}
		return 0
	}
	s := raw[1 : len(raw)-1]
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			n++
			continue
		}
		i++
		if s[i] != 'u' {
			n++ // \n, \", \\, \/, \t, …: one byte each
			continue
		}
		r, ok := hex4(s, i+1)
		if !ok {
			n++
			continue
		}
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if lo, ok := hex4(s, i+3); ok && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' && lo >= 0xDC00 && lo < 0xE000 {
				i += 6 // a surrogate pair: one 4-byte character
				n += 4
				continue
			}
			n += 3 // a lone surrogate decodes as U+FFFD
		case r >= 0xDC00 && r < 0xE000:
			n += 3
		default:
			n += utf8.RuneLen(r)
		}
	}
	return n
}

// hex4 parses the four hex digits at s[i:i+4].
func hex4(s []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
