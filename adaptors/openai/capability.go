package openai

import (
	"fmt"
	"time"

	"switchyard/adaptors"
)

// The capability wrappers: New returns one of these so that exactly the
// configured optional interfaces are implemented.

type withModels struct{ *Adaptor }

type withBalance struct{ *Adaptor }

type withBoth struct{ withModels }

var (
	_ adaptors.ModelLister    = (*withModels)(nil)
	_ adaptors.BalanceQuerier = (*withBalance)(nil)
	_ adaptors.ModelLister    = (*withBoth)(nil)
	_ adaptors.BalanceQuerier = (*withBoth)(nil)
)

// ModelsRequest implements adaptors.ModelLister.
func (w *withModels) ModelsRequest(ch *adaptors.Channel) (*adaptors.HTTPRequest, error) {
	return w.getRequest(ch, w.cfg.ModelsPath)
}

// ParseModels implements adaptors.ModelLister.
func (w *withModels) ParseModels(body []byte) ([]string, error) {
	return parseModels(w.cfg.Name, body)
}

// NextBalanceRequest implements adaptors.BalanceQuerier.
func (w *withBalance) NextBalanceRequest(ch *adaptors.Channel, now time.Time, answers [][]byte) (*adaptors.HTTPRequest, error) {
	return w.nextBalanceRequest(ch, now, answers)
}

// ParseBalance implements adaptors.BalanceQuerier.
func (w *withBalance) ParseBalance(answers [][]byte) (adaptors.Balance, error) {
	return w.cfg.Balance.ParseBalance(answers)
}

// NextBalanceRequest implements adaptors.BalanceQuerier.
func (w *withBoth) NextBalanceRequest(ch *adaptors.Channel, now time.Time, answers [][]byte) (*adaptors.HTTPRequest, error) {
	return w.nextBalanceRequest(ch, now, answers)
}

// ParseBalance implements adaptors.BalanceQuerier.
func (w *withBoth) ParseBalance(answers [][]byte) (adaptors.Balance, error) {
	return w.cfg.Balance.ParseBalance(answers)
}

func (a *Adaptor) nextBalanceRequest(ch *adaptors.Channel, now time.Time, answers [][]byte) (*adaptors.HTTPRequest, error) {
	path, err := a.cfg.Balance.BalancePath(now, answers)
	if err != nil || path == "" {
		return nil, err
	}
	return a.getRequest(ch, path)
}

// getRequest describes an authenticated GET of base+path.
func (a *Adaptor) getRequest(ch *adaptors.Channel, path string) (*adaptors.HTTPRequest, error) {
	b, err := a.newRequest(ch, "GET", path)
	if err != nil {
		return nil, err
	}
	b.req.Header = a.extraHeaders(ch, b.req.Header)
	return &b.req, nil
}

// modelList is GET /v1/models: {"object":"list","data":[{"id":…},…]}.
// Together answers with the bare array instead.
type modelEntry struct {
	ID string `json:"id"`
}

func parseModels(name string, body []byte) ([]string, error) {
	var entries []modelEntry
	i := skipWS(body, 0)
	if i < len(body) && body[i] == '[' {
		if err := decodeJSON(body, &entries); err != nil {
			return nil, fmt.Errorf("%s: %w: %v", name, adaptors.ErrInvalidResponse, err)
		}
	} else {
		var list struct {
			Data []modelEntry `json:"data"`
		}
		if !isObject(body) {
			return nil, fmt.Errorf("%s: %w: model list is not json", name, adaptors.ErrInvalidResponse)
		}
		if err := decodeJSON(body, &list); err != nil {
			return nil, fmt.Errorf("%s: %w: %v", name, adaptors.ErrInvalidResponse, err)
		}
		entries = list.Data
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.ID != "" {
			// Clone: decodeJSON lets strings alias the body.
			ids = append(ids, string([]byte(e.ID)))
		}
	}
	return ids, nil
}
