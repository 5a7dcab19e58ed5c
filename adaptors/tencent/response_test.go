package tencent

import (
	"errors"
	"fmt"
	"testing"

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
		{"chat_unwrapped", "chat_unwrapped.json", adaptors.ModeChat, ""},
		{"chat_tool_call", "chat_tool_call.json", adaptors.ModeChat, ""},
		{"chat_tool_call_ids", "chat_tool_call_ids.json", adaptors.ModeChat, ""},
		{"chat_reasoning", "chat_reasoning.json", adaptors.ModeChat, ""},
		{"chat_sensitive", "chat_sensitive.json", adaptors.ModeChat, ""},
		{"error_invalid_parameter", "error_invalid_parameter.json", adaptors.ModeChat, ""},
		{"error_signature_failure", "error_signature_failure.json", adaptors.ModeChat, ""},
		{"error_low_balance", "error_low_balance.json", adaptors.ModeChat, ""},
		{"embed", "embed.json", adaptors.ModeEmbeddings, `{"model":"hunyuan-embedding","input":"hello"}`},
		{"embed_list", "embed_list.json", adaptors.ModeEmbeddings, `{"model":"hunyuan-embedding","input":["a","b"]}`},
		{"embed_base64", "embed_list.json", adaptors.ModeEmbeddings, `{"model":"hunyuan-embedding","input":["a","b"],"encoding_format":"base64"}`},
		{"embed_error", "error_signature_failure.json", adaptors.ModeEmbeddings, `{"input":"a"}`},
	}
	a := testAdaptor()
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
		in    string
		calls bool
		want  string
	}{
		{"stop", false, "stop"},
		{"stop", true, "tool_calls"},
		{"tool_calls", false, "tool_calls"},
		{"tool_calls", true, "tool_calls"},
		{"sensitive", false, "content_filter"},
		{"sensitive", true, "content_filter"},
		{"length", false, "length"},
		{"", false, "stop"},
		{"something_new", false, "stop"},
	}
	for _, tt := range tests {
		if got := finishReason(tt.in, tt.calls); got != tt.want {
			t.Errorf("finishReason(%q, %v) = %q, want %q", tt.in, tt.calls, got, tt.want)
		}
	}
}

func TestUsageConversion(t *testing.T) {
	tests := []struct {
		in   usageWire
		want *adaptors.Usage
	}{
		{usageWire{PromptTokens: 3, CompletionTokens: 14, TotalTokens: 17}, &adaptors.Usage{PromptTokens: 3, CompletionTokens: 14, TotalTokens: 17}},
		// Total is prompt + completion, whatever Hunyuan's sum says.
		{usageWire{PromptTokens: 3, CompletionTokens: 14, TotalTokens: 99}, &adaptors.Usage{PromptTokens: 3, CompletionTokens: 14, TotalTokens: 17}},
		{usageWire{PromptTokens: 6}, &adaptors.Usage{PromptTokens: 6, TotalTokens: 6}},
		{usageWire{TotalTokens: 8}, &adaptors.Usage{PromptTokens: 8, TotalTokens: 8}},
		{usageWire{}, nil},
		{usageWire{PromptTokens: -1, CompletionTokens: 1 << 40}, nil},
	}
	for _, tt := range tests {
		u, ok := tt.in.usage()
		var got *adaptors.Usage
		if ok {
			got = &u
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestInvalidAnswers: 2xx bodies that are not Hunyuan's answer are
// adaptors.ErrInvalidResponse; errors inside are *schema.Error >= 400.
func TestInvalidAnswers(t *testing.T) {
	a := testAdaptor()
	for _, body := range []string{"", "null", "[]", `{"Response":{}}`, `{"Response":{"Choices":[]}}`, `{"Choices":`, "<html></html>"} {
		_, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("chat %q: %v", body, err)
		}
	}
	for _, body := range []string{"", `{"Response":{"Data":[]}}`, `{"Response":{"Data":[{"Embedding":"x"}]}}`, `{"Response":{"Data":[{"Embedding":null}]}}`} {
		_, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeEmbeddings, Body: []byte(`{"input":"x"}`)}, []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("embed %q: %v", body, err)
		}
	}
	_, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, []byte(`{"Response":{"ErrorMsg":{"Msg":"请求模型超时","Code":4001},"Choices":[]}}`))
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != 504 {
		t.Errorf("ErrorMsg in a 2xx: %v", err)
	}
	if _, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeRerank}, []byte(`{}`)); !errors.Is(err, adaptors.ErrUnsupportedMode) {
		t.Errorf("rerank: %v", err)
	}
}
