package vertextest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"switchyard/adaptors"
)

// claudeUsage is a Claude answer's usage in Anthropic's terms.
type claudeUsage struct {
	Input, CacheWrite, CacheRead, Output int
}

// openai converts u to OpenAI terms, as the adaptor must.
func (u claudeUsage) openai() adaptors.Usage {
	p := u.Input + u.CacheWrite + u.CacheRead
	return adaptors.Usage{PromptTokens: p, CompletionTokens: u.Output, TotalTokens: p + u.Output,
		CachedTokens: u.CacheRead, CacheWriteTokens: u.CacheWrite}
}

// wire is the usage object of a Message, output replaced by out.
func (u claudeUsage) wire(out int) map[string]any {
	return map[string]any{
		"input_tokens":                u.Input,
		"cache_creation_input_tokens": u.CacheWrite,
		"cache_read_input_tokens":     u.CacheRead,
		"cache_creation":              map[string]int{"ephemeral_5m_input_tokens": u.CacheWrite, "ephemeral_1h_input_tokens": 0},
		"output_tokens":               out,
		"service_tier":                "standard",
	}
}

// claudeRequest is the part of a rawPredict body the mock validates.
type claudeRequest struct {
	AnthropicVersion *string         `json:"anthropic_version"`
	MaxTokens        *int            `json:"max_tokens"`
	Messages         []claudeMessage `json:"messages"`
	System           json.RawMessage `json:"system"`
	Stream           bool            `json:"stream"`
	Tools            []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
	Thinking *struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	} `json:"thinking"`
}

type claudeMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type claudeBlock struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	ID        string `json:"id"`
	ToolUseID string `json:"tool_use_id"`
	Source    *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
	} `json:"source"`
}

// writeAnthropicError answers Anthropic's error envelope, which Claude's
// serving on Vertex AI relays for the requests it refuses.
func writeAnthropicError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// validateClaude checks a rawPredict body as Claude on Vertex AI does
// and returns Anthropic's message for the first problem (or ""), and
// whether the answer is a tool call.
func validateClaude(body []byte, req *claudeRequest, stream bool) (string, bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return "There was an issue with the format of your request: " + err.Error(), false
	}
	if _, ok := top["model"]; ok {
		return "model: Extra inputs are not permitted", false
	}
	if err := json.Unmarshal(body, req); err != nil {
		return "There was an issue with the format of your request: " + err.Error(), false
	}
	switch {
	case req.AnthropicVersion == nil:
		return "anthropic_version: Field required", false
	case *req.AnthropicVersion != AnthropicVersion:
		return "anthropic_version: Input should be '" + AnthropicVersion + "'", false
	case req.MaxTokens == nil:
		return "max_tokens: Field required", false
	case *req.MaxTokens < 1:
		return "max_tokens: Input should be greater than or equal to 1", false
	case req.Stream != stream && stream:
		return "stream: streamRawPredict requires \"stream\": true", false
	case req.Stream != stream:
		return "stream: rawPredict does not stream; use streamRawPredict", false
	case len(req.Messages) == 0:
		return "messages: at least one message is required", false
	case req.Messages[0].Role != "user":
		return "messages: first message must use the \"user\" role", false
	}
	toolUses := map[string]bool{}
	lastUserHasResult := false
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i), false
		}
		if i > 0 && req.Messages[i-1].Role == m.Role {
			return fmt.Sprintf("messages: roles must alternate between \"user\" and \"assistant\", but found multiple %q roles in a row", m.Role), false
		}
		blocks, ok := claudeBlocks(m.Content)
		if !ok {
			return fmt.Sprintf("messages.%d.content: Input should be a valid list", i), false
		}
		if len(blocks) == 0 {
			return fmt.Sprintf("messages.%d: all messages must have non-empty content", i), false
		}
		hasResult := false
		for j, b := range blocks {
			switch b.Type {
			case "text":
				if b.Text == "" {
					return fmt.Sprintf("messages.%d.content.%d.text: text content blocks must be non-empty", i, j), false
				}
			case "image":
				if b.Source == nil || b.Source.Type != "base64" || b.Source.Data == "" || !validBytes(b.Source.Data) {
					return fmt.Sprintf("messages.%d.content.%d.image.source: a base64 source with data is required", i, j), false
				}
			case "tool_use":
				if m.Role != "assistant" {
					return fmt.Sprintf("messages.%d.content.%d: tool_use blocks are only allowed in assistant messages", i, j), false
				}
				toolUses[b.ID] = true
			case "tool_result":
				if !toolUses[b.ToolUseID] {
					return fmt.Sprintf("messages.%d.content.%d: unexpected `tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", i, j, b.ToolUseID), false
				}
				if j > 0 && blocks[j-1].Type != "tool_result" {
					return fmt.Sprintf("messages.%d.content: tool_result blocks must come first in the content array", i), false
				}
				hasResult = true
			}
		}
		if m.Role == "user" {
			lastUserHasResult = hasResult
		}
	}
	for i, t := range req.Tools {
		if t.Name == "" || len(t.InputSchema) == 0 || t.InputSchema[0] != '{' {
			return fmt.Sprintf("tools.%d: name and an input_schema object are required", i), false
		}
	}
	if req.ToolChoice != nil && len(req.Tools) == 0 {
		return "tool_choice: may only be specified while providing tools", false
	}
	if th := req.Thinking; th != nil && th.Type == "enabled" && (th.BudgetTokens < 1024 || th.BudgetTokens >= *req.MaxTokens) {
		return "thinking.budget_tokens: must be at least 1024 and less than max_tokens", false
	}
	last := req.Messages[len(req.Messages)-1]
	none := req.ToolChoice != nil && req.ToolChoice.Type == "none"
	return "", len(req.Tools) > 0 && !none && last.Role == "user" && !lastUserHasResult
}

// claudeBlocks reads a message content: a string (one text block) or an
// array of blocks.
func claudeBlocks(raw json.RawMessage) ([]claudeBlock, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return []claudeBlock{{Type: "text", Text: s}}, true
	}
	var blocks []claudeBlock
	if json.Unmarshal(raw, &blocks) != nil {
		return nil, false
	}
	return blocks, true
}

// claude answers rawPredict and streamRawPredict.
func (s *Server) claude(w http.ResponseWriter, model string, stream bool, body []byte) {
	var req claudeRequest
	msg, tool := validateClaude(body, &req, stream)
	if msg != "" {
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	s.mu.Lock()
	s.answers++
	n := s.answers
	s.mu.Unlock()
	id := fmt.Sprintf("msg_vrtx_01Mock%06d", n)
	toolID := fmt.Sprintf("toolu_vrtx_01Mock%06d", n)
	toolName := ""
	if tool {
		toolName = req.Tools[0].Name
	}
	// Vertex AI names the model in its answers with the date after a "-"
	// ("claude-sonnet-4-5-20250929" for claude-sonnet-4-5@20250929).
	answerModel := strings.Replace(model, "@", "-", 1)
	if stream {
		claudeStream(w, answerModel, id, toolID, toolName)
		return
	}
	var content []any
	usage, stop := claudeTextUsage.wire(claudeTextUsage.Output), "end_turn"
	if tool {
		content = []any{map[string]any{"type": "tool_use", "id": toolID, "name": toolName, "input": map[string]string{"location": "Paris"}}}
		usage, stop = claudeToolUsage.wire(claudeToolUsage.Output), "tool_use"
	} else {
		content = []any{map[string]any{"type": "text", "text": ClaudeText}}
	}
	b, _ := json.Marshal(map[string]any{
		"model": answerModel, "id": id, "type": "message", "role": "assistant", "content": content,
		"stop_reason": stop, "stop_sequence": nil, "usage": usage,
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// claudeStream writes the event stream of a streamed answer as the
// Claude API does: message_start, ping, one content block (text in
// several text_delta events, or a tool_use whose input arrives in
// several input_json_delta fragments), message_delta with the cumulative
// usage, message_stop.
func claudeStream(w http.ResponseWriter, model, id, toolID, toolName string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	event := func(name string, data any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	u, stop := claudeTextUsage, "end_turn"
	if toolName != "" {
		u, stop = claudeToolUsage, "tool_use"
	}
	event("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": u.wire(1),
	}})
	event("ping", map[string]string{"type": "ping"})
	if toolName != "" {
		event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "tool_use", "id": toolID, "name": toolName, "input": map[string]any{}}})
		for _, frag := range []string{"", `{"location":`, ` "Par`, `is"}`} {
			event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]string{"type": "input_json_delta", "partial_json": frag}})
		}
	} else {
		event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]string{"type": "text", "text": ""}})
		for _, word := range strings.SplitAfter(ClaudeText, " ") {
			event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]string{"type": "text_delta", "text": word}})
		}
	}
	event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	event("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]int{"input_tokens": u.Input, "cache_creation_input_tokens": u.CacheWrite, "cache_read_input_tokens": u.CacheRead, "output_tokens": u.Output}})
	event("message_stop", map[string]string{"type": "message_stop"})
}
