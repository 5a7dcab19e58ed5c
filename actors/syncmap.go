package actors

import (
	"strconv"
	"sync"
)

// syncMap is a typed sync.Map.
type syncMap[K comparable, V any] struct{ m sync.Map }

func (s *syncMap[K, V]) Load(k K) (V, bool) {
	v, ok := s.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (s *syncMap[K, V]) Store(k K, v V) { s.m.Store(k, v) }

// Range calls fn for each entry until it returns false (sync.Map.Range).
func (s *syncMap[K, V]) Range(fn func(K, V) bool) {
	s.m.Range(func(k, v any) bool { return fn(k.(K), v.(V)) })
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
