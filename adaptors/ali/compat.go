package ali

import (
	"bytes"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/openai"
)

// newCompat returns the OpenAI-dialect adaptor of DashScope's compatible
// mode. Its paths are under {base}/compatible-mode; the mode accepts
// stream_options.include_usage, so stream usage is asked for as for
// OpenAI.
func newCompat() adaptors.Adaptor {
	return openai.New(openai.Config{
		Name:           "ali",
		ChatPath:       "/v1/chat/completions",
		EmbeddingsPath: "/v1/embeddings",
	})
}

// buildCompat describes a compatible-mode call: the client's OpenAI body
// (forwarded untouched when nothing must change) to
// {base}/compatible-mode/v1/…. One API's "-internet" suffix is removed
// from the model and "enable_search": true added to the body; DashScope
// members a client sends (enable_search, enable_thinking, …) pass
// through in the body.
func (a *Adaptor) buildCompat(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	inner := *ch
	inner.BaseURL = base(ch) + compatPrefix
	r := req
	search := false
	if req.Mode == adaptors.ModeChat {
		if m, ok := strings.CutSuffix(req.Model, internetSuffix); ok && m != "" {
			c := *req
			c.Model = m
			r, search = &c, true
		}
	}
	hr, err := a.compat.BuildRequest(&inner, r)
	if err != nil {
		return nil, err
	}
	if search {
		hr.Body = withEnableSearch(hr.Body)
	}
	return hr, nil
}

// withEnableSearch returns a copy of the JSON object body with
// "enable_search":true as its first member (a member the client wrote
// later in the body wins, as JSON decoders keep the last duplicate).
func withEnableSearch(body []byte) []byte {
	rest := bytes.TrimSpace(body)
	if len(rest) == 0 || rest[0] != '{' {
		return body // not an object: the upstream will say so
	}
	rest = bytes.TrimSpace(rest[1:])
	const member = `{"enable_search":true`
	out := make([]byte, 0, len(member)+1+len(rest))
	out = append(out, member...)
	if len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}
