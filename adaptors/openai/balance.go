package openai

import (
	"errors"
	"fmt"
	"time"

	"switchyard/adaptors"
)

// BalanceSource is how one OpenAI-dialect provider reports the remaining
// credit of a key. All its calls are authenticated GETs under the
// channel's base URL; implementations are pure and safe for concurrent
// use.
type BalanceSource interface {
	// BalancePath returns the path of step len(answers), or "" when the
	// answers suffice.
	BalancePath(now time.Time, answers [][]byte) (string, error)
	// ParseBalance computes the balance from all answers.
	ParseBalance(answers [][]byte) (adaptors.Balance, error)
}

// errBalanceAnswers is returned when ParseBalance gets the wrong number of
// answers (a caller bug).
var errBalanceAnswers = errors.New("openai: wrong number of balance answers")

// DashboardBalance is OpenAI's legacy billing dashboard, also served by
// most One API–style resellers and gateways: the balance is the
// subscription's hard_limit_usd minus the usage (in cents) of the current
// billing window. Step 1 is GET /v1/dashboard/billing/subscription; step 2
// GET /v1/dashboard/billing/usage over this month (the hard limit is
// monthly) or, for keys without a payment method (prepaid grants), over
// the last 100 days — One API's rule.
type DashboardBalance struct{}

type subscriptionWire struct {
	HasPaymentMethod bool    `json:"has_payment_method"`
	HardLimitUSD     float64 `json:"hard_limit_usd"`
}

type dashboardUsageWire struct {
	TotalUsage float64 `json:"total_usage"` // cents
}

// BalancePath implements BalanceSource.
func (DashboardBalance) BalancePath(now time.Time, answers [][]byte) (string, error) {
	switch len(answers) {
	case 0:
		return "/v1/dashboard/billing/subscription", nil
	case 1:
		var sub subscriptionWire
		if err := decodeObject(answers[0], &sub); err != nil {
			return "", fmt.Errorf("openai: subscription: %w", err)
		}
		start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
		if !sub.HasPaymentMethod {
			start = now.AddDate(0, 0, -100)
		}
		return "/v1/dashboard/billing/usage?start_date=" + start.Format(time.DateOnly) +
			"&end_date=" + now.Format(time.DateOnly), nil
	}
	return "", nil
}

// ParseBalance implements BalanceSource.
func (DashboardBalance) ParseBalance(answers [][]byte) (adaptors.Balance, error) {
	if len(answers) != 2 {
		return adaptors.Balance{}, errBalanceAnswers
	}
	var sub subscriptionWire
	var use dashboardUsageWire
	if err := decodeObject(answers[0], &sub); err != nil {
		return adaptors.Balance{}, fmt.Errorf("openai: subscription: %w", err)
	}
	if err := decodeObject(answers[1], &use); err != nil {
		return adaptors.Balance{}, fmt.Errorf("openai: usage: %w", err)
	}
	return adaptors.Balance{Amount: sub.HardLimitUSD - use.TotalUsage/100, Currency: "USD"}, nil
}

// decodeObject decodes a JSON object answer, failing on anything else.
// Exported sources in other packages use it through DecodeObject.
func decodeObject(b []byte, v any) error {
	if !isObject(b) {
		return fmt.Errorf("%w: not a json object", adaptors.ErrInvalidResponse)
	}
	if err := decodeJSON(b, v); err != nil {
		return fmt.Errorf("%w: %v", adaptors.ErrInvalidResponse, err)
	}
	return nil
}

// DecodeObject decodes a JSON object answer into v (a pointer to a struct
// of numbers and strings), failing with adaptors.ErrInvalidResponse on
// anything that is not a JSON object. Strings in v alias b: copy them if
// they must outlive b. It is shared with the vendor balance sources of
// package openaicompat.
func DecodeObject(b []byte, v any) error { return decodeObject(b, v) }
