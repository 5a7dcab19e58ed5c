package tencent

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// Test credentials (not real ones).
const (
	testAppID     = "1300000000"
	testSecretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
	testSecretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	testKey       = testAppID + "|" + testSecretID + "|" + testSecretKey
)

// testTime is the fixed clock of the golden tests: 2025-01-01T00:00:00Z.
var testTime = time.Unix(1735689600, 0)

func testAdaptor() *Adaptor {
	return New(Options{Now: func() time.Time { return testTime }})
}

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

// header returns the value of r's header k.
func header(r *adaptors.HTTPRequest, k string) string {
	for _, h := range r.Header {
		if h.Key == k {
			return h.Value
		}
	}
	return ""
}

// TestBuildRequestGolden builds each request of testdata/build and writes
// the upstream call: <name>.golden holds method, URL and headers (the
// signature included: the clock is fixed), <name>.body.json the body
// (indented). The signature of each is checked against the bytes sent.
func TestBuildRequestGolden(t *testing.T) {
	key := adaptors.Channel{Key: testKey}
	tests := []struct {
		name string
		in   string // file under testdata/build
		ch   adaptors.Channel
		req  adaptors.Request
	}{
		{"chat", "chat.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-turbos-latest", OriginModel: "hunyuan"}},
		{"chat_stream", "chat_stream.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-turbos-latest", Stream: true, IncludeUsage: true}},
		{"chat_tools", "chat_tools.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-functioncall"}},
		{"chat_tool_choice_named", "chat_tool_choice_named.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-turbo", Stream: true}},
		{"chat_image", "chat_image.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-vision"}},
		{"chat_merge", "chat_merge.json", key, adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-turbos-latest"}},
		{"chat_base_url_region", "chat_stream.json",
			adaptors.Channel{Key: testSecretID + "|" + testSecretKey, BaseURL: "https://hunyuan-proxy.example.com:8443/tc/", Config: map[string]string{"region": "ap-guangzhou"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-t1-latest", Stream: true}},
		{"embeddings", "embeddings.json", key, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "hunyuan-embedding"}},
		{"embeddings_list", "embeddings_list.json", key, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "hunyuan-embedding"}},
	}
	a := testAdaptor()
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
			want := refAuthorization(testSecretID, testSecretKey, header(got, "Host"), "application/json", header(got, "X-TC-Action"),
				"hunyuan", testTime.Unix(), got.Body)
			if diff := cmp.Diff(want, header(got, "Authorization")); diff != "" {
				t.Errorf("signature does not cover the request as sent (-reference +got):\n%s", diff)
			}
		})
	}
}

// buildChatBody builds a chat body and returns it decoded, for unit tests
// that look at one member.
func buildChatBody(t *testing.T, body string) map[string]any {
	t.Helper()
	r, err := testAdaptor().BuildRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: adaptors.ModeChat, Model: "hunyuan-turbo", Body: []byte(body)})
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMessages(t *testing.T) {
	tests := []struct {
		name, messages string
		want           string // the Messages member, compact
	}{
		{"roles",
			`{"role":"system","content":"s"},{"role":"user","content":"u"},{"role":"assistant","content":"a"},` +
				`{"role":"user","content":"u2"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":""}}]},` +
				`{"role":"tool","tool_call_id":"c1","content":"r"}`,
			`[{"Role":"system","Content":"s"},{"Role":"user","Content":"u"},{"Role":"assistant","Content":"a"},{"Role":"user","Content":"u2"},` +
				`{"Role":"assistant","ToolCalls":[{"Id":"c1","Type":"function","Function":{"Name":"f","Arguments":"{}"}}]},{"Role":"tool","Content":"r","ToolCallId":"c1"}]`},
		{"developer and late system hoisted",
			`{"role":"user","content":"u"},{"role":"developer","content":"d"},{"role":"system","content":[{"type":"text","text":"s"}]}`,
			`[{"Role":"system","Content":"d\n\ns"},{"Role":"user","Content":"u"}]`},
		{"consecutive users merged",
			`{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"},{"type":"text","text":"c"}]}`,
			`[{"Role":"user","Content":"a\n\nbc"}]`},
		{"consecutive tool results kept apart",
			`{"role":"user","content":"u"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"c2","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"c1","content":"r1"},{"role":"tool","tool_call_id":"c2","content":"r2"}`,
			`[{"Role":"user","Content":"u"},{"Role":"assistant","ToolCalls":[{"Id":"c1","Type":"function","Function":{"Name":"f","Arguments":"{}"}},{"Id":"c2","Type":"function","Function":{"Name":"f","Arguments":"{}"}}]},` +
				`{"Role":"tool","Content":"r1","ToolCallId":"c1"},{"Role":"tool","Content":"r2","ToolCallId":"c2"}]`},
		{"text merged into an image message",
			`{"role":"user","content":"look:"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}},{"type":"text","text":"what is it?"}]}`,
			`[{"Role":"user","Contents":[{"Type":"text","Text":"look:"},{"Type":"image_url","ImageUrl":{"Url":"https://example.com/a.png"}},{"Type":"text","Text":"what is it?"}]}]`},
		{"refusal part is text",
			`{"role":"user","content":"u"},{"role":"assistant","content":[{"type":"refusal","refusal":"no"}]},{"role":"user","content":"why"}`,
			`[{"Role":"user","Content":"u"},{"Role":"assistant","Content":"no"},{"Role":"user","Content":"why"}]`},
		{"assistant texts merged with tool calls",
			`{"role":"user","content":"u"},{"role":"assistant","content":"thinking"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"r"}`,
			`[{"Role":"user","Content":"u"},{"Role":"assistant","Content":"thinking","ToolCalls":[{"Id":"c1","Type":"function","Function":{"Name":"f","Arguments":"{}"}}]},{"Role":"tool","Content":"r","ToolCallId":"c1"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildChatBody(t, `{"messages":[`+tt.messages+`]}`)
			got, _ := json.Marshal(m["Messages"])
			var want any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			wantB, _ := json.Marshal(want)
			if diff := cmp.Diff(string(wantB), string(got)); diff != "" {
				t.Errorf("Messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToolChoice(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b","description":"B","parameters":{"type":"object"}}}]`
	one := `"tools":[{"type":"function","function":{"name":"a"}}]`
	tests := []struct {
		name, body string
		choice     any
		custom     any
	}{
		{"absent", `{"messages":[{"role":"user","content":"x"}],` + tools + `}`, nil, nil},
		{"auto", `{"messages":[{"role":"user","content":"x"}],` + tools + `,"tool_choice":"auto"}`, "auto", nil},
		{"none", `{"messages":[{"role":"user","content":"x"}],` + tools + `,"tool_choice":"none"}`, "none", nil},
		{"required, several tools", `{"messages":[{"role":"user","content":"x"}],` + tools + `,"tool_choice":"required"}`, "auto", nil},
		{"required, one tool", `{"messages":[{"role":"user","content":"x"}],` + one + `,"tool_choice":"required"}`, "custom",
			map[string]any{"Type": "function", "Function": map[string]any{"Name": "a", "Parameters": `{"type":"object","properties":{}}`}}},
		{"named", `{"messages":[{"role":"user","content":"x"}],` + tools + `,"tool_choice":{"type":"function","function":{"name":"b"}}}`, "custom",
			map[string]any{"Type": "function", "Function": map[string]any{"Name": "b", "Description": "B", "Parameters": `{"type":"object"}`}}},
		{"without tools", `{"messages":[{"role":"user","content":"x"}],"tool_choice":"required"}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildChatBody(t, tt.body)
			if diff := cmp.Diff(tt.choice, m["ToolChoice"]); diff != "" {
				t.Errorf("ToolChoice (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.custom, m["CustomTool"]); diff != "" {
				t.Errorf("CustomTool (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSampling(t *testing.T) {
	tests := []struct {
		name, body string
		want       map[string]any // members expected; nil value: absent
	}{
		{"stop string", `{"messages":[{"role":"user","content":"x"}],"stop":"END"}`, map[string]any{"Stop": []any{"END"}}},
		{"stop array", `{"messages":[{"role":"user","content":"x"}],"stop":["a","b"]}`, map[string]any{"Stop": []any{"a", "b"}}},
		{"stop empty", `{"messages":[{"role":"user","content":"x"}],"stop":""}`, map[string]any{"Stop": nil}},
		{"max tokens dropped", `{"messages":[{"role":"user","content":"x"}],"max_tokens":10,"max_completion_tokens":20}`,
			map[string]any{"MaxTokens": nil, "max_tokens": nil}},
		{"sampling", `{"messages":[{"role":"user","content":"x"}],"temperature":0,"top_p":1,"seed":7}`,
			map[string]any{"Temperature": 0.0, "TopP": 1.0, "Seed": 7.0}},
		{"enhancement", `{"messages":[{"role":"user","content":"x"}],"enable_enhancement":true}`, map[string]any{"EnableEnhancement": true}},
		{"stream always sent", `{"messages":[{"role":"user","content":"x"}]}`, map[string]any{"Stream": false, "Model": "hunyuan-turbo"}},
		{"response_format text", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}}`, map[string]any{"ResponseFormat": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildChatBody(t, tt.body)
			for k, v := range tt.want {
				if diff := cmp.Diff(v, m[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}

// TestRefused: what Hunyuan cannot do is an adaptors.ErrInvalidBody, and
// modes it does not serve an adaptors.ErrUnsupportedMode.
func TestRefused(t *testing.T) {
	chat := func(body string) *adaptors.Request {
		return &adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(body)}
	}
	embed := func(body string) *adaptors.Request {
		return &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "m", Body: []byte(body)}
	}
	tests := []struct {
		name string
		req  *adaptors.Request
		want error
	}{
		{"not json", chat(`[1,2]`), adaptors.ErrInvalidBody},
		{"bad json", chat(`{"messages":[`), adaptors.ErrInvalidBody},
		{"no messages", chat(`{"messages":[]}`), adaptors.ErrInvalidBody},
		{"n > 1", chat(`{"messages":[{"role":"user","content":"x"}],"n":2}`), adaptors.ErrInvalidBody},
		{"json mode", chat(`{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`), adaptors.ErrInvalidBody},
		{"function role", chat(`{"messages":[{"role":"function","name":"f","content":"x"}]}`), adaptors.ErrInvalidBody},
		{"tool without id", chat(`{"messages":[{"role":"tool","content":"x"}]}`), adaptors.ErrInvalidBody},
		{"audio part", chat(`{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}`), adaptors.ErrInvalidBody},
		{"image in system", chat(`{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://e.com/a.png"}}]},{"role":"user","content":"x"}]}`), adaptors.ErrInvalidBody},
		{"image not a url", chat(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://e.com/a.png"}}]}]}`), adaptors.ErrInvalidBody},
		{"data url not base64", chat(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`), adaptors.ErrInvalidBody},
		{"content number", chat(`{"messages":[{"role":"user","content":5}]}`), adaptors.ErrInvalidBody},
		{"tool call without id", chat(`{"messages":[{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"f"}}]}]}`), adaptors.ErrInvalidBody},
		{"tool type", chat(`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"code_interpreter"}]}`), adaptors.ErrInvalidBody},
		{"tool without name", chat(`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]}`), adaptors.ErrInvalidBody},
		{"named tool missing", chat(`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}`), adaptors.ErrInvalidBody},
		{"tool choice unknown", chat(`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"any"}`), adaptors.ErrInvalidBody},
		{"stop number", chat(`{"messages":[{"role":"user","content":"x"}],"stop":5}`), adaptors.ErrInvalidBody},
		{"embed tokens", embed(`{"input":[1,2,3]}`), adaptors.ErrInvalidBody},
		{"embed empty", embed(`{"input":[]}`), adaptors.ErrInvalidBody},
		{"embed none", embed(`{}`), adaptors.ErrInvalidBody},
		{"embed too many", embed(`{"input":[` + strings.Repeat(`"x",`, 50) + `"x"]}`), adaptors.ErrInvalidBody},
		{"embed dimensions", embed(`{"input":"x","dimensions":256}`), adaptors.ErrInvalidBody},
		{"embed encoding", embed(`{"input":"x","encoding_format":"int8"}`), adaptors.ErrInvalidBody},
		{"images mode", &adaptors.Request{Mode: adaptors.ModeImagesGenerations, Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode},
		{"rerank mode", &adaptors.Request{Mode: adaptors.ModeRerank, Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode},
	}
	a := testAdaptor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.BuildRequest(&adaptors.Channel{Key: testKey}, tt.req)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		key    string
		id, sk string
		ok     bool
	}{
		{"1300000000|AKIDa|secret", "AKIDa", "secret", true},
		{" 1300000000 | AKIDa | secret ", "AKIDa", "secret", true},
		{"|AKIDa|secret", "AKIDa", "secret", true}, // the AppId is unused
		{"AKIDa|secret", "AKIDa", "secret", true},
		{"AKIDa", "", "", false},
		{"a|b|c|d", "", "", false},
		{"1300000000||secret", "", "", false},
		{"AKIDa|", "", "", false},
		{"AKID a|secret", "", "", false},
		{"AKID/a|secret", "", "", false},
	}
	for _, tt := range tests {
		c, err := channelCredentials(tt.key)
		if ok := err == nil; ok != tt.ok || c.secretID != tt.id || c.secretKey != tt.sk {
			t.Errorf("%q: %+v %v", tt.key, c, err)
		}
		if err != nil && !errors.Is(err, ErrNoCredentials) {
			t.Errorf("%q: %v does not wrap ErrNoCredentials", tt.key, err)
		}
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		base, url, host string
		ok              bool
	}{
		{"", "https://hunyuan.tencentcloudapi.com/", "hunyuan.tencentcloudapi.com", true},
		{"https://hunyuan.tencentcloudapi.com", "https://hunyuan.tencentcloudapi.com/", "hunyuan.tencentcloudapi.com", true},
		{"https://hunyuan.tencentcloudapi.com/", "https://hunyuan.tencentcloudapi.com/", "hunyuan.tencentcloudapi.com", true},
		{"https://hunyuan.ap-guangzhou.tencentcloudapi.com:443", "https://hunyuan.ap-guangzhou.tencentcloudapi.com/", "hunyuan.ap-guangzhou.tencentcloudapi.com", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/", "127.0.0.1:8080", true},
		{"http://proxy.internal:80/hunyuan/", "http://proxy.internal/hunyuan/", "proxy.internal", true},
		{"http://[::1]:80", "http://[::1]/", "[::1]", true},
		{"ftp://x", "", "", false},
		{"https://", "", "", false},
		{"https://h/?a=b", "", "", false},
		{"::::", "", "", false},
	}
	for _, tt := range tests {
		u, h, err := endpoint(&adaptors.Channel{BaseURL: tt.base})
		if ok := err == nil; ok != tt.ok || u != tt.url || h != tt.host {
			t.Errorf("%q: %q %q %v", tt.base, u, h, err)
		}
	}
}

func TestRegionHeader(t *testing.T) {
	a := testAdaptor()
	req := &adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`{"messages":[{"role":"user","content":"x"}]}`)}
	r, err := a.BuildRequest(&adaptors.Channel{Key: testKey}, req)
	if err != nil {
		t.Fatal(err)
	}
	if v := header(r, "X-TC-Region"); v != "" {
		t.Errorf("X-TC-Region %q sent without a configured region", v)
	}
	if _, err := a.BuildRequest(&adaptors.Channel{Key: testKey, Config: map[string]string{"region": "ap-guangzhou\r\nX: y"}}, req); err == nil {
		t.Error("a region with a line break accepted")
	}
	if _, err := a.BuildRequest(&adaptors.Channel{Key: "nope"}, req); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("bad key: %v", err)
	}
}

// TestClockReadOnce: the request is signed with the adaptor's clock, and
// X-TC-Timestamp and the credential date agree with it (UTC: 2025-01-01
// 07:59 in Beijing is still 2024-12-31 in UTC).
func TestClockReadOnce(t *testing.T) {
	calls := 0
	at := time.Date(2024, 12, 31, 23, 59, 30, 0, time.UTC)
	a := New(Options{Now: func() time.Time { calls++; return at.In(time.FixedZone("CST", 8*3600)) }})
	r, err := a.BuildRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: adaptors.ModeChat, Model: "m",
		Body: []byte(`{"messages":[{"role":"user","content":"x"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("clock read %d times", calls)
	}
	if header(r, "X-TC-Timestamp") != "1735689570" || !strings.Contains(header(r, "Authorization"), "/2024-12-31/hunyuan/tc3_request,") {
		t.Errorf("timestamp %q authorization %q", header(r, "X-TC-Timestamp"), header(r, "Authorization"))
	}
}

// TestValidString compares the word-at-a-time check with encoding/json
// over random strings rich in quotes, backslashes, escapes and control
// characters.
func TestValidString(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pieces := []string{`a`, `é`, `\"`, `\\`, `\/`, `\n`, `\u00e9`, `\u12`, `\x`, `"`, "\x01", "\t", `\`, `bcdefghij`, "\xff", `u`}
	for range 20000 {
		var b strings.Builder
		b.WriteByte('"')
		for range rng.IntN(20) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		b.WriteByte('"')
		raw := []byte(b.String())
		var s string
		want := json.Unmarshal(raw, &s) == nil && json.Valid(raw)
		if got := validString(raw); got != want {
			t.Fatalf("validString(%q) = %v, want %v", raw, got, want)
		}
	}
	for _, raw := range []string{``, `"`, `x`, `"a`, `a"`} {
		if validString([]byte(raw)) {
			t.Errorf("validString(%q) = true", raw)
		}
	}
}
