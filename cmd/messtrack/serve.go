package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/messtrack/messtrack/collector"
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
	cfg, err := config.Load(*path, getenv)
	if err != nil {
		return nil, err
	}
	return cfg, nil
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
	defer db.Close()
	srv, err := collector.New(ctx, collector.Options{
		Config: cfg, Redis: db.Client, Clock: store.SystemClock{}, Log: log, Version: version,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen: %w", err)
	}
	fmt.Fprintf(stdout, "messtrack %s listening on http://%s (public URL %s, %d site(s))\n",
		version, ln.Addr(), cfg.PublicURL, len(cfg.Sites))
	if db.Embedded() {
		fmt.Fprintln(stdout, "WARNING: embedded in-memory store: nothing persists; set REDIS_URL or redis: for real use")
	}
	return srv.Serve(ctx, ln, shutdownGrace)
}
