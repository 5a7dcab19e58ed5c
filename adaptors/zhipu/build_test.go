package zhipu

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// TestBuildRequestGolden builds each request of testdata/build and
// compares the whole upstream call (method, URL, headers, body).
func TestBuildRequestGolden(t *testing.T) {
	chat := func(model string, stream bool) adaptors.Request {
		return adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Stream: stream, IncludeUsage: stream}
	}
	base := func(url string) adaptors.Channel {
		ch := jwtChannel()
		ch.BaseURL = url
		return ch
	}
	tests := []struct {
		name string
		in   string // file under testdata/build
		ch   adaptors.Channel
		req  adaptors.Request
	}{
		{"chat", "chat.json", jwtChannel(), chat("glm-4-plus", false)},
		{"chat_key_auth", "chat.json", keyChannel(), chat("glm-4-plus", false)},
		// Channel model mapping: the body's model is the upstream one.
		{"chat_model_mapped", "chat.json", jwtChannel(), adaptors.Request{Mode: adaptors.ModeChat, Model: "glm-4-air-250414", OriginModel: "glm-4-plus"}},
		// stream_options is not sent: v4 reports usage unasked.
		{"chat_stream", "chat_stream.json", jwtChannel(), chat("glm-4.6", true)},
		{"chat_stream_base_url", "chat_stream.json", base("https://zhipu-proxy.example.com/"), chat("glm-4.6", true)},
		{"chat_stream_base_url_v4_root", "chat_stream.json", base("https://open.bigmodel.cn/api/coding/paas/v4/"), chat("glm-4.6", true)},
		// Tools, an assistant tool-call turn and a tool result.
		{"chat_tools", "chat_tools.json", jwtChannel(), chat("glm-4.6", false)},
		// A data URL loses its prefix; an http(s) URL is forwarded.
		{"chat_image", "chat_image.json", jwtChannel(), chat("glm-4v-plus-0111", false)},
		// Clamped sampling, developer role, joined parts, stop, max tokens,
		// thinking off, json_schema → json_object, user → user_id.
		{"chat_sampling", "chat_sampling.json", jwtChannel(), chat("glm-4.5", false)},
		// A named function: only it is offered; streamed tool arguments
		// asked from glm-4.6.
		{"chat_tool_choice_named", "chat_tool_choice_named.json", jwtChannel(), chat("glm-4.6", true)},
		{"chat_tool_choice_none", "chat_tool_choice_none.json", jwtChannel(), chat("glm-4-flash", false)},
		// v4's own members forwarded, thinking wins over reasoning_effort.
		{"chat_zhipu_native", "chat_zhipu_native.json", jwtChannel(), chat("glm-4.5-air", true)},
		{"embeddings", "embeddings.json", jwtChannel(), adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embedding-3", OriginModel: "embedding-3"}},
		{"embeddings_mapped_key_auth", "embeddings.json", keyChannel(), adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embedding-2", OriginModel: "embedding-3"}},
		{"images_generations", "images_generations.json", base("https://open.bigmodel.cn/api/paas/v4"), adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "cogview-4", OriginModel: "cogview-4"}},
	}
	a := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Body = adaptortest.ReadFile(t, "testdata/build/"+tt.in)
			got, err := a.BuildRequest(&tt.ch, &req)
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

// build converts body (a chat request for model) and decodes the
// upstream body.
func build(t *testing.T, model, body string, stream bool) map[string]any {
	t.Helper()
	ch := jwtChannel()
	r, err := New().BuildRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body), Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBuildSampling(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]any // members checked (nil: absent)
	}{
		{"inside kept", `"temperature":0.5,"top_p":0.5`, map[string]any{"temperature": 0.5, "top_p": 0.5, "do_sample": nil}},
		{"zero temperature is greedy", `"temperature":0`, map[string]any{"temperature": 0.01, "do_sample": false}},
		{"negative temperature", `"temperature":-1`, map[string]any{"temperature": 0.01, "do_sample": false}},
		{"one temperature", `"temperature":1`, map[string]any{"temperature": 0.99, "do_sample": nil}},
		{"openai max temperature", `"temperature":2`, map[string]any{"temperature": 0.99}},
		{"zero temperature beats do_sample", `"temperature":0,"do_sample":true`, map[string]any{"do_sample": false}},
		{"do_sample forwarded", `"do_sample":true`, map[string]any{"do_sample": true, "temperature": nil}},
		{"top_p one", `"top_p":1`, map[string]any{"top_p": 0.99}},
		{"top_p zero", `"top_p":0`, map[string]any{"top_p": 0.01}},
		{"absent", ``, map[string]any{"temperature": nil, "top_p": nil, "do_sample": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"glm-4","messages":[{"role":"user","content":"hi"}]`
			if tt.in != "" {
				body += "," + tt.in
			}
			got := build(t, "glm-4", body+"}", false)
			for k, want := range tt.want {
				if diff := cmp.Diff(want, got[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}

func TestBuildMaxTokensAndStop(t *testing.T) {
	tests := []struct {
		name, in  string
		maxTokens any
		stop      any
	}{
		{"no default max_tokens", ``, nil, nil},
		{"max_tokens", `,"max_tokens":10`, 10.0, nil},
		{"max_completion_tokens wins", `,"max_tokens":10,"max_completion_tokens":20`, 20.0, nil},
		{"stop string", `,"stop":"END"`, nil, []any{"END"}},
		{"stop array", `,"stop":["a","b"]`, nil, []any{"a", "b"}},
		{"stop empty string", `,"stop":""`, nil, nil},
		{"stop null", `,"stop":null`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(t, "glm-4", `{"messages":[{"role":"user","content":"hi"}]`+tt.in+`}`, false)
			if diff := cmp.Diff(tt.maxTokens, got["max_tokens"]); diff != "" {
				t.Errorf("max_tokens (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.stop, got["stop"]); diff != "" {
				t.Errorf("stop (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRoles(t *testing.T) {
	body := `{"messages":[
		{"role":"developer","content":"dev"},
		{"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
		{"role":"user","content":[{"type":"text","text":"u1"},{"type":"text","text":"u2"}]},
		{"role":"assistant","content":[{"type":"text","text":"x"},{"type":"refusal","refusal":"no"}]},
		{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},
		{"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"42"}]},
		{"role":"user","content":null}
	]}`
	got := build(t, "glm-4", body, false)
	want := []any{
		map[string]any{"role": "system", "content": "dev"},
		map[string]any{"role": "system", "content": "a\nb"},
		map[string]any{"role": "user", "content": "u1\nu2"},
		map[string]any{"role": "assistant", "content": "x\nno"},
		map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{
			map[string]any{"id": "call_1", "type": "function", "function": map[string]any{"name": "f", "arguments": "{}"}},
		}},
		map[string]any{"role": "tool", "tool_call_id": "call_1", "content": "42"},
		map[string]any{"role": "user", "content": ""},
	}
	if diff := cmp.Diff(want, got["messages"]); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestBuildToolChoice(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object"}}},{"type":"function","function":{"name":"b"}},{"type":"web_search","web_search":{"enable":true}}]`
	tests := []struct {
		name   string
		choice string
		names  []string // tool names (or types) offered
		want   any      // tool_choice sent
	}{
		{"absent", ``, []string{"a", "b", "web_search"}, nil},
		{"auto", `,"tool_choice":"auto"`, []string{"a", "b", "web_search"}, "auto"},
		{"required is auto", `,"tool_choice":"required"`, []string{"a", "b", "web_search"}, "auto"},
		{"none drops the tools", `,"tool_choice":"none"`, nil, nil},
		{"named keeps one", `,"tool_choice":{"type":"function","function":{"name":"b"}}`, []string{"b"}, "auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(t, "glm-4", `{"messages":[{"role":"user","content":"hi"}],`+tools+tt.choice+`}`, false)
			var names []string
			if ts, ok := got["tools"].([]any); ok {
				for _, x := range ts {
					m := x.(map[string]any)
					if f, ok := m["function"].(map[string]any); ok {
						names = append(names, f["name"].(string))
						if f["parameters"] == nil {
							t.Errorf("function %v sent without parameters", f["name"])
						}
					} else {
						names = append(names, m["type"].(string))
					}
				}
			}
			if diff := cmp.Diff(tt.names, names); diff != "" {
				t.Errorf("tools (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got["tool_choice"]); diff != "" {
				t.Errorf("tool_choice (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildThinkingAndToolStream(t *testing.T) {
	tools := `,"tools":[{"type":"function","function":{"name":"a"}}]`
	tests := []struct {
		name, model, in string
		stream          bool
		thinking        any
		toolStream      any
	}{
		{"no effort", "glm-4.6", ``, false, nil, nil},
		{"effort none", "glm-4.6", `,"reasoning_effort":"none"`, false, map[string]any{"type": "disabled"}, nil},
		{"effort minimal", "glm-4.6", `,"reasoning_effort":"minimal"`, false, map[string]any{"type": "disabled"}, nil},
		{"effort high", "glm-4.6", `,"reasoning_effort":"high"`, false, map[string]any{"type": "enabled"}, nil},
		{"client thinking wins", "glm-4.6", `,"reasoning_effort":"high","thinking":{"type":"disabled"}`, false, map[string]any{"type": "disabled"}, nil},
		{"tool stream asked", "glm-4.6", tools, true, nil, true},
		{"tool stream glm-5", "glm-5", tools, true, nil, true},
		{"not without stream", "glm-4.6", tools, false, nil, nil},
		{"not for older models", "glm-4.5", tools, true, nil, nil},
		{"not without tools", "glm-4.6", ``, true, nil, nil},
		{"client's value kept", "glm-4.6", tools + `,"tool_stream":false`, true, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(t, tt.model, `{"messages":[{"role":"user","content":"hi"}]`+tt.in+`}`, tt.stream)
			if diff := cmp.Diff(tt.thinking, got["thinking"]); diff != "" {
				t.Errorf("thinking (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.toolStream, got["tool_stream"]); diff != "" {
				t.Errorf("tool_stream (-want +got):\n%s", diff)
			}
			if got["stream"] != tt.stream {
				t.Errorf("stream = %v, want %v", got["stream"], tt.stream)
			}
		})
	}
}

func TestBuildUserAndResponseFormat(t *testing.T) {
	tests := []struct {
		name, in      string
		userID, rtype any
	}{
		{"user forwarded", `,"user":"user-123"`, "user-123", nil},
		{"short user dropped", `,"user":"bob"`, nil, nil},
		{"long user dropped", `,"user":"` + strings.Repeat("u", 129) + `"`, nil, nil},
		{"user_id wins", `,"user":"user-123","user_id":"own-id-1"`, "own-id-1", nil},
		{"json_object", `,"response_format":{"type":"json_object"}`, nil, "json_object"},
		{"text", `,"response_format":{"type":"text"}`, nil, "text"},
		{"json_schema", `,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}`, nil, "json_object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(t, "glm-4", `{"messages":[{"role":"user","content":"hi"}]`+tt.in+`}`, false)
			if diff := cmp.Diff(tt.userID, got["user_id"]); diff != "" {
				t.Errorf("user_id (-want +got):\n%s", diff)
			}
			var rtype any
			if rf, ok := got["response_format"].(map[string]any); ok {
				rtype = rf["type"]
			}
			if diff := cmp.Diff(tt.rtype, rtype); diff != "" {
				t.Errorf("response_format (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildImages(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"https://example.com/cat.png", "https://example.com/cat.png"},
		{"http://example.com/cat.png", "http://example.com/cat.png"},
		{"data:image/jpeg;base64,/9j/4AAQ", "/9j/4AAQ"},
	}
	for _, tt := range tests {
		body := `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + tt.url + `"}},{"type":"text","text":"what?"}]}]}`
		got := build(t, "glm-4v", body, false)
		want := []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": tt.want}},
			map[string]any{"type": "text", "text": "what?"},
		}}}
		if diff := cmp.Diff(want, got["messages"]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.url, diff)
		}
	}
}

func TestBuildInvalid(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not json", `not json`},
		{"array", `[1,2]`},
		{"no messages", `{"model":"glm-4"}`},
		{"empty messages", `{"messages":[]}`},
		{"n > 1", `{"messages":[{"role":"user","content":"hi"}],"n":2}`},
		{"unknown role", `{"messages":[{"role":"function","content":"hi"}]}`},
		{"tool without id", `{"messages":[{"role":"tool","content":"hi"}]}`},
		{"content number", `{"messages":[{"role":"user","content":5}]}`},
		{"image in system", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`},
		{"ftp image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`},
		{"pdf data url", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:application/pdf;base64,JVBE"}}]}]}`},
		{"image without url", `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`},
		{"bad tool_choice", `{"messages":[{"role":"user","content":"hi"}],"tool_choice":"any"}`},
		{"named tool missing", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}`},
		{"tool without name", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{}}]}`},
		{"tool not object", `{"messages":[{"role":"user","content":"hi"}],"tools":["x"]}`},
		{"tool call without name", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}]}`},
		{"bad stop", `{"messages":[{"role":"user","content":"hi"}],"stop":5}`},
		{"bad response_format", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"yaml"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := jwtChannel()
			_, err := New().BuildRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "glm-4", Body: []byte(tt.body)})
			if !errors.Is(err, adaptors.ErrInvalidBody) {
				t.Errorf("got %v, want adaptors.ErrInvalidBody", err)
			}
		})
	}
}

func TestBuildModes(t *testing.T) {
	a := New()
	for _, m := range []adaptors.Mode{adaptors.ModeCompletions, adaptors.ModeImagesEdits, adaptors.ModeAudioSpeech, adaptors.ModeAudioTranscriptions, adaptors.ModeModerations, adaptors.ModeRerank, adaptors.ModeResponses} {
		ch := jwtChannel()
		if _, err := a.BuildRequest(&ch, &adaptors.Request{Mode: m, Model: "glm-4", Body: []byte(`{}`)}); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: got %v, want ErrUnsupportedMode", m, err)
		}
		if _, err := a.ParseResponse(&adaptors.Request{Mode: m}, []byte(`{}`)); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: parse got %v, want ErrUnsupportedMode", m, err)
		}
		if _, err := a.NewStreamDecoder(&adaptors.Request{Mode: m}, strings.NewReader("")).Next(); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: stream got %v, want ErrUnsupportedMode", m, err)
		}
	}
}

func TestBuildAuth(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"hi"}]}`)
	tests := []struct {
		name    string
		ch      adaptors.Channel
		want    string // Authorization
		wantErr bool
	}{
		{"jwt", jwtChannel(), "Bearer " + testToken, false},
		{"jwt explicit", adaptors.Channel{Key: testKey, AccessToken: "t0k", Config: map[string]string{ConfigAuth: "JWT"}}, "Bearer t0k", false},
		{"key", keyChannel(), "Bearer " + testKey, false},
		{"key trimmed", adaptors.Channel{Key: " " + testKey + "\n", Config: map[string]string{ConfigAuth: " key "}}, "Bearer " + testKey, false},
		{"no token minted", adaptors.Channel{Key: testKey}, "", true},
		{"bad key", adaptors.Channel{Key: "no-dot", AccessToken: ""}, "", true},
		{"empty key in key mode", adaptors.Channel{Config: map[string]string{ConfigAuth: AuthKey}}, "", true},
		{"unknown mode", adaptors.Channel{Key: testKey, AccessToken: "t", Config: map[string]string{ConfigAuth: "oauth"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New().BuildRequest(&tt.ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "glm-4", Body: body})
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Header[0].Key != "Authorization" || r.Header[0].Value != tt.want {
				t.Errorf("auth header %v, want %q", r.Header[0], tt.want)
			}
		})
	}
}

func TestWellFormedString(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`""`, true},
		{`"plain"`, true},
		{`"esc \" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"`, true},
		{`"中文"`, true},
		{`"`, false},
		{`"raw` + "\n" + `newline"`, false},
		{`"bad \x"`, false},
		{`"short \u12"`, false},
		{`"hex \u12G4"`, false},
		{`"inner " quote"`, false},
		{`"trailing \"`, false},
		{"\"bad utf8 \xff\"", false},
	}
	for _, tt := range tests {
		if got := wellFormedString([]byte(tt.in)); got != tt.want {
			t.Errorf("wellFormedString(%q) = %v", tt.in, got)
		}
	}
}

// TestBuildContentForwarding: a well-formed client string is forwarded
// byte for byte (escapes kept); one that is not is re-encoded.
func TestBuildContentForwarding(t *testing.T) {
	ch := jwtChannel()
	for _, tt := range []struct{ in, want string }{
		{`"caf\u00e9 \"x\"\n"`, `"caf\u00e9 \"x\"\n"`},
		{"\"bad \xff utf8\"", `"bad \ufffd utf8"`},
	} {
		body := `{"messages":[{"role":"user","content":` + tt.in + `}]}`
		r, err := New().BuildRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "glm-4", Body: []byte(body)})
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if want := `"messages":[{"role":"user","content":` + tt.want + `}]`; !strings.Contains(string(r.Body), want) {
			t.Errorf("%q: body %s, want %s", tt.in, r.Body, want)
		}
		if !json.Valid(r.Body) {
			t.Errorf("invalid body %s", r.Body)
		}
	}
}
