package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// upResponse is the part of a GenerateContentResponse the adaptor reads;
// each payload of a stream is one too. Error is set when a 2xx body or a
// stream payload carries Google's error object instead.
type upResponse struct {
	Candidates     []upCandidate          `json:"candidates"`
	PromptFeedback *upPromptFeedback      `json:"promptFeedback"`
	UsageMetadata  upUsage                `json:"usageMetadata"` // zero when absent
	ResponseID     string                 `json:"responseId"`
	Error          sonic.NoCopyRawMessage `json:"error"`
}

type upCandidate struct {
	Content struct {
		Parts []upAnswerPart `json:"parts"`
	} `json:"content"`
	FinishReason string `json:"finishReason"`
	Index        int    `json:"index"`
}

// upAnswerPart is a Part of an answer. Parts the OpenAI schema has no
// place for (inlineData images, executableCode, codeExecutionResult) are
// not read.
type upAnswerPart struct {
	Text             string `json:"text"`
	Thought          bool   `json:"thought"`
	ThoughtSignature string `json:"thoughtSignature"`
	FunctionCall     *struct {
		ID   string                 `json:"id"`
		Name string                 `json:"name"`
		Args sonic.NoCopyRawMessage `json:"args"`
	} `json:"functionCall"`
}

type upPromptFeedback struct {
	BlockReason string `json:"blockReason"`
}

// upUsage is usageMetadata. promptTokenCount counts the whole prompt,
// cached content included (cachedContentTokenCount is that part);
// toolUsePromptTokenCount (results of Google-run tools fed back to the
// model) is input too but not in promptTokenCount; candidatesTokenCount
// excludes thinking, which thoughtsTokenCount counts; totalTokenCount is
// documented as the sum of the four.
type upUsage struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
}

// usage converts usageMetadata to OpenAI terms: prompt_tokens =
// promptTokenCount + toolUsePromptTokenCount (cached tokens included,
// CachedTokens = cachedContentTokenCount), completion_tokens =
// candidatesTokenCount + thoughtsTokenCount (ReasoningTokens =
// thoughtsTokenCount), total = prompt + completion, which is how Google
// defines totalTokenCount. nil when u is absent or counts nothing.
func (u *upUsage) usage() *adaptors.Usage {
	if u == nil {
		return nil
	}
	out := adaptors.Usage{
		PromptTokens:     u.PromptTokenCount + u.ToolUsePromptTokenCount,
		CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CachedTokens:     u.CachedContentTokenCount,
		ReasoningTokens:  u.ThoughtsTokenCount,
	}
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	if out.TotalTokens == 0 {
		return nil
	}
	return &out
}

// finishReason maps a candidate's finishReason: MAX_TOKENS is length; the
// safety family (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII
// and their image counterparts) is content_filter; anything else (STOP,
// MALFORMED_FUNCTION_CALL, OTHER, …) is tool_calls when the candidate
// returned function calls, stop otherwise.
func finishReasonOf(reason string, calls bool) string {
	switch reason {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return "content_filter"
	}
	if calls {
		return "tool_calls"
	}
	return "stop"
}

// callID is the OpenAI id of the n-th function call (from 0) of an answer
// whose responseId is responseID: Gemini's own functionCall.id when it
// sent one, else "call_<responseId>_<n>" (or "call_<n>" without a
// responseId). The responseId keeps ids unique across the turns of a
// conversation, which clients rely on to pair results with calls; n makes
// them unique within an answer, and the same in every chunk of a stream.
func callID(geminiID, responseID string, n int) string {
	if geminiID != "" {
		return geminiID
	}
	if responseID == "" {
		return "call_" + strconv.Itoa(n)
	}
	return "call_" + responseID + "_" + strconv.Itoa(n)
}

// appendArgs appends function call args as compact JSON ({} when absent;
// Google pretty-prints non-stream answers).
func appendArgs(dst []byte, args []byte) []byte {
	if !isPresent(bytes.TrimSpace(args)) {
		return append(dst, "{}"...)
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, args); err != nil {
		return append(dst, "{}"...)
	}
	return buf.Bytes()
}

// upstreamError converts Google's error object found in a 2xx body or a
// stream payload: its code is the status (500 when it names none).
func upstreamError(raw []byte) *schema.Error {
	var e struct {
		Code int `json:"code"`
	}
	_ = decodeWire(raw, &e)
	status := e.Code
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	env := make([]byte, 0, len(raw)+10)
	env = append(append(append(env, `{"error":`...), raw...), '}')
	return ParseErrorBody(status, env)
}

// The OpenAI chat.completion written for the client.
type oaCompletion struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []oaChoice    `json:"choices"`
	Usage   *schema.Usage `json:"usage,omitempty"`
}

type oaChoice struct {
	Index        int       `json:"index"`
	Message      oaAnswer  `json:"message"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

type oaAnswer struct {
	Role             string         `json:"role"`
	Content          *string        `json:"content"`
	ReasoningContent string         `json:"reasoning_content,omitempty"`
	ToolCalls        []oaAnswerCall `json:"tool_calls,omitempty"`
}

type oaAnswerCall struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Function     oaFunctionCall  `json:"function"`
	ExtraContent *oaExtraContent `json:"extra_content,omitempty"`
}

// ParseGenerateResponse converts a 2xx generateContent answer into an
// OpenAI chat.completion for req: id is the responseId, created
// req.Created, model req.OriginModel (req.Model when empty); each
// candidate becomes a choice (in candidate index order), its text parts
// the content, its thought parts reasoning_content, its functionCall
// parts tool_calls (ids from callID, args as the arguments string, a
// thought signature as extra_content.google.thought_signature, as
// Google's OpenAI-compatible endpoint sends it). content is null when the
// candidate returned only function calls. A prompt blocked before any
// candidate (promptFeedback.blockReason) is one choice with empty content
// and finish_reason content_filter. Usage follows upUsage.usage, in the
// body and in Response.Usage. A body that is not a GenerateContentResponse
// wraps adaptors.ErrInvalidResponse; one carrying Google's error object is
// a *schema.Error. Safe for concurrent use; Vertex AI answers the same
// way.
func ParseGenerateResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var r upResponse
	if !isObject(body) {
		return nil, fmt.Errorf("gemini: %w: not a json object", adaptors.ErrInvalidResponse)
	}
	if err := decodeWire(body, &r); err != nil {
		return nil, fmt.Errorf("gemini: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	if isPresent(r.Error) {
		return nil, upstreamError(r.Error)
	}
	model := req.OriginModel
	if model == "" {
		model = req.Model
	}
	out := oaCompletion{
		ID:      r.ResponseID,
		Object:  "chat.completion",
		Created: req.Created,
		Model:   model,
		Choices: make([]oaChoice, 0, max(len(r.Candidates), 1)),
	}
	slices.SortStableFunc(r.Candidates, func(a, b upCandidate) int { return a.Index - b.Index })
	calls := 0
	for i := range r.Candidates {
		c := &r.Candidates[i]
		ch := oaChoice{Index: i, Message: oaAnswer{Role: "assistant"}}
		var text, thought strings.Builder
		var argBuf []byte
		for j := range c.Content.Parts {
			p := &c.Content.Parts[j]
			switch {
			case p.FunctionCall != nil:
				argBuf = appendArgs(argBuf[:0], p.FunctionCall.Args)
				call := oaAnswerCall{
					ID:       callID(p.FunctionCall.ID, r.ResponseID, calls),
					Type:     "function",
					Function: oaFunctionCall{Name: p.FunctionCall.Name, Arguments: string(argBuf)},
				}
				if p.ThoughtSignature != "" {
					call.ExtraContent = &oaExtraContent{}
					call.ExtraContent.Google.ThoughtSignature = p.ThoughtSignature
				}
				ch.Message.ToolCalls = append(ch.Message.ToolCalls, call)
				calls++
			case p.Thought:
				thought.WriteString(p.Text)
			default:
				text.WriteString(p.Text)
			}
		}
		if s := text.String(); s != "" || len(ch.Message.ToolCalls) == 0 {
			ch.Message.Content = &s
		}
		ch.Message.ReasoningContent = thought.String()
		ch.FinishReason = finishReasonOf(c.FinishReason, len(ch.Message.ToolCalls) > 0)
		out.Choices = append(out.Choices, ch)
	}
	if len(out.Choices) == 0 {
		// No candidate: the prompt was blocked (promptFeedback), or the
		// model produced nothing. Clients index choices[0], so there is
		// always one.
		empty := ""
		reason := "stop"
		if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
			reason = "content_filter"
		}
		out.Choices = append(out.Choices, oaChoice{Message: oaAnswer{Role: "assistant", Content: &empty}, FinishReason: reason})
	}
	u := r.UsageMetadata.usage()
	if u != nil {
		s := u.Schema()
		out.Usage = &s
	}
	return &adaptors.Response{Body: openaiwire.Marshal(&out), Usage: u}, nil
}
