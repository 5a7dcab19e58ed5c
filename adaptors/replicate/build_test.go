package replicate

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
	a := New()
	key := adaptors.Channel{Key: "r8_test"}
	tests := []struct {
		name   string // golden under testdata/build
		body   string // input under testdata/build
		model  string
		stream bool
		ch     adaptors.Channel
	}{
		{"chat_llama", "chat.json", "meta/meta-llama-3-70b-instruct", false, key},
		{"chat_llama_stream", "chat_stream.json", "meta/meta-llama-3-70b-instruct", true, key},
		{"chat_version", "chat.json", "meta/meta-llama-3-70b-instruct:fbfb20b472b2f3bdd101412a9f70a0ed4fc0ced78a77ff00970ee7a2383c575d", false, key},
		{"chat_conversation", "chat_conversation.json", "meta/meta-llama-3-8b-instruct", false, key},
		{"chat_image_claude", "chat_image.json", "anthropic/claude-4-sonnet", false, key},
		{"chat_images_openai", "chat_images_openai.json", "openai/gpt-4o-mini", true, key},
		{"chat_tools_none", "chat_tools_none.json", "meta/meta-llama-3-70b-instruct", false, key},
		{"chat_base_url_wait", "chat.json", "meta/meta-llama-3-70b-instruct", false,
			adaptors.Channel{Key: "r8_test", BaseURL: "https://proxy.example.com/replicate/", Config: map[string]string{ConfigWait: "10"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/build/"+tt.body)
			got, err := a.BuildRequest(&tt.ch, newReq(tt.model, tt.stream, in))
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

// buildInputOf builds body for model and returns the decoded input.
func buildInputOf(t *testing.T, model, body string) (map[string]any, error) {
	t.Helper()
	r, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, newReq(model, false, []byte(body)))
	if err != nil {
		return nil, err
	}
	var v struct {
		Input map[string]any `json:"input"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Input, nil
}

// TestInputMapping checks each mapping rule on decoded inputs.
func TestInputMapping(t *testing.T) {
	const llama, claude, gpt = "meta/meta-llama-3-70b-instruct", "anthropic/claude-4-sonnet", "openai/gpt-4.1-mini"
	user := `"messages":[{"role":"user","content":"Hi"}]`
	tests := []struct {
		name, model, body string
		want              map[string]any
	}{
		{"single user message is the prompt", llama, `{` + user + `}`, map[string]any{"prompt": "Hi"}},
		{"null content", llama, `{"messages":[{"role":"user","content":null}]}`, map[string]any{"prompt": ""}},
		{"system and developer joined", llama,
			`{"messages":[{"role":"system","content":"A"},{"role":"developer","content":"B"},{"role":"system","content":""},{"role":"user","content":"Hi"}]}`,
			map[string]any{"prompt": "Hi", "system_prompt": "A\n\nB"}},
		{"conversation transcript", llama,
			`{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},{"role":"user","content":"Bye"}]}`,
			map[string]any{"prompt": "User: Hi\n\nAssistant: Hello!\n\nUser: Bye"}},
		{"assistant prefill ends the transcript", llama,
			`{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Well,"}]}`,
			map[string]any{"prompt": "User: Hi\n\nAssistant: Well,"}},
		{"text parts joined by newlines", llama,
			`{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`,
			map[string]any{"prompt": "a\nb"}},
		{"max_tokens", llama, `{` + user + `,"max_tokens":7}`, map[string]any{"prompt": "Hi", "max_tokens": 7.0}},
		{"max_completion_tokens wins", llama, `{` + user + `,"max_tokens":7,"max_completion_tokens":9}`,
			map[string]any{"prompt": "Hi", "max_tokens": 9.0}},
		{"no limit: the model's default", llama, `{` + user + `}`, map[string]any{"prompt": "Hi"}},
		{"stop string", llama, `{` + user + `,"stop":"END"}`, map[string]any{"prompt": "Hi", "stop_sequences": "END"}},
		{"stop array comma-joined, empties dropped", llama, `{` + user + `,"stop":["<end>","","<stop>"]}`,
			map[string]any{"prompt": "Hi", "stop_sequences": "<end>,<stop>"}},
		{"stop null", llama, `{` + user + `,"stop":null}`, map[string]any{"prompt": "Hi"}},
		{"sampling and penalties", llama, `{` + user + `,"temperature":0,"top_p":0.5,"presence_penalty":1.15,"frequency_penalty":-0.5}`,
			map[string]any{"prompt": "Hi", "temperature": 0.0, "top_p": 0.5, "presence_penalty": 1.15, "frequency_penalty": -0.5}},
		{"ignored members", llama, `{` + user + `,"n":2,"seed":3,"user":"u","response_format":{"type":"json_object"},"logit_bias":{"1":2},"reasoning_effort":"low"}`,
			map[string]any{"prompt": "Hi"}},
		{"claude: limit raised to 1024, sampling dropped", claude, `{` + user + `,"max_tokens":100,"temperature":0.3,"top_p":0.9,"stop":["x"]}`,
			map[string]any{"prompt": "Hi", "max_tokens": 1024.0}},
		{"claude: large limit kept", claude, `{` + user + `,"max_tokens":4000}`, map[string]any{"prompt": "Hi", "max_tokens": 4000.0}},
		{"claude: one image", claude,
			`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}},{"type":"text","text":"What?"}]}]}`,
			map[string]any{"prompt": "What?", "image": "https://example.com/a.png"}},
		{"openai: max_completion_tokens, reasoning, no stop", gpt, `{` + user + `,"max_tokens":100,"stop":"x","reasoning_effort":"high","presence_penalty":0.5}`,
			map[string]any{"prompt": "Hi", "max_completion_tokens": 100.0, "reasoning_effort": "high", "presence_penalty": 0.5}},
		{"openai: images from every user turn", gpt,
			`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://example.com/b.jpg"}},{"type":"text","text":"and?"}]}]}`,
			map[string]any{"prompt": "User: \n\nAssistant: ok\n\nUser: and?", "image_input": []any{"data:image/png;base64,AA==", "http://example.com/b.jpg"}}},
		{"tools with tool_choice none are dropped", llama, `{` + user + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}`,
			map[string]any{"prompt": "Hi"}},
		{"tool_choice auto without tools", llama, `{` + user + `,"tool_choice":"auto"}`, map[string]any{"prompt": "Hi"}},
		{"empty tools", llama, `{` + user + `,"tools":[]}`, map[string]any{"prompt": "Hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildInputOf(t, tt.model, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("input (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildRequestInvalid: client bodies Replicate cannot express are
// 400s (adaptors.ErrInvalidBody) with a message saying why.
func TestBuildRequestInvalid(t *testing.T) {
	const llama, claude = "meta/meta-llama-3-70b-instruct", "anthropic/claude-4-sonnet"
	tool := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`
	user := `"messages":[{"role":"user","content":"Hi"}]`
	tests := []struct {
		name, model, body, msg string
	}{
		{"not JSON", llama, `nope`, "not a json object"},
		{"truncated", llama, `{"messages":[`, "replicate"},
		{"array body", llama, `[]`, "not a json object"},
		{"no messages", llama, `{"messages":[]}`, "messages must not be empty"},
		{"system only", llama, `{"messages":[{"role":"system","content":"x"}]}`, "user message"},
		{"unknown role", llama, `{"messages":[{"role":"robot","content":"x"}]}`, `unknown role "robot"`},
		{"tools", llama, `{` + user + `,` + tool + `}`, "tools are not supported by Replicate models"},
		{"tools auto", llama, `{` + user + `,` + tool + `,"tool_choice":"auto"}`, "tools are not supported"},
		{"tool_choice required", llama, `{` + user + `,"tool_choice":"required"}`, "tools are not supported"},
		{"tool_choice named", llama, `{` + user + `,"tool_choice":{"type":"function","function":{"name":"f"}}}`, "tools are not supported"},
		{"functions", llama, `{` + user + `,"functions":[{"name":"f"}]}`, "tools are not supported"},
		{"assistant tool_calls", llama,
			`{"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny"}]}`,
			"tools are not supported"},
		{"tool result", llama, `{"messages":[{"role":"tool","tool_call_id":"c","content":"x"}]}`, "tools are not supported"},
		{"two images for a one-image model", claude,
			`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://a/1.png"}},{"type":"image_url","image_url":{"url":"https://a/2.png"}}]}]}`,
			"takes one image, the request has 2"},
		{"image in a system message", llama, `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://a/1.png"}}]},{"role":"user","content":"x"}]}`,
			"user messages only"},
		{"image without a URL scheme", llama, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file-abc"}}]}]}`,
			"http(s) or data: URL"},
		{"image_url missing", llama, `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "http(s) or data: URL"},
		{"audio part", llama, `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}`,
			`content part type "input_audio"`},
		{"content object", llama, `{"messages":[{"role":"user","content":{"text":"x"}}]}`, "string or an array of parts"},
		{"stop number", llama, `{` + user + `,"stop":5}`, "stop must be a string or an array"},
		{"max_tokens zero", llama, `{` + user + `,"max_tokens":0}`, "at least 1"},
		{"temperature string", llama, `{` + user + `,"temperature":"hot"}`, "replicate"},
		{"model without owner", "llama-3", `{` + user + `}`, `model "llama-3" is not owner/name`},
		{"model path injection", "meta/../../v1/account", `{` + user + `}`, "is not owner/name"},
		{"model empty version", "meta/llama:", `{` + user + `}`, "is not owner/name"},
		{"model version with slash", "meta/llama:abc/def", `{` + user + `}`, "is not owner/name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildInputOf(t, tt.model, tt.body)
			if !errors.Is(err, adaptors.ErrInvalidBody) {
				t.Fatalf("err = %v, want ErrInvalidBody", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestBuildRequestModesAndConfig(t *testing.T) {
	a := New()
	body := []byte(`{"messages":[{"role":"user","content":"Hi"}]}`)
	for _, m := range []adaptors.Mode{adaptors.ModeCompletions, adaptors.ModeEmbeddings, adaptors.ModeImagesGenerations, adaptors.ModeResponses} {
		req := newReq("meta/m", false, body)
		req.Mode = m
		if _, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, req); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: %v", m, err)
		}
	}
	for _, v := range []string{"0", "61", "x", "-1"} {
		ch := &adaptors.Channel{Key: "k", Config: map[string]string{ConfigWait: v}}
		if _, err := a.BuildRequest(ch, newReq("meta/m", false, body)); err == nil || errors.Is(err, adaptors.ErrInvalidBody) {
			t.Errorf("wait=%q: %v, want a channel error", v, err)
		}
		// Streams send no Prefer, so the setting is not read.
		if _, err := a.BuildRequest(ch, newReq("meta/m", true, body)); err != nil {
			t.Errorf("wait=%q stream: %v", v, err)
		}
	}
	r, err := a.BuildRequest(&adaptors.Channel{Key: "k", Config: map[string]string{ConfigWait: "60"}}, newReq("meta/m", false, body))
	if err != nil || r.Header[2] != (adaptors.Header{Key: "Prefer", Value: "wait=60"}) {
		t.Errorf("wait=60: %v %v", err, r)
	}
}

// TestBuildRequestNoAlias: the built body never aliases the client's.
func TestBuildRequestNoAlias(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"Hi"}]}`)
	r, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, newReq("meta/m", false, body))
	if err != nil {
		t.Fatal(err)
	}
	before := string(r.Body)
	copy(body, strings.Repeat("x", len(body)))
	if string(r.Body) != before {
		t.Error("the upstream body changed with the client's")
	}
}
