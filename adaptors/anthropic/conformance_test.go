package anthropic

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// Compile-time checks of the capabilities the registry discovers.
var (
	_ adaptors.Adaptor      = (*Adaptor)(nil)
	_ adaptors.ModelLister  = (*Adaptor)(nil)
	_ adaptors.ImageInliner = (*Adaptor)(nil)
)

func TestConformance(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, p) }
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: adaptors.Channel{Key: "sk-ant-api03-conformance"},
		Model:   "claude-sonnet-4-5",
		Fixtures: adaptortest.Fixtures{
			Stream:      read("testdata/stream/text.sse"),
			StreamUsage: adaptors.Usage{PromptTokens: 2073, CompletionTokens: 15, TotalTokens: 2088, CachedTokens: 2048},
			Trailer: []byte("event: content_block_delta\n" +
				`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"LEAK"}}` + "\n\n" +
				"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
			Response:      read("testdata/response/thinking_cached.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 2009, CompletionTokens: 393, TotalTokens: 2402, CachedTokens: 1800, CacheWriteTokens: 188, ReasoningTokens: 312},
			ToolStream:    read("testdata/stream/tool_call.sse"),
			ToolResponse:  read("testdata/response/tool_use.json"),
			Errors: map[int][]byte{
				400: read("testdata/error/400_invalid_request.json"),
				401: read("testdata/error/401_authentication.json"),
				429: read("testdata/error/429_rate_limit.json"),
				529: read("testdata/error/529_overloaded.json"),
			},
			ErrorMessages: map[int]string{
				400: "cannot both be specified",
				401: "invalid x-api-key",
				429: "exceed the rate limit",
				529: "Overloaded",
			},
			AuthHeader: "x-api-key",
		},
	})
}
