package actors

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bytedance/sonic"
)

// Option names read by the pricing (One API's keys; values are JSON
// strings or numbers as strings).
const (
	OptModelRatio      = "ModelRatio"
	OptCompletionRatio = "CompletionRatio"
	// OptCacheRatio prices prompt tokens read from a provider's prompt
	// cache, per model, relative to other prompt tokens (new-api's name);
	// OptCreateCacheRatio prices prompt tokens written to it (Anthropic's
	// cache_creation_input_tokens). Missing models: 1, i.e. priced as any
	// prompt token unless the operator sets them.
	OptCacheRatio       = "CacheRatio"
	OptCreateCacheRatio = "CreateCacheRatio"
	OptGroupRatio       = "GroupRatio"
	OptQuotaPerUnit     = "QuotaPerUnit"
	OptDefaultMaxToken  = "DefaultMaxTokens"
	OptRetryTimes       = "RetryTimes"
	// OptRetryStatusCodes lists the upstream statuses that make the relay
	// try another channel (StatusRanges syntax).
	OptRetryStatusCodes = "AutomaticRetryStatusCodes"
	// OptRetryCooldown is how many seconds a (channel, model) that failed
	// with a retryable status is avoided; 0 disables the cooldown.
	OptRetryCooldown = "RetryCooldownSeconds"
	// new-api's per-user request limits on the relay.
	OptUserLimitEnabled = "ModelRequestRateLimitEnabled"
	OptUserLimitMinutes = "ModelRequestRateLimitDurationMinutes"
	OptUserLimitTotal   = "ModelRequestRateLimitCount"
	OptUserLimitSuccess = "ModelRequestRateLimitSuccessCount"
	OptUserLimitGroup   = "ModelRequestRateLimitGroup"
	OptUnknownRatio     = "UnknownModelRatio"
)

// DefaultQuotaPerUnit is One API's 500,000 quota units per US dollar.
const DefaultQuotaPerUnit = 500000

// Pricing is an immutable view of the price options. A ratio of 1 means
// $0.002 per 1K tokens (one quota unit per token). Safe for concurrent use.
type Pricing struct {
	ModelRatio      map[string]float64
	CompletionRatio map[string]float64
	// CacheRatio and CreateCacheRatio: see OptCacheRatio.
	CacheRatio       map[string]float64
	CreateCacheRatio map[string]float64
	GroupRatio       map[string]float64
	QuotaPerUnit     float64
	// DefaultMaxTokens is the completion budget assumed by the reservation
	// estimate when a request sets no max_tokens.
	DefaultMaxTokens int
	// UnknownRatio prices models missing from ModelRatio (One API: 30).
	UnknownRatio float64
	// RetryTimes is how many other channels a failed request may try.
	RetryTimes int
	// RetryStatus are the upstream statuses worth trying another channel
	// for (AutomaticRetryStatusCodes).
	RetryStatus StatusRanges
	// RetryCooldown is how long a (channel, model) that failed with a
	// retryable status is used only when nothing else is left. Default
	// 30 s.
	RetryCooldown time.Duration
	// UserLimits are the per-user request limits (nil: off).
	UserLimits *UserLimits
	// ModelPrice holds per-call prices in dollars (ModelPrice option).
	ModelPrice map[string]float64
	// AutoDisable says when an upstream failure counts against a channel
	// for automatic disabling.
	AutoDisable AutoDisable
	// AutoEnable re-enables automatically disabled channels whose
	// scheduled test passes (AutomaticEnableChannelEnabled).
	AutoEnable bool
	// TestEvery is how often automatically disabled channels are tested
	// (ChannelTestFrequency, minutes; 0: never).
	TestEvery time.Duration
	// BalanceEvery is how often enabled channels' upstream balances are
	// refreshed (ChannelBalanceFrequency, minutes; 0: never).
	BalanceEvery time.Duration
	// Cache is the response cache policy.
	Cache CachePolicy
}

// CachePolicy says which answers the exact-match response cache keeps and
// what a hit costs.
type CachePolicy struct {
	// Models lists models whose answers are cached for every token
	// (ResponseCacheModels); tokens with response_cache use it for any.
	Models map[string]bool
	// TTL is how long an answer is served from the cache.
	TTL time.Duration
	// MaxBytes bounds the cache on each node.
	MaxBytes int64
	// HitRatio prices a hit as a fraction of the answer's normal charge
	// (0: free).
	HitRatio float64
}

// Options of the response cache.
const (
	OptCacheModels   = "ResponseCacheModels"
	OptCacheTTL      = "ResponseCacheTTLSeconds"
	OptCacheMaxMB    = "ResponseCacheMaxMB"
	OptCacheHitRatio = "ResponseCacheHitRatio"
)

// AutoDisable is the automatic channel disabling policy: a failure is
// fatal when its upstream status is in Status, or its message contains
// one of Keywords (case-insensitive), or it is an insufficient_quota
// error; a channel is disabled when After of its last Window outcomes
// were fatal.
type AutoDisable struct {
	Enabled       bool
	Status        StatusRanges
	Keywords      []string
	After, Window int
}

// Fatal reports whether an upstream failure counts toward disabling its
// channel, and why.
func (a AutoDisable) Fatal(status int, code, message string) (bool, string) {
	if !a.Enabled {
		return false, ""
	}
	if a.Status.Contains(status) {
		return true, "upstream status " + strconv.Itoa(status) + ": " + message
	}
	switch code {
	case "insufficient_quota":
		return true, "insufficient quota upstream: " + message
	case "invalid_api_key": // Gemini answers a dead key with 400 API_KEY_INVALID
		return true, "invalid key upstream: " + message
	}
	if status == http.StatusTooManyRequests {
		// A rate limit passes. Gemini words its per-minute limits like
		// OpenAI's exhausted credit ("You exceeded your current quota"),
		// and OpenAI marks the latter with its code, checked above.
		return false, ""
	}
	low := strings.ToLower(message)
	for _, k := range a.Keywords {
		if k != "" && strings.Contains(low, strings.ToLower(k)) {
			return true, "upstream said: " + message
		}
	}
	return false, ""
}

// Options of the automatic channel health management.
const (
	OptAutoDisable         = "AutomaticDisableChannelEnabled"
	OptAutoDisableStatus   = "AutomaticDisableStatusCodes"
	OptAutoDisableKeywords = "AutomaticDisableKeywords"
	OptAutoDisableAfter    = "AutomaticDisableAfter"
	OptAutoDisableWindow   = "AutomaticDisableWindow"
	OptAutoEnable          = "AutomaticEnableChannelEnabled"
	OptChannelTestEvery    = "ChannelTestFrequency"
	OptBalanceEvery        = "ChannelBalanceFrequency"
)

// DefaultAutoDisableKeywords are upstream messages that mean the account
// behind a channel cannot serve (new-api's list).
var DefaultAutoDisableKeywords = []string{
	"Your credit balance is too low",
	"This organization has been disabled.",
	"You exceeded your current quota",
	"Permission denied",
	"The security token included in the request is invalid",
	"Operation not allowed",
	"Your account is not authorized",
}

// UserLimits is new-api's model request rate limit: per user, Total
// requests and Success successful ones per Per, with per-group overrides.
type UserLimits struct {
	Per            time.Duration
	Total, Success int
	Groups         map[string][2]int // group → {total, success}
}

// UserLimitFor returns the limit of a user in group, nil when off.
func (p *Pricing) UserLimitFor(group string) *UserLimit {
	u := p.UserLimits
	if u == nil {
		return nil
	}
	l := &UserLimit{Total: u.Total, Success: u.Success, Per: u.Per}
	if g, ok := u.Groups[group]; ok {
		l.Total, l.Success = g[0], g[1]
	}
	if l.Total <= 0 && l.Success <= 0 {
		return nil
	}
	return l
}

// ParseGroupLimits parses ModelRequestRateLimitGroup: a JSON object of
// group → [total, success], both non-negative integers.
func ParseGroupLimits(s string) (map[string][2]int, error) {
	var m map[string][2]int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if err := sonic.UnmarshalString(s, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object of group → [total, success]: %w", err)
	}
	for g, v := range m {
		if v[0] < 0 || v[1] < 0 {
			return nil, fmt.Errorf("limits of group %q must not be negative", g)
		}
	}
	return m, nil
}

// DefaultModelRatios are built-in prices for well-known models (ratio =
// USD per 1M input tokens / 2). Options override them key by key.
func DefaultModelRatios() map[string]float64 {
	return map[string]float64{
		"gpt-3.5-turbo": 0.25, "gpt-4": 15, "gpt-4-turbo": 5, "gpt-4o": 1.25, "gpt-4o-mini": 0.075,
		"gpt-4.1": 1, "gpt-4.1-mini": 0.2, "gpt-4.1-nano": 0.05, "o1": 7.5, "o1-mini": 0.55,
		"o3": 1, "o3-mini": 0.55, "o4-mini": 0.55, "gpt-5": 0.625, "gpt-5-mini": 0.125, "gpt-5-nano": 0.025,
		"text-embedding-3-small": 0.01, "text-embedding-3-large": 0.065, "text-embedding-ada-002": 0.05,
		"gpt-3.5-turbo-instruct": 0.75, "davinci-002": 1, "babbage-002": 0.2,
		"deepseek-chat": 0.135, "deepseek-reasoner": 0.275,
		"claude-3-5-sonnet-20241022": 1.5, "claude-3-5-haiku-20241022": 0.4, "claude-sonnet-4-20250514": 1.5,
		"gemini-2.0-flash": 0.05, "gemini-2.5-pro": 0.625, "gemini-2.5-flash": 0.15,
		// Per image (× 1000 × size ratio): One API's $0.02 and $0.04.
		"dall-e-2": 10, "dall-e-3": 20,
		// Per character of speech, per token of transcript.
		"tts-1": 7.5, "tts-1-hd": 15, "gpt-4o-mini-tts": 7.5, "whisper-1": 15,
		"gpt-4o-transcribe": 1.25, "gpt-4o-mini-transcribe": 0.625,
		// Moderation is free at OpenAI.
		"omni-moderation-latest": 0, "text-moderation-latest": 0, "text-moderation-stable": 0,
	}
}

// DefaultCompletionRatios are built-in completion multipliers.
func DefaultCompletionRatios() map[string]float64 {
	return map[string]float64{
		"gpt-3.5-turbo": 3, "gpt-4": 2, "gpt-4-turbo": 3, "gpt-4o": 4, "gpt-4o-mini": 4,
		"gpt-4.1": 4, "gpt-4.1-mini": 4, "gpt-4.1-nano": 4, "o1": 4, "o1-mini": 4, "o3": 4,
		"o3-mini": 4, "o4-mini": 4, "gpt-5": 8, "gpt-5-mini": 8, "gpt-5-nano": 8,
		"deepseek-chat": 4, "deepseek-reasoner": 4,
		"claude-3-5-sonnet-20241022": 5, "claude-3-5-haiku-20241022": 5, "claude-sonnet-4-20250514": 5,
		"gemini-2.0-flash": 4, "gemini-2.5-pro": 8, "gemini-2.5-flash": 8.33,
	}
}

// NewPricing builds a Pricing from option values. Malformed values are
// reported and fall back to the defaults, so a bad edit never stops
// billing.
func NewPricing(opts map[string]string) (*Pricing, []error) {
	p := &Pricing{
		ModelRatio:       DefaultModelRatios(),
		CompletionRatio:  DefaultCompletionRatios(),
		CacheRatio:       map[string]float64{},
		CreateCacheRatio: map[string]float64{},
		GroupRatio:       map[string]float64{"default": 1, "vip": 1, "svip": 1},
		QuotaPerUnit:     DefaultQuotaPerUnit,
		DefaultMaxTokens: 4096,
		UnknownRatio:     30,
		RetryCooldown:    30 * time.Second,
		ModelPrice:       DefaultModelPrices(),
		AutoDisable:      AutoDisable{Enabled: true, Keywords: DefaultAutoDisableKeywords, After: 3, Window: 10},
		AutoEnable:       true,
		TestEvery:        10 * time.Minute,
		Cache:            CachePolicy{TTL: time.Hour, MaxBytes: 64 << 20},
	}
	p.AutoDisable.Status, _ = ParseStatusRanges("401")
	p.RetryStatus, _ = ParseStatusRanges(DefaultRetryStatusCodes)
	var errs []error
	mergeRatios := func(name string, into map[string]float64) {
		v, ok := opts[name]
		if !ok || strings.TrimSpace(v) == "" {
			return
		}
		m, err := ParseRatios(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("option %s: %w", name, err))
			return
		}
		for k, r := range m {
			into[k] = r
		}
	}
	mergeRatios(OptModelRatio, p.ModelRatio)
	mergeRatios(OptCompletionRatio, p.CompletionRatio)
	mergeRatios(OptCacheRatio, p.CacheRatio)
	mergeRatios(OptCreateCacheRatio, p.CreateCacheRatio)
	mergeRatios(OptModelPrice, p.ModelPrice)
	if v, ok := opts[OptGroupRatio]; ok && strings.TrimSpace(v) != "" {
		// GroupRatio replaces the table: a group removed by the admin
		// falls back to 1.
		if m, err := ParseRatios(v); err != nil {
			errs = append(errs, fmt.Errorf("option %s: %w", OptGroupRatio, err))
		} else {
			p.GroupRatio = m
		}
	}
	num := func(name string, set func(float64)) {
		if v, ok := opts[name]; ok && v != "" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
				errs = append(errs, fmt.Errorf("option %s: not a non-negative number: %q", name, v))
				return
			}
			set(f)
		}
	}
	num(OptQuotaPerUnit, func(f float64) {
		if f > 0 {
			p.QuotaPerUnit = f
		}
	})
	num(OptDefaultMaxToken, func(f float64) { p.DefaultMaxTokens = int(f) })
	num(OptUnknownRatio, func(f float64) { p.UnknownRatio = f })
	num(OptRetryTimes, func(f float64) { p.RetryTimes = int(f) })
	num(OptRetryCooldown, func(f float64) { p.RetryCooldown = time.Duration(f * float64(time.Second)) })
	if opts[OptUserLimitEnabled] == "true" {
		u := &UserLimits{Per: time.Minute, Success: 1000}
		num(OptUserLimitMinutes, func(f float64) {
			if f > 0 {
				u.Per = time.Duration(f * float64(time.Minute))
			}
		})
		num(OptUserLimitTotal, func(f float64) { u.Total = int(f) })
		num(OptUserLimitSuccess, func(f float64) { u.Success = int(f) })
		if g, err := ParseGroupLimits(opts[OptUserLimitGroup]); err != nil {
			errs = append(errs, fmt.Errorf("option %s: %w", OptUserLimitGroup, err))
		} else {
			u.Groups = g
		}
		p.UserLimits = u
	}
	if v, ok := opts[OptAutoDisable]; ok {
		p.AutoDisable.Enabled = v == "true"
	}
	if v, ok := opts[OptAutoEnable]; ok {
		p.AutoEnable = v == "true"
	}
	if v, ok := opts[OptAutoDisableStatus]; ok {
		if r, err := ParseStatusRanges(v); err != nil {
			errs = append(errs, fmt.Errorf("option %s: %w", OptAutoDisableStatus, err))
		} else {
			p.AutoDisable.Status = r
		}
	}
	if v, ok := opts[OptAutoDisableKeywords]; ok {
		p.AutoDisable.Keywords = nil
		for _, k := range strings.Split(v, "\n") {
			if k = strings.TrimSpace(k); k != "" {
				p.AutoDisable.Keywords = append(p.AutoDisable.Keywords, k)
			}
		}
	}
	num(OptAutoDisableAfter, func(f float64) {
		if f >= 1 {
			p.AutoDisable.After = int(f)
		}
	})
	num(OptAutoDisableWindow, func(f float64) {
		if f >= 1 {
			p.AutoDisable.Window = int(f)
		}
	})
	if p.AutoDisable.Window < p.AutoDisable.After {
		p.AutoDisable.Window = p.AutoDisable.After
	}
	num(OptChannelTestEvery, func(f float64) { p.TestEvery = time.Duration(f * float64(time.Minute)) })
	num(OptBalanceEvery, func(f float64) { p.BalanceEvery = time.Duration(f * float64(time.Minute)) })
	for _, m := range SplitList(opts[OptCacheModels]) {
		if p.Cache.Models == nil {
			p.Cache.Models = map[string]bool{}
		}
		p.Cache.Models[m] = true
	}
	num(OptCacheTTL, func(f float64) { p.Cache.TTL = time.Duration(f * float64(time.Second)) })
	num(OptCacheMaxMB, func(f float64) { p.Cache.MaxBytes = int64(f * (1 << 20)) })
	num(OptCacheHitRatio, func(f float64) { p.Cache.HitRatio = f })
	if v, ok := opts[OptRetryStatusCodes]; ok {
		if r, err := ParseStatusRanges(v); err != nil {
			errs = append(errs, fmt.Errorf("option %s: %w", OptRetryStatusCodes, err))
		} else {
			p.RetryStatus = r
		}
	}
	return p, errs
}

// ParseRatios parses a JSON object of name → non-negative number.
func ParseRatios(s string) (map[string]float64, error) {
	var m map[string]float64
	if err := sonic.UnmarshalString(s, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object of numbers: %w", err)
	}
	for k, v := range m {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("ratio of %q must be a non-negative number", k)
		}
	}
	return m, nil
}

// Ratios is the price of one model for one group.
type Ratios struct {
	Model      float64
	Completion float64
	Group      float64
	// Cache and CacheWrite price cached and cache-writing prompt tokens
	// relative to other prompt tokens (1: the same).
	Cache      float64
	CacheWrite float64
}

// For returns the ratios for model and group.
func (p *Pricing) For(model, group string) Ratios {
	r := Ratios{Model: p.UnknownRatio, Completion: 1, Group: 1, Cache: 1, CacheWrite: 1}
	if v, ok := p.ModelRatio[model]; ok {
		r.Model = v
	}
	if v, ok := p.CompletionRatio[model]; ok {
		r.Completion = v
	}
	if v, ok := p.CacheRatio[model]; ok {
		r.Cache = v
	}
	if v, ok := p.CreateCacheRatio[model]; ok {
		r.CacheWrite = v
	}
	if v, ok := p.GroupRatio[group]; ok {
		r.Group = v
	}
	return r
}

// Quota is the charge for a request: ceil((prompt + completion ×
// CompletionRatio) × ModelRatio × GroupRatio), at least 1 when the ratio is
// non-zero and tokens were used, 0 when no tokens were used.
func (r Ratios) Quota(prompt, completion int) int64 {
	if prompt <= 0 && completion <= 0 {
		return 0
	}
	ratio := r.Model * r.Group
	if ratio == 0 {
		return 0
	}
	// Round the exact product before the ceiling so that binary float
	// error (e.g. 2.0000000000000004) never adds a unit.
	q := (float64(max(prompt, 0)) + float64(max(completion, 0))*r.Completion) * ratio
	q = math.Round(q*1e6) / 1e6
	c := int64(math.Ceil(q))
	if c < 1 {
		c = 1
	}
	return c
}

// QuotaCached is Quota for a prompt of which cached tokens were read from
// the provider's prompt cache and written tokens were written to it (both
// parts of prompt): ceil(((prompt − cached − written) + cached × Cache +
// written × CacheWrite + completion × Completion) × Model × Group). With
// both cache ratios 1 it equals Quota(prompt, completion).
func (r Ratios) QuotaCached(prompt, cached, written, completion int) int64 {
	cached, written = max(cached, 0), max(written, 0)
	if cached+written > prompt || (r.Cache == 1 && r.CacheWrite == 1) || cached+written == 0 {
		return r.Quota(prompt, completion)
	}
	if prompt <= 0 && completion <= 0 {
		return 0
	}
	ratio := r.Model * r.Group
	if ratio == 0 {
		return 0
	}
	in := float64(prompt-cached-written) + float64(cached)*r.Cache + float64(written)*r.CacheWrite
	q := (in + float64(max(completion, 0))*r.Completion) * ratio
	q = math.Round(q*1e6) / 1e6
	c := int64(math.Ceil(q))
	if c < 1 && q > 0 {
		c = 1
	}
	return c
}

// Content is the human-readable price line written in the consume log.
func (r Ratios) Content() string {
	b := make([]byte, 0, 64)
	b = append(b, "model ratio "...)
	b = strconv.AppendFloat(b, r.Model, 'g', 4, 64)
	b = append(b, ", completion ratio "...)
	b = strconv.AppendFloat(b, r.Completion, 'g', 4, 64)
	b = append(b, ", group ratio "...)
	b = strconv.AppendFloat(b, r.Group, 'g', 4, 64)
	if r.Cache != 1 || r.CacheWrite != 1 {
		b = append(b, ", cache ratio "...)
		b = strconv.AppendFloat(b, r.Cache, 'g', 4, 64)
		b = append(b, ", cache write ratio "...)
		b = strconv.AppendFloat(b, r.CacheWrite, 'g', 4, 64)
	}
	return string(b)
}

// EstimatePromptTokens is the reservation's prompt estimate: about four
// bytes per token. It never tokenizes (the hot path has no tokenizer).
func EstimatePromptTokens(bodyBytes int) int { return bodyBytes/4 + 1 }
