package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/protocol"

	"switchyard/actors"
	"switchyard/adaptors"
)

// testPrompt is the message a channel test sends.
const testPrompt = "Output only your specific model name with no additional text."

// TestChannel sends a one-message chat request through channel id (enabled
// or not) and reports how long it took and which model it asked for. It
// succeeds only on a 2xx answer that the adaptor can read and that
// reports usage. Tests are not billed.
func (s *Server) TestChannel(ctx context.Context, id int64, model string) (time.Duration, string, error) {
	ch, ok := s.cat.Router().Channel(id)
	if !ok {
		return 0, model, errors.New("channel not found")
	}
	if len(ch.Keys) == 0 {
		return 0, model, errors.New("channel has no key")
	}
	if model == "" {
		if len(ch.Models) == 0 {
			return 0, model, errors.New("channel has no models; pass ?model=")
		}
		model = ch.Models[0]
	}
	ad, ok := s.deps.Adaptor(ch.Type)
	if !ok {
		return 0, model, fmt.Errorf("channel type %d is not supported", ch.Type)
	}
	up := ch.UpstreamModel(model)
	body, _ := sonic.Marshal(map[string]any{
		"model":    up,
		"messages": []map[string]string{{"role": "user", "content": testPrompt}},
	})
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: up, OriginModel: model, Body: body, Created: time.Now().Unix()}
	key := ch.Keys[0]
	if len(ch.Active) > 0 {
		key = ch.Keys[ch.Active[0]]
	}
	actx := &adaptors.Channel{ID: int(ch.ID), Type: ch.Type, BaseURL: ch.BaseURL, Key: key, Config: ch.Config}
	if err := s.authorize(ctx, ad, actx); err != nil {
		return 0, model, err
	}
	t0 := time.Now()
	var err error
	if sd, ok := ad.(adaptors.SocketDialer); ok {
		body, err = s.socketOnce(ctx, ad, sd, actx, req)
	} else {
		var hr *adaptors.HTTPRequest
		if hr, err = ad.BuildRequest(actx, req); err != nil {
			return 0, model, err
		}
		body, err = s.call(ctx, ad, hr)
	}
	// A multi-step upstream (Replicate) is followed to its final answer.
	if fu, ok := ad.(adaptors.FollowUpper); ok {
		for step := 1; err == nil; step++ {
			next, delay, ferr := fu.FollowUp(actx, req, step, body)
			if ferr != nil || next == nil {
				err = ferr
				break
			}
			if step >= maxSteps {
				err = errors.New("the upstream did not finish")
				break
			}
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				err = ctx.Err()
			}
			if err == nil {
				body, err = s.call(ctx, ad, next)
			}
		}
	}
	took := time.Since(t0)
	if err != nil {
		return took, model, err
	}
	out, err := ad.ParseResponse(req, body)
	if err != nil {
		return took, model, fmt.Errorf("unreadable answer: %w", err)
	}
	if out.Usage == nil {
		return took, model, errors.New("the answer reported no usage")
	}
	return took, model, nil
}

// channelFor returns a channel and its adaptor for a gateway-made call.
func (s *Server) channelFor(id int64) (*actors.ChannelInfo, adaptors.Adaptor, *adaptors.Channel, error) {
	ch, ok := s.cat.Router().Channel(id)
	if !ok {
		return nil, nil, nil, errors.New("channel not found")
	}
	if len(ch.Keys) == 0 {
		return nil, nil, nil, errors.New("channel has no key")
	}
	ad, ok := s.deps.Adaptor(ch.Type)
	if !ok {
		return nil, nil, nil, fmt.Errorf("channel type %d is not supported", ch.Type)
	}
	key := ch.Keys[0]
	if len(ch.Active) > 0 {
		key = ch.Keys[ch.Active[0]]
	}
	actx := &adaptors.Channel{ID: int(ch.ID), Type: ch.Type, BaseURL: ch.BaseURL, Key: key, Config: ch.Config}
	if err := s.authorize(context.Background(), ad, actx); err != nil {
		return nil, nil, nil, err
	}
	return ch, ad, actx, nil
}

// authorize obtains the channel's access token when its adaptor exchanges
// the credential for one or mints one from it (adaptors.TokenExchanger,
// adaptors.TokenMinter).
func (s *Server) authorize(ctx context.Context, ad adaptors.Adaptor, ch *adaptors.Channel) error {
	if !needsToken(ad) {
		return nil
	}
	tok, err := s.tokens.get(ctx, ad, ch, s.up)
	if err != nil {
		return fmt.Errorf("token exchange: %w", err)
	}
	ch.AccessToken = tok
	return nil
}

// call makes one gateway-made upstream call and returns a 2xx body.
func (s *Server) call(ctx context.Context, ad adaptors.Adaptor, hr *adaptors.HTTPRequest) ([]byte, error) {
	resp, err := s.up.do(ctx, hr, false)
	if err != nil {
		return nil, fmt.Errorf("request failed: %w", err)
	}
	defer protocol.ReleaseResponse(resp)
	if st := resp.StatusCode(); st < 200 || st > 299 {
		e := ad.ParseError(st, resp.Body())
		code, _ := e.Code.(string)
		return nil, &actors.UpstreamError{Status: st, Code: code, Message: e.Message}
	}
	return append([]byte(nil), resp.Body()...), nil
}

// ErrNotSupported is returned for a capability the channel's provider does
// not offer (balance query, model list).
var ErrNotSupported = errors.New("not supported by this channel type")

// QueryBalance asks the upstream for the remaining credit of channel id's
// key (One API's "update balance").
func (s *Server) QueryBalance(ctx context.Context, id int64) (float64, string, error) {
	_, ad, ach, err := s.channelFor(id)
	if err != nil {
		return 0, "", err
	}
	q, ok := ad.(adaptors.BalanceQuerier)
	if !ok {
		return 0, "", ErrNotSupported
	}
	now := time.Now()
	var answers [][]byte
	for step := 0; step < 8; step++ {
		hr, err := q.NextBalanceRequest(ach, now, answers)
		if err != nil {
			return 0, "", err
		}
		if hr == nil {
			b, err := q.ParseBalance(answers)
			return b.Amount, b.Currency, err
		}
		body, err := s.call(ctx, ad, hr)
		if err != nil {
			return 0, "", err
		}
		answers = append(answers, body)
	}
	return 0, "", errors.New("the balance query did not finish")
}

// FetchModels lists the models channel id's key can use, as the upstream
// reports them.
func (s *Server) FetchModels(ctx context.Context, id int64) ([]string, error) {
	_, ad, ach, err := s.channelFor(id)
	if err != nil {
		return nil, err
	}
	l, ok := ad.(adaptors.ModelLister)
	if !ok {
		return nil, ErrNotSupported
	}
	hr, err := l.ModelsRequest(ach)
	if err != nil {
		return nil, err
	}
	body, err := s.call(ctx, ad, hr)
	if err != nil {
		return nil, err
	}
	return l.ParseModels(body)
}

// socketOnce makes one gateway-made WebSocket call and returns the whole
// answer (frames as newline-delimited JSON).
func (s *Server) socketOnce(ctx context.Context, ad adaptors.Adaptor, sd adaptors.SocketDialer, ch *adaptors.Channel, req *adaptors.Request) ([]byte, error) {
	sc, err := sd.SocketRequest(ch, req, time.Now())
	if err != nil {
		return nil, err
	}
	conn, status, refusal, err := openSocket(ctx, sc, nil, socketDialTimeout)
	if err != nil {
		if status != 0 {
			e := ad.ParseError(status, refusal)
			code, _ := e.Code.(string)
			return nil, &actors.UpstreamError{Status: status, Code: code, Message: e.Message}
		}
		return nil, fmt.Errorf("request failed: %w", err)
	}
	defer conn.CloseNow()
	return io.ReadAll(io.LimitReader(&socketReader{ctx: ctx, conn: conn}, socketMaxBody))
}
