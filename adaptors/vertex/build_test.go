package vertex

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// TestBuildRequestGolden builds each scenario from an OpenAI body of
// testdata/build and keeps the whole upstream request (request line,
// headers, indented body) in testdata/build/<name>.golden.
func TestBuildRequestGolden(t *testing.T) {
	a := New()
	def := testChannel(t, nil)
	tests := []struct {
		name  string
		input string
		ch    adaptors.Channel
		req   adaptors.Request
	}{
		{"gemini_chat", "chat_basic.json", def,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash"}},
		{"gemini_chat_stream", "chat_basic.json", def,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash", Stream: true, IncludeUsage: true}},
		{"gemini_global_safety_project", "chat_basic.json",
			testChannel(t, map[string]string{"region": "global", "vertex_ai_project_id": "other-project", "safety_settings": "BLOCK_ONLY_HIGH"}),
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-3-pro-preview", OriginModel: "gemini-pro"}},
		{"gemini_base_url", "chat_basic.json",
			adaptors.Channel{Key: "not-json", BaseURL: "https://vertex-proxy.example.com/google/v1/", AccessToken: testToken,
				Config: map[string]string{"vertex_ai_adc": testKey(t), "region": "europe-west4"}},
			adaptors.Request{Mode: adaptors.ModeChat, Model: "models/gemini-2.5-flash-lite", OriginModel: "gemini-2.5-flash-lite", Stream: true}},
		{"gemini_tools", "chat_tools.json", def,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-pro", OriginModel: "gemini-2.5-pro"}},
		{"gemini_image", "chat_image.json", def,
			adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", OriginModel: "gemini-2.5-flash"}},
		{"claude_chat_model_region", "chat_basic.json",
			testChannel(t, map[string]string{"model_regions": `{"claude-sonnet-4-5-20250929":"us-east5","gemini-2.5-flash":"global"}`}),
			adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-sonnet-4-5-20250929", OriginModel: "claude-sonnet-4-5"}},
		{"claude_chat_stream_beta", "chat_basic.json",
			testChannel(t, map[string]string{"region": "europe-west1", "max_tokens": "2048"}),
			adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-3-5-sonnet-20241022", OriginModel: "claude-3-5-sonnet-20241022", Stream: true, IncludeUsage: true,
				Passthrough: []adaptors.Header{{Key: "anthropic-version", Value: "2023-06-01"}, {Key: "anthropic-beta", Value: "token-efficient-tools-2025-02-19, context-1m-2025-08-07"}}}},
		{"claude_tools", "chat_tools.json", testChannel(t, map[string]string{"region": "us-east5"}),
			adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-opus-4-6", OriginModel: "claude-opus-4-6", Stream: true}},
		{"claude_image", "chat_image.json", testChannel(t, map[string]string{"region": "us"}),
			adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-haiku-4-5@20251001", OriginModel: "claude-haiku-4-5"}},
		{"embed_predict", "embed.json", testChannel(t, map[string]string{"region": "us-central1"}),
			adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005", OriginModel: "text-embedding-005"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Body = adaptortest.ReadFile(t, "testdata/build/"+tt.input)
			got, err := a.BuildRequest(&tt.ch, &req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			if err := json.Unmarshal(got.Body, &body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if _, ok := body["model"]; ok {
				t.Errorf("the model is in the body: %s", got.Body)
			}
			adaptortest.Golden(t, "testdata/build/"+tt.name+".golden", renderRequest(got), *update)
		})
	}
}

// TestBuildURL checks how the location, project and origin are chosen.
func TestBuildURL(t *testing.T) {
	key := testKey(t)
	tests := []struct {
		name    string
		ch      adaptors.Channel
		model   string
		stream  bool
		want    string
		wantErr string
	}{
		{"defaults", adaptors.Channel{Key: key}, "gemini-2.5-flash", false,
			"https://us-central1-aiplatform.googleapis.com/v1/projects/switchyard-test/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent", ""},
		{"region", adaptors.Channel{Key: key, Config: map[string]string{"region": " asia-northeast1 "}}, "gemini-2.5-flash", true,
			"https://asia-northeast1-aiplatform.googleapis.com/v1/projects/switchyard-test/locations/asia-northeast1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse", ""},
		{"global", adaptors.Channel{Key: key, Config: map[string]string{"region": "global"}}, "claude-opus-4-6", true,
			"https://aiplatform.googleapis.com/v1/projects/switchyard-test/locations/global/publishers/anthropic/models/claude-opus-4-6:streamRawPredict", ""},
		{"eu_multiregion", adaptors.Channel{Key: key, Config: map[string]string{"region": "eu"}}, "claude-sonnet-4-20250514", false,
			"https://aiplatform.eu.rep.googleapis.com/v1/projects/switchyard-test/locations/eu/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict", ""},
		{"project_id_alt", adaptors.Channel{Key: key, Config: map[string]string{"project_id": "alt-project"}}, "gemini-2.5-pro", false,
			"https://us-central1-aiplatform.googleapis.com/v1/projects/alt-project/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent", ""},
		{"project_config_wins", adaptors.Channel{Key: key, Config: map[string]string{"vertex_ai_project_id": "first", "project_id": "second"}}, "gemini-2.5-pro", false,
			"https://us-central1-aiplatform.googleapis.com/v1/projects/first/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent", ""},
		{"project_without_key", adaptors.Channel{Key: "placeholder", Config: map[string]string{"vertex_ai_project_id": "p1"}}, "gemini-2.5-pro", false,
			"https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent", ""},
		{"model_region_by_vertex_id", adaptors.Channel{Key: key, Config: map[string]string{"region": "us-central1", "model_regions": `{"claude-opus-4-1@20250805":"europe-west1"}`}}, "claude-opus-4-1", false,
			"https://europe-west1-aiplatform.googleapis.com/v1/projects/switchyard-test/locations/europe-west1/publishers/anthropic/models/claude-opus-4-1@20250805:rawPredict", ""},
		{"model_region_other_model", adaptors.Channel{Key: key, Config: map[string]string{"region": "us-east5", "model_regions": `{"gemini-2.5-pro":"global"}`}}, "claude-opus-4-6", false,
			"https://us-east5-aiplatform.googleapis.com/v1/projects/switchyard-test/locations/us-east5/publishers/anthropic/models/claude-opus-4-6:rawPredict", ""},
		{"base_url", adaptors.Channel{Key: key, BaseURL: "http://127.0.0.1:9000/", Config: map[string]string{"region": "us-east5"}}, "gemini-2.5-flash", false,
			"http://127.0.0.1:9000/v1/projects/switchyard-test/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent", ""},
		{"base_url_template", adaptors.Channel{Key: key, BaseURL: "https://vertex-{region}.proxy.example.com", Config: map[string]string{"region": "us-east5"}}, "gemini-2.5-flash", false,
			"https://vertex-us-east5.proxy.example.com/v1/projects/switchyard-test/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent", ""},
		{"base_url_default", adaptors.Channel{Key: key, BaseURL: DefaultBaseURL + "/", Config: map[string]string{"region": "global"}}, "gemini-2.5-flash", false,
			"https://aiplatform.googleapis.com/v1/projects/switchyard-test/locations/global/publishers/google/models/gemini-2.5-flash:generateContent", ""},
		{"escaped_model", adaptors.Channel{Key: key}, "tuned/model?x", false,
			"https://us-central1-aiplatform.googleapis.com/v1/projects/switchyard-test/locations/us-central1/publishers/google/models/tuned%2Fmodel%3Fx:generateContent", ""},
		{"bad_region", adaptors.Channel{Key: key, Config: map[string]string{"region": "evil.com/x"}}, "gemini-2.5-flash", false, "", "is not a Vertex AI location name"},
		{"bad_model_regions", adaptors.Channel{Key: key, Config: map[string]string{"model_regions": `["us-east5"]`}}, "gemini-2.5-flash", false, "", "model_regions is not a JSON object"},
		{"bad_base_url", adaptors.Channel{Key: key, BaseURL: "ftp://x"}, "gemini-2.5-flash", false, "", "is not an http(s) URL"},
		{"no_project", adaptors.Channel{Key: "placeholder"}, "gemini-2.5-flash", false, "", "no project"},
		{"bad_project", adaptors.Channel{Key: key, Config: map[string]string{"vertex_ai_project_id": "a/b"}}, "gemini-2.5-flash", false, "", "is not a project id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := tt.ch
			ch.AccessToken = testToken
			req := chatReq(tt.model, tt.stream, false)
			req.Body = []byte(`{"messages":[{"role":"user","content":"hi"}]}`)
			got, err := New().BuildRequest(&ch, req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != tt.want {
				t.Errorf("URL\n got %s\nwant %s", got.URL, tt.want)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	a := New()
	tests := []struct {
		name string
		ch   adaptors.Channel
		req  adaptors.Request
		want error
		text string
	}{
		{"unsupported_mode", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "imagen-4.0-generate-001", Body: []byte(`{}`)}, adaptors.ErrUnsupportedMode, ""},
		{"claude_embeddings", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "claude-opus-4-6", Body: []byte(`{"input":"x"}`)}, adaptors.ErrUnsupportedMode, ""},
		{"gemini_not_json", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", Body: []byte(`[1]`)}, adaptors.ErrInvalidBody, ""},
		{"claude_not_json", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeChat, Model: "claude-opus-4-6", Body: []byte(`{"messages":`)}, adaptors.ErrInvalidBody, ""},
		{"embed_tokens", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005", Body: []byte(`{"input":[[1,2,3]]}`)}, adaptors.ErrInvalidBody, "token arrays"},
		{"embed_empty", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005", Body: []byte(`{"input":[]}`)}, adaptors.ErrInvalidBody, "must not be empty"},
		{"embed_missing", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005", Body: []byte(`{"model":"x"}`)}, adaptors.ErrInvalidBody, "input: field required"},
		{"embed_dims", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-005", Body: []byte(`{"input":"x","dimensions":0}`)}, adaptors.ErrInvalidBody, "dimensions"},
		{"bad_safety", testChannel(t, map[string]string{"safety_settings": "BLOCK_EVERYTHING"}), adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}, nil, "HarmBlockThreshold"},
		{"no_token", adaptors.Channel{Key: testKey(t)}, adaptors.Request{Mode: adaptors.ModeChat, Model: "gemini-2.5-flash", Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}, nil, "no access token"},
		{"no_model", testChannel(t, nil), adaptors.Request{Mode: adaptors.ModeChat, Model: "", Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}, adaptors.ErrInvalidBody, "no model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.BuildRequest(&tt.ch, &tt.req)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err %v, want it to say %q", err, tt.text)
			}
		})
	}
}

func TestModelID(t *testing.T) {
	tests := map[string]string{
		"claude-3-5-sonnet-20241022":    "claude-3-5-sonnet-v2@20241022",
		"claude-3-5-sonnet-20240620":    "claude-3-5-sonnet@20240620",
		"claude-sonnet-4-20250514":      "claude-sonnet-4@20250514",
		"claude-opus-4-20250514":        "claude-opus-4@20250514",
		"claude-opus-4-1-20250805":      "claude-opus-4-1@20250805",
		"claude-sonnet-4-5-20250929":    "claude-sonnet-4-5@20250929",
		"claude-haiku-4-5-20251001":     "claude-haiku-4-5@20251001",
		"claude-opus-4-5-20251101":      "claude-opus-4-5@20251101",
		"claude-3-7-sonnet-20250219":    "claude-3-7-sonnet@20250219",
		"claude-3-haiku-20240307":       "claude-3-haiku@20240307",
		"claude-sonnet-4-5":             "claude-sonnet-4-5@20250929",
		"claude-opus-4-0":               "claude-opus-4@20250514",
		"claude-3-5-sonnet-latest":      "claude-3-5-sonnet-v2@20241022",
		"claude-future-9-20300101":      "claude-future-9@20300101", // dated names follow the rule
		"claude-opus-4-6":               "claude-opus-4-6",          // undated ids are Vertex AI's own
		"claude-sonnet-4-6":             "claude-sonnet-4-6",
		"claude-3-5-sonnet-v2@20241022": "claude-3-5-sonnet-v2@20241022",
		"claude-custom@2025":            "claude-custom@2025",
		"gemini-2.5-flash":              "gemini-2.5-flash",
		"text-embedding-20250101":       "text-embedding-20250101", // not Claude
		"claude-x-2025010":              "claude-x-2025010",        // 7 digits: no date
		"claude":                        "claude",
		"":                              "",
	}
	for in, want := range tests {
		if got := ModelID(in); got != want {
			t.Errorf("ModelID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestModels: every listed Claude name maps to an id with "@" or an
// undated id, and the list has no duplicates.
func TestModels(t *testing.T) {
	seen := map[string]bool{}
	claude := 0
	for _, m := range Models() {
		if seen[m] {
			t.Errorf("duplicate %s", m)
		}
		seen[m] = true
		if isClaude(m) {
			claude++
			dated := len(m) > 9 && allDigits(m[len(m)-8:])
			if id := ModelID(m); dated && !strings.Contains(id, "@") {
				t.Errorf("%s maps to %s, not a dated Vertex AI id", m, id)
			}
		}
	}
	if claude == 0 || len(Models()) == claude {
		t.Errorf("Models() = %v, want Claude and Gemini models", Models())
	}
	Models()[0] = "changed"
	if Models()[0] == "changed" {
		t.Error("Models() shares its slice")
	}
}

// TestBuildClaudeBody checks the members Vertex AI requires of a Claude
// body, streamed or not.
func TestBuildClaudeBody(t *testing.T) {
	for _, stream := range []bool{false, true} {
		ch := testChannel(t, nil)
		req := chatReq("claude-sonnet-4-5-20250929", stream, false)
		req.Body = []byte(`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}],"stream":true}`)
		got, err := New().BuildRequest(&ch, req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(got.Body, &body); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"anthropic_version": "vertex-2023-10-16",
			"max_tokens":        float64(64000),
			"messages":          []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "hi"}}}},
		}
		if stream {
			want["stream"] = true
		}
		if diff := cmp.Diff(want, body); diff != "" {
			t.Errorf("stream=%v (-want +got):\n%s", stream, diff)
		}
		for _, h := range got.Header {
			if strings.EqualFold(h.Key, "anthropic-version") || strings.EqualFold(h.Key, "x-goog-user-project") {
				t.Errorf("unexpected header %s", h.Key)
			}
		}
	}
}

func TestBetas(t *testing.T) {
	req := &adaptors.Request{Passthrough: []adaptors.Header{
		{Key: "Anthropic-Beta", Value: "a, b"}, {Key: "anthropic-version", Value: "2023-06-01"}, {Key: "anthropic-beta", Value: "b,,c "},
	}}
	if got := betas(req); got != "a,b,c" {
		t.Errorf("betas = %q", got)
	}
	if got := betas(&adaptors.Request{}); got != "" {
		t.Errorf("betas = %q", got)
	}
}

func TestInlinesImages(t *testing.T) {
	a := New()
	tests := []struct {
		mode adaptors.Mode
		body string
		want bool
	}{
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`, true},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http:\/\/example.com\/a.png"}}]}]}`, true},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`, false},
		{adaptors.ModeChat, `{"messages":[{"role":"user","content":"see https://example.com"}]}`, false},
		{adaptors.ModeEmbeddings, `{"input":"image_url https://x"}`, false},
	}
	for _, tt := range tests {
		req := &adaptors.Request{Mode: tt.mode, Model: "gemini-2.5-flash", Body: []byte(tt.body)}
		if got := a.InlinesImages(&adaptors.Channel{}, req); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.body, got, tt.want)
		}
	}
}

// TestBuildDoesNotTouchRequest: the client's body is read-only.
func TestBuildDoesNotTouchRequest(t *testing.T) {
	body := adaptortest.ReadFile(t, "testdata/build/chat_tools.json")
	orig := bytes.Clone(body)
	for _, model := range []string{"gemini-2.5-pro", "claude-opus-4-6"} {
		ch := testChannel(t, nil)
		req := chatReq(model, true, true)
		req.Body = body
		if _, err := New().BuildRequest(&ch, req); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, orig) || req.Model != model {
			t.Fatalf("%s: the request was modified", model)
		}
	}
}
