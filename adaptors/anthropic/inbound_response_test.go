package anthropic

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
			body, usage, err := OutboundResponse(adaptortest.ReadFile(t, f), "claude-sonnet-4-5")
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

// messageView is the part of an Anthropic message the value tests check.
type messageView struct {
	ID           string
	Model        string
	Content      []map[string]any
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        usageOut
}

func TestOutboundResponseValues(t *testing.T) {
	seq := "5"
	tests := []struct {
		file      string
		wantID    string
		wantTypes []string
		wantStop  string
		wantSeq   *string
		wantUsage usageOut
	}{
		{"text.json", "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT", []string{"text"}, "end_turn", nil, usageOut{InputTokens: 19, OutputTokens: 10}},
		// 1117 prompt tokens of which 1024 cached.
		{"reasoning_cached.json", "msg_AyPNinnUqUDYo9SAdA52NobMflmj2", []string{"text"}, "end_turn", nil, usageOut{InputTokens: 93, CacheReadInputTokens: 1024, OutputTokens: 238}},
		{"deepseek_reasoner.json", "msg_930c60df-bf64-41c9-a88e-3ec75f81e00e", []string{"thinking", "text"}, "end_turn", nil, usageOut{InputTokens: 6, OutputTokens: 84}},
		{"tool_calls.json", "msg_abc123", []string{"tool_use"}, "tool_use", nil, usageOut{InputTokens: 82, OutputTokens: 17}},
		{"parallel_tool_calls.json", "msg_BQ1x3kXgG6Ywl5l1yVYgqf8uQ3Y2C", []string{"text", "tool_use", "tool_use"}, "tool_use", nil, usageOut{InputTokens: 120, OutputTokens: 52}},
		{"length.json", "msg_BQ2a9fY3pQmL0dbx8b0Wc1x9aQmZt", []string{"text"}, "max_tokens", nil, usageOut{InputTokens: 14, OutputTokens: 8}},
		{"content_filter.json", "msg_AzureCF8x2", []string{}, "refusal", nil, usageOut{InputTokens: 30}},
		{"vllm_stop_sequence.json", "msg_5b1e0e7f1c2d4a3b9e8f7a6b5c4d3e2f", []string{"text"}, "stop_sequence", &seq, usageOut{InputTokens: 25, OutputTokens: 12}},
		{"refusal.json", "msg_BQ3refusal", []string{"text"}, "end_turn", nil, usageOut{InputTokens: 40, OutputTokens: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, _, err := OutboundResponse(adaptortest.ReadFile(t, "testdata/inbound/response/"+tt.file), "claude-x")
			if err != nil {
				t.Fatal(err)
			}
			var m messageView
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			types := []string{}
			for _, b := range m.Content {
				types = append(types, b["type"].(string))
				if b["type"] == "tool_use" {
					if _, ok := b["input"].(map[string]any); !ok {
						t.Errorf("tool_use input is not an object: %v", b["input"])
					}
				}
			}
			if m.ID != tt.wantID || m.Model != "claude-x" {
				t.Errorf("id, model = %q, %q", m.ID, m.Model)
			}
			if diff := cmp.Diff(tt.wantTypes, types); diff != "" {
				t.Errorf("block types (-want +got):\n%s", diff)
			}
			if m.StopReason != tt.wantStop || !cmp.Equal(m.StopSequence, tt.wantSeq) {
				t.Errorf("stop = %q %v, want %q %v", m.StopReason, m.StopSequence, tt.wantStop, tt.wantSeq)
			}
			if diff := cmp.Diff(tt.wantUsage, m.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOutboundResponseBillingUsage pins the usage returned for billing:
// the upstream's, in the gateway's terms, untouched by the Anthropic split.
func TestOutboundResponseBillingUsage(t *testing.T) {
	_, u, err := OutboundResponse(adaptortest.ReadFile(t, "testdata/inbound/response/reasoning_cached.json"), "m")
	if err != nil {
		t.Fatal(err)
	}
	want := &adaptors.Usage{PromptTokens: 1117, CompletionTokens: 238, TotalTokens: 1355, CachedTokens: 1024, ReasoningTokens: 192}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	_, u, err = OutboundResponse(adaptortest.ReadFile(t, "testdata/inbound/response/no_usage_no_id.json"), "m")
	if err != nil || u != nil {
		t.Errorf("no usage: got %v, %v", u, err)
	}
}

func TestOutboundResponseDeterministicID(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/inbound/response/no_usage_no_id.json")
	a, _, _ := OutboundResponse(body, "m")
	b, _, _ := OutboundResponse(body, "m")
	if !bytes.Equal(a, b) || !bytes.Contains(a, []byte(`"id":"msg_switchyard-`)) {
		t.Errorf("ids differ or not derived: %s / %s", a, b)
	}
}
