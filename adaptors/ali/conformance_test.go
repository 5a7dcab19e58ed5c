package ali

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// TestConformance runs the shared adaptor contract on the native API's
// wire format.
func TestConformance(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: adaptors.Channel{Type: ChannelType, Key: "sk-conformance"},
		Model:   "qwen-plus",
		Fixtures: adaptortest.Fixtures{
			Stream:        read("stream/text.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 22, CompletionTokens: 11, TotalTokens: 33, CachedTokens: 16},
			Trailer:       read("stream/trailer.sse"),
			Response:      read("response/reasoning_cached.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 2050, CompletionTokens: 57, TotalTokens: 2107, CachedTokens: 2048, ReasoningTokens: 45},
			ToolStream:    read("stream/tool_call.sse"),
			ToolResponse:  read("response/tool_calls.json"),
			Errors: map[int][]byte{
				400: read("error/400_arrearage.json"),
				401: read("error/401_invalid_api_key.json"),
				403: read("error/403_access_denied.json"),
				404: read("error/404_model_not_found.json"),
				429: read("error/429_throttling.json"),
				500: read("error/500_internal.json"),
				503: read("error/503_model_unavailable.json"),
			},
			ErrorMessages: map[int]string{
				400: "make sure your account is in good standing",
				401: "Invalid API-key provided.",
				404: "Model not exist.",
				429: "Requests rate limit exceeded",
				503: "Model is unavailable",
			},
			AuthHeader: "Authorization",
		},
	})
}

// TestConformanceCompatible runs the contract on the OpenAI-compatible
// mode (AliBailian), whose answers are OpenAI's.
func TestConformanceCompatible(t *testing.T) {
	f := adaptortest.OpenAIDialect()
	f.Errors[401] = adaptortest.ReadFile(t, "testdata/error/401_compat.json")
	f.ErrorMessages = map[int]string{401: "Incorrect API key provided."}
	adaptortest.Run(t, adaptortest.Case{
		Adaptor:  NewBailian(),
		Channel:  adaptors.Channel{Type: BailianChannelType, Key: "sk-conformance"},
		Model:    "qwen-plus",
		Fixtures: f,
	})
}
