package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/outbound"
	"github.com/messtrack/messtrack/store"
)

const exportUsage = `Usage: messtrack export metrica --site S --from YYYY-MM-DD --to YYYY-MM-DD
         [--id clientid|yclid] [--config messtrack.yaml]

Writes the site's chats (goal_chat) and their conversions (goal_conversion,
with price and currency) from --from to --to (days in the site's time zone)
as Yandex Metrica's offline-conversion CSV, for a manual upload: each chat's
current conversation that came from a visit with a Metrica ClientID
(--id clientid, the default) or a Yandex Direct click (--id yclid).
`

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "metrica" {
		fmt.Fprint(stderr, exportUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("export metrica", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage) }
	cfgPath := fs.String("config", "messtrack.yaml", "the YAML config file")
	site := fs.String("site", "", "the site")
	fromS := fs.String("from", "", "first day, YYYY-MM-DD")
	toS := fs.String("to", "", "last day, YYYY-MM-DD")
	idCol := fs.String("id", "clientid", "clientid or yclid")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 || (*idCol != "clientid" && *idCol != "yclid") {
		fmt.Fprint(stderr, exportUsage)
		return errUsage
	}
	cfg, err := readConfig(fs, *cfgPath, getenv)
	if err != nil {
		return err
	}
	_, db, err := openReports(ctx, cfg, *site, stderr)
	if err != nil {
		return fmt.Errorf("export metrica: %w", err)
	}
	defer db.Close()
	st := cfg.Site(*site)
	if st.Metrica.GoalChat == "" && st.Metrica.GoalConversion == "" {
		return fmt.Errorf("export metrica: site %q sets no metrica goal_chat or goal_conversion in %s", *site, cfg.Path)
	}
	from, err := time.ParseInLocation(time.DateOnly, *fromS, st.Location)
	if err != nil {
		return fmt.Errorf("export metrica: --from %q is not a YYYY-MM-DD day", *fromS)
	}
	to, err := time.ParseInLocation(time.DateOnly, *toS, st.Location)
	if err != nil || to.Before(from) {
		return fmt.Errorf("export metrica: --to %q is not a YYYY-MM-DD day on or after --from", *toS)
	}
	col, err := collector.New(ctx, collector.Options{Config: cfg, Redis: db.Client, Clock: store.SystemClock{},
		Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		return fmt.Errorf("export metrica: %w", err)
	}
	defer col.Close()
	rows, err := col.MetricaRows(ctx, *site, from, to.AddDate(0, 0, 1))
	if err != nil {
		return fmt.Errorf("export metrica: %w", err)
	}
	kept := rows[:0]
	for _, r := range rows {
		if *idCol == "clientid" && r.ClientID != "" {
			kept = append(kept, outbound.MetricaRow{ClientID: r.ClientID, Goal: r.Goal, Time: r.Time, Conversion: r.Conversion, Price: r.Price, Currency: r.Currency})
		}
		if *idCol == "yclid" && r.Yclid != "" {
			kept = append(kept, outbound.MetricaRow{Yclid: r.Yclid, Goal: r.Goal, Time: r.Time, Conversion: r.Conversion, Price: r.Price, Currency: r.Currency})
		}
	}
	if err := outbound.WriteMetricaCSVBy(stdout, kept, *idCol == "yclid"); err != nil {
		return fmt.Errorf("export metrica: %w", err)
	}
	fmt.Fprintf(stderr, "%d rows\n", len(kept))
	return nil
}
