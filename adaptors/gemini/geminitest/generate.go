package geminitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"switchyard/adaptors"
)

// The GenerateContentRequest the mock accepts: the REST API's proto JSON
// names (https://ai.google.dev/api/generate-content). The real API also
// takes the snake_case spellings; the mock takes only what Google's SDKs
// send, so a misspelt field fails here as it would fail there.
type generateRequest struct {
	Contents          []content         `json:"contents"`
	Tools             []tool            `json:"tools"`
	ToolConfig        *toolConfig       `json:"toolConfig"`
	SafetySettings    []safetySetting   `json:"safetySettings"`
	SystemInstruction *content          `json:"systemInstruction"`
	GenerationConfig  *generationConfig `json:"generationConfig"`
	CachedContent     string            `json:"cachedContent"`
}

type content struct {
	Role  string `json:"role"`
	Parts []part `json:"parts"`
}

type part struct {
	Text                *string           `json:"text"`
	Thought             bool              `json:"thought"`
	ThoughtSignature    *string           `json:"thoughtSignature"`
	InlineData          *blob             `json:"inlineData"`
	FileData            *fileData         `json:"fileData"`
	FunctionCall        *functionCall     `json:"functionCall"`
	FunctionResponse    *functionResponse `json:"functionResponse"`
	ExecutableCode      json.RawMessage   `json:"executableCode"`
	CodeExecutionResult json.RawMessage   `json:"codeExecutionResult"`
	VideoMetadata       json.RawMessage   `json:"videoMetadata"`
}

type blob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MimeType string `json:"mimeType"`
	FileURI  string `json:"fileUri"`
}

type functionCall struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
}

type functionResponse struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Response map[string]any `json:"response"`
}

type tool struct {
	FunctionDeclarations []struct {
		Name                 string          `json:"name"`
		Description          string          `json:"description"`
		Behavior             string          `json:"behavior"`
		Parameters           json.RawMessage `json:"parameters"`
		ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
		Response             json.RawMessage `json:"response"`
		ResponseJSONSchema   json.RawMessage `json:"responseJsonSchema"`
	} `json:"functionDeclarations"`
	GoogleSearch          json.RawMessage `json:"googleSearch"`
	GoogleSearchRetrieval json.RawMessage `json:"googleSearchRetrieval"`
	CodeExecution         json.RawMessage `json:"codeExecution"`
	URLContext            json.RawMessage `json:"urlContext"`
}

type toolConfig struct {
	FunctionCallingConfig *struct {
		Mode                 string   `json:"mode"`
		AllowedFunctionNames []string `json:"allowedFunctionNames"`
	} `json:"functionCallingConfig"`
}

type safetySetting struct {
	Category  string `json:"category"`
	Threshold string `json:"threshold"`
}

type generationConfig struct {
	StopSequences      []string        `json:"stopSequences"`
	ResponseMimeType   string          `json:"responseMimeType"`
	ResponseSchema     json.RawMessage `json:"responseSchema"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema"`
	ResponseModalities []string        `json:"responseModalities"`
	CandidateCount     *int            `json:"candidateCount"`
	MaxOutputTokens    *int            `json:"maxOutputTokens"`
	Temperature        *float64        `json:"temperature"`
	TopP               *float64        `json:"topP"`
	TopK               *int            `json:"topK"`
	Seed               *int32          `json:"seed"`
	PresencePenalty    *float64        `json:"presencePenalty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty"`
	ResponseLogprobs   bool            `json:"responseLogprobs"`
	Logprobs           *int            `json:"logprobs"`
	ThinkingConfig     *struct {
		IncludeThoughts bool   `json:"includeThoughts"`
		ThinkingBudget  *int   `json:"thinkingBudget"`
		ThinkingLevel   string `json:"thinkingLevel"`
	} `json:"thinkingConfig"`
}

// validate checks what the API checks; it returns the API's message, or
// "" when the request is valid.
func (r *generateRequest) validate() string {
	if len(r.Contents) == 0 {
		return "* GenerateContentRequest.contents: contents is not specified\n"
	}
	if r.SystemInstruction != nil {
		if msg := checkParts("system_instruction", r.SystemInstruction.Parts); msg != "" {
			return msg
		}
	}
	var lastCalls []string // function names of the previous model turn
	prevRole := ""
	for i, c := range r.Contents {
		where := fmt.Sprintf("contents[%d]", i)
		if c.Role != "user" && c.Role != "model" {
			return fmt.Sprintf("Please use a valid role: user, model. (%s.role %q)", where, c.Role)
		}
		if msg := checkParts(where, c.Parts); msg != "" {
			return msg
		}
		var calls, responses []string
		for _, p := range c.Parts {
			if p.FunctionCall != nil {
				calls = append(calls, p.FunctionCall.Name)
			}
			if p.FunctionResponse != nil {
				responses = append(responses, p.FunctionResponse.Name)
			}
		}
		switch {
		case len(calls) > 0 && c.Role != "model":
			return fmt.Sprintf("* GenerateContentRequest.%s: function calls must come from the model\n", where)
		case len(responses) > 0 && c.Role != "user":
			return fmt.Sprintf("* GenerateContentRequest.%s: function responses must come from the user\n", where)
		case len(calls) > 0 && prevRole == "model":
			return "Please ensure that function call turn comes immediately after a user turn or after a function response turn."
		case len(responses) > 0:
			slices.Sort(responses)
			if !slices.Equal(responses, lastCalls) {
				return "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn."
			}
		}
		lastCalls = slices.Sorted(slices.Values(calls))
		prevRole = c.Role
	}
	for i, t := range r.Tools {
		for j, d := range t.FunctionDeclarations {
			if d.Name == "" {
				return fmt.Sprintf("* GenerateContentRequest.tools[%d].function_declarations[%d].name: Name cannot be empty.\n", i, j)
			}
			if len(d.Parameters) > 0 && len(d.ParametersJSONSchema) > 0 {
				return fmt.Sprintf("* GenerateContentRequest.tools[%d].function_declarations[%d]: parameters and parameters_json_schema are mutually exclusive\n", i, j)
			}
		}
	}
	if tc := r.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		switch tc.FunctionCallingConfig.Mode {
		case "AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED", "":
		default:
			return fmt.Sprintf("Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), %q", tc.FunctionCallingConfig.Mode)
		}
	}
	for i, s := range r.SafetySettings {
		if !slices.Contains([]string{"HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_CIVIC_INTEGRITY"}, s.Category) {
			return fmt.Sprintf("Invalid value at 'safety_settings[%d].category' (type.googleapis.com/google.ai.generativelanguage.v1beta.HarmCategory), %q", i, s.Category)
		}
		if !slices.Contains([]string{"BLOCK_NONE", "BLOCK_ONLY_HIGH", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_LOW_AND_ABOVE", "OFF", "HARM_BLOCK_THRESHOLD_UNSPECIFIED"}, s.Threshold) {
			return fmt.Sprintf("Invalid value at 'safety_settings[%d].threshold' (type.googleapis.com/google.ai.generativelanguage.v1beta.SafetySetting.HarmBlockThreshold), %q", i, s.Threshold)
		}
	}
	if gc := r.GenerationConfig; gc != nil {
		if len(gc.ResponseSchema) > 0 && len(gc.ResponseJSONSchema) > 0 {
			return "* GenerateContentRequest.generation_config: response_schema and response_json_schema are mutually exclusive\n"
		}
		if (len(gc.ResponseSchema) > 0 || len(gc.ResponseJSONSchema) > 0) && gc.ResponseMimeType != "application/json" {
			return "* GenerateContentRequest.generation_config.response_mime_type: must be application/json when a response schema is set\n"
		}
		if tc := gc.ThinkingConfig; tc != nil && tc.ThinkingBudget != nil && tc.ThinkingLevel != "" {
			return "Unable to submit request because thinking_budget and thinking_level are not supported together."
		}
		if gc.CandidateCount != nil && (*gc.CandidateCount < 1 || *gc.CandidateCount > 8) {
			return "* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8\n"
		}
	}
	return ""
}

// checkParts checks that a content has parts, each with exactly one data
// member, and valid bytes fields.
func checkParts(where string, parts []part) string {
	if len(parts) == 0 {
		return fmt.Sprintf("* GenerateContentRequest.%s.parts: contents.parts must not be empty.\n", where)
	}
	for j, p := range parts {
		n := 0
		for _, set := range []bool{p.Text != nil, p.InlineData != nil, p.FileData != nil, p.FunctionCall != nil,
			p.FunctionResponse != nil, p.ExecutableCode != nil, p.CodeExecutionResult != nil} {
			if set {
				n++
			}
		}
		pw := fmt.Sprintf("%s.parts[%d]", where, j)
		switch {
		case n != 1:
			return fmt.Sprintf("* GenerateContentRequest.%s.data: required oneof field 'data' must have one initialized field\n", pw)
		case p.Text != nil && *p.Text == "":
			return "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again."
		case p.InlineData != nil && (p.InlineData.MimeType == "" || !validBytes(p.InlineData.Data)):
			return fmt.Sprintf("Invalid value at '%s.inline_data.data' (TYPE_BYTES), Base64 decoding failed", pw)
		case p.FileData != nil && p.FileData.FileURI == "":
			return fmt.Sprintf("* GenerateContentRequest.%s.file_data.file_uri: file_uri is not specified\n", pw)
		case p.FunctionCall != nil && p.FunctionCall.Name == "":
			return fmt.Sprintf("* GenerateContentRequest.%s.function_call.name: Name cannot be empty.\n", pw)
		case p.FunctionResponse != nil && p.FunctionResponse.Name == "":
			return fmt.Sprintf("* GenerateContentRequest.%s.function_response.name: Name cannot be empty.\n", pw)
		case p.ThoughtSignature != nil && !validBytes(*p.ThoughtSignature):
			return fmt.Sprintf("Invalid value at '%s.thought_signature' (TYPE_BYTES), Base64 decoding failed", pw)
		}
	}
	return ""
}

// The answer shapes, in the order Google writes their members.
type generateResponse struct {
	Candidates    []candidate    `json:"candidates"`
	UsageMetadata *usageMetadata `json:"usageMetadata,omitempty"`
	ModelVersion  string         `json:"modelVersion"`
	ResponseID    string         `json:"responseId"`
}

type candidate struct {
	Content      answerContent `json:"content"`
	FinishReason string        `json:"finishReason,omitempty"`
	Index        int           `json:"index"`
}

type answerContent struct {
	Parts []answerPart `json:"parts"`
	Role  string       `json:"role"`
}

type answerPart struct {
	Text             string        `json:"text,omitempty"`
	Thought          bool          `json:"thought,omitempty"`
	FunctionCall     *functionCall `json:"functionCall,omitempty"`
	ThoughtSignature string        `json:"thoughtSignature,omitempty"`
}

type usageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount,omitempty"`
	TotalTokenCount         int `json:"totalTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount,omitempty"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount,omitempty"`
}

// openai converts u to OpenAI terms, as the adaptor must.
func (u usageMetadata) openai() adaptors.Usage {
	return adaptors.Usage{
		PromptTokens:     u.PromptTokenCount,
		CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
		TotalTokens:      u.TotalTokenCount,
		CachedTokens:     u.CachedContentTokenCount,
		ReasoningTokens:  u.ThoughtsTokenCount,
	}
}

// generate answers generateContent and streamGenerateContent.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, model string, stream bool, body []byte) {
	var req generateRequest
	if msg := decodeStrict(body, &req); msg != "" {
		invalid(w, msg)
		return
	}
	if msg := req.validate(); msg != "" {
		invalid(w, msg)
		return
	}
	id := fmt.Sprintf("mock-%d", s.responses.Add(1))
	var payloads []generateResponse
	if name, ok := toolCall(&req); ok {
		call := answerPart{FunctionCall: &functionCall{Name: name, Args: map[string]any{"location": "Paris"}}, ThoughtSignature: Signature}
		u := toolUsage
		payloads = []generateResponse{{
			Candidates:    []candidate{{Content: answerContent{Parts: []answerPart{call}, Role: "model"}, FinishReason: "STOP"}},
			UsageMetadata: &u,
		}}
	} else {
		thoughts := req.GenerationConfig != nil && req.GenerationConfig.ThinkingConfig != nil && req.GenerationConfig.ThinkingConfig.IncludeThoughts
		payloads = textPayloads(stream, thoughts)
	}
	for i := range payloads {
		payloads[i].ModelVersion, payloads[i].ResponseID = model, id
	}
	if !stream {
		writeJSON(w, http.StatusOK, payloads[0])
		return
	}
	if r.URL.Query().Get("alt") != "sse" {
		// Without alt=sse the API streams one JSON array of responses.
		writeJSON(w, http.StatusOK, payloads)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	for _, p := range payloads {
		b, _ := json.Marshal(p)
		_, _ = fmt.Fprintf(w, "data: %s\r\n\r\n", b)
		if f != nil {
			f.Flush()
		}
	}
}

// toolCall reports whether the answer is a call of the first declared
// function: the request has tools and its last turn is the user's own
// words (not function responses).
func toolCall(req *generateRequest) (string, bool) {
	name := ""
	for _, t := range req.Tools {
		if len(t.FunctionDeclarations) > 0 {
			name = t.FunctionDeclarations[0].Name
			break
		}
	}
	last := req.Contents[len(req.Contents)-1]
	if name == "" || last.Role != "user" {
		return "", false
	}
	for _, p := range last.Parts {
		if p.FunctionResponse != nil {
			return "", false
		}
	}
	if tc := req.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil && tc.FunctionCallingConfig.Mode == "NONE" {
		return "", false
	}
	return name, true
}

// textPayloads is Text as one answer, or as a stream of three payloads
// with cumulative usage (the thoughts, when asked for, come first).
func textPayloads(stream, thoughts bool) []generateResponse {
	final := textUsage
	if !stream {
		parts := []answerPart{{Text: Text}}
		if thoughts {
			parts = append([]answerPart{{Text: Thought, Thought: true}}, parts...)
		}
		return []generateResponse{{
			Candidates:    []candidate{{Content: answerContent{Parts: parts, Role: "model"}, FinishReason: "STOP"}},
			UsageMetadata: &final,
		}}
	}
	pieces := []string{"Hello", " from the", " Gemini mock!"}
	counts := []int{2, 4, 6}
	out := make([]generateResponse, len(pieces))
	for i, p := range pieces {
		u := final
		u.CandidatesTokenCount = counts[i]
		u.TotalTokenCount = u.PromptTokenCount + u.ThoughtsTokenCount + counts[i]
		parts := []answerPart{{Text: p}}
		if i == 0 && thoughts {
			parts = append([]answerPart{{Text: Thought, Thought: true}}, parts...)
		}
		c := candidate{Content: answerContent{Parts: parts, Role: "model"}}
		if i == len(pieces)-1 {
			c.FinishReason = "STOP"
		}
		out[i] = generateResponse{Candidates: []candidate{c}, UsageMetadata: &u}
	}
	return out
}
