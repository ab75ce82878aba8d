package collector

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/store"
)

// allocator hands out visit numbers. It reserves counter values from Redis
// in blocks, so that registering a visit usually costs a single SET; values
// of a block left unused when the process stops are simply skipped.
type allocator struct {
	rdb    redis.UniversalClient
	key    string
	number func(counter uint64) uint64

	mu   sync.Mutex
	next uint64 // next counter value to hand out
	end  uint64 // last counter value of the reserved block
}

// allocBlock is how many counter values one INCRBY reserves. Requests wait
// on the reservation, so a larger block means fewer waits; the values a
// stopped process leaves unused are skipped, which costs nothing next to the
// code space's 762 million (ids.Cycle).
const allocBlock = 256

func newAllocator(rdb redis.UniversalClient, key string, number func(uint64) uint64) *allocator {
	return &allocator{rdb: rdb, key: key, number: number}
}

// Next returns a fresh visit number.
func (a *allocator) Next(ctx context.Context) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == 0 || a.next > a.end {
		end, err := a.rdb.IncrBy(ctx, a.key, allocBlock).Result()
		if err != nil {
			return 0, fmt.Errorf("allocator.Next: incrby: %w", err)
		}
		a.end = uint64(end)
		a.next = a.end - allocBlock + 1
	}
	c := a.next
	a.next++
	return a.number(c), nil
}

// saveVisit allocates the visit's number and stores it with the site's TTL.
func (s *Server) saveVisit(ctx context.Context, st *site, v *visit.Visit) error {
	n, err := st.alloc.Next(ctx)
	if err != nil {
		return fmt.Errorf("saveVisit: %w", err)
	}
	v.N = n
	b, err := visit.Encode(v)
	if err != nil {
		return fmt.Errorf("saveVisit: %w", err)
	}
	if err := s.visits.set(ctx, store.Visit(st.cfg.Name, n), b, st.visitTTL()); err != nil {
		return fmt.Errorf("saveVisit: set: %w", err)
	}
	s.metrics.visits.WithLabelValues(st.cfg.Name).Inc()
	return nil
}

// loadVisit returns the live visit numbered n, or ErrNotFound.
func (s *Server) loadVisit(ctx context.Context, st *site, n uint64) (*visit.Visit, error) {
	b, err := s.rdb.Get(ctx, store.Visit(st.cfg.Name, n)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("loadVisit %d: %w", n, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loadVisit: get: %w", err)
	}
	return visit.Decode(n, b)
}
