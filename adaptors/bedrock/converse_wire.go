package bedrock

import (
	"encoding/json"

	"github.com/bytedance/sonic"
)

// ---- The client's OpenAI chat request, as far as Converse reads it ----

// oaRequest is an OpenAI chat completions body. Members whose JSON type
// varies (content, stop, tool_choice, response_format) stay raw.
type oaRequest struct {
	Messages            []oaMessage            `json:"messages"`
	MaxTokens           *int                   `json:"max_tokens"`
	MaxCompletionTokens *int                   `json:"max_completion_tokens"`
	Temperature         *float64               `json:"temperature"`
	TopP                *float64               `json:"top_p"`
	Stop                sonic.NoCopyRawMessage `json:"stop"`
	Tools               []oaTool               `json:"tools"`
	ToolChoice          sonic.NoCopyRawMessage `json:"tool_choice"`
	ResponseFormat      sonic.NoCopyRawMessage `json:"response_format"`
}

type oaMessage struct {
	Role       string                 `json:"role"`
	Content    sonic.NoCopyRawMessage `json:"content"`
	ToolCalls  []oaToolCall           `json:"tool_calls"`
	ToolCallID string                 `json:"tool_call_id"`
}

type oaToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string                 `json:"name"`
		Arguments sonic.NoCopyRawMessage `json:"arguments"`
	} `json:"function"`
}

type oaPart struct {
	Type     string                 `json:"type"`
	Text     string                 `json:"text"`
	Refusal  string                 `json:"refusal"`
	ImageURL sonic.NoCopyRawMessage `json:"image_url"` // {"url":…}, or loosely the URL string
	File     *struct {
		FileData string `json:"file_data"`
		Filename string `json:"filename"`
	} `json:"file"`
}

type oaTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string                 `json:"name"`
		Description string                 `json:"description"`
		Parameters  sonic.NoCopyRawMessage `json:"parameters"`
		Strict      *bool                  `json:"strict"`
	} `json:"function"`
}

// ---- The Converse request (API_runtime_Converse) ----

// converseRequest is the body of POST /model/{modelId}/converse and
// /converse-stream (the model is in the path, streaming is the
// endpoint's choice).
type converseRequest struct {
	Messages        []cMessage       `json:"messages"`
	System          []cSystemBlock   `json:"system,omitempty"`
	InferenceConfig *inferenceConfig `json:"inferenceConfig,omitempty"`
	ToolConfig      *toolConfig      `json:"toolConfig,omitempty"`
	OutputConfig    *outputConfig    `json:"outputConfig,omitempty"`
}

type cMessage struct {
	Role    string   `json:"role"`
	Content []cBlock `json:"content"`
}

// cBlock is a ContentBlock: a union, exactly one member set.
type cBlock struct {
	Text       *string      `json:"text,omitempty"`
	Image      *cImage      `json:"image,omitempty"`
	Document   *cDocument   `json:"document,omitempty"`
	ToolUse    *cToolUse    `json:"toolUse,omitempty"`
	ToolResult *cToolResult `json:"toolResult,omitempty"`
}

type cSystemBlock struct {
	Text string `json:"text"`
}

// cImage is an ImageBlock: format png|jpeg|gif|webp, source.bytes the
// base64 of the image (JSON carries blobs as base64).
type cImage struct {
	Format string  `json:"format"`
	Source cSource `json:"source"`
}

// cDocument is a DocumentBlock (format pdf|csv|doc|docx|xls|xlsx|html|
// txt|md, a name, the bytes).
type cDocument struct {
	Format string  `json:"format"`
	Name   string  `json:"name"`
	Source cSource `json:"source"`
}

type cSource struct {
	Bytes string `json:"bytes"`
}

type cToolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

// cToolResult is a ToolResultBlock; its content blocks are text (or
// json, which the conversion does not need: OpenAI tool results are
// strings).
type cToolResult struct {
	ToolUseID string         `json:"toolUseId"`
	Content   []cResultBlock `json:"content"`
}

type cResultBlock struct {
	Text string `json:"text"`
}

// inferenceConfig holds the parameters every Converse model takes.
// Pointers keep explicit zeros (temperature 0).
type inferenceConfig struct {
	MaxTokens     *int     `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

type toolConfig struct {
	Tools      []cTool      `json:"tools"`
	ToolChoice *cToolChoice `json:"toolChoice,omitempty"`
}

type cTool struct {
	ToolSpec cToolSpec `json:"toolSpec"`
}

type cToolSpec struct {
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	InputSchema cInputSchema `json:"inputSchema"`
	Strict      *bool        `json:"strict,omitempty"`
}

type cInputSchema struct {
	JSON json.RawMessage `json:"json"`
}

// cToolChoice is the ToolChoice union: auto, any or tool.
type cToolChoice struct {
	Auto *struct{}    `json:"auto,omitempty"`
	Any  *struct{}    `json:"any,omitempty"`
	Tool *cToolChoose `json:"tool,omitempty"`
}

type cToolChoose struct {
	Name string `json:"name"`
}

// outputConfig is OutputConfig: structured output through textFormat
// {type:"json_schema", structure:{jsonSchema:{schema (a JSON string),
// name, description}}}.
type outputConfig struct {
	TextFormat outputFormat `json:"textFormat"`
}

type outputFormat struct {
	Type      string `json:"type"`
	Structure struct {
		JSONSchema jsonSchemaDef `json:"jsonSchema"`
	} `json:"structure"`
}

type jsonSchemaDef struct {
	Schema      string `json:"schema"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}
