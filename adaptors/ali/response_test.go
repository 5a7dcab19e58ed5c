package ali

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func TestParseResponseGolden(t *testing.T) {
	a := New()
	embedFloat := `{"model":"text-embedding-v4","input":["a","b"]}`
	embedB64 := `{"model":"text-embedding-v4","input":["a","b"],"encoding_format":"base64"}`
	image := `{"model":"wanx-v1","prompt":"a church"}`
	tests := []struct {
		name  string // golden under testdata/response: <file base>.golden unless out is set
		file  string
		mode  adaptors.Mode
		model string
		body  string // client body, for modes that read it back
		out   string
	}{
		{"text", "text.json", adaptors.ModeChat, "qwen-plus", "", ""},
		{"reasoning_cached", "reasoning_cached.json", adaptors.ModeChat, "qwq-plus", "", ""},
		{"cache_write", "cache_write.json", adaptors.ModeChat, "qwen-plus", "", ""},
		{"tool_calls", "tool_calls.json", adaptors.ModeChat, "qwen-plus", "", ""},
		{"length", "length.json", adaptors.ModeChat, "qwen-plus", "", ""},
		{"text_format", "text_format.json", adaptors.ModeChat, "qwen-turbo", "", ""},
		{"multimodal", "multimodal.json", adaptors.ModeChat, "qwen-vl-max", "", ""},
		{"two_choices", "two_choices.json", adaptors.ModeChat, "qwen-plus", "", ""},
		{"error_in_200", "error_in_200.json", adaptors.ModeChat, "qwen-plus", "", ""},
		{"compat", "compat.json", adaptors.ModeChat, "qwen-plus", "", ""},
		{"html", "html.txt", adaptors.ModeChat, "qwen-plus", "", ""},
		{"embed", "embed.json", adaptors.ModeEmbeddings, "text-embedding-v4", embedFloat, ""},
		{"embed_unordered", "embed_unordered.json", adaptors.ModeEmbeddings, "text-embedding-v4", embedFloat, ""},
		{"embed_base64", "embed_unordered.json", adaptors.ModeEmbeddings, "text-embedding-v4", embedB64, "embed_base64"},
		{"embed_compat", "embed_compat.json", adaptors.ModeEmbeddings, "text-embedding-v4", embedFloat, ""},
		{"image_succeeded", "image_succeeded.json", adaptors.ModeImagesGenerations, "wanx-v1", image, ""},
		{"image_partial", "image_partial.json", adaptors.ModeImagesGenerations, "wanx-v1", image, ""},
		{"image_failed", "image_failed.json", adaptors.ModeImagesGenerations, "wanx-v1", image, ""},
		{"image_unknown", "image_unknown.json", adaptors.ModeImagesGenerations, "wanx-v1", image, ""},
		{"image_pending", "image_pending.json", adaptors.ModeImagesGenerations, "wanx-v1", image, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newReq(tt.mode, tt.model, false, []byte(tt.body))
			resp, err := a.ParseResponse(req, adaptortest.ReadFile(t, "testdata/response/"+tt.file))
			out := tt.out
			if out == "" {
				out = tt.name
			}
			adaptortest.Golden(t, "testdata/response/"+out+".golden", renderResponse(resp, err), *update)
		})
	}
}

// TestFinishReasons maps every native finish_reason.
func TestFinishReasons(t *testing.T) {
	for in, want := range map[string]string{
		"stop": "stop", "length": "length", "tool_calls": "tool_calls", "content_filter": "content_filter",
		"null": "stop", "": "stop", "something_new": "stop",
	} {
		body := `{"output":{"choices":[{"finish_reason":"` + in + `","message":{"role":"assistant","content":"x"}}]},"request_id":"r"}`
		resp, err := New().ParseResponse(chatReq("qwen-plus", false, ""), []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(resp.Body, &v); err != nil || v.Choices[0].FinishReason != want {
			t.Errorf("%q: got %s, want %q", in, resp.Body, want)
		}
	}
}

// TestUsageConversion: native usage in OpenAI terms.
func TestUsageConversion(t *testing.T) {
	tests := []struct {
		usage string
		want  *adaptors.Usage
	}{
		{`{"input_tokens":10,"output_tokens":5,"total_tokens":15}`, &adaptors.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}},
		{`{"input_tokens":10,"output_tokens":5}`, &adaptors.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}},
		{`{"input_tokens":100,"output_tokens":50,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":64,"cache_creation_input_tokens":32},"output_tokens_details":{"reasoning_tokens":40}}`,
			&adaptors.Usage{PromptTokens: 100, CompletionTokens: 50, TotalTokens: 150, CachedTokens: 64, CacheWriteTokens: 32, ReasoningTokens: 40}},
		{`{"input_tokens":0,"output_tokens":0}`, nil},
		{`{}`, nil},
		{`null`, nil},
		{`{"input_tokens":-3,"output_tokens":4}`, &adaptors.Usage{CompletionTokens: 4, TotalTokens: 4}},
		{`{"input_tokens":"many","output_tokens":4}`, &adaptors.Usage{CompletionTokens: 4, TotalTokens: 4}},
	}
	for _, tt := range tests {
		body := `{"output":{"choices":[{"finish_reason":"stop","message":{"content":"x"}}]},"usage":` + tt.usage + `}`
		resp, err := New().ParseResponse(chatReq("qwen-plus", false, ""), []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", tt.usage, err)
		}
		if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.usage, diff)
		}
	}
}

// TestParseResponseInvalid: 2xx bodies that are not DashScope answers.
func TestParseResponseInvalid(t *testing.T) {
	a := New()
	for _, body := range []string{"", "null", "[]", "<html>", `{"output":`, `{"output":{}}`, `{"output":{"choices":[]}}`} {
		_, err := a.ParseResponse(chatReq("qwen-plus", false, ""), []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: %v, want ErrInvalidResponse", body, err)
		}
	}
	// A body that is neither native nor OpenAI's goes to the OpenAI
	// adaptor, which refuses it too.
	if _, err := a.ParseResponse(chatReq("qwen-plus", false, ""), []byte(`{"foo":1}`)); err == nil {
		t.Error("unknown object accepted")
	}
}

// TestErrorsInAnswers: error codes inside 2xx bodies become errors with
// the code's status, never answers.
func TestErrorsInAnswers(t *testing.T) {
	tests := []struct {
		code   string
		status int
		typ    string
	}{
		{"DataInspectionFailed", 400, typeInvalidRequest},
		{"Arrearage", 402, typeQuota},
		{"Throttling", 429, typeRateLimit},
		{"InvalidApiKey", 401, typeAuthentication},
		{"SomethingNew", 500, typeServer},
	}
	for _, tt := range tests {
		body := `{"code":"` + tt.code + `","message":"m","request_id":"r1"}`
		for _, mode := range []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings, adaptors.ModeImagesGenerations} {
			req := newReq(mode, "m", false, []byte(`{"prompt":"p","input":"x"}`))
			_, err := New().ParseResponse(req, []byte(body))
			var se *schema.Error
			if !errors.As(err, &se) || se.Status != tt.status || se.Type != tt.typ || !strings.Contains(se.Message, "m (request id: r1)") {
				t.Errorf("%s %s: %v", tt.code, mode, err)
			}
		}
	}
}

// TestEmbedBase64 decodes the base64 embedding back.
func TestEmbedBase64(t *testing.T) {
	req := newReq(adaptors.ModeEmbeddings, "text-embedding-v3", false, []byte(`{"input":"x","encoding_format":"base64"}`))
	resp, err := New().ParseResponse(req, []byte(`{"output":{"embeddings":[{"embedding":[0.5,-1.25,3],"text_index":0}]},"usage":{"total_tokens":3}}`))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	bin, err := base64.StdEncoding.DecodeString(v.Data[0].Embedding)
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	for i := 0; i < len(bin); i += 4 {
		got = append(got, math.Float32frombits(binary.LittleEndian.Uint32(bin[i:])))
	}
	if diff := cmp.Diff([]float32{0.5, -1.25, 3}, got); diff != "" {
		t.Errorf("floats (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&adaptors.Usage{PromptTokens: 3, TotalTokens: 3}, resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		`{"output":{"embeddings":[{"embedding":"x","text_index":0}]}}`,
		`{"output":{"embeddings":[{"embedding":[1,"a"],"text_index":0}]}}`,
	} {
		if _, err := New().ParseResponse(req, []byte(bad)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestBuildEmbedInvalid(t *testing.T) {
	for _, body := range []string{
		`{"input":[1,2,3]}`, `{"input":[[1]]}`, `{"input":[]}`, `{}`, `{"input":"x","encoding_format":"hex"}`,
		`{"input":"x","dimensions":0}`, `[]`,
	} {
		_, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, newReq(adaptors.ModeEmbeddings, "text-embedding-v4", false, []byte(body)))
		if !errors.Is(err, adaptors.ErrInvalidBody) {
			t.Errorf("%s: %v", body, err)
		}
	}
	// text_type from the channel config when the body names none.
	r, err := New().BuildRequest(&adaptors.Channel{Key: "k", Config: map[string]string{ConfigTextType: "document"}},
		newReq(adaptors.ModeEmbeddings, "text-embedding-v4", false, []byte(`{"input":"x"}`)))
	if err != nil || !strings.Contains(string(r.Body), `"parameters":{"text_type":"document"}`) {
		t.Errorf("text_type from config: %v %s", err, r.Body)
	}
	r, err = New().BuildRequest(&adaptors.Channel{Key: "k"}, newReq(adaptors.ModeEmbeddings, "text-embedding-v4", false, []byte(`{"input":"x"}`)))
	if err != nil || strings.Contains(string(r.Body), "parameters") {
		t.Errorf("empty parameters sent: %v %s", err, r.Body)
	}
}

func TestBuildImage(t *testing.T) {
	tests := []struct {
		body string
		want string // parameters, or the error's text
	}{
		{`{"prompt":"p"}`, `{}`},
		{`{"prompt":"p","size":"auto","n":1}`, `{"n":1}`},
		{`{"prompt":"p","size":"720*1280"}`, `{"size":"720*1280"}`},
		{`{"prompt":"p","size":"1280x720","response_format":"b64_json"}`, `{"size":"1280*720"}`},
		{`{"prompt":""}`, "prompt is required"},
		{`{"prompt":"p","size":"big"}`, "WIDTHxHEIGHT"},
		{`{"prompt":"p","size":"1024x"}`, "WIDTHxHEIGHT"},
		{`{"prompt":"p","n":0}`, "at least 1"},
		{`{"prompt":"p","response_format":"png"}`, "response_format"},
		{`"p"`, "not a json object"},
	}
	for _, tt := range tests {
		r, err := New().BuildRequest(&adaptors.Channel{Key: "k"}, newReq(adaptors.ModeImagesGenerations, "wanx-v1", false, []byte(tt.body)))
		if err != nil {
			if !errors.Is(err, adaptors.ErrInvalidBody) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want %q", tt.body, err, tt.want)
			}
			continue
		}
		var v struct {
			Parameters json.RawMessage `json:"parameters"`
		}
		if err := json.Unmarshal(r.Body, &v); err != nil || string(v.Parameters) != tt.want {
			t.Errorf("%s: parameters %s, want %s", tt.body, v.Parameters, tt.want)
		}
	}
}

// TestFollowUp walks an image task: pending and running are polled with
// growing delays, succeeded is final, failures are errors; chat answers
// are always final.
func TestFollowUp(t *testing.T) {
	a := New()
	ch := &adaptors.Channel{Key: "sk-k", BaseURL: "https://proxy.example.com/"}
	req := newReq(adaptors.ModeImagesGenerations, "wanx-v1", false, []byte(`{"prompt":"p"}`))
	pending := adaptortest.ReadFile(t, "testdata/response/image_pending.json")
	running := adaptortest.ReadFile(t, "testdata/response/image_running.json")
	want := "GET https://proxy.example.com/api/v1/tasks/0385dc79-5ff8-4d82-bcb6-c7a4f7b1a6e9\nAuthorization: Bearer sk-k\n"
	for step, body := range map[int][]byte{1: pending, 2: running, 3: running, 4: running, 9: running} {
		next, delay, err := a.FollowUp(ch, req, step, body)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if got := string(renderRequest(next)); got != want {
			t.Errorf("step %d: %q", step, got)
		}
		if delay != pollDelay(step) || delay < pollFirst || delay > pollMax {
			t.Errorf("step %d: delay %v", step, delay)
		}
	}
	if d := []any{pollDelay(1), pollDelay(2), pollDelay(3), pollDelay(10)}; !cmp.Equal(d, []any{pollFirst, 2 * pollFirst, pollMax, pollMax}) {
		t.Errorf("delays %v", d)
	}
	next, _, err := a.FollowUp(ch, req, 3, adaptortest.ReadFile(t, "testdata/response/image_succeeded.json"))
	if next != nil || err != nil {
		t.Errorf("succeeded: %v %v", next, err)
	}
	for file, status := range map[string]int{"image_failed.json": 400, "image_unknown.json": 502} {
		_, _, err := a.FollowUp(ch, req, 2, adaptortest.ReadFile(t, "testdata/response/"+file))
		var se *schema.Error
		if !errors.As(err, &se) || se.Status != status {
			t.Errorf("%s: %v", file, err)
		}
	}
	for _, bad := range []string{``, `{}`, `{"output":{"task_status":"PENDING"}}`, `{"output":{"task_status":"PENDING","task_id":"../../v1/x"}}`, `{"output":{"task_status":"WEIRD","task_id":"a"}}`} {
		if _, _, err := a.FollowUp(ch, req, 1, []byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_, _, err = a.FollowUp(ch, req, 1, []byte(`{"output":{"task_status":"CANCELED","task_id":"a"}}`))
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != http.StatusInternalServerError || se.Code != "task_canceled" {
		t.Errorf("canceled: %v", err)
	}
	for _, mode := range []adaptors.Mode{adaptors.ModeChat, adaptors.ModeEmbeddings} {
		r := newReq(mode, "qwen-plus", false, nil)
		if next, d, err := a.FollowUp(ch, r, 1, []byte(`garbage`)); next != nil || d != 0 || err != nil {
			t.Errorf("%s: %v %v %v", mode, next, d, err)
		}
	}
}
