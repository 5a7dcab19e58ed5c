package actors

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// OptModelPrice is new-api's per-call price table: model → US dollars per
// call (per image for image models). A model listed there is billed per
// call instead of by tokens.
const OptModelPrice = "ModelPrice"

// DefaultModelPrices are built-in per-call prices (none: images follow One
// API's ratio formula unless an operator sets a price).
func DefaultModelPrices() map[string]float64 { return map[string]float64{} }

// imageSizeRatios are One API's size multipliers by model; sizes not
// listed (and models not listed) count 1.
var imageSizeRatios = map[string]map[string]float64{
	"dall-e-2": {"256x256": 1, "512x512": 1.125, "1024x1024": 1.25},
	"dall-e-3": {"1024x1024": 1, "1024x1792": 2, "1792x1024": 2},
}

// ImageQuota is the charge for n images of model in group:
//
//   - with a ModelPrice: round(price × QuotaPerUnit × GroupRatio) per image;
//   - otherwise One API's formula: int(ModelRatio × GroupRatio × size ratio
//     × 1000) per image, the size ratio from One API's table (dall-e-2
//     256² 1, 512² 1.125, 1024² 1.25; dall-e-3 1024² 1, 1024×1792 and
//     1792×1024 2; anything else 1), and for dall-e-3 with quality "hd"
//     ×2 at 1024×1024 and ×1.5 at the other sizes.
//
// size defaults to 1024x1024.
func (p *Pricing) ImageQuota(model, group, size, quality string, n int) int64 {
	if n < 1 {
		n = 1
	}
	r := p.For(model, group)
	if price, ok := p.ModelPrice[model]; ok {
		return int64(math.Round(price*p.QuotaPerUnit*r.Group)) * int64(n)
	}
	if size == "" {
		size = "1024x1024"
	}
	sizeRatio := 1.0
	if t, ok := imageSizeRatios[model]; ok {
		if v, ok := t[size]; ok {
			sizeRatio = v
		}
	}
	if model == "dall-e-3" && strings.EqualFold(quality, "hd") {
		if size == "1024x1024" {
			sizeRatio *= 2
		} else {
			sizeRatio *= 1.5
		}
	}
	per := r.Model * r.Group * sizeRatio * 1000
	per = math.Round(per*1e6) / 1e6 // binary float error never costs a unit
	return int64(per) * int64(n)
}

// SpeechQuota is the charge for text-to-speech: the Unicode characters of
// the input × ModelRatio × GroupRatio, rounded up (at least 1 when the
// ratio is not zero).
func (r Ratios) SpeechQuota(input string) int64 {
	return r.Quota(utf8.RuneCountInString(input), 0)
}

// TextTokens counts text the way the gateway counts text without a
// tokenizer: one token per four bytes of UTF-8, rounded up.
func TextTokens(s string) int { return (len(s) + 3) / 4 }

// UpstreamError is an upstream's error answer to a gateway-made call (a
// channel test, a balance query), for the health policy to judge
// (AutoDisable.Fatal).
type UpstreamError struct {
	Status        int
	Code, Message string
}

func (e *UpstreamError) Error() string {
	return "upstream answered " + strconv.Itoa(e.Status) + ": " + e.Message
}
