package baidu

import "strings"

// Endpoints of the ERNIE v1 API. A model is served at
// {base}/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint} (chat) or
// .../embeddings/{endpoint} (embeddings). Baidu's newer models use their
// own name in lower case as the endpoint ("ERNIE-4.0-Turbo-8K" →
// "ernie-4.0-turbo-8k"); the older ones, and a few whose endpoint is
// abbreviated, are listed here. Sources: each model's page under
// https://cloud.baidu.com/doc/WENXINWORKSHOP/s/ (e.g. ERNIE-4.0-8K,
// https://cloud.baidu.com/doc/WENXINWORKSHOP/s/clntwmv7t: chat/completions_pro;
// ERNIE-3.5-8K: chat/completions), the model-version table of
// https://cloud.baidu.com/doc/WENXINWORKSHOP/s/Wm3fhy2vb (ERNIE-Character-8K
// is "ernie-char-8k"), and the endpoint tables of Baidu's own SDK
// (github.com/baidubce/bce-qianfan-sdk go/qianfan ChatModelEndpoint and
// EmbeddingEndpoint). Keys are lower case: lookups ignore case.
var chatEndpoints = map[string]string{
	// ERNIE 4.0
	"ernie-4.0-8k": "completions_pro",
	"ernie-4.0":    "completions_pro",
	"ernie-bot-4":  "completions_pro",
	// ERNIE 3.5
	"ernie-3.5-8k": "completions",
	"ernie-bot":    "completions",
	"ernie-bot-8k": "ernie_bot_8k",
	// ERNIE Speed
	"ernie-speed-8k": "ernie_speed",
	"ernie-speed":    "ernie_speed",
	// ERNIE Lite
	"ernie-lite-8k-0922": "eb-instant",
	"ernie-bot-turbo":    "eb-instant",
	"ernie-lite-8k-0308": "ernie-lite-8k",
	// Abbreviated endpoints.
	"ernie-character-8k":         "ernie-char-8k",
	"ernie-character-fiction-8k": "ernie-char-fiction-8k",
	"ernie-functions-8k":         "ernie-func-8k",
	"ernie-function-8k":          "ernie-func-8k",
	// Open models hosted by Qianfan.
	"bloomz-7b": "bloomz_7b1",
}

// embeddingEndpoints are the embedding models' endpoints (Baidu's SDK
// EmbeddingEndpoint: embeddings/embedding-v1, bge_large_zh, bge_large_en,
// tao_8k).
var embeddingEndpoints = map[string]string{
	"embedding-v1": "embedding-v1",
	"bge-large-zh": "bge_large_zh",
	"bge-large-en": "bge_large_en",
	"tao-8k":       "tao_8k",
}

// ChatEndpoint returns the v1 chat endpoint that serves model: the table's
// entry when it has one (case ignored), else model in lower case — Baidu's
// naming for every model since 2024, and what a custom service's endpoint
// (the last path element of its API address, always lower case) already
// is. An empty model gives "".
func ChatEndpoint(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if e, ok := chatEndpoints[m]; ok {
		return e
	}
	return m
}

// EmbeddingEndpoint returns the v1 embeddings endpoint of model, by the
// same rule as ChatEndpoint.
func EmbeddingEndpoint(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if e, ok := embeddingEndpoints[m]; ok {
		return e
	}
	return m
}

// Models returns the default model list of a new ERNIE v1 channel: One
// API's names for Baidu (its relay/adaptor/baidu model list), current
// models first, then the embedding models. A new slice on each call.
func Models() []string {
	return []string{
		"ERNIE-4.0-Turbo-128K", "ERNIE-4.0-Turbo-8K", "ERNIE-4.0-Turbo-8K-Preview",
		"ERNIE-4.0-8K", "ERNIE-4.0-8K-Latest", "ERNIE-4.0-8K-Preview",
		"ERNIE-3.5-128K", "ERNIE-3.5-8K", "ERNIE-3.5-8K-Preview",
		"ERNIE-Speed-Pro-128K", "ERNIE-Speed-128K", "ERNIE-Speed-8K",
		"ERNIE-Lite-Pro-128K", "ERNIE-Lite-8K", "ERNIE-Tiny-8K",
		"ERNIE-Character-8K", "ERNIE-Character-Fiction-8K", "ERNIE-Functions-8K", "ERNIE-Novel-8K",
		"Qianfan-Agent-Speed-8K", "Qianfan-Agent-Lite-8K",
		"Embedding-V1", "bge-large-zh", "bge-large-en", "tao-8k",
	}
}

// V2Models returns the default model list of a new Qianfan v2 channel:
// the model ids of Qianfan's model tables (chat: the "model 参数值" column
// of https://cloud.baidu.com/doc/WENXINWORKSHOP/s/Wm3fhy2vb, plus the
// ERNIE 4.5 / X1 and DeepSeek models Qianfan added since), newest first,
// then embedding, rerank (bce-reranker-base, the model of
// https://cloud.baidu.com/doc/qianfan-api/s/2m7u4zt74) and image
// (irag-1.0) models. A new slice on each call.
func V2Models() []string {
	return []string{
		"ernie-4.5-turbo-128k", "ernie-4.5-turbo-32k", "ernie-4.5-8k-preview", "ernie-x1-turbo-32k",
		"ernie-4.0-turbo-128k", "ernie-4.0-turbo-8k", "ernie-4.0-8k", "ernie-4.0-8k-latest",
		"ernie-3.5-128k", "ernie-3.5-8k",
		"ernie-speed-pro-128k", "ernie-speed-128k", "ernie-speed-8k",
		"ernie-lite-pro-128k", "ernie-lite-8k", "ernie-tiny-8k",
		"ernie-char-8k", "ernie-char-fiction-8k", "ernie-novel-8k",
		"deepseek-v3", "deepseek-r1",
		"embedding-v1", "bge-large-zh", "bge-large-en", "tao-8k",
		"bce-reranker-base", "irag-1.0",
	}
}
