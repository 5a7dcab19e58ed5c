package admin

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/actors"
	"switchyard/storage"
)

// optionKind says how an option value is validated.
type optionKind int

const (
	optText optionKind = iota
	optRatios
	optNumber
	optInt
	optBool
	optStatusRanges
	optGroupLimits
)

// knownOptions lists the options the API accepts (One API's keys and
// ours). Values are strings; ratios are JSON objects in a string.
var knownOptions = map[string]optionKind{
	actors.OptModelRatio:          optRatios,
	actors.OptCompletionRatio:     optRatios,
	actors.OptCacheRatio:          optRatios,
	actors.OptCreateCacheRatio:    optRatios,
	actors.OptModelPrice:          optRatios,
	actors.OptGroupRatio:          optRatios,
	actors.OptQuotaPerUnit:        optNumber,
	actors.OptRetryTimes:          optInt,
	actors.OptRetryStatusCodes:    optStatusRanges,
	actors.OptRetryCooldown:       optNumber,
	actors.OptUserLimitEnabled:    optBool,
	actors.OptAutoDisable:         optBool,
	actors.OptAutoDisableStatus:   optStatusRanges,
	actors.OptAutoDisableKeywords: optText,
	actors.OptAutoDisableAfter:    optInt,
	actors.OptAutoDisableWindow:   optInt,
	actors.OptAutoEnable:          optBool,
	actors.OptChannelTestEvery:    optNumber,
	actors.OptBalanceEvery:        optNumber,
	actors.OptCacheModels:         optText,
	actors.OptCacheTTL:            optNumber,
	actors.OptCacheMaxMB:          optNumber,
	actors.OptCacheHitRatio:       optNumber,
	actors.OptUserLimitMinutes:    optInt,
	actors.OptUserLimitTotal:      optInt,
	actors.OptUserLimitSuccess:    optInt,
	actors.OptUserLimitGroup:      optGroupLimits,
	actors.OptDefaultMaxToken:     optInt,
	actors.OptUnknownRatio:        optNumber,
	"SystemName":                  optText,
	"Logo":                        optText,
	"Footer":                      optText,
	"Notice":                      optText,
	"About":                       optText,
	"HomePageContent":             optText,
	"ServerAddress":               optText,
	"TopUpLink":                   optText,
	"ChatLink":                    optText,
	"Theme":                       optText,
	"DisplayInCurrencyEnabled":    optBool,
	"DisplayTokenStatEnabled":     optBool,
	"LogConsumeEnabled":           optBool,
	"RegisterEnabled":             optBool,
	"PasswordLoginEnabled":        optBool,
	"PasswordRegisterEnabled":     optBool,
	"QuotaForNewUser":             optInt,
	"QuotaRemindThreshold":        optInt,
	"PreConsumedQuota":            optInt,
}

// hiddenOption reports options never shown by GET /api/option/ (One API
// hides keys ending in Token or Secret).
func hiddenOption(k string) bool {
	return k == OptSessionSecret || strings.HasSuffix(k, "Token") || strings.HasSuffix(k, "Secret")
}

func (a *API) getOptions(_ context.Context, c *app.RequestContext) {
	opts, err := a.d.Store.Options()
	if err != nil {
		fail(c, err.Error())
		return
	}
	type kv struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	out := []kv{}
	for k, v := range opts {
		if !hiddenOption(k) {
			out = append(out, kv{k, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	ok(c, out)
}

// validateOption checks one option value; "" means valid.
func validateOption(key, value string) string {
	kind, known := knownOptions[key]
	if !known {
		return "unknown option " + strconv.Quote(key)
	}
	switch kind {
	case optRatios:
		if _, err := actors.ParseRatios(value); err != nil {
			return key + ": " + err.Error()
		}
	case optNumber:
		if f, err := strconv.ParseFloat(value, 64); err != nil || f < 0 {
			return key + " must be a non-negative number"
		}
	case optInt:
		if n, err := strconv.ParseInt(value, 10, 64); err != nil || n < 0 {
			return key + " must be a non-negative integer"
		}
	case optBool:
		if value != "true" && value != "false" {
			return key + " must be true or false"
		}
	case optStatusRanges:
		if _, err := actors.ParseStatusRanges(value); err != nil {
			return key + ": " + err.Error()
		}
	case optGroupLimits:
		if _, err := actors.ParseGroupLimits(value); err != nil {
			return key + ": " + err.Error()
		}
	}
	return ""
}

func (a *API) updateOption(ctx context.Context, c *app.RequestContext) {
	var req struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	if !bind(c, &req) {
		return
	}
	var v string
	switch x := req.Value.(type) {
	case string:
		v = x
	case bool:
		v = strconv.FormatBool(x)
	case float64:
		v = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		fail(c, "value must be a string, number or boolean")
		return
	}
	if msg := validateOption(req.Key, v); msg != "" {
		fail(c, msg)
		return
	}
	if _, done := a.propose(ctx, c, &storage.SetOptions{Options: map[string]string{req.Key: v}}); !done {
		return
	}
	ok(c, nil)
}
