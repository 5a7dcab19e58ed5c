package transport

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/adaptors"
	"switchyard/adaptors/anthropic"
	"switchyard/adaptors/gemini"
	"switchyard/adaptors/schema"
)

// dialect is a native inbound protocol (Anthropic Messages, Gemini)
// served through the canonical OpenAI chat relay: the request is converted
// before routing, and the answer, its stream and the errors are converted
// back. A dialect belongs to one request.
type dialect interface {
	// errorBody renders an error in the protocol's envelope.
	errorBody(status int, message string) []byte
	// response converts a chat.completion body.
	response(body []byte) ([]byte, error)
	// chunk appends to buf the client frames of one chat.completion.chunk.
	chunk(buf, data []byte) ([]byte, error)
	// finish appends the closing frames (err: the stream failed).
	finish(buf []byte, usage *adaptors.Usage, err error) []byte
}

// writeErr renders a request's error in its protocol's envelope.
func (k *call) writeErr(e *schema.Error) {
	if k.dialect == nil {
		writeError(k.c, e, k.reqID)
		return
	}
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	msg := e.Message
	if k.reqID != "" {
		msg += " (request id: " + k.reqID + ")"
	}
	k.c.Data(status, "application/json", k.dialect.errorBody(status, msg))
}

// native serves a native protocol's route: convert turns the request into
// an OpenAI chat body and chooses the dialect that answers (a dialect even
// with an error, for its envelope).
func (s *Server) native(convert func(c *app.RequestContext) (dialect, []byte, error)) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		reqID := s.newRequestID()
		c.Response.Header.Set(headerRequestID, reqID)
		k := &call{s: s, c: c, mode: adaptors.ModeChat, reqID: reqID, start: time.Now()}
		d, body, err := convert(c)
		k.dialect = d
		if s.draining.Load() {
			k.writeErr(errDraining)
			return
		}
		// The key first: a wrong key is a 401 whatever the body.
		if _, _, _, ok := s.authenticate(c); !ok {
			if _, had := extractKey(c); !had {
				k.writeErr(errNoKey)
			} else {
				k.writeErr(errBadKey)
			}
			return
		}
		if err != nil {
			msg := err.Error()
			for _, p := range []string{"anthropic: invalid request: ", "gemini: invalid request: "} {
				msg = strings.TrimPrefix(msg, p)
			}
			k.writeErr(apiError(http.StatusBadRequest, typeInvalidRequest, "invalid_request_body", msg))
			return
		}
		k.nativeBody = body
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		if e := k.run(ctx); e != nil {
			k.writeErr(e)
		}
	}
}

// anthropicDialect serves POST /v1/messages.
type anthropicDialect struct {
	model string
	enc   *anthropic.StreamEncoder
}

func (anthropicDialect) errorBody(status int, message string) []byte {
	return anthropic.ErrorBody(status, message)
}

func (d anthropicDialect) response(body []byte) ([]byte, error) {
	out, _, err := anthropic.OutboundResponse(body, d.model)
	return out, err
}

func (d anthropicDialect) chunk(buf, data []byte) ([]byte, error) {
	evs, err := d.enc.Chunk(data)
	return appendAnthropic(buf, evs), err
}

func (d anthropicDialect) finish(buf []byte, usage *adaptors.Usage, err error) []byte {
	return appendAnthropic(buf, d.enc.Finish(usage, err))
}

func appendAnthropic(buf []byte, evs []anthropic.Event) []byte {
	for _, ev := range evs {
		buf = append(append(append(buf, "event: "...), ev.Name...), '\n')
		buf = append(append(append(buf, "data: "...), ev.Data...), '\n', '\n')
	}
	return buf
}

// convertAnthropic reads a Messages API request.
func (s *Server) convertAnthropic(c *app.RequestContext) (dialect, []byte, error) {
	in, err := anthropic.InboundRequest(c.Request.Body())
	if err != nil {
		return anthropicDialect{}, nil, err
	}
	d := anthropicDialect{model: in.Model}
	if in.Stream {
		est := 0
		if len(in.OpenAI) > 0 {
			est = len(in.OpenAI)/4 + 1
		}
		d.enc = anthropic.NewStreamEncoder(in.Model, est)
	}
	return d, in.OpenAI, nil
}

// geminiDialect serves /v1beta/models/{model}:generateContent and
// :streamGenerateContent (server-sent events with alt=sse, else one JSON
// array written as it grows).
type geminiDialect struct {
	model string
	enc   *gemini.StreamEncoder
	sse   bool
	n     *int // payloads written (array framing)
}

func (geminiDialect) errorBody(status int, message string) []byte {
	return gemini.ErrorBody(status, message)
}

func (d geminiDialect) response(body []byte) ([]byte, error) {
	out, _, err := gemini.OutboundResponse(body, d.model)
	return out, err
}

func (d geminiDialect) frame(buf []byte, payloads [][]byte) []byte {
	for _, p := range payloads {
		if d.sse {
			buf = append(append(append(buf, "data: "...), p...), "\r\n\r\n"...)
			continue
		}
		if *d.n == 0 {
			buf = append(buf, '[')
		} else {
			buf = append(buf, ",\r\n"...)
		}
		buf = append(buf, p...)
		*d.n++
	}
	return buf
}

func (d geminiDialect) chunk(buf, data []byte) ([]byte, error) {
	ps, err := d.enc.Chunk(data)
	return d.frame(buf, ps), err
}

func (d geminiDialect) finish(buf []byte, usage *adaptors.Usage, err error) []byte {
	buf = d.frame(buf, d.enc.Finish(usage, err))
	if !d.sse {
		if *d.n == 0 {
			buf = append(buf, '[')
		}
		buf = append(buf, ']')
	}
	return buf
}

// errGeminiRoute: the path names no model and method the gateway serves.
var errGeminiRoute = errors.New("use /v1beta/models/{model}:generateContent or :streamGenerateContent")

// convertGemini reads a generateContent request; the model and the method
// come from the path.
func (s *Server) convertGemini(c *app.RequestContext) (dialect, []byte, error) {
	action := strings.TrimPrefix(c.Param("action"), "/")
	model, method, ok := strings.Cut(action, ":")
	model = strings.TrimPrefix(model, "models/")
	if !ok || model == "" || (method != "generateContent" && method != "streamGenerateContent") {
		return geminiDialect{}, nil, errGeminiRoute
	}
	stream := method == "streamGenerateContent"
	body, err := gemini.InboundRequest(c.Request.Body(), model, stream)
	if err != nil {
		return geminiDialect{}, nil, err
	}
	d := geminiDialect{model: model, sse: string(c.Query("alt")) == "sse", n: new(int)}
	if stream {
		d.enc = gemini.NewStreamEncoder(model)
	}
	return d, body, nil
}
