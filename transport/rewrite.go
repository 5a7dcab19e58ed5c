package transport

import (
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/actors"
	"switchyard/adaptors"
)

// channelBody returns the request body as channel ch must receive it: with
// the channel's forced system prompt (chat requests that bring no system
// or developer message of their own get it as their first message) and
// its parameter overrides applied. Without either it returns body itself,
// untouched; a body it cannot rewrite (not a JSON object) is returned as
// is, and the adaptor refuses it.
func channelBody(body []byte, mode adaptors.Mode, ch *actors.ChannelInfo) []byte {
	prompt := ch.SystemPrompt != "" && mode == adaptors.ModeChat
	if !prompt && len(ch.Params) == 0 {
		return body
	}
	var m map[string]any
	if err := sonic.Unmarshal(body, &m); err != nil || m == nil {
		return body
	}
	if prompt {
		msgs, _ := m["messages"].([]any)
		has := false
		for _, x := range msgs {
			if msg, ok := x.(map[string]any); ok {
				if r, _ := msg["role"].(string); r == "system" || r == "developer" {
					has = true
					break
				}
			}
		}
		if !has {
			m["messages"] = append([]any{map[string]any{"role": "system", "content": ch.SystemPrompt}}, msgs...)
		}
	}
	for k, v := range ch.Params {
		m[k] = v
	}
	out, err := sonic.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// overrideHeaders applies the channel's header overrides to an upstream
// request: a header it names replaces every header of that name the
// adaptor set (case-insensitively), or is added.
func overrideHeaders(hr *adaptors.HTTPRequest, headers map[string]string) {
	if len(headers) == 0 {
		return
	}
	out := hr.Header[:0:0]
	for _, h := range hr.Header {
		replaced := false
		for k := range headers {
			if strings.EqualFold(k, h.Key) {
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, h)
		}
	}
	for k, v := range headers {
		out = append(out, adaptors.Header{Key: k, Value: v})
	}
	hr.Header = out
}
