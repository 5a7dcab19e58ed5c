package replicate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/decoder"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
	"switchyard/adaptors/schema"
)

// invalid wraps a client-body problem so the gateway answers 400.
func invalid(format string, args ...any) error {
	return fmt.Errorf("replicate: %w: %s", adaptors.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// errTools is the answer to any request that needs tool calling: no
// language model on Replicate declares tools in its input schema (a model
// input is a flat set of named fields, not a chat API).
func errTools() error { return invalid("tools are not supported by Replicate models") }

// marshal encodes one of this package's wire values (strings, numbers and
// slices of them only, so it cannot fail).
func marshal(v any) []byte { return openaiwire.Marshal(v) }

// api decodes the client's body. Strings and raw members alias the body,
// which outlives the conversion; everything kept is copied into the
// upstream body. Keys match case-sensitively, as OpenAI's do.
var api = sonic.Config{CaseSensitive: true}.Froze()

// decode decodes b into v without the copy of b that sonic's Unmarshal
// makes. b is only read; strings decoded into v may alias it, so v must
// not outlive b (every caller copies what it keeps into the body it
// builds).
func decode(b []byte, v any) error {
	return api.UnmarshalFromString(unsafe.String(unsafe.SliceData(b), len(b)), v)
}

// decodeLenient is decode for upstream answers: a type mismatch in one
// field leaves the others decoded and is not an error (the gateway
// converts what it can rather than fail a whole answer over a field it
// barely needs); syntax errors are.
func decodeLenient(b []byte, v any) error {
	err := decode(b, v)
	var mismatch *decoder.MismatchTypeError
	var stdMismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) || errors.As(err, &stdMismatch) {
		return nil
	}
	return err
}

// chatRequest is the part of the client's OpenAI chat body that Replicate
// inputs can express. Unknown members are ignored, as OpenAI-compatible
// upstreams do.
type chatRequest struct {
	Messages            []chatMessage            `json:"messages"`
	MaxTokens           *int                     `json:"max_tokens"`
	MaxCompletionTokens *int                     `json:"max_completion_tokens"`
	Temperature         *float64                 `json:"temperature"`
	TopP                *float64                 `json:"top_p"`
	PresencePenalty     *float64                 `json:"presence_penalty"`
	FrequencyPenalty    *float64                 `json:"frequency_penalty"`
	Stop                sonic.NoCopyRawMessage   `json:"stop"`
	Tools               []sonic.NoCopyRawMessage `json:"tools"`
	ToolChoice          sonic.NoCopyRawMessage   `json:"tool_choice"`
	Functions           []sonic.NoCopyRawMessage `json:"functions"`
	ReasoningEffort     string                   `json:"reasoning_effort"`
}

type chatMessage struct {
	Role         string                   `json:"role"`
	Content      sonic.NoCopyRawMessage   `json:"content"`
	ToolCalls    []sonic.NoCopyRawMessage `json:"tool_calls"`
	FunctionCall sonic.NoCopyRawMessage   `json:"function_call"`
}

type contentPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
}

// createBody is the create-prediction body: {"version"?, "input",
// "stream"?}. Field order is the output order.
type createBody struct {
	Version string `json:"version,omitempty"`
	Input   *input `json:"input"`
	// Stream is deprecated by Replicate (every prediction of a streaming
	// model gets urls.stream) but still accepted, and it makes a model
	// that cannot stream fail at once with 422 instead of running a
	// prediction whose answer would be thrown away.
	Stream bool `json:"stream,omitempty"`
}

// input is a language model's input on Replicate. Which members a model
// takes depends on its schema (see family); absent members take the
// model's defaults.
type input struct {
	Prompt              string   `json:"prompt"`
	SystemPrompt        string   `json:"system_prompt,omitempty"`
	Image               string   `json:"image,omitempty"`
	ImageInput          []string `json:"image_input,omitempty"`
	MaxTokens           int      `json:"max_tokens,omitempty"`
	MaxCompletionTokens int      `json:"max_completion_tokens,omitempty"`
	Temperature         *float64 `json:"temperature,omitempty"`
	TopP                *float64 `json:"top_p,omitempty"`
	PresencePenalty     *float64 `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64 `json:"frequency_penalty,omitempty"`
	StopSequences       string   `json:"stop_sequences,omitempty"`
	ReasoningEffort     string   `json:"reasoning_effort,omitempty"`
}

// imageMode is how a family takes images.
type imageMode uint8

const (
	imageOne  imageMode = iota // "image": one URL (Claude, LLaVA-style models)
	imageList                  // "image_input": a list of URLs (OpenAI models)
)

// family is the input schema shared by the language models of one
// owner on Replicate. Members a family does not declare are not sent:
// Cog runtimes have either refused unknown inputs or ignored them with a
// log warning, so sending them can only fail the request.
type family struct {
	// completionTokens: the limit is max_completion_tokens, not max_tokens.
	completionTokens bool
	// minMaxTokens raises a smaller limit to the schema's minimum.
	minMaxTokens int
	images       imageMode
	sampling     bool // temperature, top_p
	penalties    bool // presence_penalty, frequency_penalty
	stop         bool // stop_sequences (comma-separated)
	reasoning    bool // reasoning_effort
}

// familyOf returns the input schema of owner's models: OpenAI's and
// Anthropic's official models have their own; every other owner is
// taken to follow Meta's Llama schema, which most community language
// models copy.
func familyOf(owner string) family {
	switch owner {
	case "openai":
		// openai/gpt-4o-mini, gpt-4.1-mini, o4-mini: prompt,
		// system_prompt, image_input, temperature, top_p,
		// presence/frequency_penalty, max_completion_tokens,
		// reasoning_effort (reasoning models).
		return family{completionTokens: true, images: imageList, sampling: true, penalties: true, reasoning: true}
	case "anthropic":
		// anthropic/claude-4-sonnet: prompt, system_prompt, image,
		// max_tokens (1024–64000), max_image_resolution.
		return family{minMaxTokens: 1024, images: imageOne}
	}
	// meta/meta-llama-3*: prompt, system_prompt, max_tokens, min_tokens,
	// temperature, top_p, top_k, presence/frequency_penalty,
	// stop_sequences, prompt_template.
	return family{images: imageOne, sampling: true, penalties: true, stop: true}
}

// buildInput converts the client's chat body to a model input.
func buildInput(body []byte, fam family) (*input, error) {
	if !openaiwire.IsObject(body) {
		return nil, invalid("chat body is not a json object")
	}
	var r chatRequest
	if err := decode(body, &r); err != nil {
		return nil, invalid("%v", err)
	}
	if err := checkTools(&r); err != nil {
		return nil, err
	}
	in := &input{}
	images, err := render(r.Messages, in)
	if err != nil {
		return nil, err
	}
	switch {
	case len(images) == 0:
	case fam.images == imageList:
		in.ImageInput = images
	case len(images) == 1:
		in.Image = images[0]
	default:
		return nil, invalid("this model takes one image, the request has %d", len(images))
	}
	limit := 0
	for _, p := range []*int{r.MaxCompletionTokens, r.MaxTokens} {
		if p != nil {
			if *p < 1 {
				return nil, invalid("max_tokens must be at least 1")
			}
			limit = *p
			break
		}
	}
	if limit > 0 {
		limit = max(limit, fam.minMaxTokens)
		if fam.completionTokens {
			in.MaxCompletionTokens = limit
		} else {
			in.MaxTokens = limit
		}
	}
	if fam.sampling {
		in.Temperature, in.TopP = r.Temperature, r.TopP
	}
	if fam.penalties {
		in.PresencePenalty, in.FrequencyPenalty = r.PresencePenalty, r.FrequencyPenalty
	}
	if fam.stop {
		stops, err := stopList(r.Stop)
		if err != nil {
			return nil, err
		}
		in.StopSequences = strings.Join(stops, ",")
	}
	if fam.reasoning {
		in.ReasoningEffort = r.ReasoningEffort
	}
	return in, nil
}

// checkTools refuses a request that needs tool calling. Tools declared
// with tool_choice "none" cannot be called, so they are dropped instead.
func checkTools(r *chatRequest) error {
	if len(r.Functions) > 0 {
		return errTools()
	}
	choice := string(bytes.TrimSpace(r.ToolChoice))
	switch {
	case choice == `"none"`:
		return nil
	case len(r.Tools) > 0:
		return errTools()
	case choice != "" && choice != "null" && choice != `"auto"`:
		return errTools() // "required" or a named function
	}
	return nil
}

// stopList reads OpenAI's stop: a string, an array of strings, or null.
func stopList(raw []byte) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := decode(raw, &s); err != nil {
			return nil, invalid("stop: %v", err)
		}
		list = []string{s}
	} else if err := decode(raw, &list); err != nil {
		return nil, invalid("stop must be a string or an array of strings")
	}
	out := list[:0]
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// turn is one user or assistant message rendered as text.
type turn struct {
	user bool
	text string
}

// render turns the messages into the input's system_prompt and prompt
// and returns the images of the user messages, in order. System and
// developer messages become the system prompt (joined by blank lines).
// A single user message is the prompt as it is; a conversation becomes a
// plain transcript, "User: …" and "Assistant: …" turns separated by blank
// lines, which the model's own chat template then wraps as one user turn.
func render(msgs []chatMessage, in *input) ([]string, error) {
	if len(msgs) == 0 {
		return nil, invalid("messages must not be empty")
	}
	var system []string
	var turns []turn
	var images []string
	for i := range msgs {
		m := &msgs[i]
		switch m.Role {
		case "system", "developer":
			t, err := contentText(m.Content, nil)
			if err != nil {
				return nil, err
			}
			if t != "" {
				system = append(system, t)
			}
		case "user":
			t, err := contentText(m.Content, &images)
			if err != nil {
				return nil, err
			}
			turns = append(turns, turn{user: true, text: t})
		case "assistant":
			if len(m.ToolCalls) > 0 || openaiwire.IsPresent(m.FunctionCall) {
				return nil, errTools()
			}
			t, err := contentText(m.Content, nil)
			if err != nil {
				return nil, err
			}
			turns = append(turns, turn{text: t})
		case "tool", "function":
			return nil, errTools()
		default:
			return nil, invalid("messages[%d]: unknown role %q", i, m.Role)
		}
	}
	if len(turns) == 0 {
		return nil, invalid("messages must hold a user message")
	}
	in.SystemPrompt = strings.Join(system, "\n\n")
	if len(turns) == 1 && turns[0].user {
		in.Prompt = turns[0].text
		return images, nil
	}
	n := 0
	for _, t := range turns {
		n += len("Assistant: \n\n") + len(t.text)
	}
	var b strings.Builder
	b.Grow(n)
	for i, t := range turns {
		if i > 0 {
			b.WriteString("\n\n")
		}
		if t.user {
			b.WriteString("User: ")
		} else {
			b.WriteString("Assistant: ")
		}
		b.WriteString(t.text)
	}
	in.Prompt = b.String()
	return images, nil
}

// contentText returns the text of a message's content (a string, an
// array of parts, or null); text parts are joined by newlines. Image
// parts are appended to images, or refused when images is nil (images
// are input only where the user gives them).
func contentText(raw []byte, images *[]string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := decode(raw, &s); err != nil {
			return "", invalid("content: %v", err)
		}
		return s, nil
	}
	var parts []contentPart
	if err := decode(raw, &parts); err != nil {
		return "", invalid("content must be a string or an array of parts")
	}
	var b strings.Builder
	texts := 0
	for _, p := range parts {
		switch p.Type {
		case "text":
			if texts > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
			texts++
		case "image_url":
			if images == nil {
				return "", invalid("images are accepted in user messages only")
			}
			if p.ImageURL == nil || !isImageURL(p.ImageURL.URL) {
				return "", invalid("image_url must be an http(s) or data: URL")
			}
			*images = append(*images, p.ImageURL.URL)
		default:
			return "", invalid("content part type %q is not supported by Replicate models", p.Type)
		}
	}
	return b.String(), nil
}

// isImageURL reports whether u is a form Replicate accepts for a file
// input: an HTTP(S) URL it downloads, or a data URL.
func isImageURL(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "data:")
}

// Prediction statuses.
const (
	statusStarting   = "starting"
	statusProcessing = "processing"
	statusSucceeded  = "succeeded"
	statusFailed     = "failed"
	statusCanceled   = "canceled"
)

// predictionWire is the part of a prediction object the gateway reads.
type predictionWire struct {
	ID        string                 `json:"id"`
	Status    string                 `json:"status"`
	Output    sonic.NoCopyRawMessage `json:"output"`
	Error     sonic.NoCopyRawMessage `json:"error"`
	CreatedAt string                 `json:"created_at"`
	URLs      struct {
		Get    string `json:"get"`
		Stream string `json:"stream"`
	} `json:"urls"`
	// Metrics of official language models include the token counts;
	// other models report times only.
	Metrics struct {
		InputTokenCount  *float64 `json:"input_token_count"`
		OutputTokenCount *float64 `json:"output_token_count"`
	} `json:"metrics"`
}

// decodePrediction decodes a 2xx prediction answer.
func decodePrediction(body []byte) (*predictionWire, error) {
	if !openaiwire.IsObject(body) {
		return nil, fmt.Errorf("replicate: %w: not a json object", adaptors.ErrInvalidResponse)
	}
	var p predictionWire
	if err := decodeLenient(body, &p); err != nil {
		return nil, fmt.Errorf("replicate: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	return &p, nil
}

// usage converts the prediction's token counts; nil when the model
// reports none (the gateway then estimates).
func (p *predictionWire) usage() *adaptors.Usage {
	in, out := p.Metrics.InputTokenCount, p.Metrics.OutputTokenCount
	if in == nil && out == nil {
		return nil
	}
	u := &adaptors.Usage{}
	if in != nil {
		u.PromptTokens = count(*in)
	}
	if out != nil {
		u.CompletionTokens = count(*out)
	}
	if u.PromptTokens == 0 && u.CompletionTokens == 0 {
		return nil
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// count converts a reported count (a JSON number) to an int, refusing
// negative, fractional garbage and overflow by clamping.
func count(f float64) int {
	if !(f > 0) {
		return 0
	}
	return int(math.Round(min(f, math.MaxInt32)))
}

// predictionError is the client's error for a prediction that ended
// without output: failed (the model raised, or its input was refused
// after the prediction was created) or canceled. Both are upstream
// failures, not answers, and are not billed.
func predictionError(p *predictionWire) *schema.Error {
	if p.Status == statusCanceled {
		return &schema.Error{Status: 500, Type: typeServer, Code: "prediction_canceled",
			Message: "replicate: prediction " + p.ID + " was canceled"}
	}
	msg := "replicate: prediction " + p.ID + " failed"
	if t := openaiwire.Text(p.Error); t != "" {
		msg += ": " + t
	}
	return &schema.Error{Status: 500, Type: typeServer, Code: "prediction_failed", Message: msg}
}

// completion is OpenAI's chat.completion. Field order is OpenAI's.
type completion struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []choice      `json:"choices"`
	Usage   *schema.Usage `json:"usage,omitempty"`
}

type choice struct {
	Index        int     `json:"index"`
	Message      message `json:"message"`
	FinishReason string  `json:"finish_reason"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// parseResponse converts the final prediction. Only a succeeded
// prediction is an answer: a failed or canceled one is its error, and an
// unfinished one (the transport stopped polling) is not a response.
// Replicate does not say why generation stopped, so finish_reason is
// always "stop".
func parseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	p, err := decodePrediction(body)
	if err != nil {
		return nil, err
	}
	switch p.Status {
	case statusSucceeded:
	case statusFailed, statusCanceled:
		return nil, predictionError(p)
	default:
		return nil, fmt.Errorf("replicate: %w: prediction status %q is not final", adaptors.ErrInvalidResponse, p.Status)
	}
	content, err := outputText(p.Output)
	if err != nil {
		return nil, err
	}
	u := p.usage()
	out := completion{
		ID:      p.ID,
		Object:  "chat.completion",
		Created: createdAt(p.CreatedAt, req.Created),
		Model:   req.OriginModel,
		Choices: []choice{{Message: message{Role: "assistant", Content: content}, FinishReason: "stop"}},
	}
	if u != nil {
		w := u.Schema()
		out.Usage = &w
	}
	return &adaptors.Response{Body: marshal(&out), Usage: u}, nil
}

// createdAt returns the Unix time of an RFC 3339 timestamp, or def.
func createdAt(ts string, def int64) int64 {
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		return t.Unix()
	}
	return def
}

// outputText renders a prediction's output as message text. Language
// models output an array of tokens (joined) or a string; null is empty;
// anything else (a file URL list, an object) is spelled out, strings as
// they are and other values as compact JSON.
func outputText(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := decode(raw, &s); err != nil {
			return "", fmt.Errorf("replicate: %w: output: %v", adaptors.ErrInvalidResponse, err)
		}
		return s, nil
	case '[':
		// Language models: an array of string tokens.
		var tokens []string
		if decode(raw, &tokens) == nil {
			return strings.Join(tokens, ""), nil
		}
		var items []sonic.NoCopyRawMessage
		if err := decode(raw, &items); err != nil {
			return "", fmt.Errorf("replicate: %w: output: %v", adaptors.ErrInvalidResponse, err)
		}
		var b strings.Builder
		for _, it := range items {
			if len(it) > 0 && it[0] == '"' {
				var s string
				if decode(it, &s) == nil {
					b.WriteString(s)
					continue
				}
			}
			if openaiwire.IsPresent(it) {
				b.Write(it)
			}
		}
		return b.String(), nil
	}
	return string(raw), nil
}

// itoa is strconv.FormatInt for the ids built here.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
