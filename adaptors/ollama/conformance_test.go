package ollama

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// fixtures are Ollama's native wire format for the shared suite: a text
// stream and answer, a streamed and a whole tool call, and error bodies.
func fixtures(t *testing.T) adaptortest.Fixtures {
	read := func(name string) []byte { return adaptortest.ReadFile(t, "testdata/"+name) }
	return adaptortest.Fixtures{
		Stream:      read("stream/chat.ndjson"),
		StreamUsage: adaptors.Usage{PromptTokens: 11, CompletionTokens: 18, TotalTokens: 29},
		// A line after the done line must never reach the client.
		Trailer:       []byte(`{"model":"llama3.2","created_at":"2025-10-26T17:15:24.190012Z","message":{"role":"assistant","content":"LEAK"},"done":false}` + "\n"),
		Response:      read("response/chat.json"),
		ResponseUsage: adaptors.Usage{PromptTokens: 26, CompletionTokens: 298, TotalTokens: 324},
		ToolStream:    read("stream/tool_call.ndjson"),
		ToolResponse:  read("response/tool_calls.json"),
		Errors: map[int][]byte{
			400: read("error/400_no_thinking.json"),
			401: read("error/401_unauthorized.json"),
			404: read("error/404_model_not_found.json"),
			500: read("error/500_memory.json"),
			503: read("error/503_busy.json"),
		},
		ErrorMessages: map[int]string{
			400: "does not support thinking",
			401: "unauthorized",
			404: `model "llama3.2" not found, try pulling it first`,
			500: "model requires more system memory",
			503: "server busy",
		},
		AuthHeader: "Authorization",
	}
}

func TestConformance(t *testing.T) {
	adaptortest.Run(t, adaptortest.Case{
		Adaptor:  New(),
		Channel:  adaptors.Channel{Type: 30, Key: "ollama-key"},
		Model:    "llama3.2",
		Fixtures: fixtures(t),
	})
}

// TestConformanceOpenAI runs the suite on a channel of the
// OpenAI-compatible API, which must handle OpenAI's own wire format.
func TestConformanceOpenAI(t *testing.T) {
	adaptortest.Run(t, adaptortest.Case{
		Adaptor:  New(),
		Channel:  adaptors.Channel{Type: 30, Key: "ollama-key", Config: map[string]string{"api": "openai"}},
		Model:    "llama3.2",
		Fixtures: adaptortest.OpenAIDialect(),
	})
}
