package sites

import (
	"context"
	"os"
	"testing"

	"github.com/messtrack/messtrack/ids"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// BenchmarkAllocateVisitID measures minting a visit ID against a real
// Redis: the allocator, which reserves counter values in blocks, beside the
// baseline of one INCR per visit, in the same run. Both include turning the
// counter into the visit ID text.
func BenchmarkAllocateVisitID(b *testing.B) {
	rdb := redistest.NewUniversal(b)
	codec, err := ids.NewCodec([]byte("bench-secret-0123456789"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("allocator", func(b *testing.B) {
		a := NewAllocator(rdb, store.VisitSeq("bench"), codec.Number)
		b.ReportAllocs()
		for b.Loop() {
			n, err := a.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			_ = codec.VisitID(n)
		}
	})
	b.Run("baseline-incr-each", func(b *testing.B) {
		key := store.VisitSeq("bench-baseline")
		b.ReportAllocs()
		for b.Loop() {
			c, err := rdb.Incr(ctx, key).Uint64()
			if err != nil {
				b.Fatal(err)
			}
			_ = codec.VisitID(codec.Number(c))
		}
	})
}

// TestAllocatorHandsOutDistinctNumbersAcrossInstances runs two allocators
// (two collector instances) on one counter concurrently: no number twice.
func TestAllocatorHandsOutDistinctNumbersAcrossInstances(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	codec, err := ids.NewCodec([]byte("test-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	key := store.VisitSeq("demo")
	a, b := NewAllocator(rdb, key, codec.Number), NewAllocator(rdb, key, codec.Number)
	const each = 500
	results := make(chan uint64, 2*each)
	errs := make(chan error, 2)
	for _, al := range []*Allocator{a, b} {
		go func() {
			for range each {
				n, err := al.Next(context.Background())
				if err != nil {
					errs <- err
					return
				}
				results <- n
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(results)
	seen := map[uint64]bool{}
	for n := range results {
		if n == 0 || seen[n] {
			t.Fatalf("number %d handed out twice or zero", n)
		}
		seen[n] = true
	}
	if len(seen) != 2*each {
		t.Fatalf("%d distinct numbers, want %d", len(seen), 2*each)
	}
}
