package openaicompat

import (
	"switchyard/adaptors"
	"switchyard/adaptors/openai"
)

// Vendor is one row of the table.
type Vendor struct {
	// Type is the One API channel type number.
	Type int
	// Name is the display name (as One API shows it).
	Name string
	// Config parameterises the openai adaptor for this vendor; its BaseURL
	// is the vendor's default base URL.
	Config openai.Config
	// Models is the default model list offered when an operator creates a
	// channel of this type (One API's per-vendor lists; the upstream's own
	// list, where it has one, comes from the ModelLister capability).
	Models []string
	// Docs is the vendor's API reference.
	Docs string
}

// Type numbers of the rows, for callers that need one by name.
const (
	TypeCustom      = 8
	TypeOpenRouter  = 20
	TypeMoonshot    = 25
	TypeBaichuan    = 26
	TypeMiniMax     = 27
	TypeMistral     = 28
	TypeGroq        = 29
	TypeLingYiWanWu = 31
	TypeDeepSeek    = 36
	TypeTogether    = 39
	TypeDoubao      = 40
	TypeSiliconFlow = 44
	TypeXAI         = 45
	// TypePerplexity is Switchyard's number: One API has none (new-api
	// uses 27, which is MiniMax in One API). 100 starts the range reserved
	// for types One API does not define.
	TypePerplexity = 100
)

// The OpenAI paths most vendors serve under their base URL.
const (
	chatPath        = "/v1/chat/completions"
	completionsPath = "/v1/completions"
	embeddingsPath  = "/v1/embeddings"
	modelsPath      = "/v1/models"
)

// Vendors returns the table, sorted by type. It builds a fresh slice on
// every call (the package holds no state); callers build their registry
// once at startup.
func Vendors() []Vendor {
	return []Vendor{
		{
			Type: TypeCustom, Name: "Custom",
			Config: openai.Config{
				Name: "custom", ChatPath: chatPath, CompletionsPath: completionsPath, EmbeddingsPath: embeddingsPath,
				ModelsPath: modelsPath, Balance: openai.DashboardBalance{},
			},
			Docs: "https://platform.openai.com/docs/api-reference",
		},
		{
			Type: TypeOpenRouter, Name: "OpenRouter",
			Config: openai.Config{
				Name: "openrouter", BaseURL: "https://openrouter.ai/api",
				ChatPath: chatPath, CompletionsPath: completionsPath, ModelsPath: modelsPath,
				ConfigHeaders: []openai.ConfigHeader{
					{Key: "http_referer", Header: "HTTP-Referer"},
					{Key: "x_title", Header: "X-Title"},
				},
				Balance: openRouterCredits{},
			},
			Models: []string{"openai/gpt-4o", "openai/gpt-4o-mini", "anthropic/claude-3.5-sonnet", "google/gemini-2.0-flash-001", "deepseek/deepseek-r1", "meta-llama/llama-3.3-70b-instruct", "openrouter/auto"},
			Docs:   "https://openrouter.ai/docs/api-reference/overview",
		},
		{
			Type: TypeMoonshot, Name: "Moonshot",
			Config: openai.Config{Name: "moonshot", BaseURL: "https://api.moonshot.cn", ChatPath: chatPath, ModelsPath: modelsPath},
			Models: []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"},
			Docs:   "https://platform.moonshot.cn/docs/api/chat",
		},
		{
			Type: TypeBaichuan, Name: "Baichuan",
			Config: openai.Config{Name: "baichuan", BaseURL: "https://api.baichuan-ai.com", ChatPath: chatPath, EmbeddingsPath: embeddingsPath},
			Models: []string{"Baichuan2-Turbo", "Baichuan2-Turbo-192k", "Baichuan-Text-Embedding"},
			Docs:   "https://platform.baichuan-ai.com/docs/api",
		},
		{
			Type: TypeMiniMax, Name: "MiniMax",
			Config: openai.Config{Name: "minimax", BaseURL: "https://api.minimax.chat", ChatPath: "/v1/text/chatcompletion_v2", BaseResp: true},
			Models: []string{"abab6.5s-chat", "abab6.5g-chat", "abab6.5t-chat", "abab5.5s-chat", "abab5.5-chat"},
			Docs:   "https://platform.minimaxi.com/document/ChatCompletion%20v2",
		},
		{
			Type: TypeMistral, Name: "Mistral",
			Config: openai.Config{Name: "mistral", BaseURL: "https://api.mistral.ai", ChatPath: chatPath, EmbeddingsPath: embeddingsPath, ModelsPath: modelsPath, NoStreamOptions: true},
			Models: []string{"mistral-large-latest", "pixtral-large-latest", "mistral-small-latest", "codestral-latest", "ministral-8b-latest", "ministral-3b-latest", "mistral-embed", "pixtral-12b", "mistral-nemo", "open-mistral-7b", "open-mixtral-8x7b", "open-mixtral-8x22b"},
			Docs:   "https://docs.mistral.ai/api/",
		},
		{
			Type: TypeGroq, Name: "Groq",
			Config: openai.Config{Name: "groq", BaseURL: "https://api.groq.com/openai", ChatPath: chatPath, ModelsPath: modelsPath, GroqUsage: true},
			Models: []string{"llama-3.3-70b-versatile", "llama-3.1-8b-instant", "gemma2-9b-it", "llama-guard-3-8b", "mixtral-8x7b-32768"},
			Docs:   "https://console.groq.com/docs/api-reference",
		},
		{
			Type: TypeLingYiWanWu, Name: "LingYiWanWu",
			Config: openai.Config{Name: "lingyiwanwu", BaseURL: "https://api.lingyiwanwu.com", ChatPath: chatPath, ModelsPath: modelsPath},
			Models: []string{"yi-lightning", "yi-vision-v2"},
			Docs:   "https://platform.lingyiwanwu.com/docs",
		},
		{
			Type: TypeDeepSeek, Name: "DeepSeek",
			Config: openai.Config{Name: "deepseek", BaseURL: "https://api.deepseek.com", ChatPath: chatPath, ModelsPath: "/models", Balance: deepSeekBalance{}},
			Models: []string{"deepseek-chat", "deepseek-reasoner"},
			Docs:   "https://api-docs.deepseek.com/",
		},
		{
			Type: TypeTogether, Name: "Together",
			Config: openai.Config{Name: "together", BaseURL: "https://api.together.xyz", ChatPath: chatPath, CompletionsPath: completionsPath, EmbeddingsPath: embeddingsPath, ModelsPath: modelsPath},
			Models: []string{"meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", "deepseek-ai/deepseek-coder-33b-instruct", "mistralai/Mixtral-8x22B-Instruct-v0.1", "Qwen/Qwen2-72B-Instruct"},
			Docs:   "https://docs.together.ai/reference/chat-completions-1",
		},
		{
			Type: TypeDoubao, Name: "Doubao",
			Config: openai.Config{
				Name: "doubao", BaseURL: "https://ark.cn-beijing.volces.com",
				ChatPath: "/api/v3/chat/completions", EmbeddingsPath: "/api/v3/embeddings",
				ModelRoutes: []openai.ModelRoute{{Mode: adaptors.ModeChat, Prefix: "bot-", Path: "/api/v3/bots/chat/completions"}},
			},
			Models: []string{"Doubao-pro-128k", "Doubao-pro-32k", "Doubao-pro-4k", "Doubao-lite-128k", "Doubao-lite-32k", "Doubao-lite-4k", "Doubao-embedding"},
			Docs:   "https://www.volcengine.com/docs/82379/1298454",
		},
		{
			Type: TypeSiliconFlow, Name: "SiliconFlow",
			Config: openai.Config{Name: "siliconflow", BaseURL: "https://api.siliconflow.cn", ChatPath: chatPath, EmbeddingsPath: embeddingsPath, ModelsPath: modelsPath, Balance: siliconFlowBalance{}},
			Models: []string{"Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "deepseek-ai/DeepSeek-V2-Chat", "THUDM/glm-4-9b-chat", "BAAI/bge-large-zh-v1.5"},
			Docs:   "https://docs.siliconflow.cn/cn/api-reference/chat-completions/chat-completions",
		},
		{
			Type: TypeXAI, Name: "xAI",
			Config: openai.Config{Name: "xai", BaseURL: "https://api.x.ai", ChatPath: chatPath, ModelsPath: modelsPath},
			Models: []string{"grok-2-1212", "grok-2-vision-1212", "grok-beta"},
			Docs:   "https://docs.x.ai/docs/api-reference",
		},
		{
			Type: TypePerplexity, Name: "Perplexity",
			Config: openai.Config{Name: "perplexity", BaseURL: "https://api.perplexity.ai", ChatPath: "/chat/completions", NoStreamOptions: true},
			Models: []string{"sonar", "sonar-pro", "sonar-reasoning", "sonar-reasoning-pro", "sonar-deep-research"},
			Docs:   "https://docs.perplexity.ai/api-reference/chat-completions-post",
		},
	}
}

// New builds the adaptor of a row.
func (v Vendor) New() adaptors.Adaptor { return openai.New(v.Config) }
