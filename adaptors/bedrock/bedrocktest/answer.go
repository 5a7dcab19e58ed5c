package bedrocktest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
)

// Answer text, split in several stream deltas, and the tool call's
// arguments, split in several fragments.
const text = "Hello from the Bedrock mock!"

var (
	textDeltas   = []string{"Hello", " from", " the", " Bedrock", " mock!"}
	argFragments = []string{`{"loca`, `tion": "Pa`, `ris"}`}
	// Converse text answers start with a reasoning block, as Bedrock's
	// reasoning models answer, so its conversion is exercised too.
	reasoningDeltas = []string{"The user greets me.", " I greet back."}
)

// Ids as Bedrock shapes them.
const (
	claudeMessageID = "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL"
	claudeToolID    = "toolu_bdrk_01A09q90qw90lq917835lq9"
	converseToolID  = "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"
	signature       = "ErUBCkYIBRgCIkB2Jd3mU6nPQbE2yYwGQ1N8xG2PNxl2c3nYy2jR1u4ZQ"
)

// claudeVersion strips the Bedrock id down to the model name Claude
// reports ("anthropic.claude-3-haiku-20240307-v1:0" → claude-3-haiku-20240307).
var claudeVersion = regexp.MustCompile(`-v\d+(:\d+)?$`)

func claudeModel(id string) string {
	if i := strings.Index(id, "anthropic."); i >= 0 {
		id = id[i+len("anthropic."):]
	}
	return claudeVersion.ReplaceAllString(id, "")
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	var br badRequest
	if errors.As(err, &br) {
		writeError(w, http.StatusBadRequest, "ValidationException", string(br))
		return
	}
	writeError(w, http.StatusInternalServerError, "InternalServerException", err.Error())
}

// ---- InvokeModel / InvokeModelWithResponseStream (Claude) ----

func (s *Server) invoke(w http.ResponseWriter, model string, body []byte, stream bool) {
	if !strings.Contains(model, "anthropic.claude") {
		writeError(w, http.StatusBadRequest, "ValidationException", "The provided model identifier is invalid.")
		return
	}
	req, last, err := validateClaude(body)
	if err != nil {
		s.fail(w, err)
		return
	}
	tool := ""
	if len(req.Tools) > 0 && req.Messages[len(req.Messages)-1].Role == "user" && !hasClaudeToolResult(last) {
		tool = req.Tools[0].Name
	}
	name := claudeModel(model)
	if !stream {
		writeJSON(w, http.StatusOK, claudeMessage(name, tool))
		return
	}
	var events []any
	if tool == "" {
		events = append(events, claudeStart(name, 12, 8, 5))
		events = append(events, map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
		for _, d := range textDeltas {
			events = append(events, map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": d}})
		}
		events = append(events, map[string]any{"type": "content_block_stop", "index": 0})
		events = append(events, claudeDelta("end_turn", 9))
		events = append(events, claudeStop(12, 9, 8, 5))
	} else {
		events = append(events, claudeStart(name, 40, 24, 0))
		events = append(events, map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "tool_use", "id": claudeToolID, "name": tool, "input": map[string]any{}}})
		for _, f := range argFragments {
			events = append(events, map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "input_json_delta", "partial_json": f}})
		}
		events = append(events, map[string]any{"type": "content_block_stop", "index": 0})
		events = append(events, claudeDelta("tool_use", 18))
		events = append(events, claudeStop(40, 18, 24, 0))
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-Bedrock-Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	for i, ev := range events {
		inner, _ := marshal(ev)
		payload, _ := marshal(map[string]string{"bytes": base64.StdEncoding.EncodeToString(inner), "p": Pad(3 + 7*i%40)})
		_, _ = w.Write(EventFrame("chunk", payload))
		flush(w)
	}
}

func hasClaudeToolResult(blocks []claudeBlock) bool {
	for _, b := range blocks {
		if b.Type == "tool_result" {
			return true
		}
	}
	return false
}

// claudeMessage is the InvokeModel answer: a Messages API Message.
func claudeMessage(model, tool string) map[string]any {
	m := map[string]any{"id": claudeMessageID, "type": "message", "role": "assistant", "model": model, "stop_sequence": nil}
	if tool == "" {
		m["content"] = []any{map[string]any{"type": "text", "text": text}}
		m["stop_reason"] = "end_turn"
		m["usage"] = map[string]any{"input_tokens": 12, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 8, "output_tokens": 9}
	} else {
		m["content"] = []any{map[string]any{"type": "tool_use", "id": claudeToolID, "name": tool, "input": map[string]any{"location": "Paris"}}}
		m["stop_reason"] = "tool_use"
		m["usage"] = map[string]any{"input_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 24, "output_tokens": 18}
	}
	return m
}

func claudeStart(model string, input, read, write int) map[string]any {
	return map[string]any{"type": "message_start", "message": map[string]any{
		"id": claudeMessageID, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": input, "cache_creation_input_tokens": write, "cache_read_input_tokens": read, "output_tokens": 1},
	}}
}

func claudeDelta(stop string, output int) map[string]any {
	return map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": output}}
}

// claudeStop is message_stop with the invocation metrics Bedrock adds.
func claudeStop(input, output, read, write int) map[string]any {
	return map[string]any{"type": "message_stop", "amazon-bedrock-invocationMetrics": map[string]any{
		"inputTokenCount": input, "outputTokenCount": output, "invocationLatency": 1798, "firstByteLatency": 507,
		"cacheReadInputTokenCount": read, "cacheWriteInputTokenCount": write,
	}}
}

// ---- Converse / ConverseStream ----

func (s *Server) converse(w http.ResponseWriter, model string, body []byte, stream bool) {
	req, err := validateConverse(body)
	if err != nil {
		s.fail(w, err)
		return
	}
	tool := ""
	if req.ToolConfig != nil {
		lastMsg := req.Messages[len(req.Messages)-1]
		if lastMsg.Role == "user" && !hasToolResult(lastMsg) {
			tool = req.ToolConfig.Tools[0].ToolSpec.Name
		}
	}
	if !stream {
		writeJSON(w, http.StatusOK, converseAnswer(tool))
		return
	}
	type event struct {
		typ     string
		payload map[string]any
	}
	var events []event
	events = append(events, event{"messageStart", map[string]any{"role": "assistant"}})
	if tool == "" {
		for _, d := range reasoningDeltas {
			events = append(events, event{"contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"reasoningContent": map[string]any{"text": d}}}})
		}
		events = append(events, event{"contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"reasoningContent": map[string]any{"signature": signature}}}})
		events = append(events, event{"contentBlockStop", map[string]any{"contentBlockIndex": 0}})
		for _, d := range textDeltas {
			events = append(events, event{"contentBlockDelta", map[string]any{"contentBlockIndex": 1, "delta": map[string]any{"text": d}}})
		}
		events = append(events, event{"contentBlockStop", map[string]any{"contentBlockIndex": 1}})
		events = append(events, event{"messageStop", map[string]any{"stopReason": "end_turn"}})
		events = append(events, event{"metadata", map[string]any{"usage": converseUsage(12, 9, 8, 5), "metrics": map[string]any{"latencyMs": 812}}})
	} else {
		events = append(events, event{"contentBlockStart", map[string]any{"contentBlockIndex": 0, "start": map[string]any{"toolUse": map[string]any{"toolUseId": converseToolID, "name": tool}}}})
		for _, f := range argFragments {
			events = append(events, event{"contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"toolUse": map[string]any{"input": f}}}})
		}
		events = append(events, event{"contentBlockStop", map[string]any{"contentBlockIndex": 0}})
		events = append(events, event{"messageStop", map[string]any{"stopReason": "tool_use"}})
		events = append(events, event{"metadata", map[string]any{"usage": converseUsage(40, 18, 24, 0), "metrics": map[string]any{"latencyMs": 1024}}})
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	for i, ev := range events {
		ev.payload["p"] = Pad(1 + 5*i%36)
		payload, _ := marshal(ev.payload)
		_, _ = w.Write(EventFrame(ev.typ, payload))
		flush(w)
	}
}

func hasToolResult(m converseMessage) bool {
	for _, b := range m.Content {
		if _, ok := b["toolResult"]; ok {
			return true
		}
	}
	return false
}

// converseUsage is a TokenUsage: input excludes cache reads and writes,
// total includes them.
func converseUsage(input, output, read, write int) map[string]any {
	u := map[string]any{"inputTokens": input, "outputTokens": output, "totalTokens": input + output + read + write}
	if read > 0 {
		u["cacheReadInputTokens"] = read
	}
	if write > 0 {
		u["cacheWriteInputTokens"] = write
	}
	return u
}

// converseAnswer is the Converse answer.
func converseAnswer(tool string) map[string]any {
	var content []any
	var stop string
	var usage map[string]any
	if tool == "" {
		content = []any{
			map[string]any{"reasoningContent": map[string]any{"reasoningText": map[string]any{"text": strings.Join(reasoningDeltas, ""), "signature": signature}}},
			map[string]any{"text": text},
		}
		stop, usage = "end_turn", converseUsage(12, 9, 8, 5)
	} else {
		content = []any{map[string]any{"toolUse": map[string]any{"toolUseId": converseToolID, "name": tool, "input": map[string]any{"location": "Paris"}}}}
		stop, usage = "tool_use", converseUsage(40, 18, 24, 0)
	}
	return map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": stop,
		"usage":      usage,
		"metrics":    map[string]any{"latencyMs": 812},
	}
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// foundationModels is a ListFoundationModels answer.
var foundationModels = json.RawMessage(`{"modelSummaries":[` +
	`{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0","modelId":"anthropic.claude-3-haiku-20240307-v1:0","modelName":"Claude 3 Haiku","providerName":"Anthropic","inputModalities":["TEXT","IMAGE"],"outputModalities":["TEXT"],"responseStreamingSupported":true,"customizationsSupported":[],"inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"ACTIVE"}},` +
	`{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0","modelId":"amazon.nova-lite-v1:0","modelName":"Nova Lite","providerName":"Amazon","inputModalities":["TEXT","IMAGE","VIDEO"],"outputModalities":["TEXT"],"responseStreamingSupported":true,"customizationsSupported":[],"inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"ACTIVE"}},` +
	`{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0","modelId":"amazon.titan-embed-text-v2:0","modelName":"Titan Text Embeddings V2","providerName":"Amazon","inputModalities":["TEXT"],"outputModalities":["EMBEDDING"],"customizationsSupported":[],"inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"ACTIVE"}},` +
	`{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-3-70b-instruct-v1:0","modelId":"meta.llama3-3-70b-instruct-v1:0","modelName":"Llama 3.3 70B Instruct","providerName":"Meta","inputModalities":["TEXT"],"outputModalities":["TEXT"],"responseStreamingSupported":true,"customizationsSupported":[],"inferenceTypesSupported":["INFERENCE_PROFILE"],"modelLifecycle":{"status":"ACTIVE"}}` +
	`]}`)
