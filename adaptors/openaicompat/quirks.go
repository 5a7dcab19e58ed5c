package openaicompat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
	"switchyard/adaptors/sse"
)

// quirks are the deviations from OpenAI's dialect that openai.Config has
// no flag for. A row with any of them gets its openai adaptor wrapped by
// quirked, which repairs answers, streams and errors so that the gateway
// and its clients see OpenAI's contract. Each is a candidate for a flag of
// openai.Config; until then the repair lives here, in one place.
type quirks struct {
	// choiceUsage: stream usage arrives inside the finishing choice
	// (choices[i].usage, Moonshot's documented stream format) instead of a
	// usage chunk.
	choiceUsage bool
	// gemini: Google's compatibility layer (generativelanguage …/openai).
	// Stream usage is cumulative and rides on every chunk (the last one is
	// final; there is no usage-only chunk); completion_tokens leaves out
	// the thinking tokens that total_tokens counts; streamed tool calls
	// carry no index and may end with finish_reason "stop"; error bodies
	// are JSON arrays of Google error envelopes.
	gemini bool
	// spark: Xunfei Spark HTTP API. A nonzero top-level "code" in a 2xx
	// body or stream chunk is an error; answers carry no finish_reason (and
	// no object or model); stream usage rides on the last choice chunk;
	// tool calls may come as an object instead of an array.
	spark bool
	// finishUsage: usage arrives unasked on the finish chunk (the row sends
	// no stream_options: Mistral, Perplexity), never in a usage-only chunk;
	// the repair adds that chunk for clients that asked for it.
	finishUsage bool
	// minimax: base_resp.status_code values (errors inside 2xx answers,
	// which openai.Config.BaseResp turns into 502s) mapped to the HTTP
	// status they mean; the chunk carrying base_resp ends the stream (it is
	// MiniMax's last chunk, and MiniMax sends no [DONE]).
	minimax bool
}

// rewritesTools reports whether tool calls and finish reasons of the
// row's answers are normalised.
func (q quirks) rewritesTools() bool { return q.gemini || q.spark }

// quirked wraps an openai adaptor. It holds only immutable configuration
// and is safe for concurrent use.
type quirked struct {
	inner adaptors.Adaptor
	typed adaptors.TypedResponseParser // inner's; nil only for foreign adaptors
	name  string
	q     quirks
}

// The capability combinations: wrap returns the one matching the wrapped
// adaptor, so a capability is present exactly when the openai adaptor has
// it.
type quirkedModels struct {
	*quirked
	adaptors.ModelLister
}

type quirkedBalance struct {
	*quirked
	adaptors.BalanceQuerier
}

type quirkedBoth struct {
	*quirked
	adaptors.ModelLister
	adaptors.BalanceQuerier
}

var (
	_ adaptors.TypedResponseParser = (*quirked)(nil)
	_ adaptors.ModelLister         = (*quirkedModels)(nil)
	_ adaptors.BalanceQuerier      = (*quirkedBalance)(nil)
	_ adaptors.ModelLister         = (*quirkedBoth)(nil)
	_ adaptors.BalanceQuerier      = (*quirkedBoth)(nil)
)

func wrap(inner adaptors.Adaptor, name string, q quirks) adaptors.Adaptor {
	w := &quirked{inner: inner, name: name, q: q}
	w.typed, _ = inner.(adaptors.TypedResponseParser)
	ml, models := inner.(adaptors.ModelLister)
	bq, balance := inner.(adaptors.BalanceQuerier)
	switch {
	case models && balance:
		return &quirkedBoth{w, ml, bq}
	case models:
		return &quirkedModels{w, ml}
	case balance:
		return &quirkedBalance{w, bq}
	}
	return w
}

// BuildRequest implements adaptors.Adaptor.
func (w *quirked) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	return w.inner.BuildRequest(ch, req)
}

// ParseResponse implements adaptors.Adaptor.
func (w *quirked) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	return w.ParseTypedResponse(req, "", body)
}

// ParseTypedResponse implements adaptors.TypedResponseParser.
func (w *quirked) ParseTypedResponse(req *adaptors.Request, contentType string, body []byte) (*adaptors.Response, error) {
	if w.q.spark {
		if e := sparkBodyError(body); e != nil {
			return nil, e
		}
	}
	var resp *adaptors.Response
	var err error
	if w.typed != nil {
		resp, err = w.typed.ParseTypedResponse(req, contentType, body)
	} else {
		resp, err = w.inner.ParseResponse(req, body)
	}
	if err != nil {
		return nil, w.mapError(err)
	}
	if req.Mode == adaptors.ModeChat && w.q.rewritesTools() {
		if b := w.fixCompletion(req, resp.Body); b != nil {
			resp.Body = b
		}
	}
	if resp.Usage != nil && w.q.gemini {
		u := *resp.Usage
		addThoughts(&u)
		resp.Usage = &u
	}
	return resp, nil
}

// ParseError implements adaptors.Adaptor.
func (w *quirked) ParseError(status int, body []byte) *schema.Error {
	if w.q.gemini {
		if first := firstArrayElement(body); first != nil {
			body = first
		}
	}
	e := w.inner.ParseError(status, body)
	if w.q.gemini {
		googleErrorKind(e, status, body)
	}
	return e
}

// mapError gives MiniMax's base_resp errors the HTTP status their code
// means (openai reports every base_resp error as 502).
func (w *quirked) mapError(err error) error {
	if !w.q.minimax {
		return err
	}
	var se *schema.Error
	if !errors.As(err, &se) {
		return err
	}
	code, ok := se.Code.(int)
	if !ok {
		return err
	}
	status := minimaxStatus(code)
	if status == 0 {
		return err
	}
	e := *se
	e.Status = status
	e.Type, _ = openaiwire.StatusErrorType(status)
	return &e
}

// minimaxStatus maps MiniMax's base_resp.status_code (its error-code
// table, platform.minimaxi.com/docs/api-reference/errorcode) to an HTTP
// status; 0 keeps openai's 502.
func minimaxStatus(code int) int {
	switch code {
	case 1001:
		return http.StatusGatewayTimeout
	case 1002, 1039, 1041:
		return http.StatusTooManyRequests // rate, token and connection limits
	case 1004, 2049:
		return http.StatusUnauthorized // not authorized; invalid api key
	case 1008:
		return http.StatusPaymentRequired // insufficient balance
	case 1026, 1027, 2013:
		return http.StatusBadRequest // sensitive input / output; invalid params
	}
	return 0
}

// sparkStatus maps a Spark error code (xfyun Spark HTTP API error table)
// to an HTTP status.
func sparkStatus(code int64) int {
	switch code {
	case 10003, 10004, 10005, 10163, 10907:
		return http.StatusBadRequest // bad message, schema, parameter; too many tokens
	case 10013, 10014, 10019:
		return http.StatusBadRequest // content moderation of input or output
	case 10006, 10007, 11201, 11202, 11203:
		return http.StatusTooManyRequests // concurrency, traffic, daily/QPS/concurrency quota
	case 10015, 10016, 11200:
		return http.StatusForbidden // app id blacklisted or not licensed
	case 10008, 10110:
		return http.StatusServiceUnavailable // capacity, busy
	}
	return http.StatusBadGateway
}

// sparkError returns the error a Spark answer or chunk reports in its
// top-level code (0 is success), or nil.
func sparkError(code, message []byte) *schema.Error {
	code = bytes.TrimSpace(code)
	if len(code) == 0 || (code[0] != '-' && (code[0] < '0' || code[0] > '9')) {
		return nil
	}
	n, err := strconv.ParseInt(string(code), 10, 64)
	if err != nil || n == 0 {
		return nil
	}
	status := sparkStatus(n)
	typ, _ := openaiwire.StatusErrorType(status)
	msg := openaiwire.Text(message)
	if msg == "" {
		msg = "spark error code " + strconv.FormatInt(n, 10)
	}
	return &schema.Error{Status: status, Message: msg, Type: typ, Code: int(n)}
}

// sparkBodyError reads the top-level code of a whole answer.
func sparkBodyError(body []byte) *schema.Error {
	if !openaiwire.IsObject(body) {
		return nil
	}
	var w struct {
		Code    sonic.NoCopyRawMessage `json:"code"`
		Message sonic.NoCopyRawMessage `json:"message"`
	}
	if decodeLenient(body, &w) != nil {
		return nil
	}
	return sparkError(w.Code, w.Message)
}

// firstArrayElement returns the first element of a JSON array body when it
// is an object (Google's compatibility layer wraps its error envelope in a
// one-element array), or nil.
func firstArrayElement(body []byte) []byte {
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '[' {
		return nil
	}
	var elems []json.RawMessage
	if json.Unmarshal(t, &elems) != nil || len(elems) == 0 || !openaiwire.IsObject(elems[0]) {
		return nil
	}
	return elems[0]
}

// googleErrorKind types a Google error envelope
// ({"error":{"code","message","status","details":[{"reason"}]}}): an
// invalid API key (reason API_KEY_INVALID, answered with 400) is an
// authentication error; otherwise the type follows the HTTP status and
// the code is Google's status name.
func googleErrorKind(e *schema.Error, status int, body []byte) {
	var w struct {
		Error struct {
			Status  string `json:"status"`
			Details []struct {
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	if !openaiwire.IsObject(body) || decodeLenient(body, &w) != nil {
		return
	}
	for _, d := range w.Error.Details {
		if d.Reason == "API_KEY_INVALID" {
			e.Type, e.Code = "authentication_error", "invalid_api_key"
			return
		}
	}
	if w.Error.Status != "" {
		e.Type, _ = openaiwire.StatusErrorType(status)
		e.Code = w.Error.Status
	}
}

// addThoughts repairs Gemini's usage, whose completion_tokens leaves out
// the thinking tokens its total_tokens counts: the gap is thinking, which
// OpenAI counts in completion_tokens and reports as reasoning tokens.
func addThoughts(u *adaptors.Usage) {
	if gap := u.TotalTokens - u.PromptTokens - u.CompletionTokens; gap > 0 {
		u.CompletionTokens += gap
		u.ReasoningTokens = max(u.ReasoningTokens, gap)
	}
}

// usageWire is an OpenAI-dialect usage object (Moonshot's choice usage),
// read with the same spellings the openai adaptor accepts.
type usageWire struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens"`
	CachedTokens         int `json:"cached_tokens"`
}

// usage converts w; nil when it reports nothing.
func (w *usageWire) usage() *adaptors.Usage {
	if w == nil || (w.PromptTokens == 0 && w.CompletionTokens == 0 && w.TotalTokens == 0) {
		return nil
	}
	u := &adaptors.Usage{
		PromptTokens:     w.PromptTokens,
		CompletionTokens: w.CompletionTokens,
		TotalTokens:      w.TotalTokens,
		CachedTokens:     max(w.PromptTokensDetails.CachedTokens, w.PromptCacheHitTokens, w.CachedTokens),
		ReasoningTokens:  w.CompletionTokensDetails.ReasoningTokens,
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return u
}

// decodeLenient decodes b into v, tolerating type mismatches in fields
// (a vendor sending a string where a number was expected).
func decodeLenient(b []byte, v any) error {
	err := sonic.Unmarshal(b, v)
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return nil
	}
	return err
}

// isPresent reports whether a raw member was sent with a non-null value.
func isPresent(raw []byte) bool { return openaiwire.IsPresent(raw) }

// ---- non-stream answers ----

// completionProbe picks out of a chat.completion what decides whether it
// must be rewritten.
type completionProbe struct {
	ID      sonic.NoCopyRawMessage `json:"id"`
	Object  sonic.NoCopyRawMessage `json:"object"`
	Choices []struct {
		FinishReason sonic.NoCopyRawMessage `json:"finish_reason"`
		Message      struct {
			ToolCalls sonic.NoCopyRawMessage `json:"tool_calls"`
		} `json:"message"`
	} `json:"choices"`
}

// toolCallProbe is one element of a tool_calls array.
type toolCallProbe struct {
	Index *int   `json:"index"`
	ID    string `json:"id"`
	Type  string `json:"type"`
}

// callsNeedFix reports whether a tool_calls member breaks OpenAI's shape:
// an object instead of an array, or elements without id or type (and,
// in streams, without index).
func callsNeedFix(raw []byte, stream bool) bool {
	raw = bytes.TrimSpace(raw)
	if !isPresent(raw) {
		return false
	}
	if raw[0] != '[' {
		return true
	}
	var calls []toolCallProbe
	if decodeLenient(raw, &calls) != nil {
		return false // not ours to repair; relayed as sent
	}
	for _, c := range calls {
		if stream && c.Index == nil {
			return true
		}
		if !stream && (c.ID == "" || c.Type == "") {
			return true
		}
	}
	return false
}

// fixCompletion returns the repaired body of a chat.completion, or nil
// when it already keeps OpenAI's contract: every choice has a
// finish_reason ("tool_calls" when it calls tools), tool_calls is an array
// of calls with ids and types, and (Spark) the completion has an id and an
// object. A body it cannot read is left alone.
func (w *quirked) fixCompletion(req *adaptors.Request, body []byte) []byte {
	var p completionProbe
	if decodeLenient(body, &p) != nil {
		return nil
	}
	need := w.q.spark && (!isPresent(p.Object) || !isPresent(p.ID))
	for _, c := range p.Choices {
		calls := isPresent(c.Message.ToolCalls) && string(bytes.TrimSpace(c.Message.ToolCalls)) != "[]"
		switch {
		case !isPresent(c.FinishReason):
			need = true
		case calls && string(c.FinishReason) != `"tool_calls"`:
			need = true
		case calls && callsNeedFix(c.Message.ToolCalls, false):
			need = true
		}
	}
	if !need {
		return nil
	}
	m, err := decodeGeneric(body)
	if err != nil {
		return nil
	}
	id, _ := m["id"].(string)
	if w.q.spark {
		if id == "" {
			if sid, _ := m["sid"].(string); sid != "" {
				id = sid
				m["id"] = sid
			}
		}
		setDefault(m, "object", "chat.completion")
		setDefault(m, "created", req.Created)
		setDefault(m, "model", req.OriginModel)
	}
	n := 0
	choices, _ := m["choices"].([]any)
	for _, c := range choices {
		cm, ok := c.(map[string]any)
		if !ok {
			continue
		}
		calls := 0
		if msg, ok := cm["message"].(map[string]any); ok {
			calls = fixMessageCalls(msg, id, &n)
		}
		fr, _ := cm["finish_reason"].(string)
		switch {
		case calls > 0 && (fr == "" || fr == "stop"):
			cm["finish_reason"] = "tool_calls"
		case fr == "":
			cm["finish_reason"] = "stop"
		}
	}
	out, err := encodeGeneric(m)
	if err != nil {
		return nil
	}
	return out
}

// fixMessageCalls repairs msg.tool_calls (object → array; missing id and
// type filled) and returns how many calls it holds. n numbers the calls of
// the whole completion, for ids.
func fixMessageCalls(msg map[string]any, respID string, n *int) int {
	calls := asCallList(msg)
	for _, c := range calls {
		cm, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if id, _ := cm["id"].(string); id == "" {
			cm["id"] = callID(respID, *n)
		}
		if t, _ := cm["type"].(string); t == "" {
			cm["type"] = "function"
		}
		*n++
	}
	return len(calls)
}

// asCallList returns container["tool_calls"] as a list, turning a single
// call object into a one-element array in place.
func asCallList(container map[string]any) []any {
	switch v := container["tool_calls"].(type) {
	case []any:
		return v
	case map[string]any:
		l := []any{v}
		container["tool_calls"] = l
		return l
	}
	return nil
}

// callID names a tool call the upstream left unnamed: unique within the
// answer (its index) and across answers (the answer's id).
func callID(respID string, i int) string {
	if respID == "" {
		return "call_" + strconv.Itoa(i)
	}
	return "call_" + respID + "_" + strconv.Itoa(i)
}

func setDefault(m map[string]any, key string, v any) {
	if cur, ok := m[key]; !ok || cur == nil || cur == "" {
		m[key] = v
	}
}

// decodeGeneric decodes a JSON object keeping numbers as written.
func decodeGeneric(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a json object")
	}
	return m, nil
}

// encodeGeneric encodes a decoded object (keys sorted, so output is
// deterministic; HTML characters as they were sent).
func encodeGeneric(m map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// ---- streams ----

// NewStreamDecoder implements adaptors.Adaptor. Chat and completion
// streams go through quirkDecoder; the typed-event streams (Responses API,
// audio, images) are relayed by the openai decoder as they are.
func (w *quirked) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	if req.Mode != adaptors.ModeChat && req.Mode != adaptors.ModeCompletions {
		return w.inner.NewStreamDecoder(req, body)
	}
	dec := decoder.NewDecoder("")
	dec.SetOptions(decoder.OptionCaseSensitive)
	return &quirkDecoder{w: w, req: req, body: body, dec: dec}
}

// maxJSONAnswer bounds how much of a JSON answer sent in place of a
// stream is read to find its error.
const maxJSONAnswer = 1 << 20

// quirkDecoder wraps the openai chunk decoder of one stream. It repairs
// chunks (tool call indexes and ids, finish reasons), reads usage where
// the vendor puts it, turns in-band error codes into errors, and at the
// end adds what the vendor never sends: a finish chunk (Spark) and
// OpenAI's usage-only chunk (shown only to clients that asked). One
// goroutine uses it.
type quirkDecoder struct {
	w     *quirked
	req   *adaptors.Request
	body  io.Reader // until started
	inner adaptors.StreamDecoder
	dec   *decoder.Decoder
	probe chunkProbe // reused
	tail  []adaptors.StreamEvent
	err   error // sticky

	id, model  string
	created    int64
	chunks     int
	tools      int // tool calls seen, numbered from 0
	finished   bool
	usageChunk bool
	ended      bool // MiniMax's base_resp chunk was relayed
	last       *adaptors.Usage
}

// chunkProbe picks out of a chunk what the repairs need.
type chunkProbe struct {
	ID       string                 `json:"id"`
	Sid      string                 `json:"sid"`
	Model    string                 `json:"model"`
	Created  int64                  `json:"created"`
	BaseResp sonic.NoCopyRawMessage `json:"base_resp"`
	Usage    sonic.NoCopyRawMessage `json:"usage"`
	Choices  []choiceProbe          `json:"choices"`
}

type choiceProbe struct {
	FinishReason sonic.NoCopyRawMessage `json:"finish_reason"`
	Delta        struct {
		ToolCalls sonic.NoCopyRawMessage `json:"tool_calls"`
	} `json:"delta"`
	Usage *usageWire `json:"usage"`
}

// Next implements adaptors.StreamDecoder.
func (d *quirkDecoder) Next() (adaptors.StreamEvent, error) {
	for {
		if len(d.tail) > 0 {
			ev := d.tail[0]
			d.tail = d.tail[1:]
			return ev, nil
		}
		if d.err != nil {
			return adaptors.StreamEvent{}, d.err
		}
		if d.inner == nil {
			if err := d.start(); err != nil {
				d.err = err
				continue
			}
		}
		if d.ended {
			d.finish()
			d.err = io.EOF
			continue
		}
		ev, err := d.inner.Next()
		if err == io.EOF {
			d.finish()
			d.err = io.EOF
			continue
		}
		if err != nil {
			var se *schema.Error
			if errors.As(err, &se) {
				err = se // an in-band error found by sparkReader
			}
			d.err = err
			continue
		}
		d.repair(&ev)
		return ev, nil
	}
}

// start looks at the body's first byte: a JSON object where a stream was
// expected is an error answer sent with status 200 (MiniMax's base_resp,
// Spark's code); anything else is the stream.
func (d *quirkDecoder) start() error {
	br := bufio.NewReader(d.body)
	d.body = nil
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			break // empty body: the openai decoder reports it
		}
		if err != nil {
			return fmt.Errorf("%s: read stream: %w", d.w.name, err)
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		_ = br.UnreadByte()
		if c == '{' {
			b, err := io.ReadAll(io.LimitReader(br, maxJSONAnswer))
			if err != nil {
				return fmt.Errorf("%s: read stream: %w", d.w.name, err)
			}
			return d.jsonAnswer(b)
		}
		break
	}
	var src io.Reader = br
	if d.w.q.spark {
		src = &sparkReader{r: sse.NewReader(br, 0)}
	}
	d.inner = d.w.inner.NewStreamDecoder(d.req, src)
	return nil
}

// sparkReader re-frames a Spark stream for the openai decoder, stopping
// at the first event whose top-level code is nonzero: such chunks carry
// no choices, and the openai decoder would drop them as bookkeeping. The
// error comes out of Read, and quirkDecoder unwraps it.
type sparkReader struct {
	r     *sse.Reader
	buf   []byte
	off   int
	err   error
	probe struct {
		Code    sonic.NoCopyRawMessage `json:"code"`
		Message sonic.NoCopyRawMessage `json:"message"`
	}
}

func (s *sparkReader) Read(p []byte) (int, error) {
	for s.off >= len(s.buf) {
		if s.err != nil {
			return 0, s.err
		}
		ev, err := s.r.Next()
		if err != nil {
			s.err = err
			continue
		}
		if data := bytes.TrimSpace(ev.Data); openaiwire.IsObject(data) {
			s.probe.Code, s.probe.Message = nil, nil
			if decodeLenient(data, &s.probe) == nil {
				if e := sparkError(s.probe.Code, s.probe.Message); e != nil {
					s.err = e
					continue
				}
			}
		}
		s.buf, s.off = s.buf[:0], 0
		if ev.Event != "" {
			s.buf = append(s.buf, "event: "...)
			s.buf = append(s.buf, ev.Event...)
			s.buf = append(s.buf, '\n')
		}
		s.buf = sse.AppendData(s.buf, ev.Data)
	}
	n := copy(p, s.buf[s.off:])
	s.off += n
	return n, nil
}

// jsonAnswer turns a JSON answer received in place of a stream into the
// error it carries (or, if it carries none, an invalid-response error).
func (d *quirkDecoder) jsonAnswer(b []byte) error {
	r := *d.req
	r.Stream = false
	if _, err := d.w.ParseResponse(&r, b); err != nil {
		return err
	}
	return fmt.Errorf("%s: %w: a JSON answer where a stream was expected", d.w.name, adaptors.ErrInvalidResponse)
}

// repair inspects and, where needed, rewrites one event of the openai
// decoder.
func (d *quirkDecoder) repair(ev *adaptors.StreamEvent) {
	if ev.Data == nil {
		if ev.Usage != nil {
			d.usageChunk = true // the usage-only chunk, hidden from this client
			d.noteUsage(ev)
		}
		return
	}
	p := &d.probe
	choices := p.Choices[:cap(p.Choices)]
	clear(choices)
	*p = chunkProbe{Choices: choices[:0]}
	d.dec.Reset(unsafe.String(unsafe.SliceData(ev.Data), len(ev.Data)))
	if err := d.dec.Decode(p); err != nil {
		var mismatch *decoder.MismatchTypeError
		if !errors.As(err, &mismatch) {
			return // relayed as the openai decoder relays what it cannot read
		}
	}
	d.chunks++
	if d.id == "" {
		id := p.ID
		if id == "" {
			id = p.Sid
		}
		d.id = strings.Clone(id)
	}
	if d.model == "" {
		d.model = strings.Clone(p.Model)
	}
	if d.created == 0 {
		d.created = p.Created
	}
	if len(p.Choices) == 0 && isPresent(p.Usage) {
		d.usageChunk = true
	}
	rewrite, stop := false, false
	for i := range p.Choices {
		c := &p.Choices[i]
		if d.w.q.choiceUsage && ev.Usage == nil {
			ev.Usage = c.Usage.usage()
		}
		if isPresent(c.FinishReason) {
			d.finished = true
			stop = stop || string(c.FinishReason) == `"stop"`
		}
		if d.w.q.rewritesTools() && isPresent(c.Delta.ToolCalls) {
			if callsNeedFix(c.Delta.ToolCalls, true) {
				rewrite = true
			} else {
				d.countCalls(c.Delta.ToolCalls)
			}
		}
	}
	// A "stop" after tool calls means "tool_calls" (Gemini). When this
	// chunk's own calls are being renumbered, rewriteChunk counts them
	// before it looks at the finish reason.
	if d.w.q.rewritesTools() && stop && (d.tools > 0 || rewrite) {
		rewrite = true
	}
	if rewrite {
		if b, extra := d.rewriteChunk(ev.Data); b != nil {
			ev.Data = b
			ev.TextBytes += extra
		}
	}
	if d.w.q.minimax && isPresent(p.BaseResp) {
		d.ended = true
	}
	if len(p.Choices) > 0 && isPresent(p.Usage) {
		// The usage reaches the client once, in the usage-only chunk
		// this decoder adds at the end (shown only to clients that
		// asked): SDK accumulators add up every usage they see, and these
		// rows repeat cumulative figures on content chunks.
		if b := stripUsage(ev.Data); b != nil {
			ev.Data = b
		}
	}
	d.noteUsage(ev)
}

// stripUsage returns a chunk without its top-level "usage" member, or nil
// when it cannot be read.
func stripUsage(data []byte) []byte {
	var m map[string]sonic.NoCopyRawMessage
	if sonic.Unmarshal(data, &m) != nil {
		return nil
	}
	delete(m, "usage")
	b, err := sonic.ConfigStd.Marshal(m) // sorted keys: deterministic output
	if err != nil {
		return nil
	}
	return b
}

// noteUsage applies the row's usage repair to ev and remembers it as the
// latest figures (usage reports are cumulative: the last one is final).
func (d *quirkDecoder) noteUsage(ev *adaptors.StreamEvent) {
	if ev.Usage == nil {
		return
	}
	if d.w.q.gemini {
		u := *ev.Usage
		addThoughts(&u)
		ev.Usage = &u
	}
	d.last = ev.Usage
}

// countCalls notes the indexes of a well-formed tool_calls delta.
func (d *quirkDecoder) countCalls(raw []byte) {
	var calls []toolCallProbe
	if decodeLenient(raw, &calls) != nil {
		return
	}
	for _, c := range calls {
		if c.Index != nil && *c.Index >= d.tools {
			d.tools = *c.Index + 1
		}
	}
}

// rewriteChunk repairs a chunk's tool call deltas (object → array; calls
// numbered from 0 in order; the first delta of a call given an id and a
// type; an index-less delta without a name continues the previous call)
// and turns finish_reason "stop" after tool calls into "tool_calls". It
// returns nil when the chunk cannot be read or needs nothing; extra is the
// size of the arguments of object-form calls, which the openai decoder
// could not measure.
func (d *quirkDecoder) rewriteChunk(data []byte) (out []byte, extra int) {
	m, err := decodeGeneric(data)
	if err != nil {
		return nil, 0
	}
	changed := false
	choices, _ := m["choices"].([]any)
	for _, c := range choices {
		cm, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if delta, ok := cm["delta"].(map[string]any); ok {
			if obj, isObj := delta["tool_calls"].(map[string]any); isObj {
				changed = true
				if f, ok := obj["function"].(map[string]any); ok {
					args, _ := f["arguments"].(string)
					extra += len(args)
				}
			}
			for _, call := range asCallList(delta) {
				if e, ok := call.(map[string]any); ok && d.numberCall(e) {
					changed = true
				}
			}
		}
		if fr, _ := cm["finish_reason"].(string); fr == "stop" && d.tools > 0 {
			cm["finish_reason"] = "tool_calls"
			changed = true
		}
	}
	if !changed {
		return nil, 0
	}
	if out, err = encodeGeneric(m); err != nil {
		return nil, 0
	}
	return out, extra
}

// numberCall gives one tool call delta its index (and, when it starts a
// call, an id and a type). It reports whether it changed anything.
func (d *quirkDecoder) numberCall(e map[string]any) bool {
	if n, ok := e["index"].(json.Number); ok {
		if i, err := n.Int64(); err == nil && int(i) >= d.tools {
			d.tools = int(i) + 1
		}
		return false
	}
	name := ""
	if f, ok := e["function"].(map[string]any); ok {
		name, _ = f["name"].(string)
	}
	id, _ := e["id"].(string)
	i := d.tools - 1
	starts := name != "" || id != "" || d.tools == 0
	if starts {
		i = d.tools
		d.tools++
		if id == "" {
			e["id"] = callID(d.id, i)
		}
		if t, _ := e["type"].(string); t == "" {
			e["type"] = "function"
		}
	} else {
		delete(e, "id")
	}
	e["index"] = i
	return true
}

// finish queues what the vendor's stream lacked at its end: a finish
// chunk (Spark sends no finish_reason) and OpenAI's usage-only chunk (the
// vendors here report usage on choice chunks), which carries the final
// figures to the gateway and, when asked for, to the client.
func (d *quirkDecoder) finish() {
	if d.w.q.spark && d.chunks > 0 && !d.finished {
		fr := "stop"
		if d.tools > 0 {
			fr = "tool_calls"
		}
		d.tail = append(d.tail, adaptors.StreamEvent{Data: d.finishChunk(fr)})
	}
	if !d.usageChunk && d.last != nil {
		u := *d.last
		ev := adaptors.StreamEvent{Usage: &u}
		if d.req.IncludeUsage {
			ev.Data = d.usageOnlyChunk(&u)
		}
		d.tail = append(d.tail, ev)
	}
}

func (d *quirkDecoder) object() string {
	if d.req.Mode == adaptors.ModeCompletions {
		return schema.ObjectTextCompletion
	}
	return schema.ObjectChatCompletionChunk
}

// streamModel is the model named in synthesized chunks: the upstream's,
// as in its own chunks, else the one the client asked for.
func (d *quirkDecoder) streamModel() string {
	if d.model != "" {
		return d.model
	}
	return d.req.OriginModel
}

func (d *quirkDecoder) streamCreated() int64 {
	if d.created != 0 {
		return d.created
	}
	return d.req.Created
}

func (d *quirkDecoder) finishChunk(reason string) []byte {
	type choice struct {
		Index        int      `json:"index"`
		Delta        struct{} `json:"delta"`
		FinishReason string   `json:"finish_reason"`
	}
	b, _ := json.Marshal(struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
	}{d.id, d.object(), d.streamCreated(), d.streamModel(), []choice{{FinishReason: reason}}})
	return b
}

func (d *quirkDecoder) usageOnlyChunk(u *adaptors.Usage) []byte {
	su := &schema.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.CachedTokens > 0 {
		su.PromptTokensDetails = &schema.PromptTokensDetails{CachedTokens: u.CachedTokens}
	}
	if u.ReasoningTokens > 0 {
		su.CompletionTokensDetails = &schema.CompletionTokensDetails{ReasoningTokens: u.ReasoningTokens}
	}
	b, _ := json.Marshal(schema.UsageChunk{
		ID: d.id, Object: d.object(), Created: d.streamCreated(), Model: d.streamModel(),
		Choices: []struct{}{}, Usage: su,
	})
	return b
}
