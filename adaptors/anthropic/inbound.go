package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"switchyard/adaptors/internal/openaiwire"
)

// Inbound is a Messages API request converted to the canonical schema.
type Inbound struct {
	// Model is the model the client asked for, which the gateway routes
	// on and echoes in the answer.
	Model string
	// Stream is true when the client asked for an event stream; the
	// answer must then come through a StreamEncoder.
	Stream bool
	// OpenAI is the equivalent OpenAI chat completions body. When Stream
	// is set it asks for stream_options.include_usage, so the upstream's
	// last chunk carries the usage Anthropic's message_delta reports.
	OpenAI []byte
}

// messagesRequest is the body of POST /v1/messages, as far as it maps to
// OpenAI. Members that have no OpenAI equivalent (top_k, service_tier,
// cache_control, container, …) are ignored.
type messagesRequest struct {
	Model         string          `json:"model"`
	MaxTokens     *int            `json:"max_tokens"`
	Messages      json.RawMessage `json:"messages"`
	System        json.RawMessage `json:"system"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	StopSequences []string        `json:"stop_sequences"`
	Stream        bool            `json:"stream"`
	Tools         []toolIn        `json:"tools"`
	ToolChoice    *toolChoiceIn   `json:"tool_choice"`
	Thinking      *thinkingIn     `json:"thinking"`
	Metadata      *struct {
		UserID string `json:"user_id"`
	} `json:"metadata"`
	OutputConfig *struct {
		Effort string `json:"effort"`
		Format *struct {
			Type   string          `json:"type"`
			Schema json.RawMessage `json:"schema"`
		} `json:"format"`
	} `json:"output_config"`
}

type messageIn struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// blockIn is any request content block; Type says which members apply.
type blockIn struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Source    *sourceIn       `json:"source"`
	Title     string          `json:"title"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
}

// sourceIn is the source of an image or document block.
type sourceIn struct {
	Type      string          `json:"type"`
	MediaType string          `json:"media_type"`
	Data      string          `json:"data"`
	URL       string          `json:"url"`
	Content   json.RawMessage `json:"content"`
}

type toolIn struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
	Strict      *bool           `json:"strict"`
}

type toolChoiceIn struct {
	Type                   string `json:"type"`
	Name                   string `json:"name"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
}

type thinkingIn struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens"`
}

// Thinking budgets map to OpenAI's reasoning_effort by these thresholds:
// budget_tokens below 4096 is "low", below 16384 "medium", anything larger
// "high". Anthropic's minimum budget is 1024 and its docs suggest starting
// there and raising it for harder tasks; budgets of 16k and more are the
// "complex task" range. Adaptive thinking leaves the effort to the
// upstream's default.
const (
	budgetMedium = 4096
	budgetHigh   = 16384
)

// effortForBudget returns the reasoning_effort for a thinking budget.
func effortForBudget(budget int) string {
	switch {
	case budget < budgetMedium:
		return "low"
	case budget < budgetHigh:
		return "medium"
	}
	return "high"
}

// InboundRequest converts the body of an Anthropic POST /v1/messages
// request into an OpenAI chat completions body, so any channel can serve
// Anthropic clients. It is a pure function, safe for concurrent use.
//
// The mapping: system (a string or text blocks) becomes the first
// message; user and assistant text blocks become message content (text
// only content is joined with "\n" into a string, which every
// OpenAI-dialect upstream accepts; with images it stays a part list);
// image blocks become image_url parts (base64 sources as data: URLs);
// PDF and text documents become file and text parts; tool_use blocks
// become the assistant's tool_calls (ids kept, input as the arguments
// string); tool_result blocks become "tool" messages, placed before the
// rest of their user turn as OpenAI requires, with images they returned
// in a user message after them (is_error has no OpenAI equivalent and is
// dropped); thinking blocks of earlier turns are dropped (OpenAI takes no
// reasoning input). max_tokens, temperature,
// top_p, stop_sequences (as stop), tools, tool_choice,
// disable_parallel_tool_use (as parallel_tool_calls), thinking and
// output_config.effort (as reasoning_effort), output_config.format (as a
// json_schema response_format) and metadata.user_id (as user) carry over.
//
// Any error wraps ErrBadRequest: the body is not a JSON object, model,
// messages or max_tokens is missing, a role or block type is unknown, or
// the request uses something no OpenAI channel can serve (server tools,
// file_id sources).
func InboundRequest(body []byte) (*Inbound, error) {
	if !openaiwire.IsObject(body) {
		return nil, badRequest("body must be a json object")
	}
	var req messagesRequest
	if err := openaiwire.API.Unmarshal(body, &req); err != nil {
		return nil, badRequest("malformed json: %v", err)
	}
	if req.Model == "" {
		return nil, badRequest("model: field required")
	}
	if req.MaxTokens == nil {
		return nil, badRequest("max_tokens: field required")
	}
	if *req.MaxTokens < 1 {
		return nil, badRequest("max_tokens: must be at least 1")
	}
	out := openaiwire.ChatRequest{
		Model:       req.Model,
		MaxTokens:   *req.MaxTokens,
		Temperature: req.Temperature,
		TopP:        req.TopP,
		Stop:        req.StopSequences,
		Stream:      req.Stream,
	}
	if req.Stream {
		out.StreamOptions = &openaiwire.StreamOptions{IncludeUsage: true}
	}
	system, err := systemMessage(req.System)
	if err != nil {
		return nil, err
	}
	if system != nil {
		out.Messages = append(out.Messages, *system)
	}
	msgs, err := convertMessages(req.Messages)
	if err != nil {
		return nil, err
	}
	out.Messages = append(out.Messages, msgs...)
	if out.Tools, err = convertTools(req.Tools); err != nil {
		return nil, err
	}
	if err := convertToolChoice(req.ToolChoice, &out); err != nil {
		return nil, err
	}
	if err := convertReasoning(&req, &out); err != nil {
		return nil, err
	}
	if oc := req.OutputConfig; oc != nil && oc.Format != nil {
		if oc.Format.Type != "json_schema" || !openaiwire.IsObject(oc.Format.Schema) {
			return nil, badRequest("output_config.format: only type json_schema with a schema object is supported")
		}
		out.ResponseFormat = &openaiwire.ResponseFormat{
			Type:       "json_schema",
			JSONSchema: &openaiwire.JSONSchema{Name: "output", Schema: oc.Format.Schema},
		}
	}
	if req.Metadata != nil {
		out.User = req.Metadata.UserID
	}
	return &Inbound{Model: req.Model, Stream: req.Stream, OpenAI: openaiwire.Marshal(&out)}, nil
}

// badRequest builds an error wrapping ErrBadRequest.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// systemMessage converts the system prompt (a string or an array of text
// blocks, joined with "\n"); nil when there is none.
func systemMessage(raw json.RawMessage) (*openaiwire.ChatMessage, error) {
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	text, err := textOf(raw, "system")
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, nil
	}
	return &openaiwire.ChatMessage{Role: "system", Content: text}, nil
}

// textOf reads a string, or an array of text blocks joined with "\n"
// (system prompts, tool results).
func textOf(raw json.RawMessage, where string) (string, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", badRequest("%s: %v", where, err)
		}
		return s, nil
	}
	blocks, err := decodeBlocks(raw, where)
	if err != nil {
		return "", err
	}
	var texts []string
	for i, b := range blocks {
		if b.Type != "text" {
			return "", badRequest("%s.%d: expected a text block, got %q", where, i, b.Type)
		}
		texts = append(texts, b.Text)
	}
	return strings.Join(texts, "\n"), nil
}

// decodeBlocks decodes an array of content blocks.
func decodeBlocks(raw json.RawMessage, where string) ([]blockIn, error) {
	var blocks []blockIn
	if len(raw) == 0 || raw[0] != '[' {
		return nil, badRequest("%s: expected a string or an array of content blocks", where)
	}
	if err := openaiwire.API.Unmarshal(raw, &blocks); err != nil {
		return nil, badRequest("%s: %v", where, err)
	}
	return blocks, nil
}

// convertMessages converts the conversation turns.
func convertMessages(raw json.RawMessage) ([]openaiwire.ChatMessage, error) {
	if !openaiwire.IsPresent(raw) {
		return nil, badRequest("messages: field required")
	}
	var msgs []messageIn
	if raw[0] != '[' {
		return nil, badRequest("messages: expected an array")
	}
	if err := openaiwire.API.Unmarshal(raw, &msgs); err != nil {
		return nil, badRequest("messages: %v", err)
	}
	if len(msgs) == 0 {
		return nil, badRequest("messages: at least one message is required")
	}
	var out []openaiwire.ChatMessage
	for i, m := range msgs {
		where := fmt.Sprintf("messages.%d", i)
		if !openaiwire.IsPresent(m.Content) {
			return nil, badRequest("%s.content: field required", where)
		}
		var err error
		switch m.Role {
		case "user":
			out, err = appendUser(out, m.Content, where)
		case "assistant":
			out, err = appendAssistant(out, m.Content, where)
		default:
			err = badRequest("%s.role: unknown role %q (expected user or assistant)", where, m.Role)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendUser converts a user turn: its tool results first (OpenAI wants
// tool messages right after the assistant message that called the tools),
// then the rest of the turn as one user message.
func appendUser(out []openaiwire.ChatMessage, raw json.RawMessage, where string) ([]openaiwire.ChatMessage, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("%s.content: %v", where, err)
		}
		return append(out, openaiwire.ChatMessage{Role: "user", Content: s}), nil
	}
	blocks, err := decodeBlocks(raw, where+".content")
	if err != nil {
		return nil, err
	}
	before := len(out)
	var parts, toolImages []openaiwire.ContentPart
	for j, b := range blocks {
		bw := fmt.Sprintf("%s.content.%d", where, j)
		switch b.Type {
		case "tool_result":
			if b.ToolUseID == "" {
				return nil, badRequest("%s.tool_use_id: field required", bw)
			}
			text, images, err := toolResultContent(b.Content, bw+".content")
			if err != nil {
				return nil, err
			}
			out = append(out, openaiwire.ChatMessage{Role: "tool", Content: text, ToolCallID: b.ToolUseID})
			toolImages = append(toolImages, images...)
		case "tool_use", "thinking", "redacted_thinking":
			return nil, badRequest("%s: %s blocks are only allowed in assistant messages", bw, b.Type)
		default:
			ps, err := contentParts(b, bw)
			if err != nil {
				return nil, err
			}
			parts = append(parts, ps...)
		}
	}
	if len(toolImages) > 0 {
		out = append(out, openaiwire.ChatMessage{Role: "user", Content: toolImages})
	}
	if len(parts) > 0 {
		out = append(out, openaiwire.ChatMessage{Role: "user", Content: partsContent(parts)})
	}
	if len(out) == before {
		return nil, badRequest("%s.content: a user message needs at least one non-empty block", where)
	}
	return out, nil
}

// appendAssistant converts an assistant turn: text becomes content,
// tool_use blocks become tool_calls, thinking is dropped.
func appendAssistant(out []openaiwire.ChatMessage, raw json.RawMessage, where string) ([]openaiwire.ChatMessage, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("%s.content: %v", where, err)
		}
		return append(out, openaiwire.ChatMessage{Role: "assistant", Content: s}), nil
	}
	blocks, err := decodeBlocks(raw, where+".content")
	if err != nil {
		return nil, err
	}
	var texts []string
	var calls []openaiwire.ToolCall
	for j, b := range blocks {
		bw := fmt.Sprintf("%s.content.%d", where, j)
		switch b.Type {
		case "text":
			if b.Text != "" {
				texts = append(texts, b.Text)
			}
		case "tool_use":
			if b.ID == "" || b.Name == "" {
				return nil, badRequest("%s: tool_use blocks need an id and a name", bw)
			}
			args := "{}"
			if openaiwire.IsPresent(b.Input) {
				var buf bytes.Buffer
				if err := json.Compact(&buf, b.Input); err != nil {
					return nil, badRequest("%s.input: %v", bw, err)
				}
				args = buf.String()
			}
			calls = append(calls, openaiwire.ToolCall{ID: b.ID, Type: "function", Function: openaiwire.FunctionCall{Name: b.Name, Arguments: args}})
		case "thinking", "redacted_thinking":
			// Earlier reasoning is not input to an OpenAI model.
		default:
			return nil, badRequest("%s: unsupported block type %q in an assistant message", bw, b.Type)
		}
	}
	msg := openaiwire.ChatMessage{Role: "assistant", ToolCalls: calls}
	switch {
	case len(texts) > 0:
		msg.Content = strings.Join(texts, "\n")
	case len(calls) == 0:
		msg.Content = ""
	}
	return append(out, msg), nil
}

// contentParts converts a user content block (text, image, document).
func contentParts(b blockIn, where string) ([]openaiwire.ContentPart, error) {
	switch b.Type {
	case "text":
		if b.Text == "" {
			return nil, nil
		}
		return []openaiwire.ContentPart{{Type: "text", Text: b.Text}}, nil
	case "image":
		url, err := imageSource(b.Source, where)
		if err != nil {
			return nil, err
		}
		return []openaiwire.ContentPart{{Type: "image_url", ImageURL: &openaiwire.ImageURL{URL: url}}}, nil
	case "document":
		return documentParts(b, where)
	}
	return nil, badRequest("%s: unsupported block type %q", where, b.Type)
}

// imageSource returns the URL for an image source: the URL itself, or the
// base64 data as a data: URL.
func imageSource(s *sourceIn, where string) (string, error) {
	if s == nil {
		return "", badRequest("%s.source: field required", where)
	}
	switch s.Type {
	case "base64":
		if s.MediaType == "" || s.Data == "" {
			return "", badRequest("%s.source: media_type and data are required", where)
		}
		return "data:" + s.MediaType + ";base64," + s.Data, nil
	case "url":
		if s.URL == "" {
			return "", badRequest("%s.source.url: field required", where)
		}
		return s.URL, nil
	}
	return "", badRequest("%s.source: unsupported source type %q", where, s.Type)
}

// documentParts converts a document block: base64 PDFs become OpenAI file
// parts, plain-text and content-block documents become their text and
// images. URL documents are refused because OpenAI file parts take no URL.
func documentParts(b blockIn, where string) ([]openaiwire.ContentPart, error) {
	s := b.Source
	if s == nil {
		return nil, badRequest("%s.source: field required", where)
	}
	switch s.Type {
	case "base64":
		if s.Data == "" {
			return nil, badRequest("%s.source.data: field required", where)
		}
		mt := s.MediaType
		if mt == "" {
			mt = "application/pdf"
		}
		name := b.Title
		if name == "" {
			name = "document.pdf"
		}
		return []openaiwire.ContentPart{{Type: "file", File: &openaiwire.FilePart{FileData: "data:" + mt + ";base64," + s.Data, Filename: name}}}, nil
	case "text":
		if s.Data == "" {
			return nil, nil
		}
		return []openaiwire.ContentPart{{Type: "text", Text: s.Data}}, nil
	case "content":
		if openaiwire.IsPresent(s.Content) && s.Content[0] == '"' {
			var text string
			if err := json.Unmarshal(s.Content, &text); err != nil {
				return nil, badRequest("%s.source.content: %v", where, err)
			}
			return []openaiwire.ContentPart{{Type: "text", Text: text}}, nil
		}
		blocks, err := decodeBlocks(s.Content, where+".source.content")
		if err != nil {
			return nil, err
		}
		var parts []openaiwire.ContentPart
		for i, inner := range blocks {
			if inner.Type != "text" && inner.Type != "image" {
				return nil, badRequest("%s.source.content.%d: expected a text or image block", where, i)
			}
			ps, err := contentParts(inner, fmt.Sprintf("%s.source.content.%d", where, i))
			if err != nil {
				return nil, err
			}
			parts = append(parts, ps...)
		}
		return parts, nil
	}
	return nil, badRequest("%s.source: unsupported document source type %q", where, s.Type)
}

// toolResultContent converts a tool_result's content: a string, or text
// (joined with "\n") and image blocks. OpenAI tool messages carry text
// only, so images are returned separately for a following user message.
func toolResultContent(raw json.RawMessage, where string) (string, []openaiwire.ContentPart, error) {
	if !openaiwire.IsPresent(raw) {
		return "", nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", nil, badRequest("%s: %v", where, err)
		}
		return s, nil, nil
	}
	blocks, err := decodeBlocks(raw, where)
	if err != nil {
		return "", nil, err
	}
	var texts []string
	var images []openaiwire.ContentPart
	for i, b := range blocks {
		bw := fmt.Sprintf("%s.%d", where, i)
		switch b.Type {
		case "text":
			texts = append(texts, b.Text)
		case "image", "document":
			ps, err := contentParts(b, bw)
			if err != nil {
				return "", nil, err
			}
			for _, p := range ps {
				if p.Type == "text" {
					texts = append(texts, p.Text)
				} else {
					images = append(images, p)
				}
			}
		default:
			return "", nil, badRequest("%s: unsupported block type %q in a tool result", bw, b.Type)
		}
	}
	return strings.Join(texts, "\n"), images, nil
}

// partsContent returns the content for a user message: a string when all
// parts are text, the parts otherwise.
func partsContent(parts []openaiwire.ContentPart) any {
	texts := make([]string, 0, len(parts))
	for _, p := range parts {
		if p.Type != "text" {
			return parts
		}
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, "\n")
}

// convertTools converts client tool definitions. Anthropic's server tools
// (web search, code execution, bash, …; any type other than "custom") run
// on Anthropic's side and no OpenAI channel can run them, so they are
// refused rather than silently dropped.
func convertTools(tools []toolIn) ([]openaiwire.ChatTool, error) {
	var out []openaiwire.ChatTool
	for i, t := range tools {
		if t.Type != "" && t.Type != "custom" {
			return nil, badRequest("tools.%d: server tool type %q is not supported by this gateway", i, t.Type)
		}
		if t.Name == "" {
			return nil, badRequest("tools.%d.name: field required", i)
		}
		params := t.InputSchema
		if !openaiwire.IsObject(params) {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, openaiwire.ChatTool{
			Type:     "function",
			Function: openaiwire.FunctionDecl{Name: t.Name, Description: t.Description, Parameters: params, Strict: t.Strict},
		})
	}
	return out, nil
}

// convertToolChoice maps tool_choice: auto → "auto", any → "required",
// tool → the named function, none → "none"; disable_parallel_tool_use
// becomes parallel_tool_calls: false.
func convertToolChoice(tc *toolChoiceIn, out *openaiwire.ChatRequest) error {
	if tc == nil {
		return nil
	}
	switch tc.Type {
	case "auto":
		out.ToolChoice = "auto"
	case "any":
		out.ToolChoice = "required"
	case "none":
		out.ToolChoice = "none"
	case "tool":
		if tc.Name == "" {
			return badRequest("tool_choice.name: field required")
		}
		var named openaiwire.NamedToolChoice
		named.Type = "function"
		named.Function.Name = tc.Name
		out.ToolChoice = named
	default:
		return badRequest("tool_choice.type: unknown type %q (expected auto, any, tool or none)", tc.Type)
	}
	if tc.DisableParallelToolUse && tc.Type != "none" {
		f := false
		out.ParallelToolCalls = &f
	}
	return nil
}

// convertReasoning maps thinking and output_config.effort to
// reasoning_effort. An explicit effort wins over a thinking budget;
// Anthropic's "xhigh" and "max" are "high", OpenAI's top level.
func convertReasoning(req *messagesRequest, out *openaiwire.ChatRequest) error {
	if th := req.Thinking; th != nil {
		switch th.Type {
		case "enabled":
			if th.BudgetTokens <= 0 {
				return badRequest("thinking.budget_tokens: field required")
			}
			out.ReasoningEffort = effortForBudget(th.BudgetTokens)
		case "disabled", "adaptive":
		default:
			return badRequest("thinking.type: unknown type %q", th.Type)
		}
	}
	if oc := req.OutputConfig; oc != nil && oc.Effort != "" {
		switch oc.Effort {
		case "low", "medium", "high":
			out.ReasoningEffort = oc.Effort
		case "xhigh", "max":
			out.ReasoningEffort = "high"
		default:
			return badRequest("output_config.effort: unknown effort %q", oc.Effort)
		}
	}
	return nil
}
