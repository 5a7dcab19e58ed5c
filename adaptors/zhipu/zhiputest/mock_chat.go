package zhiputest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// chatRequest is the v4 chat body (the members of BigModel's reference).
type chatRequest struct {
	Model              *string           `json:"model"`
	Messages           []json.RawMessage `json:"messages"`
	RequestID          *string           `json:"request_id"`
	DoSample           *bool             `json:"do_sample"`
	Stream             *bool             `json:"stream"`
	ToolStream         *bool             `json:"tool_stream"`
	Thinking           *thinking         `json:"thinking"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	MaxTokens          *int              `json:"max_tokens"`
	Tools              []tool            `json:"tools"`
	ToolChoice         *string           `json:"tool_choice"`
	Stop               []string          `json:"stop"`
	ResponseFormat     *responseFormat   `json:"response_format"`
	UserID             *string           `json:"user_id"`
	Seed               *int64            `json:"seed"`
	Meta               json.RawMessage   `json:"meta"`
	SensitiveWordCheck json.RawMessage   `json:"sensitive_word_check"`
	Watermark          *bool             `json:"watermark_enabled"`
}

type thinking struct {
	Type          string `json:"type"`
	ClearThinking *bool  `json:"clear_thinking"`
}

type responseFormat struct {
	Type string `json:"type"`
}

type tool struct {
	Type      string          `json:"type"`
	Function  *function       `json:"function"`
	WebSearch json.RawMessage `json:"web_search"`
	Retrieval json.RawMessage `json:"retrieval"`
	MCP       json.RawMessage `json:"mcp"`
}

type function struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// message is any v4 message; which members are allowed depends on role.
type message struct {
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"`
	ReasoningContent *string         `json:"reasoning_content"`
	ToolCallID       string          `json:"tool_call_id"`
	ToolCalls        []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

type part struct {
	Type     string  `json:"type"`
	Text     *string `json:"text"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
	VideoURL *struct {
		URL string `json:"url"`
	} `json:"video_url"`
	FileURL *struct {
		URL string `json:"url"`
	} `json:"file_url"`
}

func (s *Server) chat(w http.ResponseWriter, body []byte) {
	var req chatRequest
	lastRole, err := validateChat(body, &req)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	n := s.Requests()
	id := fmt.Sprintf("20251001120000%016d", n)
	model := *req.Model
	var fn string
	for _, t := range req.Tools {
		if t.Type == "function" {
			fn = t.Function.Name
			break
		}
	}
	callTool := fn != "" && lastRole == "user"
	stream := req.Stream != nil && *req.Stream
	reasoning := req.Thinking == nil || req.Thinking.Type != "disabled"
	created := time.Now().Unix()
	switch {
	case stream && callTool:
		streamTool(w, id, model, created, fn, n, req.ToolStream != nil && *req.ToolStream)
	case stream:
		streamText(w, id, model, created, reasoning)
	case callTool:
		writeJSON(w, http.StatusOK, map[string]any{
			"created":    created,
			"id":         id,
			"model":      model,
			"request_id": id,
			"choices": []any{map[string]any{
				"finish_reason": "tool_calls",
				"index":         0,
				"message": map[string]any{
					"role": "assistant",
					"tool_calls": []any{map[string]any{
						"function": map[string]any{"arguments": `{"location":"Paris"}`, "name": fn},
						"id":       callID(n),
						"index":    0,
						"type":     "function",
					}},
				},
			}},
			"usage": usage(toolPrompt, toolCached, toolCompletion, toolReasoning),
		})
	default:
		msg := map[string]any{"content": MockText, "role": "assistant"}
		if reasoning {
			msg["reasoning_content"] = mockReasoning
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"created":    created,
			"id":         id,
			"model":      model,
			"request_id": id,
			"choices":    []any{map[string]any{"finish_reason": "stop", "index": 0, "message": msg}},
			"usage":      usage(textPrompt, textCached, textCompletion, textReasoning),
		})
	}
}

func callID(n int) string { return fmt.Sprintf("call_-83442952315463%05d", n) }

func usage(prompt, cached, completion, reasoning int) map[string]any {
	return map[string]any{
		"completion_tokens":         completion,
		"prompt_tokens":             prompt,
		"prompt_tokens_details":     map[string]int{"cached_tokens": cached},
		"completion_tokens_details": map[string]int{"reasoning_tokens": reasoning},
		"total_tokens":              prompt + completion,
	}
}

// sse writes v4's stream: one `data:` line per chunk, then [DONE].
type sse struct {
	w                 http.ResponseWriter
	id, model         string
	created           int64
	flusher           http.Flusher
	canFlush, started bool
}

func newSSE(w http.ResponseWriter, id, model string, created int64) *sse {
	w.Header().Set("Content-Type", "text/event-stream;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, ok := w.(http.Flusher)
	return &sse{w: w, id: id, model: model, created: created, flusher: f, canFlush: ok}
}

// chunk writes a chunk whose delta is delta plus role (v4 repeats it);
// finish and usage are added when non-empty.
func (s *sse) chunk(delta map[string]any, finish string, u map[string]any) {
	delta["role"] = "assistant"
	choice := map[string]any{"index": 0, "delta": delta}
	if finish != "" {
		choice["finish_reason"] = finish
	}
	c := map[string]any{"id": s.id, "created": s.created, "model": s.model, "choices": []any{choice}}
	if u != nil {
		c["usage"] = u
	}
	b, _ := json.Marshal(c)
	s.write(b)
}

func (s *sse) write(b []byte) {
	fmt.Fprintf(s.w, "data: %s\n\n", b)
	if s.canFlush {
		s.flusher.Flush()
	}
}

func (s *sse) done() { s.write([]byte("[DONE]")) }

func streamText(w http.ResponseWriter, id, model string, created int64, reasoning bool) {
	s := newSSE(w, id, model, created)
	if reasoning {
		for _, r := range []string{"The user greets me;", " I will greet back."} {
			s.chunk(map[string]any{"reasoning_content": r}, "", nil)
		}
	}
	for _, t := range []string{"Hello", " from the", " Zhipu", " mock!"} {
		s.chunk(map[string]any{"content": t}, "", nil)
	}
	s.chunk(map[string]any{"content": ""}, "stop", usage(textPrompt, textCached, textCompletion, textReasoning))
	s.done()
}

// streamTool streams a call of fn: with tool_stream, its arguments in
// fragments after a first chunk with the id and name (GLM-4.6's stream
// tool calls); without, the whole call in one chunk.
func streamTool(w http.ResponseWriter, id, model string, created int64, fn string, n int, fragments bool) {
	s := newSSE(w, id, model, created)
	s.chunk(map[string]any{"reasoning_content": "I should call " + fn + "."}, "", nil)
	if fragments {
		s.chunk(map[string]any{"tool_calls": []any{map[string]any{
			"id": callID(n), "index": 0, "type": "function", "function": map[string]any{"name": fn, "arguments": ""},
		}}}, "", nil)
		for _, a := range []string{`{"loca`, `tion":`, `"Paris"}`} {
			s.chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": a}}}}, "", nil)
		}
	} else {
		s.chunk(map[string]any{"tool_calls": []any{map[string]any{
			"id": callID(n), "index": 0, "type": "function", "function": map[string]any{"name": fn, "arguments": `{"location":"Paris"}`},
		}}}, "", nil)
	}
	s.chunk(map[string]any{"content": ""}, "tool_calls", usage(toolPrompt, toolCached, toolCompletion, toolReasoning))
	s.done()
}

// validateChat checks a v4 chat body as BigModel documents it and
// returns the role of the last message.
func validateChat(body []byte, req *chatRequest) (string, error) {
	if err := decodeStrict(body, req); err != nil {
		return "", err
	}
	if req.Model == nil || *req.Model == "" {
		return "", &apiError{"1213", "未正常接收到 model 参数"}
	}
	if !knownModel(*req.Model) {
		return "", &apiError{"1211", "模型不存在，请检查模型代码。"}
	}
	if len(req.Messages) == 0 {
		return "", &apiError{"1213", "未正常接收到 messages 参数"}
	}
	if t := req.Temperature; t != nil && (*t <= 0 || *t > 1) {
		return "", invalidParam("temperature")
	}
	if p := req.TopP; p != nil && (*p <= 0 || *p >= 1) {
		return "", invalidParam("top_p")
	}
	if req.MaxTokens != nil && *req.MaxTokens < 1 {
		return "", invalidParam("max_tokens")
	}
	if len(req.Stop) > 4 {
		return "", invalidParam("stop")
	}
	if req.ToolChoice != nil && *req.ToolChoice != "auto" {
		return "", invalidParam("tool_choice")
	}
	if req.ToolStream != nil && *req.ToolStream && (req.Stream == nil || !*req.Stream) {
		return "", invalidParam("tool_stream")
	}
	if t := req.Thinking; t != nil && t.Type != "enabled" && t.Type != "disabled" {
		return "", invalidParam("thinking.type")
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type != "text" && rf.Type != "json_object" {
		return "", invalidParam("response_format.type")
	}
	if u := req.UserID; u != nil && (len(*u) < 6 || len(*u) > 128) {
		return "", invalidParam("user_id")
	}
	for i, t := range req.Tools {
		switch t.Type {
		case "function":
			if t.Function == nil || t.Function.Name == "" {
				return "", invalidParam(fmt.Sprintf("tools[%d].function.name", i))
			}
			if p := bytes.TrimSpace(t.Function.Parameters); len(p) == 0 || p[0] != '{' {
				return "", invalidParam(fmt.Sprintf("tools[%d].function.parameters", i))
			}
		case "web_search", "retrieval", "mcp":
		default:
			return "", invalidParam(fmt.Sprintf("tools[%d].type", i))
		}
	}
	calls := map[string]bool{}
	role := ""
	for i, raw := range req.Messages {
		var m message
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&m); err != nil {
			return "", badCall("messages[%d]: %v", i, err)
		}
		if err := validateMessage(i, &m, calls); err != nil {
			return "", err
		}
		role = m.Role
	}
	return role, nil
}

func validateMessage(i int, m *message, calls map[string]bool) error {
	field := fmt.Sprintf("messages[%d]", i)
	switch m.Role {
	case "system":
		if m.ToolCalls != nil || m.ToolCallID != "" || !isString(m.Content) {
			return invalidParam(field)
		}
	case "user":
		if m.ToolCalls != nil || m.ToolCallID != "" {
			return invalidParam(field)
		}
		return validateUserContent(field, m.Content)
	case "assistant":
		if m.ToolCallID != "" {
			return invalidParam(field)
		}
		if len(m.ToolCalls) == 0 && !isString(m.Content) {
			return &apiError{"1214", field + ":content和tool_calls 字段不能同时为空"}
		}
		if present(m.Content) && !isString(m.Content) {
			return invalidParam(field + ".content")
		}
		for j, tc := range m.ToolCalls {
			if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" || !json.Valid([]byte(tc.Function.Arguments)) {
				return invalidParam(fmt.Sprintf("%s.tool_calls[%d]", field, j))
			}
			calls[tc.ID] = true
		}
	case "tool":
		if m.ToolCallID == "" || !calls[m.ToolCallID] {
			return invalidParam(field + ".tool_call_id")
		}
		if m.ToolCalls != nil || !isString(m.Content) {
			return invalidParam(field)
		}
	default:
		return invalidParam(field + ".role")
	}
	return nil
}

func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null"
}

func isString(raw json.RawMessage) bool {
	var s string
	return present(raw) && json.Unmarshal(raw, &s) == nil
}

// validateUserContent checks a user message's content: a string, or an
// array of text, image_url (an http(s) URL or bare base64: BigModel takes
// no data: URL prefix), video_url and file_url parts.
func validateUserContent(field string, raw json.RawMessage) error {
	if isString(raw) {
		return nil
	}
	var parts []part
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) == 0 {
		return invalidParam(field + ".content")
	}
	for j, p := range parts {
		f := fmt.Sprintf("%s.content[%d]", field, j)
		switch p.Type {
		case "text":
			if p.Text == nil {
				return invalidParam(f + ".text")
			}
		case "image_url":
			if p.ImageURL == nil || !validImage(p.ImageURL.URL) {
				return badCall("%s.image_url: 图片输入格式/解析错误", f)
			}
		case "video_url":
			if p.VideoURL == nil || p.VideoURL.URL == "" {
				return invalidParam(f + ".video_url")
			}
		case "file_url":
			if p.FileURL == nil || p.FileURL.URL == "" {
				return invalidParam(f + ".file_url")
			}
		default:
			return invalidParam(f + ".type")
		}
	}
	return nil
}

func validImage(u string) bool {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return true
	}
	b, err := base64.StdEncoding.DecodeString(u)
	return err == nil && len(b) > 0
}

// embeddingsRequest is the v4 embeddings body.
type embeddingsRequest struct {
	Model          *string         `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     *int            `json:"dimensions"`
	EncodingFormat *string         `json:"encoding_format"`
	User           *string         `json:"user"`
	RequestID      *string         `json:"request_id"`
}

func embeddings(w http.ResponseWriter, body []byte) {
	var req embeddingsRequest
	if err := decodeStrict(body, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if req.Model == nil || !strings.HasPrefix(*req.Model, "embedding-") {
		writeAPIError(w, &apiError{"1211", "模型不存在，请检查模型代码。"})
		return
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil && one != "" {
		inputs = []string{one}
	} else if json.Unmarshal(req.Input, &inputs) != nil || len(inputs) == 0 {
		writeAPIError(w, invalidParam("input"))
		return
	}
	dims := 4
	if req.Dimensions != nil {
		if *req.Dimensions < 1 {
			writeAPIError(w, invalidParam("dimensions"))
			return
		}
		dims = min(*req.Dimensions, 8)
	}
	data := make([]any, len(inputs))
	for i := range inputs {
		v := make([]float64, dims)
		for j := range v {
			v[j] = float64(i+1) / float64(j+2)
		}
		data[i] = map[string]any{"embedding": v, "index": i, "object": "embedding"}
	}
	n := len(inputs) * embedTokensPerInput
	writeJSON(w, http.StatusOK, map[string]any{
		"model":  *req.Model,
		"data":   data,
		"object": "list",
		"usage":  map[string]int{"completion_tokens": 0, "prompt_tokens": n, "total_tokens": n},
	})
}

// imagesRequest is the v4 image generation body.
type imagesRequest struct {
	Model          *string `json:"model"`
	Prompt         *string `json:"prompt"`
	N              *int    `json:"n"`
	Quality        *string `json:"quality"`
	ResponseFormat *string `json:"response_format"`
	Size           *string `json:"size"`
	Style          *string `json:"style"`
	User           *string `json:"user"`
	UserID         *string `json:"user_id"`
	RequestID      *string `json:"request_id"`
	Watermark      *bool   `json:"watermark_enabled"`
}

func images(w http.ResponseWriter, body []byte) {
	var req imagesRequest
	if err := decodeStrict(body, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if req.Model == nil || !strings.HasPrefix(*req.Model, "cogview-") {
		writeAPIError(w, &apiError{"1211", "模型不存在，请检查模型代码。"})
		return
	}
	if req.Prompt == nil || *req.Prompt == "" {
		writeAPIError(w, &apiError{"1213", "未正常接收到 prompt 参数"})
		return
	}
	if q := req.Quality; q != nil && *q != "hd" && *q != "standard" {
		writeAPIError(w, invalidParam("quality"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"created": time.Now().Unix(),
		"data":    []any{map[string]string{"url": "https://aigc-files.bigmodel.cn/api/cogview/mock_0.png"}},
	})
}
