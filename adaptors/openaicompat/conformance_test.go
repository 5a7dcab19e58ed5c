package openaicompat

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// TestConformanceOpenAIDialect runs the shared suite over every row with
// OpenAI's own fixtures: each row, quirks repaired or not, must still
// relay plain OpenAI traffic unchanged (the registry runs the same check).
func TestConformanceOpenAIDialect(t *testing.T) {
	for _, v := range Vendors() {
		t.Run(v.Name, func(t *testing.T) {
			adaptortest.Run(t, adaptortest.Case{Adaptor: v.New(), Channel: testChannel(v), Model: defaultModel(v), Fixtures: adaptortest.OpenAIDialect()})
		})
	}
}

// TestConformanceVendorDialect runs the shared suite with each quirky
// vendor's own wire format.
func TestConformanceVendorDialect(t *testing.T) {
	for _, tc := range vendorFixtures(t) {
		t.Run(tc.name, func(t *testing.T) {
			v := vendor(t, tc.typ)
			adaptortest.Run(t, adaptortest.Case{Adaptor: v.New(), Channel: testChannel(v), Model: defaultModel(v), Fixtures: tc.fx})
		})
	}
}

type vendorFixture struct {
	name string
	typ  int
	fx   adaptortest.Fixtures
}

// vendorFixtures are the vendors' own answers (testdata/…/<vendor>*),
// with the usage each reports in OpenAI terms.
func vendorFixtures(t testing.TB) []vendorFixture {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	openai := adaptortest.OpenAIDialect()
	return []vendorFixture{
		{"Moonshot", TypeMoonshot, adaptortest.Fixtures{
			Stream:        read("stream/moonshot.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 19, CompletionTokens: 13, TotalTokens: 32},
			Response:      read("response/moonshot.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 19, CompletionTokens: 21, TotalTokens: 40},
			ToolStream:    read("stream/moonshot_tool.sse"),
			ToolResponse:  read("response/moonshot_tool.json"),
			Errors:        map[int][]byte{401: read("error/moonshot_401.json"), 429: read("error/moonshot_429.json")},
			ErrorMessages: map[int]string{401: "Invalid Authentication", 429: "max request"},
			AuthHeader:    "Authorization",
		}},
		{"MiniMax", TypeMiniMax, adaptortest.Fixtures{
			Stream:        read("stream/minimax.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 769, CompletionTokens: 116, TotalTokens: 885, CachedTokens: 443, ReasoningTokens: 37},
			Trailer:       []byte("data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"LEAK\"}}],\"object\":\"chat.completion.chunk\"}\n\n"),
			Response:      read("response/minimax.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 26, CompletionTokens: 223, TotalTokens: 249, ReasoningTokens: 214},
			ToolStream:    read("stream/minimax_tool.sse"),
			ToolResponse:  read("response/minimax_tool.json"),
			Errors:        map[int][]byte{500: read("error/minimax_500.json")},
			ErrorMessages: map[int]string{500: "unknown error"},
			AuthHeader:    "Authorization",
		}},
		{"DeepSeek", TypeDeepSeek, adaptortest.Fixtures{
			Stream:        read("stream/deepseek.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 13, CompletionTokens: 9, TotalTokens: 22, ReasoningTokens: 5},
			Response:      read("response/deepseek.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 1216, CompletionTokens: 10, TotalTokens: 1226, CachedTokens: 1152},
			ToolStream:    openai.ToolStream,
			ToolResponse:  openai.ToolResponse,
			Errors:        map[int][]byte{401: read("error/deepseek_401.json"), 402: read("error/deepseek_402.json")},
			ErrorMessages: map[int]string{401: "Authentication Fails", 402: "Insufficient Balance"},
			AuthHeader:    "Authorization",
		}},
		{"XunfeiV2", TypeXunfeiV2, adaptortest.Fixtures{
			Stream:        read("stream/xunfei.sse"),
			StreamUsage:   adaptors.Usage{PromptTokens: 4, CompletionTokens: 6, TotalTokens: 10},
			Trailer:       []byte("data:{\"code\":0,\"message\":\"Success\",\"sid\":\"x\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"LEAK\"},\"index\":0}]}\n\n"),
			Response:      read("response/xunfei.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 6, CompletionTokens: 42, TotalTokens: 48},
			ToolStream:    read("stream/xunfei_tool.sse"),
			ToolResponse:  read("response/xunfei_tool.json"),
			Errors:        map[int][]byte{401: read("error/xunfei_401.json"), 400: read("error/xunfei_400.json")},
			ErrorMessages: map[int]string{401: "invalid user", 400: "invalid param model"},
			AuthHeader:    "Authorization",
		}},
		{"GeminiOpenAICompatible", TypeGeminiOpenAICompatible, adaptortest.Fixtures{
			Stream: read("stream/gemini.sse"),
			// Cumulative reports, the last final; the 102 thinking tokens
			// total_tokens counts are added to completion_tokens.
			StreamUsage:   adaptors.Usage{PromptTokens: 9, CompletionTokens: 102, TotalTokens: 111, ReasoningTokens: 93},
			Response:      read("response/gemini.json"),
			ResponseUsage: adaptors.Usage{PromptTokens: 46, CompletionTokens: 22, TotalTokens: 68},
			ToolStream:    read("stream/gemini_tool.sse"),
			ToolResponse:  read("response/gemini_tool.json"),
			Errors:        map[int][]byte{400: read("error/gemini_400.json"), 429: read("error/gemini_429.json")},
			ErrorMessages: map[int]string{400: "API key not valid", 429: "exceeded your current quota"},
			AuthHeader:    "Authorization",
		}},
	}
}

// testChannel is a channel of row v, with a base URL when the row has no
// default.
func testChannel(v Vendor) adaptors.Channel {
	ch := adaptors.Channel{ID: 7, Type: v.Type, Key: "sk-conformance-key"}
	if v.Config.BaseURL == "" {
		ch.BaseURL = "https://llm.internal.example/v1"
	}
	return ch
}

func defaultModel(v Vendor) string {
	if len(v.Models) > 0 {
		return v.Models[0]
	}
	return "gpt-4o"
}
