package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// The REDIS_URL list of a real three-master cluster: Open makes a cluster
// client, settings come from every master, every slot is served, and a
// site's keys are scanned on the node that holds them.
func TestOpenClusterAndReadIt(t *testing.T) {
	c := redistest.SharedCluster(t)
	_ = c.Client(t) // flushed
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, c.URL(), quietLog())
	if err != nil {
		t.Fatalf("Open(%q): %v", c.URL(), err)
	}
	defer db.Close()
	cc, ok := db.Client.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("Open of a node list gave %T, want a cluster client", db.Client)
	}
	settings, err := store.ReadSettings(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	if len(settings) != 3 {
		t.Errorf("settings of %d servers, want the 3 masters", len(settings))
	}
	for _, s := range settings {
		if !s.AOF || s.Evicts() {
			t.Errorf("master %s: AOF %v, evicts %v; the test cluster keeps AOF and never evicts", s.Addr, s.AOF, s.Evicts())
		}
	}
	n, err := store.SlotsCovered(ctx, cc)
	if err != nil || n != 16384 {
		t.Fatalf("SlotsCovered = %d, %v; want 16384", n, err)
	}

	// Sites whose tags hash to different masters; each scan sees all of its
	// own site's keys and no other's.
	sites := []string{"site-a", "site-b", "site-c", "site-d"}
	for _, s := range sites {
		for i := 0; i < 450; i++ {
			if err := cc.Set(ctx, store.Secret(s)+fmt.Sprint(i), "x", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range sites {
		seen := map[string]bool{}
		err := store.ScanSite(ctx, cc, s, store.Secret(s)+"*", func(keys []string) error {
			for _, k := range keys {
				seen[k] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 450 {
			t.Errorf("site %s: scanned %d keys, want 450", s, len(seen))
		}
	}
}

// A master killed mid-traffic: its replica takes over, the client Open made
// finds it within seconds and writes go on; every write acknowledged after WAIT saw it on the
// replica survives the failover.
func TestClusterFailoverKeepsReplicatedWrites(t *testing.T) {
	c := redistest.PrivateCluster(t)
	_ = c.Client(t) // flushed
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, c.URL(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cc := db.Client.(*redis.ClusterClient)
	const key = "{visitor A}:n"
	master, err := c.MasterOf(ctx, key)
	start := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	// ok counts the acknowledged increments. Before the failover an
	// increment counts once WAIT saw it on the replica; the promoted replica
	// has no replica of its own, so afterwards the reply is the ack.
	ok, wait := 0, true
	write := func() error {
		if err := cc.Incr(ctx, key).Err(); err != nil {
			return err
		}
		if wait {
			m, err := cc.MasterForKey(ctx, key)
			if err != nil {
				return err
			}
			if got, err := m.Do(ctx, "WAIT", 1, 2000).Int64(); err != nil || got < 1 {
				return fmt.Errorf("WAIT: %d replicas, %v", got, err)
			}
		}
		ok++
		return nil
	}
	for i := 0; i < 50; i++ {
		if err := write(); err != nil {
			t.Fatalf("write %d before the failover: %v", i, err)
		}
	}
	master.Kill()
	wait = false
	// Writes fail until the replica is promoted (node timeout 2 s), then
	// succeed again through the same client once it reloads the slots.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := write(); err == nil {
			break
		} else if time.Now().After(deadline) {
			other := c.Nodes[0]
			if other == master {
				other = c.Nodes[1]
			}
			nodes, _ := redis.NewClient(&redis.Options{Addr: other.Addr}).ClusterNodes(ctx).Result()
			t.Fatalf("no write succeeded within 30 s of the master's death: %v\n%s", err, nodes)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("writes resumed %v after the master's death", time.Since(start).Round(100*time.Millisecond))
	for i := 0; i < 50; i++ {
		if err := write(); err != nil {
			t.Fatalf("write %d after the failover: %v", i, err)
		}
	}
	got, err := cc.Get(ctx, key).Int()
	if err != nil {
		t.Fatal(err)
	}
	if got != ok {
		t.Fatalf("counter %d after %d acknowledged increments", got, ok)
	}
}
