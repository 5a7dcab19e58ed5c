package xunfei

import (
	"testing"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// TestConformance runs the shared suite; for a SocketDialer its build
// and concurrency checks call SocketRequest (BuildRequest answers chat
// with adaptors.ErrUnsupportedMode, see doc.go). The key is not in a
// header (it signs the URL): TestSignedURL and the mock check it.
func TestConformance(t *testing.T) {
	read := func(p string) []byte { return adaptortest.ReadFile(t, "testdata/"+p) }
	adaptortest.Run(t, adaptortest.Case{
		Adaptor: New(),
		Channel: adaptors.Channel{Key: testKey},
		Model:   "Spark-Max",
		Fixtures: adaptortest.Fixtures{
			Stream:        read("stream/chat.ndjson"),
			StreamUsage:   adaptors.Usage{PromptTokens: 5, CompletionTokens: 34, TotalTokens: 39},
			Trailer:       []byte(`{"header":{"code":0,"message":"Success","sid":"cht000cb087@dx18793cd421fb894542","status":2},"payload":{"choices":{"status":2,"seq":4,"text":[{"content":"LEAK","role":"assistant","index":0}]},"usage":{"text":{"question_tokens":99,"prompt_tokens":99,"completion_tokens":99,"total_tokens":198}}}}` + "\n"),
			Response:      read("response/chat.ndjson"),
			ResponseUsage: adaptors.Usage{PromptTokens: 5, CompletionTokens: 34, TotalTokens: 39},
			ToolStream:    read("stream/tool_call.ndjson"),
			ToolResponse:  read("response/tool_call.ndjson"),
			Errors: map[int][]byte{
				401: read("error/401_signature_mismatch.json"),
				403: read("error/403_clock_skew.json"),
				404: read("error/404_no_route.json"),
			},
			ErrorMessages: map[int]string{
				401: "HMAC signature does not match",
				403: "a valid date or x-date header is required",
				404: "no Route matched",
			},
		},
	})
}
