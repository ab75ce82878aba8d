package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// TestFormatWrittenOnEmptyStoreAndNewerRefused: the first start on an empty
// store writes today's version; a newer version is refused with both
// numbers named; an unknown value is an error, not a guess.
func TestFormatWrittenOnEmptyStoreAndNewerRefused(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewUniversal(t)
	if f, err := store.ReadFormat(ctx, rdb); err != nil || f != 0 {
		t.Fatalf("empty store: format %d, %v; want 0", f, err)
	}
	if err := store.PrepareFormat(ctx, rdb, nil, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, store.Format()).Int(); err != nil || v != store.FormatVersion {
		t.Fatalf("%s = %d, %v; want %d", store.Format(), v, err, store.FormatVersion)
	}
	rdb.Set(ctx, store.Format(), store.FormatVersion+1, 0)
	err := store.PrepareFormat(ctx, rdb, nil, func(string) {})
	want := fmt.Sprintf("Redis holds data format %d and this messtrack reads format %d at most", store.FormatVersion+1, store.FormatVersion)
	if !errors.Is(err, store.ErrNewerFormat) || !strings.Contains(err.Error(), want) {
		t.Fatalf("newer format: %v; want %q", err, want)
	}
	rdb.Set(ctx, store.Format(), "two", 0)
	if _, err := store.ReadFormat(ctx, rdb); err == nil {
		t.Fatal("a format that is no number was read")
	}
}

// TestUpgradeResumesWhereItStopped: an upgrade that stops after two batches
// (the process dies, Redis fails) continues from its saved cursor at the
// next start, prints a progress line per batch, and ends at today's format
// with its progress record gone.
func TestUpgradeResumesWhereItStopped(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewUniversal(t)
	// Format 1: data written before the format key existed.
	for i := range 10 {
		rdb.Set(ctx, store.ReportChat("demo", "whatsapp:"+strconv.Itoa(i)), "[]", 0)
	}
	if f, err := store.ReadFormat(ctx, rdb); err != nil || f != 1 {
		t.Fatalf("store without the key: format %d, %v; want 1", f, err)
	}
	var starts []string
	failAt := 3
	step := store.Upgrade{From: 1, What: "items", Batch: func(ctx context.Context, cursor string) (string, int, error) {
		starts = append(starts, cursor)
		n, _ := strconv.Atoi(cursor)
		if n == failAt {
			return "", 0, errors.New("stopped")
		}
		if n == 4 {
			return "", 2, nil
		}
		return strconv.Itoa(n + 1), 2, nil
	}}
	var lines []string
	progress := func(l string) { lines = append(lines, l) }
	err := store.PrepareFormat(ctx, rdb, []store.Upgrade{step}, progress)
	if err == nil || !strings.Contains(err.Error(), "upgrade 1 -> 2 (items): stopped") {
		t.Fatalf("first run: %v", err)
	}
	if f, _ := store.ReadFormat(ctx, rdb); f != 1 {
		t.Fatalf("format after a stopped upgrade: %d, want 1", f)
	}
	failAt = -1
	lines = nil
	starts = nil
	if err := store.PrepareFormat(ctx, rdb, []store.Upgrade{step}, progress); err != nil {
		t.Fatal(err)
	}
	if strings.Join(starts, ",") != "3,4" {
		t.Errorf("second run started batches at %q, want 3,4 (resumed)", starts)
	}
	wantLines := "format 1 -> 2: resuming items after 6|format 1 -> 2: items: 8|format 1 -> 2: items: 10"
	if got := strings.Join(lines, "|"); got != wantLines {
		t.Errorf("progress:\n%s\nwant\n%s", got, wantLines)
	}
	if f, _ := store.ReadFormat(ctx, rdb); f != store.FormatVersion {
		t.Errorf("format after the upgrade: %d", f)
	}
	if n, _ := rdb.Exists(ctx, store.FormatUpgrade()).Result(); n != 0 {
		t.Error("the progress record outlived the upgrade")
	}
}

// TestSettingsSeeEvictionAndPersistence reads a real server's settings as
// they change.
func TestSettingsSeeEvictionAndPersistence(t *testing.T) {
	ctx := context.Background()
	// A private server on both passes: the test changes its settings,
	// which would outlive it on a shared cluster (TestOpenClusterAndReadIt
	// reads a cluster's).
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	if err := store.RefuseEviction(ctx, rdb); err != nil {
		t.Fatalf("default server: %v", err)
	}
	s, err := store.ReadSettings(ctx, rdb)
	if err != nil || len(s) != 1 || s[0].Persists() || !s[0].SaveKnown {
		t.Fatalf("test server (no persistence): %+v %v", s, err)
	}
	rdb.ConfigSet(ctx, "maxmemory", "100mb")
	rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru")
	err = store.RefuseEviction(ctx, rdb)
	if !errors.Is(err, store.ErrEvicting) || !strings.Contains(err.Error(), "maxmemory-policy allkeys-lru") ||
		!strings.Contains(err.Error(), "maxmemory-policy noeviction") {
		t.Fatalf("allkeys-lru: %v", err)
	}
	rdb.ConfigSet(ctx, "maxmemory-policy", "volatile-ttl")
	if err := store.RefuseEviction(ctx, rdb); !errors.Is(err, store.ErrEvicting) {
		t.Fatalf("volatile-ttl evicts visits, which have a TTL: %v", err)
	}
	rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction")
	rdb.ConfigSet(ctx, "appendonly", "yes")
	if err := store.RefuseEviction(ctx, rdb); err != nil {
		t.Fatalf("noeviction: %v", err)
	}
	s, err = store.ReadSettings(ctx, rdb)
	if err != nil || !s[0].Persists() || !s[0].AOF || s[0].AppendFsync != "everysec" {
		t.Fatalf("appendonly yes: %+v %v", s, err)
	}
}
