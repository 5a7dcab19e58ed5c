package bedrocktest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// badRequest is a validation failure: Bedrock answers 400
// ValidationException with this message.
type badRequest string

func (e badRequest) Error() string { return string(e) }

func malformed(detail string) badRequest {
	return badRequest("Malformed input request: " + detail + ", please reformat your input and try again.")
}

// marshal encodes v without HTML escaping, as AWS writes JSON.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// ---- InvokeModel with the Anthropic Claude Messages body ----

type claudeRequest struct {
	AnthropicVersion string       `json:"anthropic_version"`
	MaxTokens        *int         `json:"max_tokens"`
	Messages         []claudeTurn `json:"messages"`
	Tools            []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
}

type claudeTurn struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type claudeBlock struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	ToolUseID string `json:"tool_use_id"`
	ID        string `json:"id"`
	Source    *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
	} `json:"source"`
}

// validateClaude checks an InvokeModel body as Bedrock and the Messages
// API do: anthropic_version bedrock-2023-05-31, no model or stream member
// (Bedrock takes them from the request), max_tokens, and non-empty
// messages that start with user and alternate.
func validateClaude(body []byte) (*claudeRequest, []claudeBlock, error) {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return nil, nil, badRequest("Malformed input request, please reformat your input and try again.")
	}
	for _, k := range []string{"anthropic_version", "max_tokens", "messages"} {
		if _, ok := keys[k]; !ok {
			return nil, nil, malformed("#: required key [" + k + "] not found")
		}
	}
	for _, k := range []string{"model", "stream"} {
		if _, ok := keys[k]; ok {
			return nil, nil, malformed("#: extraneous key [" + k + "] is not permitted")
		}
	}
	var req claudeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, malformed("#: " + err.Error())
	}
	if req.AnthropicVersion != "bedrock-2023-05-31" {
		return nil, nil, badRequest("Invalid API version: " + req.AnthropicVersion)
	}
	if req.MaxTokens == nil || *req.MaxTokens < 1 {
		return nil, nil, malformed("#/max_tokens: must be a positive integer")
	}
	if len(req.Messages) == 0 {
		return nil, nil, badRequest("messages: at least one message is required")
	}
	var last []claudeBlock
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return nil, nil, badRequest(fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i))
		}
		if i == 0 && m.Role != "user" {
			return nil, nil, badRequest(`messages: first message must use the "user" role`)
		}
		if i > 0 && m.Role == req.Messages[i-1].Role {
			return nil, nil, badRequest(fmt.Sprintf(`messages: roles must alternate between "user" and "assistant", but found multiple %q roles in a row`, m.Role))
		}
		blocks, err := claudeContent(m.Content, i)
		if err != nil {
			return nil, nil, err
		}
		last = blocks
	}
	return &req, last, nil
}

func claudeContent(raw json.RawMessage, i int) ([]claudeBlock, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, badRequest(fmt.Sprintf("messages.%d: all messages must have non-empty content except for the optional final assistant message", i))
		}
		return []claudeBlock{{Type: "text", Text: s}}, nil
	}
	var blocks []claudeBlock
	if json.Unmarshal(raw, &blocks) != nil || len(blocks) == 0 {
		return nil, badRequest(fmt.Sprintf("messages.%d: all messages must have non-empty content except for the optional final assistant message", i))
	}
	for j, b := range blocks {
		switch b.Type {
		case "text", "tool_use", "tool_result", "thinking", "redacted_thinking", "document":
		case "image":
			if b.Source == nil || b.Source.Type != "base64" || !validBase64(b.Source.Data) {
				return nil, badRequest(fmt.Sprintf("messages.%d.content.%d.image.source: invalid base64 image source", i, j))
			}
		default:
			return nil, badRequest(fmt.Sprintf("messages.%d.content.%d: unknown content block type %q", i, j, b.Type))
		}
	}
	return blocks, nil
}

// ---- Converse ----

type converseRequest struct {
	Messages        []converseMessage `json:"messages"`
	System          []map[string]any  `json:"system"`
	InferenceConfig *struct {
		MaxTokens *int `json:"maxTokens"`
	} `json:"inferenceConfig"`
	ToolConfig *struct {
		Tools []struct {
			ToolSpec *struct {
				Name        string `json:"name"`
				InputSchema struct {
					JSON json.RawMessage `json:"json"`
				} `json:"inputSchema"`
			} `json:"toolSpec"`
		} `json:"tools"`
	} `json:"toolConfig"`
}

type converseMessage struct {
	Role    string                       `json:"role"`
	Content []map[string]json.RawMessage `json:"content"`
}

// converseBlocks are the ContentBlock members a request may use.
var converseBlocks = []string{"text", "image", "document", "video", "toolUse", "toolResult", "guardContent", "cachePoint", "reasoningContent", "citationsContent"}

// validateConverse checks a Converse body with Bedrock's own messages.
func validateConverse(body []byte) (*converseRequest, error) {
	var req converseRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, badRequest("1 validation error detected: the request body is not valid JSON: " + err.Error())
	}
	if len(req.Messages) == 0 || req.Messages[0].Role != "user" {
		return nil, badRequest("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	if ic := req.InferenceConfig; ic != nil && ic.MaxTokens != nil && *ic.MaxTokens < 1 {
		return nil, badRequest(fmt.Sprintf("1 validation error detected: Value '%d' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1", *ic.MaxTokens))
	}
	if tc := req.ToolConfig; tc != nil {
		if len(tc.Tools) == 0 {
			return nil, badRequest("1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		for i, t := range tc.Tools {
			if t.ToolSpec == nil || t.ToolSpec.Name == "" || len(t.ToolSpec.InputSchema.JSON) == 0 {
				return nil, badRequest(fmt.Sprintf("The toolSpec at toolConfig.tools.%d is missing its name or inputSchema.", i))
			}
		}
	}
	var toolUses []string
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return nil, badRequest(fmt.Sprintf("1 validation error detected: Value '%s' at 'messages.%d.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]", m.Role, i+1))
		}
		if i > 0 && m.Role == req.Messages[i-1].Role {
			return nil, badRequest("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		if len(m.Content) == 0 {
			return nil, badRequest(fmt.Sprintf("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i))
		}
		var uses []string
		results := 0
		for j, b := range m.Content {
			if err := validateBlock(b, i, j); err != nil {
				return nil, err
			}
			if _, ok := b["toolUse"]; ok || b["toolResult"] != nil {
				if req.ToolConfig == nil {
					return nil, badRequest("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
				}
			}
			if raw, ok := b["toolUse"]; ok {
				var tu struct {
					ToolUseID string          `json:"toolUseId"`
					Name      string          `json:"name"`
					Input     json.RawMessage `json:"input"`
				}
				if json.Unmarshal(raw, &tu) != nil || tu.ToolUseID == "" || tu.Name == "" || !bytes.HasPrefix(bytes.TrimSpace(tu.Input), []byte("{")) {
					return nil, badRequest(fmt.Sprintf("The toolUse block at messages.%d.content.%d needs a toolUseId, a name and an input object.", i, j))
				}
				uses = append(uses, tu.ToolUseID)
			}
			if raw, ok := b["toolResult"]; ok {
				var tr struct {
					ToolUseID string `json:"toolUseId"`
				}
				_ = json.Unmarshal(raw, &tr)
				if !containsString(toolUses, tr.ToolUseID) {
					return nil, badRequest(fmt.Sprintf("The toolUseId %q at messages.%d.content.%d does not match any toolUse block of the previous turn.", tr.ToolUseID, i, j))
				}
				results++
			}
		}
		if m.Role == "user" && results > len(toolUses) {
			return nil, badRequest(fmt.Sprintf("The number of toolResult blocks at messages.%d.content exceeds the number of toolUse blocks of previous turn.", i))
		}
		toolUses = uses
	}
	return &req, nil
}

// validateBlock checks that a ContentBlock sets exactly one known member,
// with non-blank text and valid images.
func validateBlock(b map[string]json.RawMessage, i, j int) error {
	set := 0
	for k := range b {
		if !containsString(converseBlocks, k) {
			return badRequest(fmt.Sprintf("The ContentBlock at messages.%d.content.%d has the unknown member %q.", i, j, k))
		}
		set++
	}
	if set != 1 {
		return badRequest(fmt.Sprintf("The ContentBlock at messages.%d.content.%d must set exactly one member.", i, j))
	}
	if raw, ok := b["text"]; ok {
		var s string
		if json.Unmarshal(raw, &s) != nil || strings.TrimSpace(s) == "" {
			return badRequest(fmt.Sprintf("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j))
		}
	}
	if raw, ok := b["image"]; ok {
		var img struct {
			Format string `json:"format"`
			Source struct {
				Bytes string `json:"bytes"`
			} `json:"source"`
		}
		_ = json.Unmarshal(raw, &img)
		if !containsString([]string{"png", "jpeg", "gif", "webp"}, img.Format) {
			return badRequest(fmt.Sprintf("1 validation error detected: Value '%s' at 'messages.%d.member.content.%d.member.image.format' failed to satisfy constraint: Member must satisfy enum value set: [gif, jpeg, png, webp]", img.Format, i+1, j+1))
		}
		if !validBase64(img.Source.Bytes) {
			return badRequest(fmt.Sprintf("The image source at messages.%d.content.%d is not valid base64.", i, j))
		}
	}
	return nil
}

func validBase64(s string) bool {
	if s == "" {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
