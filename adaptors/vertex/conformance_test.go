package vertex

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// conformanceChannel carries the access token in Key too, so that the
// suite's auth check (a header containing the key) finds it in
// "Authorization: Bearer <token>"; the project comes from config since
// the key is then not a service account JSON.
func conformanceChannel() adaptors.Channel {
	const token = "ya29.c.conformance-access-token"
	return adaptors.Channel{Type: 42, Key: token, AccessToken: token,
		Config: map[string]string{"vertex_ai_project_id": "switchyard-test", "region": "us-east5"}}
}

func errorFixtures(t *testing.T) (map[int][]byte, map[int]string) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/error/"+p) }
	return map[int][]byte{
			400: read("400_claude_invalid_request.json"),
			401: read("401_unauthenticated.json"),
			403: read("403_permission_denied.json"),
			404: read("404_publisher_model.json"),
			429: read("429_resource_exhausted.json"),
			500: read("500_internal.json"),
			529: read("529_claude_overloaded.json"),
		}, map[int]string{
			400: "String should match pattern",
			401: "Request had invalid authentication credentials",
			403: "Permission 'aiplatform.endpoints.predict' denied",
			404: "Publisher Model",
			429: "Resource exhausted",
			529: "Overloaded",
		}
}

// TestConformanceGemini runs the shared suite on a Gemini model
// (generateContent / streamGenerateContent?alt=sse).
func TestConformanceGemini(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	errs, msgs := errorFixtures(t)
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: conformanceChannel(),
		Model:   "gemini-2.5-flash",
		Fixtures: adaptortest.Fixtures{
			Stream:        read("stream/gemini_text.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 8, CompletionTokens: 32, TotalTokens: 40, ReasoningTokens: 23},
			Trailer:       read("stream/gemini_trailer.sse"),
			Response:      read("response/gemini_text.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 2081, CompletionTokens: 256, TotalTokens: 2337, CachedTokens: 2048, ReasoningTokens: 247},
			ToolStream:    read("stream/gemini_tool.sse"),
			ToolResponse:  read("response/gemini_tool.json"),
			Errors:        errs,
			ErrorMessages: msgs,
			AuthHeader:    "Authorization",
		},
	})
}

// TestConformanceClaude runs the shared suite on a Claude model
// (rawPredict / streamRawPredict).
func TestConformanceClaude(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	errs, msgs := errorFixtures(t)
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: conformanceChannel(),
		Model:   "claude-sonnet-4-5-20250929",
		Fixtures: adaptortest.Fixtures{
			Stream:        read("stream/claude_text.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 47, CompletionTokens: 12, TotalTokens: 59, CachedTokens: 30, CacheWriteTokens: 5},
			Trailer:       read("stream/claude_trailer.sse"),
			Response:      read("response/claude_text.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 47, CompletionTokens: 12, TotalTokens: 59, CachedTokens: 30, CacheWriteTokens: 5},
			ToolStream:    read("stream/claude_tool.sse"),
			ToolResponse:  read("response/claude_tool.json"),
			Errors:        errs,
			ErrorMessages: msgs,
			AuthHeader:    "Authorization",
		},
	})
}
