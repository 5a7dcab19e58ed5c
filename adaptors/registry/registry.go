// Package registry maps One API channel type numbers to adaptors. It is
// built explicitly by New (no init-time registration): the rows are
// OpenAI itself plus every row of openaicompat, and later providers
// (Anthropic, Gemini, …) are added here, one line each.
//
// A Registry is immutable after New and safe for concurrent use. Row
// fields (including the Models slices) are shared and must be treated as
// read-only.
package registry

import (
	"slices"

	"switchyard/adaptors"
	"switchyard/adaptors/ali"
	"switchyard/adaptors/anthropic"
	"switchyard/adaptors/azure"
	"switchyard/adaptors/baidu"
	"switchyard/adaptors/bedrock"
	"switchyard/adaptors/cloudflare"
	"switchyard/adaptors/cohere"
	"switchyard/adaptors/gemini"
	"switchyard/adaptors/ollama"
	"switchyard/adaptors/openai"
	"switchyard/adaptors/openaicompat"
	"switchyard/adaptors/replicate"
	"switchyard/adaptors/tencent"
	"switchyard/adaptors/vertex"
	"switchyard/adaptors/xunfei"
	"switchyard/adaptors/zhipu"
)

// TypeOpenAI is OpenAI's One API channel type.
const TypeOpenAI = 1

// Row is one provider.
type Row struct {
	// Type is the One API channel type number.
	Type int
	// Name is the display name.
	Name string
	// DefaultBaseURL is used when a channel sets none; empty means the
	// channel must set one.
	DefaultBaseURL string
	// Models is the default model list for new channels of this type.
	Models []string
	// Adaptor translates for this provider; it is shared by every channel
	// of the type.
	Adaptor adaptors.Adaptor
}

// Registry is the set of rows, indexed by type.
type Registry struct {
	rows   []Row       // sorted by Type
	byType map[int]int // Type → index in rows
}

// openAIModels is One API's default OpenAI list, restricted to the modes
// the spine serves (chat, completions, embeddings).
func openAIModels() []string {
	return []string{
		"gpt-4o", "gpt-4o-2024-11-20", "gpt-4o-2024-08-06", "gpt-4o-mini", "chatgpt-4o-latest",
		"o1", "o1-mini", "o3-mini",
		"gpt-4-turbo", "gpt-4", "gpt-3.5-turbo", "gpt-3.5-turbo-instruct",
		"text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
	}
}

// New builds the registry. Call it once at startup and share the result.
func New() *Registry {
	rows := []Row{{
		Type:           TypeOpenAI,
		Name:           "OpenAI",
		DefaultBaseURL: openai.DefaultBaseURL,
		Models:         openAIModels(),
		Adaptor:        openai.New(openai.OpenAIConfig()),
	}}
	rows = append(rows, providerRows()...)
	for _, v := range openaicompat.Vendors() {
		rows = append(rows, Row{
			Type:           v.Type,
			Name:           v.Name,
			DefaultBaseURL: v.Config.BaseURL,
			Models:         v.Models,
			Adaptor:        v.New(),
		})
	}
	slices.SortFunc(rows, func(a, b Row) int { return a.Type - b.Type })
	r := &Registry{rows: rows, byType: make(map[int]int, len(rows))}
	for i, row := range rows {
		if _, dup := r.byType[row.Type]; dup {
			panic("registry: duplicate channel type") // a programming error in the tables
		}
		r.byType[row.Type] = i
	}
	return r
}

// providerRows are the providers whose wire format or endpoints are not
// plain OpenAI's: each has its own package (its conformance suite runs
// there, with its own fixtures).
func providerRows() []Row {
	return []Row{
		{Type: 14, Name: "Anthropic", DefaultBaseURL: anthropic.DefaultBaseURL, Models: anthropic.Models(), Adaptor: anthropic.New()},
		{Type: azure.ChannelType, Name: "Azure", DefaultBaseURL: azure.DefaultBaseURL, Models: azure.Models(), Adaptor: azure.New()},
		{Type: baidu.ChannelType, Name: "Baidu", DefaultBaseURL: baidu.DefaultBaseURL, Models: baidu.Models(), Adaptor: baidu.New()},
		{Type: 16, Name: "Zhipu", DefaultBaseURL: zhipu.DefaultBaseURL, Models: zhipu.Models(), Adaptor: zhipu.New()},
		{Type: ali.ChannelType, Name: "Ali", DefaultBaseURL: ali.DefaultBaseURL, Models: ali.Models(), Adaptor: ali.New()},
		{Type: 18, Name: "Xunfei", DefaultBaseURL: xunfei.DefaultBaseURL, Models: xunfei.Models(), Adaptor: xunfei.New()},
		{Type: 23, Name: "Tencent", DefaultBaseURL: tencent.DefaultBaseURL, Models: tencent.Models(), Adaptor: tencent.New(tencent.Options{})},
		{Type: 24, Name: "Gemini", DefaultBaseURL: gemini.DefaultBaseURL, Models: gemini.Models(), Adaptor: gemini.New()},
		{Type: 30, Name: "Ollama", DefaultBaseURL: ollama.DefaultBaseURL, Models: ollama.Models(), Adaptor: ollama.New()},
		{Type: 33, Name: "AwsClaude", DefaultBaseURL: bedrock.DefaultBaseURL, Models: bedrock.Models(), Adaptor: bedrock.New(bedrock.Options{})},
		{Type: 35, Name: "Cohere", DefaultBaseURL: cohere.DefaultBaseURL, Models: cohere.Models(), Adaptor: cohere.New()},
		{Type: 42, Name: "VertexAI", DefaultBaseURL: vertex.DefaultBaseURL, Models: vertex.Models(), Adaptor: vertex.New()},
		{Type: 46, Name: "Replicate", DefaultBaseURL: replicate.DefaultBaseURL, Models: replicate.Models(), Adaptor: replicate.New()},
		{Type: baidu.V2ChannelType, Name: "BaiduV2", DefaultBaseURL: baidu.V2DefaultBaseURL, Models: baidu.V2Models(), Adaptor: baidu.NewV2()},
		{Type: ali.BailianChannelType, Name: "AliBailian", DefaultBaseURL: ali.DefaultBaseURL, Models: ali.Models(), Adaptor: ali.NewBailian()},
		{Type: cloudflare.ChannelType, Name: "Cloudflare", DefaultBaseURL: cloudflare.DefaultBaseURL, Models: cloudflare.Models(), Adaptor: cloudflare.New()},
	}
}

// OwnDialect reports whether a channel type speaks a wire format of its
// own (or OpenAI's at endpoints of its own), so that OpenAI's fixtures do
// not describe it.
func OwnDialect(channelType int) bool {
	for _, r := range providerRows() {
		if r.Type == channelType {
			return true
		}
	}
	return false
}

// Lookup returns the row of a channel type.
func (r *Registry) Lookup(channelType int) (Row, bool) {
	i, ok := r.byType[channelType]
	if !ok {
		return Row{}, false
	}
	return r.rows[i], true
}

// Rows returns every row sorted by type (a new slice; the rows' fields are
// shared).
func (r *Registry) Rows() []Row {
	return slices.Clone(r.rows)
}

// ChannelTypeName names any One API channel type, implemented or not (for
// the admin UI and database import), and Switchyard's own types (≥ 100).
// Unknown numbers are "Unknown".
func ChannelTypeName(channelType int) string {
	// One API's relay/channeltype/define.go, in order.
	names := [...]string{
		"Unknown", "OpenAI", "API2D", "Azure", "CloseAI", "OpenAI-SB", "OpenAIMax", "OhMyGPT", "Custom",
		"Ails", "AIProxy", "PaLM", "API2GPT", "AIGC2D", "Anthropic", "Baidu", "Zhipu", "Ali", "Xunfei",
		"360", "OpenRouter", "AIProxyLibrary", "FastGPT", "Tencent", "Gemini", "Moonshot", "Baichuan",
		"MiniMax", "Mistral", "Groq", "Ollama", "LingYiWanWu", "StepFun", "AwsClaude", "Coze", "Cohere",
		"DeepSeek", "Cloudflare", "DeepL", "Together", "Doubao", "Novita", "VertexAI", "Proxy",
		"SiliconFlow", "xAI", "Replicate", "BaiduV2", "XunfeiV2", "AliBailian", "OpenAICompatible",
		"GeminiOpenAICompatible",
	}
	switch {
	case channelType >= 0 && channelType < len(names):
		return names[channelType]
	case channelType == openaicompat.TypePerplexity:
		return "Perplexity"
	}
	return "Unknown"
}
