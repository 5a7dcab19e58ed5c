package openaicompat

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bytedance/sonic"

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

// moonshotBalance: GET /v1/users/me/balance →
// {"code":0,"data":{"available_balance":49.58894,"voucher_balance":46.58893,"cash_balance":3.00001},"scode":"0x0","status":true}.
// available_balance (cash plus vouchers) is what requests can spend. The
// answer names no currency: the default host api.moonshot.cn bills in CNY,
// which is reported; accounts of the international host api.moonshot.ai
// bill in USD (a BalanceSource cannot see the channel's host to tell).
type moonshotBalance struct{}

func (moonshotBalance) BalancePath(_ time.Time, answers [][]byte) (string, error) {
	return onePath("/v1/users/me/balance", answers)
}

func (moonshotBalance) ParseBalance(answers [][]byte) (adaptors.Balance, error) {
	if len(answers) != 1 {
		return adaptors.Balance{}, errOneAnswer
	}
	var w struct {
		Data struct {
			AvailableBalance sonic.NoCopyRawMessage `json:"available_balance"`
		} `json:"data"`
	}
	if err := openai.DecodeObject(answers[0], &w); err != nil {
		return adaptors.Balance{}, fmt.Errorf("moonshot balance: %w", err)
	}
	amount, ok := jsonNumber(w.Data.AvailableBalance)
	if !ok {
		return adaptors.Balance{}, fmt.Errorf("moonshot balance: %w: data.available_balance %q", adaptors.ErrInvalidResponse, w.Data.AvailableBalance)
	}
	return adaptors.Balance{Amount: amount, Currency: "CNY"}, nil
}

// stepFunAccount: GET /v1/accounts →
// {"object":"account","type":"prepaid","balance":…,"total_cash_balance":…,"total_voucher_balance":…}.
// balance is the account's available balance. As for Moonshot, the answer
// names no currency: api.stepfun.com bills in CNY (api.stepfun.ai, the
// international host, in USD).
type stepFunAccount struct{}

func (stepFunAccount) BalancePath(_ time.Time, answers [][]byte) (string, error) {
	return onePath("/v1/accounts", answers)
}

func (stepFunAccount) ParseBalance(answers [][]byte) (adaptors.Balance, error) {
	if len(answers) != 1 {
		return adaptors.Balance{}, errOneAnswer
	}
	var w struct {
		Balance sonic.NoCopyRawMessage `json:"balance"`
	}
	if err := openai.DecodeObject(answers[0], &w); err != nil {
		return adaptors.Balance{}, fmt.Errorf("stepfun balance: %w", err)
	}
	amount, ok := jsonNumber(w.Balance)
	if !ok {
		return adaptors.Balance{}, fmt.Errorf("stepfun balance: %w: balance %q", adaptors.ErrInvalidResponse, w.Balance)
	}
	return adaptors.Balance{Amount: amount, Currency: "CNY"}, nil
}

// jsonNumber reads a raw JSON number (not a string, not null).
func jsonNumber(raw []byte) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil
}
