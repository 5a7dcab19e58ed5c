package openaicompat

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/openai"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestTableInvariants(t *testing.T) {
	vs := Vendors()
	if !sort.SliceIsSorted(vs, func(i, j int) bool { return vs[i].Type < vs[j].Type }) {
		t.Error("table not sorted by type")
	}
	seen := map[int]bool{}
	for _, v := range vs {
		if seen[v.Type] {
			t.Errorf("duplicate type %d", v.Type)
		}
		seen[v.Type] = true
		if v.Name == "" || v.Config.Name == "" || v.Docs == "" {
			t.Errorf("type %d: missing name or docs", v.Type)
		}
		if !userBase(v) && !strings.HasPrefix(v.Config.BaseURL, "https://") {
			t.Errorf("%s: default base URL %q is not https", v.Name, v.Config.BaseURL)
		}
		if strings.HasSuffix(v.Config.BaseURL, "/") {
			t.Errorf("%s: base URL ends with /", v.Name)
		}
		if v.Config.ChatPath == "" {
			t.Errorf("%s: no chat path", v.Name)
		}
		c := v.Config
		for _, p := range []string{c.ChatPath, c.CompletionsPath, c.EmbeddingsPath, c.ModelsPath, c.ImagesGenerationsPath, c.ImagesEditsPath,
			c.ImagesVariationsPath, c.AudioSpeechPath, c.AudioTranscriptionsPath, c.AudioTranslationsPath, c.ModerationsPath, c.RerankPath, c.ResponsesPath} {
			if p != "" && !strings.HasPrefix(p, "/") {
				t.Errorf("%s: path %q does not start with /", v.Name, p)
			}
		}
		if !userBase(v) && len(v.Models) == 0 {
			t.Errorf("%s: no default models", v.Name)
		}
	}
	// One API's numbers for the rows the brief names; a renumbering would
	// break database imports.
	// Names are One API's channel type names (registry.ChannelTypeName).
	want := map[int]string{8: "Custom", 19: "360", 20: "OpenRouter", 25: "Moonshot", 26: "Baichuan", 27: "MiniMax", 28: "Mistral",
		29: "Groq", 31: "LingYiWanWu", 32: "StepFun", 36: "DeepSeek", 39: "Together", 40: "Doubao", 41: "Novita", 44: "SiliconFlow",
		45: "xAI", 48: "XunfeiV2", 50: "OpenAICompatible", 51: "GeminiOpenAICompatible", 100: "Perplexity"}
	got := map[int]string{}
	for _, v := range vs {
		got[v.Type] = v.Name
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
}

// userBase reports whether the row's base URL is the operator's to give
// (Custom and OpenAICompatible have no default).
func userBase(v Vendor) bool {
	return v.Type == TypeCustom || v.Type == TypeOpenAICompatible
}

// TestCapabilitiesKept: wrapping a quirky row keeps exactly the optional
// capabilities the openai adaptor of its configuration has.
func TestCapabilitiesKept(t *testing.T) {
	for _, v := range Vendors() {
		plain, wrapped := openai.New(v.Config), v.New()
		for _, c := range []struct {
			name string
			has  func(adaptors.Adaptor) bool
		}{
			{"ModelLister", func(a adaptors.Adaptor) bool { _, ok := a.(adaptors.ModelLister); return ok }},
			{"BalanceQuerier", func(a adaptors.Adaptor) bool { _, ok := a.(adaptors.BalanceQuerier); return ok }},
			{"TypedResponseParser", func(a adaptors.Adaptor) bool { _, ok := a.(adaptors.TypedResponseParser); return ok }},
			{"ImageInliner", func(a adaptors.Adaptor) bool { _, ok := a.(adaptors.ImageInliner); return ok }},
		} {
			if c.has(plain) != c.has(wrapped) {
				t.Errorf("%s: %s: openai %v, row %v", v.Name, c.name, c.has(plain), c.has(wrapped))
			}
		}
	}
}

// TestRequestsGolden records, for every vendor and mode, the upstream URL
// and headers (or why the mode is refused) and the body a stream request
// becomes, so a change to any row shows up in review.
func TestRequestsGolden(t *testing.T) {
	var b strings.Builder
	for _, v := range Vendors() {
		a := v.New()
		ch := &adaptors.Channel{Type: v.Type, Key: "sk-test", Config: map[string]string{"http_referer": "https://switchyard.example", "x_title": "Switchyard"}}
		if v.Config.BaseURL == "" {
			ch.BaseURL = "https://llm.internal.example/"
			if v.Type == TypeOpenAICompatible {
				ch.BaseURL = "https://llm.internal.example/v1/" // type 50's paths carry no /v1
			}
		}
		fmt.Fprintf(&b, "== %d %s\n", v.Type, v.Name)
		model := "m"
		if len(v.Models) > 0 {
			model = v.Models[0]
		}
		for _, mode := range []adaptors.Mode{adaptors.ModeChat, adaptors.ModeCompletions, adaptors.ModeEmbeddings,
			adaptors.ModeImagesGenerations, adaptors.ModeRerank} {
			req := &adaptors.Request{Mode: mode, Model: model, Stream: mode == adaptors.ModeChat || mode == adaptors.ModeCompletions,
				Body: []byte(`{"model":"` + model + `","stream":true,"stream_options":{"include_usage":false}}`)}
			r, err := a.BuildRequest(ch, req)
			if err != nil {
				fmt.Fprintf(&b, "%s: %v\n", mode, err)
				continue
			}
			fmt.Fprintf(&b, "%s: %s %s\n", mode, r.Method, r.URL)
			for _, h := range r.Header[1:] { // [0] is the Authorization header, checked below
				fmt.Fprintf(&b, "  %s: %s\n", h.Key, h.Value)
			}
			fmt.Fprintf(&b, "  body: %s\n", r.Body)
			if r.Header[0] != (adaptors.Header{Key: "Authorization", Value: "Bearer sk-test"}) {
				t.Errorf("%s: first header %v", v.Name, r.Header[0])
			}
		}
		_, models := a.(adaptors.ModelLister)
		_, balance := a.(adaptors.BalanceQuerier)
		fmt.Fprintf(&b, "capabilities: models=%v balance=%v\n", models, balance)
	}
	adaptortest.Golden(t, "testdata/requests.golden", []byte(b.String()), *update)
}

func TestDoubaoBotRoute(t *testing.T) {
	a := vendor(t, TypeDoubao).New()
	r, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, &adaptors.Request{Mode: adaptors.ModeChat, Model: "bot-20241220175043-abcde", Body: []byte(`{"model":"bot-20241220175043-abcde"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if r.URL != "https://ark.cn-beijing.volces.com/api/v3/bots/chat/completions" {
		t.Errorf("URL = %s", r.URL)
	}
}

func TestBalances(t *testing.T) {
	now := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		typ     int
		file    string
		wantURL string
		want    adaptors.Balance
	}{
		{TypeOpenRouter, "openrouter.json", "https://openrouter.ai/api/v1/credits", adaptors.Balance{Amount: 74.75, Currency: "USD"}},
		{TypeMoonshot, "moonshot.json", "https://api.moonshot.cn/v1/users/me/balance", adaptors.Balance{Amount: 49.58894, Currency: "CNY"}},
		{TypeStepFun, "stepfun.json", "https://api.stepfun.com/v1/accounts", adaptors.Balance{Amount: 120.36, Currency: "CNY"}},
		{TypeDeepSeek, "deepseek.json", "https://api.deepseek.com/user/balance", adaptors.Balance{Amount: 110, Currency: "CNY"}},
		{TypeSiliconFlow, "siliconflow.json", "https://api.siliconflow.cn/v1/user/info", adaptors.Balance{Amount: 88.88, Currency: "CNY"}},
	}
	var golden strings.Builder
	for _, tt := range tests {
		v := vendor(t, tt.typ)
		bq, ok := v.New().(adaptors.BalanceQuerier)
		if !ok {
			t.Fatalf("type %d has no balance", tt.typ)
		}
		ch := &adaptors.Channel{Key: "sk-test"}
		r, err := bq.NextBalanceRequest(ch, now, nil)
		if err != nil || r.URL != tt.wantURL || r.Method != "GET" {
			t.Fatalf("type %d: request %+v %v", tt.typ, r, err)
		}
		if r.Header[0] != (adaptors.Header{Key: "Authorization", Value: "Bearer sk-test"}) {
			t.Errorf("type %d: auth header %v", tt.typ, r.Header)
		}
		answers := [][]byte{adaptortest.ReadFile(t, "testdata/balance/"+tt.file)}
		if r, err := bq.NextBalanceRequest(ch, now, answers); r != nil || err != nil {
			t.Fatalf("type %d: expected one step, got %+v %v", tt.typ, r, err)
		}
		got, err := bq.ParseBalance(answers)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("type %d (-want +got):\n%s", tt.typ, diff)
		}
		fmt.Fprintf(&golden, "%s: %s %s → %v %s\n", v.Name, r0(bq, ch, now).Method, r0(bq, ch, now).URL, got.Amount, got.Currency)
		for _, bad := range []string{`<html>`, `{}`, `{"data":{"totalBalance":"x","available_balance":"x"},"balance_infos":[{"total_balance":"x"}],"balance":"x"}`} {
			if _, err := bq.ParseBalance([][]byte{[]byte(bad)}); err == nil {
				t.Errorf("type %d: %s accepted", tt.typ, bad)
			}
		}
		if _, err := bq.ParseBalance(nil); err == nil {
			t.Errorf("type %d: no answers accepted", tt.typ)
		}
	}
	adaptortest.Golden(t, "testdata/balance.golden", []byte(golden.String()), *update)
}

// r0 is the first balance request.
func r0(bq adaptors.BalanceQuerier, ch *adaptors.Channel, now time.Time) *adaptors.HTTPRequest {
	r, _ := bq.NextBalanceRequest(ch, now, nil)
	return r
}

// TestBalanceBaseURL: the channel's base URL replaces the host of the
// balance call too (the international Moonshot host, for one).
func TestBalanceBaseURL(t *testing.T) {
	bq := vendor(t, TypeMoonshot).New().(adaptors.BalanceQuerier)
	r, err := bq.NextBalanceRequest(&adaptors.Channel{Key: "k", BaseURL: "https://api.moonshot.ai/"}, time.Now(), nil)
	if err != nil || r.URL != "https://api.moonshot.ai/v1/users/me/balance" {
		t.Fatalf("%+v %v", r, err)
	}
}

func vendor(t testing.TB, typ int) Vendor {
	t.Helper()
	for _, v := range Vendors() {
		if v.Type == typ {
			return v
		}
	}
	t.Fatalf("no vendor %d", typ)
	return Vendor{}
}
