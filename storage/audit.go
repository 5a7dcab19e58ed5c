package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/bytedance/sonic"
)

// Audit is what the state says about money, account by account, and the
// invariants it breaks (Problems; none when the state is sound).
type Audit struct {
	// Index is the applied index when the audit started.
	Index uint64
	// Users and Tokens hold every account's figures, by id.
	Users  map[int64]AccountMoney
	Tokens map[int64]AccountMoney
	// Problems lists every broken invariant, one sentence each.
	Problems []string
}

// AccountMoney is one account's money as the state records it.
type AccountMoney struct {
	// Balance is what the account may still spend (a user's quota, a
	// limited token's remaining quota; 0 for unlimited tokens).
	Balance int64
	// Used is the account's used_quota.
	Used int64
	// Held is what the nodes' leases on the account hold (part of Balance).
	Held int64
	// Logged sums the account's consume logs.
	Logged int64
	// Aggregated sums the user's daily aggregates (users only).
	Aggregated int64
	// Unlimited marks a token without a quota limit.
	Unlimited bool
}

// Audit checks the money invariants the state machine keeps, from the
// state alone:
//
//   - no balance and no used quota below zero;
//   - the leases on an account hold no more than its balance, and none
//     holds a negative amount;
//   - each user's and token's consume logs add up to its used quota, and
//     each user's daily aggregates too.
//
// Conservation (balance + used = what the account was given) needs to know
// what was given; Users has the figures for the caller to check it. The
// log sums hold while log retention has deleted nothing. Audit reads the
// live store: run it on a quiet store (a stopped node's data, or a cluster
// with no traffic), or the figures may straddle an apply.
func (s *Store) Audit() (*Audit, error) {
	a := &Audit{Index: s.AppliedIndex(), Users: map[int64]AccountMoney{}, Tokens: map[int64]AccountMoney{}}
	users, err := s.Users()
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		a.Users[u.ID] = AccountMoney{Balance: u.Quota, Used: u.UsedQuota}
	}
	tokens, err := s.Tokens()
	if err != nil {
		return nil, err
	}
	for _, t := range tokens {
		m := AccountMoney{Used: t.UsedQuota, Unlimited: t.UnlimitedQuota}
		if !t.UnlimitedQuota {
			m.Balance = t.RemainQuota
		}
		a.Tokens[t.ID] = m
	}
	leases, err := s.Leases()
	if err != nil {
		return nil, err
	}
	for _, l := range leases {
		if l.Remaining < 0 {
			a.problem("lease of node %s on %s %d holds %d", l.Node, l.Kind.name(), l.ID, l.Remaining)
		}
		accts := a.Users
		if l.Kind == LeaseToken {
			accts = a.Tokens
		}
		m, ok := accts[l.ID]
		if !ok {
			a.problem("lease of node %s on missing %s %d", l.Node, l.Kind.name(), l.ID)
			continue
		}
		m.Held += l.Remaining
		accts[l.ID] = m
	}
	err = s.eachLog(LogFilter{Type: LogConsume}, func(l *Log) bool {
		if m, ok := a.Users[l.UserID]; ok {
			m.Logged += l.Quota
			a.Users[l.UserID] = m
		}
		if m, ok := a.Tokens[l.TokenID]; ok {
			m.Logged += l.Quota
			a.Tokens[l.TokenID] = m
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	err = s.scan(prefixAggDay, func(k, v []byte) (bool, error) {
		rest := k[len(prefixAggDay):]
		if len(rest) < 8+1+8+1 {
			return true, nil
		}
		uid := int64(binary.BigEndian.Uint64(rest[9:17]))
		var d DayAggregate
		if err := sonic.Unmarshal(v, &d); err != nil {
			return false, err
		}
		if m, ok := a.Users[uid]; ok {
			m.Aggregated += d.Quota
			a.Users[uid] = m
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range sortedIDs(a.Users) {
		m := a.Users[id]
		a.checkAccount("user", id, m)
		if m.Aggregated != m.Used {
			a.problem("user %d: daily aggregates sum to %d, used quota is %d", id, m.Aggregated, m.Used)
		}
	}
	for _, id := range sortedIDs(a.Tokens) {
		a.checkAccount("token", id, a.Tokens[id])
	}
	return a, nil
}

func (a *Audit) checkAccount(kind string, id int64, m AccountMoney) {
	if m.Balance < 0 {
		a.problem("%s %d: balance %d below zero", kind, id, m.Balance)
	}
	if m.Used < 0 {
		a.problem("%s %d: used quota %d below zero", kind, id, m.Used)
	}
	if !m.Unlimited && m.Held > max(m.Balance, 0) {
		a.problem("%s %d: leases hold %d of a balance of %d", kind, id, m.Held, m.Balance)
	}
	if m.Logged != m.Used {
		a.problem("%s %d: consume logs sum to %d, used quota is %d", kind, id, m.Logged, m.Used)
	}
}

func (a *Audit) problem(format string, args ...any) {
	a.Problems = append(a.Problems, fmt.Sprintf(format, args...))
}
