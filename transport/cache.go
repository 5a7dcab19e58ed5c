package transport

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"sync"
	"time"

	"switchyard/adaptors"
)

// respCache is the exact-match response cache: non-stream answers keyed by
// the user, the mode, the model and the request body byte for byte, kept
// for a TTL, least recently used first out when the bytes bound is
// reached. Per node. Safe for concurrent use.
type respCache struct {
	mu    sync.Mutex
	ll    *list.List // front: most recently used
	items map[[32]byte]*list.Element
	bytes int64
}

type cacheEntry struct {
	key         [32]byte
	body        []byte
	contentType string
	usage       adaptors.Usage
	expires     time.Time
	size        int64
}

func newRespCache() *respCache {
	return &respCache{ll: list.New(), items: map[[32]byte]*list.Element{}}
}

// cacheKey identifies a request for the cache.
func cacheKey(userID int64, mode adaptors.Mode, model string, body []byte) [32]byte {
	h := sha256.New()
	var b [9]byte
	binary.BigEndian.PutUint64(b[:8], uint64(userID))
	b[8] = byte(mode)
	h.Write(b[:])
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write(body)
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

// get returns a live entry (nil when missing or expired).
func (c *respCache) get(k [32]byte, now time.Time) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.remove(el)
		return nil
	}
	c.ll.MoveToFront(el)
	return e
}

// put stores an entry, evicting the least recently used ones beyond
// maxBytes; an entry larger than a quarter of maxBytes is not kept.
func (c *respCache) put(e *cacheEntry, maxBytes int64) {
	e.size = int64(len(e.body)+len(e.contentType)) + 128
	if maxBytes <= 0 || e.size > maxBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		c.remove(el)
	}
	c.items[e.key] = c.ll.PushFront(e)
	c.bytes += e.size
	for c.bytes > maxBytes {
		c.remove(c.ll.Back())
	}
}

func (c *respCache) remove(el *list.Element) {
	e := c.ll.Remove(el).(*cacheEntry)
	delete(c.items, e.key)
	c.bytes -= e.size
}

// len is the number of entries (tests).
func (c *respCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// cacheable reports whether the request's answer may come from or go to
// the cache: a non-stream JSON request of a token-billed mode whose token
// opted in, or whose model the operator listed.
func (k *call) cacheable() bool {
	switch k.mode {
	case adaptors.ModeChat, adaptors.ModeCompletions, adaptors.ModeEmbeddings, adaptors.ModeResponses,
		adaptors.ModeModerations, adaptors.ModeRerank:
	default:
		return false
	}
	pol := k.pricing.Cache
	if k.p.stream || k.p.multipart || k.dialect != nil || pol.TTL <= 0 || pol.MaxBytes <= 0 {
		return false
	}
	return k.token.Cache || pol.Models[k.p.model]
}

// hitQuota is what a cache hit costs: the answer's charge at today's
// prices × ResponseCacheHitRatio, rounded up (0 when the ratio is 0).
func (k *call) hitQuota(e *cacheEntry) int64 {
	r := k.pricing.Cache.HitRatio
	if r <= 0 {
		return 0
	}
	full := k.ratios.Quota(e.usage.PromptTokens, e.usage.CompletionTokens)
	return int64(math.Ceil(math.Round(float64(full)*r*1e6) / 1e6))
}
