package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openEmbedded(t *testing.T, file string, every time.Duration) *DB {
	t.Helper()
	db, err := Open(context.Background(), "", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Persist(context.Background(), file, every, quietLog()); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db
}

// TestEmbeddedStoreKeepsEveryTypeAcrossRestart: strings (binary ones too),
// hashes, lists, sets and sorted sets with their TTLs come back after Close
// and a new Open with the same file; nothing but the file is left behind.
func TestEmbeddedStoreKeepsEveryTypeAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "var", "store.gob")
	db := openEmbedded(t, file, time.Hour)
	c := db.Client
	binary := "\x00\xff\xfe visit\x01"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "s", binary, 0).Err())
	must(c.Set(ctx, "ttl", "x", time.Hour).Err())
	must(c.HSet(ctx, "h", "a", "1", "b", binary).Err())
	must(c.RPush(ctx, "l", "one", "two", "three").Err())
	must(c.SAdd(ctx, "set", "x", "y").Err())
	must(c.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "m1"}, redis.Z{Score: -2, Member: "m2"}).Err())
	must(db.Close())

	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 || entries[0].Name() != "store.gob" {
		t.Fatalf("folder holds %v, want the store file alone", entries)
	}

	db = openEmbedded(t, file, time.Hour)
	defer db.Close()
	c = db.Client
	if got := c.Get(ctx, "s").Val(); got != binary {
		t.Errorf("string = %q", got)
	}
	if ttl := c.TTL(ctx, "ttl").Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("ttl = %v, want within (0, 1h]", ttl)
	}
	if h := c.HGetAll(ctx, "h").Val(); h["a"] != "1" || h["b"] != binary {
		t.Errorf("hash = %q", h)
	}
	if l := c.LRange(ctx, "l", 0, -1).Val(); strings.Join(l, ",") != "one,two,three" {
		t.Errorf("list = %q", l)
	}
	if m := c.SMembers(ctx, "set").Val(); len(m) != 2 {
		t.Errorf("set = %q", m)
	}
	if z := c.ZRangeWithScores(ctx, "z", 0, -1).Val(); len(z) != 2 || z[0].Member != "m2" || z[0].Score != -2 || z[1].Score != 1.5 {
		t.Errorf("zset = %v", z)
	}
}

// TestEmbeddedStoreIsWrittenPeriodically: a crash (no Close) loses at most
// one interval.
func TestEmbeddedStoreIsWrittenPeriodically(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "store.gob")
	db := openEmbedded(t, file, 20*time.Millisecond)
	defer db.Close()
	if err := db.Client.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		// What a crash now would leave: a copy of the file as it is.
		b, err := os.ReadFile(file)
		if err == nil {
			crashed := filepath.Join(dir, fmt.Sprintf("crash-%d.gob", i))
			if err := os.WriteFile(crashed, b, 0o600); err != nil {
				t.Fatal(err)
			}
			other := openEmbedded(t, crashed, time.Hour)
			v := other.Client.Get(context.Background(), "k").Val()
			other.Close()
			if v == "v" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the store was never written while running")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEmbeddedStoreRefusesAForeignFile: a file that is not the store's
// stops the start with the file named, and is left as it was.
func TestEmbeddedStoreRefusesAForeignFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "store.gob")
	if err := os.WriteFile(file, []byte("not a store"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), "", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Persist(context.Background(), file, time.Hour, quietLog())
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Persist = %v, want an error naming %s", err, file)
	}
	if b, _ := os.ReadFile(file); string(b) != "not a store" {
		t.Fatalf("the foreign file was overwritten: %q", b)
	}
}
