package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors/adaptortest"
)

func TestInboundRequestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/inbound/request/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no request fixtures: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		stream := strings.Contains(name, "stream")
		t.Run(name, func(t *testing.T) {
			out, err := InboundRequest(adaptortest.ReadFile(t, f), "gemini-2.5-flash", stream)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out, "", "  "); err != nil {
				t.Fatalf("output is not json: %v\n%s", err, out)
			}
			got := fmt.Sprintf("stream=%v\n%s\n", stream, pretty.Bytes())
			adaptortest.Golden(t, "testdata/inbound/request/"+name+".golden", []byte(got), *update)
		})
	}
}

// openaiOf converts body and decodes the OpenAI request for assertions.
func openaiOf(t *testing.T, body string) map[string]any {
	t.Helper()
	out, err := InboundRequest([]byte(body), "m", false)
	if err != nil {
		t.Fatalf("InboundRequest(%s): %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

const userHi = `"contents":[{"role":"user","parts":[{"text":"hi"}]}]`

func TestInboundReasoningEffort(t *testing.T) {
	tests := []struct {
		config string
		want   any
	}{
		{`{"thinkingBudget":1024}`, "low"},
		{`{"thinkingBudget":4095}`, "low"},
		{`{"thinkingBudget":4096}`, "medium"},
		{`{"thinking_budget":16383}`, "medium"},
		{`{"thinkingBudget":16384}`, "high"},
		{`{"thinkingBudget":24576}`, "high"},
		{`{"thinkingBudget":0}`, nil},
		{`{"thinkingBudget":-1}`, nil},
		{`{"thinkingLevel":"HIGH"}`, "high"},
		{`{"thinking_level":"low","thinkingBudget":30000}`, "low"},
		{`{"includeThoughts":true}`, nil},
	}
	for _, tt := range tests {
		m := openaiOf(t, `{`+userHi+`,"generationConfig":{"thinkingConfig":`+tt.config+`}}`)
		if got := m["reasoning_effort"]; got != tt.want {
			t.Errorf("%s: reasoning_effort = %v, want %v", tt.config, got, tt.want)
		}
	}
}

func TestInboundToolChoice(t *testing.T) {
	tests := []struct {
		config string
		want   any
	}{
		{`{"mode":"AUTO"}`, "auto"},
		{`{"mode":"VALIDATED"}`, "auto"},
		{`{"mode":"NONE"}`, "none"},
		{`{"mode":"ANY"}`, "required"},
		{`{"mode":"ANY","allowedFunctionNames":["f","g"]}`, "required"},
		{`{"mode":"ANY","allowed_function_names":["g"]}`, map[string]any{"type": "function", "function": map[string]any{"name": "g"}}},
		{`{"mode":"MODE_UNSPECIFIED"}`, nil},
	}
	for _, tt := range tests {
		m := openaiOf(t, `{`+userHi+`,"tools":[{"functionDeclarations":[{"name":"f"},{"name":"g"}]}],"toolConfig":{"functionCallingConfig":`+tt.config+`}}`)
		if diff := cmp.Diff(tt.want, m["tool_choice"]); diff != "" {
			t.Errorf("%s: tool_choice (-want +got):\n%s", tt.config, diff)
		}
	}
}

func TestInboundResponseFormat(t *testing.T) {
	tests := []struct {
		config string
		want   any
	}{
		{`{"responseMimeType":"text/plain"}`, nil},
		{`{"responseMimeType":"application/json"}`, map[string]any{"type": "json_object"}},
		{`{"responseMimeType":"application/json","responseJsonSchema":{"type":"object","properties":{"a":{"type":"string"}}}}`,
			map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "response", "schema": map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "string"}}}}}},
		{`{"response_mime_type":"application/json","response_schema":{"type":"STRING","nullable":true,"enum":["A","B"]}}`,
			map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "response", "schema": map[string]any{"type": []any{"string", "null"}, "enum": []any{"A", "B"}}}}},
	}
	for _, tt := range tests {
		m := openaiOf(t, `{`+userHi+`,"generationConfig":`+tt.config+`}`)
		if diff := cmp.Diff(tt.want, m["response_format"]); diff != "" {
			t.Errorf("%s: response_format (-want +got):\n%s", tt.config, diff)
		}
	}
}

func TestInboundStream(t *testing.T) {
	out, err := InboundRequest([]byte(`{`+userHi+`}`), "gemini-2.0-flash", true)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"gemini-2.0-flash","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`
	if string(out) != want {
		t.Errorf("got %s\nwant %s", out, want)
	}
}

// TestInboundCallMatching pins how function responses find their calls.
func TestInboundCallMatching(t *testing.T) {
	body := `{"contents":[
		{"role":"user","parts":[{"text":"q"}]},
		{"role":"model","parts":[{"functionCall":{"name":"f","args":{"n":1}}}]},
		{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"r":1}}}]},
		{"role":"model","parts":[{"functionCall":{"name":"f","args":{"n":2}}},{"functionCall":{"name":"g"}},{"functionCall":{"name":"f","args":{"n":3}}}]},
		{"role":"user","parts":[{"functionResponse":{"name":"g","response":{}}},{"functionResponse":{"name":"f","response":{"r":2}}},{"functionResponse":{"name":"f","response":{"r":3}}}]}
	]}`
	m := openaiOf(t, body)
	var got []string
	for _, msg := range m["messages"].([]any) {
		mm := msg.(map[string]any)
		switch mm["role"] {
		case "assistant":
			for _, tc := range mm["tool_calls"].([]any) {
				c := tc.(map[string]any)
				got = append(got, "call "+c["id"].(string)+" "+c["function"].(map[string]any)["arguments"].(string))
			}
		case "tool":
			got = append(got, "answer "+mm["tool_call_id"].(string)+" "+mm["content"].(string))
		}
	}
	want := []string{
		`call call_0 {"n":1}`,
		`answer call_0 {"r":1}`,
		`call call_1 {"n":2}`,
		`call call_2 {}`,
		`call call_3 {"n":3}`,
		`answer call_2 {}`,
		`answer call_1 {"r":2}`,
		`answer call_3 {"r":3}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls and answers (-want +got):\n%s", diff)
	}
}

func TestInboundBadRequests(t *testing.T) {
	tests := []struct {
		name, body, model, want string
	}{
		{"no model", `{` + userHi + `}`, "", "names no model"},
		{"empty", ``, "m", "json object"},
		{"not json", `hello`, "m", "json object"},
		{"array", `[]`, "m", "json object"},
		{"truncated", `{"contents":[`, "m", "malformed json"},
		{"missing contents", `{}`, "m", "contents: field required"},
		{"empty contents", `{"contents":[]}`, "m", "contents: must not be empty"},
		{"contents not a list", `{"contents":"hi"}`, "m", "contents"},
		{"empty parts", `{"contents":[{"role":"user","parts":[]}]}`, "m", "parts: must not be empty"},
		{"unknown role", `{"contents":[{"role":"assistant","parts":[{"text":"hi"}]}]}`, "m", `unknown role "assistant"`},
		{"only empty text", `{"contents":[{"parts":[{"text":""}]}]}`, "m", "no part has content"},
		{"empty part", `{"contents":[{"role":"user","parts":[{}]}]}`, "m", "part has no data"},
		{"audio inline", `{"contents":[{"parts":[{"inlineData":{"mimeType":"audio/wav","data":"UklGRg=="}}]}]}`, "m", `mime type "audio/wav"`},
		{"video file", `{"contents":[{"parts":[{"fileData":{"mimeType":"video/mp4","fileUri":"gs://b/v.mp4"}}]}]}`, "m", `mime type "video/mp4"`},
		{"file without uri", `{"contents":[{"parts":[{"fileData":{"mimeType":"image/png"}}]}]}`, "m", "fileUri: field required"},
		{"code execution", `{"contents":[{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"1"}}]}]}`, "m", "code execution"},
		{"call in user turn", `{"contents":[{"parts":[{"functionCall":{"name":"f"}}]}]}`, "m", "belong in model turns"},
		{"response in model turn", `{"contents":[{"role":"model","parts":[{"functionResponse":{"name":"f"}}]}]}`, "m", "belong in user turns"},
		{"orphan response", `{"contents":[{"parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`, "m", "no earlier functionCall"},
		{"call without name", `{"contents":[{"role":"model","parts":[{"functionCall":{"args":{}}}]}]}`, "m", "functionCall.name"},
		{"args not object", `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":[1]}}]}]}`, "m", "expected an object"},
		{"google search", `{` + userHi + `,"tools":[{"googleSearch":{}}]}`, "m", "tools[0].googleSearch"},
		{"declaration without name", `{` + userHi + `,"tools":[{"functionDeclarations":[{"description":"x"}]}]}`, "m", "name: field required"},
		{"unknown mode", `{` + userHi + `,"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}}`, "m", "unknown mode"},
		{"cached content", `{` + userHi + `,"cachedContent":"cachedContents/abc"}`, "m", "cachedContent"},
		{"enum mime", `{` + userHi + `,"generationConfig":{"responseMimeType":"text/x.enum"}}`, "m", "responseMimeType"},
		{"schema without json", `{` + userHi + `,"generationConfig":{"responseSchema":{"type":"STRING"}}}`, "m", "needs responseMimeType"},
		{"zero max tokens", `{` + userHi + `,"generationConfig":{"maxOutputTokens":0}}`, "m", "maxOutputTokens"},
		{"zero candidates", `{` + userHi + `,"generationConfig":{"candidateCount":0}}`, "m", "candidateCount"},
		{"unknown thinking level", `{` + userHi + `,"generationConfig":{"thinkingConfig":{"thinkingLevel":"ULTRA"}}}`, "m", "thinkingLevel"},
		{"system image", `{` + userHi + `,"systemInstruction":{"parts":[{"inlineData":{"mimeType":"image/png","data":"x"}}]}}`, "m", "systemInstruction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := InboundRequest([]byte(tt.body), tt.model, false)
			if err == nil {
				t.Fatalf("no error; got %s", out)
			}
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("error %v does not wrap ErrBadRequest", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func FuzzInboundRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/inbound/request/*.json")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b, false)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, stream bool) {
		out, err := InboundRequest(body, "m", stream)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		var req struct {
			Model    string            `json:"model"`
			Messages []json.RawMessage `json:"messages"`
			Stream   bool              `json:"stream"`
		}
		if err := json.Unmarshal(out, &req); err != nil {
			t.Fatalf("output is not json: %v: %s", err, out)
		}
		if req.Model != "m" || req.Stream != stream || len(req.Messages) == 0 {
			t.Fatalf("model/stream lost: %s", out)
		}
	})
}
