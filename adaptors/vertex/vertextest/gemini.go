package vertextest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"switchyard/adaptors"
)

// generateRequest is a GenerateContentRequest as far as the mock checks
// it; unknown members are refused, as Vertex AI's proto JSON parser does
// ("model" in particular: the model is in the URL).
type generateRequest struct {
	Contents          []content         `json:"contents"`
	SystemInstruction *content          `json:"systemInstruction"`
	Tools             []tool            `json:"tools"`
	ToolConfig        *toolConfig       `json:"toolConfig"`
	GenerationConfig  json.RawMessage   `json:"generationConfig"`
	SafetySettings    []safetySetting   `json:"safetySettings"`
	Labels            map[string]string `json:"labels"`
	CachedContent     string            `json:"cachedContent"`
}

type content struct {
	Role  string `json:"role"`
	Parts []part `json:"parts"`
}

type part struct {
	Text             *string           `json:"text"`
	Thought          bool              `json:"thought"`
	ThoughtSignature *string           `json:"thoughtSignature"`
	InlineData       *blob             `json:"inlineData"`
	FileData         *fileData         `json:"fileData"`
	FunctionCall     *functionCall     `json:"functionCall"`
	FunctionResponse *functionResponse `json:"functionResponse"`
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
	ID   string         `json:"id,omitempty"`
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
}

type functionResponse struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type tool struct {
	FunctionDeclarations []struct {
		Name                 string          `json:"name"`
		Description          string          `json:"description"`
		Parameters           json.RawMessage `json:"parameters"`
		ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
		Response             json.RawMessage `json:"response"`
		ResponseJSONSchema   json.RawMessage `json:"responseJsonSchema"`
	} `json:"functionDeclarations"`
	GoogleSearch json.RawMessage `json:"googleSearch"`
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

// decodeStrict decodes a request body as Vertex AI's proto JSON parser
// does: unknown members are errors, reported in Google's words.
func decodeStrict(body []byte, v any) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return "Invalid JSON payload received. Unknown name " + name + ": Cannot find field."
		}
		return "Invalid JSON payload received. " + msg
	}
	if dec.More() {
		return "Invalid JSON payload received. Unexpected token."
	}
	return ""
}

// invalid answers a 400 the way Vertex AI reports a bad request body.
func invalid(w http.ResponseWriter, message string) {
	writeGoogleError(w, http.StatusBadRequest, message, []any{map[string]any{
		"@type":           "type.googleapis.com/google.rpc.BadRequest",
		"fieldViolations": []any{map[string]string{"description": message}},
	}})
}

// validate checks a request as Vertex AI does and returns its message
// for the first problem, or "".
func (r *generateRequest) validate() string {
	if len(r.Contents) == 0 {
		return "Unable to submit request because it must include at least one parts field, which describes the prompt input. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
	}
	for i, c := range r.Contents {
		if c.Role != "user" && c.Role != "model" {
			return fmt.Sprintf("Please use a valid role: user, model. (contents[%d].role %q)", i, c.Role)
		}
		if len(c.Parts) == 0 {
			return "Unable to submit request because it must include at least one parts field, which describes the prompt input. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
		}
		if msg := checkParts(fmt.Sprintf("contents[%d]", i), c.Parts); msg != "" {
			return msg
		}
	}
	if r.SystemInstruction != nil {
		if msg := checkParts("system_instruction", r.SystemInstruction.Parts); msg != "" {
			return msg
		}
	}
	for _, t := range r.Tools {
		for j, d := range t.FunctionDeclarations {
			if d.Name == "" {
				return fmt.Sprintf("Unable to submit request because `functionDeclarations[%d].name` is empty. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/function-calling", j)
			}
			if len(d.Parameters) > 0 && len(d.ParametersJSONSchema) > 0 {
				return "Unable to submit request because `parameters` and `parametersJsonSchema` are both set; only one may be."
			}
		}
	}
	return ""
}

// checkParts checks that each part carries exactly one kind of data.
func checkParts(where string, parts []part) string {
	for j, p := range parts {
		n := 0
		for _, set := range []bool{p.Text != nil, p.InlineData != nil, p.FileData != nil, p.FunctionCall != nil, p.FunctionResponse != nil} {
			if set {
				n++
			}
		}
		pw := fmt.Sprintf("%s.parts[%d]", where, j)
		switch {
		case n == 0:
			return fmt.Sprintf("Unable to submit request because it has an empty %s.data. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini", pw)
		case n > 1:
			return fmt.Sprintf("Invalid value at '%s' (oneof), oneof field 'data' is already set. Cannot set more than one.", pw)
		case p.Text != nil && *p.Text == "":
			return fmt.Sprintf("Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. (%s)", pw)
		case p.InlineData != nil && (p.InlineData.MimeType == "" || !validBytes(p.InlineData.Data)):
			return fmt.Sprintf("Invalid value at '%s.inline_data.data' (TYPE_BYTES), Base64 decoding failed", pw)
		case p.FunctionCall != nil && p.FunctionCall.Name == "":
			return fmt.Sprintf("Unable to submit request because `%s.function_call.name` is empty.", pw)
		case p.FunctionResponse != nil && p.FunctionResponse.Name == "":
			return fmt.Sprintf("Unable to submit request because `%s.function_response.name` is empty.", pw)
		case p.ThoughtSignature != nil && !validBytes(*p.ThoughtSignature):
			return fmt.Sprintf("Invalid value at '%s.thought_signature' (TYPE_BYTES), Base64 decoding failed", pw)
		}
	}
	return ""
}

// validBytes reports whether s decodes as a proto JSON bytes field.
func validBytes(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if _, err := enc.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}

// The answer shapes, members in the order Vertex AI writes them.
type generateResponse struct {
	Candidates    []candidate  `json:"candidates"`
	UsageMetadata *geminiUsage `json:"usageMetadata,omitempty"`
	ModelVersion  string       `json:"modelVersion"`
	CreateTime    string       `json:"createTime"`
	ResponseID    string       `json:"responseId"`
}

type candidate struct {
	Content      answerContent `json:"content"`
	FinishReason string        `json:"finishReason,omitempty"`
}

type answerContent struct {
	Role  string       `json:"role"`
	Parts []answerPart `json:"parts"`
}

type answerPart struct {
	Text             string        `json:"text,omitempty"`
	FunctionCall     *functionCall `json:"functionCall,omitempty"`
	ThoughtSignature string        `json:"thoughtSignature,omitempty"`
}

type tokensDetail struct {
	Modality   string `json:"modality"`
	TokenCount int    `json:"tokenCount"`
}

// geminiUsage is Vertex AI's usageMetadata.
type geminiUsage struct {
	PromptTokenCount        int            `json:"promptTokenCount"`
	CandidatesTokenCount    int            `json:"candidatesTokenCount,omitempty"`
	TotalTokenCount         int            `json:"totalTokenCount"`
	CachedContentTokenCount int            `json:"cachedContentTokenCount,omitempty"`
	TrafficType             string         `json:"trafficType"`
	PromptTokensDetails     []tokensDetail `json:"promptTokensDetails,omitempty"`
	CandidatesTokensDetails []tokensDetail `json:"candidatesTokensDetails,omitempty"`
	ThoughtsTokenCount      int            `json:"thoughtsTokenCount,omitempty"`
}

// openai converts u to OpenAI terms, as the adaptor must.
func (u geminiUsage) openai() adaptors.Usage {
	return adaptors.Usage{
		PromptTokens:     u.PromptTokenCount,
		CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
		TotalTokens:      u.TotalTokenCount,
		CachedTokens:     u.CachedContentTokenCount,
		ReasoningTokens:  u.ThoughtsTokenCount,
	}
}

// wire fills the members Vertex AI adds to the counts.
func (u geminiUsage) wire() *geminiUsage {
	u.TrafficType = "ON_DEMAND"
	u.PromptTokensDetails = []tokensDetail{{"TEXT", u.PromptTokenCount}}
	if u.CandidatesTokenCount > 0 {
		u.CandidatesTokensDetails = []tokensDetail{{"TEXT", u.CandidatesTokenCount}}
	}
	return &u
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
	s.mu.Lock()
	s.answers++
	n := s.answers
	s.mu.Unlock()
	id := fmt.Sprintf("mockVertexResp%06d", n)
	created := time.Date(2026, 11, 26, 10, 0, 0, n*1000, time.UTC).Format("2006-01-02T15:04:05.000000Z")
	var payloads []generateResponse
	if name, ok := toolCall(&req); ok {
		call := answerPart{FunctionCall: &functionCall{Name: name, Args: map[string]any{"location": "Paris"}}, ThoughtSignature: Signature}
		payloads = []generateResponse{{
			Candidates:    []candidate{{Content: answerContent{Role: "model", Parts: []answerPart{call}}, FinishReason: "STOP"}},
			UsageMetadata: geminiToolUsage.wire(),
		}}
	} else {
		payloads = textPayloads(stream)
	}
	for i := range payloads {
		payloads[i].ModelVersion, payloads[i].CreateTime, payloads[i].ResponseID = model, created, id
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

// textPayloads is GeminiText as one answer, or as a stream of three
// payloads with cumulative usage.
func textPayloads(stream bool) []generateResponse {
	if !stream {
		return []generateResponse{{
			Candidates:    []candidate{{Content: answerContent{Role: "model", Parts: []answerPart{{Text: GeminiText}}}, FinishReason: "STOP"}},
			UsageMetadata: geminiTextUsage.wire(),
		}}
	}
	pieces := []string{"Hello", " from the Vertex AI", " Gemini mock!"}
	counts := []int{1, 4, geminiTextUsage.CandidatesTokenCount}
	out := make([]generateResponse, len(pieces))
	for i, p := range pieces {
		u := geminiTextUsage
		u.CandidatesTokenCount = counts[i]
		u.TotalTokenCount = u.PromptTokenCount + u.ThoughtsTokenCount + counts[i]
		c := candidate{Content: answerContent{Role: "model", Parts: []answerPart{{Text: p}}}}
		if i == len(pieces)-1 {
			c.FinishReason = "STOP"
		}
		out[i] = generateResponse{Candidates: []candidate{c}, UsageMetadata: u.wire()}
	}
	return out
}

// predictRequest is a text embedding model's predict request.
type predictRequest struct {
	Instances []struct {
		Content  *string `json:"content"`
		TaskType string  `json:"task_type"`
		Title    string  `json:"title"`
	} `json:"instances"`
	Parameters *struct {
		AutoTruncate         *bool `json:"autoTruncate"`
		OutputDimensionality *int  `json:"outputDimensionality"`
	} `json:"parameters"`
}

// predict answers a text embedding model's predict with deterministic
// unit vectors and per-instance statistics.
func (s *Server) predict(w http.ResponseWriter, body []byte) {
	var req predictRequest
	if msg := decodeStrict(body, &req); msg != "" {
		invalid(w, msg)
		return
	}
	if len(req.Instances) == 0 {
		invalid(w, "Empty instances.")
		return
	}
	dims := DefaultDimensions
	if p := req.Parameters; p != nil && p.OutputDimensionality != nil {
		dims = *p.OutputDimensionality
	}
	if dims < 1 || dims > 3072 {
		invalid(w, fmt.Sprintf("Invalid value for outputDimensionality: %d.", dims))
		return
	}
	type prediction struct {
		Embeddings struct {
			Statistics struct {
				Truncated  bool `json:"truncated"`
				TokenCount int  `json:"token_count"`
			} `json:"statistics"`
			Values []float32 `json:"values"`
		} `json:"embeddings"`
	}
	out := struct {
		Predictions []prediction `json:"predictions"`
		Metadata    struct {
			BillableCharacterCount int `json:"billableCharacterCount"`
		} `json:"metadata"`
	}{}
	for i, in := range req.Instances {
		if in.Content == nil || *in.Content == "" {
			invalid(w, fmt.Sprintf("instances[%d].content: the content to embed is empty.", i))
			return
		}
		var p prediction
		p.Embeddings.Statistics.TokenCount = TokenCount(*in.Content)
		p.Embeddings.Values = Vector(*in.Content, dims)
		out.Predictions = append(out.Predictions, p)
		out.Metadata.BillableCharacterCount += utf8.RuneCountInString(strings.Join(strings.Fields(*in.Content), ""))
	}
	writeJSON(w, http.StatusOK, out)
}

// TokenCount is the token_count the mock reports for an embedded text:
// its number of words.
func TokenCount(text string) int { return len(strings.Fields(text)) }

// Vector is the embedding the mock returns for text: deterministic, of
// length dims and unit norm.
func Vector(text string, dims int) []float32 {
	v := make([]float32, dims)
	var norm float64
	x := make([]float64, dims)
	for i := range v {
		h := fnv.New64a()
		_, _ = h.Write([]byte(text))
		_ = binary.Write(h, binary.LittleEndian, int64(i))
		x[i] = float64(int64(h.Sum64()>>11))/float64(1<<52) - 1 // in [-1, 1)
		norm += x[i] * x[i]
	}
	for i := range v {
		if norm > 0 {
			v[i] = float32(x[i] / math.Sqrt(norm))
		}
	}
	return v
}
