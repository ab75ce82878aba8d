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
