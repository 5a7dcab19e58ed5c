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
		if v.Type != TypeCustom && !strings.HasPrefix(v.Config.BaseURL, "https://") {
			t.Errorf("%s: default base URL %q is not https", v.Name, v.Config.BaseURL)
		}
		if strings.HasSuffix(v.Config.BaseURL, "/") {
			t.Errorf("%s: base URL ends with /", v.Name)
		}
		if v.Config.ChatPath == "" {
			t.Errorf("%s: no chat path", v.Name)
		}
		for _, p := range []string{v.Config.ChatPath, v.Config.CompletionsPath, v.Config.EmbeddingsPath, v.Config.ModelsPath} {
			if p != "" && !strings.HasPrefix(p, "/") {
				t.Errorf("%s: path %q does not start with /", v.Name, p)
			}
		}
		if v.Type != TypeCustom && len(v.Models) == 0 {
			t.Errorf("%s: no default models", v.Name)
		}
	}
	// One API's numbers for the rows the brief names; a renumbering would
	// break database imports.
	want := map[int]string{8: "Custom", 20: "OpenRouter", 25: "Moonshot", 26: "Baichuan", 27: "MiniMax", 28: "Mistral",
		29: "Groq", 31: "LingYiWanWu", 36: "DeepSeek", 39: "Together", 40: "Doubao", 44: "SiliconFlow", 45: "xAI", 100: "Perplexity"}
	got := map[int]string{}
	for _, v := range vs {
		got[v.Type] = v.Name
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
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
		}
		fmt.Fprintf(&b, "== %d %s\n", v.Type, v.Name)
		model := "m"
		if len(v.Models) > 0 {
			model = v.Models[0]
		}
		for _, mode := range []adaptors.Mode{adaptors.ModeChat, adaptors.ModeCompletions, adaptors.ModeEmbeddings} {
			req := &adaptors.Request{Mode: mode, Model: model, Stream: mode != adaptors.ModeEmbeddings,
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
		{TypeDeepSeek, "deepseek.json", "https://api.deepseek.com/user/balance", adaptors.Balance{Amount: 110, Currency: "CNY"}},
		{TypeOpenRouter, "openrouter.json", "https://openrouter.ai/api/v1/credits", adaptors.Balance{Amount: 74.75, Currency: "USD"}},
		{TypeSiliconFlow, "siliconflow.json", "https://api.siliconflow.cn/v1/user/info", adaptors.Balance{Amount: 88.88, Currency: "CNY"}},
	}
	for _, tt := range tests {
		bq, ok := vendor(t, tt.typ).New().(adaptors.BalanceQuerier)
		if !ok {
			t.Fatalf("type %d has no balance", tt.typ)
		}
		ch := &adaptors.Channel{Key: "sk-test"}
		r, err := bq.NextBalanceRequest(ch, now, nil)
		if err != nil || r.URL != tt.wantURL || r.Method != "GET" {
			t.Fatalf("type %d: request %+v %v", tt.typ, r, err)
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
		for _, bad := range []string{`<html>`, `{}`, `{"data":{"totalBalance":"x"},"balance_infos":[{"total_balance":"x"}]}`} {
			if _, err := bq.ParseBalance([][]byte{[]byte(bad)}); err == nil {
				t.Errorf("type %d: %s accepted", tt.typ, bad)
			}
		}
	}
}

func vendor(t *testing.T, typ int) Vendor {
	t.Helper()
	for _, v := range Vendors() {
		if v.Type == typ {
			return v
		}
	}
	t.Fatalf("no vendor %d", typ)
	return Vendor{}
}
