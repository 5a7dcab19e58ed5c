package bedrock

import "strings"

// modelIDs maps the model names One API channels use (and the Claude API's
// own names) to Bedrock base model ids, as listed in "Supported foundation
// models in Amazon Bedrock" / "Amazon Bedrock model IDs"
// (https://docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html)
// and Anthropic's "Claude on Amazon Bedrock" model table. Names are in
// Models order; ids a name does not list pass through unchanged.
var modelIDs = [...]struct{ name, id string }{
	// Anthropic Claude (InvokeModel with the Messages body).
	{"claude-opus-4-6", "anthropic.claude-opus-4-6-v1"},
	{"claude-sonnet-4-6", "anthropic.claude-sonnet-4-6"},
	{"claude-opus-4-5-20251101", "anthropic.claude-opus-4-5-20251101-v1:0"},
	{"claude-haiku-4-5-20251001", "anthropic.claude-haiku-4-5-20251001-v1:0"},
	{"claude-sonnet-4-5-20250929", "anthropic.claude-sonnet-4-5-20250929-v1:0"},
	{"claude-opus-4-1-20250805", "anthropic.claude-opus-4-1-20250805-v1:0"},
	{"claude-opus-4-20250514", "anthropic.claude-opus-4-20250514-v1:0"},
	{"claude-sonnet-4-20250514", "anthropic.claude-sonnet-4-20250514-v1:0"},
	{"claude-3-7-sonnet-20250219", "anthropic.claude-3-7-sonnet-20250219-v1:0"},
	{"claude-3-5-haiku-20241022", "anthropic.claude-3-5-haiku-20241022-v1:0"},
	{"claude-3-5-sonnet-20241022", "anthropic.claude-3-5-sonnet-20241022-v2:0"},
	{"claude-3-5-sonnet-20240620", "anthropic.claude-3-5-sonnet-20240620-v1:0"},
	{"claude-3-opus-20240229", "anthropic.claude-3-opus-20240229-v1:0"},
	{"claude-3-sonnet-20240229", "anthropic.claude-3-sonnet-20240229-v1:0"},
	{"claude-3-haiku-20240307", "anthropic.claude-3-haiku-20240307-v1:0"},
	// The Claude API's undated aliases of the models above.
	{"claude-opus-4-5", "anthropic.claude-opus-4-5-20251101-v1:0"},
	{"claude-haiku-4-5", "anthropic.claude-haiku-4-5-20251001-v1:0"},
	{"claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0"},
	{"claude-opus-4-1", "anthropic.claude-opus-4-1-20250805-v1:0"},
	// Meta Llama 3 under One API's names.
	{"llama3-8b-8192", "meta.llama3-8b-instruct-v1:0"},
	{"llama3-70b-8192", "meta.llama3-70b-instruct-v1:0"},
	// Models served through Converse, listed under their Bedrock ids
	// (they have no other established names): Amazon Nova, Meta Llama,
	// Mistral AI, Cohere Command R, and DeepSeek-R1 (through its us.
	// inference profile, the only way Bedrock serves it on demand).
	{"amazon.nova-premier-v1:0", "amazon.nova-premier-v1:0"},
	{"amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"},
	{"amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0"},
	{"amazon.nova-micro-v1:0", "amazon.nova-micro-v1:0"},
	{"meta.llama4-maverick-17b-instruct-v1:0", "meta.llama4-maverick-17b-instruct-v1:0"},
	{"meta.llama4-scout-17b-instruct-v1:0", "meta.llama4-scout-17b-instruct-v1:0"},
	{"meta.llama3-3-70b-instruct-v1:0", "meta.llama3-3-70b-instruct-v1:0"},
	{"meta.llama3-2-90b-instruct-v1:0", "meta.llama3-2-90b-instruct-v1:0"},
	{"meta.llama3-2-11b-instruct-v1:0", "meta.llama3-2-11b-instruct-v1:0"},
	{"meta.llama3-2-3b-instruct-v1:0", "meta.llama3-2-3b-instruct-v1:0"},
	{"meta.llama3-2-1b-instruct-v1:0", "meta.llama3-2-1b-instruct-v1:0"},
	{"meta.llama3-1-405b-instruct-v1:0", "meta.llama3-1-405b-instruct-v1:0"},
	{"meta.llama3-1-70b-instruct-v1:0", "meta.llama3-1-70b-instruct-v1:0"},
	{"meta.llama3-1-8b-instruct-v1:0", "meta.llama3-1-8b-instruct-v1:0"},
	{"mistral.pixtral-large-2502-v1:0", "mistral.pixtral-large-2502-v1:0"},
	{"mistral.mistral-large-2407-v1:0", "mistral.mistral-large-2407-v1:0"},
	{"mistral.mistral-large-2402-v1:0", "mistral.mistral-large-2402-v1:0"},
	{"mistral.mistral-small-2402-v1:0", "mistral.mistral-small-2402-v1:0"},
	{"mistral.mixtral-8x7b-instruct-v0:1", "mistral.mixtral-8x7b-instruct-v0:1"},
	{"mistral.mistral-7b-instruct-v0:2", "mistral.mistral-7b-instruct-v0:2"},
	{"cohere.command-r-plus-v1:0", "cohere.command-r-plus-v1:0"},
	{"cohere.command-r-v1:0", "cohere.command-r-v1:0"},
	{"us.deepseek.r1-v1:0", "us.deepseek.r1-v1:0"},
}

// Models returns the model names a new Bedrock channel offers by default,
// newest Claude first. The slice is new on each call.
func Models() []string {
	out := make([]string, 0, len(modelIDs))
	for _, m := range modelIDs {
		out = append(out, m.name)
	}
	return out
}

// ModelID returns the Bedrock model id for name: the table's id for a
// known name, else name itself, so raw Bedrock ids
// ("anthropic.claude-3-haiku-20240307-v1:0"), cross-region inference
// profile ids ("us.…", "eu.…", "apac.…", "global.…") and ARNs pass
// through unchanged. Safe for concurrent use.
func ModelID(name string) string {
	for _, m := range modelIDs {
		if m.name == name {
			return m.id
		}
	}
	return name
}

// isClaude reports whether a Bedrock model id (or inference profile id or
// ARN) names an Anthropic Claude model, which Bedrock serves through
// InvokeModel with the Anthropic Messages body.
func isClaude(id string) bool {
	return strings.Contains(id, "anthropic.claude")
}
