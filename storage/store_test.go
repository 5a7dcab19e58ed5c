package storage

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// harness applies commands to an in-memory store as Raft would, one entry
// per command, with increasing indexes.
type harness struct {
	t     testing.TB
	s     *Store
	index uint64
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &harness{t: t, s: s}
}

func (h *harness) apply(cmds ...Command) []Result {
	h.t.Helper()
	var es []Entry
	for _, c := range cmds {
		b, err := Encode(c)
		if err != nil {
			h.t.Fatal(err)
		}
		h.index++
		es = append(es, Entry{Index: h.index, Data: b})
	}
	return h.s.ApplyEntries(es)
}

func (h *harness) must(c Command) Result {
	h.t.Helper()
	r := h.apply(c)[0]
	if r.Err != nil {
		h.t.Fatalf("%T: %v", c, r.Err)
	}
	return r
}

func (h *harness) user(id int64) *User {
	h.t.Helper()
	u, err := h.s.User(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

func (h *harness) token(id int64) *Token {
	h.t.Helper()
	tk, err := h.s.Token(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return tk
}

// setup creates user 1 (quota) with an unlimited token 1 and a token 2
// limited to tokenQuota, and channel 1.
func (h *harness) setup(quota, tokenQuota int64) {
	h.must(&CreateUser{User: User{Username: "alice", Quota: quota}})
	h.must(&CreateToken{Token: Token{UserID: 1, Key: "k1", Name: "unl", UnlimitedQuota: true, ExpiredTime: -1}})
	h.must(&CreateToken{Token: Token{UserID: 1, Key: "k2", Name: "lim", RemainQuota: tokenQuota, ExpiredTime: -1}})
	h.must(&CreateChannels{Channels: []Channel{{Type: 1, Name: "c", Key: "sk", Models: "m", Group: "default"}}})
}

func usage(seq uint64, tok int64, q int64) UsageRecord {
	return UsageRecord{Seq: seq, UserID: 1, TokenID: tok, ChannelID: 1, Model: "m", PromptTokens: 10, CompletionTokens: 5, Quota: q, Time: 1700000000 + int64(seq)}
}

func TestUsageBatchAppliedOnce(t *testing.T) {
	h := newHarness(t)
	h.setup(1000, 500)
	batch := &UsageBatch{Node: "n1", Records: []UsageRecord{usage(1, 1, 10), usage(2, 2, 20)}}
	h.must(batch)
	h.must(batch) // re-shipped after a timeout: must not charge again
	h.must(&UsageBatch{Node: "n1", Records: []UsageRecord{usage(2, 2, 20), usage(3, 1, 5)}})

	u := h.user(1)
	if u.Quota != 965 || u.UsedQuota != 35 || u.RequestCount != 3 {
		t.Fatalf("user quota=%d used=%d requests=%d, want 965/35/3", u.Quota, u.UsedQuota, u.RequestCount)
	}
	if tk := h.token(2); tk.RemainQuota != 480 || tk.UsedQuota != 20 {
		t.Fatalf("limited token remain=%d used=%d, want 480/20", tk.RemainQuota, tk.UsedQuota)
	}
	if tk := h.token(1); tk.UsedQuota != 15 {
		t.Fatalf("unlimited token used=%d, want 15", tk.UsedQuota)
	}
	st, err := h.s.SumLogs(LogFilter{Type: LogConsume})
	if err != nil {
		t.Fatal(err)
	}
	if st.Quota != 35 || st.Count != 3 {
		t.Fatalf("consume logs sum=%d count=%d, want 35/3", st.Quota, st.Count)
	}
	// A batch that skips a sequence is refused whole.
	if r := h.apply(&UsageBatch{Node: "n1", Records: []UsageRecord{usage(5, 1, 1000)}})[0]; !errors.Is(r.Err, ErrUsageGap) {
		t.Fatalf("gap accepted: %v", r.Err)
	}
	// Another node's sequence space is independent.
	h.must(&UsageBatch{Node: "n2", Records: []UsageRecord{usage(1, 1, 7)}})
	if u := h.user(1); u.UsedQuota != 42 {
		t.Fatalf("used=%d after node n2's batch, want 42", u.UsedQuota)
	}
}

func TestChargeNeverOverdraws(t *testing.T) {
	h := newHarness(t)
	h.setup(100, 30)
	h.must(&UsageBatch{Node: "n1", Records: []UsageRecord{usage(1, 2, 50)}})
	if tk := h.token(2); tk.RemainQuota != 0 || tk.Status != TokenExhausted || tk.UsedQuota != 30 {
		t.Fatalf("token remain=%d status=%d used=%d, want 0/%d/30", tk.RemainQuota, tk.Status, tk.UsedQuota, TokenExhausted)
	}
	h.must(&UsageBatch{Node: "n1", Records: []UsageRecord{usage(2, 1, 500)}})
	u := h.user(1)
	if u.Quota != 0 || u.UsedQuota != 100 {
		t.Fatalf("user quota=%d used=%d, want 0/100", u.Quota, u.UsedQuota)
	}
	logs, _ := h.s.Logs(LogFilter{Type: LogConsume}, 0, 10)
	var sum int64
	for _, l := range logs {
		sum += l.Quota
	}
	if sum != 100 {
		t.Fatalf("logs record %d charged, want 100 (what the balance held)", sum)
	}
}

func TestLeaseGrantsOnlyAvailable(t *testing.T) {
	h := newHarness(t)
	h.setup(1000, 300)
	h.must(&LeaseRequest{Node: "a", UserID: 1, TokenID: 2, WantUser: 600, WantToken: 200, ExpiresAt: 10})
	h.must(&LeaseRequest{Node: "b", UserID: 1, TokenID: 2, WantUser: 600, WantToken: 200, ExpiresAt: 10})
	la, _, _ := h.s.Lease(LeaseUser, 1, "a")
	lb, _, _ := h.s.Lease(LeaseUser, 1, "b")
	if la.Remaining != 600 || lb.Remaining != 400 {
		t.Fatalf("user leases a=%d b=%d, want 600/400", la.Remaining, lb.Remaining)
	}
	ta, _, _ := h.s.Lease(LeaseToken, 2, "a")
	tb, _, _ := h.s.Lease(LeaseToken, 2, "b")
	if ta.Remaining != 200 || tb.Remaining != 100 {
		t.Fatalf("token leases a=%d b=%d, want 200/100", ta.Remaining, tb.Remaining)
	}
	// Spending through a lease shrinks it; releasing returns it.
	h.must(&UsageBatch{Node: "a", Records: []UsageRecord{usage(1, 2, 150)}})
	la, _, _ = h.s.Lease(LeaseUser, 1, "a")
	ta, _, _ = h.s.Lease(LeaseToken, 2, "a")
	if la.Remaining != 450 || ta.Remaining != 50 {
		t.Fatalf("after spending: user lease %d token lease %d, want 450/50", la.Remaining, ta.Remaining)
	}
	h.must(&LeaseRelease{Node: "b", UserID: 1, TokenID: 2})
	if _, ok, _ := h.s.Lease(LeaseUser, 1, "b"); ok {
		t.Fatal("released lease still present")
	}
	// Expiry drops leases past their time only.
	h.must(&LeaseRequest{Node: "c", UserID: 1, WantUser: 10, ExpiresAt: 100})
	h.must(&ExpireLeases{Now: 50})
	if _, ok, _ := h.s.Lease(LeaseUser, 1, "a"); ok {
		t.Fatal("expired lease of a still present")
	}
	if _, ok, _ := h.s.Lease(LeaseUser, 1, "c"); !ok {
		t.Fatal("live lease of c was expired")
	}
}

func TestLowerBalanceDropsLeases(t *testing.T) {
	h := newHarness(t)
	h.setup(1000, 0)
	h.must(&LeaseRequest{Node: "a", UserID: 1, WantUser: 1000, ExpiresAt: 10})
	h.must(&LeaseRequest{Node: "b", UserID: 1, WantUser: 1000, ExpiresAt: 10})
	q := int64(100)
	h.must(&UpdateUser{ID: 1, Quota: &q, Time: 1})
	la, _, _ := h.s.Lease(LeaseUser, 1, "a")
	if la.Remaining != 100 {
		t.Fatalf("lease of a is %d after the balance fell to 100, want 100", la.Remaining)
	}
}

func TestBusinessErrors(t *testing.T) {
	h := newHarness(t)
	h.setup(0, 0)
	r := h.apply(&CreateUser{User: User{Username: "alice"}})[0]
	if !errors.Is(r.Err, ErrNameTaken) {
		t.Fatalf("duplicate username: %v", r.Err)
	}
	r = h.apply(&CreateToken{Token: Token{UserID: 1, Key: "k1"}})[0]
	if !errors.Is(r.Err, ErrDuplicate) {
		t.Fatalf("duplicate key: %v", r.Err)
	}
	r = h.apply(&DeleteToken{ID: 1, UserID: 99})[0]
	if !errors.Is(r.Err, ErrNotFound) {
		t.Fatalf("deleting another user's token: %v", r.Err)
	}
	if got := h.apply(&Bootstrap{Root: User{Username: "root"}})[0]; !errors.Is(got.Err, ErrBootstrapped) {
		t.Fatalf("second bootstrap: %v", got.Err)
	}
}

func TestReplayedEntriesSkipped(t *testing.T) {
	h := newHarness(t)
	h.setup(1000, 0)
	b, _ := Encode(&AddQuota{UserID: 1, Delta: 5, Time: 1})
	h.s.ApplyEntries([]Entry{{Index: 100, Data: b}})
	h.s.ApplyEntries([]Entry{{Index: 100, Data: b}, {Index: 99, Data: b}}) // a restart replays the log
	if u := h.user(1); u.Quota != 1005 {
		t.Fatalf("quota %d, want 1005", u.Quota)
	}
	if h.s.AppliedIndex() != 100 {
		t.Fatalf("applied %d", h.s.AppliedIndex())
	}
}

// randomLog builds a reproducible sequence of money commands.
func randomLog(seed uint64, n int) []Command {
	r := rand.New(rand.NewPCG(seed, 1))
	cmds := []Command{
		&CreateUser{User: User{Username: "u1", Quota: 10_000}},
		&CreateUser{User: User{Username: "u2", Quota: 500}},
		&CreateToken{Token: Token{UserID: 1, Key: "a", UnlimitedQuota: true}},
		&CreateToken{Token: Token{UserID: 2, Key: "b", RemainQuota: 300}},
	}
	seqs := map[string]uint64{}
	for i := 0; i < n; i++ {
		node := []string{"n1", "n2", "n3"}[r.IntN(3)]
		uid := int64(1 + r.IntN(2))
		switch r.IntN(6) {
		case 0:
			cmds = append(cmds, &AddQuota{UserID: uid, Delta: int64(r.IntN(400)) - 100, Time: int64(i)})
		case 1:
			cmds = append(cmds, &LeaseRequest{Node: node, UserID: uid, TokenID: uid, WantUser: int64(r.IntN(5000)), WantToken: int64(r.IntN(200)), ExpiresAt: int64(i + r.IntN(50))})
		case 2:
			cmds = append(cmds, &ExpireLeases{Now: int64(i)})
		default:
			var recs []UsageRecord
			for j := r.IntN(5); j >= 0; j-- {
				seq := seqs[node] + 1
				if r.IntN(10) == 0 && seq > 3 {
					seq -= 3 // a re-shipped record
				} else {
					seqs[node]++
				}
				recs = append(recs, UsageRecord{Seq: seq, UserID: uid, TokenID: uid, Model: "m", Quota: int64(r.IntN(300)), Time: int64(i)})
			}
			cmds = append(cmds, &UsageBatch{Node: node, Records: recs})
		}
	}
	return cmds
}

// TestMoneyInvariants checks, over random command logs, that no quota is
// created or destroyed, that logs agree with counters, and that no balance
// or lease goes negative or exceeds what backs it.
func TestMoneyInvariants(t *testing.T) {
	for seed := uint64(0); seed < 30; seed++ {
		h := newHarness(t)
		credited := map[int64]int64{1: 10_000, 2: 500}
		for _, c := range randomLog(seed, 300) {
			before := map[int64]int64{}
			if aq, ok := c.(*AddQuota); ok {
				u, err := h.s.User(aq.UserID)
				if err == nil {
					before[aq.UserID] = u.Quota
				}
			}
			h.must(c)
			if aq, ok := c.(*AddQuota); ok {
				credited[aq.UserID] += h.user(aq.UserID).Quota - before[aq.UserID]
			}
		}
		for uid := int64(1); uid <= 2; uid++ {
			u := h.user(uid)
			if u.Quota < 0 {
				t.Fatalf("seed %d: user %d quota %d < 0", seed, uid, u.Quota)
			}
			if u.Quota+u.UsedQuota != credited[uid] {
				t.Fatalf("seed %d: user %d quota %d + used %d != credited %d", seed, uid, u.Quota, u.UsedQuota, credited[uid])
			}
			st, _ := h.s.SumLogs(LogFilter{Type: LogConsume, UserID: uid})
			if st.Quota != u.UsedQuota {
				t.Fatalf("seed %d: user %d logs %d != used %d", seed, uid, st.Quota, u.UsedQuota)
			}
		}
		if tk := h.token(2); tk.RemainQuota < 0 || tk.RemainQuota+tk.UsedQuota != 300 {
			t.Fatalf("seed %d: token remain %d used %d", seed, tk.RemainQuota, tk.UsedQuota)
		}
		ls, _ := h.s.Leases()
		held := map[LeaseKind]map[int64]int64{LeaseUser: {}, LeaseToken: {}}
		for _, l := range ls {
			if l.Remaining < 0 {
				t.Fatalf("seed %d: negative lease %+v", seed, l)
			}
			held[l.Kind][l.ID] += l.Remaining
		}
		for uid, v := range held[LeaseUser] {
			if u := h.user(uid); v > u.Quota {
				t.Fatalf("seed %d: leases on user %d hold %d > balance %d", seed, uid, v, u.Quota)
			}
		}
	}
}

// TestApplyDeterministic applies the same log on two stores and compares
// every byte of state.
func TestApplyDeterministic(t *testing.T) {
	log := randomLog(7, 400)
	dump := func() []byte {
		h := newHarness(t)
		for _, c := range log {
			h.apply(c)
		}
		sn, err := h.s.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		defer sn.Close()
		var buf bytes.Buffer
		if _, err := sn.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b := dump(), dump()
	if !bytes.Equal(a, b) {
		t.Fatal("two stores applying the same log differ")
	}
}

func TestSnapshotRestore(t *testing.T) {
	h := newHarness(t)
	h.setup(1000, 100)
	h.must(&UsageBatch{Node: "n1", Records: []UsageRecord{usage(1, 1, 10)}})
	sn, err := h.s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	sn.Close()

	h2 := newHarness(t)
	h2.must(&CreateUser{User: User{Username: "stale"}})
	var got *Effects
	h2.s.OnApply(func(fx *Effects) { got = fx })
	if err := h2.s.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if got == nil || !got.Tokens || !got.Users {
		t.Fatal("restore did not run the hooks with everything changed")
	}
	if diff := cmp.Diff(h.user(1), h2.user(1)); diff != "" {
		t.Fatalf("restored user differs: %s", diff)
	}
	if _, err := h2.s.UserByName("stale"); !errors.Is(err, ErrNotFound) {
		t.Fatal("restore kept state that was not in the snapshot")
	}
	if h2.s.AppliedIndex() != h.s.AppliedIndex() {
		t.Fatalf("applied index %d, want %d", h2.s.AppliedIndex(), h.s.AppliedIndex())
	}
	if err := h2.s.Restore(bytes.NewReader([]byte("garbage"))); err == nil {
		t.Fatal("restore accepted garbage")
	}
}

func TestLogFilters(t *testing.T) {
	h := newHarness(t)
	h.setup(10_000, 1000)
	h.must(&CreateUser{User: User{Username: "bob", Quota: 10_000}})
	recs := []UsageRecord{
		{Seq: 1, UserID: 1, TokenID: 1, TokenName: "unl", ChannelID: 1, Model: "gpt-4o", Quota: 10, Time: 100},
		{Seq: 2, UserID: 1, TokenID: 2, TokenName: "lim", ChannelID: 1, Model: "gpt-4o-mini", Quota: 20, Time: 200},
		{Seq: 3, UserID: 2, TokenName: "x", ChannelID: 2, Model: "gpt-4o", Quota: 40, Time: 300},
	}
	h.must(&UsageBatch{Node: "n", Records: recs})
	cases := []struct {
		f    LogFilter
		want int64
	}{
		{LogFilter{}, 70},
		{LogFilter{UserID: 1}, 30},
		{LogFilter{Username: "bob"}, 40},
		{LogFilter{TokenName: "lim"}, 20},
		{LogFilter{ModelName: "gpt-4o-mini"}, 20},
		{LogFilter{ChannelID: 2}, 40},
		{LogFilter{Start: 150, End: 300}, 60},
		{LogFilter{UserID: 1, Start: 150}, 20},
		{LogFilter{End: 100}, 10},
	}
	for _, c := range cases {
		c.f.Type = LogConsume
		st, err := h.s.SumLogs(c.f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Quota != c.want {
			t.Errorf("%+v: sum %d, want %d", c.f, st.Quota, c.want)
		}
	}
	page, _ := h.s.Logs(LogFilter{Type: LogConsume}, 1, 1)
	if len(page) != 1 || page[0].Quota != 20 {
		t.Fatalf("second page (newest first): %+v", page)
	}
	h.must(&DeleteLogs{Before: 250})
	if st, _ := h.s.SumLogs(LogFilter{Type: LogConsume}); st.Quota != 40 {
		t.Fatalf("after delete: %d, want 40", st.Quota)
	}
	if st, _ := h.s.SumLogs(LogFilter{Type: LogConsume, UserID: 1}); st.Count != 0 {
		t.Fatalf("user index kept deleted logs: %d", st.Count)
	}
}

func TestDecodeUnknown(t *testing.T) {
	if _, err := Decode([]byte{200, 0, '{', '}'}); !errors.Is(err, ErrUnknownCmd) {
		t.Fatalf("unknown type: %v", err)
	}
	if c, err := Decode([]byte{200, flagIgnorable, '{', '}'}); c != nil || err != nil {
		t.Fatalf("ignorable unknown type: %v %v", c, err)
	}
	if _, err := Decode([]byte{byte(CmdSetOptions), 0, 'x'}); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("bad payload: %v", err)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want string }{{"a/", "a0"}, {"a\xff", "b"}, {"\xff\xff", ""}} {
		if got := string(PrefixEnd([]byte(c.in))); got != c.want {
			t.Errorf("PrefixEnd(%q)=%q want %q", c.in, got, c.want)
		}
	}
	if RaftLogIndex(RaftLogKey(12345)) != 12345 {
		t.Fatal("raft log key round trip")
	}
	if bytes.Compare(keyLog(1, 2), keyLog(1, 10)) >= 0 || bytes.Compare(keyLog(1, 99), keyLog(2, 0)) >= 0 {
		t.Fatal("log keys do not sort by time then id")
	}
}

func TestUsageBatchBinaryRoundTrip(t *testing.T) {
	in := &UsageBatch{Node: "node-7", Records: []UsageRecord{
		{Seq: 1, RequestID: "r-1", UserID: 3, TokenID: -1, TokenName: "名前", ChannelID: 9, Model: "gpt-4o", PromptTokens: 12,
			CompletionTokens: 8, Quota: 1 << 40, ElapsedMs: 123, IsStream: true, Time: 1700000000, Content: "x"},
		{Seq: 2, Abandoned: true},
	}}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatal(diff)
	}
	for i := 2; i < len(b); i++ { // every truncation is an error, never a panic
		if _, err := Decode(b[:i]); err == nil {
			t.Fatalf("truncated at %d decoded", i)
		}
	}
}

func FuzzDecodeCommand(f *testing.F) {
	b, _ := Encode(&UsageBatch{Node: "n", Records: []UsageRecord{{Seq: 1, Model: "m"}}})
	f.Add(b)
	j, _ := Encode(&SetOptions{Options: map[string]string{"a": "b"}})
	f.Add(j)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode(data)
		if err != nil || c == nil {
			return
		}
		again, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded command does not decode: %v", err)
		}
	})
}

func TestLogRowRoundTrip(t *testing.T) {
	in := Log{ID: 9, UserID: 2, CreatedAt: 1700000000, Type: LogConsume, Content: "ratio 1", Username: "u", TokenName: "t",
		TokenID: 3, ModelName: "m", Quota: 42, PromptTokens: 12, CompletionTokens: 8, ChannelID: 1, RequestID: "r",
		ElapsedTime: 15, IsStream: true, Node: "n1"}
	b := appendLogRow(nil, &in)
	var out Log
	if err := decodeLogRow(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatal(diff)
	}
	for i := 0; i < len(b); i++ {
		if err := decodeLogRow(b[:i], &out); err == nil {
			t.Fatalf("truncated row at %d decoded", i)
		}
	}
}

func TestNodeRecords(t *testing.T) {
	h := newHarness(t)
	h.must(&SetNode{Node: NodeInfo{ID: "b", HTTPAddr: "127.0.0.2:3000", RaftAddr: "127.0.0.2:7000", NATSAddr: "127.0.0.2:6222", UpdatedAt: 5}})
	h.must(&SetNode{Node: NodeInfo{ID: "a", HTTPAddr: "127.0.0.1:3000"}})
	h.must(&SetNode{Node: NodeInfo{ID: "b", HTTPAddr: "127.0.0.2:3001", RaftAddr: "127.0.0.2:7000", NATSAddr: "127.0.0.2:6222", UpdatedAt: 9}})
	ns, err := h.s.Nodes()
	if err != nil {
		t.Fatal(err)
	}
	want := []NodeInfo{{ID: "a", HTTPAddr: "127.0.0.1:3000"}, {ID: "b", HTTPAddr: "127.0.0.2:3001", RaftAddr: "127.0.0.2:7000", NATSAddr: "127.0.0.2:6222", UpdatedAt: 9}}
	if diff := cmp.Diff(want, ns); diff != "" {
		t.Fatalf("nodes (-want +got):\n%s", diff)
	}
	h.must(&RemoveNode{ID: "a"})
	if ns, _ = h.s.Nodes(); len(ns) != 1 || ns[0].ID != "b" {
		t.Fatalf("after remove: %+v", ns)
	}
	if r := h.apply(&SetNode{})[0]; !errors.Is(r.Err, ErrBadCommand) {
		t.Fatalf("empty id: %v", r.Err)
	}
}

// A backup restored into a new store keeps the accounts and logs, and
// starts with no applied index, leases or member addresses.
func TestPrepareRestoredBackup(t *testing.T) {
	h := newHarness(t)
	h.setup(1000, 100)
	h.must(&LeaseRequest{Node: "old", UserID: 1, WantUser: 500, ExpiresAt: 1 << 60})
	h.must(&UsageBatch{Node: "old", Records: []UsageRecord{usage(1, 1, 10)}})
	h.must(&SetNode{Node: NodeInfo{ID: "old", HTTPAddr: "10.0.0.1:3000"}})
	snap, err := h.s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	snap.Close()

	r := newHarness(t)
	if err := r.s.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if err := r.s.PrepareRestoredBackup(); err != nil {
		t.Fatal(err)
	}
	if r.s.AppliedIndex() != 0 {
		t.Fatalf("applied index %d", r.s.AppliedIndex())
	}
	if u := r.user(1); u.Quota != 990 || u.UsedQuota != 10 {
		t.Fatalf("user after restore: %+v", u)
	}
	if ls, _ := r.s.Leases(); len(ls) != 0 {
		t.Fatalf("leases after restore: %+v", ls)
	}
	if ns, _ := r.s.Nodes(); len(ns) != 0 {
		t.Fatalf("members after restore: %+v", ns)
	}
	// The new cluster's log starts at 1 and applies normally.
	r.index = 0
	r.must(&UsageBatch{Node: "new", Records: []UsageRecord{usage(1, 1, 5)}})
	if u := r.user(1); u.UsedQuota != 15 {
		t.Fatalf("usage after restore: %+v", u)
	}
}

// With Nodes set, a grant is a fair share of what is free (at least Need,
// in whole multiples of it), so every node of a cluster can serve a small
// balance.
func TestLeaseFairShare(t *testing.T) {
	h := newHarness(t)
	h.setup(1000, 100)
	lease := func(node string) int64 {
		l, ok, err := h.s.Lease(LeaseUser, 1, node)
		if err != nil || !ok {
			t.Fatalf("lease of %s: %v %v", node, ok, err)
		}
		return l.Remaining
	}
	h.must(&LeaseRequest{Node: "a", UserID: 1, WantUser: 5000, ExpiresAt: 1 << 60, Nodes: 4, Need: 30})
	if got := lease("a"); got != 270 { // 1000/4 = 250, rounded up to a multiple of 30
		t.Fatalf("a: %d", got)
	}
	h.must(&LeaseRequest{Node: "b", UserID: 1, WantUser: 5000, ExpiresAt: 1 << 60, Nodes: 4, Need: 30})
	if got := lease("b"); got != 210 { // 730/4 = 182 → 210
		t.Fatalf("b: %d", got)
	}
	h.must(&LeaseRequest{Node: "c", UserID: 1, WantUser: 100, ExpiresAt: 1 << 60, Nodes: 4, Need: 30})
	if got := lease("c"); got != 100 { // want is smaller than the share
		t.Fatalf("c: %d", got)
	}
	// Need above the share: the node still gets what one request needs.
	h.must(&LeaseRequest{Node: "d", UserID: 1, WantUser: 5000, ExpiresAt: 1 << 60, Nodes: 40, Need: 300})
	if got := lease("d"); got != 300 {
		t.Fatalf("d: %d", got)
	}
	// Never more than is free: 1000 - 270 - 210 - 100 - 300 = 120.
	h.must(&LeaseRequest{Node: "e", UserID: 1, WantUser: 5000, ExpiresAt: 1 << 60, Nodes: 2, Need: 500})
	if got := lease("e"); got != 120 {
		t.Fatalf("e: %d", got)
	}
	// Without Nodes, the whole of what is free (single node).
	h.must(&LeaseRequest{Node: "a", UserID: 1, WantUser: math.MaxInt64, ExpiresAt: 1 << 60})
	if got := lease("a"); got != 270 {
		t.Fatalf("a again: %d", got)
	}
}
