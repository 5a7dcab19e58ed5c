package gemini

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// TestConformance runs the shared adaptor contract on Gemini's wire
// format.
func TestConformance(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: adaptors.Channel{Key: "AIzaSyConformance"},
		Model:   "gemini-2.5-flash",
		Fixtures: adaptortest.Fixtures{
			Stream:        read("stream/text.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 8, CompletionTokens: 32, TotalTokens: 40, ReasoningTokens: 23},
			Trailer:       read("stream/trailer.sse"),
			Response:      read("response/reasoning_cached.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 2081, CompletionTokens: 261, TotalTokens: 2342, CachedTokens: 2048, ReasoningTokens: 247},
			ToolStream:    read("stream/tool_call.sse"),
			ToolResponse:  read("response/tool_calls.json"),
			Errors: map[int][]byte{
				400: read("error/400_api_key_invalid.json"),
				403: read("error/403_unregistered.json"),
				404: read("error/404_model.json"),
				429: read("error/429_quota.json"),
				500: read("error/500_internal.json"),
				503: read("error/503_overloaded.json"),
			},
			ErrorMessages: map[int]string{
				400: "API key not valid",
				403: "unregistered callers",
				429: "You exceeded your current quota",
				503: "The model is overloaded",
			},
			AuthHeader: "x-goog-api-key",
		},
	})
}
