package tencent

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

func TestConformance(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: testAdaptor(),
		// The Authorization header carries the SecretId, not the whole
		// key, so AuthHeader is left empty; TestBuildRequestGolden and
		// the mock check the signature.
		Channel: adaptors.Channel{Key: testKey},
		Model:   "hunyuan-turbos-latest",
		Fixtures: adaptortest.Fixtures{
			Stream:      read("stream/chat.sse"),
			StreamUsage: adaptors.Usage{PromptTokens: 4, CompletionTokens: 5, TotalTokens: 9},
			Trailer: []byte("data: {\"Note\":\"x\",\"Choices\":[{\"FinishReason\":\"\",\"Delta\":{\"Role\":\"assistant\",\"Content\":\"LEAK\"}}],\"Created\":1700549760,\"Id\":\"x\",\"Usage\":{\"PromptTokens\":99,\"CompletionTokens\":99,\"TotalTokens\":198}}\n\n" +
				"data: {\"Note\":\"x\",\"Choices\":[{\"FinishReason\":\"stop\",\"Delta\":{\"Role\":\"assistant\",\"Content\":\"\"}}],\"Created\":1700549760,\"Id\":\"x\",\"Usage\":{\"PromptTokens\":99,\"CompletionTokens\":99,\"TotalTokens\":198}}\n\n"),
			Response:      read("response/chat.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 3, CompletionTokens: 14, TotalTokens: 17},
			ToolStream:    read("stream/tool_call.sse"),
			ToolResponse:  read("response/chat_tool_call.json"),
			Errors: map[int][]byte{
				400: read("error/400_invalid_parameter.json"),
				401: read("error/401_signature_failure.json"),
				429: read("error/429_request_limit.json"),
				500: read("error/500_internal_error.json"),
			},
			ErrorMessages: map[int]string{
				400: "Temperature must be 2 or less",
				401: "The provided credentials could not be validated",
				429: "exceeds the frequency limit",
				500: "An internal error has occurred",
			},
		},
	})
}
