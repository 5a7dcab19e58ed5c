package vertex

import (
	"strconv"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/anthropic"
)

// Claude on Vertex AI
// (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude)
// takes the Claude API's Messages body with two differences: the model is
// in the URL, not the body, and the body carries anthropic_version
// "vertex-2023-10-16" (no anthropic-version header). rawPredict answers
// with a Message, streamRawPredict with the Claude API's server-sent
// events; "stream": true stays in the body of a streamed request, as
// Anthropic's SDKs send it, and no ?alt=sse is added.

// AnthropicVersion is the anthropic_version Vertex AI requires in Claude
// bodies.
const AnthropicVersion = "vertex-2023-10-16"

// claudeBody builds the rawPredict / streamRawPredict body for req.
func claudeBody(ch *adaptors.Channel, req *adaptors.Request) ([]byte, error) {
	return anthropic.BuildBody(req, anthropic.BodyOptions{
		Version:   AnthropicVersion,
		OmitModel: true,
		MaxTokens: configInt(ch.Config[ConfigMaxTokens]),
	})
}

// configInt reads a positive integer setting; 0 when unset or invalid.
func configInt(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// betas joins the client's anthropic-beta header values (the transport
// passes them through), sent on as the same header, as Anthropic's SDKs
// do with Vertex AI.
func betas(req *adaptors.Request) string {
	var list []string
	for _, h := range req.Passthrough {
		if !strings.EqualFold(h.Key, "anthropic-beta") {
			continue
		}
		for v := range strings.SplitSeq(h.Value, ",") {
			if v = strings.TrimSpace(v); v != "" && !contains(list, v) {
				list = append(list, v)
			}
		}
	}
	return strings.Join(list, ",")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// claudeIDs maps the names the Claude API (and One API channels) use to
// Vertex AI model ids, from Google's "Request predictions with Claude
// models" list and Anthropic's "Claude on Vertex AI" table: dated
// versions are written with "@" ("claude-sonnet-4@20250514"), Claude 3.5
// Sonnet's second version is "claude-3-5-sonnet-v2@20241022", and the 4.6
// models have undated ids ("claude-opus-4-6"). listed rows are the
// default model list (Models), newest first; the others are the Claude
// API's undated aliases of listed models.
var claudeIDs = [...]struct {
	name, id string
	listed   bool
}{
	{"claude-opus-4-6", "claude-opus-4-6", true},
	{"claude-sonnet-4-6", "claude-sonnet-4-6", true},
	{"claude-opus-4-5-20251101", "claude-opus-4-5@20251101", true},
	{"claude-haiku-4-5-20251001", "claude-haiku-4-5@20251001", true},
	{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5@20250929", true},
	{"claude-opus-4-1-20250805", "claude-opus-4-1@20250805", true},
	{"claude-opus-4-20250514", "claude-opus-4@20250514", true},
	{"claude-sonnet-4-20250514", "claude-sonnet-4@20250514", true},
	{"claude-3-7-sonnet-20250219", "claude-3-7-sonnet@20250219", true},
	{"claude-3-5-haiku-20241022", "claude-3-5-haiku@20241022", true},
	{"claude-3-5-sonnet-20241022", "claude-3-5-sonnet-v2@20241022", false},
	{"claude-3-5-sonnet-20240620", "claude-3-5-sonnet@20240620", false},
	{"claude-3-opus-20240229", "claude-3-opus@20240229", false},
	{"claude-3-haiku-20240307", "claude-3-haiku@20240307", false},
	// The Claude API's aliases of the dated models above.
	{"claude-opus-4-5", "claude-opus-4-5@20251101", false},
	{"claude-haiku-4-5", "claude-haiku-4-5@20251001", false},
	{"claude-sonnet-4-5", "claude-sonnet-4-5@20250929", false},
	{"claude-opus-4-1", "claude-opus-4-1@20250805", false},
	{"claude-opus-4-0", "claude-opus-4@20250514", false},
	{"claude-sonnet-4-0", "claude-sonnet-4@20250514", false},
	{"claude-3-7-sonnet-latest", "claude-3-7-sonnet@20250219", false},
	{"claude-3-5-haiku-latest", "claude-3-5-haiku@20241022", false},
	{"claude-3-5-sonnet-latest", "claude-3-5-sonnet-v2@20241022", false},
}

// ModelID returns the Vertex AI id of a model name: a name containing
// "@" (already a Vertex AI id) and any non-Claude name unchanged; a
// Claude API name from the table its id
// ("claude-3-5-sonnet-20241022" → "claude-3-5-sonnet-v2@20241022",
// "claude-sonnet-4-5" → "claude-sonnet-4-5@20250929"); any other Claude
// name ending in an 8-digit date with "@" before the date
// ("claude-x-20260101" → "claude-x@20260101"); other names unchanged
// ("claude-opus-4-6"). Safe for concurrent use.
func ModelID(name string) string {
	if !isClaude(name) || strings.Contains(name, "@") {
		return name
	}
	for _, m := range claudeIDs {
		if m.name == name {
			return m.id
		}
	}
	if i := len(name) - 9; i > 0 && name[i] == '-' && allDigits(name[i+1:]) {
		return name[:i] + "@" + name[i+1:]
	}
	return name
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
