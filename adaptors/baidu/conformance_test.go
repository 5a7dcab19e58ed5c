package baidu

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

func TestConformance(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: v1Channel(),
		Model:   "ERNIE-4.0-8K",
		Fixtures: adaptortest.Fixtures{
			Stream:      read("stream/chat.sse"),
			StreamUsage: adaptors.Usage{PromptTokens: 5, CompletionTokens: 420, TotalTokens: 425},
			Trailer: []byte(`data: {"id":"as-vb0m37ti8y","object":"chat.completion","created":1709089532,"sentence_id":21,"is_end":false,"is_truncated":false,"result":"LEAK","need_clear_history":false,"finish_reason":"normal","usage":{"prompt_tokens":5,"completion_tokens":999,"total_tokens":1004}}` + "\n\n" +
				`data: {"id":"as-vb0m37ti8y","object":"chat.completion","created":1709089532,"sentence_id":22,"is_end":true,"is_truncated":false,"result":"LEAK","need_clear_history":false,"finish_reason":"normal","usage":{"prompt_tokens":5,"completion_tokens":999,"total_tokens":1004}}` + "\n\n"),
			Response:      read("response/chat.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 2, CompletionTokens: 221, TotalTokens: 223},
			ToolStream:    read("stream/tool_call.sse"),
			ToolResponse:  read("response/chat_function_call.json"),
			Errors: map[int][]byte{
				400: read("error/400_invalid_param.json"),
				401: read("error/401_invalid_client.json"),
				429: read("error/429_qps.json"),
				500: read("error/500_internal.json"),
			},
			ErrorMessages: map[int]string{
				400: "the length of messages must be an odd number",
				401: "unknown client id",
				429: "Open api qps request limit reached",
				500: "Internal error",
			},
			// The access token travels in the query, not a header.
		},
	})
}

func TestConformanceV2(t *testing.T) {
	adaptortest.Run(t, adaptortest.Case{
		Adaptor:  NewV2(),
		Channel:  adaptors.Channel{Type: V2ChannelType, Key: "bce-v3/ALTAK-cGbxpVA5AbSz6h8nbLaFh/b539762075d55c76d93dc78bcf0a91beeaf0490a"},
		Model:    "ernie-4.0-turbo-8k",
		Fixtures: adaptortest.OpenAIDialect(),
	})
}
