package ollama

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// renderRequest prints an HTTPRequest for golden files: method, URL,
// headers, and the body indented (the upstream gets it compact).
func renderRequest(t testing.TB, r *adaptors.HTTPRequest) []byte {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	if len(r.Body) > 0 {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, r.Body, "", "  "); err != nil {
			t.Fatalf("body is not valid JSON: %v: %s", err, r.Body)
		}
		fmt.Fprintf(&b, "\n%s\n", pretty.Bytes())
	}
	return []byte(b.String())
}

func TestBuildRequestGolden(t *testing.T) {
	a := New()
	tests := []struct {
		name string
		body string // file under testdata/build
		ch   adaptors.Channel
		req  adaptors.Request
	}{
		{"chat", "chat.json", adaptors.Channel{},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2", OriginModel: "llama3.2"}},
		{"chat_stream_key_base", "chat.json",
			adaptors.Channel{Key: "ollama-key", BaseURL: "https://ollama.com/", Config: map[string]string{"keep_alive": "10m"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "llama3.2:3b", OriginModel: "llama3.2", Stream: true}},
		{"chat_tools", "chat_tools.json", adaptors.Channel{Config: map[string]string{"keep_alive": "-1"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "qwen3", OriginModel: "qwen3", Stream: true}},
		{"chat_image", "chat_image.json", adaptors.Channel{BaseURL: "http://gpu-box:11434"},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "llava", OriginModel: "llava"}},
		{"chat_options", "chat_options.json", adaptors.Channel{Config: map[string]string{"api": "native"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-oss:20b", OriginModel: "gpt-oss:20b"}},
		{"embeddings", "embeddings.json", adaptors.Channel{Key: "k"},
			adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "nomic-embed-text", OriginModel: "nomic-embed-text"}},
		{"openai_chat_tools_stream", "chat_tools.json", adaptors.Channel{Config: map[string]string{"api": "openai"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "qwen3", OriginModel: "qwen3", Stream: true}},
		{"openai_chat_key_v1_base", "chat.json",
			adaptors.Channel{Key: "ollama-key", BaseURL: "https://ollama.com/v1/", Config: map[string]string{"api": "OpenAI"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gpt-oss:120b", OriginModel: "llama3.2"}},
		{"openai_embeddings", "embeddings.json", adaptors.Channel{Config: map[string]string{"api": "openai"}},
			adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "nomic-embed-text", OriginModel: "nomic-embed-text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Body = adaptortest.ReadFile(t, "testdata/build/"+tt.body)
			got, err := a.BuildRequest(&tt.ch, &req)
			if err != nil {
				t.Fatal(err)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderRequest(t, got), *update)
		})
	}
}

// buildBody builds a native chat request for body and decodes the
// upstream body, for tests that check one mapping at a time.
func buildBody(t *testing.T, body string, model string, stream bool) map[string]any {
	t.Helper()
	req := adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body), Stream: stream}
	r, err := New().BuildRequest(&adaptors.Channel{}, &req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", r.Body, err)
	}
	return m
}

func TestBuildChatMappings(t *testing.T) {
	const user = `{"role":"user","content":"Hi"}`
	weather := `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}`
	clock := `{"type":"function","function":{"name":"get_time"}}`
	tests := []struct {
		name  string
		body  string
		model string
		key   string // member of the upstream body to compare
		want  any    // nil: the member must be absent
	}{
		{"stream false is explicit", `{"messages":[` + user + `]}`, "m", "stream", false},
		{"system role", `{"messages":[{"role":"system","content":"S"},` + user + `]}`, "m", "messages",
			[]any{map[string]any{"role": "system", "content": "S"}, map[string]any{"role": "user", "content": "Hi"}}},
		{"developer role is system", `{"messages":[{"role":"developer","content":"D"}]}`, "m", "messages",
			[]any{map[string]any{"role": "system", "content": "D"}}},
		{"null content", `{"messages":[{"role":"user","content":null}]}`, "m", "messages",
			[]any{map[string]any{"role": "user", "content": ""}}},
		{"text parts joined", `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`, "m", "messages",
			[]any{map[string]any{"role": "user", "content": "a\nb"}}},
		{"image url string form", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:image/jpeg;base64,/9j/4AAQ"}]}]}`, "m", "messages",
			[]any{map[string]any{"role": "user", "content": "", "images": []any{"/9j/4AAQ"}}}},
		{"assistant function_call (deprecated)", `{"messages":[` + user + `,{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{\"a\":1}"}},{"role":"function","name":"f","content":"ok"}]}`, "m", "messages",
			[]any{
				map[string]any{"role": "user", "content": "Hi"},
				map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"function": map[string]any{"index": 0.0, "name": "f", "arguments": map[string]any{"a": 1.0}}}}},
				map[string]any{"role": "tool", "content": "ok", "tool_name": "f"},
			}},
		{"tool result name from latest call with that id", `{"messages":[` + user +
			`,{"role":"assistant","tool_calls":[{"id":"call_0","type":"function","function":{"name":"old","arguments":""}}]}` +
			`,{"role":"tool","tool_call_id":"call_0","content":"1"}` +
			`,{"role":"assistant","tool_calls":[{"id":"call_0","type":"function","function":{"name":"new","arguments":{"x":true}}}]}` +
			`,{"role":"tool","tool_call_id":"call_0","content":"2"},{"role":"tool","tool_call_id":"unknown","name":"given","content":"3"}]}`, "m", "messages",
			[]any{
				map[string]any{"role": "user", "content": "Hi"},
				map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"id": "call_0", "function": map[string]any{"index": 0.0, "name": "old", "arguments": map[string]any{}}}}},
				map[string]any{"role": "tool", "content": "1", "tool_name": "old", "tool_call_id": "call_0"},
				map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"id": "call_0", "function": map[string]any{"index": 0.0, "name": "new", "arguments": map[string]any{"x": true}}}}},
				map[string]any{"role": "tool", "content": "2", "tool_name": "new", "tool_call_id": "call_0"},
				map[string]any{"role": "tool", "content": "3", "tool_name": "given", "tool_call_id": "unknown"},
			}},
		{"reasoning echoed as thinking", `{"messages":[{"role":"assistant","content":"A","reasoning":"R"}]}`, "m", "messages",
			[]any{map[string]any{"role": "assistant", "content": "A", "thinking": "R"}}},
		{"tool_choice none drops tools", `{"messages":[` + user + `],"tools":[` + weather + `],"tool_choice":"none"}`, "m", "tools", nil},
		{"tool_choice required keeps all", `{"messages":[` + user + `],"tools":[` + weather + `,` + clock + `],"tool_choice":"required"}`, "m", "tools",
			[]any{
				map[string]any{"type": "function", "function": map[string]any{"name": "get_weather", "parameters": map[string]any{"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}}}},
				map[string]any{"type": "function", "function": map[string]any{"name": "get_time", "parameters": map[string]any{"type": "object", "properties": map[string]any{}}}},
			}},
		{"tool_choice named keeps that tool", `{"messages":[` + user + `],"tools":[` + weather + `,` + clock + `],"tool_choice":{"type":"function","function":{"name":"get_time"}}}`, "m", "tools",
			[]any{map[string]any{"type": "function", "function": map[string]any{"name": "get_time", "parameters": map[string]any{"type": "object", "properties": map[string]any{}}}}}},
		{"no options", `{"messages":[` + user + `]}`, "m", "options", nil},
		{"max_tokens", `{"messages":[` + user + `],"max_tokens":64}`, "m", "options", map[string]any{"num_predict": 64.0}},
		{"max_completion_tokens wins", `{"messages":[` + user + `],"max_tokens":64,"max_completion_tokens":128}`, "m", "options", map[string]any{"num_predict": 128.0}},
		{"zero max_tokens ignored", `{"messages":[` + user + `],"max_tokens":0}`, "m", "options", nil},
		{"temperature zero kept", `{"messages":[` + user + `],"temperature":0}`, "m", "options", map[string]any{"temperature": 0.0}},
		{"stop string", `{"messages":[` + user + `],"stop":"END"}`, "m", "options", map[string]any{"stop": []any{"END"}}},
		{"stop array", `{"messages":[` + user + `],"stop":["a","b"]}`, "m", "options", map[string]any{"stop": []any{"a", "b"}}},
		{"stop null", `{"messages":[` + user + `],"stop":null}`, "m", "options", nil},
		{"top_k seed penalties", `{"messages":[` + user + `],"top_k":40,"seed":7,"presence_penalty":0.5,"frequency_penalty":-0.5}`, "m", "options",
			map[string]any{"top_k": 40.0, "seed": 7.0, "presence_penalty": 0.5, "frequency_penalty": -0.5}},
		{"json_object format", `{"messages":[` + user + `],"response_format":{"type":"json_object"}}`, "m", "format", "json"},
		{"json_schema format", `{"messages":[` + user + `],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}`, "m", "format", map[string]any{"type": "object"}},
		{"text format", `{"messages":[` + user + `],"response_format":{"type":"text"}}`, "m", "format", nil},
		{"no effort no think", `{"messages":[` + user + `]}`, "qwen3", "think", nil},
		{"effort none", `{"messages":[` + user + `],"reasoning_effort":"none"}`, "qwen3", "think", false},
		{"effort on bool model", `{"messages":[` + user + `],"reasoning_effort":"low"}`, "qwen3", "think", true},
		{"effort level on gpt-oss", `{"messages":[` + user + `],"reasoning_effort":"low"}`, "gpt-oss:120b", "think", "low"},
		{"effort minimal on gpt-oss", `{"messages":[` + user + `],"reasoning_effort":"minimal"}`, "gpt-oss", "think", "low"},
		{"effort medium on gpt-oss", `{"messages":[` + user + `],"reasoning_effort":"medium"}`, "gpt-oss:20b", "think", "medium"},
		{"model from the request, not the body", `{"model":"client-name","messages":[` + user + `]}`, "mapped", "model", "mapped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildBody(t, tt.body, tt.model, false)
			got, ok := m[tt.key]
			if tt.want == nil {
				if ok {
					t.Fatalf("%s = %v, want absent", tt.key, got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.key, diff)
			}
		})
	}
}

func TestBuildStreamFlag(t *testing.T) {
	// The transport's flag decides, whatever the body says: Ollama must
	// never stream to a non-stream client.
	for _, stream := range []bool{false, true} {
		m := buildBody(t, `{"stream":true,"messages":[{"role":"user","content":"x"}]}`, "m", stream)
		if m["stream"] != stream {
			t.Errorf("Stream=%v: body stream = %v", stream, m["stream"])
		}
	}
}

func TestBuildKeepAlive(t *testing.T) {
	for _, tt := range []struct {
		config string
		want   string
	}{{"5m", `"5m"`}, {"0", `0`}, {"-1", `-1`}, {" 3600 ", `3600`}, {"", ``}, {"NaN", `"NaN"`}, {"+5", `"+5"`}} {
		ch := adaptors.Channel{Config: map[string]string{"keep_alive": tt.config}}
		req := adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`{"messages":[{"role":"user","content":"x"}]}`)}
		r, err := New().BuildRequest(&ch, &req)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatal(err)
		}
		if got := string(m["keep_alive"]); got != tt.want {
			t.Errorf("keep_alive %q: got %s, want %s", tt.config, got, tt.want)
		}
	}
}

func TestBuildHeaders(t *testing.T) {
	a := New()
	body := []byte(`{"messages":[{"role":"user","content":"x"}]}`)
	for _, tt := range []struct {
		name string
		ch   adaptors.Channel
		mode adaptors.Mode
		want []adaptors.Header
	}{
		{"native no key", adaptors.Channel{}, adaptors.ModeChat,
			[]adaptors.Header{{Key: "Content-Type", Value: "application/json"}}},
		{"native key", adaptors.Channel{Key: "sk"}, adaptors.ModeChat,
			[]adaptors.Header{{Key: "Authorization", Value: "Bearer sk"}, {Key: "Content-Type", Value: "application/json"}}},
		{"openai no key: no empty bearer", adaptors.Channel{Config: map[string]string{"api": "openai"}}, adaptors.ModeChat,
			[]adaptors.Header{{Key: "Content-Type", Value: "application/json"}}},
		{"openai key", adaptors.Channel{Key: "sk", Config: map[string]string{"api": "openai"}}, adaptors.ModeChat,
			[]adaptors.Header{{Key: "Authorization", Value: "Bearer sk"}, {Key: "Content-Type", Value: "application/json"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := adaptors.Request{Mode: tt.mode, Model: "m", OriginModel: "m", Body: body}
			r, err := a.BuildRequest(&tt.ch, &req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRequestErrors(t *testing.T) {
	a := New()
	tests := []struct {
		name string
		ch   adaptors.Channel
		mode adaptors.Mode
		body string
		want error
	}{
		{"completions on native", adaptors.Channel{}, adaptors.ModeCompletions, `{"prompt":"x"}`, adaptors.ErrUnsupportedMode},
		{"images on native", adaptors.Channel{}, adaptors.ModeImagesGenerations, `{"prompt":"x"}`, adaptors.ErrUnsupportedMode},
		{"moderations on openai", adaptors.Channel{Config: map[string]string{"api": "openai"}}, adaptors.ModeModerations, `{"input":"x"}`, adaptors.ErrUnsupportedMode},
		{"unknown api", adaptors.Channel{Config: map[string]string{"api": "grpc"}}, adaptors.ModeChat, `{"messages":[]}`, adaptors.ErrUnsupportedMode},
		{"array body", adaptors.Channel{}, adaptors.ModeChat, `[]`, adaptors.ErrInvalidBody},
		{"truncated body", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[`, adaptors.ErrInvalidBody},
		{"no messages", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[]}`, adaptors.ErrInvalidBody},
		{"bad role", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"robot","content":"x"}]}`, adaptors.ErrInvalidBody},
		{"content number", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":1}]}`, adaptors.ErrInvalidBody},
		{"audio part", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}`, adaptors.ErrInvalidBody},
		{"http image not inlined", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`, adaptors.ErrInvalidBody},
		{"non-base64 data url", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml,<svg/>"}}]}]}`, adaptors.ErrInvalidBody},
		{"tool call arguments not an object", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, adaptors.ErrInvalidBody},
		{"tool call without name", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}]}`, adaptors.ErrInvalidBody},
		{"non-function tool", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"c"}}]}`, adaptors.ErrInvalidBody},
		{"unknown named tool", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}`, adaptors.ErrInvalidBody},
		{"bad tool_choice", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"sometimes"}`, adaptors.ErrInvalidBody},
		{"bad stop", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":"x"}],"stop":[1]}`, adaptors.ErrInvalidBody},
		{"bad response_format", adaptors.Channel{}, adaptors.ModeChat, `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"grammar"}}`, adaptors.ErrInvalidBody},
		{"embed token arrays", adaptors.Channel{}, adaptors.ModeEmbeddings, `{"input":[[1,2,3]]}`, adaptors.ErrInvalidBody},
		{"embed no input", adaptors.Channel{}, adaptors.ModeEmbeddings, `{"model":"e"}`, adaptors.ErrInvalidBody},
		{"embed empty input", adaptors.Channel{}, adaptors.ModeEmbeddings, `{"input":[]}`, adaptors.ErrInvalidBody},
		{"embed bad encoding", adaptors.Channel{}, adaptors.ModeEmbeddings, `{"input":"x","encoding_format":"int8"}`, adaptors.ErrInvalidBody},
		{"embed zero dimensions", adaptors.Channel{}, adaptors.ModeEmbeddings, `{"input":"x","dimensions":0}`, adaptors.ErrInvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := adaptors.Request{Mode: tt.mode, Model: "m", Body: []byte(tt.body)}
			_, err := a.BuildRequest(&tt.ch, &req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzBuildChat: any client body either fails with ErrInvalidBody or
// yields a valid JSON request with an explicit stream flag; never a panic.
func FuzzBuildChat(f *testing.F) {
	for _, name := range []string{"chat.json", "chat_tools.json", "chat_image.json", "chat_options.json"} {
		f.Add(adaptortest.ReadFile(f, "testdata/build/"+name))
	}
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:,"}]}]}`))
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: body}
		r, err := a.BuildRequest(&adaptors.Channel{}, &req)
		if err != nil {
			if !errors.Is(err, adaptors.ErrInvalidBody) {
				t.Fatalf("error %v does not wrap ErrInvalidBody", err)
			}
			return
		}
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatalf("invalid upstream body %q: %v", r.Body, err)
		}
		if m["stream"] != false {
			t.Fatalf("stream = %v", m["stream"])
		}
	})
}
