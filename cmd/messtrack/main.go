// Command messtrack is the mess-tracking collector and its tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "messtrack:", err)
		}
		os.Exit(1)
	}
}

// errUsage marks an error whose message (the usage) was already printed.
var errUsage = errors.New("usage")

const usage = `messtrack: which visit, ad or flyer made a person write in WhatsApp or Telegram.

Usage:
  messtrack serve   [--config messtrack.yaml]   run the collector
  messtrack qr      --site S --source NAME [--format png|svg] [--out FILE]
                    [--size N] [--level L|M|Q|H] [--static]
  messtrack report  --site S ads|channels|pages|new-repeat|dynamics [--from D --to D]
                    [--format table|json|csv] [--by day|week|month|quarter]
  messtrack costs   import --site S FILE | sync --site S --from D --to D
  messtrack recount --site S
  messtrack heuristic show|refit --site S       the learned heuristic, its live proof; refit now
  messtrack person  export|erase --site S --chat C | sweep|audit --site S [--limit N]
  messtrack deliveries list --site S [--state pending|delivered|dead] | replay --site S --id ID|--dead
  messtrack export  metrica --site S --from D --to D [--id clientid|yclid]
  messtrack check                              check Redis, GeoIP, secrets and public_url
  messtrack demo    seed [--site demo] [--days 30]   fill the demo site with a month of demo data
  messtrack version
  messtrack help

Every command but version and help takes --config FILE (default messtrack.yaml;
the demo's is examples/messtrack.yaml).
Environment: MESSTRACK_ADDR, REDIS_URL, MESSTRACK_GEOIP override the config file.
`

// run dispatches one subcommand; every subcommand lives in its own file.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr, getenv)
	case "qr":
		return cmdQR(ctx, rest, stdout, stderr, getenv)
	case "report":
		return cmdReport(ctx, rest, stdout, stderr, getenv)
	case "costs":
		return cmdCosts(ctx, rest, stdout, stderr, getenv)
	case "recount":
		return cmdRecount(ctx, rest, stdout, stderr, getenv)
	case "heuristic":
		return cmdHeuristic(ctx, rest, stdout, stderr, getenv)
	case "person":
		return cmdPerson(ctx, rest, stdout, stderr, getenv)
	case "deliveries":
		return cmdDeliveries(ctx, rest, stdout, stderr, getenv)
	case "export":
		return cmdExport(ctx, rest, stdout, stderr, getenv)
	case "check":
		return cmdCheck(ctx, rest, stdout, stderr, getenv)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr, getenv)
	case "version", "--version":
		fmt.Fprintln(stdout, "messtrack", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "messtrack: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
