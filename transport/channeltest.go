package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/protocol"

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
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: up, OriginModel: model, Body: body}
	hr, err := ad.BuildRequest(&adaptors.Channel{ID: int(ch.ID), Type: ch.Type, BaseURL: ch.BaseURL, Key: ch.Keys[0], Config: ch.Config}, req)
	if err != nil {
		return 0, model, err
	}
	t0 := time.Now()
	resp, err := s.up.do(ctx, hr, false)
	took := time.Since(t0)
	if err != nil {
		return took, model, fmt.Errorf("request failed: %w", err)
	}
	defer protocol.ReleaseResponse(resp)
	if st := resp.StatusCode(); st < 200 || st > 299 {
		e := ad.ParseError(st, resp.Body())
		return took, model, fmt.Errorf("upstream answered %d: %s", st, e.Message)
	}
	out, err := ad.ParseResponse(req, resp.Body())
	if err != nil {
		return took, model, fmt.Errorf("unreadable answer: %w", err)
	}
	if out.Usage == nil {
		return took, model, errors.New("the answer reported no usage")
	}
	return took, model, nil
}
