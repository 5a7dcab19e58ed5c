package openai

import (
	"bytes"
	"errors"
	"unsafe"

	"github.com/bytedance/sonic"
)

// Request-body rewriting.
//
// The hot path forwards the client's bytes untouched. When a rewrite is
// needed (channel model mapping, forcing stream_options.include_usage,
// removing stream_options for upstreams that reject it) the body is edited
// by splicing: the byte spans of "model" and "stream_options" are located
// and the new body is the old one with those spans replaced. Compared with
// decoding into map[string]RawMessage and re-encoding, splicing keeps
// every other byte (key order, number formatting, unknown fields) exactly
// as the client sent it, makes the output deterministic (so golden files
// are stable), and costs one allocation of the final size.
//
// Locating is one sonic pass (SIMD skipping, whole-body validation) into a
// struct of two NoCopyRawMessage fields, whose slices alias the body so
// their offsets are known. If they do not alias it (sonic's portable
// fallback copies), a plain Go walker of the top-level object (scanTop)
// does the same job, slower.
//
// Keys match case-sensitively. When a key is duplicated, the last
// occurrence is the one read and edited, as JSON decoders (OpenAI's
// included) resolve duplicates.

var errNotObject = errors.New("not a json object")

// member is the location of one top-level member in the body.
type member struct {
	found       bool
	keyStart    int // index of the key's opening quote
	valStart    int // index of the value's first byte
	valEnd      int // index just past the value
	commaAfter  int // index of the comma following the value, or -1
	commaBefore int // index of the comma preceding the key, or -1
}

// topLevel is what scanTop learns about a body.
type topLevel struct {
	model, streamOptions member
	open, close          int  // indexes of the object's braces
	empty                bool // no members at all
}

// topRaw receives the two members the rewrite cares about.
type topRaw struct {
	Model         sonic.NoCopyRawMessage `json:"model"`
	StreamOptions sonic.NoCopyRawMessage `json:"stream_options"`
}

// locateTop finds the members of body's top-level object with sonic,
// falling back to scanTop when sonic's answer cannot be mapped to offsets.
func locateTop(body []byte) (topLevel, error) {
	var t topLevel
	open := skipWS(body, 0)
	if open >= len(body) || body[open] != '{' {
		return t, errNotObject
	}
	var raw topRaw
	if err := decodeStrict(body, &raw); err != nil {
		return t, err
	}
	t.open = open
	t.close = len(body) - 1
	for t.close > open && isWS(body[t.close]) {
		t.close--
	}
	t.empty = skipWS(body, open+1) == t.close
	var ok bool
	if t.model, ok = valueSpan(body, raw.Model); !ok {
		return scanTop(body)
	}
	if t.streamOptions, ok = valueSpan(body, raw.StreamOptions); !ok {
		return scanTop(body)
	}
	if t.model.found && !memberBounds(body, &t.model, "model") ||
		t.streamOptions.found && !memberBounds(body, &t.streamOptions, "stream_options") {
		return scanTop(body)
	}
	return t, nil
}

// valueSpan maps raw (a slice sonic took from body) to offsets. An absent
// member is ok with found == false; ok is false when raw does not alias
// body.
func valueSpan(body, raw []byte) (member, bool) {
	if len(raw) == 0 {
		return member{}, true
	}
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))) - uintptr(unsafe.Pointer(unsafe.SliceData(body))))
	if off < 0 || off > len(body)-len(raw) {
		return member{}, false
	}
	return member{found: true, valStart: off, valEnd: off + len(raw), commaAfter: -1, commaBefore: -1}, true
}

// memberBounds completes m (whose value span is known) with its key start
// and neighbouring commas by looking around the value. It fails when the
// key is not spelled plainly as key (escapes), so the caller falls back.
func memberBounds(body []byte, m *member, key string) bool {
	i := m.valStart - 1
	for i >= 0 && isWS(body[i]) {
		i--
	}
	if i < 0 || body[i] != ':' {
		return false
	}
	i--
	for i >= 0 && isWS(body[i]) {
		i--
	}
	start := i - len(key) - 1
	if start < 0 || body[i] != '"' || body[start] != '"' || string(body[start+1:i]) != key {
		return false
	}
	m.keyStart = start
	i = start - 1
	for i >= 0 && isWS(body[i]) {
		i--
	}
	switch {
	case i >= 0 && body[i] == ',':
		m.commaBefore = i
	case i >= 0 && body[i] == '{':
	default:
		return false
	}
	j := skipWS(body, m.valEnd)
	switch {
	case j < len(body) && body[j] == ',':
		m.commaAfter = j
	case j < len(body) && body[j] == '}':
	default:
		return false
	}
	return true
}

func isWS(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// scanTop walks the members of the top-level object of body. It validates
// only the structure it walks through; nested values are skipped by
// bracket matching, so a malformed nested value may pass (the upstream will
// reject it as it would have without the gateway).
func scanTop(body []byte) (topLevel, error) {
	var t topLevel
	i := skipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return t, errNotObject
	}
	t.open = i
	i = skipWS(body, i+1)
	if i < len(body) && body[i] == '}' {
		t.close = i
		t.empty = true
		return t, checkTrailing(body, i+1)
	}
	prevComma := -1
	for {
		if i >= len(body) || body[i] != '"' {
			return t, errNotObject
		}
		keyStart := i
		keyEnd, err := skipString(body, i)
		if err != nil {
			return t, err
		}
		key := body[keyStart+1 : keyEnd-1]
		i = skipWS(body, keyEnd)
		if i >= len(body) || body[i] != ':' {
			return t, errNotObject
		}
		i = skipWS(body, i+1)
		valStart := i
		valEnd, err := skipValue(body, i)
		if err != nil {
			return t, err
		}
		m := member{found: true, keyStart: keyStart, valStart: valStart, valEnd: valEnd, commaAfter: -1, commaBefore: prevComma}
		i = skipWS(body, valEnd)
		if i >= len(body) {
			return t, errNotObject
		}
		switch body[i] {
		case ',':
			m.commaAfter = i
		case '}':
		default:
			return t, errNotObject
		}
		switch string(key) {
		case "model":
			t.model = m
		case "stream_options":
			t.streamOptions = m
		}
		if body[i] == '}' {
			t.close = i
			return t, checkTrailing(body, i+1)
		}
		prevComma = i
		i = skipWS(body, i+1)
	}
}

func checkTrailing(body []byte, i int) error {
	if skipWS(body, i) != len(body) {
		return errNotObject
	}
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i]=='"'.
// It jumps between quotes with IndexByte, so long message contents (the
// bulk of a large body) are skipped at memory speed.
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errNotObject
		}
		q := j + k
		// The quote is escaped iff an odd number of backslashes precede it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errNotObject
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errNotObject
	default:
		// Number, true, false, null: runs to the next delimiter.
		start := i
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if i == start {
					return 0, errNotObject
				}
				return i, nil
			}
			i++
		}
		return 0, errNotObject
	}
}

// edit replaces body[start:end] with text.
type edit struct {
	start, end int
	text       []byte
}

// splice applies edits (sorted by start, non-overlapping) in one
// allocation.
func splice(body []byte, edits []edit) []byte {
	n := len(body)
	for _, e := range edits {
		n += len(e.text) - (e.end - e.start)
	}
	out := make([]byte, 0, n)
	prev := 0
	for _, e := range edits {
		out = append(out, body[prev:e.start]...)
		out = append(out, e.text...)
		prev = e.end
	}
	return append(out, body[prev:]...)
}

// bodyPlan says what must change in a body.
type bodyPlan struct {
	model         string // "" = leave model alone
	includeUsage  bool   // ensure stream_options.include_usage == true
	stripStreamOp bool   // remove stream_options entirely
}

// rewriteBody returns body unchanged (same slice, no allocation) when it
// already satisfies plan, else a new spliced body.
func rewriteBody(body []byte, plan bodyPlan) ([]byte, error) {
	t, err := locateTop(body)
	if err != nil {
		return nil, err
	}
	return applyPlan(body, t, plan)
}

// applyPlan returns body edited per plan, given the located members.
func applyPlan(body []byte, t topLevel, plan bodyPlan) ([]byte, error) {
	var edits [2]edit // at most: model, stream_options
	ne := 0
	// Commas around inserted members depend on whether other members
	// remain once stream_options is stripped.
	so := t.streamOptions
	onlyStreamOptions := so.found && so.commaBefore < 0 && so.commaAfter < 0
	nonEmpty := !t.empty && !(plan.stripStreamOp && onlyStreamOptions)

	if plan.model != "" && !modelEquals(body, t.model, plan.model) {
		q, err := quote(plan.model)
		if err != nil {
			return nil, err
		}
		if t.model.found {
			edits[ne] = edit{t.model.valStart, t.model.valEnd, q}
		} else {
			text := append([]byte(`"model":`), q...)
			if nonEmpty {
				text = append(text, ',')
			}
			edits[ne] = edit{t.open + 1, t.open + 1, text}
			nonEmpty = true
		}
		ne++
	}

	switch {
	case plan.stripStreamOp && so.found:
		// Remove the member and one adjacent comma.
		start, end := so.keyStart, so.valEnd
		if so.commaBefore >= 0 {
			start = so.commaBefore
		} else if so.commaAfter >= 0 {
			end = so.commaAfter + 1
		}
		edits[ne] = edit{start, end, nil}
		ne++
	case plan.includeUsage && !so.found:
		text := []byte(`"stream_options":{"include_usage":true}`)
		if nonEmpty {
			text = append([]byte{','}, text...)
		}
		edits[ne] = edit{t.close, t.close, text}
		ne++
	case plan.includeUsage:
		e, ok, err := includeUsageEdit(body, so)
		if err != nil {
			return nil, err
		}
		if ok {
			edits[ne] = e
			ne++
		}
	}
	if ne == 0 {
		return body, nil
	}
	sortEdits(edits[:ne])
	return splice(body, edits[:ne]), nil
}

// includeUsageEdit returns the edit that makes the stream_options value
// carry include_usage:true, keeping its other keys; ok is false when it
// already does.
func includeUsageEdit(body []byte, so member) (edit, bool, error) {
	val := body[so.valStart:so.valEnd]
	if val[0] != '{' {
		// null or a non-object: replace it wholesale.
		return edit{so.valStart, so.valEnd, []byte(`{"include_usage":true}`)}, true, nil
	}
	inner, err := scanMember(val, "include_usage")
	if err != nil {
		return edit{}, false, err
	}
	if inner.m.found {
		if string(val[inner.m.valStart:inner.m.valEnd]) == "true" {
			return edit{}, false, nil
		}
		return edit{so.valStart + inner.m.valStart, so.valStart + inner.m.valEnd, []byte("true")}, true, nil
	}
	text := []byte(`"include_usage":true`)
	if !inner.empty {
		text = append(text, ',')
	}
	at := so.valStart + inner.open + 1
	return edit{at, at, text}, true, nil
}

// innerObject is what scanMember learns about a nested object.
type innerObject struct {
	m     member
	open  int
	empty bool
}

// scanMember finds key among the members of the object obj.
func scanMember(obj []byte, key string) (innerObject, error) {
	var r innerObject
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return r, errNotObject
	}
	r.open = i
	i = skipWS(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		r.empty = true
		return r, nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return r, errNotObject
		}
		keyEnd, err := skipString(obj, i)
		if err != nil {
			return r, err
		}
		k := obj[i+1 : keyEnd-1]
		i = skipWS(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return r, errNotObject
		}
		i = skipWS(obj, i+1)
		valEnd, err := skipValue(obj, i)
		if err != nil {
			return r, err
		}
		if string(k) == key {
			r.m = member{found: true, valStart: i, valEnd: valEnd}
		}
		i = skipWS(obj, valEnd)
		if i >= len(obj) {
			return r, errNotObject
		}
		if obj[i] == '}' {
			return r, nil
		}
		if obj[i] != ',' {
			return r, errNotObject
		}
		i = skipWS(obj, i+1)
	}
}

// modelEquals reports whether the body's model member is the string want.
func modelEquals(body []byte, m member, want string) bool {
	if !m.found {
		return false
	}
	raw := body[m.valStart:m.valEnd]
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s) == want
	}
	var dec string
	if err := sonic.Unmarshal(raw, &dec); err != nil {
		return false
	}
	return dec == want
}

// quote encodes s as a JSON string.
func quote(s string) ([]byte, error) {
	return sonic.Marshal(s)
}

func sortEdits(e []edit) {
	// At most three elements: insertion sort.
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && e[j].start < e[j-1].start; j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}
