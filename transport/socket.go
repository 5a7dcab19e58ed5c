package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"switchyard/actors"
	"switchyard/adaptors"
)

// Bounds of an upstream WebSocket call (adaptors.SocketDialer).
const (
	socketDialTimeout = 30 * time.Second
	// socketReadLimit caps one upstream frame.
	socketReadLimit = 16 << 20
	// socketMaxBody caps a whole non-stream answer.
	socketMaxBody = 64 << 20
)

// socketClient dials upstream WebSockets; TLS as for any upstream call.
var socketClient = &http.Client{Timeout: 0}

// attemptSocket makes one attempt on a channel whose provider speaks over
// a WebSocket: dial, send the adaptor's frames, and read the answer's
// frames as newline-delimited JSON — relayed as they come for a stream,
// converted whole otherwise.
func (k *call) attemptSocket(ctx context.Context, ad adaptors.Adaptor, sd adaptors.SocketDialer, actx *adaptors.Channel,
	req *adaptors.Request, ch *actors.ChannelInfo) outcome {
	s := k.s
	sc, err := sd.SocketRequest(actx, req, time.Now())
	if err != nil {
		return k.buildFailed(ch, err)
	}
	t0 := time.Now()
	dialTimeout := socketDialTimeout
	if ch.FirstByte > 0 {
		dialTimeout = ch.FirstByte
	}
	conn, status, refusal, err := openSocket(ctx, sc, ch.Headers, dialTimeout)
	if err != nil {
		if status != 0 {
			return k.upstreamFailed(ad, ch, status, refusal, t0)
		}
		k.record(ch, false, time.Since(t0), false, "")
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return outcome{err: apiError(http.StatusGatewayTimeout, typeUpstream, "first_byte_timeout",
				"the upstream did not start answering in time"), retryable: true}
		}
		s.log.Warn("upstream websocket failed", "request_id", k.reqID, "channel_id", ch.ID, "err", err)
		return outcome{err: apiError(http.StatusBadGateway, typeUpstream, "do_request_failed", "upstream request failed"), retryable: true}
	}
	defer conn.CloseNow()
	ch.Health.Begin()
	defer ch.Health.End()
	// Reads end with the request (the client went away) and, until the
	// first frame, with the first-byte timeout.
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	body := &socketReader{ctx: rctx, conn: conn}
	if ch.FirstByte > 0 {
		first := time.AfterFunc(max(ch.FirstByte-time.Since(t0), 0), func() {
			if !body.started() {
				rcancel()
			}
		})
		defer first.Stop()
	}
	if k.p.stream {
		return k.relayBody(ctx, ad, req, ch, body, func() { rcancel(); _ = conn.CloseNow() }, t0)
	}
	all, err := io.ReadAll(io.LimitReader(body, socketMaxBody))
	if err != nil && len(all) == 0 {
		k.record(ch, false, time.Since(t0), false, "")
		if rctx.Err() != nil && ctx.Err() == nil {
			return outcome{err: apiError(http.StatusGatewayTimeout, typeUpstream, "first_byte_timeout",
				"the upstream did not start answering in time"), retryable: true}
		}
		return outcome{err: apiError(http.StatusBadGateway, typeUpstream, "do_request_failed", "upstream request failed"), retryable: true}
	}
	// A read error after frames arrived leaves a truncated answer, which
	// the adaptor's parser reports.
	return k.answer(ad, req, ch, "application/x-ndjson", all, t0)
}

// openSocket dials an upstream WebSocket and sends the call's frames. A
// refused upgrade returns the refusal's status and body (status 0: no
// answer at all).
func openSocket(ctx context.Context, sc *adaptors.SocketCall, extra map[string]string, timeout time.Duration) (*websocket.Conn, int, []byte, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hdr := http.Header{}
	for _, h := range sc.Header {
		hdr.Set(h.Key, h.Value)
	}
	for k, v := range extra {
		hdr.Set(k, v)
	}
	conn, resp, err := websocket.Dial(dctx, sc.URL, &websocket.DialOptions{HTTPHeader: hdr, HTTPClient: socketClient})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
			}
			return nil, resp.StatusCode, body, err
		}
		if dctx.Err() != nil {
			err = context.DeadlineExceeded
		}
		return nil, 0, nil, err
	}
	conn.SetReadLimit(socketReadLimit)
	for _, f := range sc.Frames {
		if err := conn.Write(ctx, websocket.MessageText, f); err != nil {
			conn.CloseNow()
			return nil, 0, nil, err
		}
	}
	return conn, 0, nil, nil
}

// socketReader presents a WebSocket's text frames as one body, each frame
// followed by a newline. A normal close is the end of the body.
type socketReader struct {
	ctx   context.Context
	conn  *websocket.Conn
	buf   []byte
	frame atomic.Bool // a frame has arrived (read by the first-byte timer)
	err   error
}

func (r *socketReader) started() bool { return r.frame.Load() }

func (r *socketReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		typ, data, err := r.conn.Read(r.ctx)
		if err != nil {
			switch websocket.CloseStatus(err) {
			case websocket.StatusNormalClosure, websocket.StatusGoingAway:
				r.err = io.EOF
			default:
				if errors.Is(err, io.EOF) {
					r.err = io.ErrUnexpectedEOF
				} else {
					r.err = err
				}
			}
			continue
		}
		r.frame.Store(true)
		if typ != websocket.MessageText {
			continue
		}
		r.buf = append(append(r.buf[:0], data...), '\n')
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
