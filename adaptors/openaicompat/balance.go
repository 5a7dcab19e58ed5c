package openaicompat

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"switchyard/adaptors"
	"switchyard/adaptors/openai"
)

// The vendor balance endpoints One API (controller/channel-billing.go)
// queries. Each is one authenticated GET under the channel's base URL.

var errOneAnswer = errors.New("openaicompat: balance needs exactly one answer")

// onePath is the BalancePath of single-request sources.
func onePath(path string, answers [][]byte) (string, error) {
	if len(answers) == 0 {
		return path, nil
	}
	return "", nil
}

// deepSeekBalance: GET /user/balance →
// {"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00",…}]}.
// The first entry is used; an account holds one currency.
type deepSeekBalance struct{}

func (deepSeekBalance) BalancePath(_ time.Time, answers [][]byte) (string, error) {
	return onePath("/user/balance", answers)
}

func (deepSeekBalance) ParseBalance(answers [][]byte) (adaptors.Balance, error) {
	if len(answers) != 1 {
		return adaptors.Balance{}, errOneAnswer
	}
	var w struct {
		BalanceInfos []struct {
			Currency     string `json:"currency"`
			TotalBalance string `json:"total_balance"`
		} `json:"balance_infos"`
	}
	if err := openai.DecodeObject(answers[0], &w); err != nil {
		return adaptors.Balance{}, fmt.Errorf("deepseek balance: %w", err)
	}
	if len(w.BalanceInfos) == 0 {
		return adaptors.Balance{}, fmt.Errorf("deepseek balance: %w: no balance_infos", adaptors.ErrInvalidResponse)
	}
	bi := w.BalanceInfos[0]
	amount, err := strconv.ParseFloat(bi.TotalBalance, 64)
	if err != nil {
		return adaptors.Balance{}, fmt.Errorf("deepseek balance: %w: total_balance %q", adaptors.ErrInvalidResponse, bi.TotalBalance)
	}
	return adaptors.Balance{Amount: amount, Currency: strings.Clone(bi.Currency)}, nil
}

// openRouterCredits: GET /v1/credits →
// {"data":{"total_credits":100.5,"total_usage":25.75}} in USD.
type openRouterCredits struct{}

func (openRouterCredits) BalancePath(_ time.Time, answers [][]byte) (string, error) {
	return onePath("/v1/credits", answers)
}

func (openRouterCredits) ParseBalance(answers [][]byte) (adaptors.Balance, error) {
	if len(answers) != 1 {
		return adaptors.Balance{}, errOneAnswer
	}
	var w struct {
		Data struct {
			TotalCredits *float64 `json:"total_credits"`
			TotalUsage   *float64 `json:"total_usage"`
		} `json:"data"`
	}
	if err := openai.DecodeObject(answers[0], &w); err != nil {
		return adaptors.Balance{}, fmt.Errorf("openrouter credits: %w", err)
	}
	if w.Data.TotalCredits == nil || w.Data.TotalUsage == nil {
		return adaptors.Balance{}, fmt.Errorf("openrouter credits: %w: no total_credits/total_usage", adaptors.ErrInvalidResponse)
	}
	return adaptors.Balance{Amount: *w.Data.TotalCredits - *w.Data.TotalUsage, Currency: "USD"}, nil
}

// siliconFlowBalance: GET /v1/user/info →
// {"code":20000,"message":"OK","status":true,"data":{…,"totalBalance":"88.88"}} in CNY.
type siliconFlowBalance struct{}

func (siliconFlowBalance) BalancePath(_ time.Time, answers [][]byte) (string, error) {
	return onePath("/v1/user/info", answers)
}

func (siliconFlowBalance) ParseBalance(answers [][]byte) (adaptors.Balance, error) {
	if len(answers) != 1 {
		return adaptors.Balance{}, errOneAnswer
	}
	var w struct {
		Data struct {
			TotalBalance string `json:"totalBalance"`
		} `json:"data"`
	}
	if err := openai.DecodeObject(answers[0], &w); err != nil {
		return adaptors.Balance{}, fmt.Errorf("siliconflow balance: %w", err)
	}
	amount, err := strconv.ParseFloat(w.Data.TotalBalance, 64)
	if err != nil {
		return adaptors.Balance{}, fmt.Errorf("siliconflow balance: %w: totalBalance %q", adaptors.ErrInvalidResponse, w.Data.TotalBalance)
	}
	return adaptors.Balance{Amount: amount, Currency: "CNY"}, nil
}
