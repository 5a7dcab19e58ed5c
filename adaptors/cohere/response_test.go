package cohere

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// renderResponse prints a converted answer (or its error) for golden
// files: the usage the gateway bills, then the client body indented.
func renderResponse(t *testing.T, resp *adaptors.Response, err error) []byte {
	t.Helper()
	if err != nil {
		var se *schema.Error
		if errors.As(err, &se) {
			return fmt.Appendf(nil, "schema error: status=%d %+v\n", se.Status, *se)
		}
		if errors.Is(err, adaptors.ErrInvalidResponse) {
			return []byte("invalid response error\n")
		}
		return []byte("unexpected error: " + err.Error() + "\n")
	}
	out := fmt.Appendf(nil, "usage: %s\n", renderUsage(resp.Usage))
	return append(out, indent(t, resp.Body)...)
}

func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "none"
	}
	return fmt.Sprintf("%+v", *u)
}

func TestParseResponseGolden(t *testing.T) {
	tests := []struct {
		name, file string
		mode       adaptors.Mode
		reqBody    string // the client's body, where the conversion reads it
	}{
		{"chat", "chat.json", adaptors.ModeChat, ""},
		{"chat_tool_call", "chat_tool_call.json", adaptors.ModeChat, ""},
		{"chat_thinking", "chat_thinking.json", adaptors.ModeChat, ""},
		{"chat_max_tokens", "chat_max_tokens.json", adaptors.ModeChat, ""},
		{"chat_citations", "chat_citations.json", adaptors.ModeChat, ""},
		{"chat_meta_usage", "chat_meta_usage.json", adaptors.ModeChat, ""},
		{"chat_error_finish", "chat_error_finish.json", adaptors.ModeChat, ""},
		{"chat_error_in_200", "chat_error_in_200.json", adaptors.ModeChat, ""},
		{"embed", "embed.json", adaptors.ModeEmbeddings, `{"model":"embed-v4.0","input":["hello","goodbye"]}`},
		{"embed_base64", "embed.json", adaptors.ModeEmbeddings, `{"model":"embed-v4.0","input":["hello","goodbye"],"encoding_format":"base64"}`},
		{"rerank", "rerank.json", adaptors.ModeRerank, `{"query":"q","documents":["a","b","c","d"]}`},
		{"rerank_return_documents", "rerank.json", adaptors.ModeRerank,
			`{"query":"q","documents":["Carson City",{"text":"Saipan"},"Capitalization","Washington, D.C."],"return_documents":true}`},
	}
	a := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &adaptors.Request{Mode: tt.mode, Model: "upstream-model", OriginModel: "client-model", Body: []byte(tt.reqBody), Created: 1735689600}
			resp, err := a.ParseResponse(req, adaptortest.ReadFile(t, "testdata/response/"+tt.file))
			adaptortest.Golden(t, "testdata/response/"+tt.name+".golden", renderResponse(t, resp, err), *update)
		})
	}
}

func TestFinishReasons(t *testing.T) {
	tests := []struct {
		in, want   string
		wantStatus int // non-zero: an error with this status
	}{
		{"COMPLETE", "stop", 0},
		{"STOP_SEQUENCE", "stop", 0},
		{"MAX_TOKENS", "length", 0},
		{"TOOL_CALL", "tool_calls", 0},
		{"", "stop", 0},
		{"SOMETHING_NEW", "stop", 0},
		{"ERROR", "", 502},
		{"TIMEOUT", "", 504},
	}
	for _, tt := range tests {
		got, err := finishReason(tt.in, "")
		if got != tt.want {
			t.Errorf("finishReason(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if (err != nil) != (tt.wantStatus != 0) || (err != nil && err.Status != tt.wantStatus) {
			t.Errorf("finishReason(%q) error = %v, want status %d", tt.in, err, tt.wantStatus)
		}
	}
	if _, err := finishReason("ERROR", "boom"); err == nil || !strings.Contains(err.Message, "boom") {
		t.Errorf("ERROR detail lost: %v", err)
	}
}

// TestUsageFromBilledUnits: the gateway bills billed_units, never the
// larger tokens counts; tokens only stand in when billed_units is absent.
func TestUsageFromBilledUnits(t *testing.T) {
	tests := []struct {
		name, usage string
		want        *adaptors.Usage
	}{
		{"billed units", `"usage":{"billed_units":{"input_tokens":5,"output_tokens":9},"tokens":{"input_tokens":71,"output_tokens":9}}`,
			&adaptors.Usage{PromptTokens: 5, CompletionTokens: 9, TotalTokens: 14}},
		{"billed units as floats", `"usage":{"billed_units":{"input_tokens":5.0,"output_tokens":9.0}}`,
			&adaptors.Usage{PromptTokens: 5, CompletionTokens: 9, TotalTokens: 14}},
		{"tokens only", `"usage":{"tokens":{"input_tokens":71,"output_tokens":9}}`,
			&adaptors.Usage{PromptTokens: 71, CompletionTokens: 9, TotalTokens: 80}},
		{"early v2 meta", `"meta":{"billed_units":{"input_tokens":17,"output_tokens":12},"tokens":{"input_tokens":215,"output_tokens":12}}`,
			&adaptors.Usage{PromptTokens: 17, CompletionTokens: 12, TotalTokens: 29}},
		{"none", `"usage":null`, nil},
		{"zero", `"usage":{"billed_units":{"input_tokens":0,"output_tokens":0}}`, nil},
		{"negative", `"usage":{"billed_units":{"input_tokens":-3,"output_tokens":2}}`,
			&adaptors.Usage{CompletionTokens: 2, TotalTokens: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"id":"x","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"hi"}]},` + tt.usage + `}`
			resp, err := New().ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			// The client's usage object carries the same numbers.
			var v struct {
				Usage *schema.Usage `json:"usage"`
			}
			if err := sonic.Unmarshal(resp.Body, &v); err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if v.Usage != nil {
					t.Errorf("client usage %+v, want none", v.Usage)
				}
				return
			}
			if diff := cmp.Diff(tt.want.Schema(), *v.Usage); diff != "" {
				t.Errorf("client usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseResponseContentShapes(t *testing.T) {
	tests := []struct {
		name, message string
		want          string // choices[0].message as JSON
		finish        string
	}{
		{"string content", `{"role":"assistant","content":"plain"}`, `{"role":"assistant","content":"plain"}`, "stop"},
		{"no content", `{"role":"assistant"}`, `{"role":"assistant","content":""}`, "stop"},
		{"plan without calls", `{"role":"assistant","tool_plan":"thinking aloud"}`, `{"role":"assistant","content":"thinking aloud"}`, "stop"},
		{"calls with COMPLETE", `{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}`,
			`{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}`, "tool_calls"},
		{"unknown item type", `{"role":"assistant","content":[{"type":"image","url":"x"},{"type":"text","text":"t"}]}`, `{"role":"assistant","content":"t"}`, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"id":"x","finish_reason":"COMPLETE","message":` + tt.message + `}`
			resp, err := New().ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				Choices []struct {
					Message      sonic.NoCopyRawMessage `json:"message"`
					FinishReason string                 `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := sonic.Unmarshal(resp.Body, &v); err != nil {
				t.Fatal(err)
			}
			if got := string(v.Choices[0].Message); got != tt.want || v.Choices[0].FinishReason != tt.finish {
				t.Errorf("message %s finish %s, want %s %s", got, v.Choices[0].FinishReason, tt.want, tt.finish)
			}
		})
	}
}

func TestParseResponseInvalid(t *testing.T) {
	a := New()
	for _, body := range []string{``, `<html>`, `[]`, `{"id":"x"`, `{}`, `{"id":"x","message":[1]}`, `{"message":{"content":3}}`} {
		if _, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, []byte(body)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("chat %q: err = %v, want ErrInvalidResponse", body, err)
		}
	}
	for _, body := range []string{``, `{}`, `{"embeddings":{"float":[[1,"x"]]}}`} {
		req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Body: []byte(`{"input":"x","encoding_format":"base64"}`)}
		if _, err := a.ParseResponse(req, []byte(body)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("embed %q: err = %v, want ErrInvalidResponse", body, err)
		}
	}
	for _, body := range []string{``, `{}`, `{"id":"x"}`} {
		if _, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeRerank}, []byte(body)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("rerank %q: err = %v, want ErrInvalidResponse", body, err)
		}
	}
	var se *schema.Error
	if _, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeRerank}, []byte(`{"message":"invalid request: query must not be empty"}`)); !errors.As(err, &se) || se.Status != 502 {
		t.Errorf("rerank error in 200: %v", err)
	}
}

func TestEmbedBase64(t *testing.T) {
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Body: []byte(`{"input":"x","encoding_format":"base64"}`)}
	resp, err := New().ParseResponse(req, []byte(`{"id":"e","embeddings":{"float":[[0.5,-2,1e-3]]},"meta":{"billed_units":{"input_tokens":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	if err := sonic.Unmarshal(resp.Body, &v); err != nil || len(v.Data) != 1 {
		t.Fatalf("%v: %s", err, resp.Body)
	}
	bin, err := base64.StdEncoding.DecodeString(v.Data[0].Embedding)
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	for i := 0; i+4 <= len(bin); i += 4 {
		got = append(got, math.Float32frombits(binary.LittleEndian.Uint32(bin[i:])))
	}
	if diff := cmp.Diff([]float32{0.5, -2, 1e-3}, got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
}

func TestRerankUsage(t *testing.T) {
	tests := []struct {
		name, meta string
		want       *adaptors.Usage
	}{
		{"search units are not tokens", `{"billed_units":{"search_units":1}}`, nil},
		{"billed input tokens", `{"billed_units":{"input_tokens":26,"search_units":0},"tokens":{"input_tokens":30}}`,
			&adaptors.Usage{PromptTokens: 26, TotalTokens: 26}},
		{"tokens alone are not billed", `{"tokens":{"input_tokens":30}}`, nil},
		{"no meta", `null`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := New().ParseResponse(&adaptors.Request{Mode: adaptors.ModeRerank, Body: []byte(`{"query":"q","documents":["a"]}`)},
				[]byte(`{"id":"r","results":[{"index":0,"relevance_score":0.5}],"meta":`+tt.meta+`}`))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseModels(t *testing.T) {
	a := New()
	got, err := a.ParseModels(adaptortest.ReadFile(t, "testdata/response/models.json"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"command-a-03-2025", "embed-v4.0", "rerank-v3.5"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got, err = a.ParseModels([]byte(`{"models":[{"name":"classify-only","endpoints":["classify"]},{"name":"no-endpoints"},{"endpoints":["chat"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"no-endpoints"}, got); diff != "" {
		t.Errorf("filter (-want +got):\n%s", diff)
	}
	if _, err := a.ParseModels([]byte(`<html>`)); !errors.Is(err, adaptors.ErrInvalidResponse) {
		t.Errorf("html: %v", err)
	}
}
