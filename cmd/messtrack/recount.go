package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

const recountUsage = `Usage: messtrack recount --site S [--config messtrack.yaml]
Rebuilds the site's report aggregates from the stored facts of its chats under
today's rules. Costs are not touched, nor are the code-survival counters
(report codes and experiments): they are counted from clicks and first
messages as they arrive, not from stored facts, so they stay as they are.
Run it while no collector writes to the site: stop the collector, recount,
start it again.
`

func cmdRecount(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("recount", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, recountUsage) }
	cfgPath := fs.String("config", "messtrack.yaml", "the YAML config file")
	site := fs.String("site", "", "the site")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		fmt.Fprint(stderr, recountUsage)
		return errUsage
	}
	cfg, err := readConfig(fs, *cfgPath, getenv)
	if err != nil {
		return err
	}
	st, db, err := openReports(ctx, cfg, *site, stderr)
	if err != nil {
		return fmt.Errorf("recount: %w", err)
	}
	defer db.Close()
	if err := st.ApplyConfiguredConversionEvents(ctx); err != nil {
		return fmt.Errorf("recount: %w", err)
	}
	res, err := st.Recount(ctx, *site, func(done int) {
		fmt.Fprintf(stdout, "recount: %d chats\n", done)
	})
	if err != nil {
		return fmt.Errorf("recount: %w", err)
	}
	fmt.Fprintf(stdout, "recount: done: %d chats, %d conversations, %d conversions; %d unattributed conversations of earlier versions folded in\n",
		res.Chats, res.Conversations, res.Conversions, res.Legacy)
	fmt.Fprintln(stdout, "recount: costs and the code-survival counters (codes, experiments) are left as they were")
	return nil
}
