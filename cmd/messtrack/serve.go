package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"net"
	"time"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/person"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// shutdownGrace is how long serve waits for requests under way when asked
// to stop.
const shutdownGrace = 10 * time.Second

// loadConfig parses the shared --config flag and loads the file.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (*config.Config, error) {
	path := fs.String("config", "messtrack.yaml", "the YAML config file")
	if err := fs.Parse(args); err != nil {
		return nil, errUsage
	}
	return readConfig(fs, *path, getenv)
}

// readConfig loads the file named by fs's --config flag. When the flag was
// left at its default and the file is missing, the error says how to name
// one: a newcomer in the repository has only examples/messtrack.yaml.
func readConfig(fs *flag.FlagSet, path string, getenv func(string) string) (*config.Config, error) {
	cfg, err := config.Load(path, getenv)
	if err == nil {
		return cfg, nil
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "config" })
	if !given && errors.Is(err, iofs.ErrNotExist) {
		return nil, fmt.Errorf("%w; name the config with --config FILE (the demo's is examples/messtrack.yaml)", err)
	}
	return nil, err
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db, err := store.Open(ctx, cfg.Redis, log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	if db.Embedded() {
		if err := db.Persist(ctx, cfg.StoreFile, 0, log); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	if err := prepareStore(ctx, cfg, db, stdout); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv, err := collector.New(ctx, collector.Options{
		Config: cfg, Redis: db.Client, Clock: store.SystemClock{}, Log: log, Version: version,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer srv.Close()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go sweepRetention(sweepCtx, person.New(person.Options{Redis: db.Client, Config: cfg}), cfg, log)
	refits := time.NewTicker(collector.RefitEvery)
	defer refits.Stop()
	go srv.RunRefits(sweepCtx, refits.C)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen: %w", err)
	}
	fmt.Fprintf(stdout, "messtrack %s listening on http://%s (public URL %s, %d site(s))\n",
		version, ln.Addr(), cfg.PublicURL, len(cfg.Sites))
	if db.Embedded() {
		fmt.Fprintf(stdout, "WARNING: embedded in-memory store, kept in %s between runs; set REDIS_URL or redis: for real use\n", cfg.StoreFile)
	}
	// The demo's month of data is written while the collector already
	// answers; a stop ends it early, and serve returns once it has.
	seedCtx, stopSeed := context.WithCancel(ctx)
	seeded := make(chan struct{})
	go func() {
		defer close(seeded)
		if err := seedIfEmpty(seedCtx, cfg, db, stdout, log); err != nil && seedCtx.Err() == nil {
			log.Error("seeding the demo data", "err", err)
		}
	}()
	err = srv.Serve(ctx, ln, shutdownGrace)
	stopSeed()
	<-seeded
	return err
}
