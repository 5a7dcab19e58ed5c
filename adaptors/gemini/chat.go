package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// The request side: the client's OpenAI chat body (oa* types, only what
// the conversion reads) becomes a GenerateContentRequest (up* types,
// members in the order of https://ai.google.dev/api/generate-content).

type oaRequest struct {
	Messages            []oaMessage       `json:"messages"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	TopK                *float64          `json:"top_k"` // not OpenAI's, but sent by clients that know Gemini
	N                   *int              `json:"n"`
	Stop                json.RawMessage   `json:"stop"`
	Seed                *int64            `json:"seed"`
	PresencePenalty     *float64          `json:"presence_penalty"`
	FrequencyPenalty    *float64          `json:"frequency_penalty"`
	Tools               []oaTool          `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
	Functions           []oaFunction      `json:"functions"`     // deprecated form of tools
	FunctionCall        json.RawMessage   `json:"function_call"` // deprecated form of tool_choice
	ResponseFormat      *oaResponseFormat `json:"response_format"`
	ReasoningEffort     string            `json:"reasoning_effort"`
}

type oaMessage struct {
	Role         string                 `json:"role"`
	Content      sonic.NoCopyRawMessage `json:"content"`
	Name         string                 `json:"name"`
	ToolCalls    []oaToolCall           `json:"tool_calls"`
	ToolCallID   string                 `json:"tool_call_id"`
	FunctionCall *oaFunctionCall        `json:"function_call"` // deprecated assistant form
}

type oaPart struct {
	Type       string          `json:"type"`
	Text       string          `json:"text"`
	ImageURL   json.RawMessage `json:"image_url"` // {"url":…} or, from some clients, the URL string
	InputAudio *struct {
		Data   string `json:"data"`
		Format string `json:"format"`
	} `json:"input_audio"`
	File *struct {
		FileData string `json:"file_data"`
		FileID   string `json:"file_id"`
		Filename string `json:"filename"`
	} `json:"file"`
}

type oaToolCall struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Function oaFunctionCall `json:"function"`
	// ExtraContent carries Gemini's thought signature, as Google's own
	// OpenAI-compatible endpoint puts it on tool calls; ParseGenerateResponse
	// sets it and clients that echo tool calls back return it.
	ExtraContent *oaExtraContent `json:"extra_content"`
}

type oaFunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// oaExtraContent is {"google":{"thought_signature":…}} on a tool call.
type oaExtraContent struct {
	Google struct {
		ThoughtSignature string `json:"thought_signature"`
	} `json:"google"`
}

type oaTool struct {
	Type     string     `json:"type"`
	Function oaFunction `json:"function"`
}

type oaFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

type oaResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

type upRequest struct {
	Contents          []upContent         `json:"contents"`
	Tools             []upTool            `json:"tools,omitempty"`
	ToolConfig        *upToolConfig       `json:"toolConfig,omitempty"`
	SafetySettings    []upSafetySetting   `json:"safetySettings,omitempty"`
	SystemInstruction *upContent          `json:"systemInstruction,omitempty"`
	GenerationConfig  *upGenerationConfig `json:"generationConfig,omitempty"`
}

type upContent struct {
	Role  string   `json:"role,omitempty"`
	Parts []upPart `json:"parts"`
}

// upPart is one Part; exactly one data member is set. A thought
// signature rides on the functionCall part it belongs to.
type upPart struct {
	Text             string              `json:"text,omitempty"`
	InlineData       *upBlob             `json:"inlineData,omitempty"`
	FunctionCall     *upFunctionCall     `json:"functionCall,omitempty"`
	FunctionResponse *upFunctionResponse `json:"functionResponse,omitempty"`
	FileData         *upFileData         `json:"fileData,omitempty"`
	ThoughtSignature string              `json:"thoughtSignature,omitempty"`
}

type upBlob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type upFileData struct {
	MimeType string `json:"mimeType"`
	FileURI  string `json:"fileUri"`
}

type upFunctionCall struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

type upFunctionResponse struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type upTool struct {
	FunctionDeclarations []upFunctionDecl `json:"functionDeclarations"`
}

// upFunctionDecl sends the client's JSON Schema as parametersJsonSchema,
// which takes JSON Schema as is, rather than parameters, which takes only
// Google's OpenAPI subset and rejects common keywords
// (additionalProperties, $ref, const…) with a 400.
type upFunctionDecl struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type upToolConfig struct {
	FunctionCallingConfig upFunctionCallingConfig `json:"functionCallingConfig"`
}

type upFunctionCallingConfig struct {
	Mode                 string   `json:"mode"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type upSafetySetting struct {
	Category  string `json:"category"`
	Threshold string `json:"threshold"`
}

type upGenerationConfig struct {
	StopSequences      []string          `json:"stopSequences,omitempty"`
	ResponseMimeType   string            `json:"responseMimeType,omitempty"`
	ResponseJSONSchema json.RawMessage   `json:"responseJsonSchema,omitempty"`
	CandidateCount     int               `json:"candidateCount,omitempty"`
	MaxOutputTokens    int               `json:"maxOutputTokens,omitempty"`
	Temperature        *float64          `json:"temperature,omitempty"`
	TopP               *float64          `json:"topP,omitempty"`
	TopK               *float64          `json:"topK,omitempty"`
	Seed               *int64            `json:"seed,omitempty"`
	PresencePenalty    *float64          `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64          `json:"frequencyPenalty,omitempty"`
	ThinkingConfig     *upThinkingConfig `json:"thinkingConfig,omitempty"`
}

type upThinkingConfig struct {
	IncludeThoughts bool `json:"includeThoughts,omitempty"`
	ThinkingBudget  *int `json:"thinkingBudget,omitempty"`
}

// skipSignature is the placeholder thought signature Google documents for
// function calls the model did not produce in this conversation (history
// from another model, or rebuilt by a client that dropped the signature):
// Gemini 3 answers 400 when the first functionCall of a model turn has
// no signature. Google names the placeholder "skip_thought_signature_validator"
// (https://ai.google.dev/gemini-api/docs/thought-signatures, accepted by
// the Gemini API and Vertex AI); thoughtSignature is a bytes field, so it
// is sent as those bytes in standard base64, which is what Google's SDKs
// put on the wire for it and what proto JSON decoders (genai's []byte
// included) read.
const skipSignature = "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I=" // base64("skip_thought_signature_validator")

// BuildBody converts the OpenAI chat body of req into the JSON body of a
// generateContent / streamGenerateContent call, with Google's default
// settings (BuildBodyWith with zero BodyOptions). The model is never in
// the body: Gemini takes it from the URL, so the same body serves the
// Gemini API and Vertex AI. Errors wrap adaptors.ErrInvalidBody. Pure and
// safe for concurrent use.
func BuildBody(req *adaptors.Request) ([]byte, error) {
	return BuildBodyWith(req, BodyOptions{})
}

// BuildBodyWith is BuildBody with channel settings. The mapping:
//
//   - system and developer messages (wherever they are) become
//     systemInstruction, one text part each; a conversation with nothing
//     else sends them as its single user turn instead, since contents must
//     not be empty.
//   - user messages become "user" contents, assistant messages "model"
//     contents; consecutive turns of one role merge, as Gemini wants
//     turns to alternate. Empty text is dropped (Gemini rejects empty
//     parts), reasoning_content is dropped (Gemini takes no thought text
//     as input).
//   - image_url data: URLs, input_audio and file parts with a data: URL
//     become inlineData; an http(s) image URL still present (the transport
//     did not inline it) becomes fileData with a MIME type guessed from the
//     extension (image/jpeg when unknown).
//   - assistant tool_calls become functionCall parts (args: the parsed
//     arguments, {} when empty); the first of each turn carries the
//     thought signature from the call's extra_content.google, or the
//     documented placeholder. Call ids are not sent: Gemini pairs
//     responses with calls by name and order, and the ids a client holds
//     are mostly ones the gateway made up.
//   - tool messages become functionResponse parts of a "user" turn, named
//     after the call with their tool_call_id (the deprecated function role
//     names itself); a content that is a JSON object is the response as
//     is, anything else is {"content": text}.
//   - tools become one functionDeclarations tool (parametersJsonSchema);
//     tool_choice none/auto/required/{function} becomes
//     functionCallingConfig NONE/AUTO/ANY/ANY with allowedFunctionNames.
//   - generationConfig: max_completion_tokens (else max_tokens) →
//     maxOutputTokens, temperature, top_p, top_k, n > 1 → candidateCount,
//     stop → stopSequences, seed, presence/frequency penalties,
//     response_format json_object → responseMimeType application/json,
//     json_schema → also responseJsonSchema, reasoning_effort →
//     thinkingConfig (see thinkingFor).
func BuildBodyWith(req *adaptors.Request, opts BodyOptions) ([]byte, error) {
	if !openaiwire.IsObject(req.Body) {
		return nil, invalidBody("body must be a json object")
	}
	// Strings and raw members alias req.Body, which outlives the call
	// and is never written; the marshalled result copies what it keeps.
	var in oaRequest
	if err := unmarshal(req.Body, &in); err != nil {
		return nil, invalidBody("%v", err)
	}
	var b builder
	for i := range in.Messages {
		if err := b.message(&in.Messages[i], i); err != nil {
			return nil, err
		}
	}
	out := upRequest{Contents: b.contents}
	if len(b.system) > 0 {
		if len(out.Contents) == 0 {
			out.Contents = []upContent{{Role: "user", Parts: b.system}}
		} else {
			out.SystemInstruction = &upContent{Parts: b.system}
		}
	}
	if len(out.Contents) == 0 {
		return nil, invalidBody("messages: at least one message with content is required")
	}
	var err error
	if out.Tools, err = buildTools(&in); err != nil {
		return nil, err
	}
	if out.ToolConfig, err = buildToolConfig(&in, len(out.Tools) > 0); err != nil {
		return nil, err
	}
	if opts.SafetyThreshold != "" {
		cats := harmCategories()
		out.SafetySettings = make([]upSafetySetting, len(cats))
		for i, c := range cats {
			out.SafetySettings[i] = upSafetySetting{Category: c, Threshold: opts.SafetyThreshold}
		}
	}
	if out.GenerationConfig, err = generationConfig(&in, req.Model); err != nil {
		return nil, err
	}
	return openaiwire.Marshal(&out), nil
}

// invalidBody builds an error wrapping adaptors.ErrInvalidBody.
func invalidBody(format string, args ...any) error {
	return fmt.Errorf("gemini: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// builder accumulates the conversation.
type builder struct {
	system   []upPart
	contents []upContent
	calls    []callName // every tool call so far, to name tool results
}

type callName struct{ id, name string }

// add appends parts as a turn of role, merged into the previous turn when
// that has the same role.
func (b *builder) add(role string, parts ...upPart) {
	if len(parts) == 0 {
		return
	}
	if n := len(b.contents); n > 0 && b.contents[n-1].Role == role {
		b.contents[n-1].Parts = append(b.contents[n-1].Parts, parts...)
		return
	}
	b.contents = append(b.contents, upContent{Role: role, Parts: parts})
}

func (b *builder) message(m *oaMessage, i int) error {
	switch m.Role {
	case "system", "developer":
		parts, err := textParts(m.Content, i, true)
		if err != nil {
			return err
		}
		b.system = append(b.system, parts...)
	case "user":
		parts, err := userParts(m.Content, i)
		if err != nil {
			return err
		}
		b.add("user", parts...)
	case "assistant":
		return b.assistant(m, i)
	case "tool", "function":
		return b.toolResult(m, i)
	default:
		return invalidBody("messages[%d].role: unknown role %q", i, m.Role)
	}
	return nil
}

// assistant converts a model turn: its text, then its tool calls.
func (b *builder) assistant(m *oaMessage, i int) error {
	parts, err := textParts(m.Content, i, false)
	if err != nil {
		return err
	}
	calls := m.ToolCalls
	if m.FunctionCall != nil && len(calls) == 0 {
		calls = []oaToolCall{{Function: *m.FunctionCall}}
	}
	for j := range calls {
		tc := &calls[j]
		if tc.Type != "" && tc.Type != "function" {
			return invalidBody("messages[%d].tool_calls[%d].type: only function tool calls are supported", i, j)
		}
		if tc.Function.Name == "" {
			return invalidBody("messages[%d].tool_calls[%d].function.name: field required", i, j)
		}
		args, ok := callArgs(tc.Function.Arguments)
		if !ok {
			return invalidBody("messages[%d].tool_calls[%d].function.arguments: must be a JSON object", i, j)
		}
		p := upPart{FunctionCall: &upFunctionCall{Name: tc.Function.Name, Args: args}}
		if tc.ExtraContent != nil {
			p.ThoughtSignature = tc.ExtraContent.Google.ThoughtSignature
		}
		if j == 0 && p.ThoughtSignature == "" {
			p.ThoughtSignature = skipSignature
		}
		parts = append(parts, p)
		b.calls = append(b.calls, callName{id: tc.ID, name: tc.Function.Name})
	}
	b.add("model", parts...)
	return nil
}

// callArgs returns a tool call's arguments as a JSON object; empty
// arguments (a function without parameters) are {}. ok is false when
// they are not an object.
func callArgs(args string) (json.RawMessage, bool) {
	a := strings.TrimSpace(args)
	if a == "" {
		return json.RawMessage("{}"), true
	}
	if !openaiwire.IsObject([]byte(a)) || !json.Valid([]byte(a)) {
		return nil, false
	}
	return json.RawMessage(a), true
}

// toolResult converts a tool (or deprecated function) message into a
// functionResponse part of a user turn.
func (b *builder) toolResult(m *oaMessage, i int) error {
	name := ""
	if m.Role == "tool" {
		for k := len(b.calls) - 1; k >= 0; k-- {
			if b.calls[k].id == m.ToolCallID && m.ToolCallID != "" {
				name = b.calls[k].name
				break
			}
		}
	}
	if name == "" {
		name = m.Name
	}
	if name == "" {
		return invalidBody("messages[%d].tool_call_id: %q answers no earlier tool call", i, m.ToolCallID)
	}
	text, err := plainText(m.Content, i)
	if err != nil {
		return err
	}
	resp := json.RawMessage(strings.TrimSpace(text))
	if !openaiwire.IsObject(resp) || !json.Valid(resp) {
		resp = openaiwire.Marshal(struct {
			Content string `json:"content"`
		}{text})
	}
	b.add("user", upPart{FunctionResponse: &upFunctionResponse{Name: name, Response: resp}})
	return nil
}

// contentParts decodes a message's content: a string is one text part,
// null or absent none.
func contentParts(raw []byte, i int) ([]oaPart, error) {
	raw = bytes.TrimSpace(raw)
	if !isPresent(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := unmarshal(raw, &s); err != nil {
			return nil, invalidBody("messages[%d].content: %v", i, err)
		}
		return []oaPart{{Type: "text", Text: s}}, nil
	}
	var parts []oaPart
	if err := unmarshal(raw, &parts); err != nil {
		return nil, invalidBody("messages[%d].content: must be a string or an array of parts", i)
	}
	return parts, nil
}

// textParts converts text-only content (system, assistant): text parts
// carry over, assistant refusals are dropped; strict refuses anything
// else, otherwise it is ignored.
func textParts(raw []byte, i int, strict bool) ([]upPart, error) {
	parts, err := contentParts(raw, i)
	if err != nil {
		return nil, err
	}
	var out []upPart
	for j, p := range parts {
		switch {
		case p.Type == "text":
			if p.Text != "" {
				out = append(out, upPart{Text: p.Text})
			}
		case strict:
			return nil, invalidBody("messages[%d].content[%d]: only text parts are supported here", i, j)
		}
	}
	return out, nil
}

// plainText joins the text parts of a tool message.
func plainText(raw []byte, i int) (string, error) {
	parts, err := contentParts(raw, i)
	if err != nil {
		return "", err
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n"), nil
}
