package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// Build goldens come in pairs so that the bodies can be checked on their
// own (the lead's cross-check parses every testdata/build/*.body.json
// into anthropic-sdk-go's MessageNewParams):
//
//	<name>.golden     the request line and headers, then "(body: <name>.body.json)"
//	<name>.body.json  the exact upstream body, indented
//
// The input of each case is the OpenAI body in testdata/build/<file>.
func renderRequestHead(r *adaptors.HTTPRequest, name string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	fmt.Fprintf(&b, "\n(body: %s.body.json)\n", name)
	return []byte(b.String())
}

func indentJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

type buildCase struct {
	name  string
	file  string
	ch    adaptors.Channel
	model string
	req   adaptors.Request // Body, Model, OriginModel, Mode filled in
}

func buildCases() []buildCase {
	key := adaptors.Channel{Key: "sk-ant-api03-test"}
	return []buildCase{
		{name: "chat", file: "chat.json", ch: key, model: "claude-sonnet-4-5"},
		{name: "chat_stream_passthrough", file: "chat_stream.json", model: "claude-sonnet-4-5",
			ch: adaptors.Channel{Key: "sk-ant-api03-test", BaseURL: "https://anthropic-proxy.example.com/",
				Config: map[string]string{"anthropic_beta": "context-1m-2025-08-07, fine-grained-tool-streaming-2025-05-14"}},
			req: adaptors.Request{Stream: true, IncludeUsage: true, Passthrough: []adaptors.Header{
				{Key: "anthropic-version", Value: "2023-06-01"},
				{Key: "anthropic-beta", Value: "fine-grained-tool-streaming-2025-05-14,interleaved-thinking-2025-05-14"},
			}}},
		{name: "tools", file: "tools.json", ch: key, model: "claude-opus-4-6"},
		{name: "tool_choice_named", file: "tool_choice_named.json", ch: key, model: "claude-haiku-4-5"},
		{name: "images", file: "images.json", ch: key, model: "claude-sonnet-4-6"},
		{name: "reasoning_budget", file: "reasoning_budget.json", ch: key, model: "claude-sonnet-4-5"},
		{name: "reasoning_adaptive", file: "reasoning_adaptive.json", ch: key, model: "claude-opus-5-5",
			req: adaptors.Request{Stream: true}},
		{name: "reasoning_tool_loop", file: "reasoning_tool_loop.json", ch: key, model: "claude-sonnet-4-5"},
		{name: "sampling_legacy", file: "sampling_legacy.json", ch: key, model: "claude-3-7-sonnet-20250219"},
		{name: "sampling_one", file: "sampling_one.json", ch: key, model: "claude-sonnet-4-5-20250929"},
		{name: "sampling_version_2026", file: "sampling_one.json", ch: adaptors.Channel{Key: "sk-ant-api03-test",
			Config: map[string]string{"anthropic_version": "2026-10-21"}}, model: "claude-sonnet-4-5-20250929"},
		// The channel maps the client's model to a fine-tune the table does
		// not know: 4096 tokens unless the channel says otherwise.
		{name: "prefill_merge_unknown_model", file: "prefill_merge.json", ch: key, model: "my-claude-finetune"},
		{name: "channel_max_tokens_mapped", file: "chat_stream.json", model: "claude-opus-4-1-20250805",
			ch:  adaptors.Channel{Key: "sk-ant-api03-test", Config: map[string]string{"max_tokens": "8192"}},
			req: adaptors.Request{Stream: true, OriginModel: "claude-sonnet-4-5"}},
	}
}

func (c *buildCase) request(t testing.TB) *adaptors.Request {
	req := c.req
	req.Mode = adaptors.ModeChat
	req.Body = adaptortest.ReadFile(t, "testdata/build/"+c.file)
	req.Model = c.model
	if req.OriginModel == "" {
		req.OriginModel = c.model
	}
	return &req
}

func TestBuildRequestGolden(t *testing.T) {
	a := New()
	for _, c := range buildCases() {
		t.Run(c.name, func(t *testing.T) {
			req := c.request(t)
			in := bytes.Clone(req.Body)
			got, err := a.BuildRequest(&c.ch, req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(req.Body, in) {
				t.Error("BuildRequest modified the client body")
			}
			adaptortest.Golden(t, "testdata/build/"+c.name+".golden", renderRequestHead(got, c.name), *update)
			adaptortest.Golden(t, "testdata/build/"+c.name+".body.json", indentJSON(t, got.Body), *update)
		})
	}
}

// buildBody builds the body of an inline OpenAI request for model and
// decodes it for assertions.
func buildMap(t *testing.T, model, body string, opt BodyOptions) map[string]any {
	t.Helper()
	b, err := BuildBody(&adaptors.Request{Mode: adaptors.ModeChat, Model: model, Body: []byte(body)}, opt)
	if err != nil {
		t.Fatalf("BuildBody(%s): %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildMaxTokens(t *testing.T) {
	tests := []struct {
		name, model, extra string
		opt                BodyOptions
		want               float64
	}{
		{"max_tokens", "claude-sonnet-4-5", `,"max_tokens":100`, BodyOptions{}, 100},
		{"max_completion_tokens wins", "claude-sonnet-4-5", `,"max_tokens":100,"max_completion_tokens":200`, BodyOptions{}, 200},
		{"zero means unset", "claude-sonnet-4-5", `,"max_tokens":0`, BodyOptions{}, 64000},
		{"channel default", "claude-sonnet-4-5", ``, BodyOptions{MaxTokens: 2000}, 2000},
		{"client beats channel", "claude-sonnet-4-5", `,"max_tokens":10`, BodyOptions{MaxTokens: 2000}, 10},
		{"capped at model limit", "claude-haiku-4-5-20251001", `,"max_tokens":1000000`, BodyOptions{}, 64000},
		{"unknown model not capped", "custom-model", `,"max_tokens":1000000`, BodyOptions{}, 1000000},
		{"unknown model default", "custom-model", ``, BodyOptions{}, 4096},
		{"opus 4.6", "claude-opus-4-6", ``, BodyOptions{}, 128000},
		{"opus 4.1", "claude-opus-4-1-20250805", ``, BodyOptions{}, 32000},
		{"opus 4", "claude-opus-4-20250514", ``, BodyOptions{}, 32000},
		{"sonnet 4", "claude-sonnet-4-20250514", ``, BodyOptions{}, 64000},
		{"3.7 sonnet", "claude-3-7-sonnet-latest", ``, BodyOptions{}, 64000},
		{"3.5 sonnet", "claude-3-5-sonnet-20241022", ``, BodyOptions{}, 8192},
		{"3.5 haiku", "claude-3-5-haiku-20241022", ``, BodyOptions{}, 8192},
		{"3 opus", "claude-3-opus-20240229", ``, BodyOptions{}, 4096},
		{"3 haiku", "claude-3-haiku-20240307", ``, BodyOptions{}, 4096},
		{"opus 5.5", "claude-opus-5-5", ``, BodyOptions{}, 128000},
		{"bedrock id", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", ``, BodyOptions{}, 64000},
		{"vertex id", "claude-opus-4-1@20250805", ``, BodyOptions{}, 32000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildMap(t, tt.model, `{"messages":[{"role":"user","content":"hi"}]`+tt.extra+`}`, tt.opt)
			if got := m["max_tokens"]; got != tt.want {
				t.Errorf("max_tokens = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBuildStop(t *testing.T) {
	tests := []struct {
		stop string
		want any
	}{
		{`"END"`, []any{"END"}},
		{`["a","b"]`, []any{"a", "b"}},
		{`[" ","","x"]`, []any{"x"}},
		{`null`, nil},
		{`[]`, nil},
		{`"  "`, nil},
	}
	for _, tt := range tests {
		m := buildMap(t, "claude-sonnet-4-5", `{"messages":[{"role":"user","content":"hi"}],"stop":`+tt.stop+`}`, BodyOptions{})
		if diff := cmp.Diff(tt.want, m["stop_sequences"]); diff != "" {
			t.Errorf("stop %s (-want +got):\n%s", tt.stop, diff)
		}
	}
}

func TestBuildToolChoice(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"f"}}]`
	tests := []struct {
		name, model, extra string
		want               any
	}{
		{"absent", "claude-sonnet-4-5", ``, nil},
		{"auto", "claude-sonnet-4-5", `,"tool_choice":"auto"`, map[string]any{"type": "auto"}},
		{"none", "claude-sonnet-4-5", `,"tool_choice":"none"`, map[string]any{"type": "none"}},
		{"required", "claude-sonnet-4-5", `,"tool_choice":"required"`, map[string]any{"type": "any"}},
		{"named", "claude-sonnet-4-5", `,"tool_choice":{"type":"function","function":{"name":"f"}}`, map[string]any{"type": "tool", "name": "f"}},
		{"parallel false alone", "claude-sonnet-4-5", `,"parallel_tool_calls":false`, map[string]any{"type": "auto", "disable_parallel_tool_use": true}},
		{"parallel true", "claude-sonnet-4-5", `,"parallel_tool_calls":true`, nil},
		{"parallel false with none", "claude-sonnet-4-5", `,"tool_choice":"none","parallel_tool_calls":false`, map[string]any{"type": "none"}},
		{"required with parallel false", "claude-sonnet-4-5", `,"tool_choice":"required","parallel_tool_calls":false`, map[string]any{"type": "any", "disable_parallel_tool_use": true}},
		{"forced becomes auto with thinking", "claude-sonnet-4-5", `,"tool_choice":"required","reasoning_effort":"low"`, map[string]any{"type": "auto"}},
		{"forced becomes auto on always-thinking model", "claude-opus-5-5", `,"tool_choice":{"type":"function","function":{"name":"f"}}`, map[string]any{"type": "auto"}},
		{"forced kept on opus 4.7 without reasoning", "claude-opus-4-7", `,"tool_choice":"required"`, map[string]any{"type": "any"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildMap(t, tt.model, `{"messages":[{"role":"user","content":"hi"}],`+tools+tt.extra+`}`, BodyOptions{})
			if diff := cmp.Diff(tt.want, m["tool_choice"]); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Without tools, tool_choice and parallel_tool_calls are dropped:
	// the API refuses tool_choice without tools.
	m := buildMap(t, "claude-sonnet-4-5", `{"messages":[{"role":"user","content":"hi"}],"tool_choice":"required","parallel_tool_calls":false}`, BodyOptions{})
	if _, ok := m["tool_choice"]; ok {
		t.Errorf("tool_choice sent without tools: %v", m)
	}
}

func TestBuildReasoning(t *testing.T) {
	tests := []struct {
		name, model, extra string
		wantThinking       any
		wantEffort         any
		wantMax            float64
	}{
		{"minimal budget", "claude-sonnet-4-5", `"reasoning_effort":"minimal","max_tokens":8000`,
			map[string]any{"type": "enabled", "budget_tokens": 1024.0}, nil, 8000},
		{"low budget", "claude-haiku-4-5", `"reasoning_effort":"low","max_tokens":8000`,
			map[string]any{"type": "enabled", "budget_tokens": 2048.0}, nil, 8000},
		{"medium raises max_tokens", "claude-sonnet-4-5", `"reasoning_effort":"medium","max_tokens":1000`,
			map[string]any{"type": "enabled", "budget_tokens": 8192.0}, nil, 9192},
		{"raise capped at model limit", "claude-opus-4-1", `"reasoning_effort":"high","max_tokens":20000`,
			map[string]any{"type": "enabled", "budget_tokens": 24576.0}, nil, 32000},
		{"budget shrinks below the limit", "claude-opus-4-1", `"reasoning_effort":"xhigh","max_tokens":32000`,
			map[string]any{"type": "enabled", "budget_tokens": 31999.0}, nil, 32000},
		{"default max_tokens fits", "claude-sonnet-4-5", `"reasoning_effort":"high"`,
			map[string]any{"type": "enabled", "budget_tokens": 24576.0}, nil, 64000},
		{"unknown model gets budget", "my-model", `"reasoning_effort":"low"`,
			map[string]any{"type": "enabled", "budget_tokens": 2048.0}, nil, 4096},
		{"adaptive", "claude-opus-4-7", `"reasoning_effort":"high"`,
			map[string]any{"type": "adaptive"}, map[string]any{"effort": "high"}, 128000},
		{"adaptive minimal is low", "claude-sonnet-5-5", `"reasoning_effort":"minimal"`,
			map[string]any{"type": "adaptive"}, map[string]any{"effort": "low"}, 128000},
		{"none", "claude-sonnet-4-5", `"reasoning_effort":"none"`, nil, nil, 64000},
		{"model without thinking", "claude-3-5-sonnet-20241022", `"reasoning_effort":"high"`, nil, nil, 8192},
		{"in a tool loop", "claude-sonnet-4-5", `"reasoning_effort":"high","messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"t1","content":"r"}]`,
			nil, nil, 64000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{` + tt.extra
			if !strings.Contains(tt.extra, `"messages"`) {
				body += `,"messages":[{"role":"user","content":"hi"}]`
			}
			m := buildMap(t, tt.model, body+`}`, BodyOptions{})
			if diff := cmp.Diff(tt.wantThinking, m["thinking"]); diff != "" {
				t.Errorf("thinking (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEffort, m["output_config"]); diff != "" {
				t.Errorf("output_config (-want +got):\n%s", diff)
			}
			if m["max_tokens"] != tt.wantMax {
				t.Errorf("max_tokens = %v, want %v", m["max_tokens"], tt.wantMax)
			}
		})
	}
}

func TestBuildSampling(t *testing.T) {
	both := `{"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"top_p":0.8}`
	topP := `{"messages":[{"role":"user","content":"hi"}],"top_p":0.8}`
	tests := []struct {
		name, model, body string
		opt               BodyOptions
		wantT, wantP      any
	}{
		{"both kept", "claude-3-7-sonnet-20250219", both, BodyOptions{}, 0.5, 0.8},
		{"one sampler keeps temperature", "claude-opus-4-5", both, BodyOptions{}, 0.5, nil},
		{"one sampler keeps a lone top_p", "claude-opus-4-5", topP, BodyOptions{}, nil, 0.8},
		{"opus 4.7 takes none", "claude-opus-4-7", both, BodyOptions{}, nil, nil},
		{"api version 2026-10-21", "claude-3-7-sonnet-20250219", both, BodyOptions{APIVersion: "2026-10-21"}, nil, nil},
		{"api version 2023-06-01", "claude-3-7-sonnet-20250219", both, BodyOptions{APIVersion: "2023-06-01"}, 0.5, 0.8},
		{"bedrock body version", "claude-3-7-sonnet-20250219", both, BodyOptions{Version: "bedrock-2023-05-31"}, 0.5, 0.8},
		{"thinking drops them", "claude-3-7-sonnet-20250219", `{"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"top_p":0.8,"reasoning_effort":"low"}`, BodyOptions{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildMap(t, tt.model, tt.body, tt.opt)
			if m["temperature"] != tt.wantT || m["top_p"] != tt.wantP {
				t.Errorf("temperature, top_p = %v, %v; want %v, %v", m["temperature"], m["top_p"], tt.wantT, tt.wantP)
			}
		})
	}
}

func TestBuildBodyOptions(t *testing.T) {
	body := `{"model":"client-name","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-sonnet-4-5", Body: []byte(body), Stream: true}
	tests := []struct {
		name string
		opt  BodyOptions
		want string
	}{
		{"claude api", BodyOptions{}, `{"model":"claude-sonnet-4-5","max_tokens":64000,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true}`},
		{"bedrock", BodyOptions{Version: "bedrock-2023-05-31", OmitModel: true, OmitStream: true}, `{"anthropic_version":"bedrock-2023-05-31","max_tokens":64000,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`},
		{"vertex", BodyOptions{Version: "vertex-2023-10-16", OmitModel: true}, `{"anthropic_version":"vertex-2023-10-16","max_tokens":64000,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true}`},
	}
	for _, tt := range tests {
		got, err := BuildBody(req, tt.opt)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestBuildMessages(t *testing.T) {
	tests := []struct {
		name, messages string
		wantSystem     any
		wantMessages   string // JSON
	}{
		{"system anywhere is hoisted",
			`[{"role":"user","content":"a"},{"role":"system","content":"s1"},{"role":"assistant","content":"b"},{"role":"developer","content":[{"type":"text","text":"s2"}]},{"role":"user","content":"c"}]`,
			[]any{map[string]any{"type": "text", "text": "s1"}, map[string]any{"type": "text", "text": "s2"}},
			`[{"role":"user","content":[{"type":"text","text":"a"}]},{"role":"assistant","content":[{"type":"text","text":"b"}]},{"role":"user","content":[{"type":"text","text":"c"}]}]`},
		{"consecutive roles merge",
			`[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"assistant","content":"c"},{"role":"assistant","content":"d"}]`, nil,
			`[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":[{"type":"text","text":"c"},{"type":"text","text":"d"}]}]`},
		{"empty messages are skipped",
			`[{"role":"user","content":"a"},{"role":"assistant","content":""},{"role":"user","content":null},{"role":"user","content":"b"}]`, nil,
			`[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]`},
		{"tool results merge with the next user message and come first",
			`[{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":""}},{"id":"b","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},{"role":"tool","tool_call_id":"a","content":""},{"role":"tool","tool_call_id":"b","content":"2"},{"role":"user","content":"thanks"}]`, nil,
			`[{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}},{"type":"tool_use","id":"b","name":"f","input":{"x":1}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a"},{"type":"tool_result","tool_use_id":"b","content":[{"type":"text","text":"2"}]},{"type":"text","text":"thanks"}]}]`},
		{"user text before tool results is moved after them",
			`[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"note"},{"role":"tool","tool_call_id":"a","content":"r"}]`, nil,
			`[{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"text","text":"r"}]},{"type":"text","text":"note"}]}]`},
		{"tool ids are made acceptable",
			`[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"call:1.2","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call:1.2","content":[{"type":"text","text":"r"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,QUJD"}}]}]`, nil,
			`[{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"assistant","content":[{"type":"tool_use","id":"call_1_2","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1_2","content":[{"type":"text","text":"r"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"QUJD"}}]}]}]`},
		{"assistant text and refusal parts",
			`[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"text","text":"x"},{"type":"refusal","refusal":"no"}]},{"role":"user","content":"q2"}]`, nil,
			`[{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"assistant","content":[{"type":"text","text":"x"},{"type":"text","text":"no"}]},{"role":"user","content":[{"type":"text","text":"q2"}]}]`},
		{"prefill trailing whitespace is trimmed",
			`[{"role":"user","content":"q"},{"role":"assistant","content":"The answer is "}]`, nil,
			`[{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"assistant","content":[{"type":"text","text":"The answer is"}]}]`},
		{"whitespace-only prefill is dropped",
			`[{"role":"user","content":"q"},{"role":"assistant","content":" \n"}]`, nil,
			`[{"role":"user","content":[{"type":"text","text":"q"}]}]`},
		{"image jpg alias and url",
			`[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpg;base64,QUJD"}},{"type":"image_url","image_url":{"url":"http://example.com/a.png"}}]}]`, nil,
			`[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"QUJD"}},{"type":"image","source":{"type":"url","url":"http://example.com/a.png"}}]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildMap(t, "claude-sonnet-4-5", `{"messages":`+tt.messages+`}`, BodyOptions{})
			if diff := cmp.Diff(tt.wantSystem, m["system"]); diff != "" {
				t.Errorf("system (-want +got):\n%s", diff)
			}
			var want any
			if err := json.Unmarshal([]byte(tt.wantMessages), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, m["messages"]); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildInvalid(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not json", `nope`},
		{"array", `[1]`},
		{"truncated", `{"messages":[`},
		{"no messages", `{"messages":[]}`},
		{"only system", `{"messages":[{"role":"system","content":"s"}]}`},
		{"unknown role", `{"messages":[{"role":"function","content":"x"}]}`},
		{"invalid arguments", `{"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`},
		{"array arguments", `{"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`},
		{"tool call without id", `{"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`},
		{"tool message without id", `{"messages":[{"role":"tool","content":"r"}]}`},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}`},
		{"svg image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml;base64,PHN2Zz4="}}]}]}`},
		{"non-base64 data url", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`},
		{"ftp image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`},
		{"file id", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}`},
		{"docx file", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/msword;base64,QUJD"}}]}]}`},
		{"system image", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},{"role":"user","content":"q"}]}`},
		{"custom tool", `{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}`},
		{"schema not object", `{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"f","parameters":[1]}}]}`},
		{"bad tool_choice", `{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}`},
		{"bad stop", `{"messages":[{"role":"user","content":"q"}],"stop":5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildBody(&adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-sonnet-4-5", Body: []byte(tt.body)}, BodyOptions{})
			if !errors.Is(err, adaptors.ErrInvalidBody) {
				t.Errorf("err = %v, want ErrInvalidBody", err)
			}
		})
	}
}

func TestBuildUnsupportedMode(t *testing.T) {
	for _, mode := range []adaptors.Mode{adaptors.ModeEmbeddings, adaptors.ModeCompletions, adaptors.ModeResponses, adaptors.ModeImagesGenerations} {
		_, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, &adaptors.Request{Mode: mode, Model: "claude-sonnet-4-5", Body: []byte(`{}`)})
		if !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: err = %v, want ErrUnsupportedMode", mode, err)
		}
	}
}

func headerMap(hs []adaptors.Header) map[string]string {
	m := map[string]string{}
	for _, h := range hs {
		m[h.Key] = h.Value
	}
	return m
}

func TestBuildHeaders(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"hi"}]}`)
	tests := []struct {
		name        string
		config      map[string]string
		passthrough []adaptors.Header
		want        map[string]string
	}{
		{"defaults", nil, nil, map[string]string{"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}},
		{"channel version and beta", map[string]string{"anthropic_version": "2026-10-21", "anthropic_beta": "a,b"}, nil,
			map[string]string{"x-api-key": "k", "anthropic-version": "2026-10-21", "anthropic-beta": "a,b", "content-type": "application/json"}},
		{"client wins, betas joined without duplicates", map[string]string{"anthropic_version": "2026-10-21", "anthropic_beta": "b, c"},
			[]adaptors.Header{{Key: "anthropic-version", Value: "2023-06-01"}, {Key: "anthropic-beta", Value: "a,b"}, {Key: "Anthropic-Beta", Value: "d"}},
			map[string]string{"x-api-key": "k", "anthropic-version": "2023-06-01", "anthropic-beta": "a,b,d,c", "content-type": "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New().BuildRequest(&adaptors.Channel{Key: "k", Config: tt.config},
				&adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-sonnet-4-5", Body: body, Passthrough: tt.passthrough})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, headerMap(r.Header)); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if r.Method != "POST" || r.URL != DefaultBaseURL+"/v1/messages" {
				t.Errorf("request line %s %s", r.Method, r.URL)
			}
		})
	}
}

func TestInlinesImages(t *testing.T) {
	tests := []struct {
		mode adaptors.Mode
		body string
		want bool
	}{
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":"see https://example.com"}]}`, false},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`, true},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url": "http://example.com/a.png"}}]}]}`, true},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https:\/\/example.com\/a.png"}}]}]}`, true},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,QUJD"}}]}]}`, false},
		{adaptors.ModeEmbeddings, `{"input":"\"image_url\" \"https://x"}`, false},
	}
	a := New()
	for _, tt := range tests {
		if got := a.InlinesImages(&adaptors.Channel{}, &adaptors.Request{Mode: tt.mode, Body: []byte(tt.body)}); got != tt.want {
			t.Errorf("InlinesImages(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestModelsRequestAndParse(t *testing.T) {
	a := New()
	r, err := a.ModelsRequest(&adaptors.Channel{Key: "k", BaseURL: "https://proxy.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"x-api-key": "k", "anthropic-version": "2023-06-01"}
	if r.Method != "GET" || r.URL != "https://proxy.example.com/v1/models?limit=1000" || !cmp.Equal(want, headerMap(r.Header)) {
		t.Errorf("models request %s %s %v", r.Method, r.URL, r.Header)
	}
	// The documented list shape (GET /v1/models).
	body := `{"data":[{"type":"model","id":"claude-opus-4-6","display_name":"Claude Opus 4.6","created_at":"2026-02-05T00:00:00Z"},{"type":"model","id":"claude-haiku-4-5-20251001","display_name":"Claude Haiku 4.5","created_at":"2025-10-15T00:00:00Z"}],"has_more":false,"first_id":"claude-opus-4-6","last_id":"claude-haiku-4-5-20251001"}`
	ids, err := a.ParseModels([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"claude-opus-4-6", "claude-haiku-4-5-20251001"}, ids); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "<html>", `{"data":[`} {
		if _, err := a.ParseModels([]byte(bad)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("ParseModels(%q) err = %v", bad, err)
		}
	}
}

func TestModelsList(t *testing.T) {
	ms := Models()
	if len(ms) == 0 {
		t.Fatal("no models")
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m] {
			t.Errorf("duplicate %s", m)
		}
		seen[m] = true
		if _, known := lookupModel(m); !known {
			t.Errorf("default model %s is not in the model table", m)
		}
	}
	ms[0] = "changed"
	if Models()[0] == "changed" {
		t.Error("Models returns a shared slice")
	}
}
