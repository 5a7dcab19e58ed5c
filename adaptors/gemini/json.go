package gemini

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"
)

// wire decodes upstream answers: keys match case-sensitively (Google's
// proto JSON names are exact) and strings alias the input, which the
// callers never keep without copying.
var wire = sonic.Config{CaseSensitive: true}.Froze()

// unmarshal decodes b into v with the wire configuration without copying
// b first (sonic's []byte entry point copies the input into a string).
// Strings in v may alias b: b must not change while v is in use.
func unmarshal(b []byte, v any) error {
	return wire.UnmarshalFromString(unsafe.String(unsafe.SliceData(b), len(b)), v)
}

// decodeWire decodes one upstream JSON value into v. A type mismatch in
// one field leaves the others decoded and is not an error (the gateway
// converts what it can rather than fail a whole answer over an optional
// field); syntax errors are.
func decodeWire(b []byte, v any) error {
	err := unmarshal(b, v)
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return nil
	}
	return err
}

// isObject reports whether b starts, after whitespace, with '{'.
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

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does; HTML characters are left alone, as Google's and
// OpenAI's own answers leave them.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// appendEscaped appends s escaped for the inside of a JSON string.
func appendEscaped(dst []byte, s string) []byte {
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
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
	return append(dst, s[start:]...)
}
