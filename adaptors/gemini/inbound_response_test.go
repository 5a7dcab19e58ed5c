package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

func renderUsage(u *adaptors.Usage) string {
	if u == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%+v", *u)
}

func TestOutboundResponseGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/inbound/response/*.json")
	files = append(files, "testdata/inbound/response/html.txt")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		t.Run(name, func(t *testing.T) {
			body, usage, err := OutboundResponse(adaptortest.ReadFile(t, f), "gemini-2.5-flash")
			var got string
			if err != nil {
				if !errors.Is(err, adaptors.ErrInvalidResponse) {
					t.Errorf("error %v does not wrap adaptors.ErrInvalidResponse", err)
				}
				got = "error: " + err.Error() + "\n"
			} else {
				var pretty bytes.Buffer
				if err := json.Indent(&pretty, body, "", "  "); err != nil {
					t.Fatalf("output is not json: %v\n%s", err, body)
				}
				got = fmt.Sprintf("usage: %s\n%s\n", renderUsage(usage), pretty.Bytes())
			}
			adaptortest.Golden(t, "testdata/inbound/response/"+name+".golden", []byte(got), *update)
		})
	}
}

func TestOutboundResponseValues(t *testing.T) {
	tests := []struct {
		file       string
		wantFinish []string
		wantUsage  *usageMetadata
	}{
		{"text.json", []string{"STOP"}, &usageMetadata{PromptTokenCount: 19, CandidatesTokenCount: 10, TotalTokenCount: 29}},
		// 238 completion tokens of which 192 reasoning; 1024 cached.
		{"reasoning_cached.json", []string{"STOP"}, &usageMetadata{PromptTokenCount: 1117, CandidatesTokenCount: 46, TotalTokenCount: 1355, CachedContentTokenCount: 1024, ThoughtsTokenCount: 192}},
		{"deepseek_reasoner.json", []string{"STOP"}, &usageMetadata{PromptTokenCount: 6, CandidatesTokenCount: 12, TotalTokenCount: 90, ThoughtsTokenCount: 72}},
		{"tool_calls.json", []string{"STOP"}, &usageMetadata{PromptTokenCount: 82, CandidatesTokenCount: 17, TotalTokenCount: 99}},
		{"length.json", []string{"MAX_TOKENS"}, &usageMetadata{PromptTokenCount: 14, CandidatesTokenCount: 8, TotalTokenCount: 22}},
		{"content_filter.json", []string{"SAFETY"}, &usageMetadata{PromptTokenCount: 30, TotalTokenCount: 30}},
		{"two_choices.json", []string{"STOP", "STOP"}, &usageMetadata{PromptTokenCount: 31, CandidatesTokenCount: 15, TotalTokenCount: 46}},
		{"no_usage_no_id.json", []string{"STOP"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, _, err := OutboundResponse(adaptortest.ReadFile(t, "testdata/inbound/response/"+tt.file), "gemini-x")
			if err != nil {
				t.Fatal(err)
			}
			// A non-stream answer is a one-payload stream.
			r, err := accumulate([][]byte{body})
			if err != nil {
				t.Fatal(err)
			}
			var finish []string
			for i := range len(r.Finish) {
				finish = append(finish, r.Finish[i])
			}
			if diff := cmp.Diff(tt.wantFinish, finish); diff != "" {
				t.Errorf("finish reasons (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantUsage, r.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutboundResponseParts(t *testing.T) {
	body, _, err := OutboundResponse(adaptortest.ReadFile(t, "testdata/inbound/response/parallel_tool_calls.json"), "gemini-x")
	if err != nil {
		t.Fatal(err)
	}
	r, err := accumulate([][]byte{body})
	if err != nil {
		t.Fatal(err)
	}
	want := []callView{
		{Name: "get_weather", ID: "call_W2pBqRDm1G2CNs5UJ2Lm8mWy", Args: `{"location":"New York, NY"}`},
		{Name: "get_time", ID: "call_q8Ys2NlYqtxV4bS0wL0cD7kA", Args: `{}`}, // truncated arguments
	}
	if diff := cmp.Diff(want, r.Calls[0]); diff != "" || r.Text[0] != "Checking both." {
		t.Errorf("text %q, calls (-want +got):\n%s", r.Text[0], diff)
	}
	body, _, _ = OutboundResponse(adaptortest.ReadFile(t, "testdata/inbound/response/deepseek_reasoner.json"), "gemini-x")
	if r, err = accumulate([][]byte{body}); err != nil || r.Thoughts[0] == "" || r.Text[0] != "Hello! How can I assist you today? 😊" {
		t.Errorf("thought/text split: %+v %v", r, err)
	}
}

func TestOutboundResponseBillingUsage(t *testing.T) {
	_, u, err := OutboundResponse(adaptortest.ReadFile(t, "testdata/inbound/response/reasoning_cached.json"), "m")
	if err != nil {
		t.Fatal(err)
	}
	want := &adaptors.Usage{PromptTokens: 1117, CompletionTokens: 238, TotalTokens: 1355, CachedTokens: 1024, ReasoningTokens: 192}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}
