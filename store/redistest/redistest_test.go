package redistest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func TestEachTestGetsAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	a := redistest.New(t)
	if err := a.Set(ctx, "visitor A", "1", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}
	b := redistest.New(t)
	n, err := b.DBSize(ctx).Result()
	if err != nil {
		t.Fatalf("dbsize: %v", err)
	}
	if n != 0 {
		t.Fatalf("second database holds %d keys, want 0", n)
	}
	if got, _ := a.Get(ctx, "visitor A").Result(); got != "1" {
		t.Fatalf("first database lost its key: got %q", got)
	}
}

func TestPrivateServerStops(t *testing.T) {
	srv, err := redistest.StartServer()
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping running server: %v", err)
	}
	srv.Stop()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping after Stop succeeded, want an error")
	}
}

func TestClusterHasThreeMastersWithReplicas(t *testing.T) {
	ctx := context.Background()
	cc := redistest.NewCluster(t)
	// ForEachMaster calls its function concurrently.
	var masters, holding atomic.Int32
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		repl, err := m.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(repl, "connected_slaves:1") {
			t.Errorf("master %s: %q, want one replica", m.Options().Addr, repl)
		}
		masters.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := masters.Load(); n != 3 {
		t.Fatalf("%d masters, want 3", n)
	}
	// Keys of different hash tags land on different masters.
	for i := 0; i < 30; i++ {
		if err := cc.Set(ctx, fmt.Sprintf("{visitor %d}", i), "1", 0).Err(); err != nil {
			t.Fatalf("set on the cluster: %v", err)
		}
	}
	_ = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		if n := m.DBSize(ctx).Val(); n > 0 {
			holding.Add(1)
		}
		return nil
	})
	if n := holding.Load(); n != 3 {
		t.Errorf("30 hash tags landed on %d masters, want 3", n)
	}
	// The next test's client starts empty.
	if n := redistest.NewCluster(t).DBSize(ctx).Val(); n != 0 {
		t.Errorf("a fresh cluster client sees %d keys", n)
	}
}

// NewUniversal hands out the Redis MESSTRACK_TEST_REDIS names, empty; the
// helpers that list keys, count them and read memory see every master.
func TestNewUniversalIsEmptyAndSeenWhole(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewUniversal(t)
	_, isCluster := rdb.(*redis.ClusterClient)
	if isCluster != redistest.OnCluster() {
		t.Fatalf("NewUniversal gave %T with %s=%q", rdb, redistest.RedisEnv, os.Getenv(redistest.RedisEnv))
	}
	if n := redistest.DBSize(t, rdb); n != 0 {
		t.Fatalf("fresh Redis holds %d keys", n)
	}
	// Thirty hash tags: on a cluster they land on every master.
	for i := 0; i < 30; i++ {
		if err := rdb.Set(ctx, fmt.Sprintf("{visitor %d}:k", i), "1", 0).Err(); err != nil {
			t.Fatalf("set: %v", err)
		}
	}
	if n := redistest.DBSize(t, rdb); n != 30 {
		t.Errorf("DBSize = %d, want 30", n)
	}
	if keys := redistest.Keys(t, rdb, "{visitor 1*"); len(keys) != 11 {
		t.Errorf("Keys found %d of visitor 1 and 10..19, want 11: %v", len(keys), keys)
	}
	if m := redistest.UsedMemory(t, rdb); m <= 0 {
		t.Errorf("used memory %d", m)
	}
	// A subtest asking again starts empty too.
	t.Run("again", func(t *testing.T) {
		if n := redistest.DBSize(t, redistest.NewUniversal(t)); n != 0 {
			t.Errorf("second NewUniversal sees %d keys", n)
		}
	})
}
