package zhipu

import (
	"errors"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// Embeddings (POST {root}/embeddings: embedding-2, embedding-3) and image
// generation (POST {root}/images/generations: CogView) take OpenAI's
// bodies — the official SDKs send OpenAI's members (input, model,
// dimensions, encoding_format, user; prompt, model, n, quality,
// response_format, size, style, user) plus v4's own (request_id, user_id,
// watermark_enabled, sensitive_word_check), which are forwarded — and
// answer OpenAI's shapes ({"object":"list","data":[{"embedding",…}],
// "usage"}, {"created","data":[{"url"}]}). The inner OpenAI-dialect
// adaptor builds and reads them; only the API root and the credential
// are Zhipu's.

// buildDelegated builds an embeddings or image request through the inner
// adaptor, under ch's API root, with auth as the Authorization header.
func (a *Adaptor) buildDelegated(ch *adaptors.Channel, req *adaptors.Request, auth string) (*adaptors.HTTPRequest, error) {
	inner := *ch
	inner.BaseURL = apiRoot(ch)
	hr, err := a.inner.BuildRequest(&inner, req)
	if err != nil {
		return nil, err
	}
	for i := range hr.Header {
		if hr.Header[i].Key == "Authorization" {
			hr.Header[i].Value = auth
		}
	}
	return hr, nil
}

// parseDelegated reads an embeddings or image answer through the inner
// adaptor. An error it finds inside a 2xx body is read again as
// BigModel's, so that its business code sets status and type.
func (a *Adaptor) parseDelegated(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	resp, err := a.inner.ParseResponse(req, body)
	var se *schema.Error
	if errors.As(err, &se) {
		return nil, embeddedError(body)
	}
	return resp, err
}
