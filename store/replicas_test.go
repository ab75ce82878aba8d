package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// startReplicated starts a server and a second one replicating it, and
// returns clients of both once the replica is online.
func startReplicated(t *testing.T) (master, replica *redis.Client) {
	t.Helper()
	m, r := redistest.Start(t), redistest.Start(t)
	master = redis.NewClient(&redis.Options{Addr: m.Addr, PoolSize: 8})
	replica = redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = master.Close(); _ = replica.Close() })
	ctx := context.Background()
	host, port, _ := strings.Cut(m.Addr, ":")
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := master.Info(ctx, "replication").Result()
		if err != nil {
			t.Fatal(err)
		}
		if store.OnlineReplicas(info) == 1 {
			return master, replica
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not online within 20 s:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Writes spread over a pool's connections are all on the replica when Sync
// returns, although its WAIT went on a connection that made none of them;
// a replica that stops replicating makes a strict
// wait fail with ErrNotReplicated, while the automatic wait of a master
// without replicas answers at once.
func TestReplicasSyncOneServer(t *testing.T) {
	master, replica := startReplicated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := store.NewReplicas(store.ReplicasAuto, time.Second)
	if !r.Watch(master) {
		t.Fatal("Watch refused a *redis.Client")
	}
	for round := 0; round < 20; round++ {
		tctx, w := store.Track(ctx)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					if err := master.Incr(tctx, fmt.Sprintf("{visitor A}:n%d", g)).Err(); err != nil {
						errs[g] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if w.Nodes() != 1 {
			t.Fatalf("recorded %d nodes, want the one server", w.Nodes())
		}
		if err := r.Sync(tctx, w); err != nil {
			t.Fatalf("round %d: Sync: %v", round, err)
		}
		// Straight after Sync the replica has every increment.
		for g := range 8 {
			got, err := replica.Get(ctx, fmt.Sprintf("{visitor A}:n%d", g)).Int()
			if err != nil || got != 25*(round+1) {
				t.Fatalf("round %d: replica has n%d = %d (%v), want %d", round, g, got, err, 25*(round+1))
			}
		}
	}

	// A read records its node as well (what it found is acknowledged);
	// a command without a key records nothing.
	tctx, w := store.Track(ctx)
	if err := master.Ping(tctx).Err(); err != nil {
		t.Fatal(err)
	}
	if w.Nodes() != 0 {
		t.Errorf("PING recorded %d nodes, want none", w.Nodes())
	}
	if err := master.Get(tctx, "{visitor A}:n0").Err(); err != nil {
		t.Fatal(err)
	}
	if w.Nodes() != 1 {
		t.Errorf("a read recorded %d nodes, want its node", w.Nodes())
	}

	if err := replica.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	tctx, w = store.Track(ctx)
	if err := master.Set(tctx, "{visitor B}:x", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	strict := store.NewReplicas(1, 200*time.Millisecond)
	strict.Watch(master) // a second hook on the same client records the same writes
	if err := strict.Sync(tctx, w); !errors.Is(err, store.ErrNotReplicated) {
		t.Errorf("strict Sync without a replica = %v, want ErrNotReplicated", err)
	}
	// A fresh automatic wait reads the master's replicas: none, nothing to
	// wait for.
	if err := store.NewReplicas(store.ReplicasAuto, 200*time.Millisecond).Sync(tctx, w); err != nil {
		t.Errorf("automatic Sync on a master without replicas: %v", err)
	}
	if err := store.NewReplicas(0, time.Second).Sync(tctx, w); err != nil {
		t.Errorf("Sync with waiting off: %v", err)
	}
}

// On a cluster, Sync waits on each master that served the request's
// writes, with its sync key in a slot that master holds.
func TestReplicasSyncCluster(t *testing.T) {
	c := redistest.SharedCluster(t)
	_ = c.Client(t) // flushed
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer cc.Close()
	r := store.NewReplicas(1, time.Second)
	if !r.Watch(cc) {
		t.Fatal("Watch refused a cluster client")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tctx, w := store.Track(ctx)
	masters := map[string]bool{}
	for i := 0; i < 12; i++ {
		key := store.Secret(fmt.Sprintf("site-%d", i))
		if err := cc.Set(tctx, key, "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
		m, err := cc.MasterForKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr] = true
		for _, k := range []string{key, "plain key " + fmt.Sprint(i)} {
			a, _ := cc.ClusterKeySlot(ctx, k).Result()
			b, _ := cc.ClusterKeySlot(ctx, store.ReplicaSync(k)).Result()
			if a != b {
				t.Errorf("ReplicaSync(%q) in slot %d, the key in %d", k, b, a)
			}
		}
	}
	if w.Nodes() != len(masters) {
		t.Errorf("recorded %d nodes, the writes went to %d masters", w.Nodes(), len(masters))
	}
	if err := r.Sync(tctx, w); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	// Two replicas are more than any master has.
	if err := store.NewReplicas(2, 100*time.Millisecond).Sync(tctx, w); !errors.Is(err, store.ErrNotReplicated) {
		t.Errorf("Sync for 2 replicas = %v, want ErrNotReplicated", err)
	}
}

func TestOnlineReplicas(t *testing.T) {
	info := "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n" +
		"slave0:ip=127.0.0.1,port=7001,state=online,offset=42,lag=0\r\n" +
		"slave1:ip=127.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=0\r\n" +
		"slave_read_only:1\r\nmaster_repl_offset:42\r\n"
	if n := store.OnlineReplicas(info); n != 1 {
		t.Errorf("OnlineReplicas = %d, want 1 (one online, one still syncing)", n)
	}
	if n := store.OnlineReplicas(""); n != 0 {
		t.Errorf("OnlineReplicas of nothing = %d", n)
	}
}
