package anthropic

import "strings"

// thinkingMode is how a model family is asked to reason.
type thinkingMode uint8

const (
	// thinkingNone: the model has no extended thinking (Claude 3.5 and
	// older); reasoning_effort is dropped.
	thinkingNone thinkingMode = iota
	// thinkingBudget: manual extended thinking, {"type":"enabled",
	// "budget_tokens":N} (Claude 3.7 Sonnet to the 4.6 models; deprecated
	// on 4.6 but still accepted).
	thinkingBudget
	// thinkingAdaptive: {"type":"adaptive"} with output_config.effort
	// (Claude Opus 4.7 and every later model, which answer 400 to
	// "enabled").
	thinkingAdaptive
)

// modelInfo is what the request builder must know about a model family.
type modelInfo struct {
	// maxOutput is the model's documented output limit ("Max output" in
	// Anthropic's models overview), the default max_tokens and the cap
	// put on a larger client value.
	maxOutput int
	thinking  thinkingMode
	// noSampling: the model answers 400 to a non-default temperature,
	// top_p or top_k (Opus 4.7 and later), so they are left out.
	noSampling bool
	// oneSampler: the model refuses temperature and top_p together
	// ("cannot both be specified for this model"); top_p is left out.
	oneSampler bool
	// thinksAlways: thinking is on by default or cannot be turned off,
	// which the API does not allow with a forced tool_choice (any or
	// tool): a forced choice becomes auto.
	thinksAlways bool
}

// modelFamily maps a model id prefix to its facts. The table is ordered
// so that the first matching prefix is the most specific one
// ("claude-opus-4-5" before "claude-opus-4").
type modelFamily struct {
	prefix string
	info   modelInfo
}

// modelTable lists the Claude families with their documented limits
// (https://docs.anthropic.com/en/docs/about-claude/models/overview and
// each model's page, November 2026). Ids are matched from their
// "claude-" part, so Bedrock ("anthropic.claude-opus-4-6-v1",
// "us.anthropic.claude-…") and Vertex ("claude-opus-4-6@…") ids find the
// same row. Models not listed (fine-tunes, future ids, custom names)
// get defaultMaxTokens and budget thinking.
var modelTable = [...]modelFamily{
	// The adaptive generation: 128K output, no sampling parameters,
	// adaptive-only thinking.
	{"claude-fable-5", modelInfo{maxOutput: 128000, thinking: thinkingAdaptive, noSampling: true, thinksAlways: true}},
	{"claude-mythos-5", modelInfo{maxOutput: 128000, thinking: thinkingAdaptive, noSampling: true, thinksAlways: true}},
	{"claude-opus-5", modelInfo{maxOutput: 128000, thinking: thinkingAdaptive, noSampling: true, thinksAlways: true}},
	{"claude-sonnet-5", modelInfo{maxOutput: 128000, thinking: thinkingAdaptive, noSampling: true, thinksAlways: true}},
	{"claude-haiku-5", modelInfo{maxOutput: 128000, thinking: thinkingAdaptive, noSampling: true}},
	{"claude-opus-4-8", modelInfo{maxOutput: 128000, thinking: thinkingAdaptive, noSampling: true}},
	{"claude-opus-4-7", modelInfo{maxOutput: 128000, thinking: thinkingAdaptive, noSampling: true}},
	// Claude 4.x with manual extended thinking.
	{"claude-opus-4-6", modelInfo{maxOutput: 128000, thinking: thinkingBudget, oneSampler: true}},
	{"claude-sonnet-4-6", modelInfo{maxOutput: 64000, thinking: thinkingBudget, oneSampler: true}},
	{"claude-opus-4-5", modelInfo{maxOutput: 64000, thinking: thinkingBudget, oneSampler: true}},
	{"claude-sonnet-4-5", modelInfo{maxOutput: 64000, thinking: thinkingBudget, oneSampler: true}},
	{"claude-haiku-4-5", modelInfo{maxOutput: 64000, thinking: thinkingBudget, oneSampler: true}},
	{"claude-opus-4-1", modelInfo{maxOutput: 32000, thinking: thinkingBudget, oneSampler: true}},
	{"claude-opus-4", modelInfo{maxOutput: 32000, thinking: thinkingBudget}},
	{"claude-sonnet-4", modelInfo{maxOutput: 64000, thinking: thinkingBudget}},
	{"claude-3-7-sonnet", modelInfo{maxOutput: 64000, thinking: thinkingBudget}},
	// Claude 3.x: no extended thinking.
	{"claude-3-5-sonnet", modelInfo{maxOutput: 8192}},
	{"claude-3-5-haiku", modelInfo{maxOutput: 8192}},
	{"claude-3-opus", modelInfo{maxOutput: 4096}},
	{"claude-3-sonnet", modelInfo{maxOutput: 4096}},
	{"claude-3-haiku", modelInfo{maxOutput: 4096}},
}

// defaultMaxTokens is max_tokens for a model the table does not know and
// a request that names none, as One API sends.
const defaultMaxTokens = 4096

// lookupModel returns the facts for model, and false when the table does
// not know it.
func lookupModel(model string) (modelInfo, bool) {
	if i := strings.Index(model, "claude-"); i > 0 {
		model = model[i:]
	}
	for i := range modelTable {
		if strings.HasPrefix(model, modelTable[i].prefix) {
			return modelTable[i].info, true
		}
	}
	return modelInfo{thinking: thinkingBudget}, false
}

// Models returns the model ids a new Anthropic channel offers by default:
// the current models of the Claude API (aliases, which follow the latest
// snapshot) and the older ones still served, newest first, as the
// official SDK lists them (anthropic-sdk-go v2.15.0, November 2026). The
// slice is new on each call.
func Models() []string {
	return []string{
		"claude-fable-5-2",
		"claude-opus-5-5",
		"claude-sonnet-5-5",
		"claude-haiku-5-5",
		"claude-fable-5-1",
		"claude-sonnet-5",
		"claude-fable-5",
		"claude-opus-5",
		"claude-opus-4-8",
		"claude-opus-4-7",
		"claude-opus-4-6",
		"claude-sonnet-4-6",
		"claude-haiku-4-5",
		"claude-haiku-4-5-20251001",
		"claude-opus-4-5",
		"claude-opus-4-5-20251101",
		"claude-sonnet-4-5",
		"claude-sonnet-4-5-20250929",
	}
}
