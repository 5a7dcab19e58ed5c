package cloudflare

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func TestParseResponseGolden(t *testing.T) {
	a := New()
	tests := []struct {
		name, file string
		mode       adaptors.Mode
		want       *adaptors.Usage
	}{
		{"chat", "chat.json", adaptors.ModeChat,
			&adaptors.Usage{PromptTokens: 28, CompletionTokens: 33, TotalTokens: 61}},
		{"chat_reasoning_cached", "chat_reasoning_cached.json", adaptors.ModeChat,
			&adaptors.Usage{PromptTokens: 2048, CompletionTokens: 96, TotalTokens: 2144, CachedTokens: 1536, ReasoningTokens: 80}},
		{"chat_tool_calls", "chat_tool_calls.json", adaptors.ModeChat,
			&adaptors.Usage{PromptTokens: 182, CompletionTokens: 21, TotalTokens: 203}},
		{"embeddings", "embeddings.json", adaptors.ModeEmbeddings,
			&adaptors.Usage{PromptTokens: 6, TotalTokens: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/response/"+tt.file)
			req := &adaptors.Request{Mode: tt.mode, Model: "m", OriginModel: "m", Created: 1753271000}
			resp, err := a.ParseResponse(req, in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			typed, err := a.ParseTypedResponse(req, "application/json", in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(resp, typed); diff != "" {
				t.Errorf("typed differs (-untyped +typed):\n%s", diff)
			}
			adaptortest.Golden(t, "testdata/response/"+tt.name+".golden", renderResponse(resp, err), *update)
		})
	}
}

// TestParseResponseEnvelope: a 2xx body holding Cloudflare's failure
// envelope is an upstream failure, neither billed nor relayed.
func TestParseResponseEnvelope(t *testing.T) {
	a := New()
	in := adaptortest.ReadFile(t, "testdata/response/envelope_in_200.json")
	req := &adaptors.Request{Mode: adaptors.ModeChat}
	resp, err := a.ParseResponse(req, in)
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != 502 || se.Code != 3040 || !strings.Contains(se.Message, "overloaded") {
		t.Fatalf("got %v, %v", resp, err)
	}
	adaptortest.Golden(t, "testdata/response/envelope_in_200.golden", renderResponse(resp, err), *update)
	if _, err := a.ParseTypedResponse(req, "application/json", in); !errors.As(err, &se) {
		t.Errorf("typed: %v", err)
	}
	for _, body := range []string{"", "<html>502</html>", `{"id":"x","choices":[`} {
		if _, err := a.ParseResponse(req, []byte(body)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: error %v, want ErrInvalidResponse", body, err)
		}
	}
	// success:true with an errors member is an answer.
	ok := []byte(`{"id":"x","object":"chat.completion","choices":[],"errors":[],"success":true,"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	if _, err := a.ParseResponse(req, ok); err != nil {
		t.Errorf("success envelope: %v", err)
	}
}

type streamCase struct {
	name, file   string
	includeUsage bool
}

func streamCases() []streamCase {
	return []streamCase{
		{"chat_hide_usage", "chat.sse", false},
		{"chat_show_usage", "chat.sse", true},
		{"tool_call", "tool_call.sse", false},
	}
}

func TestStreamGolden(t *testing.T) {
	a := New()
	for _, tt := range streamCases() {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/stream/"+tt.file)
			req := &adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: tt.includeUsage}
			evs, err := drain(t, a.NewStreamDecoder(req, bytes.NewReader(in)))
			got := renderStream(evs, err)
			adaptortest.Golden(t, "testdata/stream/"+tt.name+".golden", got, *update)

			evs2, err2 := drain(t, a.NewStreamDecoder(req, iotest.OneByteReader(bytes.NewReader(in))))
			if diff := cmp.Diff(string(got), string(renderStream(evs2, err2))); diff != "" {
				t.Errorf("one-byte reads differ:\n%s", diff)
			}
		})
	}
}

func TestParseErrorGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/error/*")
	if err != nil {
		t.Fatal(err)
	}
	a := New()
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".golden") {
			continue
		}
		n++
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			status := statusOf(t, name)
			e := a.ParseError(status, adaptortest.ReadFile(t, path))
			if e == nil || e.Status != status || e.Message == "" || e.Type == "" {
				t.Fatalf("bad error %+v", e)
			}
			env, err := sonic.ConfigStd.MarshalIndent(schema.Envelope{Error: e}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out := fmt.Sprintf("status %d\n%s\n", e.Status, env)
			adaptortest.Golden(t, strings.TrimSuffix(path, filepath.Ext(path))+".golden", []byte(out), *update)
		})
	}
	if n < 5 {
		t.Fatalf("only %d error fixtures", n)
	}
}

func TestParseErrorEnvelope(t *testing.T) {
	a := New()
	tests := []struct {
		status int
		body   string
		want   schema.Error
	}{
		{403, `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}`,
			schema.Error{Status: 403, Message: "Authentication error", Type: "permission_error", Code: 10000}},
		{400, `{"success":false,"errors":[{"code":"7003","message":"Could not route"},{"code":7000,"message":"No route for that URI"}]}`,
			schema.Error{Status: 400, Message: "Could not route; No route for that URI", Type: "invalid_request_error", Code: "7003"}},
		{500, `{"success":false,"errors":[],"messages":[],"result":null}`,
			schema.Error{Status: 500, Message: "Cloudflare API request failed (success: false)", Type: "server_error"}},
		{429, `{"errors":[{"message":"Rate limited","code":null}]}`,
			schema.Error{Status: 429, Message: "Rate limited", Type: "rate_limit_error"}},
		// Not an envelope: the OpenAI parser's answer, typed by status.
		{404, `{"errors":"nope","message":"Not found"}`,
			schema.Error{Status: 404, Message: "Not found", Type: "invalid_request_error"}},
		{401, `{"error":{"message":"bad token"}}`,
			schema.Error{Status: 401, Message: "bad token", Type: "authentication_error"}},
		{502, ``,
			schema.Error{Status: 502, Message: "bad response status code 502", Type: "upstream_error", Code: "bad_response_status_code", Param: "502"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, *a.ParseError(tt.status, []byte(tt.body))); diff != "" {
			t.Errorf("%d %s (-want +got):\n%s", tt.status, tt.body, diff)
		}
	}
	// A huge envelope gives a bounded message.
	var b strings.Builder
	b.WriteString(`{"success":false,"errors":[`)
	for i := range 500 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"code":1,"message":"` + strings.Repeat("é", 10) + `"}`)
	}
	b.WriteString(`]}`)
	if e := a.ParseError(400, []byte(b.String())); len(e.Message) > maxMessage || !utf8Valid(e.Message) {
		t.Errorf("message of %d bytes", len(e.Message))
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestConformance(t *testing.T) {
	for name, ch := range map[string]adaptors.Channel{
		"direct":  {Key: "cf-conformance-token", Config: map[string]string{"account_id": account}},
		"gateway": {Key: "cf-conformance-token", BaseURL: gateway},
	} {
		t.Run(name, func(t *testing.T) {
			adaptortest.Run(t, adaptortest.Case{
				Adaptor: New(),
				Channel: ch,
				Model:   "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
				Fixtures: adaptortest.Fixtures{
					Stream:        adaptortest.ReadFile(t, "testdata/stream/chat.sse"),
					StreamUsage:   adaptors.Usage{PromptTokens: 24, CompletionTokens: 7, TotalTokens: 31, CachedTokens: 16},
					Response:      adaptortest.ReadFile(t, "testdata/response/chat.json"),
					ResponseUsage: adaptors.Usage{PromptTokens: 28, CompletionTokens: 33, TotalTokens: 61},
					ToolStream:    adaptortest.ReadFile(t, "testdata/stream/tool_call.sse"),
					ToolResponse:  adaptortest.ReadFile(t, "testdata/response/chat_tool_calls.json"),
					Errors: map[int][]byte{
						400: adaptortest.ReadFile(t, "testdata/error/400_no_such_model.json"),
						401: adaptortest.ReadFile(t, "testdata/error/401_authentication_error.json"),
						429: adaptortest.ReadFile(t, "testdata/error/429_account_limited.json"),
					},
					ErrorMessages: map[int]string{
						400: "No such model @cf/meta/llama-9-unknown",
						401: "Authentication error",
						429: "daily free allocation",
					},
					AuthHeader: "Authorization",
				},
			})
		})
	}
}

func FuzzStreamDecoder(f *testing.F) {
	for _, tc := range streamCases() {
		if b, err := os.ReadFile("testdata/stream/" + tc.file); err == nil {
			f.Add(b, tc.includeUsage)
		}
	}
	a := New()
	f.Fuzz(func(t *testing.T, in []byte, includeUsage bool) {
		req := &adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: includeUsage}
		evs, err := drain(t, a.NewStreamDecoder(req, bytes.NewReader(in)))
		if err == nil {
			t.Fatal("decoder ended without an error")
		}
		for _, ev := range evs {
			if ev.TextBytes < 0 {
				t.Fatal("negative TextBytes")
			}
		}
		var se *schema.Error
		if errors.As(err, &se) && (se.Message == "" || se.Type == "") {
			t.Fatalf("empty error fields: %+v", *se)
		}
		if e := a.ParseError(400, in); e == nil || e.Message == "" || e.Type == "" {
			t.Fatalf("bad error for %q: %+v", in, e)
		}
		_, _ = a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, in)
		_, _ = a.ParseModels(in)
	})
}
