package zhipu

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

func fixtures(t *testing.T) adaptortest.Fixtures {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	return adaptortest.Fixtures{
		Stream:      read("stream/reasoning.sse"),
		StreamUsage: adaptors.Usage{PromptTokens: 1280, CompletionTokens: 96, TotalTokens: 1376, CachedTokens: 1024, ReasoningTokens: 71},
		Trailer: []byte(`data: {"id":"x","created":1,"model":"glm-4.6","choices":[{"index":0,"delta":{"role":"assistant","content":"LEAK"}}]}` + "\n\n" +
			`data: {"id":"x","created":1,"model":"glm-4.6","choices":[{"index":0,"finish_reason":"stop","delta":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":99,"completion_tokens":99,"total_tokens":198}}` + "\n\n" +
			"data: [DONE]\n\n"),
		Response:      read("response/chat_reasoning_cached.json"),
		ResponseUsage: adaptors.Usage{PromptTokens: 1280, CompletionTokens: 96, TotalTokens: 1376, CachedTokens: 1024, ReasoningTokens: 71},
		ToolStream:    read("stream/tool_stream.sse"),
		ToolResponse:  read("response/chat_tool_calls.json"),
		Errors: map[int][]byte{
			400: read("error/400_1261_prompt_too_long.json"),
			401: read("error/401_1000_auth.json"),
			429: read("error/429_1113_arrears.json"),
			500: read("error/500_internal.json"),
		},
		ErrorMessages: map[int]string{
			400: "Prompt 超长",
			401: "身份验证失败",
			429: "余额不足",
			500: "内部错误",
		},
	}
}

// TestConformance runs the shared suite on a JWT channel (the token the
// transport minted is in Channel.AccessToken; the header carries it, not
// the key) and on a plain-key channel.
func TestConformance(t *testing.T) {
	t.Run("jwt", func(t *testing.T) {
		adaptortest.Run(t, adaptortest.Case{Adaptor: New(), Channel: jwtChannel(), Model: "glm-4.6", Fixtures: fixtures(t)})
	})
	t.Run("key", func(t *testing.T) {
		f := fixtures(t)
		f.AuthHeader = "Authorization"
		adaptortest.Run(t, adaptortest.Case{Adaptor: New(), Channel: keyChannel(), Model: "glm-4.6", Fixtures: f})
	})
	t.Run("glm-4 stream", func(t *testing.T) {
		f := fixtures(t)
		f.Stream = adaptortest.ReadFile(t, "testdata/stream/chat.sse")
		f.StreamUsage = adaptors.Usage{PromptTokens: 19, CompletionTokens: 7, TotalTokens: 26}
		f.ToolStream = adaptortest.ReadFile(t, "testdata/stream/tool_call.sse")
		f.Response = adaptortest.ReadFile(t, "testdata/response/chat.json")
		f.ResponseUsage = adaptors.Usage{PromptTokens: 19, CompletionTokens: 23, TotalTokens: 42}
		adaptortest.Run(t, adaptortest.Case{Adaptor: New(), Channel: jwtChannel(), Model: "glm-4", Fixtures: f})
	})
}
