package openaicompat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unsafe"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// fixtureVendor maps a fixture file's prefix to its row.
var fixtureVendor = map[string]int{
	"deepseek": TypeDeepSeek,
	"gemini":   TypeGeminiOpenAICompatible,
	"minimax":  TypeMiniMax,
	"moonshot": TypeMoonshot,
	"xunfei":   TypeXunfeiV2,
}

// fixtureRow returns the row a fixture file belongs to and whether the
// fixture is a tool-call answer.
func fixtureRow(t *testing.T, file string) (Vendor, bool) {
	t.Helper()
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	prefix, _, _ := strings.Cut(base, "_")
	typ, ok := fixtureVendor[prefix]
	if !ok {
		t.Fatalf("%s: no row for prefix %q", file, prefix)
	}
	return vendor(t, typ), strings.Contains(base, "_tool")
}

func fixtures(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures %s: %v", pattern, err)
	}
	sort.Strings(files)
	return files
}

func goldenPath(file string) string {
	return strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
}

// renderRequest prints an HTTPRequest for golden files, noting whether the
// body is the client's own slice (passthrough) or a new one.
func renderRequest(r *adaptors.HTTPRequest, in []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", h.Key, h.Value)
	}
	mode := "rewritten"
	if len(in) > 0 && len(r.Body) > 0 && unsafe.SliceData(r.Body) == unsafe.SliceData(in) && len(r.Body) == len(in) {
		mode = "passthrough"
	}
	body := r.Body
	var pretty bytes.Buffer
	if json.Indent(&pretty, r.Body, "", "  ") == nil {
		body = pretty.Bytes()
	}
	fmt.Fprintf(&b, "\n(body %s)\n%s\n", mode, body)
	return []byte(b.String())
}

func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "none"
	}
	return fmt.Sprintf("prompt=%d completion=%d total=%d cached=%d cache_write=%d reasoning=%d",
		u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens, u.CacheWriteTokens, u.ReasoningTokens)
}

func renderError(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
		b, _ := json.Marshal(schema.Envelope{Error: se})
		return fmt.Sprintf("status %d %s", se.Status, b)
	}
	return err.Error()
}

// TestBuildGolden records the whole upstream request (method, URL,
// headers, body) each new or changed row builds for a chat request with
// tools, an assistant tool-call turn, a tool result and an inline image,
// with channel model mapping (so the body is rewritten), plus the media
// and rerank modes the rows gained.
func TestBuildGolden(t *testing.T) {
	chat := adaptortest.ReadFile(t, "testdata/build/chat_tools.json")
	image := []byte(`{"model":"MODEL","prompt":"A lighthouse at dawn, watercolor","size":"1024x1024","response_format":"url"}`)
	rerank := []byte(`{"model":"MODEL","query":"Apple","documents":["apple","banana","fruit"],"top_n":2}`)
	tests := []struct {
		name  string
		typ   int
		mode  adaptors.Mode
		model string
		body  []byte
	}{
		{"360_chat_tools", Type360, adaptors.ModeChat, "", chat},
		{"stepfun_chat_tools", TypeStepFun, adaptors.ModeChat, "", chat},
		{"stepfun_images", TypeStepFun, adaptors.ModeImagesGenerations, "step-1x-medium", image},
		{"novita_chat_tools", TypeNovita, adaptors.ModeChat, "", chat},
		{"novita_rerank", TypeNovita, adaptors.ModeRerank, "baai/bge-reranker-v2-m3", rerank},
		{"xunfei_chat_tools", TypeXunfeiV2, adaptors.ModeChat, "", chat},
		{"openaicompatible_chat_tools", TypeOpenAICompatible, adaptors.ModeChat, "qwen-plus", chat},
		{"gemini_chat_tools", TypeGeminiOpenAICompatible, adaptors.ModeChat, "", chat},
		{"moonshot_chat_tools", TypeMoonshot, adaptors.ModeChat, "", chat},
		{"minimax_chat_tools", TypeMiniMax, adaptors.ModeChat, "", chat},
		{"doubao_images", TypeDoubao, adaptors.ModeImagesGenerations, "doubao-seedream-4-0-250828", image},
		{"siliconflow_rerank", TypeSiliconFlow, adaptors.ModeRerank, "BAAI/bge-reranker-v2-m3", rerank},
		{"siliconflow_images", TypeSiliconFlow, adaptors.ModeImagesGenerations, "Kwai-Kolors/Kolors", image},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := vendor(t, tt.typ)
			model := tt.model
			if model == "" {
				model = v.Models[0]
			}
			ch := testChannel(v)
			ch.Key = "sk-test"
			req := &adaptors.Request{Mode: tt.mode, Model: model, OriginModel: "MODEL", Body: tt.body, Stream: tt.mode == adaptors.ModeChat}
			r, err := v.New().BuildRequest(&ch, req)
			if err != nil {
				t.Fatal(err)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderRequest(r, tt.body), *update)
		})
	}
}

// TestStreamGolden decodes every vendor stream fixture through its row's
// adaptor (a client that asked for usage) and records the client events,
// the usage the gateway sees and how the stream ended.
func TestStreamGolden(t *testing.T) {
	for _, file := range fixtures(t, "testdata/stream/*.sse") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			v, tool := fixtureRow(t, file)
			req := chatReq(v, tool, true)
			d := v.New().NewStreamDecoder(req, bytes.NewReader(adaptortest.ReadFile(t, file)))
			evs, err := adaptortest.Drain(t, d)
			var b strings.Builder
			for _, ev := range evs {
				if ev.Data != nil {
					fmt.Fprintf(&b, "data: %s\n", ev.Data)
				}
				if ev.Usage != nil {
					fmt.Fprintf(&b, "  usage: %s\n", renderUsage(ev.Usage))
				}
				fmt.Fprintf(&b, "  text_bytes: %d\n", ev.TextBytes)
			}
			if err == io.EOF {
				b.WriteString("end: EOF\n")
			} else {
				fmt.Fprintf(&b, "end: %s\n", renderError(err))
			}
			adaptortest.Golden(t, goldenPath(file), []byte(b.String()), *update)
		})
	}
}

// TestResponseGolden parses every vendor answer fixture and records the
// client body and the usage (or the error it carries).
func TestResponseGolden(t *testing.T) {
	for _, file := range fixtures(t, "testdata/response/*.json") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			v, tool := fixtureRow(t, file)
			resp, err := v.New().ParseResponse(chatReq(v, tool, false), adaptortest.ReadFile(t, file))
			var b strings.Builder
			if err != nil {
				fmt.Fprintf(&b, "error: %s\n", renderError(err))
			} else {
				fmt.Fprintf(&b, "usage: %s\n%s\n", renderUsage(resp.Usage), resp.Body)
			}
			adaptortest.Golden(t, goldenPath(file), []byte(b.String()), *update)
		})
	}
}

// TestErrorGolden maps every vendor error body fixture (file name
// <vendor>_<status>.json) to the client's OpenAI error.
func TestErrorGolden(t *testing.T) {
	for _, file := range fixtures(t, "testdata/error/*.json") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			v, _ := fixtureRow(t, file)
			var status int
			base := strings.TrimSuffix(filepath.Base(file), ".json")
			if _, err := fmt.Sscanf(base[strings.LastIndexByte(base, '_')+1:], "%d", &status); err != nil {
				t.Fatalf("%s: no status in the name", file)
			}
			e := v.New().ParseError(status, adaptortest.ReadFile(t, file))
			if e.Status != status || e.Message == "" || e.Type == "" {
				t.Errorf("bad error %+v", *e)
			}
			adaptortest.Golden(t, goldenPath(file), []byte(renderError(e)+"\n"), *update)
		})
	}
}

// chatReq is a chat request of row v as the transport hands it over.
func chatReq(v Vendor, tool, stream bool) *adaptors.Request {
	body := `{"model":"` + defaultModel(v) + `","messages":[{"role":"user","content":"Hello!"}]}`
	if tool {
		body = `{"model":"` + defaultModel(v) + `","messages":[{"role":"user","content":"What is the weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}`
	}
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: defaultModel(v), OriginModel: defaultModel(v), Body: []byte(body),
		Stream: stream, IncludeUsage: stream, Created: 1760000000}
}

// TestFixturesExist guards the golden loops against a renamed directory.
func TestFixturesExist(t *testing.T) {
	for _, dir := range []string{"build", "stream", "response", "error", "balance"} {
		if _, err := os.Stat("testdata/" + dir); err != nil {
			t.Error(err)
		}
	}
}
