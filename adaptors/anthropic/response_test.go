package anthropic

import (
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

// outReq is the request the outbound response and stream tests convert
// for: the client asked for "claude-sonnet-4-5" at a fixed time.
func outReq(stream, includeUsage bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-sonnet-4-5-20250929", OriginModel: "claude-sonnet-4-5",
		Stream: stream, IncludeUsage: includeUsage, Created: 1767225600}
}

func renderUsagePtr(u *adaptors.Usage) string {
	if u == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%+v", *u)
}

func TestParseMessageGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/response/*.json")
	files = append(files, "testdata/response/html.txt")
	if len(files) < 5 {
		t.Fatalf("fixtures missing: %v", files)
	}
	a := New()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		t.Run(name, func(t *testing.T) {
			resp, err := a.ParseResponse(outReq(false, false), adaptortest.ReadFile(t, f))
			var got string
			var se *schema.Error
			switch {
			case errors.As(err, &se):
				got = fmt.Sprintf("schema error: status=%d type=%s code=%v message=%q\n", se.Status, se.Type, se.Code, se.Message)
			case err != nil:
				if !errors.Is(err, adaptors.ErrInvalidResponse) {
					t.Errorf("error %v does not wrap ErrInvalidResponse", err)
				}
				got = "error: " + err.Error() + "\n"
			default:
				got = fmt.Sprintf("usage: %s\n%s", renderUsagePtr(resp.Usage), indentJSON(t, resp.Body))
			}
			adaptortest.Golden(t, "testdata/response/"+name+".golden", []byte(got), *update)
		})
	}
}

func TestFinishReason(t *testing.T) {
	for in, want := range map[string]string{
		"end_turn": "stop", "stop_sequence": "stop", "pause_turn": "stop", "": "stop", "something_new": "stop",
		"max_tokens": "length", "model_context_window_exceeded": "length",
		"tool_use": "tool_calls", "refusal": "content_filter",
	} {
		if got := finishReason(in); got != want {
			t.Errorf("finishReason(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUsageConversion(t *testing.T) {
	u := upUsage{InputTokens: 21, CacheCreationInputTokens: 188, CacheReadInputTokens: 1800, OutputTokens: 393}
	u.OutputTokensDetails.ThinkingTokens = 312
	want := adaptors.Usage{PromptTokens: 2009, CompletionTokens: 393, TotalTokens: 2402, CachedTokens: 1800, CacheWriteTokens: 188, ReasoningTokens: 312}
	if diff := cmp.Diff(want, *u.toUsage()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	cu := clientUsage(&want)
	if cu.PromptTokensDetails.CachedTokens != 1800 || cu.CompletionTokensDetails.ReasoningTokens != 312 || cu.TotalTokens != 2402 {
		t.Errorf("client usage %+v", cu)
	}
}

func TestParseMessageInvalid(t *testing.T) {
	for _, body := range []string{"", "null", "[]", `{"type":"message"`, `{"id":"x"}`, "<html></html>"} {
		_, err := ParseMessage(outReq(false, false), []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("ParseMessage(%q) err = %v, want ErrInvalidResponse", body, err)
		}
	}
}
