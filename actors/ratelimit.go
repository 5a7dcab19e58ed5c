package actors

import (
	"fmt"
	"time"
)

// RateLimitError is a Reserve refusal because a rate limit is reached; the
// request may be sent again after RetryAfter. Its message reaches API
// clients.
type RateLimitError struct {
	// Kind is "requests" (RPM, parallel requests, model request limits)
	// or "tokens" (TPM), as OpenAI names its 429 types.
	Kind       string
	Msg        string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return e.Msg }

// UserLimit is a per-user request limit on the relay (new-api's
// ModelRequestRateLimit*): at most Total requests (failures included) and
// Success successful ones in any span of Per. Zero counts do not limit.
type UserLimit struct {
	Total, Success int
	Per            time.Duration
}

// Spend is what a finished request used: its charge, its tokens (prompt +
// completion, for TPM) and whether the client got an answer.
type Spend struct {
	Quota  int64
	Tokens int
	OK     bool
}

// slidingLog counts events (with weights) inside a sliding window. Not safe
// for concurrent use: each belongs to one account actor.
type slidingLog struct {
	at  []int64 // Unix ns, oldest first
	w   []int64 // weight of each event
	sum int64
}

// prune drops the events older than per before now.
func (l *slidingLog) prune(now int64, per time.Duration) {
	cut := 0
	for cut < len(l.at) && l.at[cut] <= now-int64(per) {
		l.sum -= l.w[cut]
		cut++
	}
	if cut > 0 {
		l.at = append(l.at[:0], l.at[cut:]...)
		l.w = append(l.w[:0], l.w[cut:]...)
	}
}

func (l *slidingLog) add(now int64, w int64) {
	l.at = append(l.at, now)
	l.w = append(l.w, w)
	l.sum += w
}

// wait is how long until the oldest event leaves the window.
func (l *slidingLog) wait(now int64, per time.Duration) time.Duration {
	if len(l.at) == 0 {
		return 0
	}
	return time.Duration(l.at[0] + int64(per) - now)
}

// tokenRate is one token's rate state on this node.
type tokenRate struct {
	inflight int
	reqs     slidingLog // admitted requests
	toks     slidingLog // tokens of finished requests
}

// userRate is the user's model request limit state on this node.
type userRate struct {
	total, success slidingLog
}

// nodeShare is a limit's share on one of nodes nodes: limits are enforced
// per node, each taking an equal part rounded up (so a limit below the
// node count still admits a request on every node).
func nodeShare(limit, nodes int) int {
	if nodes <= 1 || limit <= 0 {
		return limit
	}
	return (limit + nodes - 1) / nodes
}

// checkRates refuses m if a rate limit of its token or user is reached.
// It runs after the token checks and before the quota checks of reserve;
// countRates counts the request once its reservation is made.
func (a *accountActor) checkRates(m *Reserve) error {
	t := m.Token
	now := m.Now.UnixNano()
	nodes := max(m.Nodes, 1)
	const minute = time.Minute
	if t.RPMLimit > 0 || t.TPMLimit > 0 || t.MaxParallel > 0 {
		tr := a.rate(t.ID)
		if lim := nodeShare(t.MaxParallel, nodes); lim > 0 && tr.inflight >= lim {
			return &RateLimitError{Kind: "requests", RetryAfter: time.Second,
				Msg: fmt.Sprintf("This key allows %d requests at once; wait for one to finish.", t.MaxParallel)}
		}
		if lim := nodeShare(t.RPMLimit, nodes); lim > 0 {
			tr.reqs.prune(now, minute)
			if len(tr.reqs.at) >= lim {
				return &RateLimitError{Kind: "requests", RetryAfter: tr.reqs.wait(now, minute),
					Msg: fmt.Sprintf("Rate limit reached: this key allows %d requests per minute.", t.RPMLimit)}
			}
		}
		if lim := nodeShare(t.TPMLimit, nodes); lim > 0 {
			tr.toks.prune(now, minute)
			if tr.toks.sum >= int64(lim) {
				return &RateLimitError{Kind: "tokens", RetryAfter: tr.toks.wait(now, minute),
					Msg: fmt.Sprintf("Rate limit reached: this key allows %d tokens per minute.", t.TPMLimit)}
			}
		}
	}
	if ul := m.UserLimit; ul != nil && ul.Per > 0 && (ul.Total > 0 || ul.Success > 0) {
		a.user.total.prune(now, ul.Per)
		a.user.success.prune(now, ul.Per)
		if lim := nodeShare(ul.Total, nodes); lim > 0 && len(a.user.total.at) >= lim {
			return &RateLimitError{Kind: "requests", RetryAfter: a.user.total.wait(now, ul.Per),
				Msg: fmt.Sprintf("Rate limit reached: you may send %d requests per %s.", ul.Total, ul.Per)}
		}
		if lim := nodeShare(ul.Success, nodes); lim > 0 && len(a.user.success.at) >= lim {
			return &RateLimitError{Kind: "requests", RetryAfter: a.user.success.wait(now, ul.Per),
				Msg: fmt.Sprintf("Rate limit reached: you may make %d successful requests per %s.", ul.Success, ul.Per)}
		}
	}
	return nil
}

// countRates counts a reserved request against its token's and user's
// limits (it finishes in finishRates).
func (a *accountActor) countRates(m *Reserve, res *Reservation) {
	now := m.Now.UnixNano()
	if t := m.Token; t.RPMLimit > 0 || t.TPMLimit > 0 || t.MaxParallel > 0 {
		tr := a.rate(t.ID)
		tr.inflight++
		tr.reqs.add(now, 1)
		res.rated = true
	}
	if ul := m.UserLimit; ul != nil && ul.Per > 0 && (ul.Total > 0 || ul.Success > 0) {
		a.user.total.add(now, 1)
		res.userRated = true
	}
}

// finishRates counts a finished request against its token's and user's
// rates.
func (a *accountActor) finishRates(res Reservation, s Spend, now time.Time) {
	if res.rated {
		tr := a.rate(res.TokenID)
		tr.inflight = max(tr.inflight-1, 0)
		if s.Tokens > 0 {
			tr.toks.add(now.UnixNano(), int64(s.Tokens))
		}
	}
	if res.userRated && s.OK {
		a.user.success.add(now.UnixNano(), 1)
	}
}

func (a *accountActor) rate(id int64) *tokenRate {
	if a.rates == nil {
		a.rates = map[int64]*tokenRate{}
	}
	r := a.rates[id]
	if r == nil {
		r = &tokenRate{}
		a.rates[id] = r
	}
	return r
}
