package actors

import (
	"testing"

	"switchyard/storage"
)

// The log's content line reads like One API's: ratios with four
// significant digits.
func TestRatiosContent(t *testing.T) {
	for _, c := range []struct {
		r    Ratios
		want string
	}{
		{Ratios{Model: 0.075, Completion: 4, Group: 1, Cache: 1, CacheWrite: 1}, "model ratio 0.075, completion ratio 4, group ratio 1"},
		{Ratios{Model: 1.23456, Completion: 0.5, Group: 1.5, Cache: 1, CacheWrite: 1}, "model ratio 1.235, completion ratio 0.5, group ratio 1.5"},
		{Ratios{Model: 30, Completion: 1, Group: 0, Cache: 1, CacheWrite: 1}, "model ratio 30, completion ratio 1, group ratio 0"},
		{Ratios{Model: 123456, Completion: 1e-5, Group: 2, Cache: 1, CacheWrite: 1}, "model ratio 1.235e+05, completion ratio 1e-05, group ratio 2"},
	} {
		if got := c.r.Content(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}

// Cache reads and writes are priced apart only when the operator sets
// CacheRatio or CreateCacheRatio for the model; unset, every prompt token
// costs the same.
func TestCacheRatios(t *testing.T) {
	p, errs := NewPricing(map[string]string{
		OptModelRatio:       `{"claude-x":1.5,"plain":1.5}`,
		OptCompletionRatio:  `{"claude-x":5,"plain":5}`,
		OptCacheRatio:       `{"claude-x":0.1}`,
		OptCreateCacheRatio: `{"claude-x":1.25}`,
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	claude, plain := p.For("claude-x", "default"), p.For("plain", "default")
	if plain.Cache != 1 || plain.CacheWrite != 1 || claude.Cache != 0.1 || claude.CacheWrite != 1.25 {
		t.Fatalf("ratios %+v %+v", claude, plain)
	}
	for _, c := range []struct {
		r                                   Ratios
		prompt, cached, written, completion int
		want                                int64
	}{
		// (1000 − 600 − 200 + 600×0.1 + 200×1.25 + 100×5) × 1.5 = (200+60+250+500)×1.5 = 1515
		{claude, 1000, 600, 200, 100, 1515},
		{claude, 1000, 0, 0, 100, 2250}, // no cache: Quota
		{plain, 1000, 600, 200, 100, 2250},
		// A malformed usage (cache parts above the prompt) falls back to Quota.
		{claude, 100, 600, 200, 10, 225},
		{claude, 0, 0, 0, 0, 0},
	} {
		got := c.r.QuotaCached(c.prompt, c.cached, c.written, c.completion)
		if got != c.want {
			t.Errorf("%+v QuotaCached(%d,%d,%d,%d) = %d, want %d", c.r, c.prompt, c.cached, c.written, c.completion, got, c.want)
		}
		if c.cached == 0 && c.written == 0 && got != c.r.Quota(c.prompt, c.completion) {
			t.Errorf("without cache QuotaCached differs from Quota")
		}
	}
	if got := claude.Content(); got != "model ratio 1.5, completion ratio 5, group ratio 1, cache ratio 0.1, cache write ratio 1.25" {
		t.Errorf("content %q", got)
	}
	if _, errs := NewPricing(map[string]string{OptCacheRatio: `{"m":-1}`}); len(errs) == 0 {
		t.Error("negative cache ratio accepted")
	}
}

// A channel's config reaches adaptors as strings: nested objects (a
// service-account key, a deployment map) as JSON text, not Go's map
// syntax; One API's "other" field as Config["other"].
func TestChannelInfoConfig(t *testing.T) {
	ci, err := NewChannelInfo(&storage.Channel{
		ID: 1, Type: 42, Key: "k", Status: storage.ChannelEnabled, Models: "m", Group: "default",
		Config: `{"region":"us-east5","max":8,"vertex_ai_adc":{"type":"service_account","project_id":"p"},"list":["a",1]}`,
		Other:  "2024-10-21",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"region": "us-east5", "max": "8", "other": "2024-10-21",
		"vertex_ai_adc": `{"type":"service_account","project_id":"p"}`, "list": `["a",1]`,
	}
	for k, v := range want {
		if got := ci.Config[k]; got != v {
			t.Errorf("Config[%q] = %q, want %q", k, got, v)
		}
	}
	// An explicit config "other" wins over the field.
	ci, _ = NewChannelInfo(&storage.Channel{ID: 2, Type: 3, Key: "k", Models: "m", Config: `{"other":"x"}`, Other: "y"})
	if ci.Config["other"] != "x" {
		t.Errorf("other %q", ci.Config["other"])
	}
}

// What makes an upstream failure count toward disabling a channel.
func TestAutoDisableFatal(t *testing.T) {
	p, _ := NewPricing(nil)
	ad := p.AutoDisable
	for _, c := range []struct {
		status        int
		code, message string
		want          bool
	}{
		{401, "", "bad key", true}, // status list
		{429, "insufficient_quota", "You exceeded your current quota, please check your plan and billing details.", true},
		// Gemini's per-minute limit, worded like OpenAI's exhausted credit.
		{429, "rate_limit_exceeded", "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.", false},
		{429, "", "Rate limit reached for requests", false},
		{400, "invalid_api_key", "API key not valid. Please pass a valid API key.", true}, // Gemini
		{400, "", "Your credit balance is too low to access the Anthropic API.", true},    // keyword
		{400, "", "max_tokens: 100000 > 64000", false},
		{500, "", "internal error", false},
	} {
		if got, _ := ad.Fatal(c.status, c.code, c.message); got != c.want {
			t.Errorf("Fatal(%d, %q, %q) = %v, want %v", c.status, c.code, c.message, got, c.want)
		}
	}
}
