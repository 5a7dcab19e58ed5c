package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/app"
	errs "github.com/cloudwego/hertz/pkg/common/errors"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/cloudwego/hertz/pkg/protocol/http1/resp"

	"switchyard/actors"
	"switchyard/adaptors"
	"switchyard/adaptors/schema"
	"switchyard/storage"
)

// peeked is what the relay reads from a request body without decoding it.
type peeked struct {
	model        string
	stream       bool
	includeUsage bool
	maxTokens    int
	n            int
	// Beyond chat (peekMode): image options, the speech input, and
	// whether the body is a multipart form.
	size, quality string
	input         string
	multipart     bool
}

// peekSmall is the size below which peek decodes the body in one pass;
// above it, targeted lookups that skip the large values (messages with
// base64 images) are cheaper than a decode.
const peekSmall = 8 << 10

// peekWire holds the members peek reads.
type peekWire struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int64 `json:"max_tokens"`
	MaxCompletionTokens *int64 `json:"max_completion_tokens"`
	N                   *int64 `json:"n"`
}

func peek(body []byte) (peeked, error) {
	var p peeked
	if len(body) <= peekSmall {
		var w peekWire
		if err := sonic.Unmarshal(body, &w); err != nil {
			return p, errBadJSON
		}
		p.model, p.stream = w.Model, w.Stream
		p.includeUsage = w.Stream && w.StreamOptions != nil && w.StreamOptions.IncludeUsage
		for _, v := range []*int64{w.MaxCompletionTokens, w.MaxTokens} {
			if v != nil && *v > 0 {
				p.maxTokens = int(*v)
				break
			}
		}
		p.n = 1
		if w.N != nil && *w.N > 1 && *w.N <= 128 {
			p.n = int(*w.N)
		}
		return p, nil
	}
	if !sonic.Valid(body) {
		return p, errBadJSON
	}
	if n, err := sonic.Get(body, "model"); err == nil {
		p.model, _ = n.String()
	}
	if n, err := sonic.Get(body, "stream"); err == nil {
		p.stream, _ = n.Bool()
	}
	if p.stream {
		if n, err := sonic.Get(body, "stream_options", "include_usage"); err == nil {
			p.includeUsage, _ = n.Bool()
		}
	}
	for _, k := range []string{"max_completion_tokens", "max_tokens"} {
		if n, err := sonic.Get(body, k); err == nil {
			if v, err := n.Int64(); err == nil && v > 0 {
				p.maxTokens = int(v)
				break
			}
		}
	}
	p.n = 1
	if n, err := sonic.Get(body, "n"); err == nil {
		if v, err := n.Int64(); err == nil && v > 1 && v <= 128 {
			p.n = int(v)
		}
	}
	return p, nil
}

// call is the state of one relay request.
type call struct {
	s       *Server
	c       *app.RequestContext
	mode    adaptors.Mode
	reqID   string
	start   time.Time
	token   *actors.TokenInfo
	user    *actors.UserInfo
	p       peeked
	body    []byte
	ratios  actors.Ratios
	pricing *actors.Pricing
	group   string
	// contentType is the client's Content-Type (multipart boundaries).
	contentType string
	// cacheKey is set when the answer may come from, or go to, the
	// response cache.
	cacheKey *[32]byte
	// keyNo is 1 + the key used on a multi-key channel in this attempt.
	keyNo int
	// dialect and nativeBody: a native protocol's request, converted to
	// an OpenAI chat body, and how its answer is converted back.
	dialect    dialect
	nativeBody []byte
	prompt     int // estimated prompt tokens
	res        actors.Reservation
	openSeq    uint64
	failed     []int64 // channels that failed this request
	// passthrough are the client headers adaptors may forward.
	passthrough []adaptors.Header
	// inlined is the body with image URLs replaced by data: URLs, made
	// once for all attempts (inlineErr when that failed).
	inlined   []byte
	inlineErr error
}

// chunkID returns the "id" member at the top of a chunk's JSON object
// (every chunk starts with it), or "" — without parsing the chunk.
func chunkID(data []byte) string {
	const key = `"id":"`
	i := bytes.Index(data, []byte(key))
	// The first member: only braces and spaces may precede it.
	if i < 0 || len(bytes.TrimLeft(data[:i], "{ \t\r\n")) != 0 {
		return ""
	}
	rest := data[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 || j > 128 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return ""
	}
	return string(rest[:j])
}

// passthroughHeaders are the client headers adaptors may forward
// (adaptors.Request.Passthrough): Anthropic's API version and beta flags,
// which Anthropic SDK clients send.
var passthroughHeaders = []string{"anthropic-version", "anthropic-beta"}

// inlineImages returns the client body with its image URLs downloaded
// into data: URLs, fetching them on the first call only.
func (k *call) inlineImages(ctx context.Context) ([]byte, error) {
	if k.inlined == nil && k.inlineErr == nil {
		k.inlined, k.inlineErr = k.s.images.inline(ctx, k.body)
	}
	return k.inlined, k.inlineErr
}

func (s *Server) relay(mode adaptors.Mode) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		reqID := s.newRequestID()
		c.Response.Header.Set(headerRequestID, reqID)
		if s.draining.Load() {
			writeError(c, errDraining, reqID)
			return
		}
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		k := &call{s: s, c: c, mode: mode, reqID: reqID, start: time.Now()}
		for _, h := range passthroughHeaders {
			if v := c.Request.Header.Peek(h); len(v) > 0 {
				k.passthrough = append(k.passthrough, adaptors.Header{Key: h, Value: string(v)})
			}
		}
		if e := k.run(ctx); e != nil {
			writeError(c, e, reqID)
		}
	}
}

// run serves the request; a returned error has not been written yet.
func (k *call) run(ctx context.Context) *schema.Error {
	s, c := k.s, k.c
	tok, user, key, ok := s.authenticate(c)
	if !ok {
		if _, had := extractKey(c); !had {
			return errNoKey
		}
		return errBadKey
	}
	k.token, k.user = tok, user
	k.body = c.Request.Body()
	k.contentType = string(c.Request.Header.ContentType())
	if k.dialect != nil {
		k.body, k.contentType = k.nativeBody, "application/json"
	}
	p, perr := peekMode(k.mode, k.body, k.contentType)
	if perr != nil {
		return perr
	}
	if k.dialect != nil {
		p.includeUsage = false // the dialect writes the usage its way
	}
	if pm := c.Param("model"); pm != "" && k.dialect == nil { // /v1/engines/:model/embeddings
		if p.model == "" {
			b, err := withModel(k.body, pm)
			if err != nil {
				return errBadJSON
			}
			k.body = b
		}
		p.model = pm
	}
	if p.model == "" {
		return errNoModel
	}
	k.p = p
	group := requestGroup(tok, user)
	// Channel pinning (sk-KEY-ID) is for administrators only.
	var pinned *actors.ChannelInfo
	if key.channelID != 0 {
		if user == nil || user.Role < storage.RoleAdmin {
			return errPinDenied
		}
		ch, ok := s.cat.Router().Channel(key.channelID)
		if !ok || ch.Status != storage.ChannelEnabled {
			return errPinMissing
		}
		pinned = ch
	} else if !s.cat.Router().HasModel(group, p.model) {
		return apiError(http.StatusServiceUnavailable, typeGateway, "model_not_found",
			"No available channel for model "+p.model+" in group "+group+".")
	}

	pricing := s.cat.Pricing()
	k.pricing, k.group = pricing, group
	k.ratios = pricing.For(p.model, group)
	k.prompt = actors.EstimatePromptTokens(len(k.body))
	est := k.estimate(group)
	var hit *cacheEntry
	if k.cacheable() {
		key := cacheKey(tok.UserID, k.mode, p.model, k.body)
		k.cacheKey = &key
		if hit = s.cache.get(key, time.Now()); hit != nil {
			est = k.hitQuota(hit)
			c.Response.Header.Set("X-Cache", "HIT")
		} else {
			c.Response.Header.Set("X-Cache", "MISS")
		}
	}

	res, err := s.deps.Accounts.Reserve(ctx, actors.Reserve{
		Token: tok, User: user, Model: p.model, IP: clientAddr(c), Estimate: est, Now: time.Now(),
		UserLimit: pricing.UserLimitFor(group),
	})
	if err != nil {
		return reserveError(c, err)
	}
	k.res = res
	seq, err := s.deps.Outbox.Open(&storage.OpenRecord{
		RequestID: k.reqID, UserID: tok.UserID, TokenID: tok.ID, TokenName: tok.Name, Model: p.model,
		Estimate: est, IsStream: p.stream, Time: k.start.Unix(),
	})
	if err != nil {
		s.deps.Accounts.Settle(res, actors.Spend{})
		s.log.Error("outbox open failed", "request_id", k.reqID, "err", err)
		return errBusy
	}
	k.openSeq = seq
	if hit != nil {
		k.c.Data(http.StatusOK, hit.contentType, hit.body)
		u := hit.usage
		k.settleWith(0, &u, est, "cache hit; "+k.ratios.Content()+", cache hit ratio "+
			strconv.FormatFloat(pricing.Cache.HitRatio, 'g', 4, 64), 0)
		return nil
	}

	attempts := 1 + pricing.RetryTimes
	if pinned != nil {
		attempts = 1
	}
	var last *schema.Error
	for i := 0; i < attempts; i++ {
		ch := pinned
		if ch == nil {
			ch, err = s.cat.Router().Pick(group, p.model, k.failed)
			if err != nil {
				break
			}
		}
		out := k.attempt(ctx, ch)
		if out.done {
			return nil
		}
		last = out.err
		k.failed = append(k.failed, ch.ID)
		if !out.retryable {
			break
		}
		if pricing.RetryCooldown > 0 && pinned == nil {
			ch.Health.CoolDown(p.model, time.Now().Add(pricing.RetryCooldown))
		}
	}
	k.refund()
	if last == nil {
		last = apiError(http.StatusServiceUnavailable, typeGateway, "model_not_found",
			"No available channel for model "+p.model+" in group "+group+".")
	}
	return last
}

// outcome of one upstream attempt.
type outcome struct {
	done      bool // the client got an answer (success or in-stream error) and usage is settled
	err       *schema.Error
	retryable bool
}

// record reports an upstream call's outcome to the channel's health:
// breaker marks failures that open its circuit breaker at once; a non-empty
// reason marks a failure that counts toward disabling the channel.
func (k *call) record(ch *actors.ChannelInfo, ok bool, took time.Duration, breaker bool, reason string) {
	o := actors.RecordOutcome{Success: ok, Latency: took, Fatal: breaker, Disabling: reason != "", Reason: reason, KeyNo: k.keyNo}
	if k.keyNo > 0 {
		// One bad key of a multi-key channel does not close the channel:
		// its own window disables it.
		o.Fatal = false
	}
	if ad := k.pricing.AutoDisable; ad.Enabled {
		o.DisableAfter, o.Window = ad.After, ad.Window
	}
	k.s.deps.Health.Record(ch.ID, o)
}

// clientFault reports upstream statuses that blame the request, not the
// channel: they do not count toward the channel's circuit breaker.
func clientFault(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge ||
		status == http.StatusUnprocessableEntity
}

// retryable reports whether an upstream answer with status is worth
// another channel (AutomaticRetryStatusCodes; 0 is no answer at all).
func (k *call) retryable(status int) bool {
	return status == 0 || k.pricing.RetryStatus.Contains(status)
}

func (k *call) attempt(ctx context.Context, ch *actors.ChannelInfo) outcome {
	s := k.s
	ad, ok := s.deps.Adaptor(ch.Type)
	if !ok {
		return outcome{err: apiError(http.StatusInternalServerError, typeGateway, "channel_type_unsupported",
			"channel type is not supported by this gateway"), retryable: true}
	}
	key := ch.PickKey()
	if key < 0 {
		return outcome{err: apiError(http.StatusServiceUnavailable, typeGateway, "channel_no_key",
			"the channel has no usable key"), retryable: true}
	}
	k.keyNo = 0
	if len(ch.Keys) > 1 {
		k.keyNo = key + 1
	}
	actx := &adaptors.Channel{ID: int(ch.ID), Type: ch.Type, BaseURL: ch.BaseURL, Key: ch.Keys[key], Config: ch.Config}
	req := &adaptors.Request{
		Mode: k.mode, Model: ch.UpstreamModel(k.p.model), OriginModel: k.p.model, Body: k.body,
		ContentType: k.contentType, Stream: k.p.stream, IncludeUsage: k.p.includeUsage, Created: k.start.Unix(),
		Passthrough: k.passthrough,
	}
	src := k.body
	if ii, ok := ad.(adaptors.ImageInliner); ok && k.mode == adaptors.ModeChat && ii.InlinesImages(actx, req) {
		var err error
		if src, err = k.inlineImages(ctx); err != nil {
			var ie *errImage
			if errors.As(err, &ie) {
				return outcome{err: apiError(http.StatusBadRequest, typeInvalidRequest, "invalid_image_url", ie.Error())}
			}
			return outcome{err: apiError(http.StatusBadRequest, typeInvalidRequest, "invalid_image_url", "image download failed")}
		}
	}
	req.Body = src
	if !k.p.multipart {
		req.Body = channelBody(src, k.mode, ch)
	}
	if needsToken(ad) {
		tok, err := s.tokens.get(ctx, ad, actx, s.up)
		if err != nil {
			k.record(ch, false, 0, true, "")
			s.log.Warn("channel token exchange failed", "request_id", k.reqID, "channel_id", ch.ID, "err", err)
			return outcome{err: apiError(http.StatusBadGateway, typeUpstream, "token_exchange_failed",
				"the channel could not obtain an upstream access token"), retryable: true}
		}
		actx.AccessToken = tok
	}
	if sd, ok := ad.(adaptors.SocketDialer); ok {
		return k.attemptSocket(ctx, ad, sd, actx, req, ch)
	}
	hr, err := ad.BuildRequest(actx, req)
	if err != nil {
		return k.buildFailed(ch, err)
	}
	overrideHeaders(hr, ch.Headers)
	ch.Health.Begin()
	defer ch.Health.End()
	t0 := time.Now()
	fu, multi := ad.(adaptors.FollowUpper)
	var (
		rbody []byte // the final non-stream answer
		ctype string // and its Content-Type
	)
	for step := 1; ; step++ {
		resp, err := k.send(ctx, hr, ch)
		if errors.Is(err, errFirstByte) {
			k.record(ch, false, time.Since(t0), false, "")
			return outcome{err: apiError(http.StatusGatewayTimeout, typeUpstream, "first_byte_timeout",
				"the upstream did not start answering in time"), retryable: true}
		}
		if err != nil {
			k.record(ch, false, time.Since(t0), false, "")
			s.log.Warn("upstream call failed", "request_id", k.reqID, "channel_id", ch.ID, "err", err)
			return outcome{err: apiError(http.StatusBadGateway, typeUpstream, "do_request_failed", "upstream request failed"), retryable: true}
		}
		final := true // resp lives until the attempt returns
		defer func() {
			if final {
				protocol.ReleaseResponse(resp)
			}
		}()
		status := resp.StatusCode()
		if status < 200 || status > 299 {
			body := readBody(resp, k.p.stream, 1<<20)
			if k.p.stream {
				forceClose(resp)
			}
			return k.upstreamFailed(ad, ch, status, body, t0)
		}
		if k.p.stream && (!multi || isEventStream(resp)) {
			return k.relayStream(ctx, ad, req, ch, resp, t0)
		}
		ctype = string(resp.Header.ContentType())
		if !multi {
			rbody = resp.Body()
			break
		}
		// A multi-step upstream (adaptors.FollowUpper): this answer says
		// what to call next, or is the final one.
		rbody = bytes.Clone(readBody(resp, k.p.stream, maxStepBody))
		if k.p.stream {
			forceClose(resp)
		}
		final = false
		protocol.ReleaseResponse(resp)
		next, delay, err := fu.FollowUp(actx, req, step, rbody)
		if o, failed := k.followFailed(ch, err, t0); failed {
			return o
		}
		if next == nil {
			break
		}
		if step >= maxSteps || time.Since(t0)+delay > maxFollow {
			k.record(ch, false, time.Since(t0), false, "")
			return outcome{err: apiError(http.StatusGatewayTimeout, typeUpstream, "upstream_timeout",
				"the upstream did not finish in time"), retryable: true}
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return outcome{err: apiError(499, typeGateway, "client_gone", "the client went away")}
			}
		}
		overrideHeaders(next, ch.Headers)
		hr = next
	}
	return k.answer(ad, req, ch, ctype, rbody, t0)
}

// buildFailed maps an adaptor's refusal to build the upstream call.
func (k *call) buildFailed(ch *actors.ChannelInfo, err error) outcome {
	switch {
	case errors.Is(err, adaptors.ErrInvalidBody):
		return outcome{err: apiError(http.StatusBadRequest, typeInvalidRequest, "invalid_request_body", err.Error())}
	case errors.Is(err, adaptors.ErrUnsupportedMode):
		return outcome{err: apiError(http.StatusNotImplemented, typeGateway, "api_not_implemented",
			"this channel does not serve "+k.mode.String()), retryable: true}
	}
	// A misconfigured channel: another may work.
	k.s.log.Warn("channel cannot build the request", "request_id", k.reqID, "channel_id", ch.ID, "err", err)
	return outcome{err: apiError(http.StatusInternalServerError, typeGateway, "convert_request_failed", "the channel is misconfigured"), retryable: true}
}

// tokenRefused drops the channel's cached access token when the upstream
// refused it (some answer a revoked token with a 2xx carrying an error:
// Baidu's error_code 110/111), so that the next request gets a new one.
func (k *call) tokenRefused(ad adaptors.Adaptor, ch *actors.ChannelInfo, e *schema.Error) {
	if e != nil && e.Status == http.StatusUnauthorized && needsToken(ad) {
		k.s.tokens.forget(int(ch.ID))
	}
}

// upstreamFailed maps an upstream's non-2xx answer and counts it against
// the channel.
func (k *call) upstreamFailed(ad adaptors.Adaptor, ch *actors.ChannelInfo, status int, body []byte, t0 time.Time) outcome {
	e := ad.ParseError(status, body)
	k.tokenRefused(ad, ch, e)
	code, _ := e.Code.(string)
	disabling, reason := k.pricing.AutoDisable.Fatal(status, code, e.Message)
	// A bad request says nothing about the channel, unless its message
	// says the account behind it cannot serve.
	if !clientFault(status) || disabling {
		breaker := status == http.StatusUnauthorized || status == http.StatusForbidden || disabling
		k.record(ch, false, time.Since(t0), breaker, reason)
	}
	return outcome{err: e, retryable: k.retryable(status)}
}

// answer converts a whole 2xx upstream answer, sends it to the client,
// and bills it.
func (k *call) answer(ad adaptors.Adaptor, req *adaptors.Request, ch *actors.ChannelInfo, ctype string, rbody []byte, t0 time.Time) outcome {
	s := k.s
	var out *adaptors.Response
	var err error
	if tp, ok := ad.(adaptors.TypedResponseParser); ok {
		out, err = tp.ParseTypedResponse(req, ctype, rbody)
	} else {
		out, err = ad.ParseResponse(req, rbody)
	}
	if err != nil {
		k.record(ch, false, time.Since(t0), false, "")
		var se *schema.Error
		if errors.As(err, &se) { // a 2xx carrying an error: not an answer, not billed
			k.tokenRefused(ad, ch, se)
			return outcome{err: se, retryable: k.retryable(se.Status)}
		}
		return outcome{err: apiError(http.StatusBadGateway, typeUpstream, "bad_response", "upstream sent an unreadable response"), retryable: true}
	}
	k.record(ch, true, time.Since(t0), false, "")
	if k.mode == adaptors.ModeEmbeddings {
		out.Body = embeddingFormat(out.Body, wantsBase64(k.body))
	}
	ct := out.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if k.dialect != nil {
		native, err := k.dialect.response(out.Body)
		if err != nil {
			s.log.Warn("answer conversion failed", "request_id", k.reqID, "channel_id", ch.ID, "err", err)
			return outcome{err: apiError(http.StatusBadGateway, typeUpstream, "bad_response", "upstream sent an unreadable response"), retryable: true}
		}
		out.Body, ct = native, "application/json"
	}
	k.c.Data(http.StatusOK, ct, out.Body)
	usage, q := k.charge(out.Usage, out.Images, out.Text, len(out.Body))
	if k.cacheKey != nil {
		s.cache.put(&cacheEntry{key: *k.cacheKey, body: append([]byte(nil), out.Body...), contentType: ct,
			usage: *usage, expires: time.Now().Add(k.pricing.Cache.TTL)}, k.pricing.Cache.MaxBytes)
	}
	k.settle(ch, usage, q)
	return outcome{done: true}
}

// Bounds of a multi-step upstream call (adaptors.FollowUpper): the calls
// of one attempt, the time they may take (polling a prediction included),
// and the size of an intermediate answer.
const (
	maxSteps    = 600
	maxFollow   = 10 * time.Minute
	maxStepBody = 8 << 20
)

// isEventStream reports whether an answer is a server-sent event stream.
func isEventStream(resp *protocol.Response) bool {
	return bytes.HasPrefix(resp.Header.ContentType(), []byte("text/event-stream"))
}

// followFailed maps a FollowUp error: an upstream error carried in a 2xx
// answer (a failed prediction) as it is, anything else as an unreadable
// answer.
func (k *call) followFailed(ch *actors.ChannelInfo, err error, t0 time.Time) (outcome, bool) {
	if err == nil {
		return outcome{}, false
	}
	k.record(ch, false, time.Since(t0), false, "")
	var se *schema.Error
	if errors.As(err, &se) {
		return outcome{err: se, retryable: k.retryable(se.Status)}, true
	}
	k.s.log.Warn("multi-step upstream answer unreadable", "request_id", k.reqID, "channel_id", ch.ID, "err", err)
	return outcome{err: apiError(http.StatusBadGateway, typeUpstream, "bad_response", "upstream sent an unreadable response"), retryable: true}, true
}

// errFirstByte: the upstream did not answer within the channel's
// first-byte timeout.
var errFirstByte = errors.New("first byte timeout")

// send makes the upstream call of an attempt. A non-stream call's whole
// answer is bounded by the channel's first-byte timeout. A stream's
// headers are awaited apart, so that the timeout does not stay on the
// connection for the rest of the stream: when it passes first the call is
// abandoned (and its answer, whenever it comes, closed unread).
func (k *call) send(ctx context.Context, hr *adaptors.HTTPRequest, ch *actors.ChannelInfo) (*protocol.Response, error) {
	if !k.p.stream || ch.FirstByte <= 0 {
		resp, err := k.s.up.do(ctx, hr, k.p.stream, ch.FirstByte)
		var ne net.Error
		if err != nil && ch.FirstByte > 0 && (errors.Is(err, errs.ErrTimeout) || errors.As(err, &ne) && ne.Timeout()) {
			return nil, errFirstByte
		}
		return resp, err
	}
	// The abandoned call may outlive this request: it gets its own body.
	hr.Body = append([]byte(nil), hr.Body...)
	type answer struct {
		resp *protocol.Response
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := k.s.up.do(context.WithoutCancel(ctx), hr, true)
		done <- answer{resp, err}
	}()
	timer := time.NewTimer(ch.FirstByte)
	defer timer.Stop()
	select {
	case a := <-done:
		return a.resp, a.err
	case <-timer.C:
	case <-ctx.Done():
	}
	go func() {
		if a := <-done; a.err == nil {
			forceClose(a.resp)
			protocol.ReleaseResponse(a.resp)
		}
	}()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, errFirstByte
}

// relayStream copies the converted stream to the client event by event.
// Once the first byte went out the request can no longer be retried: a
// later upstream failure is reported inside the stream.
func (k *call) relayStream(ctx context.Context, ad adaptors.Adaptor, req *adaptors.Request, ch *actors.ChannelInfo,
	up *protocol.Response, t0 time.Time) outcome {
	return k.relayBody(ctx, ad, req, ch, up.BodyStream(), func() { forceClose(up) }, t0)
}

// relayBody relays an upstream stream body; abort tears the upstream
// connection down without draining it.
func (k *call) relayBody(ctx context.Context, ad adaptors.Adaptor, req *adaptors.Request, ch *actors.ChannelInfo,
	body io.Reader, abort func(), t0 time.Time) outcome {
	c := k.c
	dec := ad.NewStreamDecoder(req, body)
	// Cancel the upstream as soon as the client goes away (hertz cancels
	// ctx on disconnect): force-close, never drain.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
			abort()
		case <-stop:
		}
	}()

	// The first-byte timeout runs until the upstream's first event: if it
	// fires, nothing has reached the client and another channel may serve.
	var timedOut atomic.Bool
	var fb *time.Timer
	if ch.FirstByte > 0 {
		fb = time.AfterFunc(max(ch.FirstByte-time.Since(t0), 0), func() {
			timedOut.Store(true)
			abort()
		})
	}

	var usage *adaptors.Usage
	textBytes, images := 0, 0
	clientGone, started := false, false
	// streamID is the id of the stream's chunks: an estimated usage chunk
	// must carry it, or SDK accumulators ignore it.
	var streamID string
	var streamErr error
	buf := make([]byte, 0, 1024)
	for {
		ev, err := dec.Next()
		if fb != nil {
			fb.Stop()
			fb = nil
			if timedOut.Load() {
				k.record(ch, false, time.Since(t0), false, "")
				return outcome{err: apiError(http.StatusGatewayTimeout, typeUpstream, "first_byte_timeout",
					"the upstream did not start answering in time"), retryable: true}
			}
		}
		var se *schema.Error
		if !started && err != nil && errors.As(err, &se) {
			// The upstream's first word is an error in a 2xx stream (Baidu,
			// Tencent, DashScope, Xunfei): nothing went to the client yet,
			// so it gets the error's status, and another channel may serve.
			abort()
			k.record(ch, false, time.Since(t0), false, "")
			k.tokenRefused(ad, ch, se)
			return outcome{err: se, retryable: k.retryable(se.Status)}
		}
		if !started {
			// The answer starts: from here on it can only be relayed, not
			// retried.
			started = true
			c.SetStatusCode(http.StatusOK)
			h := &c.Response.Header
			h.Set("Content-Type", "text/event-stream")
			h.Set("Cache-Control", "no-cache")
			h.Set("Connection", "keep-alive")
			h.Set("X-Accel-Buffering", "no")
			c.Response.HijackWriter(resp.NewChunkedBodyWriter(&c.Response, c.GetWriter()))
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				streamErr = err
			}
			break
		}
		if ev.Usage != nil {
			usage = ev.Usage
		}
		textBytes += ev.TextBytes
		if ev.Data == nil || clientGone {
			continue
		}
		if streamID == "" {
			streamID = chunkID(ev.Data)
		}
		buf = buf[:0]
		if k.dialect != nil {
			var cerr error
			if buf, cerr = k.dialect.chunk(buf, ev.Data); cerr != nil {
				k.s.log.Warn("stream conversion failed", "request_id", k.reqID, "err", cerr)
				streamErr = apiError(http.StatusBadGateway, typeUpstream, "bad_response", "upstream sent an unreadable stream")
				break
			}
			if len(buf) == 0 {
				continue
			}
		} else {
			if ev.Event != "" {
				buf = append(append(append(buf, "event: "...), ev.Event...), '\n')
				if ev.Event == "image_generation.completed" || ev.Event == "image_edit.completed" {
					images++
				}
			}
			buf = append(buf, "data: "...)
			buf = append(buf, ev.Data...)
			buf = append(buf, '\n', '\n')
		}
		if _, err := c.Write(buf); err != nil {
			clientGone = true
			abort()
			break
		}
		if err := c.Flush(); err != nil {
			clientGone = true
			abort()
			break
		}
	}
	if ctx.Err() != nil {
		clientGone = true
	}
	chat := chatStream(k.mode) && k.dialect == nil
	if k.dialect != nil {
		if usage == nil {
			usage = &adaptors.Usage{PromptTokens: k.prompt, CompletionTokens: (textBytes + 3) / 4}
			usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
		}
		if !clientGone {
			var fe error
			if streamErr != nil {
				var se *schema.Error
				if !errors.As(streamErr, &se) {
					se = apiError(http.StatusBadGateway, typeUpstream, "stream_interrupted", "upstream stream ended unexpectedly")
				}
				fe = se
			}
			_, _ = c.Write(k.dialect.finish(buf[:0], usage, fe))
		}
	} else if streamErr != nil && !clientGone {
		var se *schema.Error
		if !errors.As(streamErr, &se) {
			se = apiError(http.StatusBadGateway, typeUpstream, "stream_interrupted", "upstream stream ended unexpectedly")
		}
		buf = buf[:0]
		if chat {
			b, _ := sonic.Marshal(schema.Envelope{Error: se})
			buf = append(append(append(buf, "data: "...), b...), '\n', '\n')
		} else { // named-event streams report an error event
			b, _ := sonic.Marshal(map[string]any{"type": "error", "code": se.Code, "message": se.Message, "param": nil})
			buf = append(append(append(buf, "event: error\ndata: "...), b...), '\n', '\n')
		}
		_, _ = c.Write(buf)
	}
	if usage == nil && chat {
		usage = &adaptors.Usage{PromptTokens: k.prompt, CompletionTokens: (textBytes + 3) / 4}
		usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
		if k.p.includeUsage && !clientGone && streamErr == nil {
			if streamID == "" {
				streamID = "chatcmpl-" + strings.ReplaceAll(k.reqID, "-", "")
			}
			b := adaptors.UsageChunk(k.mode, streamID, k.p.model, time.Now().Unix(), *usage)
			buf = append(append(append(buf[:0], "data: "...), b...), '\n', '\n')
			_, _ = c.Write(buf)
		}
	}
	if !clientGone && chat {
		_, _ = c.Write([]byte("data: [DONE]\n\n"))
	}
	if !clientGone {
		_ = c.Flush()
	}
	success := streamErr == nil || clientGone
	k.record(ch, success, time.Since(t0), false, "")
	u, q := k.charge(usage, images, "", textBytes)
	k.settle(ch, u, q)
	return outcome{done: true}
}

// settle writes the Close record (the durable charge) and then releases the
// reservation.
func (k *call) settle(ch *actors.ChannelInfo, u *adaptors.Usage, q int64) {
	k.settleWith(ch.ID, u, q, k.ratios.Content(), u.PromptTokens+u.CompletionTokens)
}

// settleWith writes the Close record of a served request (channel 0: a
// cache hit) and releases its reservation; tokens count toward TPM.
func (k *call) settleWith(channelID int64, u *adaptors.Usage, q int64, content string, tokens int) {
	rec := &storage.UsageRecord{
		RequestID: k.reqID, UserID: k.token.UserID, TokenID: k.token.ID, TokenName: k.token.Name,
		ChannelID: channelID, Model: k.p.model, PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		Quota: q, ElapsedMs: time.Since(k.start).Milliseconds(), IsStream: k.p.stream, Time: k.start.Unix(),
		Content: content,
	}
	// Settle the actor first: it must count the spend before the shipper
	// can ship (and the state machine apply) the Close record.
	k.s.deps.Accounts.Settle(k.res, actors.Spend{Quota: q, Tokens: tokens, OK: true})
	if err := k.s.deps.Outbox.Settle(k.openSeq, rec); err != nil {
		k.s.log.Error("outbox close failed; usage left open for crash recovery", "request_id", k.reqID, "err", err)
	}
}

// refund releases the reservation of a request that failed before any
// answer reached the client: nothing is charged.
func (k *call) refund() {
	k.s.deps.Accounts.Settle(k.res, actors.Spend{})
	if err := k.s.deps.Outbox.Cancel(k.openSeq); err != nil {
		k.s.log.Error("outbox cancel failed", "request_id", k.reqID, "err", err)
	}
}
