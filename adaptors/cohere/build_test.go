package cohere

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

// renderHead prints a request's method, URL and headers for golden files.
func renderHead(r *adaptors.HTTPRequest) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	return []byte(b.String())
}

// indent pretty-prints a JSON body for golden files (the upstream gets
// the compact bytes).
func indent(t testing.TB, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(body), "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// TestBuildRequestGolden builds each request of testdata/build and writes
// the upstream call: <name>.golden holds method, URL and headers,
// <name>.body.json the body (indented).
func TestBuildRequestGolden(t *testing.T) {
	key := adaptors.Channel{Key: "co-test-key"}
	tests := []struct {
		name string
		in   string // file under testdata/build
		ch   adaptors.Channel
		req  adaptors.Request
	}{
		{"chat", "chat.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-03-2025", OriginModel: "command-a"}},
		{"chat_stream", "chat_stream.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-03-2025", Stream: true, IncludeUsage: true}},
		{"chat_tools", "chat_tools.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-03-2025"}},
		{"chat_tool_choice_named", "chat_tool_choice_named.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "command-r7b-12-2024", Stream: true}},
		{"chat_image", "chat_image.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-vision-07-2025"}},
		{"chat_json_schema", "chat_json_schema.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-reasoning-08-2025"}},
		{"chat_documents", "chat_documents.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-03-2025"}},
		{"chat_base_url", "chat_stream.json", adaptors.Channel{Key: "co-test-key", BaseURL: "https://cohere-proxy.example.com/"},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-03-2025", Stream: true}},
		{"embeddings", "embeddings.json", key, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embed-v4.0"}},
		{"embeddings_config_input_type", "embeddings.json", adaptors.Channel{Key: "co-test-key", Config: map[string]string{"input_type": "classification"}},
			adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embed-v4.0"}},
		{"embeddings_base64", "embeddings_base64.json", key, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embed-english-v3.0"}},
		{"rerank", "rerank.json", key, adaptors.Request{Mode: adaptors.ModeRerank, Model: "rerank-v3.5"}},
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
			if bytes.Contains(got.Body, []byte{'\n'}) {
				t.Errorf("body is not compact: %s", got.Body)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderHead(got), *update)
			adaptortest.Golden(t, "testdata/build/"+tt.name+".body.json", indent(t, got.Body), *update)
		})
	}
}

// buildChatBody builds a chat body and returns it decoded, for unit tests
// that look at one member.
func buildChatBody(t *testing.T, body string) map[string]any {
	t.Helper()
	r, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, &adaptors.Request{Mode: adaptors.ModeChat, Model: "command-a-03-2025", Body: []byte(body)})
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

const userHi = `{"role":"user","content":"Hi"}`

func TestRoles(t *testing.T) {
	m := buildChatBody(t, `{"messages":[`+
		`{"role":"system","content":"s"},{"role":"developer","content":"d"},`+
		`{"role":"user","content":"u"},{"role":"assistant","content":"a"},`+
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},`+
		`{"role":"tool","tool_call_id":"c1","content":"r"}]}`)
	var roles []string
	for _, msg := range m["messages"].([]any) {
		roles = append(roles, msg.(map[string]any)["role"].(string))
	}
	want := []string{"system", "system", "user", "assistant", "assistant", "tool"}
	if diff := cmp.Diff(want, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
}

func TestAssistantToolTurn(t *testing.T) {
	tests := []struct {
		name, content string
		want          map[string]any
	}{
		{"null content", `null`, map[string]any{"role": "assistant",
			"tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "f", "arguments": "{}"}}}}},
		{"text becomes tool_plan", `"Let me check."`, map[string]any{"role": "assistant", "tool_plan": "Let me check.",
			"tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "f", "arguments": "{}"}}}}},
		{"parts become tool_plan", `[{"type":"text","text":"Let "},{"type":"text","text":"me."}]`, map[string]any{"role": "assistant", "tool_plan": "Let me.",
			"tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "f", "arguments": "{}"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildChatBody(t, `{"messages":[`+userHi+`,{"role":"assistant","content":`+tt.content+
				`,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":""}}]}]}`)
			got := m["messages"].([]any)[1]
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("assistant turn (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToolChoice(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object"}}},{"type":"function","function":{"name":"b"}}]`
	tests := []struct {
		choice    string
		want      any // tool_choice member, nil when absent
		wantTools []string
	}{
		{`"auto"`, nil, []string{"a", "b"}},
		{`"none"`, "NONE", []string{"a", "b"}},
		{`"required"`, "REQUIRED", []string{"a", "b"}},
		{`null`, nil, []string{"a", "b"}},
		{`{"type":"function","function":{"name":"b"}}`, "REQUIRED", []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.choice, func(t *testing.T) {
			m := buildChatBody(t, `{"messages":[`+userHi+`],`+tools+`,"tool_choice":`+tt.choice+`}`)
			if diff := cmp.Diff(tt.want, m["tool_choice"]); diff != "" {
				t.Errorf("tool_choice (-want +got):\n%s", diff)
			}
			var names []string
			for _, tool := range m["tools"].([]any) {
				names = append(names, tool.(map[string]any)["function"].(map[string]any)["name"].(string))
			}
			if diff := cmp.Diff(tt.wantTools, names); diff != "" {
				t.Errorf("tools (-want +got):\n%s", diff)
			}
		})
	}
	// Without tools the choice is dropped.
	m := buildChatBody(t, `{"messages":[`+userHi+`],"tool_choice":"required"}`)
	if _, ok := m["tool_choice"]; ok {
		t.Errorf("tool_choice sent without tools: %v", m)
	}
}

func TestSamplingParameters(t *testing.T) {
	tests := []struct {
		name, extra string
		want        map[string]any // members expected (absent: nil)
	}{
		{"max_tokens unset", ``, map[string]any{"max_tokens": nil}},
		{"max_tokens", `,"max_tokens":10`, map[string]any{"max_tokens": 10.0}},
		{"max_completion_tokens wins", `,"max_tokens":10,"max_completion_tokens":20`, map[string]any{"max_tokens": 20.0}},
		{"stop string", `,"stop":"x"`, map[string]any{"stop_sequences": []any{"x"}}},
		{"stop array", `,"stop":["x","y"]`, map[string]any{"stop_sequences": []any{"x", "y"}}},
		{"stop null", `,"stop":null`, map[string]any{"stop_sequences": nil}},
		{"top_p is p", `,"top_p":0.5`, map[string]any{"p": 0.5, "top_p": nil}},
		{"temperature", `,"temperature":0`, map[string]any{"temperature": 0.0}},
		{"seed and penalties", `,"seed":7,"frequency_penalty":0.1,"presence_penalty":0.2`,
			map[string]any{"seed": 7.0, "frequency_penalty": 0.1, "presence_penalty": 0.2}},
		{"stream false is explicit", ``, map[string]any{"stream": false}},
		{"json_object", `,"response_format":{"type":"json_object"}`, map[string]any{"response_format": map[string]any{"type": "json_object"}}},
		{"text format dropped", `,"response_format":{"type":"text"}`, map[string]any{"response_format": nil}},
		{"reasoning none", `,"reasoning_effort":"none"`, map[string]any{"thinking": map[string]any{"type": "disabled"}}},
		{"reasoning high keeps default", `,"reasoning_effort":"high"`, map[string]any{"thinking": nil}},
		{"client thinking wins", `,"reasoning_effort":"none","thinking":{"type":"enabled","token_budget":100}`,
			map[string]any{"thinking": map[string]any{"type": "enabled", "token_budget": 100.0}}},
		{"strict only when all strict", `,"tools":[{"type":"function","function":{"name":"a","strict":true}},{"type":"function","function":{"name":"b"}}]`,
			map[string]any{"strict_tools": nil}},
		{"strict tools", `,"tools":[{"type":"function","function":{"name":"a","strict":true}}]`,
			map[string]any{"strict_tools": true}},
		{"ignored members", `,"user":"u","logprobs":true,"n":1,"stream_options":{"include_usage":true}`,
			map[string]any{"user": nil, "logprobs": nil, "n": nil, "stream_options": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildChatBody(t, `{"messages":[`+userHi+`]`+tt.extra+`}`)
			for k, want := range tt.want {
				if diff := cmp.Diff(want, m[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}

func TestModelIsRequestModel(t *testing.T) {
	r, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, &adaptors.Request{Mode: adaptors.ModeChat,
		Model: "command-r-08-2024", OriginModel: "gpt-4o", Body: []byte(`{"model":"gpt-4o","messages":[` + userHi + `]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(r.Body, []byte(`{"model":"command-r-08-2024",`)) {
		t.Errorf("body %s", r.Body)
	}
}

func TestBuildRequestRejects(t *testing.T) {
	tests := []struct {
		name string
		mode adaptors.Mode
		body string
	}{
		{"not json", adaptors.ModeChat, `not json`},
		{"array body", adaptors.ModeChat, `[]`},
		{"no messages", adaptors.ModeChat, `{"model":"m"}`},
		{"empty messages", adaptors.ModeChat, `{"messages":[]}`},
		{"n > 1", adaptors.ModeChat, `{"messages":[` + userHi + `],"n":2}`},
		{"unknown role", adaptors.ModeChat, `{"messages":[{"role":"function","name":"f","content":"x"}]}`},
		{"tool without id", adaptors.ModeChat, `{"messages":[{"role":"tool","content":"x"}]}`},
		{"content number", adaptors.ModeChat, `{"messages":[{"role":"user","content":3}]}`},
		{"file part", adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,AA=="}}]}]}`},
		{"audio part", adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}`},
		{"image in system", adaptors.ModeChat, `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`},
		{"image bad url", adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`},
		{"image without url", adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`},
		{"tool call without name", adaptors.ModeChat, `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}]}`},
		{"custom tool", adaptors.ModeChat, `{"messages":[` + userHi + `],"tools":[{"type":"custom","custom":{"name":"x"}}]}`},
		{"tool without name", adaptors.ModeChat, `{"messages":[` + userHi + `],"tools":[{"type":"function","function":{}}]}`},
		{"tool_choice unknown", adaptors.ModeChat, `{"messages":[` + userHi + `],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"any"}`},
		{"tool_choice missing tool", adaptors.ModeChat, `{"messages":[` + userHi + `],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}`},
		{"tool_choice bad object", adaptors.ModeChat, `{"messages":[` + userHi + `],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"allowed_tools"}}`},
		{"response_format unknown", adaptors.ModeChat, `{"messages":[` + userHi + `],"response_format":{"type":"grammar"}}`},
		{"stop number", adaptors.ModeChat, `{"messages":[` + userHi + `],"stop":5}`},
		{"embed no input", adaptors.ModeEmbeddings, `{"model":"embed-v4.0"}`},
		{"embed tokens", adaptors.ModeEmbeddings, `{"input":[[1,2,3]]}`},
		{"embed token list", adaptors.ModeEmbeddings, `{"input":[1,2,3]}`},
		{"embed empty", adaptors.ModeEmbeddings, `{"input":[]}`},
		{"embed bad format", adaptors.ModeEmbeddings, `{"input":"x","encoding_format":"int8"}`},
		{"rerank object without text", adaptors.ModeRerank, `{"query":"q","documents":[{"title":"t"}]}`},
		{"rerank number", adaptors.ModeRerank, `{"query":"q","documents":[1]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, &adaptors.Request{Mode: tt.mode, Model: "m", Body: []byte(tt.body)})
			if !errors.Is(err, adaptors.ErrInvalidBody) {
				t.Errorf("err = %v, want ErrInvalidBody", err)
			}
		})
	}
}

func TestUnsupportedModes(t *testing.T) {
	a := New()
	for _, m := range []adaptors.Mode{adaptors.ModeCompletions, adaptors.ModeImagesGenerations, adaptors.ModeAudioSpeech,
		adaptors.ModeModerations, adaptors.ModeResponses} {
		req := &adaptors.Request{Mode: m, Model: "m", Body: []byte(`{"model":"m","prompt":"x"}`)}
		if _, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, req); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: BuildRequest err = %v", m, err)
		}
		if _, err := a.ParseResponse(req, []byte(`{}`)); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: ParseResponse err = %v", m, err)
		}
		if _, err := a.NewStreamDecoder(req, strings.NewReader("")).Next(); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: stream err = %v", m, err)
		}
	}
}

func TestEmbedInputType(t *testing.T) {
	tests := []struct {
		name, body string
		config     map[string]string
		want       string
	}{
		{"default", `{"input":"x"}`, nil, "search_document"},
		{"channel config", `{"input":"x"}`, map[string]string{"input_type": "clustering"}, "clustering"},
		{"body wins", `{"input":"x","input_type":"search_query"}`, map[string]string{"input_type": "clustering"}, "search_query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New().BuildRequest(&adaptors.Channel{Key: "k", Config: tt.config},
				&adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "embed-v4.0", Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				InputType string `json:"input_type"`
			}
			if err := json.Unmarshal(r.Body, &m); err != nil || m.InputType != tt.want {
				t.Errorf("input_type = %q (%v), want %q", m.InputType, err, tt.want)
			}
		})
	}
}

func TestModelsRequest(t *testing.T) {
	r, err := New().ModelsRequest(&adaptors.Channel{Key: "co-key", BaseURL: "https://proxy.example.com//"})
	if err != nil {
		t.Fatal(err)
	}
	want := &adaptors.HTTPRequest{Method: "GET", URL: "https://proxy.example.com/v1/models?page_size=1000",
		Header: []adaptors.Header{{Key: "Authorization", Value: "Bearer co-key"}}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestVerbatimValuesAreJSON: what the adaptor forwards without decoding
// (content strings, Cohere's own members, tool schemas) is checked, since
// sonic does not look inside the strings it skips.
func TestVerbatimValuesAreJSON(t *testing.T) {
	for _, body := range []string{
		"{\"messages\":[{\"role\":\"user\",\"content\":\"a\x01b\"}]}",
		`{"messages":[{"role":"user","content":"a\xb"}]}`,
		`{"messages":[{"role":"user","content":"\u12"}]}`,
		"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"documents\":[\"a\x02\"]}",
		"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"d\":\"\x03\"}}}]}",
		"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"d\":\"\\q\"}}}}",
	} {
		_, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, &adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(body)})
		if !errors.Is(err, adaptors.ErrInvalidBody) {
			t.Errorf("%q: err = %v, want ErrInvalidBody", body, err)
		}
	}
}

func TestValidStrings(t *testing.T) {
	for s, want := range map[string]bool{
		`"plain"`: true, `"esc \" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"`: true, `{"a":["b",1,null]}`: true,
		"\"raw \x01\"": false, `"bad \x"`: false, `"short \u12"`: false, `"\u12G4"`: false, `"open`: false, `"end \`: false,
		"\"utf8 \xff\"": true, // encoding/json accepts invalid UTF-8 too
	} {
		if got := validStrings([]byte(s)); got != want {
			t.Errorf("validStrings(%q) = %v, want %v", s, got, want)
		}
		if want && !json.Valid([]byte(s)) && s != `"open` {
			t.Errorf("%q accepted but not JSON", s)
		}
	}
}
