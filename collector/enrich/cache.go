package enrich

import (
	"hash/maphash"
	"sync"
)

// cacheShards is how many independently locked parts a boundedCache has, so
// that concurrent requests seldom wait on one another's lookups.
const cacheShards = 16

// boundedCache is a concurrency-safe memo of values that are pure functions
// of their keys (parsed user agents, geo records). It never holds more than
// its limit: each shard keeps two generations of entries, and when the
// current one fills up the older one is dropped whole. An entry read from
// the older generation moves to the current one, so what keeps being asked
// for stays, and a flood of one-off keys costs only misses.
type boundedCache[K comparable, V any] struct {
	seed   maphash.Seed
	gen    int // entries per shard generation
	shards [cacheShards]cacheShard[K, V]
}

type cacheShard[K comparable, V any] struct {
	mu  sync.Mutex
	cur map[K]V
	old map[K]V
}

// newBoundedCache returns a cache of at most limit entries (at least
// 2*cacheShards: one per generation and shard).
func newBoundedCache[K comparable, V any](limit int) *boundedCache[K, V] {
	c := &boundedCache[K, V]{seed: maphash.MakeSeed(), gen: max(1, limit/(2*cacheShards))}
	for i := range c.shards {
		c.shards[i].cur = make(map[K]V)
	}
	return c
}

func (c *boundedCache[K, V]) shard(k K) *cacheShard[K, V] {
	return &c.shards[maphash.Comparable(c.seed, k)%cacheShards]
}

// get returns the value cached for k.
func (c *boundedCache[K, V]) get(k K) (V, bool) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cur[k]; ok {
		return v, true
	}
	v, ok := s.old[k]
	if ok {
		delete(s.old, k)
		c.putLocked(s, k, v)
	}
	return v, ok
}

// put caches v for k.
func (c *boundedCache[K, V]) put(k K, v V) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	c.putLocked(s, k, v)
}

func (c *boundedCache[K, V]) putLocked(s *cacheShard[K, V], k K, v V) {
	if _, ok := s.cur[k]; !ok && len(s.cur) >= c.gen {
		s.old, s.cur = s.cur, make(map[K]V, c.gen)
	}
	s.cur[k] = v
}

// len is the number of entries held.
func (c *boundedCache[K, V]) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.cur) + len(s.old)
		s.mu.Unlock()
	}
	return n
}
