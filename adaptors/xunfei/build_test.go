package xunfei

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// testKey is a channel key in One API's order, APPID|APISecret|APIKey;
// the secret is the one of iFLYTEK's signing example.
const testKey = "4CC5779A|MjlmNzkzNmZkMDQ2OTc0ZDdmNGE2ZTZi|apikeyXXXXXXXXXXXXXXXXXXXXXXXXXX"

// testNow is the date of iFLYTEK's signing example.
var testNow = time.Date(2023, time.May, 5, 10, 43, 39, 0, time.UTC)

// renderSocketCall prints a socket call's URL (its query decoded, one
// parameter a line, for review), headers and frame count for golden
// files.
func renderSocketCall(t testing.TB, c *adaptors.SocketCall) []byte {
	t.Helper()
	var b strings.Builder
	base, query, _ := strings.Cut(c.URL, "?")
	fmt.Fprintf(&b, "GET %s\n", c.URL)
	fmt.Fprintf(&b, "  dial: %s\n", base)
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		v, err := url.QueryUnescape(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  %s: %s\n", k, v)
		if k == "authorization" {
			origin, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "    (authorization_origin: %s)\n", origin)
		}
	}
	for _, h := range c.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	fmt.Fprintf(&b, "frames: %d\n", len(c.Frames))
	return []byte(b.String())
}

// indent pretty-prints a JSON frame for golden files (the upstream gets
// the compact bytes).
func indent(t testing.TB, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(body), "", "  "); err != nil {
		t.Fatalf("frame is not JSON: %v: %s", err, body)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// TestSocketRequestGolden builds each request of testdata/build: <name>.golden
// holds the signed URL (and its parameters decoded), <name>.frame.json
// the request frame (indented).
func TestSocketRequestGolden(t *testing.T) {
	key := adaptors.Channel{Key: testKey}
	tests := []struct {
		name string
		in   string // file under testdata/build
		ch   adaptors.Channel
		req  adaptors.Request
	}{
		{"chat", "chat.json", key, adaptors.Request{Model: "Spark-Max"}},
		{"chat_stream", "chat_stream.json", key, adaptors.Request{Model: "Spark-Max", Stream: true, IncludeUsage: true}},
		{"chat_tools", "chat_tools.json", key, adaptors.Request{Model: "Spark-4.0-Ultra"}},
		{"chat_tool_choice_named", "chat_tool_choice_named.json", key, adaptors.Request{Model: "Spark-Pro", Stream: true}},
		{"chat_lite_system", "chat_lite_system.json", key, adaptors.Request{Model: "Spark-Lite"}},
		{"chat_x1", "chat_x1.json", key, adaptors.Request{Model: "Spark-X1", Stream: true}},
		{"chat_pro_128k", "chat_stream.json", key, adaptors.Request{Model: "Spark-Pro-128K", Stream: true}},
		{"chat_max_32k", "chat_stream.json", key, adaptors.Request{Model: "Spark-Max-32K", Stream: true}},
		{"chat_base_url_port", "chat_stream.json", adaptors.Channel{Key: testKey, BaseURL: "ws://127.0.0.1:8080/"},
			adaptors.Request{Model: "Spark-Lite", Stream: true}},
		{"chat_config_other", "chat_stream.json", adaptors.Channel{Key: testKey, Config: map[string]string{"other": "v3.5"}},
			adaptors.Request{Model: "my-spark-finetune", Stream: true}},
	}
	a := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Mode = adaptors.ModeChat
			req.OriginModel = req.Model
			req.Body = adaptortest.ReadFile(t, "testdata/build/"+tt.in)
			got, err := a.SocketRequest(&tt.ch, &req, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Frames) != 1 {
				t.Fatalf("%d frames, want 1", len(got.Frames))
			}
			if bytes.Contains(got.Frames[0], []byte{'\n'}) {
				t.Errorf("frame is not compact: %s", got.Frames[0])
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderSocketCall(t, got), *update)
			adaptortest.Golden(t, "testdata/build/"+tt.name+".frame.json", indent(t, got.Frames[0]), *update)
		})
	}
}

// TestStreamAndNonStreamSameFrame: Spark always answers in frames, so
// the request does not change with the client's stream flag.
func TestStreamAndNonStreamSameFrame(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"Hi"}],"stream":true}`)
	var frames [2][]byte
	for i, stream := range []bool{false, true} {
		c, err := New().SocketRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: adaptors.ModeChat, Model: "Spark-Max", Body: body, Stream: stream}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		frames[i] = c.Frames[0]
	}
	if !bytes.Equal(frames[0], frames[1]) {
		t.Errorf("frames differ:\n%s\n%s", frames[0], frames[1])
	}
}

func TestBuildRequestUnsupported(t *testing.T) {
	a := New()
	for _, m := range []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings, adaptors.ModeCompletions, adaptors.ModeImagesGenerations} {
		_, err := a.BuildRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: m, Model: "Spark-Max", Body: []byte(`{}`)})
		if !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("%s: %v, want ErrUnsupportedMode", m, err)
		}
		if m == adaptors.ModeChat {
			continue
		}
		if _, err := a.SocketRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: m, Model: "Spark-Max", Body: []byte(`{}`)}, testNow); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("socket %s: %v, want ErrUnsupportedMode", m, err)
		}
		if _, err := a.ParseResponse(&adaptors.Request{Mode: m}, []byte(`{}`)); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("parse %s: %v", m, err)
		}
		if _, err := a.NewStreamDecoder(&adaptors.Request{Mode: m}, strings.NewReader("")).Next(); !errors.Is(err, adaptors.ErrUnsupportedMode) {
			t.Errorf("stream %s: %v", m, err)
		}
	}
}

// frameOf builds a request for model on a channel and returns its frame
// decoded, for unit tests that look at one member.
func frameOf(t *testing.T, model, body string) map[string]any {
	t.Helper()
	c, err := New().SocketRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: adaptors.ModeChat, Model: model, Body: []byte(body)}, testNow)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(c.Frames[0], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// texts returns payload.message.text as [role, content] pairs.
func texts(m map[string]any) [][2]string {
	var out [][2]string
	for _, it := range m["payload"].(map[string]any)["message"].(map[string]any)["text"].([]any) {
		o := it.(map[string]any)
		out = append(out, [2]string{o["role"].(string), o["content"].(string)})
	}
	return out
}

func TestMessages(t *testing.T) {
	tests := []struct {
		name, model, messages string
		want                  [][2]string
	}{
		{"system first, joined", "Spark-Max",
			`[{"role":"system","content":"a"},{"role":"developer","content":"b"},{"role":"user","content":"u"}]`,
			[][2]string{{"system", "a\n\nb"}, {"user", "u"}}},
		{"later system is user", "Spark-Max",
			`[{"role":"user","content":"u"},{"role":"system","content":"s"},{"role":"user","content":"v"}]`,
			[][2]string{{"user", "u"}, {"user", "s"}, {"user", "v"}}},
		{"lite has no system", "Spark-Lite",
			`[{"role":"system","content":"s"},{"role":"user","content":"u"}]`,
			[][2]string{{"user", "s"}, {"user", "u"}}},
		{"text parts joined", "Spark-Max",
			`[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]`,
			[][2]string{{"user", "a\nb"}}},
		{"null content", "Spark-Max",
			`[{"role":"user","content":"u"},{"role":"assistant","content":null}]`,
			[][2]string{{"user", "u"}, {"assistant", ""}}},
		{"tool turn", "Spark-Max",
			`[{"role":"user","content":"u"},` +
				`{"role":"assistant","content":"Let me check.","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":" {\"a\": 1} "}},{"id":"c2","type":"function","function":{"name":"g","arguments":""}}]},` +
				`{"role":"tool","tool_call_id":"c1","content":"r1"},{"role":"tool","tool_call_id":"c2","content":"r2"},{"role":"tool","tool_call_id":"zz","content":"r3"},` +
				`{"role":"user","content":"thanks"}]`,
			[][2]string{{"user", "u"},
				{"assistant", "Let me check.\n" + `{"name":"f","arguments":{"a":1}}` + "\n" + `{"name":"g","arguments":{}}`},
				{"user", "Result of f: r1\n\nResult of g: r2\n\nResult of zz: r3"},
				{"user", "thanks"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := texts(frameOf(t, tt.model, `{"messages":`+tt.messages+`}`))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("text (-want +got):\n%s", diff)
			}
		})
	}
}

// functions returns the names of payload.functions.text, nil when absent.
func functions(m map[string]any) []string {
	fs, ok := m["payload"].(map[string]any)["functions"]
	if !ok {
		return nil
	}
	var out []string
	for _, f := range fs.(map[string]any)["text"].([]any) {
		out = append(out, f.(map[string]any)["name"].(string))
	}
	return out
}

func TestToolChoice(t *testing.T) {
	const tools = `"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b","parameters":{"type":"object"}}}]`
	tests := []struct {
		choice string
		want   []string
	}{
		{``, []string{"a", "b"}},
		{`,"tool_choice":"auto"`, []string{"a", "b"}},
		{`,"tool_choice":"required"`, []string{"a", "b"}},
		{`,"tool_choice":"none"`, nil},
		{`,"tool_choice":null`, []string{"a", "b"}},
		{`,"tool_choice":{"type":"function","function":{"name":"b"}}`, []string{"b"}},
	}
	for _, tt := range tests {
		m := frameOf(t, "Spark-Max", `{"messages":[{"role":"user","content":"u"}],`+tools+tt.choice+`}`)
		if diff := cmp.Diff(tt.want, functions(m)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.choice, diff)
		}
	}
	m := frameOf(t, "Spark-Max", `{"messages":[{"role":"user","content":"u"}],`+tools+`}`)
	a := m["payload"].(map[string]any)["functions"].(map[string]any)["text"].([]any)[0].(map[string]any)
	if diff := cmp.Diff(map[string]any{"name": "a", "description": "", "parameters": map[string]any{"type": "object", "properties": map[string]any{}}}, a); diff != "" {
		t.Errorf("function without parameters (-want +got):\n%s", diff)
	}
}

// chatParams returns parameter.chat.
func chatParams(m map[string]any) map[string]any {
	return m["parameter"].(map[string]any)["chat"].(map[string]any)
}

func TestSampling(t *testing.T) {
	tests := []struct {
		model, body string
		want        map[string]any
	}{
		{"Spark-Max", `{"messages":[{"role":"user","content":"u"}]}`, map[string]any{"domain": "generalv3.5"}},
		{"Spark-Max", `{"messages":[{"role":"user","content":"u"}],"max_tokens":10}`, map[string]any{"domain": "generalv3.5", "max_tokens": 10.0}},
		{"Spark-Max", `{"messages":[{"role":"user","content":"u"}],"max_tokens":10,"max_completion_tokens":20}`, map[string]any{"domain": "generalv3.5", "max_tokens": 20.0}},
		{"Spark-Max", `{"messages":[{"role":"user","content":"u"}],"temperature":0.3,"top_k":2,"top_p":0.5,"presence_penalty":1,"seed":3,"stop":"x"}`,
			map[string]any{"domain": "generalv3.5", "temperature": 0.3, "top_k": 2.0}},
		{"Spark-X1", `{"messages":[{"role":"user","content":"u"}],"top_p":0.5,"presence_penalty":1,"frequency_penalty":0.5}`,
			map[string]any{"domain": "x1", "top_p": 0.5, "presence_penalty": 1.0, "frequency_penalty": 0.5}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, chatParams(frameOf(t, tt.model, tt.body))); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.model, tt.body, diff)
		}
	}
}

func TestUID(t *testing.T) {
	long := strings.Repeat("u", 33)
	for user, want := range map[string]string{
		"":                      defaultUID,
		"user-42":               "user-42",
		strings.Repeat("u", 32): strings.Repeat("u", 32),
		long:                    uid(long),
	} {
		m := frameOf(t, "Spark-Max", `{"messages":[{"role":"user","content":"u"}],"user":"`+user+`"}`)
		got := m["header"].(map[string]any)["uid"].(string)
		if got != want || len(got) > maxUID {
			t.Errorf("user %q: uid %q, want %q", user, got, want)
		}
		if app := m["header"].(map[string]any)["app_id"]; app != "4CC5779A" {
			t.Errorf("app_id %v", app)
		}
	}
	if a, b := uid(long), uid(long+"x"); a == b || len(a) != maxUID {
		t.Errorf("long uids %q %q", a, b)
	}
}

func TestInvalidBodies(t *testing.T) {
	tests := []struct{ name, model, body string }{
		{"not json", "Spark-Max", `{`},
		{"array", "Spark-Max", `[]`},
		{"no messages", "Spark-Max", `{"messages":[]}`},
		{"n", "Spark-Max", `{"messages":[{"role":"user","content":"u"}],"n":2}`},
		{"image", "Spark-4.0-Ultra", `{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`},
		{"audio", "Spark-Max", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}`},
		{"content number", "Spark-Max", `{"messages":[{"role":"user","content":3}]}`},
		{"role", "Spark-Max", `{"messages":[{"role":"function","content":"x"}]}`},
		{"tool type", "Spark-Max", `{"messages":[{"role":"user","content":"u"}],"tools":[{"type":"web_search"}]}`},
		{"tool name", "Spark-Max", `{"messages":[{"role":"user","content":"u"}],"tools":[{"type":"function","function":{}}]}`},
		{"tool parameters", "Spark-Max", `{"messages":[{"role":"user","content":"u"}],"tools":[{"type":"function","function":{"name":"a","parameters":"{"}}]}`},
		{"tool choice", "Spark-Max", `{"messages":[{"role":"user","content":"u"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"any"}`},
		{"tool choice unknown", "Spark-Max", `{"messages":[{"role":"user","content":"u"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}`},
		{"call arguments", "Spark-Max", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{"}}]}]}`},
		{"call name", "Spark-Max", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}]}`},
		{"lite tools", "Spark-Lite", `{"messages":[{"role":"user","content":"u"}],"tools":[{"type":"function","function":{"name":"a"}}]}`},
		{"unknown model", "gpt-4o", `{"messages":[{"role":"user","content":"u"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().SocketRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: adaptors.ModeChat, Model: tt.model, Body: []byte(tt.body)}, testNow)
			if !errors.Is(err, adaptors.ErrInvalidBody) {
				t.Errorf("got %v, want ErrInvalidBody", err)
			}
		})
	}
	// Lite with tool_choice none sends no functions, so it is fine.
	frameOf(t, "Spark-Lite", `{"messages":[{"role":"user","content":"u"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"none"}`)
}

func TestChannelErrors(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"u"}]}`)
	for _, ch := range []adaptors.Channel{
		{Key: "only-one-part"},
		{Key: "a|b"},
		{Key: "a||c"},
		{Key: "a|b|c|d"},
		{Key: testKey, BaseURL: "ftp://spark-api.xf-yun.com"},
		{Key: testKey, BaseURL: "wss://"},
		{Key: testKey, BaseURL: "wss://host/?x=1"},
		{Key: testKey, BaseURL: "::"},
	} {
		if _, err := New().SocketRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "Spark-Max", Body: body}, testNow); err == nil {
			t.Errorf("%+v: no error", ch)
		}
	}
}

func TestParseKey(t *testing.T) {
	got, err := parseKey(" app | secret | key ")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(credentials{appID: "app", apiSecret: "secret", apiKey: "key"}, got, cmp.AllowUnexported(credentials{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		in   string
		want endpoint
	}{
		{"", defaultEndpoint},
		{"wss://spark-api.xf-yun.com", defaultEndpoint},
		{"https://spark-api.xf-yun.com/", defaultEndpoint},
		{"ws://127.0.0.1:8080", endpoint{scheme: "ws", host: "127.0.0.1:8080"}},
		{"http://proxy.example.com:81/xunfei/", endpoint{scheme: "ws", host: "proxy.example.com:81", prefix: "/xunfei"}},
		{"WSS://Spark.Example.com:443", endpoint{scheme: "wss", host: "Spark.Example.com:443"}},
	}
	for _, tt := range tests {
		got, err := parseBaseURL(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(endpoint{})); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestLookupRoute(t *testing.T) {
	tests := []struct {
		model string
		cfg   map[string]string
		path  string
		ok    bool
	}{
		{"Spark-Lite", nil, "/v1.1/chat", true},
		{"Spark-Pro", nil, "/v3.1/chat", true},
		{"Spark-Pro-128K", nil, "/chat/pro-128k", true},
		{"Spark-Max", nil, "/v3.5/chat", true},
		{"Spark-Max-32K", nil, "/chat/max-32k", true},
		{"Spark-4.0-Ultra", nil, "/v4.0/chat", true},
		{"Spark-X1", nil, "/v1/x1", true},
		{"spark-max", nil, "/v3.5/chat", true},
		{"SparkDesk-v3.5", nil, "/v3.5/chat", true},
		{"SparkDesk-v3.1-128K", nil, "/chat/pro-128k", true},
		{"SparkDesk-v2.1", nil, "/v2.1/chat", true},
		{"4.0Ultra", nil, "/v4.0/chat", true},
		{"generalv3.5", nil, "/v3.5/chat", true},
		{"custom", map[string]string{"other": "v3.5"}, "/v3.5/chat", true},
		{"custom", map[string]string{"other": " V3.5-32K "}, "/chat/max-32k", true},
		{"custom", map[string]string{"other": "v4.0"}, "/v4.0/chat", true},
		{"Spark-Max", map[string]string{"other": "v1.1"}, "/v3.5/chat", true}, // the table wins
		{"custom", map[string]string{"other": "v9"}, "", false},
		{"custom", nil, "", false},
	}
	for _, tt := range tests {
		r, ok := lookupRoute(tt.model, tt.cfg)
		if ok != tt.ok || r.path != tt.path {
			t.Errorf("%s %v: %q %v, want %q %v", tt.model, tt.cfg, r.path, ok, tt.path, tt.ok)
		}
	}
	for _, m := range Models() {
		if _, ok := lookupRoute(m, nil); !ok {
			t.Errorf("Models() lists %q, which the table does not route", m)
		}
	}
}
