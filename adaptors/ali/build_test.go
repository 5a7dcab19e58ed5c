package ali

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

func TestBuildRequestGolden(t *testing.T) {
	key := adaptors.Channel{Type: ChannelType, Key: "sk-test"}
	compat := adaptors.Channel{Type: ChannelType, Key: "sk-test", Config: map[string]string{ConfigAPI: "openai"}}
	bailian := adaptors.Channel{Type: BailianChannelType, Key: "sk-test"}
	tests := []struct {
		name   string // golden under testdata/build
		body   string // input under testdata/build
		mode   adaptors.Mode
		model  string
		stream bool
		ch     adaptors.Channel
		a      *Adaptor
	}{
		{"chat", "chat.json", adaptors.ModeChat, "qwen-plus", false, key, New()},
		{"chat_stream", "chat_stream.json", adaptors.ModeChat, "qwen-plus", true, key, New()},
		{"chat_tools", "chat_tools.json", adaptors.ModeChat, "qwen-plus", false, key, New()},
		{"chat_image", "chat_image.json", adaptors.ModeChat, "qwen-vl-max", true, key, New()},
		{"chat_vl_text", "chat.json", adaptors.ModeChat, "qwen3-vl-plus", false, key, New()},
		{"chat_extras", "chat_extras.json", adaptors.ModeChat, "qwen3-235b-a22b", false, key, New()},
		{"chat_internet", "chat.json", adaptors.ModeChat, "qwen-max-internet", false, key, New()},
		{"chat_intl_workspace", "chat.json", adaptors.ModeChat, "qwen-plus", false,
			adaptors.Channel{Key: "sk-intl", BaseURL: "https://dashscope-intl.aliyuncs.com/api/v1/", Config: map[string]string{ConfigWorkspace: "llm-ws123"}}, New()},
		{"embed", "embed.json", adaptors.ModeEmbeddings, "text-embedding-v4", false, key, New()},
		{"embed_string", "embed_string.json", adaptors.ModeEmbeddings, "text-embedding-v3", false, key, New()},
		{"image", "image.json", adaptors.ModeImagesGenerations, "wanx-v1", false, key, New()},
		{"image_sdxl", "image.json", adaptors.ModeImagesGenerations, "ali-stable-diffusion-xl", false, bailian, NewBailian()},
		{"compat_chat", "chat.json", adaptors.ModeChat, "qwen-plus", false, compat, New()},
		{"compat_stream", "chat_stream.json", adaptors.ModeChat, "qwen-plus", true, compat, New()},
		{"compat_tools", "chat_tools.json", adaptors.ModeChat, "qwen-plus", false, compat, New()},
		{"compat_embed", "embed.json", adaptors.ModeEmbeddings, "text-embedding-v4", false, bailian, New()},
		{"bailian_internet", "chat_stream.json", adaptors.ModeChat, "qwen-plus-internet", true,
			adaptors.Channel{Type: BailianChannelType, Key: "sk-test", BaseURL: "https://dashscope.aliyuncs.com/compatible-mode/v1"}, NewBailian()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/build/"+tt.body)
			req := newReq(tt.mode, tt.model, tt.stream, in)
			req.OriginModel = "qwen-plus" // the body's model for chat bodies
			if tt.mode != adaptors.ModeChat {
				req.OriginModel = tt.model
			}
			got, err := tt.a.BuildRequest(&tt.ch, req)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got.Body) {
				t.Fatalf("body is not JSON: %s", got.Body)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderRequest(got), *update)
		})
	}
}

// built builds body for model on the native API and returns the decoded
// upstream body.
func built(t *testing.T, model string, stream bool, body string) (map[string]any, error) {
	t.Helper()
	r, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, chatReq(model, stream, body))
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v, nil
}

// TestMessageMapping checks each message rule on decoded bodies.
func TestMessageMapping(t *testing.T) {
	tests := []struct {
		name, model, body string
		want              []any
	}{
		{"string content kept", "qwen-plus", `{"messages":[{"role":"user","content":"Hi"}]}`,
			[]any{map[string]any{"role": "user", "content": "Hi"}}},
		{"null content is empty", "qwen-plus", `{"messages":[{"role":"user","content":null}]}`,
			[]any{map[string]any{"role": "user", "content": ""}}},
		{"system and developer merged first", "qwen-plus",
			`{"messages":[{"role":"user","content":"Hi"},{"role":"system","content":"A"},{"role":"developer","content":[{"type":"text","text":"B"}]},{"role":"system","content":""}]}`,
			[]any{map[string]any{"role": "system", "content": "A\n\nB"}, map[string]any{"role": "user", "content": "Hi"}}},
		{"text parts joined", "qwen-plus", `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`,
			[]any{map[string]any{"role": "user", "content": "a\nb"}}},
		{"refusal part is text", "qwen-plus", `{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"refusal","refusal":"No."}]}]}`,
			[]any{map[string]any{"role": "user", "content": "Hi"}, map[string]any{"role": "assistant", "content": "No."}}},
		{"tool turn", "qwen-plus",
			`{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":""}}]},{"role":"tool","tool_call_id":"c1","content":"42"}]}`,
			[]any{
				map[string]any{"role": "user", "content": "Hi"},
				map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "f", "arguments": "{}"}}}},
				map[string]any{"role": "tool", "content": "42", "tool_call_id": "c1", "name": "f"},
			}},
		{"tool result of an unknown call has no name", "qwen-plus",
			`{"messages":[{"role":"user","content":"Hi"},{"role":"tool","tool_call_id":"zz","content":"x"}]}`,
			[]any{map[string]any{"role": "user", "content": "Hi"}, map[string]any{"role": "tool", "content": "x", "tool_call_id": "zz"}}},
		{"multimodal model: text items", "qwen-vl-plus", `{"messages":[{"role":"system","content":"S"},{"role":"user","content":"Hi"}]}`,
			[]any{map[string]any{"role": "system", "content": []any{map[string]any{"text": "S"}}}, map[string]any{"role": "user", "content": []any{map[string]any{"text": "Hi"}}}}},
		{"image part: multimodal items", "qwen-plus",
			`{"messages":[{"role":"user","content":[{"type":"text","text":"What?"},{"type":"image_url","image_url":{"url":"https://e.com/a.png"}}]}]}`,
			[]any{map[string]any{"role": "user", "content": []any{map[string]any{"text": "What?"}, map[string]any{"image": "https://e.com/a.png"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := built(t, tt.model, false, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			got := v["input"].(map[string]any)["messages"]
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParameterMapping checks each parameter rule.
func TestParameterMapping(t *testing.T) {
	user := `"messages":[{"role":"user","content":"Hi"}]`
	base := map[string]any{"result_format": "message"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tool := `"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	twoTools := `"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]`
	fTool := []any{map[string]any{"type": "function", "function": map[string]any{"name": "f", "parameters": map[string]any{"type": "object"}}}}
	tests := []struct {
		name, model, body string
		stream            bool
		want              map[string]any
	}{
		{"defaults", "qwen-plus", `{` + user + `}`, false, base},
		{"stream is incremental", "qwen-plus", `{` + user + `}`, true, with("incremental_output", true)},
		{"max_tokens", "qwen-plus", `{` + user + `,"max_tokens":7}`, false, with("max_tokens", 7.0)},
		{"max_completion_tokens wins", "qwen-plus", `{` + user + `,"max_tokens":7,"max_completion_tokens":9}`, false, with("max_tokens", 9.0)},
		{"stop string", "qwen-plus", `{` + user + `,"stop":"END"}`, false, with("stop", []any{"END"})},
		{"stop array, empties dropped", "qwen-plus", `{` + user + `,"stop":["a","","b"]}`, false, with("stop", []any{"a", "b"})},
		{"stop null and empty", "qwen-plus", `{` + user + `,"stop":[""]}`, false, base},
		{"sampling", "qwen-plus", `{` + user + `,"temperature":0,"top_p":0.5,"seed":7,"presence_penalty":1,"frequency_penalty":-0.5}`, false,
			with("temperature", 0.0, "top_p", 0.5, "seed", 7.0, "presence_penalty", 1.0, "frequency_penalty", -0.5)},
		{"dashscope extras", "qwen-plus", `{` + user + `,"top_k":5,"repetition_penalty":1.1,"enable_search":true,"search_options":{"forced_search":true},"enable_thinking":false,"thinking_budget":64}`, false,
			with("top_k", 5.0, "repetition_penalty", 1.1, "enable_search", true, "search_options", map[string]any{"forced_search": true}, "enable_thinking", false, "thinking_budget", 64.0)},
		{"internet suffix", "qwen-plus-internet", `{` + user + `}`, false, with("enable_search", true)},
		{"n", "qwen-plus", `{` + user + `,"n":3}`, false, with("n", 3.0)},
		{"n 1 omitted", "qwen-plus", `{` + user + `,"n":1}`, false, base},
		{"reasoning none", "qwen-plus", `{` + user + `,"reasoning_effort":"none"}`, false, with("enable_thinking", false)},
		{"reasoning high", "qwen-plus", `{` + user + `,"reasoning_effort":"high"}`, false, with("enable_thinking", true)},
		{"enable_thinking beats effort", "qwen-plus", `{` + user + `,"reasoning_effort":"high","enable_thinking":false}`, false, with("enable_thinking", false)},
		{"response_format json_object", "qwen-plus", `{` + user + `,"response_format":{"type":"json_object"}}`, false,
			with("response_format", map[string]any{"type": "json_object"})},
		{"response_format json_schema", "qwen-plus", `{` + user + `,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}`, false,
			with("response_format", map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "x", "schema": map[string]any{"type": "object"}}})},
		{"response_format text omitted", "qwen-plus", `{` + user + `,"response_format":{"type":"text"}}`, false, base},
		{"tools", "qwen-plus", `{` + user + `,` + tool + `}`, false, with("tools", fTool)},
		{"tool_choice auto", "qwen-plus", `{` + user + `,` + tool + `,"tool_choice":"auto","parallel_tool_calls":false}`, false,
			with("tools", fTool, "tool_choice", "auto", "parallel_tool_calls", false)},
		{"tool_choice none", "qwen-plus", `{` + user + `,` + tool + `,"tool_choice":"none"}`, false, with("tools", fTool, "tool_choice", "none")},
		{"tool_choice required with one tool names it", "qwen-plus", `{` + user + `,` + tool + `,"tool_choice":"required"}`, false,
			with("tools", fTool, "tool_choice", map[string]any{"type": "function", "function": map[string]any{"name": "f"}})},
		{"tool_choice required with several tools", "qwen-plus", `{` + user + `,` + twoTools + `,"tool_choice":"required"}`, false,
			with("tools", []any{map[string]any{"type": "function", "function": map[string]any{"name": "f"}}, map[string]any{"type": "function", "function": map[string]any{"name": "g"}}}, "tool_choice", "required")},
		{"tool_choice named", "qwen-plus", `{` + user + `,` + tool + `,"tool_choice":{"type":"function","function":{"name":"f"}}}`, false,
			with("tools", fTool, "tool_choice", map[string]any{"type": "function", "function": map[string]any{"name": "f"}})},
		{"parallel_tool_calls without tools dropped", "qwen-plus", `{` + user + `,"parallel_tool_calls":true}`, false, base},
		{"ignored members", "qwen-plus", `{` + user + `,"user":"u","logit_bias":{"1":2},"stream_options":{"include_usage":true},"store":true}`, false, base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := built(t, tt.model, tt.stream, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, v["parameters"]); diff != "" {
				t.Errorf("parameters (-want +got):\n%s", diff)
			}
			if want := strings.TrimSuffix(tt.model, "-internet"); v["model"] != want {
				t.Errorf("model %v, want %s", v["model"], want)
			}
		})
	}
}

func TestBuildRequestInvalid(t *testing.T) {
	user := `"messages":[{"role":"user","content":"Hi"}]`
	tests := []struct {
		name, model, body string
		stream            bool
		msg               string
	}{
		{"not JSON", "qwen-plus", `[1]`, false, "not a json object"},
		{"garbage", "qwen-plus", `{"messages":`, false, ""},
		{"no messages", "qwen-plus", `{"messages":[]}`, false, "must not be empty"},
		{"only system", "qwen-plus", `{"messages":[{"role":"system","content":"S"}]}`, false, "user message"},
		{"unknown role", "qwen-plus", `{"messages":[{"role":"critic","content":"x"}]}`, false, `role "critic"`},
		{"function role", "qwen-plus", `{"messages":[{"role":"function","name":"f","content":"x"}]}`, false, `role "function"`},
		{"functions", "qwen-plus", `{` + user + `,"functions":[{"name":"f"}]}`, false, "functions"},
		{"tool without id", "qwen-plus", `{"messages":[{"role":"tool","content":"x"}]}`, false, "tool_call_id"},
		{"tool call without name", "qwen-plus", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","function":{"arguments":"{}"}}]}]}`, false, "function name"},
		{"content number", "qwen-plus", `{"messages":[{"role":"user","content":5}]}`, false, "string or an array"},
		{"audio part", "qwen-plus", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA=="}}]}]}`, false, "input_audio"},
		{"image in assistant turn", "qwen-vl-max", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://e.com/a.png"}}]}]}`, false, "user messages"},
		{"image file URL", "qwen-vl-max", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///etc/passwd"}}]}]}`, false, "http(s) URL"},
		{"max_tokens 0", "qwen-plus", `{` + user + `,"max_tokens":0}`, false, "at least 1"},
		{"stop number", "qwen-plus", `{` + user + `,"stop":5}`, false, "stop"},
		{"n streamed", "qwen-plus", `{` + user + `,"n":2}`, true, "n > 1"},
		{"tool type", "qwen-plus", `{` + user + `,"tools":[{"type":"code_interpreter"}]}`, false, "code_interpreter"},
		{"tool without name", "qwen-plus", `{` + user + `,"tools":[{"type":"function","function":{}}]}`, false, "name is required"},
		{"tool_choice unknown", "qwen-plus", `{` + user + `,"tool_choice":"any"}`, false, "tool_choice"},
		{"tool_choice names a missing tool", "qwen-plus", `{` + user + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, false, "not among the tools"},
		{"response_format unknown", "qwen-plus", `{` + user + `,"response_format":{"type":"grammar"}}`, false, "grammar"},
		{"model suffix only", "-internet", `{` + user + `}`, false, "no model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := built(t, tt.model, tt.stream, tt.body)
			if !errors.Is(err, adaptors.ErrInvalidBody) {
				t.Fatalf("err = %v, want ErrInvalidBody", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestBuildRequestModes(t *testing.T) {
	a := New()
	for _, m := range []adaptors.Mode{adaptors.ModeCompletions, adaptors.ModeImagesEdits, adaptors.ModeAudioSpeech, adaptors.ModeRerank, adaptors.ModeResponses, adaptors.ModeModerations} {
		for _, ch := range []adaptors.Channel{{Key: "k"}, {Key: "k", Type: BailianChannelType}} {
			req := chatReq("qwen-plus", false, "")
			req.Mode = m
			if _, err := a.BuildRequest(&ch, req); !errors.Is(err, adaptors.ErrUnsupportedMode) {
				t.Errorf("%s type %d: %v", m, ch.Type, err)
			}
			if _, err := a.ParseResponse(req, []byte(`{}`)); !errors.Is(err, adaptors.ErrUnsupportedMode) {
				t.Errorf("%s parse: %v", m, err)
			}
			if _, err := a.NewStreamDecoder(req, strings.NewReader("")).Next(); !errors.Is(err, adaptors.ErrUnsupportedMode) {
				t.Errorf("%s stream: %v", m, err)
			}
		}
	}
}

// TestAPIChoice: which API a channel speaks.
func TestAPIChoice(t *testing.T) {
	tests := []struct {
		a      *Adaptor
		ch     adaptors.Channel
		compat bool
	}{
		{New(), adaptors.Channel{Type: ChannelType}, false},
		{New(), adaptors.Channel{Type: BailianChannelType}, true},
		{New(), adaptors.Channel{Type: ChannelType, Config: map[string]string{ConfigAPI: "openai"}}, true},
		{New(), adaptors.Channel{Type: ChannelType, Config: map[string]string{ConfigAPI: " Compatible "}}, true},
		{NewBailian(), adaptors.Channel{}, true},
		{NewBailian(), adaptors.Channel{Type: BailianChannelType, Config: map[string]string{ConfigAPI: "native"}}, false},
		{New(), adaptors.Channel{Type: ChannelType, Config: map[string]string{ConfigAPI: "unknown"}}, false},
	}
	for i, tt := range tests {
		if got := tt.a.useCompat(&tt.ch); got != tt.compat {
			t.Errorf("%d: compat %v, want %v", i, got, tt.compat)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                      DefaultBaseURL,
		"https://dashscope-intl.aliyuncs.com/":  "https://dashscope-intl.aliyuncs.com",
		"https://dashscope.aliyuncs.com/api/v1": "https://dashscope.aliyuncs.com",
		"https://dashscope.aliyuncs.com/compatible-mode/v1/": "https://dashscope.aliyuncs.com",
		"https://proxy.example.com/ali/compatible-mode":      "https://proxy.example.com/ali",
		"http://127.0.0.1:8080":                              "http://127.0.0.1:8080",
	} {
		if got := base(&adaptors.Channel{BaseURL: in}); got != want {
			t.Errorf("base(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBuildRequestNoAlias: the built body never aliases the client's.
func TestBuildRequestNoAlias(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"Hi"}]}`)
	r, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, newReq(adaptors.ModeChat, "qwen-plus", false, body))
	if err != nil {
		t.Fatal(err)
	}
	before := string(r.Body)
	copy(body, strings.Repeat("x", len(body)))
	if string(r.Body) != before {
		t.Error("the upstream body changed with the client's")
	}
}

func TestWithEnableSearch(t *testing.T) {
	for in, want := range map[string]string{
		`{"model":"m"}`:   `{"enable_search":true,"model":"m"}`,
		` { } `:           `{"enable_search":true}`,
		"{\n \"a\": 1\n}": "{\"enable_search\":true,\"a\": 1\n}",
		`[1]`:             `[1]`,
		``:                ``,
	} {
		if got := string(withEnableSearch([]byte(in))); got != want {
			t.Errorf("withEnableSearch(%q) = %q, want %q", in, got, want)
		}
	}
}
