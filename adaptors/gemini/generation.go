package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// harmCategories are the adjustable categories of the Gemini API
// (https://ai.google.dev/gemini-api/docs/safety-settings); civic
// integrity is deprecated and left out.
func harmCategories() [4]string {
	return [...]string{
		"HARM_CATEGORY_HARASSMENT",
		"HARM_CATEGORY_HATE_SPEECH",
		"HARM_CATEGORY_SEXUALLY_EXPLICIT",
		"HARM_CATEGORY_DANGEROUS_CONTENT",
	}
}

// BodyOptions are the channel settings that shape a generateContent body.
// The zero value leaves every setting to Google's defaults.
type BodyOptions struct {
	// SafetyThreshold, when set, is sent as the threshold of every harm
	// category in safetySettings: one of BLOCK_NONE, BLOCK_ONLY_HIGH,
	// BLOCK_MEDIUM_AND_ABOVE, BLOCK_LOW_AND_ABOVE, OFF. Empty (the
	// default) sends no safetySettings: Google's per-model defaults apply.
	SafetyThreshold string
}

// ChannelBodyOptions reads BodyOptions from the channel config
// (ConfigSafetySettings). An unknown threshold is an error: the channel
// is misconfigured, and sending it would fail every request.
func ChannelBodyOptions(ch *adaptors.Channel) (BodyOptions, error) {
	t := strings.ToUpper(strings.TrimSpace(ch.Config[ConfigSafetySettings]))
	switch t {
	case "", "BLOCK_NONE", "BLOCK_ONLY_HIGH", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_LOW_AND_ABOVE", "OFF":
		return BodyOptions{SafetyThreshold: t}, nil
	}
	return BodyOptions{}, fmt.Errorf("gemini: channel config %s %q is not a HarmBlockThreshold", ConfigSafetySettings, t)
}

// generationConfig maps the sampling and output options; nil when the
// client set none.
func generationConfig(in *oaRequest, model string) (*upGenerationConfig, error) {
	gc := upGenerationConfig{
		Temperature:      in.Temperature,
		TopP:             in.TopP,
		TopK:             in.TopK,
		Seed:             in.Seed,
		PresencePenalty:  in.PresencePenalty,
		FrequencyPenalty: in.FrequencyPenalty,
	}
	switch {
	case in.MaxCompletionTokens != nil:
		gc.MaxOutputTokens = *in.MaxCompletionTokens
	case in.MaxTokens != nil:
		gc.MaxOutputTokens = *in.MaxTokens
	}
	if gc.MaxOutputTokens < 0 {
		return nil, invalidBody("max_tokens: must be positive")
	}
	if in.N != nil && *in.N > 1 {
		gc.CandidateCount = *in.N
	}
	stop, err := stopSequences(in.Stop)
	if err != nil {
		return nil, err
	}
	gc.StopSequences = stop
	if rf := in.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text":
		case "json_object":
			gc.ResponseMimeType = "application/json"
		case "json_schema":
			gc.ResponseMimeType = "application/json"
			if rf.JSONSchema != nil && isPresent(rf.JSONSchema.Schema) {
				if !openaiwire.IsObject(rf.JSONSchema.Schema) {
					return nil, invalidBody("response_format.json_schema.schema: must be an object")
				}
				gc.ResponseJSONSchema = withoutSchemaURI(rf.JSONSchema.Schema)
			}
		default:
			return nil, invalidBody("response_format.type: unknown type %q", rf.Type)
		}
	}
	if in.ReasoningEffort != "" {
		tc, err := thinkingFor(in.ReasoningEffort, model)
		if err != nil {
			return nil, err
		}
		gc.ThinkingConfig = tc
	}
	if isZeroConfig(&gc) {
		return nil, nil
	}
	return &gc, nil
}

func isZeroConfig(gc *upGenerationConfig) bool {
	return gc.StopSequences == nil && gc.ResponseMimeType == "" && gc.ResponseJSONSchema == nil &&
		gc.CandidateCount == 0 && gc.MaxOutputTokens == 0 && gc.Temperature == nil && gc.TopP == nil &&
		gc.TopK == nil && gc.Seed == nil && gc.PresencePenalty == nil && gc.FrequencyPenalty == nil &&
		gc.ThinkingConfig == nil
}

// stopSequences reads stop as a string or an array of strings; empty
// strings are dropped.
func stopSequences(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if !isPresent(raw) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("stop: %v", err)
		}
		list = []string{s}
	} else if err := openaiwire.API.Unmarshal(raw, &list); err != nil {
		return nil, invalidBody("stop: must be a string or an array of strings")
	}
	list = slices.DeleteFunc(list, func(s string) bool { return s == "" })
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// Thinking budgets for reasoning_effort, Google's own mapping for its
// OpenAI-compatible endpoint (https://ai.google.dev/gemini-api/docs/openai):
// low 1024, medium 8192, high 24576 tokens (xhigh, OpenAI's newest level,
// is high: Gemini 2.5 Flash allows no more). "none" and "minimal" switch
// thinking off (budget 0), except on models that cannot (Gemini 2.5 Pro,
// every Gemini 3 model: names containing "-pro" or starting with
// "gemini-3"), which get their smallest budget, 128. Gemini 3 models take
// thinkingBudget for backward compatibility alongside their own
// thinkingLevel.
const (
	effortLow     = 1024
	effortMedium  = 8192
	effortHigh    = 24576
	effortMinimum = 128
)

// thinkingFor returns the thinkingConfig for a reasoning_effort.
// includeThoughts is set whenever the model thinks, so that its thought
// summaries come back (as reasoning_content).
func thinkingFor(effort, model string) (*upThinkingConfig, error) {
	budget := 0
	switch effort {
	case "none", "minimal":
		m := strings.TrimPrefix(model, "models/")
		if strings.Contains(m, "-pro") || strings.HasPrefix(m, "gemini-3") {
			budget = effortMinimum
		}
	case "low":
		budget = effortLow
	case "medium":
		budget = effortMedium
	case "high", "xhigh":
		budget = effortHigh
	default:
		return nil, invalidBody("reasoning_effort: unknown value %q", effort)
	}
	return &upThinkingConfig{IncludeThoughts: budget > 0, ThinkingBudget: &budget}, nil
}
