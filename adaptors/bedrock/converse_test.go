package bedrock

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// converseOf builds the Converse body of an OpenAI body and decodes it
// generically for comparisons.
func converseOf(t *testing.T, body string, defaultMax int) map[string]any {
	t.Helper()
	b, err := buildConverse([]byte(body), defaultMax)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

const weatherTool = `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}`

func TestConverseToolChoice(t *testing.T) {
	history := `{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"sunny"}`
	tests := []struct {
		name, messages, choice string
		want                   any // toolConfig.toolChoice, or "no toolConfig"
	}{
		{"absent", "", ``, nil},
		{"auto", "", `"auto"`, nil},
		{"required", "", `"required"`, map[string]any{"any": map[string]any{}}},
		{"named", "", `{"type":"function","function":{"name":"get_weather"}}`, map[string]any{"tool": map[string]any{"name": "get_weather"}}},
		{"none", "", `"none"`, "no toolConfig"},
		// With tool blocks in the conversation Converse needs toolConfig,
		// so "none" keeps the tools (Converse has no "none" choice).
		{"none_with_history", "," + history, `"none"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"Weather?"}` + tt.messages + `],"tools":[` + weatherTool + `]`
			if tt.choice != "" {
				body += `,"tool_choice":` + tt.choice
			}
			body += `}`
			v := converseOf(t, body, 0)
			tc, ok := v["toolConfig"].(map[string]any)
			if tt.want == "no toolConfig" {
				if ok {
					t.Errorf("toolConfig sent: %v", tc)
				}
				return
			}
			if !ok {
				t.Fatalf("no toolConfig in %v", v)
			}
			if diff := cmp.Diff(tt.want, tc["toolChoice"]); diff != "" {
				t.Errorf("toolChoice (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConverseInferenceConfig(t *testing.T) {
	tests := []struct {
		name, params string
		defaultMax   int
		want         any
	}{
		{"none", ``, 0, nil},
		{"channel_default", ``, 1500, map[string]any{"maxTokens": 1500.0}},
		{"max_tokens", `,"max_tokens":100`, 1500, map[string]any{"maxTokens": 100.0}},
		{"max_completion_tokens_wins", `,"max_tokens":100,"max_completion_tokens":50`, 0, map[string]any{"maxTokens": 50.0}},
		{"zero_is_unset", `,"max_tokens":0`, 0, nil},
		{"temperature_zero_kept", `,"temperature":0,"top_p":1`, 0, map[string]any{"temperature": 0.0, "topP": 1.0}},
		{"stop_string", `,"stop":"END"`, 0, map[string]any{"stopSequences": []any{"END"}}},
		{"stop_array", `,"stop":["a","","b"]`, 0, map[string]any{"stopSequences": []any{"a", "b"}}},
		{"stop_null", `,"stop":null`, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := converseOf(t, `{"messages":[{"role":"user","content":"Hi"}]`+tt.params+`}`, tt.defaultMax)
			if diff := cmp.Diff(tt.want, v["inferenceConfig"]); diff != "" {
				t.Errorf("inferenceConfig (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConverseRoles(t *testing.T) {
	v := converseOf(t, `{"messages":[
		{"role":"system","content":"S1"},
		{"role":"user","content":"U1"},
		{"role":"developer","content":[{"type":"text","text":"D1"}]},
		{"role":"user","content":[{"type":"text","text":"U2"}]},
		{"role":"assistant","content":""},
		{"role":"assistant","content":[{"type":"text","text":"A1"},{"type":"refusal","refusal":"A2"}]},
		{"role":"user","content":null},
		{"role":"user","content":"U3"}
	]}`, 0)
	want := map[string]any{
		"system": []any{map[string]any{"text": "S1"}, map[string]any{"text": "D1"}},
		"messages": []any{
			map[string]any{"role": "user", "content": []any{map[string]any{"text": "U1"}, map[string]any{"text": "U2"}}},
			map[string]any{"role": "assistant", "content": []any{map[string]any{"text": "A1"}, map[string]any{"text": "A2"}}},
			map[string]any{"role": "user", "content": []any{map[string]any{"text": "U3"}}},
		},
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestConverseToolArguments(t *testing.T) {
	for args, want := range map[string]any{
		`"{\"a\":1}"`: map[string]any{"a": 1.0},
		`""`:          map[string]any{},
		`"not json"`:  map[string]any{},
		`"[1,2]"`:     map[string]any{},
		`{"b":2}`:     map[string]any{"b": 2.0}, // lax clients send the object itself
		`null`:        map[string]any{},
	} {
		v := converseOf(t, `{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":`+args+`}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}],"tools":[`+weatherTool+`]}`, 0)
		msgs := v["messages"].([]any)
		tu := msgs[1].(map[string]any)["content"].([]any)[0].(map[string]any)["toolUse"].(map[string]any)
		if diff := cmp.Diff(want, tu["input"]); diff != "" {
			t.Errorf("arguments %s (-want +got):\n%s", args, diff)
		}
	}
}

func TestParseDataURL(t *testing.T) {
	tests := []struct {
		in, mime, data string
		ok             bool
	}{
		{"data:image/png;base64,AAAA", "image/png", "AAAA", true},
		{"data:IMAGE/JPEG;name=x.jpg;base64,BBBB", "image/jpeg", "BBBB", true},
		{"data:image/png,AAAA", "", "", false}, // not base64
		{"data:image/png;base64,", "", "", false},
		{"https://example.com/x.png", "", "", false},
	}
	for _, tt := range tests {
		mime, data, ok := parseDataURL(tt.in)
		if mime != tt.mime || data != tt.data || ok != tt.ok {
			t.Errorf("parseDataURL(%q) = %q, %q, %v", tt.in, mime, data, ok)
		}
	}
	for in, want := range map[string]string{
		"report.final.pdf": "report final", "Q3 [draft] (v2).pdf": "Q3 [draft] (v2)", "___.pdf": "document-1-2", "": "document-1-2",
	} {
		if got := documentName(in, 1, 2); got != want {
			t.Errorf("documentName(%q) = %q, want %q", in, got, want)
		}
	}
}
