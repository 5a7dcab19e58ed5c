package anthropic

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
		t.Run(name, func(t *testing.T) {
			in, err := InboundRequest(adaptortest.ReadFile(t, f))
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, in.OpenAI, "", "  "); err != nil {
				t.Fatalf("output is not json: %v\n%s", err, in.OpenAI)
			}
			got := fmt.Sprintf("model=%s stream=%v\n%s\n", in.Model, in.Stream, pretty.Bytes())
			adaptortest.Golden(t, "testdata/inbound/request/"+name+".golden", []byte(got), *update)
		})
	}
}

// openaiOf converts body and decodes the OpenAI request for assertions.
func openaiOf(t *testing.T, body string) map[string]any {
	t.Helper()
	in, err := InboundRequest([]byte(body))
	if err != nil {
		t.Fatalf("InboundRequest(%s): %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(in.OpenAI, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInboundReasoningEffort(t *testing.T) {
	tests := []struct {
		extra string
		want  any
	}{
		{`"thinking":{"type":"enabled","budget_tokens":1024}`, "low"},
		{`"thinking":{"type":"enabled","budget_tokens":4095}`, "low"},
		{`"thinking":{"type":"enabled","budget_tokens":4096}`, "medium"},
		{`"thinking":{"type":"enabled","budget_tokens":16383}`, "medium"},
		{`"thinking":{"type":"enabled","budget_tokens":16384}`, "high"},
		{`"thinking":{"type":"enabled","budget_tokens":64000}`, "high"},
		{`"thinking":{"type":"disabled"}`, nil},
		{`"thinking":{"type":"adaptive"}`, nil},
		{`"output_config":{"effort":"medium"}`, "medium"},
		{`"output_config":{"effort":"xhigh"}`, "high"},
		{`"thinking":{"type":"enabled","budget_tokens":2000},"output_config":{"effort":"high"}`, "high"},
	}
	for _, tt := range tests {
		m := openaiOf(t, `{"model":"m","max_tokens":100000,"messages":[{"role":"user","content":"hi"}],`+tt.extra+`}`)
		if got := m["reasoning_effort"]; got != tt.want {
			t.Errorf("%s: reasoning_effort = %v, want %v", tt.extra, got, tt.want)
		}
	}
}

func TestInboundToolChoice(t *testing.T) {
	tests := []struct {
		choice       string
		want         any
		wantParallel any
	}{
		{`{"type":"auto"}`, "auto", nil},
		{`{"type":"any"}`, "required", nil},
		{`{"type":"none"}`, "none", nil},
		{`{"type":"tool","name":"f"}`, map[string]any{"type": "function", "function": map[string]any{"name": "f"}}, nil},
		{`{"type":"any","disable_parallel_tool_use":true}`, "required", false},
	}
	for _, tt := range tests {
		m := openaiOf(t, `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":`+tt.choice+`}`)
		if diff := cmp.Diff(tt.want, m["tool_choice"]); diff != "" {
			t.Errorf("%s: tool_choice (-want +got):\n%s", tt.choice, diff)
		}
		if got := m["parallel_tool_calls"]; got != tt.wantParallel {
			t.Errorf("%s: parallel_tool_calls = %v, want %v", tt.choice, got, tt.wantParallel)
		}
	}
}

func TestInboundStreamAsksForUsage(t *testing.T) {
	m := openaiOf(t, `{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if diff := cmp.Diff(map[string]any{"include_usage": true}, m["stream_options"]); diff != "" || m["stream"] != true {
		t.Errorf("stream=%v stream_options diff:\n%s", m["stream"], diff)
	}
	m = openaiOf(t, `{"model":"m","max_tokens":5,"stream":false,"messages":[{"role":"user","content":"hi"}]}`)
	if _, ok := m["stream_options"]; ok {
		t.Errorf("stream_options set on a non-stream request")
	}
}

func TestInboundBadRequests(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, body, want string
	}{
		{"empty", ``, "json object"},
		{"not json", `hello`, "json object"},
		{"array", `[{"model":"m"}]`, "json object"},
		{"truncated", `{"model":"m","max_tokens":1,` + msgs, "malformed json"},
		{"trailing garbage", `{"model":"m","max_tokens":1,` + msgs + `}}`, "malformed json"},
		{"missing model", `{"max_tokens":1,` + msgs + `}`, "model: field required"},
		{"model not a string", `{"model":7,"max_tokens":1,` + msgs + `}`, "malformed json"},
		{"missing max_tokens", `{"model":"m",` + msgs + `}`, "max_tokens: field required"},
		{"zero max_tokens", `{"model":"m","max_tokens":0,` + msgs + `}`, "max_tokens: must be at least 1"},
		{"missing messages", `{"model":"m","max_tokens":1}`, "messages: field required"},
		{"null messages", `{"model":"m","max_tokens":1,"messages":null}`, "messages: field required"},
		{"empty messages", `{"model":"m","max_tokens":1,"messages":[]}`, "at least one message"},
		{"messages not an array", `{"model":"m","max_tokens":1,"messages":"hi"}`, "messages: expected an array"},
		{"system role", `{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"hi"}]}`, `unknown role "system"`},
		{"missing role", `{"model":"m","max_tokens":1,"messages":[{"content":"hi"}]}`, `unknown role ""`},
		{"missing content", `{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}`, "messages.0.content: field required"},
		{"content number", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":3}]}`, "expected a string or an array"},
		{"unknown block", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"video"}]}]}`, `unsupported block type "video"`},
		{"tool_use from user", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}]}`, "only allowed in assistant"},
		{"tool_result from assistant", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"a"}]}]}`, `unsupported block type "tool_result"`},
		{"tool_result without id", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`, "tool_use_id: field required"},
		{"tool_use without id", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}]}`, "need an id and a name"},
		{"image file source", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_1"}}]}]}`, `unsupported source type "file"`},
		{"image without source", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}]}`, "source: field required"},
		{"url document", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}`, "unsupported document source"},
		{"system not text", `{"model":"m","max_tokens":1,"system":[{"type":"image"}],` + msgs + `}`, "expected a text block"},
		{"server tool", `{"model":"m","max_tokens":1,` + msgs + `,"tools":[{"type":"web_search_20250305","name":"web_search"}]}`, "server tool type"},
		{"tool without name", `{"model":"m","max_tokens":1,` + msgs + `,"tools":[{"input_schema":{}}]}`, "tools.0.name"},
		{"unknown tool_choice", `{"model":"m","max_tokens":1,` + msgs + `,"tool_choice":{"type":"some"}}`, "tool_choice.type"},
		{"tool_choice tool without name", `{"model":"m","max_tokens":1,` + msgs + `,"tool_choice":{"type":"tool"}}`, "tool_choice.name"},
		{"thinking without budget", `{"model":"m","max_tokens":1,` + msgs + `,"thinking":{"type":"enabled"}}`, "budget_tokens"},
		{"unknown thinking", `{"model":"m","max_tokens":1,` + msgs + `,"thinking":{"type":"deep"}}`, "thinking.type"},
		{"unknown effort", `{"model":"m","max_tokens":1,` + msgs + `,"output_config":{"effort":"huge"}}`, "output_config.effort"},
		{"bad format", `{"model":"m","max_tokens":1,` + msgs + `,"output_config":{"format":{"type":"xml"}}}`, "output_config.format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := InboundRequest([]byte(tt.body))
			if err == nil {
				t.Fatalf("no error; got %s", in.OpenAI)
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
			f.Add(b)
		}
	}
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"image","source":{"type":"url","url":"u"}}]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := InboundRequest(body)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		var out struct {
			Model    string            `json:"model"`
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(in.OpenAI, &out); err != nil {
			t.Fatalf("output is not json: %v: %s", err, in.OpenAI)
		}
		if out.Model == "" || out.Model != in.Model || len(out.Messages) == 0 {
			t.Fatalf("output lacks model or messages: %s", in.OpenAI)
		}
	})
}
