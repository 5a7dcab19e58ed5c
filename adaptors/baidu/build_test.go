package baidu

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// TestBuildRequestGolden builds each request of testdata/build and writes
// the upstream call: <name>.golden holds method, URL and headers,
// <name>.body.json the body (indented; the upstream gets it compact).
func TestBuildRequestGolden(t *testing.T) {
	v1 := v1Channel()
	proxied := v1Channel()
	proxied.BaseURL = "https://baidu-proxy.example.com/"
	v2Key := adaptors.Channel{Type: V2ChannelType, Key: "bce-v3/ALTAK-cGbxpVA5AbSz6h8nbLaFh/b539762075d55c76d93dc78bcf0a91beeaf0490a"}
	v2AppID := adaptors.Channel{Type: V2ChannelType, Key: v2Key.Key + "|app-Rb8JFN3GqnJKDx1s", BaseURL: "https://qianfan.baidubce.com/v2/"}
	tests := []struct {
		name string
		in   string
		a    adaptors.Adaptor
		ch   adaptors.Channel
		req  adaptors.Request
	}{
		{"chat", "chat.json", New(), v1, adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-4.0-8K", OriginModel: "ERNIE-4.0-8K"}},
		{"chat_stream", "chat_stream.json", New(), v1, adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-Speed-128K", Stream: true, IncludeUsage: true}},
		{"chat_tools", "chat_tools.json", New(), v1, adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-3.5-8K"}},
		{"chat_tool_choice_named", "chat_tool_choice_named.json", New(), v1, adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-Functions-8K", Stream: true}},
		{"chat_base_url", "chat.json", New(), proxied, adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-4.0-Turbo-8K"}},
		{"embeddings", "embeddings.json", New(), v1, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "bge-large-zh"}},
		{"v2_chat", "v2_chat.json", NewV2(), v2Key, adaptors.Request{Mode: adaptors.ModeChat, Model: "ernie-4.0-turbo-8k", OriginModel: "ernie-4.0-turbo-8k", Stream: true}},
		{"v2_image", "v2_image.json", NewV2(), v2AppID, adaptors.Request{Mode: adaptors.ModeChat, Model: "ernie-4.5-turbo-vl-32k", OriginModel: "ernie-4.5-turbo-vl-32k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Body = adaptortest.ReadFile(t, "testdata/build/"+tt.in)
			got, err := tt.a.BuildRequest(&tt.ch, &req)
			if err != nil {
				t.Fatal(err)
			}
			// The v2 adaptor forwards the client's bytes; ERNIE v1 bodies are built.
			if !strings.HasPrefix(tt.name, "v2") && bytes.Contains(got.Body, []byte("\n  ")) {
				t.Errorf("body is not compact: %s", got.Body)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderHead(got), *update)
			adaptortest.Golden(t, "testdata/build/"+tt.name+".body.json", indent(t, got.Body), *update)
		})
	}
}

// TestImagesRefused: ERNIE v1 chat is text only; an image part is a bad
// request, whatever its URL form, so the client hears it.
func TestImagesRefused(t *testing.T) {
	ch := v1Channel()
	body := adaptortest.ReadFile(t, "testdata/build/chat_image.json")
	_, err := New().BuildRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-4.0-8K", Body: body})
	if !errors.Is(err, adaptors.ErrInvalidBody) || !strings.Contains(err.Error(), "text only") {
		t.Errorf("got %v, want ErrInvalidBody saying ERNIE v1 takes text only", err)
	}
}

func TestBuildRequestErrors(t *testing.T) {
	ch := v1Channel()
	noToken := v1Channel()
	noToken.AccessToken = ""
	tests := []struct {
		name string
		ch   adaptors.Channel
		req  adaptors.Request
		want error
	}{
		{"not json", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`[1]`)}, adaptors.ErrInvalidBody},
		{"broken json", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`{"messages":[`)}, adaptors.ErrInvalidBody},
		{"no messages", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`{"messages":[]}`)}, adaptors.ErrInvalidBody},
		{"n", ch, adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`{"n":2,"messages":[{"role":"user","content":"x"}]}`)}, adaptors.ErrInvalidBody},
		{"no model", ch, adaptors.Request{Mode: adaptors.ModeChat, Body: []byte(`{"messages":[{"role":"user","content":"x"}]}`)}, adaptors.ErrInvalidBody},
		{"no token", noToken, adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`{"messages":[{"role":"user","content":"x"}]}`)}, ErrNoAccessToken},
		{"rerank", ch, adaptors.Request{Mode: adaptors.ModeRerank, Model: "m", Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode},
		{"images", ch, adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "m", Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode},
		{"embed dimensions", ch, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "tao-8k", Body: []byte(`{"input":"x","dimensions":256}`)}, adaptors.ErrInvalidBody},
		{"embed tokens", ch, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "tao-8k", Body: []byte(`{"input":[[1,2,3]]}`)}, adaptors.ErrInvalidBody},
		{"embed empty", ch, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "tao-8k", Body: []byte(`{"input":[]}`)}, adaptors.ErrInvalidBody},
		{"embed format", ch, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "tao-8k", Body: []byte(`{"input":"x","encoding_format":"int8"}`)}, adaptors.ErrInvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().BuildRequest(&tt.ch, &tt.req)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// messages returns the roles and contents of a built body's messages.
func messages(t *testing.T, m map[string]any) []string {
	t.Helper()
	var out []string
	for _, x := range m["messages"].([]any) {
		msg := x.(map[string]any)
		s := msg["role"].(string) + ":" + msg["content"].(string)
		if n, ok := msg["name"]; ok {
			s += " name=" + n.(string)
		}
		if fc, ok := msg["function_call"].(map[string]any); ok {
			s += " call=" + fc["name"].(string) + fc["arguments"].(string)
		}
		out = append(out, s)
	}
	return out
}

func TestMessages(t *testing.T) {
	tests := []struct {
		name, messages string
		want           []string
		system         string
	}{
		{
			name:     "system and developer become system",
			messages: `{"role":"system","content":"s1"},{"role":"user","content":"u"},{"role":"developer","content":[{"type":"text","text":"d"}]}`,
			want:     []string{"user:u"},
			system:   "s1\n\nd",
		},
		{
			name:     "consecutive turns merge",
			messages: `{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"assistant","content":"c"},{"role":"assistant","content":"d"},{"role":"user","content":"e"}`,
			want:     []string{"user:a\n\nb", "assistant:c\n\nd", "user:e"},
		},
		{
			name:     "parts join by newline, refusal is text",
			messages: `{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":[{"type":"refusal","refusal":"no"}]},{"role":"user","content":"c"}`,
			want:     []string{"user:a\nb", "assistant:no", "user:c"},
		},
		{
			name: "tool calls become function_call / function pairs",
			messages: `{"role":"user","content":"q"},` +
				`{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":""}},{"id":"2","type":"function","function":{"name":"g","arguments":"{\"x\":1}"}}]},` +
				`{"role":"tool","tool_call_id":"2","content":"r2"},{"role":"tool","tool_call_id":"1","content":"r1"}`,
			want: []string{"user:q", "assistant: call=f{}", "function:r1 name=f", "assistant: call=g{\"x\":1}", "function:r2 name=g"},
		},
		{
			name: "assistant text before a tool turn joins the call",
			messages: `{"role":"user","content":"q"},{"role":"assistant","content":"thinking"},` +
				`{"role":"assistant","content":"calling","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"1","content":"r"},{"role":"assistant","content":"done"},{"role":"user","content":"thanks"}`,
			want: []string{"user:q", "assistant:thinking\n\ncalling call=f{}", "function:r name=f", "assistant:done", "user:thanks"},
		},
		{
			name:     "legacy function_call and function role",
			messages: `{"role":"user","content":"q"},{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{\"a\":1}"}},{"role":"function","name":"f","content":"r"}`,
			want:     []string{"user:q", "assistant: call=f{\"a\":1}", "function:r name=f"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildBody(t, `{"messages":[`+tt.messages+`]}`)
			if diff := cmp.Diff(tt.want, messages(t, m)); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			sys, _ := m["system"].(string)
			if sys != tt.system {
				t.Errorf("system %q, want %q", sys, tt.system)
			}
		})
	}
}

// TestMessagesRefused: conversations ERNIE cannot take are refused before
// they are sent, with a reason.
func TestMessagesRefused(t *testing.T) {
	tests := []struct{ name, messages, want string }{
		{"only system", `{"role":"system","content":"s"}`, "no user message"},
		{"starts with assistant", `{"role":"assistant","content":"hi"},{"role":"user","content":"q"}`, "start with a user"},
		{"ends with assistant", `{"role":"user","content":"q"},{"role":"assistant","content":"prefill"}`, "end with a user"},
		{"user after tool result", `{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"1","content":"r"},{"role":"user","content":"more"}`, "alternate"},
		{"unanswered call", `{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"x"}`, "has no tool message"},
		{"orphan tool", `{"role":"user","content":"q"},{"role":"tool","tool_call_id":"9","content":"r"}`, "does not follow"},
		{"unknown role", `{"role":"critic","content":"q"}`, "not supported"},
		{"function without name", `{"role":"user","content":"q"},{"role":"function","content":"r"}`, "without name"},
		{"bad part", `{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}`, "not supported"},
		{"content object", `{"role":"user","content":{"a":1}}`, "string or an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := v1Channel()
			_, err := New().BuildRequest(&ch, chatReq(`{"messages":[`+tt.messages+`]}`, false))
			if !errors.Is(err, adaptors.ErrInvalidBody) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalidBody mentioning %q", err, tt.want)
			}
		})
	}
}

const weatherTools = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}},` +
	`{"type":"function","function":{"name":"get_time","description":"Time"}}]`

func TestToolChoice(t *testing.T) {
	one := `"tools":[{"type":"function","function":{"name":"get_weather"}}]`
	tests := []struct {
		name, tools, choice string
		functions           int
		want                string // tool_choice name, "" for none
	}{
		{"absent", weatherTools, "", 2, ""},
		{"auto", weatherTools, `"auto"`, 2, ""},
		{"none drops functions", weatherTools, `"none"`, 0, ""},
		{"required with one tool names it", one, `"required"`, 1, "get_weather"},
		{"required with several leaves the model free", weatherTools, `"required"`, 2, ""},
		{"named", weatherTools, `{"type":"function","function":{"name":"get_time"}}`, 2, "get_time"},
		{"legacy functions and function_call", "", "", 1, "f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"q"}],` + tt.tools
			if tt.choice != "" {
				body += `,"tool_choice":` + tt.choice
			}
			if tt.tools == "" {
				body += `"functions":[{"name":"f","parameters":{"type":"object"}}],"function_call":{"name":"f"}`
			}
			m := buildBody(t, body+`}`)
			fns, _ := m["functions"].([]any)
			if len(fns) != tt.functions {
				t.Errorf("%d functions, want %d", len(fns), tt.functions)
			}
			tc, _ := m["tool_choice"].(map[string]any)
			got := ""
			if tc != nil {
				got = tc["name"].(string)
				if tc["type"] != "function" || tc["function"].(map[string]any)["name"] != got {
					t.Errorf("tool_choice %v is not ERNIE's shape", tc)
				}
			}
			if got != tt.want {
				t.Errorf("tool_choice names %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`"any"`, `{"type":"function"}`, `{"type":"function","function":{"name":"nope"}}`, `7`} {
		ch := v1Channel()
		_, err := New().BuildRequest(&ch, chatReq(`{"messages":[{"role":"user","content":"q"}],`+weatherTools+`,"tool_choice":`+bad+`}`, false))
		if !errors.Is(err, adaptors.ErrInvalidBody) {
			t.Errorf("tool_choice %s: got %v, want ErrInvalidBody", bad, err)
		}
	}
}

// TestFunctions: a tool without description or parameters gets what
// Baidu requires.
func TestFunctions(t *testing.T) {
	m := buildBody(t, `{"messages":[{"role":"user","content":"q"}],`+weatherTools+`}`)
	got, _ := json.Marshal(m["functions"])
	want := `[{"description":"get_weather","name":"get_weather","parameters":{"properties":{"location":{"type":"string"}},"type":"object"}},` +
		`{"description":"Time","name":"get_time","parameters":{"properties":{},"type":"object"}}]`
	if string(got) != want {
		t.Errorf("functions\n got %s\nwant %s", got, want)
	}
	ch := v1Channel()
	for _, bad := range []string{
		`"tools":[{"type":"retrieval"}]`,
		`"tools":[{"type":"function","function":{"description":"no name"}}]`,
	} {
		if _, err := New().BuildRequest(&ch, chatReq(`{"messages":[{"role":"user","content":"q"}],`+bad+`}`, false)); !errors.Is(err, adaptors.ErrInvalidBody) {
			t.Errorf("%s: got %v, want ErrInvalidBody", bad, err)
		}
	}
}

func TestSampling(t *testing.T) {
	tests := []struct {
		name, members string
		want          map[string]any
	}{
		{"max_tokens", `"max_tokens":100`, map[string]any{"max_output_tokens": 100.0}},
		{"max_completion_tokens wins", `"max_tokens":100,"max_completion_tokens":200`, map[string]any{"max_output_tokens": 200.0}},
		{"no max: model default", ``, map[string]any{"max_output_tokens": nil}},
		{"temperature 0 becomes the smallest ERNIE takes", `"temperature":0`, map[string]any{"temperature": 0.01}},
		{"temperature above 1 is clamped", `"temperature":1.7`, map[string]any{"temperature": 1.0}},
		{"temperature in range", `"temperature":0.3,"top_p":0.5`, map[string]any{"temperature": 0.3, "top_p": 0.5}},
		{"stop string", `"stop":"x"`, map[string]any{"stop": []any{"x"}}},
		{"stop array", `"stop":["x","y"]`, map[string]any{"stop": []any{"x", "y"}}},
		{"stop empty string", `"stop":""`, map[string]any{"stop": nil}},
		{"user", `"user":"u-1"`, map[string]any{"user_id": "u-1"}},
		{"json_object", `"response_format":{"type":"json_object"}`, map[string]any{"response_format": "json_object"}},
		{"json_schema", `"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}`, map[string]any{"response_format": "json_object"}},
		{"text", `"response_format":{"type":"text"}`, map[string]any{"response_format": nil}},
		{"baidu members pass", `"penalty_score":1.5,"disable_search":true,"enable_citation":false`, map[string]any{"penalty_score": 1.5, "disable_search": true, "enable_citation": false}},
		{"openai-only members are not sent", `"frequency_penalty":1,"presence_penalty":1,"seed":3,"logprobs":true,"stream_options":{"include_usage":true}`,
			map[string]any{"frequency_penalty": nil, "presence_penalty": nil, "seed": nil, "logprobs": nil, "stream_options": nil, "stream": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"q"}]`
			if tt.members != "" {
				body += "," + tt.members
			}
			m := buildBody(t, body+"}")
			for k, want := range tt.want {
				if diff := cmp.Diff(want, m[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
		})
	}
	ch := v1Channel()
	for _, bad := range []string{`"stop":5`, `"response_format":{"type":"grammar"}`} {
		if _, err := New().BuildRequest(&ch, chatReq(`{"messages":[{"role":"user","content":"q"}],`+bad+`}`, false)); !errors.Is(err, adaptors.ErrInvalidBody) {
			t.Errorf("%s: got %v, want ErrInvalidBody", bad, err)
		}
	}
}

// TestStreamFlag: a stream is asked for in the body; Baidu documents no
// header for it.
func TestStreamFlag(t *testing.T) {
	ch := v1Channel()
	r, err := New().BuildRequest(&ch, chatReq(`{"messages":[{"role":"user","content":"q"}]}`, true))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(r.Body, []byte(`"stream":true`)) {
		t.Errorf("no stream member: %s", r.Body)
	}
	if len(r.Header) != 1 || r.Header[0] != (adaptors.Header{Key: "Content-Type", Value: "application/json"}) {
		t.Errorf("headers %v", r.Header)
	}
}

func TestEndpoints(t *testing.T) {
	for model, want := range map[string]string{
		"ERNIE-4.0-8K": "completions_pro", "ERNIE-3.5-8K": "completions", "ERNIE-Speed-128K": "ernie-speed-128k",
		"ERNIE-Speed-8K": "ernie_speed", "ERNIE-Lite-8K": "ernie-lite-8k", "ERNIE-Tiny-8K": "ernie-tiny-8k",
		"ERNIE-4.0-Turbo-8K": "ernie-4.0-turbo-8k", "ERNIE-Character-8K": "ernie-char-8k", "ERNIE-Functions-8K": "ernie-func-8k",
		"ERNIE-Lite-8K-0922": "eb-instant", "ERNIE-Bot-turbo": "eb-instant", "ERNIE-Bot-8K": "ernie_bot_8k", "BLOOMZ-7B": "bloomz_7b1",
		"ernie-4.0-8k": "completions_pro", "Qianfan-Agent-Speed-8K": "qianfan-agent-speed-8k", "my-custom-svc": "my-custom-svc",
	} {
		if got := ChatEndpoint(model); got != want {
			t.Errorf("ChatEndpoint(%q) = %q, want %q", model, got, want)
		}
	}
	for model, want := range map[string]string{"Embedding-V1": "embedding-v1", "bge-large-zh": "bge_large_zh", "bge-large-en": "bge_large_en", "tao-8k": "tao_8k", "custom-emb": "custom-emb"} {
		if got := EmbeddingEndpoint(model); got != want {
			t.Errorf("EmbeddingEndpoint(%q) = %q, want %q", model, got, want)
		}
	}
	// Every default model has an endpoint.
	for _, m := range Models() {
		if ChatEndpoint(m) == "" {
			t.Errorf("%s: no endpoint", m)
		}
	}
}

// TestBuildDoesNotMutate: the client body is read-only.
func TestBuildDoesNotMutate(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/build/chat_tools.json")
	orig := bytes.Clone(body)
	ch := v1Channel()
	if _, err := New().BuildRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "ERNIE-3.5-8K", Body: body}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, orig) {
		t.Error("BuildRequest changed the client body")
	}
}
