package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/raft"

	"switchyard/storage"
)

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

var cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func memLogStore(t *testing.T) (*LogStore, *pebble.DB) {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return NewLogStore(db), db
}

func mkLog(i uint64) *raft.Log {
	return &raft.Log{Index: i, Term: i/3 + 1, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("entry-%d", i))}
}

func mkLogs(lo, hi uint64) []*raft.Log {
	var out []*raft.Log
	for i := lo; i <= hi; i++ {
		out = append(out, mkLog(i))
	}
	return out
}

func checkBounds(t *testing.T, s *LogStore, first, last uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	if f != first || l != last {
		t.Fatalf("bounds = [%d, %d], want [%d, %d]", f, l, first, last)
	}
}

func checkLog(t *testing.T, s *LogStore, want *raft.Log) {
	t.Helper()
	var got raft.Log
	if err := s.GetLog(want.Index, &got); err != nil {
		t.Fatalf("GetLog(%d): %v", want.Index, err)
	}
	if d := cmp.Diff(*want, got, cmpTime); d != "" {
		t.Fatalf("GetLog(%d) (-want +got):\n%s", want.Index, d)
	}
}

func checkMissing(t *testing.T, s *LogStore, idx ...uint64) {
	t.Helper()
	for _, i := range idx {
		var l raft.Log
		if err := s.GetLog(i, &l); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("GetLog(%d) = %v, want raft.ErrLogNotFound", i, err)
		}
	}
}

// TestLogStoreConformance checks the raft.LogStore and raft.StableStore
// contracts Raft relies on, one scenario per row.
func TestLogStoreConformance(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *LogStore, db *pebble.DB)
	}{
		{"empty store", func(t *testing.T, s *LogStore, _ *pebble.DB) {
			checkBounds(t, s, 0, 0)
			checkMissing(t, s, 0, 1, math.MaxUint64)
			if _, err := s.Get([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
				t.Fatalf("Get missing = %v, want error text \"not found\"", err)
			}
			if _, err := s.GetUint64([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
				t.Fatalf("GetUint64 missing = %v, want error text \"not found\"", err)
			}
		}},
		{"every field round-trips", func(t *testing.T, s *LogStore, _ *pebble.DB) {
			logs := []*raft.Log{
				{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: []byte{0, 1, 2}},
				{Index: 2, Term: 1, Type: raft.LogNoop},
				{Index: 3, Term: math.MaxUint64, Type: raft.LogCommand, Data: bytes.Repeat([]byte("x"), 70_000),
					Extensions: []byte("ext"), AppendedAt: time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)},
				{Index: 4, Term: 2, Type: raft.LogCommand, Extensions: []byte{9}, AppendedAt: time.Unix(-5, 7)},
			}
			if err := s.StoreLogs(logs); err != nil {
				t.Fatal(err)
			}
			for _, l := range logs {
				checkLog(t, s, l)
			}
			checkBounds(t, s, 1, 4)
		}},
		{"StoreLog and overwrite", func(t *testing.T, s *LogStore, _ *pebble.DB) {
			if err := s.StoreLog(mkLog(7)); err != nil {
				t.Fatal(err)
			}
			replaced := &raft.Log{Index: 7, Term: 9, Type: raft.LogCommand, Data: []byte("new")}
			if err := s.StoreLogs([]*raft.Log{replaced}); err != nil {
				t.Fatal(err)
			}
			checkLog(t, s, replaced)
			checkBounds(t, s, 7, 7)
		}},
		{"gaps are allowed", func(t *testing.T, s *LogStore, _ *pebble.DB) {
			if err := s.StoreLogs(mkLogs(5, 9)); err != nil {
				t.Fatal(err)
			}
			if err := s.StoreLogs(mkLogs(100, 101)); err != nil {
				t.Fatal(err)
			}
			checkBounds(t, s, 5, 101)
			checkMissing(t, s, 4, 10, 99, 102)
			checkLog(t, s, mkLog(100))
		}},
		{"delete prefix, suffix, middle, all", func(t *testing.T, s *LogStore, _ *pebble.DB) {
			if err := s.StoreLogs(mkLogs(1, 20)); err != nil {
				t.Fatal(err)
			}
			steps := []struct {
				min, max, first, last uint64
			}{
				{1, 5, 6, 20},   // compaction after a snapshot
				{18, 20, 6, 17}, // conflicting suffix truncated by a follower
				{10, 12, 6, 17}, // middle (never done by Raft, still correct)
				{9, 8, 6, 17},   // min > max: nothing
				{0, math.MaxUint64, 0, 0},
			}
			for _, st := range steps {
				if err := s.DeleteRange(st.min, st.max); err != nil {
					t.Fatal(err)
				}
				checkBounds(t, s, st.first, st.last)
			}
			checkMissing(t, s, 1, 10, 20)
		}},
		{"largest indexes", func(t *testing.T, s *LogStore, _ *pebble.DB) {
			logs := []*raft.Log{mkLog(math.MaxUint64 - 1), mkLog(math.MaxUint64)}
			if err := s.StoreLogs(logs); err != nil {
				t.Fatal(err)
			}
			checkBounds(t, s, math.MaxUint64-1, math.MaxUint64)
			if err := s.DeleteRange(math.MaxUint64, math.MaxUint64); err != nil {
				t.Fatal(err)
			}
			checkBounds(t, s, math.MaxUint64-1, math.MaxUint64-1)
		}},
		{"stable values", func(t *testing.T, s *LogStore, _ *pebble.DB) {
			if err := s.Set([]byte("LastVoteCand"), []byte("n2")); err != nil {
				t.Fatal(err)
			}
			if err := s.Set([]byte("LastVoteCand"), []byte("n3")); err != nil {
				t.Fatal(err)
			}
			if err := s.SetUint64([]byte("CurrentTerm"), 42); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "n3" {
				t.Fatalf("Get = %q, %v", v, err)
			}
			if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 42 {
				t.Fatalf("GetUint64 = %d, %v", v, err)
			}
			if _, err := s.GetUint64([]byte("LastVoteCand")); err == nil {
				t.Fatal("GetUint64 of a 2-byte value succeeded")
			}
			// Stable keys are not log entries.
			checkBounds(t, s, 0, 0)
		}},
		{"other prefixes of the local DB are untouched", func(t *testing.T, s *LogStore, db *pebble.DB) {
			// Keys just below and above the log prefix, and the outbox.
			others := [][]byte{[]byte("K\xff"), []byte("M"), []byte("M\x00"), []byte("oo/\x00\x00\x00\x00\x00\x00\x00\x01")}
			for _, k := range others {
				if err := db.Set(k, []byte("keep"), pebble.Sync); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.StoreLogs(mkLogs(1, 3)); err != nil {
				t.Fatal(err)
			}
			checkBounds(t, s, 1, 3)
			if err := s.DeleteRange(0, math.MaxUint64); err != nil {
				t.Fatal(err)
			}
			checkBounds(t, s, 0, 0)
			for _, k := range others {
				v, closer, err := db.Get(k)
				if err != nil {
					t.Fatalf("key %q: %v", k, err)
				}
				closer.Close()
				_ = v
			}
		}},
		{"GetLog result does not alias pebble memory", func(t *testing.T, s *LogStore, _ *pebble.DB) {
			if err := s.StoreLogs(mkLogs(1, 2)); err != nil {
				t.Fatal(err)
			}
			var a, b raft.Log
			if err := s.GetLog(1, &a); err != nil {
				t.Fatal(err)
			}
			if err := s.GetLog(2, &b); err != nil {
				t.Fatal(err)
			}
			if string(a.Data) != "entry-1" || string(b.Data) != "entry-2" {
				t.Fatalf("data = %q, %q", a.Data, b.Data)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, db := memLogStore(t)
			tt.run(t, s, db)
		})
	}
}

func TestLogKeysMatchStorage(t *testing.T) {
	for _, i := range []uint64{0, 1, 1 << 40, math.MaxUint64} {
		if got := storage.RaftLogIndex(storage.RaftLogKey(i)); got != i {
			t.Fatalf("RaftLogIndex(RaftLogKey(%d)) = %d", i, got)
		}
	}
	if !bytes.HasPrefix(storage.RaftLogKey(7), storage.RaftLogPrefix()) {
		t.Fatal("RaftLogKey does not start with RaftLogPrefix")
	}
	if bytes.HasPrefix(storage.RaftStableKey([]byte("x")), storage.RaftLogPrefix()) {
		t.Fatal("stable keys overlap log keys")
	}
}

// TestLogStoreSurvivesCrash writes through the log store, simulates a power
// loss (only what was fsynced survives) and reads everything back.
func TestLogStoreSurvivesCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	s := NewLogStore(db)
	if err := s.StoreLogs(mkLogs(1, 50)); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLog(mkLog(51)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(1, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
		t.Fatal(err)
	}
	if err := s.Set([]byte("LastVoteCand"), []byte("n1")); err != nil {
		t.Fatal(err)
	}
	// Control: an unsynced write after the last synced one must be lost,
	// or this test would not prove anything about syncing.
	if err := db.Set([]byte("x/unsynced"), []byte("v"), pebble.NoSync); err != nil {
		t.Fatal(err)
	}

	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = pebble.Open("db", &pebble.Options{FS: crashed, Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s = NewLogStore(db)

	if _, closer, err := db.Get([]byte("x/unsynced")); err == nil {
		closer.Close()
		t.Fatal("unsynced control write survived the simulated crash")
	}
	checkBounds(t, s, 11, 51)
	checkMissing(t, s, 10)
	for i := uint64(11); i <= 51; i++ {
		checkLog(t, s, mkLog(i))
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 7 {
		t.Fatalf("CurrentTerm = %d, %v", v, err)
	}
	if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "n1" {
		t.Fatalf("LastVoteCand = %q, %v", v, err)
	}
}

// TestLogStoreReopen writes to a real on-disk local store, closes it and
// reads everything back after reopening.
func TestLogStoreReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "local")
	local, err := storage.OpenLocal(dir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewLogStore(local.DB())
	if err := s.StoreLogs(mkLogs(1, 100)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(1, 40); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 3); err != nil {
		t.Fatal(err)
	}
	if err := local.Close(); err != nil {
		t.Fatal(err)
	}

	local, err = storage.OpenLocal(dir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	s = NewLogStore(local.DB())
	checkBounds(t, s, 41, 100)
	for i := uint64(41); i <= 100; i++ {
		checkLog(t, s, mkLog(i))
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 3 {
		t.Fatalf("CurrentTerm = %d, %v", v, err)
	}
}

func FuzzLogEncoding(f *testing.F) {
	f.Add(uint64(1), byte(raft.LogCommand), int64(0), []byte("data"), []byte(nil))
	f.Add(uint64(math.MaxUint64), byte(raft.LogConfiguration), int64(-1), []byte(nil), []byte("ext"))
	f.Fuzz(func(t *testing.T, term uint64, typ byte, nanos int64, data, ext []byte) {
		in := raft.Log{Index: 5, Term: term, Type: raft.LogType(typ), Data: data, Extensions: ext}
		if nanos != 0 {
			in.AppendedAt = time.Unix(0, nanos)
		}
		if len(in.Data) == 0 {
			in.Data = nil
		}
		if len(in.Extensions) == 0 {
			in.Extensions = nil
		}
		b := appendLog(nil, &in)
		if len(b) != encodedLogLen(&in) {
			t.Fatalf("encodedLogLen = %d, encoded %d", encodedLogLen(&in), len(b))
		}
		var out raft.Log
		if err := decodeLog(b, &out); err != nil {
			t.Fatal(err)
		}
		out.Index = in.Index
		if d := cmp.Diff(in, out, cmpTime); d != "" {
			t.Fatalf("round trip (-in +out):\n%s", d)
		}
		// Decoding arbitrary bytes must not panic.
		_ = decodeLog(data, &out)
	})
}

// BenchmarkStoreLogs measures synced appends to an on-disk local store: the
// cost of one Raft append batch on this machine's disk.
func BenchmarkStoreLogs(b *testing.B) {
	for _, batch := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			local, err := storage.OpenLocal(filepath.Join(b.TempDir(), "local"), storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer local.Close()
			s := NewLogStore(local.DB())
			logs := make([]*raft.Log, batch)
			for i := range logs {
				logs[i] = &raft.Log{Term: 1, Type: raft.LogCommand, Data: bytes.Repeat([]byte("u"), 256), AppendedAt: time.Now()}
			}
			next := uint64(1)
			b.ReportAllocs()
			b.SetBytes(int64(batch * 256))
			for b.Loop() {
				for _, l := range logs {
					l.Index = next
					next++
				}
				if err := s.StoreLogs(logs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(next-1)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
