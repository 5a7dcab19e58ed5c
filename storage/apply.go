package storage

import (
	"crypto/sha256"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// apply dispatches one decoded command. It must be deterministic: it reads
// only the batch, the command and sequences inside the state.
func (t *tx) apply(c Command) Result {
	switch c := c.(type) {
	case *Bootstrap:
		return t.bootstrap(c)
	case *CreateUser:
		return t.createUser(c)
	case *UpdateUser:
		return t.updateUser(c)
	case *AddQuota:
		return t.addQuota(c)
	case *CreateToken:
		return t.createToken(c)
	case *UpdateToken:
		return t.updateToken(c)
	case *DeleteToken:
		return t.deleteToken(c)
	case *CreateChannels:
		return t.createChannels(c)
	case *UpdateChannel:
		return t.updateChannel(c)
	case *DeleteChannels:
		return t.deleteChannels(c)
	case *SetChannelStatus:
		return t.setChannelStatus(c)
	case *ChannelBalance:
		return t.channelBalance(c)
	case *SetChannelKey:
		return t.setChannelKey(c)
	case *ChannelTested:
		return t.channelTested(c)
	case *SetOptions:
		return t.setOptions(c)
	case *UsageBatch:
		return t.usageBatch(c)
	case *LeaseRequest:
		return t.leaseRequest(c)
	case *LeaseRelease:
		return t.leaseRelease(c)
	case *ExpireLeases:
		return t.expireLeases(c)
	case *AppendLogs:
		return t.appendLogs(c)
	case *DeleteLogs:
		return t.deleteLogs(c)
	case *Barrier:
		return Result{}
	case *SetNode:
		if c.Node.ID == "" {
			return Result{Err: fmt.Errorf("%w: empty node id", ErrBadCommand)}
		}
		t.setJSON(keyNode(c.Node.ID), &c.Node)
		t.effects.Nodes = true
		return Result{}
	case *RemoveNode:
		t.del(keyNode(c.ID))
		t.effects.Nodes = true
		return Result{}
	}
	return Result{Err: fmt.Errorf("%w %d", ErrUnknownCmd, c.Type())}
}

// TokenKeyHash is the index hash of an API key (without "sk-").
func TokenKeyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

func (t *tx) bootstrap(c *Bootstrap) Result {
	if t.seq("user") != 0 {
		return Result{Err: ErrBootstrapped}
	}
	r := t.createUser(&CreateUser{User: c.Root})
	if r.Err != nil {
		return r
	}
	t.setOptions(&SetOptions{Options: c.Options})
	return r
}

func (t *tx) createUser(c *CreateUser) Result {
	u := c.User
	if u.Username == "" {
		return Result{Err: fmt.Errorf("%w: empty username", ErrBadCommand)}
	}
	if _, taken := t.get(keyUserName(u.Username)); taken {
		return Result{Err: ErrNameTaken}
	}
	if u.AccessToken != "" {
		if _, taken := t.get(keyAccessToken(u.AccessToken)); taken {
			return Result{Err: ErrDuplicate}
		}
	}
	u.ID = t.nextID("user")
	if u.Group == "" {
		u.Group = "default"
	}
	if u.Status == 0 {
		u.Status = UserEnabled
	}
	if u.Role == 0 {
		u.Role = RoleCommon
	}
	t.set(keyUserName(u.Username), u64(uint64(u.ID)))
	if u.AccessToken != "" {
		t.set(keyAccessToken(u.AccessToken), u64(uint64(u.ID)))
	}
	t.markUser(&u, true)
	return Result{ID: u.ID}
}

func (t *tx) updateUser(c *UpdateUser) Result {
	u := t.user(c.ID)
	if u == nil {
		return Result{Err: ErrNotFound}
	}
	if c.Username != nil && *c.Username != u.Username {
		if *c.Username == "" {
			return Result{Err: fmt.Errorf("%w: empty username", ErrBadCommand)}
		}
		if _, taken := t.get(keyUserName(*c.Username)); taken {
			return Result{Err: ErrNameTaken}
		}
		t.del(keyUserName(u.Username))
		t.set(keyUserName(*c.Username), u64(uint64(u.ID)))
		u.Username = *c.Username
	}
	if c.AccessToken != nil && *c.AccessToken != u.AccessToken {
		if *c.AccessToken != "" {
			if _, taken := t.get(keyAccessToken(*c.AccessToken)); taken {
				return Result{Err: ErrDuplicate}
			}
			t.set(keyAccessToken(*c.AccessToken), u64(uint64(u.ID)))
		}
		if u.AccessToken != "" {
			t.del(keyAccessToken(u.AccessToken))
		}
		u.AccessToken = *c.AccessToken
	}
	if c.Password != nil {
		u.Password = *c.Password
	}
	if c.DisplayName != nil {
		u.DisplayName = *c.DisplayName
	}
	if c.Role != nil {
		u.Role = *c.Role
	}
	if c.Email != nil {
		u.Email = *c.Email
	}
	if c.Group != nil {
		u.Group = *c.Group
	}
	if c.Status != nil {
		u.Status = *c.Status
		if u.Status == UserDeleted && u.AccessToken != "" {
			t.del(keyAccessToken(u.AccessToken))
			u.AccessToken = ""
		}
	}
	if c.Quota != nil && *c.Quota != u.Quota {
		q := max(*c.Quota, 0)
		t.appendLog(&Log{
			UserID: u.ID, Username: u.Username, CreatedAt: c.Time, Type: LogManage,
			Content: fmt.Sprintf("admin changed quota from %d to %d", u.Quota, q),
		})
		u.Quota = q
		t.clampLeases(LeaseUser, u.ID, u.Quota)
		t.effects.Credited = append(t.effects.Credited, u.ID)
	}
	t.markUser(u, true)
	return Result{ID: u.ID}
}

func (t *tx) addQuota(c *AddQuota) Result {
	u := t.user(c.UserID)
	if u == nil {
		return Result{Err: ErrNotFound}
	}
	delta := c.Delta
	if u.Quota+delta < 0 {
		delta = -u.Quota
	}
	u.Quota += delta
	t.markUser(u, false)
	if delta < 0 {
		t.clampLeases(LeaseUser, u.ID, u.Quota)
	}
	t.effects.Credited = append(t.effects.Credited, u.ID)
	lt := c.LogType
	if lt == 0 {
		lt = LogTopup
	}
	t.appendLog(&Log{UserID: u.ID, Username: u.Username, CreatedAt: c.Time, Type: lt, Content: c.Content, Quota: delta})
	return Result{ID: u.ID}
}

// clampLeases keeps the leases on an account within its balance: when
// together they hold more (the balance was lowered, or a node spent past
// its lease), leases are cut, the last nodes in id order first.
func (t *tx) clampLeases(kind LeaseKind, id int64, balance int64) {
	var held int64
	for _, l := range t.acctLeases(kind, id) {
		held += l.Remaining
	}
	excess := held - max(balance, 0)
	if excess <= 0 {
		return
	}
	ls := t.leasesOf(kind, id)
	for i := len(ls) - 1; i >= 0 && excess > 0; i-- {
		l := ls[i]
		cut := min(l.Remaining, excess)
		if cut == 0 {
			continue
		}
		l.Remaining -= cut
		excess -= cut
		t.putLease(&l)
	}
}

func (t *tx) createToken(c *CreateToken) Result {
	tok := c.Token
	if len(tok.Key) == 0 {
		return Result{Err: fmt.Errorf("%w: empty key", ErrBadCommand)}
	}
	if t.user(tok.UserID) == nil {
		return Result{Err: ErrNotFound}
	}
	hk := keyTokenKey(TokenKeyHash(tok.Key))
	if _, taken := t.get(hk); taken {
		return Result{Err: ErrDuplicate}
	}
	tok.ID = t.nextID("token")
	if tok.Status == 0 {
		tok.Status = TokenEnabled
	}
	t.set(hk, u64(uint64(tok.ID)))
	t.set(keyTokenUser(tok.UserID, tok.ID), nil)
	t.markToken(&tok, true)
	return Result{ID: tok.ID}
}

func (t *tx) updateToken(c *UpdateToken) Result {
	cur := t.token(c.Token.ID)
	if cur == nil || (c.Token.UserID != 0 && cur.UserID != c.Token.UserID) {
		return Result{Err: ErrNotFound}
	}
	n := c.Token
	n.UserID, n.Key, n.CreatedTime, n.UsedQuota, n.AccessedTime = cur.UserID, cur.Key, cur.CreatedTime, cur.UsedQuota, cur.AccessedTime
	if n.RemainQuota != cur.RemainQuota || n.UnlimitedQuota != cur.UnlimitedQuota {
		if n.UnlimitedQuota {
			for _, l := range t.leasesOf(LeaseToken, n.ID) {
				t.dropLease(LeaseToken, n.ID, l.Node)
			}
		} else {
			t.clampLeases(LeaseToken, n.ID, n.RemainQuota)
		}
		t.effects.Credited = append(t.effects.Credited, n.UserID)
	}
	*cur = n
	t.markToken(cur, true)
	return Result{ID: n.ID}
}

func (t *tx) deleteToken(c *DeleteToken) Result {
	tok := t.token(c.ID)
	if tok == nil || (c.UserID != 0 && tok.UserID != c.UserID) {
		return Result{Err: ErrNotFound}
	}
	for _, l := range t.leasesOf(LeaseToken, tok.ID) {
		t.dropLease(LeaseToken, tok.ID, l.Node)
	}
	t.del(keyToken(tok.ID))
	t.del(keyTokenKey(TokenKeyHash(tok.Key)))
	t.del(keyTokenUser(tok.UserID, tok.ID))
	t.forgetToken(tok.ID)
	return Result{ID: tok.ID}
}

func (t *tx) createChannels(c *CreateChannels) Result {
	var r Result
	for _, ch := range c.Channels {
		ch.ID = t.nextID("channel")
		if ch.Status == 0 {
			ch.Status = ChannelEnabled
		}
		t.markChannel(&ch, true)
		r.IDs = append(r.IDs, ch.ID)
	}
	if len(r.IDs) > 0 {
		r.ID = r.IDs[0]
	}
	return r
}

func (t *tx) updateChannel(c *UpdateChannel) Result {
	cur := t.channel(c.Channel.ID)
	if cur == nil {
		return Result{Err: ErrNotFound}
	}
	n := c.Channel
	n.UsedQuota, n.Balance, n.BalanceUpdatedTime = cur.UsedQuota, cur.Balance, cur.BalanceUpdatedTime
	n.TestTime, n.ResponseTime, n.CreatedTime = cur.TestTime, cur.ResponseTime, cur.CreatedTime
	if n.Status == 0 {
		n.Status = cur.Status
	}
	*cur = n
	t.markChannel(cur, true)
	return Result{ID: n.ID}
}

func (t *tx) deleteChannels(c *DeleteChannels) Result {
	ids := append([]int64(nil), c.IDs...)
	if c.Disabled {
		t.iterate(prefixChannel, func(k, v []byte) bool {
			var ch Channel
			if err := unmarshal(v, &ch); err == nil && ch.Status != ChannelEnabled {
				ids = append(ids, ch.ID)
			}
			return true
		})
	}
	var r Result
	for _, id := range ids {
		if t.channel(id) == nil {
			continue
		}
		t.del(keyChannel(id))
		t.forgetChannel(id)
		r.IDs = append(r.IDs, id)
	}
	if len(ids) > 0 && len(r.IDs) == 0 && !c.Disabled {
		return Result{Err: ErrNotFound}
	}
	return r
}

func (t *tx) setChannelStatus(c *SetChannelStatus) Result {
	ch := t.channel(c.ID)
	if ch == nil {
		return Result{Err: ErrNotFound}
	}
	if ch.Status == c.Status || c.OnlyFrom != 0 && ch.Status != c.OnlyFrom {
		return Result{ID: ch.ID}
	}
	ch.Status = c.Status
	t.markChannel(ch, true)
	if c.Reason != "" {
		t.appendLog(&Log{CreatedAt: c.Time, Type: LogSystem, ChannelID: ch.ID,
			Content: fmt.Sprintf("channel #%d (%s) status %d: %s", ch.ID, ch.Name, c.Status, c.Reason)})
	}
	return Result{ID: ch.ID}
}

func (t *tx) setChannelKey(c *SetChannelKey) Result {
	ch := t.channel(c.ID)
	if ch == nil {
		return Result{Err: ErrNotFound}
	}
	keys := len(SplitKeys(ch.Key))
	if c.Index < 0 || c.Index >= keys {
		return Result{Err: fmt.Errorf("%w: key %d of %d", ErrBadCommand, c.Index, keys)}
	}
	off := map[int]bool{}
	for _, p := range strings.Split(ch.DisabledKeys, ",") {
		if i, err := strconv.Atoi(strings.TrimSpace(p)); err == nil && i >= 0 && i < keys {
			off[i] = true
		}
	}
	if off[c.Index] == c.Disabled {
		return Result{ID: ch.ID}
	}
	if c.Disabled {
		off[c.Index] = true
	} else {
		delete(off, c.Index)
	}
	idx := make([]string, 0, len(off))
	for i := 0; i < keys; i++ {
		if off[i] {
			idx = append(idx, strconv.Itoa(i))
		}
	}
	ch.DisabledKeys = strings.Join(idx, ",")
	verb := "enabled"
	if c.Disabled {
		verb = "disabled"
	}
	t.appendLog(&Log{CreatedAt: c.Time, Type: LogSystem, ChannelID: ch.ID,
		Content: fmt.Sprintf("channel #%d (%s) key %d %s: %s", ch.ID, ch.Name, c.Index, verb, c.Reason)})
	if len(off) == keys && ch.Status == ChannelEnabled {
		ch.Status = ChannelAutoDisabled
		t.appendLog(&Log{CreatedAt: c.Time, Type: LogSystem, ChannelID: ch.ID,
			Content: fmt.Sprintf("channel #%d (%s) status %d: automatically disabled: every key is disabled", ch.ID, ch.Name, ChannelAutoDisabled)})
	}
	t.markChannel(ch, true)
	return Result{ID: ch.ID}
}

func (t *tx) channelBalance(c *ChannelBalance) Result {
	ch := t.channel(c.ID)
	if ch == nil {
		return Result{Err: ErrNotFound}
	}
	ch.Balance, ch.BalanceUpdatedTime = c.Balance, c.Time
	t.markChannel(ch, false)
	return Result{ID: ch.ID}
}

func (t *tx) channelTested(c *ChannelTested) Result {
	ch := t.channel(c.ID)
	if ch == nil {
		return Result{Err: ErrNotFound}
	}
	ch.ResponseTime, ch.TestTime = c.ResponseTime, c.Time
	t.markChannel(ch, false)
	return Result{ID: ch.ID}
}

func (t *tx) setOptions(c *SetOptions) Result {
	names := make([]string, 0, len(c.Options))
	for k := range c.Options {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.set(keyOption(k), []byte(c.Options[k]))
	}
	if len(names) > 0 {
		t.effects.Options = true
	}
	return Result{}
}

// usageBatch applies a node's settled requests once each (see UsageBatch).
func (t *tx) usageBatch(c *UsageBatch) Result {
	dk := keyDedupe(c.Node)
	last := t.getU64(dk)
	// Records must continue the node's sequence without a gap: a batch
	// that skips ahead (it overtook an earlier one) is refused whole, and
	// the shipper re-ships from the high-water mark. Records at or below
	// the mark (re-shipped) are skipped.
	next := last + 1
	for i := range c.Records {
		switch s := c.Records[i].Seq; {
		case s > next:
			return Result{Err: fmt.Errorf("%w: node %s record %d after %d", ErrUsageGap, c.Node, s, next-1)}
		case s == next:
			next++
		}
	}
	high := last
	for i := range c.Records {
		rec := &c.Records[i]
		if rec.Seq != high+1 {
			continue
		}
		high = rec.Seq
		t.applyUsage(c.Node, rec)
	}
	if high != last {
		t.setU64(dk, high)
	}
	return Result{}
}

func (t *tx) applyUsage(node string, rec *UsageRecord) {
	u := t.user(rec.UserID)
	log := &Log{
		UserID: rec.UserID, CreatedAt: rec.Time, Type: LogConsume, TokenName: rec.TokenName,
		TokenID: rec.TokenID, ModelName: rec.Model, PromptTokens: rec.PromptTokens,
		CompletionTokens: rec.CompletionTokens, ChannelID: rec.ChannelID, RequestID: rec.RequestID,
		ElapsedTime: rec.ElapsedMs, IsStream: rec.IsStream, Content: rec.Content, Node: node,
	}
	if u != nil {
		log.Username = u.Username
	}
	if rec.Abandoned || u == nil {
		log.Type = LogSystem
		if rec.Abandoned && log.Content == "" {
			log.Content = "request interrupted by a node crash; reservation released, nothing charged"
		}
		t.appendLog(log)
		return
	}
	charge := min(max(rec.Quota, 0), u.Quota)
	tok := t.token(rec.TokenID)
	if tok != nil && !tok.UnlimitedQuota {
		charge = min(charge, max(tok.RemainQuota, 0))
	}
	u.Quota -= charge
	u.UsedQuota += charge
	u.RequestCount++
	t.markUser(u, false)
	if tok != nil {
		tok.UsedQuota += charge
		tok.AccessedTime = rec.Time
		statusChanged := false
		if !tok.UnlimitedQuota {
			tok.RemainQuota -= charge
			if tok.RemainQuota <= 0 && tok.Status == TokenEnabled {
				tok.Status = TokenExhausted
				statusChanged = true
			}
		}
		t.markToken(tok, statusChanged)
	}
	if ch := t.channel(rec.ChannelID); ch != nil {
		ch.UsedQuota += charge
		t.markChannel(ch, false)
	}
	t.spendLease(LeaseUser, rec.UserID, node, charge)
	t.clampLeases(LeaseUser, rec.UserID, u.Quota)
	if tok != nil && !tok.UnlimitedQuota {
		t.spendLease(LeaseToken, tok.ID, node, charge)
		t.clampLeases(LeaseToken, tok.ID, tok.RemainQuota)
	}
	log.Quota = charge
	t.appendLog(log)
	t.addDay(rec, charge)
	t.effects.Charged = append(t.effects.Charged, Charge{
		Node: node, UserID: rec.UserID, TokenID: rec.TokenID, Quota: charge, Requested: rec.Quota,
	})
}

func (t *tx) spendLease(kind LeaseKind, id int64, node string, q int64) {
	if q == 0 {
		return
	}
	l, ok := t.acctLeases(kind, id)[node]
	if !ok {
		return
	}
	l.Remaining -= min(q, l.Remaining)
	t.leases[leaseKey{acctKey{kind, id}, node}] = struct{}{}
}

// DayOf formats a Unix time as the UTC day key used by aggregates.
func DayOf(unix int64) string { return time.Unix(unix, 0).UTC().Format("20060102") }

func (t *tx) addDay(rec *UsageRecord, charge int64) {
	k := string(keyAggDay(DayOf(rec.Time), rec.UserID, rec.Model))
	a := t.aggs[k]
	if a == nil {
		a = &DayAggregate{}
		t.getJSON([]byte(k), a)
		t.aggs[k] = a
	}
	a.Requests++
	a.PromptTokens += int64(rec.PromptTokens)
	a.CompletionTokens += int64(rec.CompletionTokens)
	a.Quota += charge
}

func (t *tx) leaseRequest(c *LeaseRequest) Result {
	u := t.user(c.UserID)
	if u == nil {
		return Result{Err: ErrNotFound}
	}
	t.grant(LeaseUser, u.ID, c.Node, u.Quota, c.WantUser, c.ExpiresAt, c.Nodes, c.Need)
	if c.TokenID != 0 {
		if tok := t.token(c.TokenID); tok != nil && !tok.UnlimitedQuota {
			t.grant(LeaseToken, tok.ID, c.Node, tok.RemainQuota, c.WantToken, c.ExpiresAt, c.Nodes, c.Need)
		}
	}
	return Result{ID: u.ID}
}

// grant sets node's lease on an account to min(want, balance − what the
// other nodes hold), never below zero, and stamps its expiry.
// grant sets node's lease on an account to min(want, what is free), where
// free counts the node's own current lease. With nodes > 1 the grant is
// also capped at a fair share: free/nodes, at least need, rounded up to a
// multiple of need.
func (t *tx) grant(kind LeaseKind, id int64, node string, balance, want, expires int64, nodes int, need int64) {
	var others int64
	for _, l := range t.leasesOf(kind, id) {
		if l.Node != node {
			others += l.Remaining
		}
	}
	avail := max(balance-others, 0)
	if want < 0 {
		want = 0
	}
	if nodes > 1 {
		share := avail / int64(nodes)
		if need > 0 {
			share = max(share, need)
			if r := share % need; r != 0 {
				share += need - r
			}
		}
		want = min(want, share)
	}
	if want == math.MaxInt64 || want > avail {
		want = avail
	}
	t.putLease(&Lease{Kind: kind, ID: id, Node: node, Remaining: want, ExpiresAt: expires})
}

func (t *tx) leaseRelease(c *LeaseRelease) Result {
	if _, ok := t.lease(LeaseUser, c.UserID, c.Node); ok {
		t.dropLease(LeaseUser, c.UserID, c.Node)
	}
	if c.TokenID != 0 {
		if _, ok := t.lease(LeaseToken, c.TokenID, c.Node); ok {
			t.dropLease(LeaseToken, c.TokenID, c.Node)
		}
	}
	return Result{}
}

func (t *tx) expireLeases(c *ExpireLeases) Result {
	// Leases changed earlier in this batch are still in the cache: write
	// them first so the scan sees them.
	t.writeLeases()
	var expired []Lease
	t.iterate(prefixLease, func(_, v []byte) bool {
		var l Lease
		if err := unmarshal(v, &l); err == nil && l.ExpiresAt < c.Now {
			expired = append(expired, l)
		}
		return true
	})
	for _, l := range expired {
		t.dropLease(l.Kind, l.ID, l.Node)
	}
	return Result{}
}

func (t *tx) appendLogs(c *AppendLogs) Result {
	var r Result
	for _, l := range c.Logs {
		if l.Username == "" && l.UserID != 0 {
			if u := t.user(l.UserID); u != nil {
				l.Username = u.Username
			}
		}
		t.appendLog(&l)
		r.IDs = append(r.IDs, l.ID)
	}
	return r
}

func (t *tx) deleteLogs(c *DeleteLogs) Result {
	end := keyLog(c.Before, 0)
	var userKeys [][]byte
	var n int64
	t.iterate(prefixLog, func(k, v []byte) bool {
		if string(k) >= string(end) {
			return false
		}
		var l Log
		if err := decodeLogRow(v, &l); err == nil && l.UserID != 0 {
			userKeys = append(userKeys, keyLogUser(l.UserID, l.CreatedAt, l.ID))
		}
		n++
		return true
	})
	t.delRange(prefixLog, end)
	for _, k := range userKeys {
		t.del(k)
	}
	return Result{ID: n}
}
