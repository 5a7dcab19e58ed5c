package gemini

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// renderHead prints the method, URL and headers of a built request.
func renderHead(r *adaptors.HTTPRequest) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	return []byte(b.String())
}

// indentJSON pretty-prints a built body for its golden file.
func indentJSON(t testing.TB, body []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// TestBuildRequestGolden builds each scenario of testdata/build and keeps
// the upstream request in two goldens: <name>.golden (method, URL,
// headers) and <name>.body.json (the exact body, indented), which other
// modules parse into google.golang.org/genai types to cross-check field
// names.
func TestBuildRequestGolden(t *testing.T) {
	a := New()
	key := adaptors.Channel{Key: "AIzaSyTest-Key_0123456789"}
	tests := []struct {
		name  string
		input string // file under testdata/build
		ch    adaptors.Channel
		req   adaptors.Request
	}{
		{"chat_basic", "chat_basic.json", key,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash"}},
		{"chat_basic_stream", "chat_basic.json", key,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash", Stream: true, IncludeUsage: true}},
		{"chat_basic_v1_proxy_safety", "chat_basic.json",
			adaptors.Channel{Key: "AIzaSyTest-Key_0123456789", BaseURL: "https://gemini-proxy.example.com/google/",
				Config: map[string]string{ConfigAPIVersion: "v1", ConfigSafetySettings: "block_none"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "models/gemini-2.5-flash", OriginModel: "my-flash"}},
		{"chat_tools", "chat_tools.json", key,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash", Stream: true}},
		{"chat_tool_choice_named", "chat_tool_choice_named.json", key,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-pro", OriginModel: "gemini-2.5-pro"}},
		{"chat_image", "chat_image.json", key,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash"}},
		{"chat_reasoning_json", "chat_reasoning_json.json", key,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash"}},
		{"chat_system_only", "chat_system_only.json",
			adaptors.Channel{Key: "AIzaSyTest-Key_0123456789", Config: map[string]string{ConfigSafetySettings: "OFF"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash-lite", OriginModel: "gemini-2.5-flash-lite"}},
		{"chat_legacy_functions", "chat_legacy_functions.json", key,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.0-flash", OriginModel: "gemini-2.0-flash"}},
		{"embed_strings", "embed_strings.json", key,
			adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "gemini-embedding-001", OriginModel: "gemini-embedding-001"}},
		{"embed_string_mapped", "embed_string.json", key,
			adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "gemini-embedding-001", OriginModel: "text-embedding-004"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Body = adaptortest.ReadFile(t, "testdata/build/"+tt.input)
			got, err := a.BuildRequest(&tt.ch, &req)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(got.Body, []byte(`"model":"gemini-2.5`)) {
				t.Errorf("the model is in the body: %s", got.Body)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderHead(got), *update)
			adaptortest.Golden(t, "testdata/build/"+tt.name+".body.json", indentJSON(t, got.Body), *update)
		})
	}
}

// buildMap builds a chat body and decodes it for assertions.
func buildMap(t *testing.T, model, body string) map[string]any {
	t.Helper()
	out, err := BuildBody(&adaptors.Request{Mode: adaptors.ModeChat, Model: model, Body: []byte(body)})
	if err != nil {
		t.Fatalf("BuildBody(%s): %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildRoles(t *testing.T) {
	got := buildMap(t, "m", `{"messages":[
		{"role":"system","content":"s1"},
		{"role":"user","content":"u1"},
		{"role":"user","content":[{"type":"text","text":"u2"},{"type":"text","text":""}]},
		{"role":"developer","content":"s2"},
		{"role":"assistant","content":""},
		{"role":"assistant","content":[{"type":"text","text":"a1"},{"type":"refusal","refusal":"no"}]},
		{"role":"assistant","content":"a2"},
		{"role":"user","content":""},
		{"role":"user","content":"u3"}]}`)
	want := map[string]any{
		"systemInstruction": map[string]any{"parts": []any{map[string]any{"text": "s1"}, map[string]any{"text": "s2"}}},
		"contents": []any{
			map[string]any{"role": "user", "parts": []any{map[string]any{"text": "u1"}, map[string]any{"text": "u2"}}},
			map[string]any{"role": "model", "parts": []any{map[string]any{"text": "a1"}, map[string]any{"text": "a2"}}},
			map[string]any{"role": "user", "parts": []any{map[string]any{"text": "u3"}}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBuildToolChoice(t *testing.T) {
	const tools = `"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	tests := []struct {
		choice string
		want   any
	}{
		{`"none"`, map[string]any{"functionCallingConfig": map[string]any{"mode": "NONE"}}},
		{`"auto"`, map[string]any{"functionCallingConfig": map[string]any{"mode": "AUTO"}}},
		{`"required"`, map[string]any{"functionCallingConfig": map[string]any{"mode": "ANY"}}},
		{`{"type":"function","function":{"name":"f"}}`, map[string]any{"functionCallingConfig": map[string]any{"mode": "ANY", "allowedFunctionNames": []any{"f"}}}},
		{`null`, nil},
	}
	for _, tt := range tests {
		got := buildMap(t, "m", `{"messages":[{"role":"user","content":"hi"}],`+tools+`,"tool_choice":`+tt.choice+`}`)
		if diff := cmp.Diff(tt.want, got["toolConfig"]); diff != "" {
			t.Errorf("tool_choice %s (-want +got):\n%s", tt.choice, diff)
		}
	}
	// tool_choice without tools configures nothing.
	if got := buildMap(t, "m", `{"messages":[{"role":"user","content":"hi"}],"tool_choice":"none"}`); got["toolConfig"] != nil {
		t.Errorf("toolConfig without tools: %v", got["toolConfig"])
	}
}

func TestBuildGenerationConfig(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, model, extra string
		want               any
	}{
		{"nothing set", "m", ``, nil},
		{"max_tokens", "m", `,"max_tokens":10`, map[string]any{"maxOutputTokens": 10.0}},
		{"max_completion_tokens wins", "m", `,"max_tokens":10,"max_completion_tokens":20`, map[string]any{"maxOutputTokens": 20.0}},
		{"stop string", "m", `,"stop":"x"`, map[string]any{"stopSequences": []any{"x"}}},
		{"stop array", "m", `,"stop":["a","b"]`, map[string]any{"stopSequences": []any{"a", "b"}}},
		{"stop empty", "m", `,"stop":[""]`, nil},
		{"n 1 omitted", "m", `,"n":1`, nil},
		{"n 3", "m", `,"n":3`, map[string]any{"candidateCount": 3.0}},
		{"sampling", "m", `,"temperature":0,"top_p":1,"top_k":40,"seed":-7`,
			map[string]any{"temperature": 0.0, "topP": 1.0, "topK": 40.0, "seed": -7.0}},
		{"json_object", "m", `,"response_format":{"type":"json_object"}`, map[string]any{"responseMimeType": "application/json"}},
		{"text format", "m", `,"response_format":{"type":"text"}`, nil},
		{"json_schema", "m", `,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}`,
			map[string]any{"responseMimeType": "application/json", "responseJsonSchema": map[string]any{"type": "object"}}},
		{"effort none flash", "gemini-2.5-flash", `,"reasoning_effort":"none"`,
			map[string]any{"thinkingConfig": map[string]any{"thinkingBudget": 0.0}}},
		{"effort minimal pro", "gemini-2.5-pro", `,"reasoning_effort":"minimal"`,
			map[string]any{"thinkingConfig": map[string]any{"includeThoughts": true, "thinkingBudget": 128.0}}},
		{"effort none gemini 3", "gemini-3-flash-preview", `,"reasoning_effort":"none"`,
			map[string]any{"thinkingConfig": map[string]any{"includeThoughts": true, "thinkingBudget": 128.0}}},
		{"effort low", "gemini-2.5-flash", `,"reasoning_effort":"low"`,
			map[string]any{"thinkingConfig": map[string]any{"includeThoughts": true, "thinkingBudget": 1024.0}}},
		{"effort medium", "gemini-2.5-flash", `,"reasoning_effort":"medium"`,
			map[string]any{"thinkingConfig": map[string]any{"includeThoughts": true, "thinkingBudget": 8192.0}}},
		{"effort high", "gemini-2.5-flash", `,"reasoning_effort":"high"`,
			map[string]any{"thinkingConfig": map[string]any{"includeThoughts": true, "thinkingBudget": 24576.0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildMap(t, tt.model, `{`+msgs+tt.extra+`}`)
			if diff := cmp.Diff(tt.want, got["generationConfig"]); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildToolResults(t *testing.T) {
	got := buildMap(t, "m", `{"messages":[
		{"role":"user","content":"go"},
		{"role":"assistant","tool_calls":[
			{"id":"a","type":"function","function":{"name":"f","arguments":""}},
			{"id":"b","type":"function","function":{"name":"g","arguments":"{}"},"extra_content":{"google":{"thought_signature":"c2ln"}}}]},
		{"role":"tool","tool_call_id":"b","content":"{\"ok\":true}"},
		{"role":"tool","tool_call_id":"a","content":[{"type":"text","text":"plain"},{"type":"text","text":"text"}]},
		{"role":"user","content":"thanks"},
		{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"h","arguments":"{\"x\":1}"}}]},
		{"role":"tool","tool_call_id":"a","content":"[1,2]"}]}`)
	want := []any{
		map[string]any{"role": "user", "parts": []any{map[string]any{"text": "go"}}},
		map[string]any{"role": "model", "parts": []any{
			map[string]any{"functionCall": map[string]any{"name": "f", "args": map[string]any{}}, "thoughtSignature": skipSignature},
			map[string]any{"functionCall": map[string]any{"name": "g", "args": map[string]any{}}, "thoughtSignature": "c2ln"},
		}},
		map[string]any{"role": "user", "parts": []any{
			map[string]any{"functionResponse": map[string]any{"name": "g", "response": map[string]any{"ok": true}}},
			map[string]any{"functionResponse": map[string]any{"name": "f", "response": map[string]any{"content": "plain\ntext"}}},
			map[string]any{"text": "thanks"},
		}},
		map[string]any{"role": "model", "parts": []any{
			map[string]any{"functionCall": map[string]any{"name": "h", "args": map[string]any{"x": 1.0}}, "thoughtSignature": skipSignature},
		}},
		// A reused id answers the latest call that had it.
		map[string]any{"role": "user", "parts": []any{
			map[string]any{"functionResponse": map[string]any{"name": "h", "response": map[string]any{"content": "[1,2]"}}},
		}},
	}
	if diff := cmp.Diff(want, got["contents"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBuildImages(t *testing.T) {
	got := buildMap(t, "m", `{"messages":[{"role":"user","content":[
		{"type":"image_url","image_url":{"url":"data:image/webp;base64,UklGRg=="}},
		{"type":"image_url","image_url":"data:;base64,/9j/"},
		{"type":"image_url","image_url":{"url":"HTTPS://cdn.example.com/a/b.JPEG#frag"}},
		{"type":"image_url","image_url":{"url":"http://example.com/x.gif?size=2"}},
		{"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}},
		{"type":"file","file":{"file_data":"data:;base64,JVBE","filename":"a.pdf"}}]}]}`)
	want := []any{
		map[string]any{"inlineData": map[string]any{"mimeType": "image/webp", "data": "UklGRg=="}},
		map[string]any{"inlineData": map[string]any{"mimeType": "image/jpeg", "data": "/9j/"}},
		map[string]any{"fileData": map[string]any{"mimeType": "image/jpeg", "fileUri": "HTTPS://cdn.example.com/a/b.JPEG#frag"}},
		map[string]any{"fileData": map[string]any{"mimeType": "image/gif", "fileUri": "http://example.com/x.gif?size=2"}},
		map[string]any{"inlineData": map[string]any{"mimeType": "audio/mp3", "data": "SUQz"}},
		map[string]any{"inlineData": map[string]any{"mimeType": "application/pdf", "data": "JVBE"}},
	}
	parts := got["contents"].([]any)[0].(map[string]any)["parts"]
	if diff := cmp.Diff(want, parts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBuildErrors(t *testing.T) {
	a := New()
	chat := func(body string) adaptors.Request {
		return adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", Body: []byte(body)}
	}
	const hi = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name string
		ch   adaptors.Channel
		req  adaptors.Request
		want error // nil: any non-nil error that is not ErrInvalidBody
	}{
		{"array body", adaptors.Channel{}, chat(`[]`), adaptors.ErrInvalidBody},
		{"truncated", adaptors.Channel{}, chat(`{"messages":[`), adaptors.ErrInvalidBody},
		{"trailing garbage", adaptors.Channel{}, chat(`{` + hi + `} x`), adaptors.ErrInvalidBody},
		{"no messages", adaptors.Channel{}, chat(`{"messages":[]}`), adaptors.ErrInvalidBody},
		{"only empty messages", adaptors.Channel{}, chat(`{"messages":[{"role":"user","content":""}]}`), adaptors.ErrInvalidBody},
		{"unknown role", adaptors.Channel{}, chat(`{"messages":[{"role":"robot","content":"x"}]}`), adaptors.ErrInvalidBody},
		{"content number", adaptors.Channel{}, chat(`{"messages":[{"role":"user","content":5}]}`), adaptors.ErrInvalidBody},
		{"image in system", adaptors.Channel{}, chat(`{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},{"role":"user","content":"x"}]}`), adaptors.ErrInvalidBody},
		{"ftp image", adaptors.Channel{}, chat(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`), adaptors.ErrInvalidBody},
		{"non-base64 data url", adaptors.Channel{}, chat(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`), adaptors.ErrInvalidBody},
		{"file id", adaptors.Channel{}, chat(`{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}`), adaptors.ErrInvalidBody},
		{"unknown part", adaptors.Channel{}, chat(`{"messages":[{"role":"user","content":[{"type":"video","video":{}}]}]}`), adaptors.ErrInvalidBody},
		{"orphan tool result", adaptors.Channel{}, chat(`{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"nope","content":"1"}]}`), adaptors.ErrInvalidBody},
		{"bad arguments", adaptors.Channel{}, chat(`{"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":"}}]}]}`), adaptors.ErrInvalidBody},
		{"array arguments", adaptors.Channel{}, chat(`{"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`), adaptors.ErrInvalidBody},
		{"custom tool", adaptors.Channel{}, chat(`{` + hi + `,"tools":[{"type":"custom","custom":{"name":"x"}}]}`), adaptors.ErrInvalidBody},
		{"unnamed tool", adaptors.Channel{}, chat(`{` + hi + `,"tools":[{"type":"function","function":{"description":"x"}}]}`), adaptors.ErrInvalidBody},
		{"schema not object", adaptors.Channel{}, chat(`{` + hi + `,"tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]}`), adaptors.ErrInvalidBody},
		{"bad tool_choice", adaptors.Channel{}, chat(`{` + hi + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}`), adaptors.ErrInvalidBody},
		{"bad effort", adaptors.Channel{}, chat(`{` + hi + `,"reasoning_effort":"max"}`), adaptors.ErrInvalidBody},
		{"bad response_format", adaptors.Channel{}, chat(`{` + hi + `,"response_format":{"type":"yaml"}}`), adaptors.ErrInvalidBody},
		{"bad stop", adaptors.Channel{}, chat(`{` + hi + `,"stop":3}`), adaptors.ErrInvalidBody},
		{"token embeddings", adaptors.Channel{}, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "e", Body: []byte(`{"input":[[1,2,3]]}`)}, adaptors.ErrInvalidBody},
		{"token embedding", adaptors.Channel{}, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "e", Body: []byte(`{"input":[1,2,3]}`)}, adaptors.ErrInvalidBody},
		{"empty embeddings", adaptors.Channel{}, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "e", Body: []byte(`{"input":[]}`)}, adaptors.ErrInvalidBody},
		{"no input", adaptors.Channel{}, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "e", Body: []byte(`{}`)}, adaptors.ErrInvalidBody},
		{"unsupported mode", adaptors.Channel{}, adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "m", Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode},
		{"unknown mode", adaptors.Channel{}, adaptors.Request{Mode: 99, Model: "m", Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode},
		{"bad api version", adaptors.Channel{Config: map[string]string{ConfigAPIVersion: "beta"}}, chat(`{` + hi + `}`), nil},
		{"bad safety threshold", adaptors.Channel{Config: map[string]string{ConfigSafetySettings: "BLOCK_SOME"}}, chat(`{` + hi + `}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.BuildRequest(&tt.ch, &tt.req)
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			case tt.want == nil && errors.Is(err, adaptors.ErrInvalidBody):
				t.Fatalf("a channel misconfiguration is not the client's fault: %v", err)
			}
		})
	}
}

func TestInlinesImages(t *testing.T) {
	a := New()
	tests := []struct {
		mode adaptors.Mode
		body string
		want bool
	}{
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`, true},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x/y.png"}}]}]}`, true},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}]}`, false},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":"see https://example.com"}]}`, false},
		{adaptors.ModeEmbeddings, `{"input":"\"image_url\" \"https://x"}`, false},
	}
	for _, tt := range tests {
		if got := a.InlinesImages(&adaptors.Channel{}, &adaptors.Request{Mode: tt.mode, Body: []byte(tt.body)}); got != tt.want {
			t.Errorf("InlinesImages(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestURLs(t *testing.T) {
	a := New()
	tests := []struct {
		ch     adaptors.Channel
		model  string
		stream bool
		want   string
	}{
		{adaptors.Channel{}, "gemini-2.5-flash", false, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"},
		{adaptors.Channel{}, "gemini-2.5-flash", true, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"},
		{adaptors.Channel{BaseURL: "https://p.example/v1beta/"}, "models/gemini-2.5-pro", false, "https://p.example/v1beta/models/gemini-2.5-pro:generateContent"},
		{adaptors.Channel{Config: map[string]string{ConfigAPIVersion: "v1alpha"}}, "gemini-2.5-pro", false, "https://generativelanguage.googleapis.com/v1alpha/models/gemini-2.5-pro:generateContent"},
		// One API's "other" field holds the version; the config key wins.
		{adaptors.Channel{Config: map[string]string{"other": "v1"}}, "gemini-2.5-pro", false, "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-pro:generateContent"},
		{adaptors.Channel{Config: map[string]string{"other": "v1", ConfigAPIVersion: "v1alpha"}}, "gemini-2.5-pro", false, "https://generativelanguage.googleapis.com/v1alpha/models/gemini-2.5-pro:generateContent"},
		{adaptors.Channel{Config: map[string]string{"other": "not a version"}}, "gemini-2.5-pro", false, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent"},
		{adaptors.Channel{}, "odd model/name", false, "https://generativelanguage.googleapis.com/v1beta/models/odd%20model%2Fname:generateContent"},
	}
	for _, tt := range tests {
		r, err := a.BuildRequest(&tt.ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: tt.model, Stream: tt.stream, Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		if r.URL != tt.want {
			t.Errorf("URL %s, want %s", r.URL, tt.want)
		}
	}
}

// TestSkipSignature: the placeholder is the documented name, encoded as
// the bytes field it is.
func TestSkipSignature(t *testing.T) {
	b, err := base64.StdEncoding.DecodeString(skipSignature)
	if err != nil || string(b) != "skip_thought_signature_validator" {
		t.Errorf("%q decodes to %q (%v)", skipSignature, b, err)
	}
}
