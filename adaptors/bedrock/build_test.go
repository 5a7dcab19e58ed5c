package bedrock

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

const (
	testKey    = "AKIDEXAMPLE|wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY|us-east-1"
	testAPIKey = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLWtleQ=="
)

func TestBuildRequestGolden(t *testing.T) {
	a := New(Options{Now: fixedClock})
	tests := []struct {
		name   string
		body   string // file under testdata/build
		ch     adaptors.Channel
		model  string
		stream bool
		pass   []adaptors.Header
	}{
		{"chat_claude_sigv4", "chat.json", adaptors.Channel{Key: testKey}, "claude-3-5-sonnet-20241022", false, nil},
		{"chat_nova_bearer", "chat.json", adaptors.Channel{Key: testAPIKey, Config: map[string]string{"region": "us-west-2"}}, "amazon.nova-micro-v1:0", false, nil},
		{"chat_stream_claude_session_token", "chat_stream.json", adaptors.Channel{Key: "ASIAEXAMPLE|secret|eu-west-1|IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="},
			"claude-sonnet-4-5-20250929", true, nil},
		{"chat_stream_llama_config", "chat_stream.json", adaptors.Channel{Config: map[string]string{"region": "eu-central-1", "access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
			"llama3-8b-8192", true, nil},
		{"chat_converse_default_max_tokens", "chat.json", adaptors.Channel{Key: testKey, Config: map[string]string{"max_tokens": "2048"}}, "amazon.nova-lite-v1:0", false, nil},
		{"chat_claude_betas", "chat.json", adaptors.Channel{Key: testKey, Config: map[string]string{"max_tokens": "1024"}}, "claude-sonnet-4-20250514", false,
			[]adaptors.Header{{Key: "anthropic-beta", Value: "context-1m-2025-08-07, interleaved-thinking-2025-05-14"}}},
		{"chat_arn_base_url", "chat.json", adaptors.Channel{Key: testKey, BaseURL: "https://gateway.example.com/aws/bedrock/"},
			"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5", true, nil},
		{"tools_claude_profile", "tools.json", adaptors.Channel{Key: testKey}, "us.anthropic.claude-3-7-sonnet-20250219-v1:0", false, nil},
		{"tools_converse", "tools.json", adaptors.Channel{Key: testKey}, "mistral.mistral-large-2407-v1:0", false, nil},
		{"tool_choice_named_converse", "tool_choice_named.json", adaptors.Channel{Key: testKey}, "cohere.command-r-plus-v1:0", true, nil},
		{"image_claude", "image.json", adaptors.Channel{Key: testKey}, "claude-3-haiku-20240307", false, nil},
		{"image_converse", "image.json", adaptors.Channel{Key: testKey}, "amazon.nova-pro-v1:0", false, nil},
		{"params_converse", "params.json", adaptors.Channel{Key: testKey, Config: map[string]string{"max_tokens": "4000"}}, "amazon.nova-pro-v1:0", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: tt.model, OriginModel: "gpt-4o",
				Body: adaptortest.ReadFile(t, "testdata/build/"+tt.body), Stream: tt.stream, Passthrough: tt.pass}
			got, err := a.BuildRequest(&tt.ch, req)
			if err != nil {
				t.Fatal(err)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderRequest(got), *update)
		})
	}
}

func TestBuildRequestErrors(t *testing.T) {
	a := New(Options{Now: fixedClock})
	ok := `{"messages":[{"role":"user","content":"Hi"}]}`
	tests := []struct {
		name  string
		ch    adaptors.Channel
		mode  adaptors.Mode
		model string
		body  string
		want  error
	}{
		{"embeddings", adaptors.Channel{Key: testKey}, adaptors.ModeEmbeddings, "amazon.titan-embed-text-v2:0", `{"input":"x"}`, adaptors.ErrUnsupportedMode},
		{"not_json", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0", `[1,2]`, adaptors.ErrInvalidBody},
		{"malformed", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0", `{"messages":[`, adaptors.ErrInvalidBody},
		{"no_messages", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0", `{"messages":[]}`, adaptors.ErrInvalidBody},
		{"only_system", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0", `{"messages":[{"role":"system","content":"x"}]}`, adaptors.ErrInvalidBody},
		{"bad_role", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0", `{"messages":[{"role":"robot","content":"x"}]}`, adaptors.ErrInvalidBody},
		{"http_image", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0",
			`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}`, adaptors.ErrInvalidBody},
		{"bmp_image", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0",
			`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,Qk0="}}]}]}`, adaptors.ErrInvalidBody},
		{"tool_without_id", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0",
			`{"messages":[{"role":"user","content":"x"},{"role":"tool","content":"r"}]}`, adaptors.ErrInvalidBody},
		{"bad_tool_choice", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0",
			`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}`, adaptors.ErrInvalidBody},
		{"bad_stop", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0", `{"messages":[{"role":"user","content":"x"}],"stop":5}`, adaptors.ErrInvalidBody},
		{"claude_bad_body", adaptors.Channel{Key: testKey}, adaptors.ModeChat, "claude-3-haiku-20240307", `"hello"`, adaptors.ErrInvalidBody},
		{"no_credentials", adaptors.Channel{}, adaptors.ModeChat, "amazon.nova-lite-v1:0", ok, ErrNoCredentials},
		{"short_key", adaptors.Channel{Key: "AK|SK"}, adaptors.ModeChat, "amazon.nova-lite-v1:0", ok, ErrNoCredentials},
		{"ak_without_sk", adaptors.Channel{Config: map[string]string{"region": "us-east-1", "ak": "AK"}}, adaptors.ModeChat, "amazon.nova-lite-v1:0", ok, ErrNoCredentials},
		{"config_keys_without_region", adaptors.Channel{Config: map[string]string{"ak": "AK", "sk": "SK"}}, adaptors.ModeChat, "amazon.nova-lite-v1:0", ok, ErrNoCredentials},
		{"bearer_without_region", adaptors.Channel{Key: testAPIKey}, adaptors.ModeChat, "amazon.nova-lite-v1:0", ok, ErrNoCredentials},
		{"bad_region", adaptors.Channel{Key: "AK|SK|evil.example.com/x?"}, adaptors.ModeChat, "amazon.nova-lite-v1:0", ok, ErrNoCredentials},
		{"api_key_without_region", adaptors.Channel{Config: map[string]string{"api_key": testAPIKey}}, adaptors.ModeChat, "amazon.nova-lite-v1:0", ok, adaptors.ErrNoBaseURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.BuildRequest(&tt.ch, &adaptors.Request{Mode: tt.mode, Model: tt.model, Body: []byte(tt.body)})
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestChannelAuth(t *testing.T) {
	tests := []struct {
		name string
		ch   adaptors.Channel
		want auth
	}{
		{"compact", adaptors.Channel{Key: "AK|SK|us-east-1"}, auth{region: "us-east-1", cred: credentials{AccessKey: "AK", SecretKey: "SK"}}},
		{"compact_token", adaptors.Channel{Key: "AK|SK|us-east-1|TOK"}, auth{region: "us-east-1", cred: credentials{AccessKey: "AK", SecretKey: "SK", SessionToken: "TOK"}}},
		{"compact_wins_over_config_region", adaptors.Channel{Key: "AK|SK|eu-west-1", Config: map[string]string{"region": "us-east-1"}},
			auth{region: "eu-west-1", cred: credentials{AccessKey: "AK", SecretKey: "SK"}}},
		{"config_ak_sk", adaptors.Channel{Config: map[string]string{"region": "us-east-1", "ak": "AK", "sk": "SK", "session_token": "T"}},
			auth{region: "us-east-1", cred: credentials{AccessKey: "AK", SecretKey: "SK", SessionToken: "T"}}},
		{"config_access_key", adaptors.Channel{Config: map[string]string{"region": "us-east-1", "access_key": "AK", "secret_key": "SK"}},
			auth{region: "us-east-1", cred: credentials{AccessKey: "AK", SecretKey: "SK"}}},
		{"config_api_key", adaptors.Channel{Key: "AK|SK|us-east-1", Config: map[string]string{"region": "us-west-2", "api_key": "ABSK1"}},
			auth{region: "us-west-2", bearer: "ABSK1"}},
		{"plain_key_with_region", adaptors.Channel{Key: "ABSK2", Config: map[string]string{"region": "us-west-2"}}, auth{region: "us-west-2", bearer: "ABSK2"}},
		{"plain_key_with_base_url", adaptors.Channel{Key: "ABSK3", BaseURL: "https://proxy.example.com"}, auth{bearer: "ABSK3"}},
	}
	for _, tt := range tests {
		got, err := channelAuth(&tt.ch)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(auth{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestModelID(t *testing.T) {
	for name, want := range map[string]string{
		"claude-3-haiku-20240307":                        "anthropic.claude-3-haiku-20240307-v1:0",
		"claude-3-5-sonnet-20240620":                     "anthropic.claude-3-5-sonnet-20240620-v1:0",
		"claude-3-5-sonnet-20241022":                     "anthropic.claude-3-5-sonnet-20241022-v2:0",
		"claude-3-5-haiku-20241022":                      "anthropic.claude-3-5-haiku-20241022-v1:0",
		"claude-3-7-sonnet-20250219":                     "anthropic.claude-3-7-sonnet-20250219-v1:0",
		"claude-sonnet-4-20250514":                       "anthropic.claude-sonnet-4-20250514-v1:0",
		"claude-opus-4-20250514":                         "anthropic.claude-opus-4-20250514-v1:0",
		"claude-opus-4-1-20250805":                       "anthropic.claude-opus-4-1-20250805-v1:0",
		"claude-sonnet-4-5-20250929":                     "anthropic.claude-sonnet-4-5-20250929-v1:0",
		"llama3-8b-8192":                                 "meta.llama3-8b-instruct-v1:0",
		"llama3-70b-8192":                                "meta.llama3-70b-instruct-v1:0",
		"amazon.nova-micro-v1:0":                         "amazon.nova-micro-v1:0",
		"us.anthropic.claude-3-7-sonnet-20250219-v1:0":   "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		"global.anthropic.claude-sonnet-4-5-20250929-v1": "global.anthropic.claude-sonnet-4-5-20250929-v1",
		"some-custom-model":                              "some-custom-model",
	} {
		if got := ModelID(name); got != want {
			t.Errorf("ModelID(%q) = %q, want %q", name, got, want)
		}
	}
	seen := map[string]bool{}
	for _, m := range Models() {
		if seen[m] {
			t.Errorf("Models lists %q twice", m)
		}
		seen[m] = true
		if id := ModelID(m); !strings.Contains(id, ".") {
			t.Errorf("Models entry %q maps to %q, not a Bedrock id", m, id)
		}
	}
}

func TestRouting(t *testing.T) {
	a := New(Options{Now: fixedClock})
	body := []byte(`{"messages":[{"role":"user","content":"Hi"}]}`)
	for model, want := range map[string]string{
		"claude-3-haiku-20240307":                           "/invoke",
		"eu.anthropic.claude-3-7-sonnet-20250219-v1:0":      "/invoke",
		"apac.anthropic.claude-sonnet-4-20250514-v1:0":      "/invoke",
		"global.anthropic.claude-sonnet-4-5-20250929-v1:0":  "/invoke",
		"amazon.nova-micro-v1:0":                            "/converse",
		"us.deepseek.r1-v1:0":                               "/converse",
		"llama3-70b-8192":                                   "/converse",
		"arn:aws:bedrock:us-east-1:1:inference-profile/x.y": "/converse",
	} {
		r, err := a.BuildRequest(&adaptors.Channel{Key: testKey}, &adaptors.Request{Mode: adaptors.ModeChat, Model: model, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(r.URL, want) {
			t.Errorf("%s → %s, want …%s", model, r.URL, want)
		}
	}
}

func TestInlinesImages(t *testing.T) {
	a := New(Options{})
	for body, want := range map[string]bool{
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/cat.png"}}]}]}`:          true,
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"http://x/cat.png"}]}]}`:                   true,
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`: false,
		`{"messages":[{"role":"user","content":"see https://example.com"}]}`:                                               false,
	} {
		if got := a.InlinesImages(&adaptors.Channel{}, &adaptors.Request{Mode: adaptors.ModeChat, Body: []byte(body)}); got != want {
			t.Errorf("InlinesImages(%s) = %v", body, got)
		}
	}
	if a.InlinesImages(&adaptors.Channel{}, &adaptors.Request{Mode: adaptors.ModeEmbeddings, Body: []byte(`"image_url" "https://`)}) {
		t.Error("InlinesImages true for embeddings")
	}
}
