package sites

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// Allocator hands out visit numbers. It reserves counter values from Redis
// in blocks, so that registering a visit usually costs a single SET; values
// of a block left unused when the process stops are simply skipped.
type Allocator struct {
	rdb    redis.UniversalClient
	key    string
	number func(counter uint64) uint64
	// replicas, when set, must hold a reservation before its numbers are
	// handed out: a reservation lost in a failover would give another
	// collector the same block, and visits the same IDs.
	replicas *store.Replicas

	mu   sync.Mutex
	next uint64 // next counter value to hand out
	end  uint64 // last counter value of the reserved block
}

// allocBlock is how many counter values one INCRBY reserves. Requests wait
// on the reservation, so a larger block means fewer waits; the values a
// stopped process leaves unused are skipped, which costs nothing next to the
// code space's 762 million (ids.Cycle).
const allocBlock = 256

// NewAllocator hands out number(counter) for the values of the counter at
// key.
func NewAllocator(rdb redis.UniversalClient, key string, number func(uint64) uint64) *Allocator {
	return &Allocator{rdb: rdb, key: key, number: number}
}

// WaitReplicas makes every reservation wait for r (store.Replicas.Sync)
// before its numbers are used. Call it before the first Next.
func (a *Allocator) WaitReplicas(r *store.Replicas) { a.replicas = r }

// Next returns a fresh visit number.
func (a *Allocator) Next(ctx context.Context) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == 0 || a.next > a.end {
		tctx, w := store.Track(ctx)
		end, err := a.rdb.IncrBy(tctx, a.key, allocBlock).Result()
		if err != nil {
			return 0, fmt.Errorf("allocator.Next: incrby: %w", err)
		}
		if err := a.replicas.Sync(tctx, w); err != nil {
			return 0, fmt.Errorf("allocator.Next: %w", err)
		}
		a.end = uint64(end)
		a.next = a.end - allocBlock + 1
	}
	c := a.next
	a.next++
	return a.number(c), nil
}
