package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/messtrack/messtrack/collector/outbound"
	"github.com/messtrack/messtrack/store"
)

const deliveriesUsage = `Usage: messtrack deliveries list   --site S [--state pending|delivered|dead] [--limit N] [--json] [--config messtrack.yaml]
       messtrack deliveries replay --site S --id ID [--config messtrack.yaml]
       messtrack deliveries replay --site S --dead [--limit N] [--config messtrack.yaml]

list prints the site's newest outbound deliveries (webhooks, Meta, GA4,
Metrica), newest first, at most N (default 100): a table, or JSON lines
with --json.
replay queues a delivered or dead delivery again, with the same
idempotency key and a fresh retry window; --dead replays the oldest N dead
letters.
`

func cmdDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, deliveriesUsage)
		return errUsage
	}
	verb := args[0]
	fs := flag.NewFlagSet("deliveries "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, deliveriesUsage) }
	cfgPath := fs.String("config", "messtrack.yaml", "the YAML config file")
	site := fs.String("site", "", "the site")
	state := fs.String("state", "", "pending, delivered or dead (list)")
	limit := fs.Int("limit", 100, "how many deliveries")
	id := fs.String("id", "", "the delivery to replay")
	dead := fs.Bool("dead", false, "replay the dead letters")
	asJSON := fs.Bool("json", false, "print JSON lines (list)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		fmt.Fprint(stderr, deliveriesUsage)
		return errUsage
	}
	switch verb {
	case "list":
		if *state != "" && !slices.Contains(outbound.States, *state) {
			fmt.Fprintf(stderr, "messtrack deliveries: --state must be one of %s\n", strings.Join(outbound.States, ", "))
			return errUsage
		}
	case "replay":
		if (*id == "") == !*dead {
			fmt.Fprintln(stderr, "messtrack deliveries replay: give --id ID or --dead")
			return errUsage
		}
	default:
		fmt.Fprintf(stderr, "messtrack deliveries: unknown action %q\n\n%s", verb, deliveriesUsage)
		return errUsage
	}
	if *limit < 1 || *limit > 1000 {
		fmt.Fprintln(stderr, "messtrack deliveries: --limit must be 1..1000")
		return errUsage
	}
	cfg, err := readConfig(fs, *cfgPath, getenv)
	if err != nil {
		return err
	}
	_, db, err := openReports(ctx, cfg, *site, stderr)
	if err != nil {
		return fmt.Errorf("deliveries %s: %w", verb, err)
	}
	defer db.Close()
	admin := outbound.NewAdmin(db.Client, cfg, store.SystemClock{})
	switch {
	case verb == "list":
		list, err := admin.List(ctx, *site, *state, *limit)
		if err != nil {
			return fmt.Errorf("deliveries list: %w", err)
		}
		return printDeliveries(stdout, list, *asJSON)
	case *dead:
		n, err := admin.ReplayDead(ctx, *site, *limit)
		if err != nil {
			return fmt.Errorf("deliveries replay: %w", err)
		}
		fmt.Fprintf(stdout, "%d dead deliveries queued again\n", n)
		return nil
	default:
		res, err := admin.Replay(ctx, *site, *id)
		if err != nil {
			return fmt.Errorf("deliveries replay: %w", err)
		}
		fmt.Fprintf(stdout, "%s: %s\n", *id, res)
		return nil
	}
}

func printDeliveries(w io.Writer, list []outbound.Listed, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, d := range list {
			if err := enc.Encode(d); err != nil {
				return fmt.Errorf("deliveries list: %w", err)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tTARGET\tCHAT\tSTATE\tATTEMPTS\tCREATED\tERROR")
	for _, d := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Type, d.Target, oneLine(d.Chat), d.State, d.Attempts, d.Created, oneLine(d.Error))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("deliveries list: %w", err)
	}
	return nil
}

// oneLine keeps a value from breaking the table.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
