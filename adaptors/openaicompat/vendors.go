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

	// quirks are the deviations openai.Config has no flag for; New wraps
	// the openai adaptor when any is set (quirks.go).
	quirks quirks
}

// Type numbers of the rows, for callers that need one by name.
const (
	TypeCustom                 = 8
	Type360                    = 19
	TypeOpenRouter             = 20
	TypeMoonshot               = 25
	TypeBaichuan               = 26
	TypeMiniMax                = 27
	TypeMistral                = 28
	TypeGroq                   = 29
	TypeLingYiWanWu            = 31
	TypeStepFun                = 32
	TypeDeepSeek               = 36
	TypeTogether               = 39
	TypeDoubao                 = 40
	TypeNovita                 = 41
	TypeSiliconFlow            = 44
	TypeXAI                    = 45
	TypeXunfeiV2               = 48
	TypeOpenAICompatible       = 50
	TypeGeminiOpenAICompatible = 51
	// TypePerplexity is Switchyard's number: One API has none (new-api
	// uses 27, which is MiniMax in One API). 100 starts the range reserved
	// for types One API does not define.
	TypePerplexity = 100
)

// The OpenAI paths most vendors serve under their base URL.
const (
	chatPath              = "/v1/chat/completions"
	completionsPath       = "/v1/completions"
	embeddingsPath        = "/v1/embeddings"
	imagesGenerationsPath = "/v1/images/generations"
	rerankPath            = "/v1/rerank"
	modelsPath            = "/v1/models"
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
			Type: Type360, Name: "360",
			Config: openai.Config{Name: "360", BaseURL: "https://api.360.cn", ChatPath: chatPath, EmbeddingsPath: embeddingsPath, ModelsPath: modelsPath},
			Models: []string{"360gpt2-pro", "360gpt-pro", "360gpt-turbo", "360zhinao2-o1", "360gpt2-o1",
				"360GPT_S2_V9", "embedding-bert-512-v1", "embedding_s1_v1", "semantic_similarity_s1_v1"},
			Docs: "https://ai.360.cn/platform/docs/overview",
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
			Config: openai.Config{Name: "moonshot", BaseURL: "https://api.moonshot.cn", ChatPath: chatPath, ModelsPath: modelsPath, Balance: moonshotBalance{}},
			Models: []string{"kimi-k2.6", "kimi-k2.5", "kimi-k2-thinking", "kimi-k2-turbo-preview", "kimi-k2-0905-preview", "kimi-latest",
				"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k",
				"moonshot-v1-8k-vision-preview", "moonshot-v1-32k-vision-preview", "moonshot-v1-128k-vision-preview"},
			Docs:   "https://platform.moonshot.cn/docs/api/chat",
			quirks: quirks{choiceUsage: true},
		},
		{
			Type: TypeBaichuan, Name: "Baichuan",
			Config: openai.Config{Name: "baichuan", BaseURL: "https://api.baichuan-ai.com", ChatPath: chatPath, EmbeddingsPath: embeddingsPath},
			Models: []string{"Baichuan4-Turbo", "Baichuan4-Air", "Baichuan4", "Baichuan3-Turbo", "Baichuan3-Turbo-128k",
				"Baichuan2-Turbo", "Baichuan2-Turbo-192k", "Baichuan-Text-Embedding"},
			Docs: "https://platform.baichuan-ai.com/docs/api",
		},
		{
			Type: TypeMiniMax, Name: "MiniMax",
			Config: openai.Config{Name: "minimax", BaseURL: "https://api.minimaxi.com", ChatPath: "/v1/text/chatcompletion_v2", BaseResp: true},
			Models: []string{"MiniMax-M2.7", "MiniMax-M2.5", "MiniMax-M2.1", "MiniMax-M2", "MiniMax-M1", "MiniMax-Text-01",
				"abab6.5s-chat", "abab6.5g-chat", "abab6.5t-chat", "abab5.5s-chat", "abab5.5-chat"},
			Docs:   "https://platform.minimaxi.com/docs/api-reference/text-post",
			quirks: quirks{minimax: true},
		},
		{
			Type: TypeMistral, Name: "Mistral",
			Config: openai.Config{Name: "mistral", BaseURL: "https://api.mistral.ai", ChatPath: chatPath, EmbeddingsPath: embeddingsPath, ModelsPath: modelsPath, NoStreamOptions: true},
			Models: []string{"mistral-large-latest", "pixtral-large-latest", "mistral-small-latest", "codestral-latest", "ministral-8b-latest", "ministral-3b-latest", "mistral-embed", "pixtral-12b", "mistral-nemo", "open-mistral-7b", "open-mixtral-8x7b", "open-mixtral-8x22b"},
			Docs:   "https://docs.mistral.ai/api/",
			quirks: quirks{finishUsage: true},
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
			Models: []string{"yi-lightning", "yi-vision-v2", "yi-large", "yi-large-turbo", "yi-medium", "yi-spark",
				"yi-34b-chat-0205", "yi-34b-chat-200k", "yi-vl-plus"},
			Docs: "https://platform.lingyiwanwu.com/docs",
		},
		{
			Type: TypeStepFun, Name: "StepFun",
			Config: openai.Config{
				Name: "stepfun", BaseURL: "https://api.stepfun.com", ChatPath: chatPath,
				ImagesGenerationsPath: imagesGenerationsPath, ImagesEditsPath: "/v1/images/edits",
				ModelsPath: modelsPath, Balance: stepFunAccount{},
			},
			Models: []string{"step-3.5-flash", "step-3", "step-2-16k", "step-2-mini", "step-1-8k", "step-1-32k", "step-1-128k", "step-1-256k",
				"step-1-flash", "step-1v-8k", "step-1v-32k", "step-r1-v-mini", "step-1x-medium", "step-image-edit-2"},
			Docs: "https://platform.stepfun.com/docs/api-reference/chat/chat-completion-create",
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
				ImagesGenerationsPath: "/api/v3/images/generations",
				ModelRoutes:           []openai.ModelRoute{{Mode: adaptors.ModeChat, Prefix: "bot-", Path: "/api/v3/bots/chat/completions"}},
			},
			Models: []string{"doubao-seed-1-6-250615", "doubao-seed-1-6-flash-250615", "doubao-seed-1-6-thinking-250715",
				"doubao-1-5-pro-32k-250115", "doubao-1-5-pro-256k-250115", "doubao-1-5-lite-32k-250115", "doubao-1-5-vision-pro-32k-250115",
				"doubao-embedding-text-240715", "doubao-seedream-4-0-250828", "doubao-seedream-3-0-t2i-250415",
				"Doubao-pro-128k", "Doubao-pro-32k", "Doubao-pro-4k", "Doubao-lite-128k", "Doubao-lite-32k", "Doubao-lite-4k", "Doubao-embedding"},
			Docs: "https://www.volcengine.com/docs/82379/1298454",
		},
		{
			Type: TypeNovita, Name: "Novita",
			Config: openai.Config{
				Name: "novita", BaseURL: "https://api.novita.ai/openai",
				ChatPath: chatPath, CompletionsPath: completionsPath, EmbeddingsPath: embeddingsPath, RerankPath: rerankPath,
				ModelsPath: modelsPath,
			},
			Models: []string{"deepseek/deepseek-v3-0324", "deepseek/deepseek-r1", "moonshotai/kimi-k2.5", "zai-org/glm-5", "minimax/minimax-m2.5",
				"meta-llama/llama-3.1-8b-instruct", "meta-llama/llama-3.1-70b-instruct", "mistralai/mistral-nemo",
				"qwen/qwen3-embedding-0.6b", "baai/bge-m3", "baai/bge-reranker-v2-m3"},
			Docs: "https://novita.ai/docs/api-reference/model-apis-llm-create-chat-completion",
		},
		{
			Type: TypeSiliconFlow, Name: "SiliconFlow",
			Config: openai.Config{
				Name: "siliconflow", BaseURL: "https://api.siliconflow.cn",
				ChatPath: chatPath, EmbeddingsPath: embeddingsPath, ImagesGenerationsPath: imagesGenerationsPath, RerankPath: rerankPath,
				ModelsPath: modelsPath, Balance: siliconFlowBalance{},
			},
			Models: []string{"deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "Qwen/Qwen3-8B", "Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-7B-Instruct",
				"deepseek-ai/DeepSeek-V2-Chat", "THUDM/glm-4-9b-chat", "BAAI/bge-m3", "BAAI/bge-large-zh-v1.5", "BAAI/bge-reranker-v2-m3", "Kwai-Kolors/Kolors"},
			Docs: "https://docs.siliconflow.cn/cn/api-reference/chat-completions/chat-completions",
		},
		{
			Type: TypeXAI, Name: "xAI",
			Config: openai.Config{Name: "xai", BaseURL: "https://api.x.ai", ChatPath: chatPath, ModelsPath: modelsPath},
			Models: []string{"grok-2-1212", "grok-2-vision-1212", "grok-beta"},
			Docs:   "https://docs.x.ai/docs/api-reference",
		},
		{
			Type: TypeXunfeiV2, Name: "XunfeiV2",
			Config: openai.Config{Name: "xunfei", BaseURL: "https://spark-api-open.xf-yun.com", ChatPath: chatPath},
			Models: []string{"lite", "generalv3", "pro-128k", "generalv3.5", "max-32k", "4.0Ultra"},
			Docs:   "https://www.xfyun.cn/doc/spark/HTTP%E8%B0%83%E7%94%A8%E6%96%87%E6%A1%A3.html",
			quirks: quirks{spark: true},
		},
		{
			// One API's type 50 appends the OpenAI paths without their /v1
			// to the base URL the operator gives (which usually ends in
			// /v1 or a vendor's own prefix).
			Type: TypeOpenAICompatible, Name: "OpenAICompatible",
			Config: openai.Config{
				Name:     "openai-compatible",
				ChatPath: "/chat/completions", CompletionsPath: "/completions", EmbeddingsPath: "/embeddings",
				ImagesGenerationsPath: "/images/generations", ImagesEditsPath: "/images/edits", ImagesVariationsPath: "/images/variations",
				AudioSpeechPath: "/audio/speech", AudioTranscriptionsPath: "/audio/transcriptions", AudioTranslationsPath: "/audio/translations",
				ModerationsPath: "/moderations", RerankPath: "/rerank", ResponsesPath: "/responses",
				ModelsPath: "/models",
			},
			Docs: "https://platform.openai.com/docs/api-reference",
		},
		{
			Type: TypeGeminiOpenAICompatible, Name: "GeminiOpenAICompatible",
			Config: openai.Config{
				Name: "gemini-openai", BaseURL: "https://generativelanguage.googleapis.com/v1beta/openai",
				ChatPath: "/chat/completions", EmbeddingsPath: "/embeddings", ModelsPath: "/models",
			},
			Models: []string{"gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash",
				"gemini-3-pro-preview", "gemini-3-flash-preview", "gemini-embedding-001"},
			Docs:   "https://ai.google.dev/gemini-api/docs/openai",
			quirks: quirks{gemini: true},
		},
		{
			Type: TypePerplexity, Name: "Perplexity",
			Config: openai.Config{Name: "perplexity", BaseURL: "https://api.perplexity.ai", ChatPath: "/chat/completions", NoStreamOptions: true},
			Models: []string{"sonar", "sonar-pro", "sonar-reasoning", "sonar-reasoning-pro", "sonar-deep-research"},
			Docs:   "https://docs.perplexity.ai/api-reference/chat-completions-post",
			quirks: quirks{finishUsage: true},
		},
	}
}

// New builds the adaptor of a row: the openai adaptor configured by the
// row, wrapped when the row has quirks the configuration cannot express.
// The result implements exactly the optional capabilities the openai
// adaptor does (ModelLister, BalanceQuerier, TypedResponseParser).
func (v Vendor) New() adaptors.Adaptor {
	a := openai.New(v.Config)
	if v.quirks == (quirks{}) {
		return a
	}
	return wrap(a, v.Config.Name, v.quirks)
}
