package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"switchyard/adaptors/internal/openaiwire"
)

// normalizeSchema turns a Gemini Schema (the OpenAPI 3.0 subset of
// FunctionDeclaration.parameters and responseSchema) into the JSON Schema
// OpenAI-dialect upstreams validate: type names are lower-cased ("OBJECT"
// is "object"; TYPE_UNSPECIFIED is dropped), `nullable: true` becomes a
// ["<type>","null"] type, and Gemini's propertyOrdering, which JSON Schema
// does not know, is dropped. It recurses through properties, items,
// anyOf and the other subschema keywords, never into property names or
// enum values, and keeps every other keyword and the key order.
// parametersJsonSchema and responseJsonSchema are JSON Schema already and
// are not passed through here.
func normalizeSchema(raw json.RawMessage) (json.RawMessage, error) {
	if !openaiwire.IsObject(raw) {
		return raw, nil
	}
	members, err := objectMembers(raw)
	if err != nil {
		return nil, err
	}
	nullable := false
	kept := members[:0]
	for _, m := range members {
		switch m.key {
		case "type":
			var t string
			if json.Unmarshal(m.value, &t) == nil {
				if strings.EqualFold(t, "TYPE_UNSPECIFIED") {
					continue
				}
				m.value = openaiwire.Marshal(strings.ToLower(t))
			}
		case "nullable":
			nullable = string(m.value) == "true"
			continue
		case "propertyOrdering", "property_ordering":
			continue
		case "properties", "$defs", "definitions", "patternProperties":
			if m.value, err = mapSchemas(m.value); err != nil {
				return nil, err
			}
		case "items", "additionalProperties", "not", "contains":
			if m.value, err = normalizeSchema(m.value); err != nil {
				return nil, err
			}
		case "anyOf", "oneOf", "allOf", "prefixItems":
			if m.value, err = arraySchemas(m.value); err != nil {
				return nil, err
			}
		}
		kept = append(kept, m)
	}
	if nullable {
		for i, m := range kept {
			if m.key == "type" && len(m.value) > 0 && m.value[0] == '"' {
				kept[i].value = append(append(append([]byte("["), m.value...), `,"null"`...), ']')
			}
		}
	}
	return writeObject(kept), nil
}

// member is one key/value of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers splits a JSON object into its members, keeping their
// order (a Go map would lose it, and property order guides generation).
func objectMembers(raw json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("expected an object")
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("expected an object key")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		ms = append(ms, member{key: key, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return ms, nil
}

// writeObject renders members as a JSON object.
func writeObject(ms []member) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(openaiwire.Marshal(m.key))
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// mapSchemas normalizes every value of an object of schemas (properties).
func mapSchemas(raw json.RawMessage) (json.RawMessage, error) {
	if !openaiwire.IsObject(raw) {
		return raw, nil
	}
	ms, err := objectMembers(raw)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if ms[i].value, err = normalizeSchema(ms[i].value); err != nil {
			return nil, err
		}
	}
	return writeObject(ms), nil
}

// arraySchemas normalizes every element of an array of schemas (anyOf).
func arraySchemas(raw json.RawMessage) (json.RawMessage, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return raw, nil
	}
	for i := range elems {
		n, err := normalizeSchema(elems[i])
		if err != nil {
			return nil, err
		}
		elems[i] = n
	}
	return openaiwire.Marshal(elems), nil
}
