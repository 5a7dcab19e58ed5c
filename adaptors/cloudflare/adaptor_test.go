package cloudflare

import (
	"errors"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

const (
	account = "023e105f4ecef8ad9ca31a8372d0c353"
	gateway = "https://gateway.ai.cloudflare.com/v1/" + account + "/my-gateway"
)

func TestBuildRequestGolden(t *testing.T) {
	a := New()
	direct := adaptors.Channel{Key: "cf-api-token", Config: map[string]string{"account_id": account}}
	oneAPI := adaptors.Channel{Key: "cf-api-token", Config: map[string]string{"user_id": account}}
	gw := adaptors.Channel{Key: "cf-api-token", BaseURL: gateway + "/"}
	chat := func(model string, stream bool) adaptors.Request {
		return adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Stream: stream}
	}
	tests := []struct {
		name string
		body string // file under testdata/build
		ch   adaptors.Channel
		req  adaptors.Request
	}{
		// The documented curl example: body untouched.
		{"chat", "chat.json", direct, chat("@cf/meta/llama-3.1-8b-instruct", false)},
		// One API's user_id holds the account id.
		{"chat_user_id", "chat.json", oneAPI, chat("@cf/meta/llama-3.1-8b-instruct", false)},
		// A stream asks for usage.
		{"chat_stream", "chat_stream.json", direct, chat("@cf/meta/llama-3.3-70b-instruct-fp8-fast", true)},
		// Through an AI Gateway.
		{"chat_stream_gateway", "chat_stream.json", gw, chat("@cf/meta/llama-3.3-70b-instruct-fp8-fast", true)},
		// Tools, an assistant tool-call turn and a tool result, streamed,
		// with the channel mapping the model.
		{"chat_tools_mapped", "chat_tools.json", direct, adaptors.Request{Mode: adaptors.ModeChat, Model: "@cf/qwen/qwen3-30b-a3b-fp8", OriginModel: "qwen3", Stream: true}},
		{"chat_image", "chat_image.json", direct, chat("@cf/meta/llama-4-scout-17b-16e-instruct", false)},
		{"embeddings", "embeddings.json", direct, adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "@cf/baai/bge-large-en-v1.5", OriginModel: "@cf/baai/bge-large-en-v1.5"}},
		{"responses", "responses.json", direct, adaptors.Request{Mode: adaptors.ModeResponses, Model: "@cf/openai/gpt-oss-120b", OriginModel: "@cf/openai/gpt-oss-120b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := adaptortest.ReadFile(t, "testdata/build/"+tt.body)
			req := tt.req
			req.Body = in
			got, err := a.BuildRequest(&tt.ch, &req)
			if err != nil {
				t.Fatal(err)
			}
			if !sonic.Valid(got.Body) {
				t.Fatalf("body is not valid JSON: %s", got.Body)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderRequest(got, in), *update)
		})
	}
}

func TestBuildRequestURL(t *testing.T) {
	a := New()
	chat := adaptors.Request{Mode: adaptors.ModeChat, Model: "m", OriginModel: "m", Body: []byte(`{"model":"m"}`)}
	emb := adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "m", OriginModel: "m", Body: []byte(`{"model":"m","input":"x"}`)}
	tests := []struct {
		name string
		ch   adaptors.Channel
		req  adaptors.Request
		want string
	}{
		{"default base", adaptors.Channel{Config: map[string]string{"account_id": "abc"}}, chat,
			"https://api.cloudflare.com/client/v4/accounts/abc/ai/v1/chat/completions"},
		{"account_id wins over user_id", adaptors.Channel{Config: map[string]string{"account_id": " abc ", "user_id": "old"}}, chat,
			"https://api.cloudflare.com/client/v4/accounts/abc/ai/v1/chat/completions"},
		{"user_id fallback", adaptors.Channel{Config: map[string]string{"user_id": "old"}}, emb,
			"https://api.cloudflare.com/client/v4/accounts/old/ai/v1/embeddings"},
		{"custom base", adaptors.Channel{BaseURL: "http://127.0.0.1:8080/", Config: map[string]string{"account_id": "abc"}}, chat,
			"http://127.0.0.1:8080/client/v4/accounts/abc/ai/v1/chat/completions"},
		{"account escaped", adaptors.Channel{Config: map[string]string{"account_id": "a/b"}}, chat,
			"https://api.cloudflare.com/client/v4/accounts/a%2Fb/ai/v1/chat/completions"},
		{"gateway", adaptors.Channel{BaseURL: gateway}, chat, gateway + "/workers-ai/v1/chat/completions"},
		{"gateway with provider", adaptors.Channel{BaseURL: gateway + "/workers-ai"}, emb, gateway + "/workers-ai/v1/embeddings"},
		{"gateway with provider v1", adaptors.Channel{BaseURL: gateway + "/workers-ai/v1/"}, chat, gateway + "/workers-ai/v1/chat/completions"},
		{"gateway host case", adaptors.Channel{BaseURL: "https://Gateway.AI.Cloudflare.com/v1/x/g"}, chat, "https://Gateway.AI.Cloudflare.com/v1/x/g/workers-ai/v1/chat/completions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ch.Key = "tok"
			r, err := a.BuildRequest(&tt.ch, &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != "POST" || r.URL != tt.want {
				t.Errorf("got %s %s, want POST %s", r.Method, r.URL, tt.want)
			}
			want := []adaptors.Header{{Key: "Authorization", Value: "Bearer tok"}, {Key: "Content-Type", Value: "application/json"}}
			if diff := cmp.Diff(want, r.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRequestStreamOptions(t *testing.T) {
	ch := adaptors.Channel{Key: "k", Config: map[string]string{"account_id": account}}
	req := adaptors.Request{Mode: adaptors.ModeChat, Model: "m", OriginModel: "m", Stream: true,
		Body: []byte(`{"model":"m","stream":true,"stream_options":{"include_usage":false}}`)}
	r, err := New().BuildRequest(&ch, &req)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := sonic.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"model": "m", "stream": true, "stream_options": map[string]any{"include_usage": true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestBuildRequestErrors(t *testing.T) {
	a := New()
	chat := &adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`{"model":"m"}`)}
	tests := []struct {
		name string
		ch   adaptors.Channel
		req  *adaptors.Request
		want error
	}{
		{"no account", adaptors.Channel{Key: "k"}, chat, ErrNoAccountID},
		{"blank account", adaptors.Channel{Key: "k", Config: map[string]string{"account_id": " "}}, chat, ErrNoAccountID},
		{"custom base, no account", adaptors.Channel{Key: "k", BaseURL: "https://proxy.example.com"}, chat, ErrNoAccountID},
		{"gateway over http is not a gateway", adaptors.Channel{Key: "k", BaseURL: "http://gateway.ai.cloudflare.com/v1/a/g"}, chat, ErrNoAccountID},
		{"images", adaptors.Channel{Key: "k", Config: map[string]string{"account_id": "a"}}, &adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "m", Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode},
		{"completions", adaptors.Channel{Key: "k", Config: map[string]string{"account_id": "a"}}, &adaptors.Request{Mode: adaptors.ModeCompletions, Model: "m", Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode},
		{"bad json", adaptors.Channel{Key: "k", Config: map[string]string{"account_id": "a"}}, &adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: []byte(`[1]`), Stream: true}, adaptors.ErrInvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.BuildRequest(&tt.ch, tt.req)
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestModelsRequest(t *testing.T) {
	a := New()
	tests := []struct {
		name string
		ch   adaptors.Channel
		want string
		err  error
	}{
		{"default", adaptors.Channel{Key: "tok", Config: map[string]string{"account_id": "abc"}},
			"https://api.cloudflare.com/client/v4/accounts/abc/ai/models/search?task=Text+Generation&per_page=100", nil},
		{"custom base", adaptors.Channel{Key: "tok", BaseURL: "http://127.0.0.1:9/", Config: map[string]string{"user_id": "abc"}},
			"http://127.0.0.1:9/client/v4/accounts/abc/ai/models/search?task=Text+Generation&per_page=100", nil},
		{"gateway account from URL", adaptors.Channel{Key: "tok", BaseURL: gateway + "/workers-ai"},
			"https://api.cloudflare.com/client/v4/accounts/" + account + "/ai/models/search?task=Text+Generation&per_page=100", nil},
		{"gateway account from config", adaptors.Channel{Key: "tok", BaseURL: gateway, Config: map[string]string{"account_id": "cfg"}},
			"https://api.cloudflare.com/client/v4/accounts/cfg/ai/models/search?task=Text+Generation&per_page=100", nil},
		{"no account", adaptors.Channel{Key: "tok"}, "", ErrNoAccountID},
		{"gateway URL without account", adaptors.Channel{Key: "tok", BaseURL: "https://gateway.ai.cloudflare.com/"}, "", ErrNoAccountID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := a.ModelsRequest(&tt.ch)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if r.Method != "GET" || r.URL != tt.want || len(r.Body) != 0 {
				t.Errorf("got %s %s %q, want GET %s", r.Method, r.URL, r.Body, tt.want)
			}
			if diff := cmp.Diff([]adaptors.Header{{Key: "Authorization", Value: "Bearer tok"}}, r.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseModels(t *testing.T) {
	a := New()
	got, err := a.ParseModels(adaptortest.ReadFile(t, "testdata/models/search.json"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"@cf/meta/llama-3.1-8b-instruct", "@cf/openai/gpt-oss-120b"}, got); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		"", "<html>", `[]`, `{"result":[{"name":"x"}]}`,
		`{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}`,
	} {
		if _, err := a.ParseModels([]byte(bad)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: error %v, want ErrInvalidResponse", bad, err)
		}
	}
	empty, err := a.ParseModels([]byte(`{"result":[],"success":true,"errors":[],"messages":[]}`))
	if err != nil || len(empty) != 0 {
		t.Errorf("empty list: %v %v", empty, err)
	}
}

func TestModels(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Models() {
		if seen[m] || len(m) < 5 || (m[:4] != "@cf/" && m[:4] != "@hf/") {
			t.Errorf("bad or duplicate model %q", m)
		}
		seen[m] = true
	}
}
