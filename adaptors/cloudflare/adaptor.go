package cloudflare

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/openai"
	"switchyard/adaptors/schema"
)

// ChannelType is One API's channel type number for Cloudflare Workers AI.
const ChannelType = 37

// DefaultBaseURL is Cloudflare's API origin; the Workers AI paths below it
// start with /client/v4/accounts/{account_id}/ai.
const DefaultBaseURL = "https://api.cloudflare.com"

// gatewayHost is the host of AI Gateway URLs
// (https://gateway.ai.cloudflare.com/v1/{account_id}/{gateway_id}).
const gatewayHost = "gateway.ai.cloudflare.com"

// Channel config keys holding the account id. One API stored it as
// "user_id"; "account_id" is Cloudflare's name and wins when both are set.
const (
	ConfigAccountID = "account_id"
	ConfigUserID    = "user_id"
)

// ErrNoAccountID: the channel names no Cloudflare account, which every
// Workers AI URL contains (except an AI Gateway URL, which has its own).
var ErrNoAccountID = errors.New("cloudflare: channel config has no account_id (Cloudflare account id)")

// Models is the default model list offered for new Workers AI channels:
// text generation models served by the OpenAI-compatible endpoint, then
// embedding models. Model names pass through untouched.
func Models() []string {
	return []string{
		"@cf/openai/gpt-oss-120b",
		"@cf/openai/gpt-oss-20b",
		"@cf/meta/llama-4-scout-17b-16e-instruct",
		"@cf/meta/llama-3.3-70b-instruct-fp8-fast",
		"@cf/meta/llama-3.1-8b-instruct",
		"@cf/qwen/qwen3-30b-a3b-fp8",
		"@cf/qwen/qwq-32b",
		"@cf/qwen/qwen2.5-coder-32b-instruct",
		"@cf/google/gemma-3-12b-it",
		"@cf/mistralai/mistral-small-3.1-24b-instruct",
		"@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
		"@cf/zai-org/glm-4.7-flash",
		"@cf/baai/bge-m3",
		"@cf/baai/bge-large-en-v1.5",
		"@cf/qwen/qwen3-embedding-0.6b",
	}
}

// Adaptor speaks Workers AI's OpenAI-compatible API by wrapping the
// OpenAI adaptor. It is immutable and safe for concurrent use.
type Adaptor struct {
	inner adaptors.Adaptor
	typed adaptors.TypedResponseParser // inner's, nil if it had none
}

var (
	_ adaptors.Adaptor             = (*Adaptor)(nil)
	_ adaptors.TypedResponseParser = (*Adaptor)(nil)
	_ adaptors.ModelLister         = (*Adaptor)(nil)
)

// New returns the Workers AI adaptor.
func New() *Adaptor {
	a := &Adaptor{inner: openai.New(openai.Config{
		Name: "cloudflare",
		// Paths under {base}/client/v4/accounts/{account}/ai/v1, or
		// {gateway}/workers-ai/v1.
		ChatPath:       "/chat/completions",
		EmbeddingsPath: "/embeddings",
		ResponsesPath:  "/responses",
	})}
	a.typed, _ = a.inner.(adaptors.TypedResponseParser)
	return a
}

// BuildRequest implements adaptors.Adaptor: the OpenAI request, sent to
// the account's /ai/v1 endpoints (or an AI Gateway's /workers-ai/v1) with
// the API token as a Bearer token.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	base, err := v1Base(ch)
	if err != nil {
		return nil, err
	}
	inner := *ch
	inner.BaseURL = base
	return a.inner.BuildRequest(&inner, req)
}

// AccountID returns the channel's Cloudflare account id: config
// account_id, else user_id (One API's key for it), trimmed.
func AccountID(ch *adaptors.Channel) string {
	if id := strings.TrimSpace(ch.Config[ConfigAccountID]); id != "" {
		return id
	}
	return strings.TrimSpace(ch.Config[ConfigUserID])
}

// v1Base returns the URL the OpenAI-compatible paths are appended to.
func v1Base(ch *adaptors.Channel) (string, error) {
	base := strings.TrimRight(ch.BaseURL, "/")
	if isGateway(base) {
		// An AI Gateway URL, as the dashboard shows it or with the
		// provider segment already appended.
		base = strings.TrimSuffix(base, "/v1")
		base = strings.TrimSuffix(base, "/workers-ai")
		return base + "/workers-ai/v1", nil
	}
	if base == "" {
		base = DefaultBaseURL
	}
	account := AccountID(ch)
	if account == "" {
		return "", ErrNoAccountID
	}
	return base + "/client/v4/accounts/" + url.PathEscape(account) + "/ai/v1", nil
}

// isGateway reports whether base is an AI Gateway URL.
func isGateway(base string) bool {
	rest, ok := strings.CutPrefix(base, "https://")
	if !ok {
		return false
	}
	host, _, _ := strings.Cut(rest, "/")
	return strings.EqualFold(host, gatewayHost)
}

// ModelsRequest implements adaptors.ModelLister: Workers AI's model
// search, restricted to text generation models. The catalogue is served
// by the Cloudflare API itself, so a channel on an AI Gateway URL asks
// api.cloudflare.com with the account id from its config or, failing
// that, from the gateway URL.
func (a *Adaptor) ModelsRequest(ch *adaptors.Channel) (*adaptors.HTTPRequest, error) {
	base := strings.TrimRight(ch.BaseURL, "/")
	account := AccountID(ch)
	if isGateway(base) {
		if account == "" {
			account = gatewayAccount(base)
		}
		base = ""
	}
	if base == "" {
		base = DefaultBaseURL
	}
	if account == "" {
		return nil, ErrNoAccountID
	}
	return &adaptors.HTTPRequest{
		Method: http.MethodGet,
		URL:    base + "/client/v4/accounts/" + url.PathEscape(account) + "/ai/models/search?task=Text+Generation&per_page=100",
		Header: []adaptors.Header{{Key: "Authorization", Value: "Bearer " + ch.Key}},
	}, nil
}

// gatewayAccount reads the account id from an AI Gateway URL
// (https://gateway.ai.cloudflare.com/v1/{account_id}/{gateway_id}/…).
func gatewayAccount(base string) string {
	_, path, _ := strings.Cut(strings.TrimPrefix(base, "https://"), "/")
	parts := strings.Split(path, "/")
	if len(parts) >= 2 && parts[0] == "v1" {
		return parts[1]
	}
	return ""
}

// ParseModels implements adaptors.ModelLister. The answer is Cloudflare's
// v4 envelope whose result lists model objects named by "name"
// ({"result":[{"id":…,"name":"@cf/meta/llama-3.1-8b-instruct","task":{…},…}],"success":true,…}).
func (a *Adaptor) ParseModels(body []byte) ([]string, error) {
	var env struct {
		Success *bool `json:"success"`
		Result  []struct {
			Name string `json:"name"`
		} `json:"result"`
		Errors []cfError `json:"errors"`
	}
	if err := decode(body, &env); err != nil {
		return nil, fmt.Errorf("cloudflare: %w: model list: %v", adaptors.ErrInvalidResponse, err)
	}
	if env.Success == nil || !*env.Success {
		return nil, fmt.Errorf("cloudflare: %w: model list: %s", adaptors.ErrInvalidResponse, messages(env.Errors, "success is not true"))
	}
	names := make([]string, 0, len(env.Result))
	for _, m := range env.Result {
		if m.Name != "" {
			names = append(names, m.Name)
		}
	}
	return names, nil
}

// ParseResponse implements adaptors.Adaptor (OpenAI's conversion, after
// checking that a 2xx body is not Cloudflare's failure envelope).
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if e := envelopeError(http.StatusBadGateway, body); e != nil {
		return nil, e
	}
	return a.inner.ParseResponse(req, body)
}

// ParseTypedResponse implements adaptors.TypedResponseParser.
func (a *Adaptor) ParseTypedResponse(req *adaptors.Request, contentType string, body []byte) (*adaptors.Response, error) {
	if e := envelopeError(http.StatusBadGateway, body); e != nil {
		return nil, e
	}
	if a.typed == nil {
		return a.inner.ParseResponse(req, body)
	}
	return a.typed.ParseTypedResponse(req, contentType, body)
}

// NewStreamDecoder implements adaptors.Adaptor (OpenAI's decoder).
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	return a.inner.NewStreamDecoder(req, body)
}

// ParseError implements adaptors.Adaptor: Cloudflare's v4 envelope first,
// then the OpenAI shapes.
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	if e := envelopeError(status, body); e != nil {
		return e
	}
	return typed(a.inner.ParseError(status, body))
}
