package openai

import (
	"github.com/bytedance/sonic"

	"switchyard/adaptors"
)

// rerankWire picks the usage out of a rerank answer in either dialect the
// resellers speak: Jina's usage.{prompt_tokens,total_tokens}, or Cohere's
// meta, where token-billing vendors (SiliconFlow and others) put
// billed_units.input_tokens and tokens.input_tokens. Cohere itself bills
// search units (meta.billed_units.search_units), which are not tokens and
// are not reported as usage.
type rerankWire struct {
	Usage *usageWire `json:"usage"`
	Meta  struct {
		BilledUnits struct {
			InputTokens int `json:"input_tokens"`
		} `json:"billed_units"`
		Tokens struct {
			InputTokens int `json:"input_tokens"`
		} `json:"tokens"`
	} `json:"meta"`
	Error    sonic.NoCopyRawMessage `json:"error"`
	BaseResp *baseResp              `json:"base_resp"`
}

// parseRerank converts a rerank answer, relayed untouched. Reranking reads
// its input and generates nothing, so the tokens found are all prompt
// tokens.
func (a *Adaptor) parseRerank(body []byte) (*adaptors.Response, error) {
	var w rerankWire
	if err := a.decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	if e := a.embeddedError(body, w.Error, w.BaseResp); e != nil {
		return nil, e
	}
	n := 0
	if u := w.Usage; u != nil {
		n = u.PromptTokens
		if n == 0 {
			n = u.InputTokens
		}
		if n == 0 {
			n = u.TotalTokens
		}
	}
	if n == 0 {
		n = w.Meta.BilledUnits.InputTokens
	}
	if n == 0 {
		n = w.Meta.Tokens.InputTokens
	}
	resp := &adaptors.Response{Body: body}
	if n > 0 {
		resp.Usage = &adaptors.Usage{PromptTokens: n, TotalTokens: n}
	}
	return resp, nil
}
