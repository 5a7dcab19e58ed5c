package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/cockroachdb/pebble/v2"
)

// Reads see the state as of some applied index; they never block applies.

func (s *Store) get(k []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

func (s *Store) getJSON(k []byte, v any) (bool, error) {
	b, ok, err := s.get(k)
	if err != nil || !ok {
		return false, err
	}
	if err := sonic.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %q: %w", k, err)
	}
	return true, nil
}

func (s *Store) scan(p []byte, fn func(k, v []byte) (bool, error)) error {
	return s.scanRange(p, PrefixEnd(p), false, fn)
}

func (s *Store) scanRange(lo, hi []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	valid := it.First()
	if reverse {
		valid = it.Last()
	}
	for ; valid; valid = advance(it, reverse) {
		more, err := fn(it.Key(), it.Value())
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	return it.Error()
}

func advance(it *pebble.Iterator, reverse bool) bool {
	if reverse {
		return it.Prev()
	}
	return it.Next()
}

func (s *Store) idAt(k []byte) (int64, bool, error) {
	v, ok, err := s.get(k)
	if err != nil || !ok || len(v) != 8 {
		return 0, false, err
	}
	return int64(binary.BigEndian.Uint64(v)), true, nil
}

// scanAll decodes every JSON record under prefix p, in key order.
func scanAll[T any](s *Store, p []byte) ([]T, error) {
	var out []T
	err := s.scan(p, func(_, v []byte) (bool, error) {
		var r T
		if err := sonic.Unmarshal(v, &r); err != nil {
			return false, err
		}
		out = append(out, r)
		return true, nil
	})
	return out, err
}

// User returns a user by id.
func (s *Store) User(id int64) (*User, error) {
	var u User
	ok, err := s.getJSON(keyUser(id), &u)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return &u, nil
}

// UserByName returns a user by username.
func (s *Store) UserByName(name string) (*User, error) {
	id, ok, err := s.idAt(keyUserName(name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return s.User(id)
}

// UserByAccessToken returns the user owning a management access token.
func (s *Store) UserByAccessToken(tok string) (*User, error) {
	if tok == "" {
		return nil, ErrNotFound
	}
	id, ok, err := s.idAt(keyAccessToken(tok))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return s.User(id)
}

// Users returns every user in id order (deleted ones included), for
// snapshots and admin listing.
func (s *Store) Users() ([]User, error) { return scanAll[User](s, prefixUser) }

// Token returns a token by id.
func (s *Store) Token(id int64) (*Token, error) {
	var t Token
	ok, err := s.getJSON(keyToken(id), &t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return &t, nil
}

// Tokens returns every token in id order.
func (s *Store) Tokens() ([]Token, error) { return scanAll[Token](s, prefixToken) }

// TokensOf returns a user's tokens in id order.
func (s *Store) TokensOf(uid int64) ([]Token, error) {
	var out []Token
	p := join(prefixTokenUser, u64(uint64(uid)), nil)
	err := s.scan(p, func(k, _ []byte) (bool, error) {
		tid := int64(binary.BigEndian.Uint64(k[len(p):]))
		t, err := s.Token(tid)
		if errors.Is(err, ErrNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		out = append(out, *t)
		return true, nil
	})
	return out, err
}

// Channel returns a channel by id.
func (s *Store) Channel(id int64) (*Channel, error) {
	var c Channel
	ok, err := s.getJSON(keyChannel(id), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return &c, nil
}

// Channels returns every channel in id order.
func (s *Store) Channels() ([]Channel, error) { return scanAll[Channel](s, prefixChannel) }

// Option returns one option value.
func (s *Store) Option(name string) (string, bool, error) {
	v, ok, err := s.get(keyOption(name))
	return string(v), ok, err
}

// Options returns every option.
func (s *Store) Options() (map[string]string, error) {
	out := map[string]string{}
	err := s.scan(prefixOption, func(k, v []byte) (bool, error) {
		out[string(k[len(prefixOption):])] = string(v)
		return true, nil
	})
	return out, err
}

// Lease returns a node's lease on an account (false when it holds none).
func (s *Store) Lease(kind LeaseKind, id int64, node string) (Lease, bool, error) {
	var l Lease
	ok, err := s.getJSON(keyLease(kind, id, node), &l)
	return l, ok, err
}

// Leases returns every lease.
func (s *Store) Leases() ([]Lease, error) { return scanAll[Lease](s, prefixLease) }

// LeasesOn returns every node's lease on one account.
func (s *Store) LeasesOn(kind LeaseKind, id int64) ([]Lease, error) {
	return scanAll[Lease](s, keyLease(kind, id, ""))
}

// UsageHighWater is the highest usage close-sequence of node applied so far.
func (s *Store) UsageHighWater(node string) (uint64, error) { return s.getU64(keyDedupe(node)) }

// LogFilter selects log rows. Zero fields match everything. Times are Unix
// seconds, End inclusive.
type LogFilter struct {
	Type      int
	UserID    int64
	Username  string
	TokenName string
	ModelName string
	ChannelID int64
	Start     int64
	End       int64
}

func (f *LogFilter) match(l *Log) bool {
	return (f.Type == 0 || l.Type == f.Type) &&
		(f.UserID == 0 || l.UserID == f.UserID) &&
		(f.Username == "" || l.Username == f.Username) &&
		(f.TokenName == "" || l.TokenName == f.TokenName) &&
		(f.ModelName == "" || strings.Contains(l.ModelName, f.ModelName)) &&
		(f.ChannelID == 0 || l.ChannelID == f.ChannelID) &&
		(f.Start == 0 || l.CreatedAt >= f.Start) &&
		(f.End == 0 || l.CreatedAt <= f.End)
}

func (s *Store) logBounds(f *LogFilter) (lo, hi []byte) {
	if f.UserID != 0 {
		p := join(prefixLogUser, u64(uint64(f.UserID)), nil)
		lo, hi = p, PrefixEnd(p)
		if f.Start > 0 {
			lo = join(p, u64(uint64(f.Start)))
		}
		if f.End > 0 {
			hi = join(p, u64(uint64(f.End+1)))
		}
		return lo, hi
	}
	lo, hi = prefixLog, PrefixEnd(prefixLog)
	if f.Start > 0 {
		lo = keyLog(f.Start, 0)
	}
	if f.End > 0 {
		hi = keyLog(f.End+1, 0)
	}
	return lo, hi
}

// eachLog calls fn for logs matching f, newest first.
func (s *Store) eachLog(f LogFilter, fn func(*Log) bool) error {
	lo, hi := s.logBounds(&f)
	byUser := f.UserID != 0
	return s.scanRange(lo, hi, true, func(k, v []byte) (bool, error) {
		if byUser {
			// gu/<uid>/<ts>/<id> → g/<ts>/<id>
			n := len(prefixLogUser) + 9
			ts := binary.BigEndian.Uint64(k[n : n+8])
			id := binary.BigEndian.Uint64(k[n+9:])
			b, ok, err := s.get(keyLog(int64(ts), int64(id)))
			if err != nil {
				return false, err
			}
			if !ok {
				return true, nil
			}
			v = b
		}
		var l Log
		if err := decodeLogRow(v, &l); err != nil {
			return false, err
		}
		if !f.match(&l) {
			return true, nil
		}
		return fn(&l), nil
	})
}

// Logs returns one page of matching logs, newest first.
func (s *Store) Logs(f LogFilter, offset, limit int) ([]Log, error) {
	out := []Log{}
	skipped := 0
	err := s.eachLog(f, func(l *Log) bool {
		if skipped < offset {
			skipped++
			return true
		}
		out = append(out, *l)
		return len(out) < limit
	})
	return out, err
}

// LogStat sums quota and tokens of matching logs.
type LogStat struct {
	Quota            int64 `json:"quota"`
	Count            int64 `json:"count"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// SumLogs computes LogStat over every matching log.
func (s *Store) SumLogs(f LogFilter) (LogStat, error) {
	var st LogStat
	err := s.eachLog(f, func(l *Log) bool {
		st.Quota += l.Quota
		st.Count++
		st.PromptTokens += int64(l.PromptTokens)
		st.CompletionTokens += int64(l.CompletionTokens)
		return true
	})
	return st, err
}

// DayUsage is one row of the per-day, per-model usage of a user.
type DayUsage struct {
	Day    string `json:"day"`
	UserID int64  `json:"user_id"`
	Model  string `json:"model_name"`
	DayAggregate
}

// DailyUsage returns aggregates for days in [from, to] (yyyymmdd), for
// userID or (0) everyone.
func (s *Store) DailyUsage(from, to string, userID int64) ([]DayUsage, error) {
	var out []DayUsage
	lo := join(prefixAggDay, []byte(from))
	hi := PrefixEnd(join(prefixAggDay, []byte(to), nil))
	err := s.scanRange(lo, hi, false, func(k, v []byte) (bool, error) {
		rest := k[len(prefixAggDay):]
		if len(rest) < 8+1+8+1 {
			return true, nil
		}
		d := DayUsage{Day: string(rest[:8]), UserID: int64(binary.BigEndian.Uint64(rest[9:17])), Model: string(rest[18:])}
		if userID != 0 && d.UserID != userID {
			return true, nil
		}
		if err := sonic.Unmarshal(v, &d.DayAggregate); err != nil {
			return false, err
		}
		out = append(out, d)
		return true, nil
	})
	return out, err
}

// Nodes lists the cluster members' addresses, in id order.
func (s *Store) Nodes() ([]NodeInfo, error) { return scanAll[NodeInfo](s, prefixNode) }
