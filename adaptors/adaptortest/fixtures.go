package adaptortest

import (
	"embed"

	"switchyard/adaptors"
)

//go:embed testdata/openai
var openaiFS embed.FS

// Fixtures describe one provider's wire format for the conformance suite.
// Every body is a real capture (or a faithful copy of the provider's
// documented example) in the provider's own framing.
type Fixtures struct {
	// Stream is a complete 2xx stream body of a chat request that produces
	// text and reports usage, ending with the provider's terminator.
	Stream []byte
	// StreamUsage is the usage the stream reports (the last report wins).
	StreamUsage adaptors.Usage
	// Trailer is appended after Stream's terminator to check that nothing
	// after the end leaks to the client; it must contain the marker
	// "LEAK". Empty means an OpenAI-style data line.
	Trailer []byte
	// Response is a 2xx non-stream chat body and ResponseUsage its usage.
	Response      []byte
	ResponseUsage adaptors.Usage
	// ToolStream is a complete 2xx stream body of a chat request whose
	// answer is one or more tool calls; ToolResponse the same answer not
	// streamed. Both are required: every provider must return tool calls
	// with ids that stay stable across chunks and finish_reason
	// "tool_calls".
	ToolStream   []byte
	ToolResponse []byte
	// NoTools declares a provider without tool calling (Replicate's
	// models): instead of the tool checks, a request with tools must be
	// refused with adaptors.ErrInvalidBody, so the client hears it.
	NoTools bool
	// NoStreamUsage declares a provider whose streams report no usage (the
	// gateway estimates from TextBytes): instead of comparing usage, the
	// checks demand that none is invented and no usage chunk is shown.
	NoStreamUsage bool
	// Errors maps upstream HTTP statuses to error bodies of the provider.
	Errors map[int][]byte
	// ErrorMessages maps some of those statuses to a piece of the
	// provider's own message that the client must see.
	ErrorMessages map[int]string
	// AuthHeader names the header that carries the channel key (its value
	// must contain the key), e.g. "Authorization".
	AuthHeader string
}

func mustRead(name string) []byte {
	b, err := openaiFS.ReadFile("testdata/openai/" + name)
	if err != nil {
		panic("adaptortest: missing embedded fixture " + name)
	}
	return b
}

// OpenAIDialect returns the fixtures of OpenAI's own wire format (a
// gpt-4o stream with a usage chunk, a chat completion, and 401/429/500
// error bodies as OpenAI and its proxies send them), which every
// OpenAI-compatible row must handle.
func OpenAIDialect() Fixtures {
	return Fixtures{
		Stream:        mustRead("stream.sse"),
		StreamUsage:   adaptors.Usage{PromptTokens: 19, CompletionTokens: 6, TotalTokens: 25},
		Response:      mustRead("response.json"),
		ResponseUsage: adaptors.Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29},
		ToolStream:    mustRead("tool_stream.sse"),
		ToolResponse:  mustRead("tool_response.json"),
		Errors: map[int][]byte{
			401: mustRead("401.json"),
			429: mustRead("429.json"),
			500: mustRead("500.html"),
		},
		ErrorMessages: map[int]string{401: "Incorrect API key provided"},
		AuthHeader:    "Authorization",
	}
}
