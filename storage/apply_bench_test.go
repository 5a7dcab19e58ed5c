package storage

import (
	"fmt"
	"testing"
)

// BenchmarkApplyUsage applies usage batches of 100 records to an on-disk
// store, as the state machine does under load, and reports the Pebble write
// amplification that the log rows cause.
func BenchmarkApplyUsage(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := &harness{t: b, s: s}
	h.setup(1<<50, 1<<40)
	const per = 100
	seq := uint64(0)
	b.ResetTimer()
	for done := 0; done < b.N; done += per {
		recs := make([]UsageRecord, per)
		for i := range recs {
			seq++
			recs[i] = UsageRecord{Seq: seq, RequestID: fmt.Sprintf("20261126042100%016d", seq), UserID: 1, TokenID: 1,
				TokenName: "bench", ChannelID: 1, Model: "gpt-4o-mini", PromptTokens: 12, CompletionTokens: 9,
				Quota: 30, ElapsedMs: 2, Time: 1764130000 + int64(seq/20000), Content: "model ratio 0.075, completion ratio 4, group ratio 1"}
		}
		h.must(&UsageBatch{Node: "n1", Records: recs})
	}
	b.StopTimer()
	m := s.db.Metrics()
	b.ReportMetric(float64(m.Compact.Count), "compactions")
	var in, written uint64
	for _, l := range m.Levels {
		written += l.TableBytesCompacted + l.TableBytesFlushed
	}
	in = m.Levels[0].TableBytesFlushed
	if in > 0 {
		b.ReportMetric(float64(written)/float64(in), "w-amp")
	}
	b.ReportMetric(float64(written)/float64(b.N), "B-written/op")
}
