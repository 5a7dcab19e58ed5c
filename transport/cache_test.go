package transport

import (
	"testing"
	"time"

	"switchyard/adaptors"
)

// The cache serves live entries, drops expired ones, evicts the least
// recently used beyond its bytes bound, and refuses entries larger than a
// quarter of it.
func TestRespCacheBounds(t *testing.T) {
	c := newRespCache()
	now := time.Now()
	k := func(i int) [32]byte { return cacheKey(int64(i), adaptors.ModeChat, "m", []byte("body")) }
	entry := func(i, size int, ttl time.Duration) *cacheEntry {
		return &cacheEntry{key: k(i), body: make([]byte, size), expires: now.Add(ttl)}
	}
	const max = 4 * (1000 + 128)
	for i := 0; i < 4; i++ {
		c.put(entry(i, 1000, time.Hour), max)
	}
	if c.len() != 4 || c.get(k(0), now) == nil { // 0 is now the most recent
		t.Fatalf("%d entries", c.len())
	}
	c.put(entry(4, 1000, time.Hour), max) // evicts 1, the least recently used
	if c.get(k(1), now) != nil || c.get(k(0), now) == nil || c.get(k(4), now) == nil || c.len() != 4 {
		t.Fatalf("LRU eviction: %d entries", c.len())
	}
	c.put(entry(5, max, time.Hour), max) // too large to keep
	if c.get(k(5), now) != nil {
		t.Fatal("an oversized entry was kept")
	}
	c.put(entry(6, 10, time.Millisecond), max)
	if c.get(k(6), now.Add(time.Second)) != nil {
		t.Fatal("an expired entry was served")
	}
	if cacheKey(1, adaptors.ModeChat, "m", []byte("a")) == cacheKey(2, adaptors.ModeChat, "m", []byte("a")) ||
		cacheKey(1, adaptors.ModeChat, "m", []byte("a")) == cacheKey(1, adaptors.ModeEmbeddings, "m", []byte("a")) {
		t.Fatal("keys of different users or modes collide")
	}
}
