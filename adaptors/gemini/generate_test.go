package gemini

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

// chatReq is the request the response and stream tests convert for.
func chatReq(stream, includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "my-gemini",
		Stream: stream, IncludeUsage: includeUsage, Created: 1752457200}
}

// renderErr prints a conversion error for a golden file.
func renderErr(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("schema.Error: status=%d type=%s code=%v param=%v message=%q\n", se.Status, se.Type, se.Code, se.Param, se.Message)
	}
	return fmt.Sprintf("error: %v\n", err)
}

// TestParseGenerateResponseGolden converts each answer of
// testdata/response (Gemini's generateContent JSON) into the
// chat.completion the client gets.
func TestParseGenerateResponseGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/response/*.json")
	files = append(files, "testdata/response/html.txt")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		if name == "embed" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			resp, err := New().ParseResponse(chatReq(false, false), adaptortest.ReadFile(t, f))
			var got string
			if err != nil {
				got = renderErr(err)
			} else {
				got = fmt.Sprintf("usage: %s\n%s", renderUsage(resp.Usage), indentJSON(t, resp.Body))
			}
			adaptortest.Golden(t, "testdata/response/"+name+".golden", []byte(got), *update)
		})
	}
}

// completion is the part of a chat.completion the value tests check.
type completion struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role             string  `json:"role"`
			Content          *string `json:"content"`
			ReasoningContent string  `json:"reasoning_content"`
			ToolCalls        []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
				ExtraContent *oaExtraContent `json:"extra_content"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		TotalTokens         int `json:"total_tokens"`
		PromptTokensDetails *struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
		CompletionTokensDetails *struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	} `json:"usage"`
}

func parseFixture(t *testing.T, file string) (*completion, *adaptors.Response) {
	t.Helper()
	resp, err := ParseGenerateResponse(chatReq(false, false), adaptortest.ReadFile(t, "testdata/response/"+file))
	if err != nil {
		t.Fatal(err)
	}
	var c completion
	if err := json.Unmarshal(resp.Body, &c); err != nil {
		t.Fatal(err)
	}
	return &c, resp
}

func TestParseFinishReasons(t *testing.T) {
	tests := []struct {
		file    string
		want    []string
		content []string
	}{
		{"text.json", []string{"stop"}, []string{"Hello! How can I help you today?"}},
		{"max_tokens.json", []string{"length"}, []string{"Large language models are neural networks trained on"}},
		{"safety.json", []string{"content_filter"}, []string{""}},
		{"prompt_blocked.json", []string{"content_filter"}, []string{""}},
		{"tool_calls.json", []string{"tool_calls"}, []string{"<null>"}},
		{"tool_call_with_id.json", []string{"tool_calls"}, []string{"Let me look that up."}},
		{"two_candidates.json", []string{"stop", "stop"}, []string{"Eight.", "Two dogs have eight paws."}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, _ := parseFixture(t, tt.file)
			var finish, content []string
			for i, ch := range c.Choices {
				if ch.Index != i || ch.Message.Role != "assistant" {
					t.Errorf("choice %d: index %d role %q", i, ch.Index, ch.Message.Role)
				}
				finish = append(finish, ch.FinishReason)
				if ch.Message.Content == nil {
					content = append(content, "<null>")
				} else {
					content = append(content, *ch.Message.Content)
				}
			}
			if diff := cmp.Diff(tt.want, finish); diff != "" {
				t.Errorf("finish (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.content, content); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFinishReasonMapping(t *testing.T) {
	for reason, want := range map[string]string{
		"STOP": "stop", "": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter",
		"RECITATION": "content_filter", "BLOCKLIST": "content_filter", "PROHIBITED_CONTENT": "content_filter",
		"SPII": "content_filter", "IMAGE_SAFETY": "content_filter", "LANGUAGE": "stop", "OTHER": "stop",
		"MALFORMED_FUNCTION_CALL": "stop", "FINISH_REASON_UNSPECIFIED": "stop",
	} {
		if got := finishReasonOf(reason, false); got != want {
			t.Errorf("%q = %q, want %q", reason, got, want)
		}
	}
	for reason, want := range map[string]string{"STOP": "tool_calls", "MAX_TOKENS": "length", "SAFETY": "content_filter", "OTHER": "tool_calls"} {
		if got := finishReasonOf(reason, true); got != want {
			t.Errorf("%q with calls = %q, want %q", reason, got, want)
		}
	}
}

func TestParseUsage(t *testing.T) {
	tests := []struct {
		file string
		want *adaptors.Usage
	}{
		// completion = candidates 9 + thoughts 23; total as Google's 40.
		{"text.json", &adaptors.Usage{PromptTokens: 8, CompletionTokens: 32, TotalTokens: 40, ReasoningTokens: 23}},
		// prompt 2081 includes the 2048 cached tokens.
		{"reasoning_cached.json", &adaptors.Usage{PromptTokens: 2081, CompletionTokens: 261, TotalTokens: 2342, CachedTokens: 2048, ReasoningTokens: 247}},
		{"safety.json", &adaptors.Usage{PromptTokens: 17, TotalTokens: 17}},
		{"tool_call_with_id.json", &adaptors.Usage{PromptTokens: 51, CompletionTokens: 20, TotalTokens: 71}},
	}
	for _, tt := range tests {
		c, resp := parseFixture(t, tt.file)
		if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
			t.Errorf("%s: usage (-want +got):\n%s", tt.file, diff)
		}
		if c.Usage == nil || c.Usage.PromptTokens != tt.want.PromptTokens || c.Usage.CompletionTokens != tt.want.CompletionTokens || c.Usage.TotalTokens != tt.want.TotalTokens {
			t.Errorf("%s: body usage %+v", tt.file, c.Usage)
		}
		if tt.want.CachedTokens > 0 && (c.Usage.PromptTokensDetails == nil || c.Usage.PromptTokensDetails.CachedTokens != tt.want.CachedTokens) {
			t.Errorf("%s: body cached tokens missing", tt.file)
		}
		if tt.want.ReasoningTokens > 0 && (c.Usage.CompletionTokensDetails == nil || c.Usage.CompletionTokensDetails.ReasoningTokens != tt.want.ReasoningTokens) {
			t.Errorf("%s: body reasoning tokens missing", tt.file)
		}
	}
	// Tool-use prompt tokens are prompt tokens; nothing counted is no usage.
	u := (&upUsage{PromptTokenCount: 10, ToolUsePromptTokenCount: 5, CandidatesTokenCount: 2, TotalTokenCount: 17}).usage()
	if diff := cmp.Diff(&adaptors.Usage{PromptTokens: 15, CompletionTokens: 2, TotalTokens: 17}, u); diff != "" {
		t.Errorf("tool use (-want +got):\n%s", diff)
	}
	if u := (&upUsage{}).usage(); u != nil {
		t.Errorf("empty usage = %+v", u)
	}
}

func TestParseToolCalls(t *testing.T) {
	c, _ := parseFixture(t, "tool_calls.json")
	calls := c.Choices[0].Message.ToolCalls
	if len(calls) != 2 {
		t.Fatalf("calls: %+v", calls)
	}
	type view struct{ ID, Type, Name, Args, Sig string }
	var got []view
	for _, tc := range calls {
		v := view{tc.ID, tc.Type, tc.Function.Name, tc.Function.Arguments, ""}
		if tc.ExtraContent != nil {
			v.Sig = tc.ExtraContent.Google.ThoughtSignature
		}
		got = append(got, v)
	}
	want := []view{
		{"call_Zb3xQv1aT0uy0qPp9QF2Lw_0", "function", "get_weather", `{"location":"Paris"}`, "CiwBVKhc7v6Ty7p3bR3sK1xwnXo4d0m2ZQpJt7uT3vW0xRkz8yqL2cN5gHfE"},
		{"call_Zb3xQv1aT0uy0qPp9QF2Lw_1", "function", "get_weather", `{"location":"Tokyo","unit":"celsius"}`, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Gemini's own id wins; without a responseId the ids count from 0;
	// absent args are {}.
	c, _ = parseFixture(t, "tool_call_with_id.json")
	calls = c.Choices[0].Message.ToolCalls
	if calls[0].ID != "function-call-4772471215937245539" || calls[1].ID != "call_1" || calls[1].Function.Arguments != "{}" {
		t.Errorf("calls %+v", calls)
	}
	if c.ID != "" || c.Model != "my-gemini" || c.Created != 1752457200 {
		t.Errorf("id %q model %q created %d", c.ID, c.Model, c.Created)
	}
}

// TestToolCallRoundTrip: a tool-call answer converted for the client and
// sent back as history gives Gemini its own function calls again, with
// the thought signature where Gemini put it.
func TestToolCallRoundTrip(t *testing.T) {
	c, resp := parseFixture(t, "tool_calls.json")
	var msg map[string]any
	if err := json.Unmarshal(resp.Body, &msg); err != nil {
		t.Fatal(err)
	}
	assistant := msg["choices"].([]any)[0].(map[string]any)["message"]
	history, _ := json.Marshal(map[string]any{"messages": []any{
		map[string]any{"role": "user", "content": "Weather?"},
		assistant,
		map[string]any{"role": "tool", "tool_call_id": c.Choices[0].Message.ToolCalls[1].ID, "content": "sunny"},
		map[string]any{"role": "tool", "tool_call_id": c.Choices[0].Message.ToolCalls[0].ID, "content": "rain"},
	}})
	got := buildMap(t, "gemini-2.5-flash", string(history))
	want := []any{
		map[string]any{"role": "user", "parts": []any{map[string]any{"text": "Weather?"}}},
		map[string]any{"role": "model", "parts": []any{
			map[string]any{"functionCall": map[string]any{"name": "get_weather", "args": map[string]any{"location": "Paris"}},
				"thoughtSignature": "CiwBVKhc7v6Ty7p3bR3sK1xwnXo4d0m2ZQpJt7uT3vW0xRkz8yqL2cN5gHfE"},
			map[string]any{"functionCall": map[string]any{"name": "get_weather", "args": map[string]any{"location": "Tokyo", "unit": "celsius"}}},
		}},
		map[string]any{"role": "user", "parts": []any{
			map[string]any{"functionResponse": map[string]any{"name": "get_weather", "response": map[string]any{"content": "sunny"}}},
			map[string]any{"functionResponse": map[string]any{"name": "get_weather", "response": map[string]any{"content": "rain"}}},
		}},
	}
	if diff := cmp.Diff(want, got["contents"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseInvalid(t *testing.T) {
	for _, body := range []string{"", "[]", "<html></html>", `{"candidates":[`, `{"candidates":[]} trailing`} {
		_, err := ParseGenerateResponse(chatReq(false, false), []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: err = %v, want ErrInvalidResponse", body, err)
		}
	}
	_, err := ParseGenerateResponse(chatReq(false, false), adaptortest.ReadFile(t, "testdata/response/error_in_200.json"))
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != 503 || se.Message != "The model is overloaded. Please try again later." {
		t.Errorf("error in 200: %v", err)
	}
}
