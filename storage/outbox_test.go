package storage

import (
	"path/filepath"
	"testing"
)

func TestOutboxLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "local")
	l, err := OpenLocal(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := l.Outbox(0)
	if err != nil {
		t.Fatal(err)
	}
	o1, _ := ob.Open(&OpenRecord{RequestID: "r1", UserID: 1, Estimate: 10})
	o2, _ := ob.Open(&OpenRecord{RequestID: "r2", UserID: 1, Estimate: 10})
	o3, _ := ob.Open(&OpenRecord{RequestID: "r3", UserID: 2, Estimate: 10})
	if _, err := ob.Close(o2, &UsageRecord{RequestID: "r2", UserID: 1, Quota: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Close(o1, &UsageRecord{RequestID: "r1", UserID: 1, Quota: 5}); err != nil {
		t.Fatal(err)
	}
	if err := ob.Cancel(o3); err != nil {
		t.Fatal(err)
	}
	o4, _ := ob.Open(&OpenRecord{RequestID: "r4", UserID: 3}) // left open: a crash
	if err := ob.Sync(); err != nil {
		t.Fatal(err)
	}
	// Reopen, as after a restart.
	ob.Stop()
	l.Close()
	l, err = OpenLocal(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ob, err = l.Outbox(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Stop()
	recs, err := ob.Closed(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].RequestID != "r2" || recs[0].Seq != 1 || recs[1].Seq != 2 {
		t.Fatalf("closed records in close order: %+v", recs)
	}
	orphans, _ := ob.Orphans()
	if len(orphans) != 1 || orphans[o4].RequestID != "r4" {
		t.Fatalf("orphans: %+v", orphans)
	}
	pend, _ := ob.PendingByUser()
	if pend[1] != 12 {
		t.Fatalf("pending for user 1: %d, want 12", pend[1])
	}
	// New sequences continue above what exists and above the high water.
	seq, _ := ob.Close(0, &UsageRecord{RequestID: "r5", UserID: 1})
	if seq != 3 {
		t.Fatalf("next close seq %d, want 3", seq)
	}
	if err := ob.Shipped(0, 2); err != nil {
		t.Fatal(err)
	}
	recs, _ = ob.Closed(0, 10)
	if len(recs) != 1 || recs[0].Seq != 3 {
		t.Fatalf("after shipping 1..2: %+v", recs)
	}
	ob2, _ := l.Outbox(40)
	defer ob2.Stop()
	if s, _ := ob2.Close(0, &UsageRecord{}); s != 41 {
		t.Fatalf("seq above state high water: %d, want 41", s)
	}
}

// The shipper reads unshipped Close records from the outbox's memory; the
// answer must always be what Pebble holds, whatever happened before:
// records found at startup, a raised sequence, shipping, and a queue that
// overflowed while shipping was stuck.
func TestOutboxClosedMatchesStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "local")
	l, err := OpenLocal(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ob, err := l.Outbox(0)
	if err != nil {
		t.Fatal(err)
	}
	closeN := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			if _, err := ob.Close(0, &UsageRecord{RequestID: "r", UserID: int64(i%3 + 1), Quota: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(step string) {
		t.Helper()
		ob.qmu.Lock()
		queued, base := len(ob.queue), ob.base
		ob.qmu.Unlock()
		if stored, _ := ob.closedStored(base, 1<<20); len(stored) != queued {
			t.Fatalf("%s: %d records queued, Pebble has %d above %d", step, queued, len(stored), base)
		}
		for _, after := range []uint64{0, 1, 5, 9, 10, 11, 25, 30, 42, 60, 95, 120, 200} {
			for _, limit := range []int{1, 7, 1000} {
				got, err := ob.Closed(after, limit)
				if err != nil {
					t.Fatal(err)
				}
				want, err := ob.closedStored(after, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%s: Closed(%d, %d) has %d records, Pebble %d", step, after, limit, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s: Closed(%d, %d)[%d] = %+v, Pebble %+v", step, after, limit, i, got[i], want[i])
					}
				}
			}
		}
	}
	closeN(10)
	check("fresh")
	ob.Stop()
	if ob, err = l.Outbox(0); err != nil { // records 1..10 are now only in Pebble
		t.Fatal(err)
	}
	defer func() { ob.Stop() }()
	closeN(10)
	check("after restart")
	ob.Raise(25)
	closeN(5)
	check("after raise")
	if err := ob.Shipped(0, 11); err != nil {
		t.Fatal(err)
	}
	if err := ob.Shipped(11, 27); err != nil {
		t.Fatal(err)
	}
	check("after shipping")
	ob.qmu.Lock()
	ob.maxQueue = 4
	ob.qmu.Unlock()
	closeN(30)
	check("after overflow")
	if err := ob.Prune(45); err != nil {
		t.Fatal(err)
	}
	check("after prune")
	if err := ob.Shipped(45, 60); err != nil {
		t.Fatal(err)
	}
	closeN(3)
	check("after shipping past the overflow")
}

// Open records are binary; Opens written as JSON by earlier versions
// still decode.
func TestOpenRecordCodec(t *testing.T) {
	in := OpenRecord{RequestID: "20261126-abc", UserID: 7, TokenID: -1, TokenName: "tök", ChannelID: 3,
		Model: "gpt-4o", Estimate: 123456789, IsStream: true, Time: 1764130000}
	var out OpenRecord
	if err := out.UnmarshalBinary(in.AppendBinary(nil)); err != nil || out != in {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	var old OpenRecord
	if err := old.UnmarshalBinary([]byte(`{"request_id":"r1","user_id":2,"estimate":10,"is_stream":true}`)); err != nil ||
		old != (OpenRecord{RequestID: "r1", UserID: 2, Estimate: 10, IsStream: true}) {
		t.Fatalf("JSON open record: %+v, %v", old, err)
	}
	enc := in.AppendBinary(nil)
	for n := 0; n < len(enc); n++ {
		if err := new(OpenRecord).UnmarshalBinary(enc[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
	if err := new(OpenRecord).UnmarshalBinary(append(enc, 0)); err == nil {
		t.Fatal("trailing byte: no error")
	}
}

// Settle and Cancel do not wait; Sync waits for them, in order.
func TestOutboxAsyncSettle(t *testing.T) {
	l, err := OpenLocal(filepath.Join(t.TempDir(), "local"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ob, err := l.Outbox(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Stop()
	var failed []error
	ob.OnAsyncError(func(err error) { failed = append(failed, err) })
	const n = 1000
	for i := 1; i <= n; i++ {
		o, err := ob.Open(&OpenRecord{RequestID: "r", UserID: 1})
		if err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			err = ob.Cancel(o)
		} else {
			err = ob.Settle(o, &UsageRecord{RequestID: "r", UserID: 1, Quota: int64(i)})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := ob.Sync(); err != nil {
		t.Fatal(err)
	}
	recs, err := ob.Closed(0, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n-n/10 {
		t.Fatalf("%d closed records after Sync, want %d", len(recs), n-n/10)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
	}
	if orphans, _ := ob.Orphans(); len(orphans) != 0 {
		t.Fatalf("%d opens left after settling every request", len(orphans))
	}
	if len(failed) != 0 {
		t.Fatal(failed)
	}
	ob.Stop()
	if err := ob.Settle(0, &UsageRecord{}); err != ErrOutboxStopped {
		t.Fatalf("Settle after Stop: %v", err)
	}
}
