package cohere

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

func TestConformance(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: adaptors.Channel{Key: "co-test-key"},
		Model:   "command-a-03-2025",
		Fixtures: adaptortest.Fixtures{
			Stream:      read("stream/chat.sse"),
			StreamUsage: adaptors.Usage{PromptTokens: 7, CompletionTokens: 13, TotalTokens: 20},
			Trailer: []byte("event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"LEAK\"}}}}\n\n" +
				"event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"billed_units\":{\"input_tokens\":99,\"output_tokens\":99}}}}\n\n"),
			Response:      read("response/chat.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 5, CompletionTokens: 22, TotalTokens: 27},
			ToolStream:    read("stream/tool_call.sse"),
			ToolResponse:  read("response/chat_tool_call.json"),
			Errors: map[int][]byte{
				401: read("error/401_invalid_api_token.json"),
				404: read("error/404_model_not_found.json"),
				429: read("error/429_rate_limit.json"),
				500: read("error/500_data.json"),
			},
			ErrorMessages: map[int]string{
				401: "invalid api token",
				404: "model 'command-x' not found",
				429: "past the per minute request limit",
				500: "internal server error",
			},
			AuthHeader: "Authorization",
		},
	})
}
