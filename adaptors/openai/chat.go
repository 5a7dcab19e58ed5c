package openai

import (
	"fmt"
	"net/http"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// usageWire is the usage object as OpenAI-dialect upstreams send it. It
// decodes OpenAI's chat fields, the vendor spellings of cached prompt
// tokens (DeepSeek's prompt_cache_hit_tokens, Moonshot's cached_tokens),
// and the input/output spelling of the Responses API (ResponseUsage), of
// token-billed transcriptions (TranscriptTextUsageTokens) and of streamed
// speech (speech.audio.done). Detail objects are values, not pointers:
// null or absent decode to zero without an allocation.
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

	InputTokens        int `json:"input_tokens"`
	OutputTokens       int `json:"output_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

// usage converts w; nil when w reports nothing (absent, null, or all
// zero: several upstreams send zeros when they did not count, and the
// gateway then estimates instead of billing nothing).
func (w *usageWire) usage() *adaptors.Usage {
	if w == nil {
		return nil
	}
	u := adaptors.Usage{
		PromptTokens:     w.PromptTokens,
		CompletionTokens: w.CompletionTokens,
		TotalTokens:      w.TotalTokens,
		CachedTokens:     w.PromptTokensDetails.CachedTokens,
		ReasoningTokens:  w.CompletionTokensDetails.ReasoningTokens,
	}
	if u.PromptTokens == 0 && u.CompletionTokens == 0 {
		// The Responses API spelling (input = prompt, output = completion).
		u.PromptTokens = w.InputTokens
		u.CompletionTokens = w.OutputTokens
	}
	if u.CachedTokens == 0 {
		u.CachedTokens = max(w.PromptCacheHitTokens, w.CachedTokens, w.InputTokensDetails.CachedTokens)
	}
	if u.ReasoningTokens == 0 {
		u.ReasoningTokens = w.OutputTokensDetails.ReasoningTokens
	}
	if u.TotalTokens == 0 {
		// Some upstreams omit the total; it is defined as the sum.
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	if u.PromptTokens == 0 && u.CompletionTokens == 0 && u.TotalTokens == 0 {
		return nil
	}
	return &u
}

// baseResp is MiniMax's status envelope inside 2xx bodies.
type baseResp struct {
	StatusCode int    `json:"status_code"`
	StatusMsg  string `json:"status_msg"`
}

// responseWire picks out of a whole response only what the gateway needs;
// sonic skips everything else without building it.
type responseWire struct {
	Usage    *usageWire             `json:"usage"`
	Error    sonic.NoCopyRawMessage `json:"error"`
	BaseResp *baseResp              `json:"base_resp"`
}

// parseJSON converts a JSON answer (chat, completions, embeddings,
// moderations, Responses API): the body goes to the client untouched; only
// usage is read. A body that is not valid JSON, or that carries an error
// object despite the 2xx status (some OpenAI-compatible upstreams do this,
// and a Responses API object whose status is "failed" does too), is an
// error so that it is neither billed nor relayed as a success.
func (a *Adaptor) parseJSON(body []byte) (*adaptors.Response, error) {
	var w responseWire
	if err := a.decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	if e := a.embeddedError(body, w.Error, w.BaseResp); e != nil {
		return nil, e
	}
	return &adaptors.Response{Body: body, Usage: w.Usage.usage()}, nil
}

// decodeAnswer decodes a 2xx JSON object answer into w, failing with
// adaptors.ErrInvalidResponse on anything else.
func (a *Adaptor) decodeAnswer(body []byte, w any) error {
	if !isObject(body) {
		return fmt.Errorf("%s: %w: not a json object", a.cfg.Name, adaptors.ErrInvalidResponse)
	}
	if err := decodeStrict(body, w); err != nil {
		return fmt.Errorf("%s: %w: %v", a.cfg.Name, adaptors.ErrInvalidResponse, err)
	}
	return nil
}

// embeddedError returns the error an upstream put inside a 2xx body or
// stream chunk (body, whose decoded "error" member is errRaw), or nil.
// Such errors get status 502 (the upstream failed while claiming success)
// unless the error object names an HTTP status in its code (OpenRouter
// sends {"error":{"code":429,…}} mid-stream).
func (a *Adaptor) embeddedError(body []byte, errRaw sonic.NoCopyRawMessage, br *baseResp) *schema.Error {
	if isPresent(errRaw) {
		e := parseError(http.StatusBadGateway, body)
		if c, ok := e.Code.(int); ok && c >= 400 && c <= 599 {
			e.Status = c
		}
		return e
	}
	if a.cfg.BaseResp && br != nil && br.StatusCode != 0 {
		msg := br.StatusMsg
		if msg == "" {
			msg = fmt.Sprintf("upstream status code %d", br.StatusCode)
		}
		return &schema.Error{Status: http.StatusBadGateway, Message: msg, Type: typeUpstream, Code: br.StatusCode}
	}
	return nil
}

// isPresent reports whether a raw member was sent with a non-null value.
func isPresent(raw []byte) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// isObject reports whether b starts (after whitespace) with '{'.
func isObject(b []byte) bool {
	i := skipWS(b, 0)
	return i < len(b) && b[i] == '{'
}
