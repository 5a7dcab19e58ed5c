package storage

import (
	"strings"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/cockroachdb/pebble/v2"
)

// The random money logs of TestMoneyInvariants leave a state that Audit
// finds sound, with figures that match the counters.
func TestAuditSoundState(t *testing.T) {
	for seed := uint64(0); seed < 10; seed++ {
		h := newHarness(t)
		for _, c := range randomLog(seed, 300) {
			h.apply(c)
		}
		a, err := h.s.Audit()
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Problems) > 0 {
			t.Fatalf("seed %d: %s", seed, strings.Join(a.Problems, "; "))
		}
		if a.Index != h.index || len(a.Users) != 2 || len(a.Tokens) != 2 {
			t.Fatalf("seed %d: audit %+v", seed, a)
		}
		u := h.user(1)
		if m := a.Users[1]; m.Balance != u.Quota || m.Used != u.UsedQuota || m.Logged != u.UsedQuota {
			t.Fatalf("seed %d: user 1 %+v, store says %d/%d", seed, m, u.Quota, u.UsedQuota)
		}
		if m := a.Tokens[1]; !m.Unlimited || m.Balance != 0 {
			t.Fatalf("seed %d: unlimited token %+v", seed, m)
		}
	}
}

// Audit reports each broken invariant (the state is damaged by writing
// records directly, as no command can).
func TestAuditFindsBrokenInvariants(t *testing.T) {
	h := newHarness(t)
	h.setup(1000, 100)
	h.must(&LeaseRequest{Node: "n1", UserID: 1, TokenID: 2, WantUser: 500, WantToken: 50, ExpiresAt: 100})
	h.must(&UsageBatch{Node: "n1", Records: []UsageRecord{usage(1, 2, 10)}})
	a, err := h.s.Audit()
	if err != nil || len(a.Problems) != 0 {
		t.Fatalf("sound state: %v %v", a.Problems, err)
	}
	if m := a.Users[1]; m.Held != 490 || m.Used != 10 || m.Aggregated != 10 {
		t.Fatalf("user 1: %+v", m)
	}
	if m := a.Tokens[2]; m.Held != 40 || m.Balance != 90 || m.Logged != 10 || m.Unlimited {
		t.Fatalf("token 2: %+v", m)
	}
	damage := func(k []byte, v any) {
		t.Helper()
		b, err := sonic.Marshal(v)
		if err == nil {
			err = h.s.db.Set(k, b, pebble.NoSync)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	u := h.user(1)
	u.Quota, u.UsedQuota = -5, 25
	damage(keyUser(1), u)
	tok := h.token(2)
	tok.RemainQuota = 20
	damage(keyToken(2), tok)
	a, err = h.s.Audit()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(a.Problems, "\n")
	for _, want := range []string{
		"user 1: balance -5 below zero",
		"user 1: leases hold 490 of a balance of -5",
		"user 1: consume logs sum to 10, used quota is 25",
		"user 1: daily aggregates sum to 10, used quota is 25",
		"token 2: leases hold 40 of a balance of 20",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// Equal logs give equal digests; one more entry changes it.
func TestDigest(t *testing.T) {
	log := randomLog(3, 200)
	digest := func(cmds []Command) (uint64, [32]byte) {
		h := newHarness(t)
		for _, c := range cmds {
			h.apply(c)
		}
		i, d, err := h.s.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return i, d
	}
	i1, d1 := digest(log)
	i2, d2 := digest(log)
	if i1 != uint64(len(log)) || i1 != i2 || d1 != d2 {
		t.Fatalf("same log: %d %x, %d %x", i1, d1, i2, d2)
	}
	i3, d3 := digest(append(log[:len(log):len(log)], &AddQuota{UserID: 1, Delta: 1}))
	if i3 != i1+1 || d3 == d1 {
		t.Fatalf("one more entry: %d %x", i3, d3)
	}
}
