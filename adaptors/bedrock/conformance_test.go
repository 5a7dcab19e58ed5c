package bedrock

import (
	"encoding/base64"
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/bedrock/bedrocktest"
)

func errorFixtures(t *testing.T) (map[int][]byte, map[int]string) {
	return map[int][]byte{
			400: adaptortest.ReadFile(t, "testdata/error/400_validation.json"),
			403: adaptortest.ReadFile(t, "testdata/error/403_signature.json"),
			424: adaptortest.ReadFile(t, "testdata/error/424_model_error.json"),
			429: adaptortest.ReadFile(t, "testdata/error/429_throttling.json"),
			503: adaptortest.ReadFile(t, "testdata/error/503_unavailable.json"),
		}, map[int]string{
			400: "required key [max_tokens] not found",
			403: "The request signature we calculated does not match",
			429: "Too many requests",
		}
}

// TestConformanceConverse runs the shared suite on the Converse path,
// with a Bedrock API key.
func TestConformanceConverse(t *testing.T) {
	errs, msgs := errorFixtures(t)
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(Options{Now: fixedClock}),
		Channel: adaptors.Channel{Key: testAPIKey, Config: map[string]string{"region": "us-east-1"}},
		Model:   "amazon.nova-lite-v1:0",
		Fixtures: adaptortest.Fixtures{
			Stream:        readStream(t, "converse_text"),
			StreamUsage:   adaptors.Usage{PromptTokens: 9, CompletionTokens: 14, TotalTokens: 23},
			Trailer:       bedrocktest.EventFrame("contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":"LEAK"},"p":"abc"}`)),
			Response:      adaptortest.ReadFile(t, "testdata/response/converse_text.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 30, CompletionTokens: 28, TotalTokens: 58},
			ToolStream:    readStream(t, "converse_tool"),
			ToolResponse:  adaptortest.ReadFile(t, "testdata/response/converse_tool.json"),
			Errors:        errs,
			ErrorMessages: msgs,
			AuthHeader:    "Authorization",
		},
	})
}

// TestConformanceClaude runs the shared suite on the InvokeModel path of
// Claude, signed with SigV4 from config credentials.
func TestConformanceClaude(t *testing.T) {
	errs, msgs := errorFixtures(t)
	leak := `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"LEAK"}}`
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(Options{Now: fixedClock}),
		Channel: adaptors.Channel{Config: map[string]string{"region": "us-east-1", "ak": "AKIDEXAMPLE", "sk": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}},
		Model:   "claude-3-haiku-20240307",
		Fixtures: adaptortest.Fixtures{
			Stream:      readStream(t, "claude_text"),
			StreamUsage: adaptors.Usage{PromptTokens: 10, CompletionTokens: 15, TotalTokens: 25},
			Trailer: bedrocktest.EventFrame("chunk",
				[]byte(`{"bytes":"`+base64.StdEncoding.EncodeToString([]byte(leak))+`","p":"LEAK"}`)),
			Response:      adaptortest.ReadFile(t, "testdata/response/claude_message.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 25, CompletionTokens: 9, TotalTokens: 34, CachedTokens: 8, CacheWriteTokens: 5},
			ToolStream:    readStream(t, "claude_tool"),
			ToolResponse:  adaptortest.ReadFile(t, "testdata/response/claude_tool.json"),
			Errors:        errs,
			ErrorMessages: msgs,
			AuthHeader:    "Authorization",
		},
	})
}
