package openai

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
)

func TestCapabilitiesFollowConfig(t *testing.T) {
	tests := []struct {
		name                string
		cfg                 Config
		wantModels, wantBal bool
	}{
		{"openai", OpenAIConfig(), true, true},
		{"none", Config{Name: "x", ChatPath: "/c"}, false, false},
		{"models only", Config{Name: "x", ModelsPath: "/v1/models"}, true, false},
		{"balance only", Config{Name: "x", Balance: DashboardBalance{}}, false, true},
	}
	for _, tt := range tests {
		a := New(tt.cfg)
		_, models := a.(adaptors.ModelLister)
		_, bal := a.(adaptors.BalanceQuerier)
		if models != tt.wantModels || bal != tt.wantBal {
			t.Errorf("%s: ModelLister=%v BalanceQuerier=%v, want %v %v", tt.name, models, bal, tt.wantModels, tt.wantBal)
		}
	}
}

func TestModels(t *testing.T) {
	ml := New(OpenAIConfig()).(adaptors.ModelLister)
	req, err := ml.ModelsRequest(&adaptors.Channel{Key: "sk-test", Config: map[string]string{"organization": "org-1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &adaptors.HTTPRequest{Method: "GET", URL: "https://api.openai.com/v1/models", Header: []adaptors.Header{
		{Key: "Authorization", Value: "Bearer sk-test"}, {Key: "OpenAI-Organization", Value: "org-1"},
	}}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, body string
		want       []string
		wantErr    bool
	}{
		{"openai", `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"}]}`,
			[]string{"gpt-4o", "text-embedding-3-small"}, false},
		{"together bare array", `[{"id":"meta-llama/Llama-3.3-70B-Instruct-Turbo","object":"model","type":"chat"}]`,
			[]string{"meta-llama/Llama-3.3-70B-Instruct-Turbo"}, false},
		{"empty", `{"object":"list","data":[]}`, []string{}, false},
		{"html", `<html>`, nil, true},
	}
	for _, tt := range tests {
		got, err := ml.ParseModels([]byte(tt.body))
		if (err != nil) != tt.wantErr {
			t.Fatalf("%s: err = %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDashboardBalance(t *testing.T) {
	bq := New(OpenAIConfig()).(adaptors.BalanceQuerier)
	ch := &adaptors.Channel{Key: "sk-test"}
	now := time.Date(2025, 3, 17, 10, 0, 0, 0, time.UTC)

	tests := []struct {
		name     string
		sub      string
		wantPath string
		usage    string
		want     adaptors.Balance
	}{
		{"paid: this month", `{"object":"billing_subscription","has_payment_method":true,"soft_limit_usd":100.0,"hard_limit_usd":120.0,"system_hard_limit_usd":120.0,"access_until":1899000000}`,
			"https://api.openai.com/v1/dashboard/billing/usage?start_date=2025-03-01&end_date=2025-03-17",
			`{"object":"list","total_usage":1234.5}`, adaptors.Balance{Amount: 120 - 12.345, Currency: "USD"}},
		{"grant: last 100 days", `{"object":"billing_subscription","has_payment_method":false,"hard_limit_usd":18.0}`,
			"https://api.openai.com/v1/dashboard/billing/usage?start_date=2024-12-07&end_date=2025-03-17",
			`{"object":"list","total_usage":300}`, adaptors.Balance{Amount: 15, Currency: "USD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, err := bq.NextBalanceRequest(ch, now, nil)
			if err != nil || r1.URL != "https://api.openai.com/v1/dashboard/billing/subscription" || r1.Method != "GET" {
				t.Fatalf("step 1: %+v %v", r1, err)
			}
			answers := [][]byte{[]byte(tt.sub)}
			r2, err := bq.NextBalanceRequest(ch, now, answers)
			if err != nil || r2.URL != tt.wantPath {
				t.Fatalf("step 2: %+v %v", r2, err)
			}
			answers = append(answers, []byte(tt.usage))
			if r3, err := bq.NextBalanceRequest(ch, now, answers); r3 != nil || err != nil {
				t.Fatalf("step 3 should end: %+v %v", r3, err)
			}
			got, err := bq.ParseBalance(answers)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("balance (-want +got):\n%s", diff)
			}
		})
	}

	if _, err := bq.NextBalanceRequest(ch, now, [][]byte{[]byte("<html>")}); !errors.Is(err, adaptors.ErrInvalidResponse) {
		t.Errorf("bad subscription: err = %v", err)
	}
	if _, err := bq.ParseBalance([][]byte{[]byte(`{}`)}); err == nil {
		t.Errorf("one answer must be an error")
	}
}
