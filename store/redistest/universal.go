package redistest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisEnv chooses the Redis that NewUniversal hands out: unset (or
// "server") for a database of the shared redis-server, "cluster" for the
// test binary's Redis Cluster (the one ClusterEnv names, or one started on
// first use). `make test` runs the suite both ways.
const RedisEnv = "MESSTRACK_TEST_REDIS"

// OnCluster reports whether RedisEnv asks for the cluster.
func OnCluster() bool {
	return strings.EqualFold(strings.TrimSpace(os.Getenv(RedisEnv)), "cluster")
}

// checkEnv fails the test when RedisEnv holds neither "server" nor
// "cluster": a typo must not quietly run the server pass twice.
func checkEnv(tb testing.TB) {
	tb.Helper()
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv(RedisEnv))); v {
	case "", "server", "cluster":
	default:
		tb.Fatalf("redistest: %s=%q; want server or cluster", RedisEnv, v)
	}
}

// clusterUse serializes the tests that hold a NewUniversal client on the
// cluster: a cluster has one database, so one top-level test at a time owns
// it, from its first NewUniversal until the cleanup of its last. holder is
// that test, held how many of its clients are still open. Test-only state.
var clusterUse = struct {
	sync.Mutex
	free   *sync.Cond
	holder string
	held   int
}{}

func init() { clusterUse.free = sync.NewCond(&clusterUse.Mutex) }

// NewUniversal returns a client on an empty Redis and closes it when the
// test ends: a fresh database of the shared server, as New gives, or with
// RedisEnv=cluster a client of the test binary's cluster with every master
// flushed. Code under test that takes a redis.UniversalClient runs on both;
// tests that need one server by nature (they stop it, SELECT a database, or
// need two independent databases at once) use New or Start.
//
// On the cluster, a top-level test owns it until its cleanup, and a
// NewUniversal of another test waits. The same test (or its subtests)
// asking again gets the cluster emptied once more: its earlier clients see
// the new, empty database, which suits tests that build a fresh world per
// case, one after another, and fails loudly in tests that need two at once.
func NewUniversal(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	checkEnv(tb)
	if !OnCluster() {
		return New(tb)
	}
	root, _, _ := strings.Cut(tb.Name(), "/")
	clusterUse.Lock()
	for clusterUse.holder != "" && clusterUse.holder != root {
		clusterUse.free.Wait()
	}
	clusterUse.holder = root
	clusterUse.held++
	clusterUse.Unlock()
	// Registered first, so it runs after the client is closed.
	tb.Cleanup(func() {
		clusterUse.Lock()
		if clusterUse.held--; clusterUse.held == 0 {
			clusterUse.holder = ""
			clusterUse.free.Broadcast()
		}
		clusterUse.Unlock()
	})
	return SharedCluster(tb).Client(tb)
}

// Keys returns every key matching pattern, on one server or on every master
// of a cluster (KEYS on a cluster client asks a single node). Tests only.
func Keys(tb testing.TB, rdb redis.UniversalClient, pattern string) []string {
	tb.Helper()
	var keys []string
	err := eachNode(rdb, func(ctx context.Context, c redis.Cmdable) ([]string, error) {
		return c.Keys(ctx, pattern).Result()
	}, &keys)
	if err != nil {
		tb.Fatalf("redistest: keys %q: %v", pattern, err)
	}
	return keys
}

// DBSize returns how many keys the server, or every master of a cluster
// together, holds. Tests only.
func DBSize(tb testing.TB, rdb redis.UniversalClient) int64 {
	tb.Helper()
	var n int64
	var mu sync.Mutex
	err := eachNode(rdb, func(ctx context.Context, c redis.Cmdable) ([]string, error) {
		m, err := c.DBSize(ctx).Result()
		mu.Lock()
		n += m
		mu.Unlock()
		return nil, err
	}, nil)
	if err != nil {
		tb.Fatalf("redistest: dbsize: %v", err)
	}
	return n
}

// UsedMemory returns used_memory from INFO memory of the server, or summed
// over every master of a cluster. Tests only.
func UsedMemory(tb testing.TB, rdb redis.UniversalClient) int64 {
	tb.Helper()
	var n int64
	var mu sync.Mutex
	err := eachNode(rdb, func(ctx context.Context, c redis.Cmdable) ([]string, error) {
		raw, err := c.Info(ctx, "memory").Result()
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(raw, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				var m int64
				if _, err := fmt.Sscan(v, &m); err != nil {
					return nil, fmt.Errorf("used_memory %q: %w", v, err)
				}
				mu.Lock()
				n += m
				mu.Unlock()
				return nil, nil
			}
		}
		return nil, fmt.Errorf("no used_memory in INFO memory")
	}, nil)
	if err != nil {
		tb.Fatalf("redistest: used memory: %v", err)
	}
	return n
}

// Nodes returns a client per node that holds data: the server itself, or
// every master of a cluster, for test checks that walk all keys (SCAN on a
// cluster client reaches one node). Tests only.
func Nodes(tb testing.TB, rdb redis.UniversalClient) []*redis.Client {
	tb.Helper()
	switch c := rdb.(type) {
	case *redis.Client:
		return []*redis.Client{c}
	case *redis.ClusterClient:
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var mu sync.Mutex
		var out []*redis.Client
		err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			mu.Lock()
			out = append(out, m)
			mu.Unlock()
			return nil
		})
		if err != nil {
			tb.Fatalf("redistest: the cluster's masters: %v", err)
		}
		return out
	}
	tb.Fatalf("redistest: unexpected client %T", rdb)
	return nil
}

// eachNode runs f on the server, or on every master of a cluster, and
// appends what it returns to out (when out is not nil).
func eachNode(rdb redis.UniversalClient, f func(context.Context, redis.Cmdable) ([]string, error), out *[]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	add := func(s []string) {
		if out != nil {
			mu.Lock()
			*out = append(*out, s...)
			mu.Unlock()
		}
	}
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		s, err := f(ctx, rdb)
		add(s)
		return err
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		s, err := f(ctx, c)
		add(s)
		return err
	})
}

// NewURL returns a REDIS_URL for an empty Redis, for tests of code that
// opens its own connection (the CLI), and a client on it: a database of a
// private server, or with RedisEnv=cluster the cluster's node list and a
// client of it, owned as NewUniversal's is.
func NewURL(tb testing.TB) (string, redis.UniversalClient) {
	tb.Helper()
	checkEnv(tb)
	if !OnCluster() {
		srv := Start(tb)
		c := srv.Client(tb)
		return srv.URL(c.Options().DB), c
	}
	c := NewUniversal(tb)
	return SharedCluster(tb).URL(), c
}
