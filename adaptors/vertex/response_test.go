package vertex

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// TestParseResponseGolden converts each answer of testdata/response
// (Vertex AI's GenerateContentResponse, Claude's Message, a predict
// answer) into the client's body and usage.
func TestParseResponseGolden(t *testing.T) {
	tests := []struct {
		file  string
		req   *adaptors.Request
		usage adaptors.Usage
	}{
		{"gemini_text", chatReq("gemini-2.5-flash", false, false),
			adaptors.Usage{PromptTokens: 2081, CompletionTokens: 256, TotalTokens: 2337, CachedTokens: 2048, ReasoningTokens: 247}},
		{"gemini_tool", chatReq("gemini-2.5-pro", false, false),
			adaptors.Usage{PromptTokens: 57, CompletionTokens: 79, TotalTokens: 136, ReasoningTokens: 64}},
		{"claude_text", chatReq("claude-sonnet-4-5-20250929", false, false),
			adaptors.Usage{PromptTokens: 47, CompletionTokens: 12, TotalTokens: 59, CachedTokens: 30, CacheWriteTokens: 5}},
		{"claude_tool", chatReq("claude-opus-4-6", false, false),
			adaptors.Usage{PromptTokens: 412, CompletionTokens: 58, TotalTokens: 470}},
		{"embed_predict", &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005", OriginModel: "my-embedder"},
			adaptors.Usage{PromptTokens: 10, TotalTokens: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			resp, err := New().ParseResponse(tt.req, adaptortest.ReadFile(t, "testdata/response/"+tt.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage == nil {
				t.Fatal("no usage")
			}
			if diff := cmp.Diff(tt.usage, *resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			adaptortest.Golden(t, "testdata/response/"+tt.file+".golden", renderResponse(resp, nil), *update)
		})
	}
}

func TestParseResponseErrors(t *testing.T) {
	embed := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005"}
	tests := []struct {
		name   string
		req    *adaptors.Request
		body   string
		schema bool // a *schema.Error, else ErrInvalidResponse
		want   string
	}{
		{"gemini_html", chatReq("gemini-2.5-flash", false, false), "<html>", false, ""},
		{"claude_not_message", chatReq("claude-opus-4-6", false, false), `{"candidates":[]}`, false, ""},
		{"claude_error_in_200", chatReq("claude-opus-4-6", false, false), `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, true, "Overloaded"},
		{"embed_not_json", embed, "[]", false, ""},
		{"embed_no_predictions", embed, `{"metadata":{}}`, false, ""},
		{"embed_no_values", embed, `{"predictions":[{"embeddings":{"statistics":{"token_count":1}}}]}`, false, ""},
		{"embed_bad_values", embed, `{"predictions":[{"embeddings":{"values":[1,}}]}`, false, ""},
		{"embed_error_in_200", embed, `{"error":{"code":400,"message":"Unable to submit request because the input token count is 30000 but model only supports up to 2048.","status":"INVALID_ARGUMENT"}}`, true, "input token count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().ParseResponse(tt.req, []byte(tt.body))
			var se *schema.Error
			switch {
			case tt.schema:
				if !errors.As(err, &se) || !strings.Contains(se.Message, tt.want) || se.Status < 400 {
					t.Errorf("err %v, want a *schema.Error saying %q", err, tt.want)
				}
			case !errors.Is(err, adaptors.ErrInvalidResponse):
				t.Errorf("err %v, want ErrInvalidResponse", err)
			}
		})
	}
}

// TestParsePredictWithoutStatistics: no token counts, no usage (the
// gateway estimates), zeros in the client body.
func TestParsePredictWithoutStatistics(t *testing.T) {
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005"}
	resp, err := New().ParseResponse(req, []byte(`{"predictions":[{"embeddings":{"values":[0.5, -0.25]}}],"deployedModelId":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"text-embedding-005","usage":{"prompt_tokens":0,"total_tokens":0}}`
	if string(resp.Body) != want || resp.Usage != nil {
		t.Errorf("got %s usage %v", resp.Body, resp.Usage)
	}
}

// TestParsePredictEmpty: an empty list stays an empty list.
func TestParsePredictEmpty(t *testing.T) {
	req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "m", OriginModel: "m"}
	resp, err := New().ParseResponse(req, []byte(`{"predictions":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(resp.Body, []byte(`"data":[]`)) {
		t.Errorf("%s", resp.Body)
	}
}
