package gemini

import (
	"encoding/json"
	"errors"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"
)

// jsonAPI is the one JSON configuration of the package. Keys match case
// sensitively (proto JSON names are exact, and OpenAI's keys are lower
// case); decoded strings are copied because the stream encoder keeps ids,
// names and buffered arguments after the caller has reused its chunk
// buffer; embedded raw JSON (function arguments, schemas) is compacted so
// that every payload stays on one SSE data line; HTML characters are left
// alone.
var jsonAPI = sonic.Config{
	CaseSensitive:    true,
	CopyString:       true,
	CompactMarshaler: true,
}.Froze()

// marshal encodes v, which holds only strings, numbers, booleans, slices
// of those and validated raw JSON, so it cannot fail.
func marshal(v any) []byte {
	b, err := jsonAPI.Marshal(v)
	if err != nil {
		panic("gemini: marshal: " + err.Error())
	}
	return b
}

// decodeLenient decodes an upstream payload. A type mismatch in one field
// (a vendor sending a number where a string was expected) leaves every
// other field decoded and is not an error: the gateway relays what it can
// rather than failing a whole answer over an optional field. Syntax errors
// are errors.
func decodeLenient(b []byte, v any) error {
	err := jsonAPI.Unmarshal(b, v)
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

// jsonObjectOrEmpty returns s when it is a JSON object, else "{}".
// functionCall.args is a Struct (an object) in Gemini's schema, and
// OpenAI-dialect upstreams sometimes send truncated or empty argument
// strings.
func jsonObjectOrEmpty(s string) json.RawMessage {
	if isObject([]byte(s)) && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return json.RawMessage("{}")
}
