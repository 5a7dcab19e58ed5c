package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"switchyard/adaptors/internal/openaiwire"
)

// The request shapes below accept both spellings Google's REST API
// accepts: proto JSON takes a field's lowerCamelCase name (what the SDKs
// send: "systemInstruction", "inlineData") and its original snake_case
// name (what Google's curl examples send: "system_instruction",
// "inline_data"). Each multi-word field therefore appears twice; pick
// merges them, the camelCase spelling winning if a client sends both.

// generateRequest is the body of models/{model}:generateContent and
// :streamGenerateContent, as far as it maps to OpenAI. safetySettings is
// ignored: OpenAI has no per-request safety thresholds.
type generateRequest struct {
	Contents               json.RawMessage              `json:"contents"`
	SystemInstruction      *content                     `json:"systemInstruction"`
	SystemInstructionSnake *content                     `json:"system_instruction"`
	GenerationConfig       *generationConf              `json:"generationConfig"`
	GenerationConfigSnake  *generationConf              `json:"generation_config"`
	Tools                  []map[string]json.RawMessage `json:"tools"`
	ToolConfig             *toolConfig                  `json:"toolConfig"`
	ToolConfigSnake        *toolConfig                  `json:"tool_config"`
	CachedContent          string                       `json:"cachedContent"`
	CachedContentSnake     string                       `json:"cached_content"`
}

type content struct {
	Role  string          `json:"role"`
	Parts oneOrMany[part] `json:"parts"`
}

// oneOrMany is a repeated field. Google's JSON parser also takes a single
// object for one, and Google's own examples send
// "system_instruction": {"parts": {"text": …}}.
type oneOrMany[T any] []T

// UnmarshalJSON decodes an array, or a single object as one element.
func (l *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	if openaiwire.IsObject(b) {
		var one T
		if err := openaiwire.API.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = oneOrMany[T]{one}
		return nil
	}
	var many []T
	if err := openaiwire.API.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// part is one Part: exactly one data member is set.
type part struct {
	Text                     *string         `json:"text"`
	Thought                  bool            `json:"thought"`
	InlineData               *blob           `json:"inlineData"`
	InlineDataSnake          *blob           `json:"inline_data"`
	FileData                 *fileData       `json:"fileData"`
	FileDataSnake            *fileData       `json:"file_data"`
	FunctionCall             *functionCallIn `json:"functionCall"`
	FunctionCallSnake        *functionCallIn `json:"function_call"`
	FunctionResponse         *functionResp   `json:"functionResponse"`
	FunctionResponseSnake    *functionResp   `json:"function_response"`
	ExecutableCode           json.RawMessage `json:"executableCode"`
	ExecutableCodeSnake      json.RawMessage `json:"executable_code"`
	CodeExecutionResult      json.RawMessage `json:"codeExecutionResult"`
	CodeExecutionResultSnake json.RawMessage `json:"code_execution_result"`
}

type blob struct {
	MimeType      string `json:"mimeType"`
	MimeTypeSnake string `json:"mime_type"`
	Data          string `json:"data"`
}

type fileData struct {
	MimeType      string `json:"mimeType"`
	MimeTypeSnake string `json:"mime_type"`
	FileURI       string `json:"fileUri"`
	FileURISnake  string `json:"file_uri"`
}

type functionCallIn struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

type functionResp struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type generationConf struct {
	Temperature             *float64        `json:"temperature"`
	TopP                    *float64        `json:"topP"`
	TopPSnake               *float64        `json:"top_p"`
	CandidateCount          *int            `json:"candidateCount"`
	CandidateCountSnake     *int            `json:"candidate_count"`
	MaxOutputTokens         *int            `json:"maxOutputTokens"`
	MaxOutputTokensSnake    *int            `json:"max_output_tokens"`
	StopSequences           []string        `json:"stopSequences"`
	StopSequencesSnake      []string        `json:"stop_sequences"`
	PresencePenalty         *float64        `json:"presencePenalty"`
	PresencePenaltySnake    *float64        `json:"presence_penalty"`
	FrequencyPenalty        *float64        `json:"frequencyPenalty"`
	FrequencyPenaltySnake   *float64        `json:"frequency_penalty"`
	Seed                    *int64          `json:"seed"`
	ResponseMimeType        string          `json:"responseMimeType"`
	ResponseMimeTypeSnake   string          `json:"response_mime_type"`
	ResponseSchema          json.RawMessage `json:"responseSchema"`
	ResponseSchemaSnake     json.RawMessage `json:"response_schema"`
	ResponseJSONSchema      json.RawMessage `json:"responseJsonSchema"`
	ResponseJSONSchemaSnake json.RawMessage `json:"response_json_schema"`
	ThinkingConfig          *thinkingConf   `json:"thinkingConfig"`
	ThinkingConfigSnake     *thinkingConf   `json:"thinking_config"`
}

type thinkingConf struct {
	ThinkingBudget      *int   `json:"thinkingBudget"`
	ThinkingBudgetSnake *int   `json:"thinking_budget"`
	ThinkingLevel       string `json:"thinkingLevel"`
	ThinkingLevelSnake  string `json:"thinking_level"`
}

type functionDeclaration struct {
	Name                      string          `json:"name"`
	Description               string          `json:"description"`
	Parameters                json.RawMessage `json:"parameters"`
	ParametersJSONSchema      json.RawMessage `json:"parametersJsonSchema"`
	ParametersJSONSchemaSnake json.RawMessage `json:"parameters_json_schema"`
}

type toolConfig struct {
	FunctionCallingConfig      *functionCallingConf `json:"functionCallingConfig"`
	FunctionCallingConfigSnake *functionCallingConf `json:"function_calling_config"`
}

type functionCallingConf struct {
	Mode                      string   `json:"mode"`
	AllowedFunctionNames      []string `json:"allowedFunctionNames"`
	AllowedFunctionNamesSnake []string `json:"allowed_function_names"`
}

// pick returns a, or b when a is unset: the camelCase and snake_case
// spellings of one field.
func pick[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func pickString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func pickRaw(a, b json.RawMessage) json.RawMessage {
	if openaiwire.IsPresent(a) {
		return a
	}
	return b
}

func pickSlice[T any](a, b []T) []T {
	if a != nil {
		return a
	}
	return b
}

// Thinking budgets map to OpenAI's reasoning_effort by these thresholds
// (the same as for Anthropic's budget_tokens): below 4096 tokens is "low",
// below 16384 "medium", anything larger "high". Gemini's budgets run to
// 24576 (Flash) and 32768 (Pro), so the top third of either is "high". A
// budget of 0 (thinking off) and -1 (dynamic) set no effort: no value is
// accepted by every OpenAI-dialect model, and the upstream's default is
// the nearest equivalent.
const (
	budgetMedium = 4096
	budgetHigh   = 16384
)

// effortForBudget returns the reasoning_effort for a positive budget.
func effortForBudget(budget int) string {
	switch {
	case budget < budgetMedium:
		return "low"
	case budget < budgetHigh:
		return "medium"
	}
	return "high"
}

// InboundRequest converts a Gemini GenerateContentRequest body into an
// OpenAI chat completions body for model (the model named in the URL
// path, models/{model}:generateContent). stream is true for
// :streamGenerateContent; the body then asks for
// stream_options.include_usage, so the upstream's last chunk carries the
// usage the final Gemini payload reports. It is a pure function, safe for
// concurrent use.
//
// The mapping: systemInstruction becomes the first message (its text
// parts joined with "\n"); "user" contents become user messages (text
// only content is joined with "\n" into a string, which every
// OpenAI-dialect upstream accepts), "model" contents assistant messages.
// Text parts carry over, except thought parts (earlier reasoning, which
// OpenAI takes no input for); inlineData becomes a data: URL image_url
// part (images) or a file part (PDF); fileData becomes an image_url part
// with its URI. functionCall parts become the assistant's tool_calls:
// Gemini's REST API rarely sends call ids, so a call without one gets
// "call_<n>", n counting the conversation's calls from 0; functionResponse
// parts become tool messages (before the rest of their turn, as OpenAI
// requires) answering the call with the same id, or else the most recent
// unanswered call of the same name (see toolMessage), with the response
// object as JSON text. generationConfig maps temperature, topP, maxOutputTokens
// (max_tokens), stopSequences (stop), candidateCount (n), penalties,
// seed, responseMimeType "application/json" (a json_object response
// format, or json_schema with responseSchema / responseJsonSchema) and
// thinkingConfig (reasoning_effort, see effortForBudget; thinkingLevel
// carries over as is); functionDeclarations become function tools (the
// OpenAPI-style parameters schema made JSON Schema, see normalizeSchema);
// toolConfig's mode AUTO/ANY/NONE becomes tool_choice
// auto/required/none, ANY with one allowed function naming it.
//
// Any error wraps ErrBadRequest: the body is not a JSON object, contents
// is missing or empty, a role is unknown, a part is empty or of a kind no
// OpenAI channel can serve (code execution, non-image files, built-in
// tools such as googleSearch, cachedContent), or a functionResponse
// answers no call.
func InboundRequest(body []byte, model string, stream bool) ([]byte, error) {
	if model == "" {
		return nil, badRequest("model: the request path names no model")
	}
	if !openaiwire.IsObject(body) {
		return nil, badRequest("body must be a json object")
	}
	var req generateRequest
	if err := openaiwire.API.Unmarshal(body, &req); err != nil {
		return nil, badRequest("malformed json: %v", err)
	}
	if pickString(req.CachedContent, req.CachedContentSnake) != "" {
		return nil, badRequest("cachedContent: cached contents are not supported by this gateway")
	}
	out := openaiwire.ChatRequest{Model: model, Stream: stream}
	if stream {
		out.StreamOptions = &openaiwire.StreamOptions{IncludeUsage: true}
	}
	if si := pick(req.SystemInstruction, req.SystemInstructionSnake); si != nil {
		text, err := systemText(si)
		if err != nil {
			return nil, err
		}
		if text != "" {
			out.Messages = append(out.Messages, openaiwire.ChatMessage{Role: "system", Content: text})
		}
	}
	msgs, err := convertContents(req.Contents)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, badRequest("contents: no part has content")
	}
	out.Messages = append(out.Messages, msgs...)
	if gc := pick(req.GenerationConfig, req.GenerationConfigSnake); gc != nil {
		if err := convertGenerationConfig(gc, &out); err != nil {
			return nil, err
		}
	}
	if out.Tools, err = convertTools(req.Tools); err != nil {
		return nil, err
	}
	if tc := pick(req.ToolConfig, req.ToolConfigSnake); tc != nil {
		if err := convertToolConfig(tc, &out); err != nil {
			return nil, err
		}
	}
	return openaiwire.Marshal(&out), nil
}

// badRequest builds an error wrapping ErrBadRequest.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// systemText joins the text parts of the system instruction.
func systemText(c *content) (string, error) {
	texts := make([]string, 0, len(c.Parts))
	for i, p := range c.Parts {
		if p.Text == nil {
			return "", badRequest("systemInstruction.parts[%d]: only text parts are supported", i)
		}
		texts = append(texts, *p.Text)
	}
	return strings.Join(texts, "\n"), nil
}

// callRef is a functionCall of the conversation, to match responses to.
type callRef struct {
	id, name string
	turn     int // index of the model turn that made the call
	answered bool
}

// converter holds the state of one conversion: the calls seen so far.
type converter struct {
	calls []*callRef
}

// convertContents converts the conversation.
func convertContents(raw json.RawMessage) ([]openaiwire.ChatMessage, error) {
	if !openaiwire.IsPresent(raw) {
		return nil, badRequest("contents: field required")
	}
	var contents oneOrMany[content]
	if err := openaiwire.API.Unmarshal(raw, &contents); err != nil {
		return nil, badRequest("contents: %v", err)
	}
	if len(contents) == 0 {
		return nil, badRequest("contents: must not be empty")
	}
	var c converter
	var out []openaiwire.ChatMessage
	for i, ct := range contents {
		where := fmt.Sprintf("contents[%d]", i)
		if len(ct.Parts) == 0 {
			return nil, badRequest("%s.parts: must not be empty", where)
		}
		var err error
		switch ct.Role {
		case "user", "", "function":
			out, err = c.appendUser(out, ct.Parts, where)
		case "model":
			out, err = c.appendModel(out, ct.Parts, i, where)
		default:
			err = badRequest("%s.role: unknown role %q (expected user or model)", where, ct.Role)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendModel converts a model turn: text becomes content, functionCall
// parts become tool_calls, thoughts are dropped.
func (c *converter) appendModel(out []openaiwire.ChatMessage, parts []part, turn int, where string) ([]openaiwire.ChatMessage, error) {
	var texts []string
	var calls []openaiwire.ToolCall
	for j, p := range parts {
		pw := fmt.Sprintf("%s.parts[%d]", where, j)
		if err := checkSupported(p, pw); err != nil {
			return nil, err
		}
		switch {
		case p.Text != nil:
			if !p.Thought && *p.Text != "" {
				texts = append(texts, *p.Text)
			}
		case pick(p.FunctionCall, p.FunctionCallSnake) != nil:
			fc := pick(p.FunctionCall, p.FunctionCallSnake)
			if fc.Name == "" {
				return nil, badRequest("%s.functionCall.name: field required", pw)
			}
			id := fc.ID
			if id == "" {
				id = "call_" + strconv.Itoa(len(c.calls))
			}
			c.calls = append(c.calls, &callRef{id: id, name: fc.Name, turn: turn})
			args, err := compactObject(fc.Args, pw+".functionCall.args")
			if err != nil {
				return nil, err
			}
			calls = append(calls, openaiwire.ToolCall{ID: id, Type: "function", Function: openaiwire.FunctionCall{Name: fc.Name, Arguments: args}})
		case pick(p.FunctionResponse, p.FunctionResponseSnake) != nil:
			return nil, badRequest("%s: functionResponse parts belong in user turns", pw)
		default:
			return nil, badRequest("%s: only text and functionCall parts are supported in model turns", pw)
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

// appendUser converts a user turn: tool messages for its function
// responses first, then the rest as one user message.
func (c *converter) appendUser(out []openaiwire.ChatMessage, parts []part, where string) ([]openaiwire.ChatMessage, error) {
	var cps []openaiwire.ContentPart
	for j, p := range parts {
		pw := fmt.Sprintf("%s.parts[%d]", where, j)
		if err := checkSupported(p, pw); err != nil {
			return nil, err
		}
		switch {
		case p.Text != nil:
			if !p.Thought && *p.Text != "" {
				cps = append(cps, openaiwire.ContentPart{Type: "text", Text: *p.Text})
			}
		case pick(p.InlineData, p.InlineDataSnake) != nil:
			cp, err := inlinePart(pick(p.InlineData, p.InlineDataSnake), pw+".inlineData")
			if err != nil {
				return nil, err
			}
			cps = append(cps, cp)
		case pick(p.FileData, p.FileDataSnake) != nil:
			fd := pick(p.FileData, p.FileDataSnake)
			uri, mt := pickString(fd.FileURI, fd.FileURISnake), pickString(fd.MimeType, fd.MimeTypeSnake)
			if uri == "" {
				return nil, badRequest("%s.fileData.fileUri: field required", pw)
			}
			if mt != "" && !strings.HasPrefix(mt, "image/") {
				return nil, badRequest("%s.fileData: mime type %q is not supported (images only)", pw, mt)
			}
			cps = append(cps, openaiwire.ContentPart{Type: "image_url", ImageURL: &openaiwire.ImageURL{URL: uri}})
		case pick(p.FunctionResponse, p.FunctionResponseSnake) != nil:
			msg, err := c.toolMessage(pick(p.FunctionResponse, p.FunctionResponseSnake), pw)
			if err != nil {
				return nil, err
			}
			out = append(out, msg)
		case pick(p.FunctionCall, p.FunctionCallSnake) != nil:
			return nil, badRequest("%s: functionCall parts belong in model turns", pw)
		default:
			return nil, badRequest("%s: part has no data", pw)
		}
	}
	if len(cps) > 0 {
		out = append(out, openaiwire.ChatMessage{Role: "user", Content: partsContent(cps)})
	}
	return out, nil
}

// checkSupported refuses the parts no OpenAI channel can serve.
func checkSupported(p part, where string) error {
	if openaiwire.IsPresent(pickRaw(p.ExecutableCode, p.ExecutableCodeSnake)) || openaiwire.IsPresent(pickRaw(p.CodeExecutionResult, p.CodeExecutionResultSnake)) {
		return badRequest("%s: code execution parts are not supported by this gateway", where)
	}
	return nil
}

// toolMessage answers a call: the call with the response's id when it
// names a known one, else the most recent unanswered call of the same
// name — the latest model turn's, and within that turn the first, since
// Gemini clients return the responses to parallel calls in the order of
// the calls.
func (c *converter) toolMessage(fr *functionResp, where string) (openaiwire.ChatMessage, error) {
	ref := c.callByID(fr.ID)
	if ref == nil {
		ref = c.callByName(fr.Name)
	}
	if ref == nil {
		return openaiwire.ChatMessage{}, badRequest("%s.functionResponse: no earlier functionCall %q (id %q) to answer", where, fr.Name, fr.ID)
	}
	ref.answered = true
	text, err := compactObject(fr.Response, where+".functionResponse.response")
	if err != nil {
		return openaiwire.ChatMessage{}, err
	}
	return openaiwire.ChatMessage{Role: "tool", Content: text, ToolCallID: ref.id}, nil
}

// callByID returns the call with id, or nil.
func (c *converter) callByID(id string) *callRef {
	if id == "" {
		return nil
	}
	for i := len(c.calls) - 1; i >= 0; i-- {
		if c.calls[i].id == id {
			return c.calls[i]
		}
	}
	return nil
}

// callByName returns the call a response without a known id answers, as
// toolMessage describes, or nil.
func (c *converter) callByName(name string) *callRef {
	var ref *callRef
	for i := len(c.calls) - 1; i >= 0; i-- {
		cr := c.calls[i]
		if cr.answered || cr.name != name {
			continue
		}
		if ref != nil && cr.turn != ref.turn {
			break
		}
		ref = cr
	}
	return ref
}

// compactObject returns a Struct value (function args, responses) as
// compact JSON text; absent is "{}".
func compactObject(raw json.RawMessage, where string) (string, error) {
	if !openaiwire.IsPresent(raw) {
		return "{}", nil
	}
	if !openaiwire.IsObject(raw) {
		return "", badRequest("%s: expected an object", where)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", badRequest("%s: %v", where, err)
	}
	return buf.String(), nil
}

// inlinePart converts inline bytes: images become data: URL image_url
// parts, PDFs OpenAI file parts.
func inlinePart(b *blob, where string) (openaiwire.ContentPart, error) {
	mt := pickString(b.MimeType, b.MimeTypeSnake)
	if b.Data == "" {
		return openaiwire.ContentPart{}, badRequest("%s.data: field required", where)
	}
	url := "data:" + mt + ";base64," + b.Data
	switch {
	case strings.HasPrefix(mt, "image/"):
		return openaiwire.ContentPart{Type: "image_url", ImageURL: &openaiwire.ImageURL{URL: url}}, nil
	case mt == "application/pdf":
		return openaiwire.ContentPart{Type: "file", File: &openaiwire.FilePart{FileData: url, Filename: "document.pdf"}}, nil
	}
	return openaiwire.ContentPart{}, badRequest("%s: mime type %q is not supported (images and PDF only)", where, mt)
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

// convertGenerationConfig maps the sampling and output options.
func convertGenerationConfig(gc *generationConf, out *openaiwire.ChatRequest) error {
	out.Temperature = gc.Temperature
	out.TopP = pick(gc.TopP, gc.TopPSnake)
	out.PresencePenalty = pick(gc.PresencePenalty, gc.PresencePenaltySnake)
	out.FrequencyPenalty = pick(gc.FrequencyPenalty, gc.FrequencyPenaltySnake)
	out.Seed = gc.Seed
	out.Stop = pickSlice(gc.StopSequences, gc.StopSequencesSnake)
	if n := pick(gc.MaxOutputTokens, gc.MaxOutputTokensSnake); n != nil {
		if *n < 1 {
			return badRequest("generationConfig.maxOutputTokens: must be at least 1")
		}
		out.MaxTokens = *n
	}
	if n := pick(gc.CandidateCount, gc.CandidateCountSnake); n != nil {
		if *n < 1 {
			return badRequest("generationConfig.candidateCount: must be at least 1")
		}
		if *n > 1 {
			out.N = *n
		}
	}
	if err := convertResponseFormat(gc, out); err != nil {
		return err
	}
	if tc := pick(gc.ThinkingConfig, gc.ThinkingConfigSnake); tc != nil {
		if level := pickString(tc.ThinkingLevel, tc.ThinkingLevelSnake); level != "" {
			switch l := strings.ToLower(level); l {
			case "minimal", "low", "medium", "high":
				out.ReasoningEffort = l
			case "thinking_level_unspecified":
			default:
				return badRequest("generationConfig.thinkingConfig.thinkingLevel: unknown level %q", level)
			}
		} else if b := pick(tc.ThinkingBudget, tc.ThinkingBudgetSnake); b != nil && *b > 0 {
			out.ReasoningEffort = effortForBudget(*b)
		}
	}
	return nil
}

// convertResponseFormat maps responseMimeType and the response schemas.
func convertResponseFormat(gc *generationConf, out *openaiwire.ChatRequest) error {
	mime := pickString(gc.ResponseMimeType, gc.ResponseMimeTypeSnake)
	schema := pickRaw(gc.ResponseJSONSchema, gc.ResponseJSONSchemaSnake)
	if !openaiwire.IsPresent(schema) {
		if s := pickRaw(gc.ResponseSchema, gc.ResponseSchemaSnake); openaiwire.IsPresent(s) {
			var err error
			if schema, err = normalizeSchema(s); err != nil {
				return badRequest("generationConfig.responseSchema: %v", err)
			}
		}
	}
	switch mime {
	case "", "text/plain":
		if openaiwire.IsPresent(schema) {
			return badRequest("generationConfig.responseSchema: needs responseMimeType application/json")
		}
		return nil
	case "application/json":
	default:
		return badRequest("generationConfig.responseMimeType: %q is not supported (text/plain or application/json)", mime)
	}
	if !openaiwire.IsPresent(schema) {
		out.ResponseFormat = &openaiwire.ResponseFormat{Type: "json_object"}
		return nil
	}
	if !openaiwire.IsObject(schema) {
		return badRequest("generationConfig.responseSchema: expected an object")
	}
	out.ResponseFormat = &openaiwire.ResponseFormat{Type: "json_schema", JSONSchema: &openaiwire.JSONSchema{Name: "response", Schema: schema}}
	return nil
}

// convertTools converts functionDeclarations. Gemini's built-in tools
// (googleSearch, codeExecution, urlContext, …) run on Google's side and
// no OpenAI channel can run them, so they are refused rather than
// silently dropped.
func convertTools(tools []map[string]json.RawMessage) ([]openaiwire.ChatTool, error) {
	var out []openaiwire.ChatTool
	for i, t := range tools {
		keys := make([]string, 0, len(t))
		for key := range t {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		for _, key := range keys {
			raw := t[key]
			if key != "functionDeclarations" && key != "function_declarations" {
				return nil, badRequest("tools[%d].%s: this tool is not supported by this gateway (functionDeclarations only)", i, key)
			}
			var decls []functionDeclaration
			if err := openaiwire.API.Unmarshal(raw, &decls); err != nil {
				return nil, badRequest("tools[%d].%s: %v", i, key, err)
			}
			for j, d := range decls {
				if d.Name == "" {
					return nil, badRequest("tools[%d].%s[%d].name: field required", i, key, j)
				}
				params := pickRaw(d.ParametersJSONSchema, d.ParametersJSONSchemaSnake)
				if !openaiwire.IsPresent(params) && openaiwire.IsPresent(d.Parameters) {
					var err error
					if params, err = normalizeSchema(d.Parameters); err != nil {
						return nil, badRequest("tools[%d].%s[%d].parameters: %v", i, key, j, err)
					}
				}
				if openaiwire.IsPresent(params) && !openaiwire.IsObject(params) {
					return nil, badRequest("tools[%d].%s[%d].parameters: expected an object", i, key, j)
				}
				if !openaiwire.IsPresent(params) {
					params = nil
				}
				out = append(out, openaiwire.ChatTool{Type: "function", Function: openaiwire.FunctionDecl{Name: d.Name, Description: d.Description, Parameters: params}})
			}
		}
	}
	return out, nil
}

// convertToolConfig maps functionCallingConfig.mode: AUTO (and
// VALIDATED, which only adds schema checks) → "auto", ANY → "required"
// (or the function itself when exactly one is allowed), NONE → "none".
func convertToolConfig(tc *toolConfig, out *openaiwire.ChatRequest) error {
	fc := pick(tc.FunctionCallingConfig, tc.FunctionCallingConfigSnake)
	if fc == nil {
		return nil
	}
	switch fc.Mode {
	case "", "MODE_UNSPECIFIED":
	case "AUTO", "VALIDATED":
		out.ToolChoice = "auto"
	case "NONE":
		out.ToolChoice = "none"
	case "ANY":
		out.ToolChoice = "required"
		if names := pickSlice(fc.AllowedFunctionNames, fc.AllowedFunctionNamesSnake); len(names) == 1 {
			var named openaiwire.NamedToolChoice
			named.Type = "function"
			named.Function.Name = names[0]
			out.ToolChoice = named
		}
	default:
		return badRequest("toolConfig.functionCallingConfig.mode: unknown mode %q (expected AUTO, ANY or NONE)", fc.Mode)
	}
	return nil
}
