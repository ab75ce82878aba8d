package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/demo"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// seedDays is how much demo data serve puts into an empty embedded store.
const seedDays = 30

// cmdDemo runs `messtrack demo seed --site demo --days 30`: a month of
// made-up traffic for the demo site, through the collector's endpoints.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "seed" {
		fmt.Fprint(stderr, "usage: messtrack demo seed [--config FILE] [--site demo] [--days 30]\n")
		return errUsage
	}
	fs := flag.NewFlagSet("demo seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	site := fs.String("site", "demo", "the demo site (demo: true in the config)")
	days := fs.Int("days", seedDays, "how many days before today to fill")
	cfg, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if st := cfg.Sites[*site]; st == nil || !st.Demo {
		return fmt.Errorf("demo seed: site %q of %s: %w", *site, cfg.Path, demo.ErrNotDemo)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.Open(ctx, cfg.Redis, log)
	if err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	if db.Embedded() {
		// The embedded store lives in its file between runs: the next
		// `messtrack serve` finds the month there.
		if err := db.Persist(ctx, cfg.StoreFile, 0, log); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
	}
	if err := prepareStore(ctx, cfg, db, stdout); err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	sum, err := seedDemo(ctx, cfg, db.Client, *site, *days, time.Now(), log)
	if err != nil {
		return err
	}
	printSeed(stdout, sum)
	return nil
}

// seedDemo fills site with days of demo data ending before now, through a
// collector of its own on a clock the seed moves.
func seedDemo(ctx context.Context, cfg *config.Config, rdb redis.UniversalClient, site string, days int, now time.Time, log *slog.Logger) (*demo.Summary, error) {
	clock := store.NewManualClock(now.AddDate(0, 0, -days-1))
	srv, err := collector.New(ctx, collector.Options{Config: cfg, Redis: rdb, Clock: clock, Log: log, Version: version})
	if err != nil {
		return nil, fmt.Errorf("demo seed: %w", err)
	}
	defer srv.Close()
	do := func(r *http.Request) (*http.Response, error) { return srv.App().Test(r, -1) }
	sum, err := demo.Seed(ctx, do, clock, cfg, demo.SeedOptions{Site: site, Days: days, End: now, Seed: uint64(now.UnixNano())})
	if err != nil {
		return nil, fmt.Errorf("demo seed: %w", err)
	}
	return sum, nil
}

// printSeed says what the seed put in.
func printSeed(w io.Writer, sum *demo.Summary) {
	fmt.Fprintf(w, "demo data for site %s, %s to %s (every name and campaign is marked demo):\n", sum.Site, sum.From, sum.To)
	fmt.Fprintf(w, "  %d visits, %d chat-button taps, %d QR scans, %d chats, %d messages, %d ad cost rows\n",
		sum.Visits, sum.Clicks, sum.Scans, sum.Chats, sum.Messages, sum.CostRows)
	fmt.Fprintf(w, "  conversations by channel:")
	for _, k := range sortedKeys(sum.Conversations) {
		fmt.Fprintf(w, " %s %d", k, sum.Conversations[k])
	}
	fmt.Fprintf(w, "\n  by method:")
	for _, k := range sortedKeys(sum.Methods) {
		fmt.Fprintf(w, " %s %d", k, sum.Methods[k])
	}
	fmt.Fprintln(w)
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// seedIfEmpty gives `make run` something to look at: on the embedded
// store, a demo site that has no chat yet gets a month of demo data.
func seedIfEmpty(ctx context.Context, cfg *config.Config, db *store.DB, stdout io.Writer, log *slog.Logger) error {
	if !db.Embedded() {
		return nil
	}
	for _, name := range cfg.SiteNames() {
		if !cfg.Sites[name].Demo {
			continue
		}
		n, err := db.Client.Exists(ctx, store.Chats(name)).Result()
		if err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
		if n > 0 {
			continue
		}
		fmt.Fprintf(stdout, "messtrack: the embedded store has no chats for the demo site %q: seeding %d days of demo data\n", name, seedDays)
		sum, err := seedDemo(ctx, cfg, db.Client, name, seedDays, time.Now(), log)
		if err != nil {
			return err
		}
		printSeed(stdout, sum)
	}
	return nil
}
