package anthropic

import (
	"strings"

	"switchyard/adaptors"
)

// Anthropic stop reasons (Message.stop_reason).
const (
	stopEndTurn      = "end_turn"
	stopMaxTokens    = "max_tokens"
	stopStopSequence = "stop_sequence"
	stopToolUse      = "tool_use"
	stopRefusal      = "refusal"
)

// stopReason maps an OpenAI finish_reason to Anthropic's stop_reason.
// matched is true when the upstream named the stop sequence that ended a
// "stop" finish. toolUse says the answer calls tools: Anthropic clients run
// their tool loop on stop_reason "tool_use", and several OpenAI-dialect
// upstreams finish tool calls with "stop", so a tool-calling answer that
// would otherwise be end_turn is tool_use. Unknown reasons (DeepSeek's
// insufficient_system_resource, "error") are end_turn: the text so far is
// the answer.
func stopReason(finish string, matched, toolUse bool) string {
	r := stopEndTurn
	switch finish {
	case "stop":
		if matched {
			r = stopStopSequence
		}
	case "length":
		r = stopMaxTokens
	case "tool_calls", "function_call":
		r = stopToolUse
	case "content_filter":
		r = stopRefusal
	}
	if r == stopEndTurn && toolUse {
		r = stopToolUse
	}
	return r
}

// messageID derives an Anthropic message id from an OpenAI completion id:
// "msg_" followed by the id without OpenAI's "chatcmpl-" prefix, so that
// the two can be correlated in logs.
func messageID(openaiID string) string {
	return "msg_" + strings.TrimPrefix(openaiID, "chatcmpl-")
}

// usageOut is Anthropic's usage object. OpenAI's prompt_tokens counts
// cached prompt tokens too; Anthropic's input_tokens does not (the total
// input is input_tokens + cache_creation_input_tokens +
// cache_read_input_tokens), so the cached part moves to
// cache_read_input_tokens. OpenAI reports no cache writes:
// cache_creation_input_tokens is 0. Output tokens include reasoning on
// both sides.
type usageOut struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

// anthropicUsage splits u as usageOut describes. Nil u (no usage reported)
// is zero.
func anthropicUsage(u *adaptors.Usage) usageOut {
	if u == nil {
		return usageOut{}
	}
	cached := min(max(u.CachedTokens, 0), max(u.PromptTokens, 0))
	return usageOut{
		InputTokens:          max(u.PromptTokens, 0) - cached,
		CacheReadInputTokens: cached,
		OutputTokens:         max(u.CompletionTokens, 0),
	}
}
