package loadgen

import (
	"math"
	"math/rand"
	"sort"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 123456789, math.MaxInt64} {
		i := bucketOf(v)
		if i < prev {
			t.Fatalf("buckets not monotonic at %d", v)
		}
		prev = i
		if i >= numBuckets {
			t.Fatalf("bucket %d out of range for %d", i, v)
		}
		lo, w := bucketBounds(i)
		if v < lo || v-lo >= w {
			t.Fatalf("value %d not in bucket %d [%d,+%d)", v, i, lo, w)
		}
	}
	// Exact below subCount.
	for v := int64(0); v < subCount; v++ {
		if lo, w := bucketBounds(bucketOf(v)); lo != v || w != 1 {
			t.Fatalf("small value %d not exact", v)
		}
	}
}

func TestQuantileSmallExact(t *testing.T) {
	var h Histogram
	for v := 1; v <= 100; v++ { // 1..100 ns, all exact buckets
		h.Record(time.Duration(v))
	}
	cases := map[float64]time.Duration{0: 1, 0.01: 1, 0.5: 50, 0.9: 90, 0.99: 99, 0.991: 100, 1: 100}
	for q, want := range cases {
		if got := h.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50 {
		t.Errorf("count/min/max/mean = %d %v %v %v", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestQuantileAgainstSorted(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var a, b Histogram
	samples := make([]int64, 0, 200000)
	for i := 0; i < 200000; i++ {
		// log-normal-ish latencies from 10 µs to about 1 s
		v := int64(math.Exp(rng.NormFloat64()*1.5+13) + 1e4)
		samples = append(samples, v)
		if i%2 == 0 {
			a.Record(time.Duration(v))
		} else {
			b.Record(time.Duration(v))
		}
	}
	a.Merge(&b)
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := int64(a.Quantile(q))
		if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 1.0/subCount {
			t.Errorf("q=%v: got %d, exact %d, rel err %.4f", q, got, exact, rel)
		}
	}
	if int64(a.Max()) != samples[len(samples)-1] || int64(a.Min()) != samples[0] {
		t.Errorf("min/max not exact")
	}
	if a.Count() != uint64(len(samples)) {
		t.Errorf("count %d", a.Count())
	}
}

func TestEmptyHistogram(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 {
		t.Error("empty histogram should report zeros")
	}
}
