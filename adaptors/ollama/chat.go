package ollama

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// ---- The client's OpenAI request (only what the conversion reads) ----

// oaRequest is an OpenAI chat completions body. Members whose type varies
// (content, stop, tool_choice, response_format) are raw and read by the
// conversion.
type oaRequest struct {
	Messages            []oaMessage            `json:"messages"`
	MaxTokens           *int64                 `json:"max_tokens"`
	MaxCompletionTokens *int64                 `json:"max_completion_tokens"`
	Temperature         *float64               `json:"temperature"`
	TopP                *float64               `json:"top_p"`
	TopK                *int64                 `json:"top_k"` // not OpenAI's, but sent by many clients
	Stop                sonic.NoCopyRawMessage `json:"stop"`
	Seed                *int64                 `json:"seed"`
	PresencePenalty     *float64               `json:"presence_penalty"`
	FrequencyPenalty    *float64               `json:"frequency_penalty"`
	Tools               []oaTool               `json:"tools"`
	ToolChoice          sonic.NoCopyRawMessage `json:"tool_choice"`
	ResponseFormat      sonic.NoCopyRawMessage `json:"response_format"`
	ReasoningEffort     string                 `json:"reasoning_effort"`
}

type oaMessage struct {
	Role       string                 `json:"role"`
	Content    sonic.NoCopyRawMessage `json:"content"`
	Name       string                 `json:"name"`
	ToolCalls  []oaToolCall           `json:"tool_calls"`
	ToolCallID string                 `json:"tool_call_id"`
	// FunctionCall is the deprecated single-call form of tool_calls.
	FunctionCall *oaFunction `json:"function_call"`
	// Reasoning echoed back by clients of DeepSeek-style upstreams
	// (reasoning_content) or OpenRouter-style ones (reasoning, which some
	// clients send as an object: only a string is taken).
	ReasoningContent string                 `json:"reasoning_content"`
	Reasoning        sonic.NoCopyRawMessage `json:"reasoning"`
}

type oaToolCall struct {
	ID       string     `json:"id"`
	Type     string     `json:"type"`
	Function oaFunction `json:"function"`
}

type oaFunction struct {
	Name string `json:"name"`
	// Arguments is a JSON string holding an object (OpenAI), or, from
	// lax clients, the object itself.
	Arguments sonic.NoCopyRawMessage `json:"arguments"`
}

type oaPart struct {
	Type     string                 `json:"type"`
	Text     string                 `json:"text"`
	Refusal  string                 `json:"refusal"`
	ImageURL sonic.NoCopyRawMessage `json:"image_url"` // {"url":…} or, loosely, the URL string
}

type oaTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string                 `json:"name"`
		Description string                 `json:"description"`
		Parameters  sonic.NoCopyRawMessage `json:"parameters"`
	} `json:"function"`
}

type oaResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema struct {
		Schema sonic.NoCopyRawMessage `json:"schema"`
	} `json:"json_schema"`
}

// ---- Ollama's /api/chat request ----

// chatRequest is the body of POST /api/chat, members in the order of
// Ollama's API reference. stream is always sent: Ollama streams unless
// told otherwise.
type chatRequest struct {
	Model     string          `json:"model"`
	Messages  []message       `json:"messages"`
	Tools     []tool          `json:"tools,omitempty"`
	Format    json.RawMessage `json:"format,omitempty"`
	Options   *options        `json:"options,omitempty"`
	Stream    bool            `json:"stream"`
	Think     json.RawMessage `json:"think,omitempty"`
	KeepAlive json.RawMessage `json:"keep_alive,omitempty"`
}

// message is one Ollama chat message. Content is required by the API
// even when empty; images are base64 without a data: prefix.
type message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Thinking   string     `json:"thinking,omitempty"`
	Images     []string   `json:"images,omitempty"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolName   string     `json:"tool_name,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id,omitempty"`
	Function functionCall `json:"function"`
}

// functionCall carries arguments as a JSON object, not a string.
type functionCall struct {
	Index     int             `json:"index"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type tool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// options are the model options the OpenAI request maps to, in the order
// of Ollama's Options type. Pointers keep explicit zeros (temperature 0).
type options struct {
	Seed             *int64   `json:"seed,omitempty"`
	NumPredict       *int64   `json:"num_predict,omitempty"`
	TopK             *int64   `json:"top_k,omitempty"`
	TopP             *float64 `json:"top_p,omitempty"`
	Temperature      *float64 `json:"temperature,omitempty"`
	PresencePenalty  *float64 `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64 `json:"frequency_penalty,omitempty"`
	Stop             []string `json:"stop,omitempty"`
}

// emptyParameters is the schema sent for a function declared without
// parameters (Ollama's API requires the member).
var emptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

// invalid wraps a client-body problem so the gateway answers 400.
func invalid(format string, args ...any) error {
	return fmt.Errorf("ollama: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// buildChat converts the client's OpenAI chat body to an /api/chat body.
func buildChat(ch *adaptors.Channel, req *adaptors.Request) ([]byte, error) {
	if !isObject(req.Body) {
		return nil, invalid("chat body is not a json object")
	}
	var in oaRequest
	if err := unmarshal(req.Body, &in); err != nil {
		return nil, invalid("%v", err)
	}
	if len(in.Messages) == 0 {
		return nil, invalid("messages must not be empty")
	}
	out := chatRequest{Model: req.Model, Stream: req.Stream}
	var err error
	if out.Messages, err = convertMessages(in.Messages); err != nil {
		return nil, err
	}
	if out.Tools, err = convertTools(in.Tools, in.ToolChoice); err != nil {
		return nil, err
	}
	if out.Format, err = convertFormat(in.ResponseFormat); err != nil {
		return nil, err
	}
	if out.Options, err = convertOptions(&in); err != nil {
		return nil, err
	}
	out.Think = thinkValue(in.ReasoningEffort, req.Model)
	out.KeepAlive = keepAlive(ch)
	b, err := api.Marshal(&out)
	if err != nil {
		// Raw members come from the validated client body, so this is
		// not expected; refuse rather than send something broken.
		return nil, invalid("%v", err)
	}
	return b, nil
}

// convertMessages maps OpenAI roles to Ollama's (system and developer →
// system; function → tool) and each message's parts to Ollama's flat
// form: text parts joined, images base64 in images, tool calls with
// object arguments, tool results named after the call they answer.
func convertMessages(in []oaMessage) ([]message, error) {
	out := make([]message, 0, len(in))
	var callNames map[string]string // tool call id → function name, latest wins
	for i := range in {
		m := &in[i]
		var o message
		switch m.Role {
		case "system", "developer":
			o.Role = "system"
		case "user", "assistant", "tool":
			o.Role = m.Role
		case "function":
			o.Role = "tool"
			o.ToolName = m.Name
		default:
			return nil, invalid("messages[%d]: unsupported role %q", i, m.Role)
		}
		text, images, err := convertContent(m.Content, i)
		if err != nil {
			return nil, err
		}
		o.Content, o.Images = text, images
		switch o.Role {
		case "assistant":
			o.Thinking = m.ReasoningContent
			if r := bytes.TrimSpace(m.Reasoning); o.Thinking == "" && len(r) > 0 && r[0] == '"' {
				if err := unmarshal(r, &o.Thinking); err != nil {
					return nil, invalid("messages[%d].reasoning: %v", i, err)
				}
			}
			calls := m.ToolCalls
			if len(calls) == 0 && m.FunctionCall != nil {
				calls = []oaToolCall{{Type: "function", Function: *m.FunctionCall}}
			}
			for j := range calls {
				c := &calls[j]
				if c.Function.Name == "" {
					return nil, invalid("messages[%d].tool_calls[%d]: function name is required", i, j)
				}
				args, err := argumentsObject(c.Function.Arguments)
				if err != nil {
					return nil, invalid("messages[%d].tool_calls[%d].function.arguments: %v", i, j, err)
				}
				o.ToolCalls = append(o.ToolCalls, toolCall{
					ID:       c.ID,
					Function: functionCall{Index: j, Name: c.Function.Name, Arguments: args},
				})
				if c.ID != "" {
					if callNames == nil {
						callNames = make(map[string]string)
					}
					callNames[c.ID] = c.Function.Name
				}
			}
		case "tool":
			if m.ToolCallID != "" {
				o.ToolCallID = m.ToolCallID
				if name := callNames[m.ToolCallID]; name != "" {
					o.ToolName = name
				}
			}
			if o.ToolName == "" {
				o.ToolName = m.Name
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// convertContent flattens an OpenAI content (string, array of parts, or
// null) into Ollama's text and base64 images.
func convertContent(raw sonic.NoCopyRawMessage, msg int) (string, []string, error) {
	raw = sonic.NoCopyRawMessage(bytes.TrimSpace(raw))
	if !isPresent(raw) {
		return "", nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := unmarshal(raw, &s); err != nil {
			return "", nil, invalid("messages[%d].content: %v", msg, err)
		}
		return s, nil, nil
	case '[':
	default:
		return "", nil, invalid("messages[%d].content must be a string or an array of parts", msg)
	}
	var parts []oaPart
	if err := unmarshal(raw, &parts); err != nil {
		return "", nil, invalid("messages[%d].content: %v", msg, err)
	}
	var images []string
	texts, single := 0, ""
	for j := range parts {
		p := &parts[j]
		switch p.Type {
		case "text", "input_text":
			texts, single = texts+1, p.Text
		case "refusal":
			texts, single = texts+1, p.Refusal
		case "image_url", "input_image":
			img, err := inlineImage(p.ImageURL)
			if err != nil {
				return "", nil, invalid("messages[%d].content[%d].image_url: %v", msg, j, err)
			}
			images = append(images, img)
		default:
			return "", nil, invalid("messages[%d].content[%d]: Ollama does not accept %q parts", msg, j, p.Type)
		}
	}
	if texts <= 1 {
		return single, images, nil
	}
	// Several text parts become one content, a line apart.
	var text strings.Builder
	n := 0
	for j := range parts {
		s, ok := "", false
		switch parts[j].Type {
		case "text", "input_text":
			s, ok = parts[j].Text, true
		case "refusal":
			s, ok = parts[j].Refusal, true
		}
		if !ok {
			continue
		}
		if n > 0 {
			text.WriteByte('\n')
		}
		text.WriteString(s)
		n++
	}
	return text.String(), images, nil
}

// inlineImage returns the base64 data of an image_url value ({"url":…} or
// the URL string): Ollama takes only inline base64 images. http(s) URLs
// are still there only when the transport's image inlining is disabled.
func inlineImage(raw sonic.NoCopyRawMessage) (string, error) {
	var url string
	switch raw = sonic.NoCopyRawMessage(bytes.TrimSpace(raw)); {
	case len(raw) > 0 && raw[0] == '"':
		if err := unmarshal(raw, &url); err != nil {
			return "", err
		}
	case len(raw) > 0 && raw[0] == '{':
		var v struct {
			URL string `json:"url"`
		}
		if err := unmarshal(raw, &v); err != nil {
			return "", err
		}
		url = v.URL
	default:
		return "", fmt.Errorf("missing url")
	}
	const scheme = "data:"
	if len(url) < len(scheme) || !strings.EqualFold(url[:len(scheme)], scheme) {
		if strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") {
			return "", fmt.Errorf("Ollama takes images only inline: send a data: URL (or enable image inlining)")
		}
		return "", fmt.Errorf("unsupported image URL (want a data: URL)")
	}
	meta, data, ok := strings.Cut(url[len(scheme):], ",")
	if !ok || !strings.HasSuffix(strings.ToLower(meta), ";base64") {
		return "", fmt.Errorf("data: URL is not base64")
	}
	if data == "" {
		return "", fmt.Errorf("data: URL has no data")
	}
	return data, nil
}

// argumentsObject returns a tool call's arguments as a JSON object: the
// object an OpenAI arguments string holds, or the object itself from lax
// clients. Empty arguments are {}.
func argumentsObject(raw sonic.NoCopyRawMessage) (json.RawMessage, error) {
	raw = sonic.NoCopyRawMessage(bytes.TrimSpace(raw))
	if !isPresent(raw) {
		return json.RawMessage("{}"), nil
	}
	b := []byte(raw)
	if raw[0] == '"' {
		var s string
		if err := unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b = bytes.TrimSpace([]byte(s))
		if len(b) == 0 {
			return json.RawMessage("{}"), nil
		}
	}
	if !isObject(b) || !json.Valid(b) {
		return nil, fmt.Errorf("not a JSON object")
	}
	return json.RawMessage(b), nil
}

// convertTools maps OpenAI function tools to Ollama's (the same shape)
// and applies tool_choice as far as Ollama can: it has no way to force a
// call, so "none" sends no tools, a named function sends only that tool,
// and "auto" and "required" send them all.
func convertTools(in []oaTool, choice sonic.NoCopyRawMessage) ([]tool, error) {
	if len(in) == 0 {
		return nil, nil
	}
	only := ""
	choice = sonic.NoCopyRawMessage(bytes.TrimSpace(choice))
	switch {
	case !isPresent(choice):
	case choice[0] == '"':
		var s string
		if err := unmarshal(choice, &s); err != nil {
			return nil, invalid("tool_choice: %v", err)
		}
		switch s {
		case "none":
			return nil, nil
		case "auto", "required":
		default:
			return nil, invalid("tool_choice: unknown value %q", s)
		}
	case choice[0] == '{':
		var c struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := unmarshal(choice, &c); err != nil {
			return nil, invalid("tool_choice: %v", err)
		}
		if c.Type == "function" {
			if c.Function.Name == "" {
				return nil, invalid("tool_choice: function name is required")
			}
			only = c.Function.Name
		}
	default:
		return nil, invalid("tool_choice must be a string or an object")
	}
	out := make([]tool, 0, len(in))
	for i := range in {
		t := &in[i]
		if t.Type != "function" {
			return nil, invalid("tools[%d]: Ollama accepts only function tools, not %q", i, t.Type)
		}
		if t.Function.Name == "" {
			return nil, invalid("tools[%d]: function name is required", i)
		}
		if only != "" && t.Function.Name != only {
			continue
		}
		params := json.RawMessage(t.Function.Parameters)
		if !isPresent(params) {
			params = emptyParameters
		}
		out = append(out, tool{Type: "function", Function: toolFunction{
			Name: t.Function.Name, Description: t.Function.Description, Parameters: params,
		}})
	}
	if only != "" && len(out) == 0 {
		return nil, invalid("tool_choice names function %q, which is not in tools", only)
	}
	return out, nil
}

// convertFormat maps response_format to Ollama's format: "json" for
// json_object, the schema itself for json_schema, nothing for text.
func convertFormat(raw sonic.NoCopyRawMessage) (json.RawMessage, error) {
	if !isPresent(bytes.TrimSpace(raw)) {
		return nil, nil
	}
	var rf oaResponseFormat
	if err := unmarshal(raw, &rf); err != nil {
		return nil, invalid("response_format: %v", err)
	}
	switch rf.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`"json"`), nil
	case "json_schema":
		if isPresent(rf.JSONSchema.Schema) {
			return json.RawMessage(rf.JSONSchema.Schema), nil
		}
		return json.RawMessage(`"json"`), nil
	}
	return nil, invalid("response_format: unsupported type %q", rf.Type)
}

// convertOptions maps the sampling members to Ollama's model options;
// nil when the client set none (the model's Modelfile defaults apply).
// max_completion_tokens wins over the older max_tokens; without either
// Ollama generates until the model stops (num_predict -1).
func convertOptions(in *oaRequest) (*options, error) {
	o := options{
		Seed:             in.Seed,
		TopK:             in.TopK,
		TopP:             in.TopP,
		Temperature:      in.Temperature,
		PresencePenalty:  in.PresencePenalty,
		FrequencyPenalty: in.FrequencyPenalty,
	}
	switch {
	case in.MaxCompletionTokens != nil && *in.MaxCompletionTokens > 0:
		o.NumPredict = in.MaxCompletionTokens
	case in.MaxTokens != nil && *in.MaxTokens > 0:
		o.NumPredict = in.MaxTokens
	}
	stop := bytes.TrimSpace(in.Stop)
	switch {
	case !isPresent(stop):
	case stop[0] == '"':
		var s string
		if err := unmarshal(stop, &s); err != nil {
			return nil, invalid("stop: %v", err)
		}
		if s != "" {
			o.Stop = []string{s}
		}
	default:
		if err := unmarshal(stop, &o.Stop); err != nil {
			return nil, invalid("stop must be a string or an array of strings")
		}
	}
	if o.Seed == nil && o.NumPredict == nil && o.TopK == nil && o.TopP == nil && o.Temperature == nil &&
		o.PresencePenalty == nil && o.FrequencyPenalty == nil && len(o.Stop) == 0 {
		return nil, nil
	}
	return &o, nil
}

// thinkValue maps reasoning_effort to Ollama's think: "none" turns
// thinking off; any other effort turns it on, as the level string for
// models that take levels (GPT-OSS: low, medium, high; others reject a
// level with 400) and as true for the rest. Without reasoning_effort the
// model's default applies.
func thinkValue(effort, model string) json.RawMessage {
	switch effort {
	case "":
		return nil
	case "none":
		return json.RawMessage(`false`)
	}
	if !strings.Contains(strings.ToLower(model), "gpt-oss") {
		return json.RawMessage(`true`)
	}
	switch effort {
	case "minimal", "low":
		return json.RawMessage(`"low"`)
	case "high", "xhigh":
		return json.RawMessage(`"high"`)
	}
	return json.RawMessage(`"medium"`)
}

// keepAlive renders the channel's keep_alive setting: a number of seconds
// as a JSON number, anything else (a Go duration such as "10m") as a
// string, which Ollama parses.
func keepAlive(ch *adaptors.Channel) json.RawMessage {
	v := strings.TrimSpace(ch.Config[ConfigKeepAlive])
	if v == "" {
		return nil
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && json.Valid([]byte(v)) {
		return json.RawMessage(v)
	}
	return json.RawMessage(strconv.Quote(v))
}

// ---- Ollama's /api/chat answer ----

// chatWire is one answer of /api/chat: the whole answer, or one line of a
// stream. Only what the conversion reads is modelled.
type chatWire struct {
	CreatedAt string `json:"created_at"`
	Message   struct {
		Content   string     `json:"content"`
		Thinking  string     `json:"thinking"`
		ToolCalls []callWire `json:"tool_calls"`
	} `json:"message"`
	Done            *bool                  `json:"done"`
	DoneReason      string                 `json:"done_reason"`
	PromptEvalCount int                    `json:"prompt_eval_count"`
	EvalCount       int                    `json:"eval_count"`
	Error           sonic.NoCopyRawMessage `json:"error"`
	Status          int                    `json:"status"` // the HTTP status of an error, when Ollama knows it
}

// callWire is one tool call. Newer servers give each an id ("call_…");
// arguments are an object.
type callWire struct {
	ID       string `json:"id"`
	Function struct {
		Name      string                 `json:"name"`
		Arguments sonic.NoCopyRawMessage `json:"arguments"`
	} `json:"function"`
}

// usage converts Ollama's counts (prompt_eval_count, eval_count); nil
// when the answer reports neither. Ollama counts no cache or reasoning
// split.
func (w *chatWire) usage() *adaptors.Usage {
	if w.PromptEvalCount == 0 && w.EvalCount == 0 {
		return nil
	}
	return &adaptors.Usage{
		PromptTokens:     w.PromptEvalCount,
		CompletionTokens: w.EvalCount,
		TotalTokens:      w.PromptEvalCount + w.EvalCount,
	}
}

// finishReason maps done_reason: "length" is length; "stop" and the
// model-management reasons ("load", "unload") are stop; a turn that
// called tools is tool_calls whatever Ollama says.
func finishReason(doneReason string, calledTools bool) string {
	switch {
	case calledTools:
		return "tool_calls"
	case doneReason == "length":
		return "length"
	}
	return "stop"
}

// toolCallID is the id a tool call gets in OpenAI's form: Ollama's own
// when the server sent one, else call_<index> (deterministic; unique
// within the answer).
func toolCallID(id string, index int) string {
	if id != "" {
		return id
	}
	return "call_" + strconv.Itoa(index)
}

// appendArguments appends a tool call's arguments as compact JSON text
// (the content of OpenAI's arguments string). Ollama sends an object; a
// string holding JSON is unquoted; nothing is {}.
func appendArguments(dst []byte, raw sonic.NoCopyRawMessage) []byte {
	raw = sonic.NoCopyRawMessage(bytes.TrimSpace(raw))
	if !isPresent(raw) {
		return append(dst, "{}"...)
	}
	if raw[0] == '"' {
		var s string
		if unmarshal(raw, &s) == nil {
			return append(dst, s...)
		}
	}
	n := len(dst)
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, raw); err != nil {
		return append(dst[:n], raw...)
	}
	return buf.Bytes()
}

// timeOf parses created_at (RFC 3339 with nanoseconds, any zone).
func timeOf(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// answerIdentity returns the id and created time of an OpenAI answer built
// from an Ollama one. Ollama sends no id; its created_at, to the
// nanosecond, makes a deterministic one. Without a timestamp the
// gateway's receive time stands in.
func answerIdentity(createdAt string, req *adaptors.Request) (string, int64) {
	if t, ok := timeOf(createdAt); ok {
		return "chatcmpl-" + strconv.FormatInt(t.UnixNano(), 10), t.Unix()
	}
	return "chatcmpl-" + strconv.FormatInt(req.Created, 10), req.Created
}

// clientModel is the model name the client sees: the one it asked for.
func clientModel(req *adaptors.Request) string {
	if req.OriginModel != "" {
		return req.OriginModel
	}
	return req.Model
}

// completion is OpenAI's chat.completion as this adaptor produces it.
type completion struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []choice      `json:"choices"`
	Usage   *schema.Usage `json:"usage,omitempty"`
}

type choice struct {
	Index        int           `json:"index"`
	Message      answerMessage `json:"message"`
	FinishReason string        `json:"finish_reason"`
}

type answerMessage struct {
	Role             string       `json:"role"`
	Content          *string      `json:"content"`
	ReasoningContent string       `json:"reasoning_content,omitempty"`
	ToolCalls        []answerCall `json:"tool_calls,omitempty"`
}

type answerCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// parseChat converts a non-stream /api/chat answer to chat.completion.
func parseChat(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if !isObject(body) {
		return nil, fmt.Errorf("ollama: %w: not a json object", adaptors.ErrInvalidResponse)
	}
	var w chatWire
	if err := decode(body, &w); err != nil {
		return nil, fmt.Errorf("ollama: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	if isPresent(w.Error) {
		return nil, embeddedError(&w)
	}
	if w.Done == nil {
		return nil, fmt.Errorf("ollama: %w: answer has no done member", adaptors.ErrInvalidResponse)
	}
	id, created := answerIdentity(w.CreatedAt, req)
	msg := answerMessage{Role: "assistant", ReasoningContent: w.Message.Thinking}
	content := w.Message.Content
	if content != "" || len(w.Message.ToolCalls) == 0 {
		msg.Content = &content
	}
	var args []byte
	for i := range w.Message.ToolCalls {
		c := &w.Message.ToolCalls[i]
		var out answerCall
		out.ID = toolCallID(c.ID, i)
		out.Type = "function"
		out.Function.Name = c.Function.Name
		args = appendArguments(args[:0], c.Function.Arguments)
		out.Function.Arguments = string(args)
		msg.ToolCalls = append(msg.ToolCalls, out)
	}
	resp := &adaptors.Response{Usage: w.usage()}
	c := completion{
		ID:      id,
		Object:  "chat.completion",
		Created: created,
		Model:   clientModel(req),
		Choices: []choice{{Message: msg, FinishReason: finishReason(w.DoneReason, len(msg.ToolCalls) > 0)}},
	}
	if resp.Usage != nil {
		u := resp.Usage.Schema()
		c.Usage = &u
	}
	b, err := api.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("ollama: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	resp.Body = b
	return resp, nil
}

// embeddedError converts an {"error":…} object that came with a 2xx
// status (an error line of a stream, or a proxy's error answer) to the
// client's error: the status Ollama named in it, else 502 (the upstream
// failed while claiming success).
func embeddedError(w *chatWire) *schema.Error {
	status := http.StatusBadGateway
	if w.Status >= 400 && w.Status <= 599 {
		status = w.Status
	}
	return errorFor(status, messageText(w.Error))
}
