package adaptors

import (
	"github.com/bytedance/sonic"

	"switchyard/adaptors/schema"
)

// Schema converts u to the OpenAI wire shape. The detail objects are
// omitted when zero, as many OpenAI-compatible upstreams do.
func (u Usage) Schema() schema.Usage {
	w := schema.Usage{
		PromptTokens:     u.PromptTokens,
		CompletionTokens: u.CompletionTokens,
		TotalTokens:      u.TotalTokens,
	}
	if u.CachedTokens != 0 {
		w.PromptTokensDetails = &schema.PromptTokensDetails{CachedTokens: u.CachedTokens}
	}
	if u.ReasoningTokens != 0 {
		w.CompletionTokensDetails = &schema.CompletionTokensDetails{ReasoningTokens: u.ReasoningTokens}
	}
	return w
}

// UsageChunk builds the payload of the final usage-only stream event
// (`choices: []`, non-null `usage`), exactly as OpenAI sends it when the
// client asked for stream_options.include_usage. The transport calls it when
// the client wants usage but the upstream never reported any (the usage is
// then the gateway's estimate), and frames it with sse.AppendData before
// `data: [DONE]`. id, model and created should repeat the values of the
// stream's other chunks. mode selects the object name (chat.completion.chunk
// or text_completion). Safe for concurrent use.
func UsageChunk(mode Mode, id, model string, created int64, u Usage) []byte {
	object := schema.ObjectChatCompletionChunk
	if mode == ModeCompletions {
		object = schema.ObjectTextCompletion
	}
	w := u.Schema()
	chunk := schema.UsageChunk{
		ID:      id,
		Object:  object,
		Created: created,
		Model:   model,
		Choices: []struct{}{},
		Usage:   &w,
	}
	b, err := sonic.Marshal(&chunk)
	if err != nil {
		// Unreachable: the value holds only strings and integers.
		panic("adaptors: marshal usage chunk: " + err.Error())
	}
	return b
}
