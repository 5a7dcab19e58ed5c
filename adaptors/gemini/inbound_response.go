package gemini

import (
	"encoding/json"
	"fmt"
	"slices"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// generateResponse is Gemini's GenerateContentResponse, members in the
// order Google sends them. It is also each payload of a stream.
type generateResponse struct {
	Candidates    []candidate    `json:"candidates"`
	UsageMetadata *usageMetadata `json:"usageMetadata,omitempty"`
	ModelVersion  string         `json:"modelVersion,omitempty"`
	ResponseID    string         `json:"responseId,omitempty"`
}

type candidate struct {
	Content      contentOut `json:"content"`
	FinishReason string     `json:"finishReason,omitempty"`
	Index        int        `json:"index"`
}

type contentOut struct {
	Parts []partOut `json:"parts"`
	Role  string    `json:"role"`
}

// partOut is a response Part: text (a thought when Thought is set) or a
// function call.
type partOut struct {
	Text         *string          `json:"text,omitempty"`
	Thought      bool             `json:"thought,omitempty"`
	FunctionCall *functionCallOut `json:"functionCall,omitempty"`
}

// functionCallOut carries the upstream's tool-call id as Gemini's
// optional FunctionCall.id: a client that returns it in its
// functionResponse lets InboundRequest answer the exact call.
type functionCallOut struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
	ID   string          `json:"id,omitempty"`
}

func textPart(s string) partOut    { return partOut{Text: &s} }
func thoughtPart(s string) partOut { return partOut{Text: &s, Thought: true} }

// usageMetadata is Gemini's usage. promptTokenCount includes cached
// tokens on both sides (cachedContentTokenCount is the cached part), but
// Gemini's candidatesTokenCount excludes thinking, which it reports as
// thoughtsTokenCount, while OpenAI's completion_tokens includes reasoning:
// candidatesTokenCount = completion_tokens − reasoning_tokens. The total
// is the same on both sides.
type usageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount,omitempty"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount,omitempty"`
}

// geminiUsage converts u as usageMetadata documents; nil when u is nil.
func geminiUsage(u *adaptors.Usage) *usageMetadata {
	if u == nil {
		return nil
	}
	reasoning := min(max(u.ReasoningTokens, 0), max(u.CompletionTokens, 0))
	return &usageMetadata{
		PromptTokenCount:        max(u.PromptTokens, 0),
		CandidatesTokenCount:    max(u.CompletionTokens, 0) - reasoning,
		TotalTokenCount:         max(u.TotalTokens, 0),
		CachedContentTokenCount: min(max(u.CachedTokens, 0), max(u.PromptTokens, 0)),
		ThoughtsTokenCount:      reasoning,
	}
}

// finishReason maps an OpenAI finish_reason to Gemini's: stop and
// tool_calls are STOP (Gemini ends function calls with STOP too), length
// is MAX_TOKENS, content_filter is SAFETY; an absent reason is STOP;
// vendor-specific ones are OTHER.
func finishReason(r string) string {
	switch r {
	case "", "stop", "tool_calls", "function_call":
		return "STOP"
	case "length":
		return "MAX_TOKENS"
	case "content_filter":
		return "SAFETY"
	}
	return "OTHER"
}

// callPart renders a tool call as a functionCall part; arguments that are
// not a JSON object become {}.
func callPart(id, name, args string) partOut {
	return partOut{FunctionCall: &functionCallOut{Name: name, Args: openaiwire.ObjectOrEmpty(args), ID: id}}
}

// OutboundResponse converts an OpenAI chat.completion body (from a 2xx
// upstream answer) into the GenerateContentResponse a Gemini client
// expects, and returns the upstream's usage for billing (nil when it
// reported none). model is the model named in the client's URL, reported
// as modelVersion.
//
// Each choice becomes a candidate (candidateCount maps to n): its
// reasoning as a thought part first (Gemini SDKs leave thought parts out
// of the response text), its content as a text part, its tool calls as
// functionCall parts with the parsed arguments. finishReason follows
// finishReason, usage follows usageMetadata; usageMetadata is left out
// when the upstream reported no usage. A body that is not a JSON object,
// or that carries an "error" member, fails with
// adaptors.ErrInvalidResponse. Safe for concurrent use.
func OutboundResponse(openaiBody []byte, model string) ([]byte, *adaptors.Usage, error) {
	if !openaiwire.IsObject(openaiBody) {
		return nil, nil, fmt.Errorf("gemini: %w: not a json object", adaptors.ErrInvalidResponse)
	}
	var w openaiwire.Completion
	if err := openaiwire.DecodeLenient(openaiBody, &w); err != nil {
		return nil, nil, fmt.Errorf("gemini: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	if openaiwire.IsPresent(w.Error) {
		return nil, nil, fmt.Errorf("gemini: %w: upstream error: %s", adaptors.ErrInvalidResponse, w.Error)
	}
	usage := w.Usage.ToUsage()
	resp := generateResponse{
		Candidates:    []candidate{},
		UsageMetadata: geminiUsage(usage),
		ModelVersion:  model,
		ResponseID:    w.ID,
	}
	for _, c := range w.Choices {
		var parts []partOut
		if r := c.Message.ReasoningText(); r != "" {
			parts = append(parts, thoughtPart(r))
		}
		if t := c.Message.Text(); t != "" {
			parts = append(parts, textPart(t))
		}
		for _, tc := range c.Message.ToolCalls {
			parts = append(parts, callPart(tc.ID, tc.Function.Name, tc.Function.Arguments))
		}
		if len(parts) == 0 {
			parts = []partOut{textPart("")}
		}
		reason := ""
		if c.FinishReason != nil {
			reason = *c.FinishReason
		}
		resp.Candidates = append(resp.Candidates, candidate{
			Content:      contentOut{Parts: parts, Role: "model"},
			FinishReason: finishReason(reason),
			Index:        c.Index,
		})
	}
	slices.SortStableFunc(resp.Candidates, func(a, b candidate) int { return a.Index - b.Index })
	return openaiwire.Marshal(&resp), usage, nil
}
