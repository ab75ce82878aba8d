package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/messtrack/messtrack/collector/wabiz"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

const reportUsage = `Usage: messtrack report --site S ads|channels|pages|new-repeat|dynamics|codes|experiments|whatsapp|templates
         [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|json|csv] [--by day|week|month|quarter]
         [--config messtrack.yaml]
Dates are days in the site's time zone; without them, the 30 days ending today.
whatsapp takes --by category (the default) or source; templates takes --template NAME for one
template's days.
`

// reportKinds are the reports the command prints, as in reportUsage.
var reportKinds = []string{"ads", "channels", "pages", "new-repeat", "dynamics", "codes", "experiments", "whatsapp", "templates"}

// openReports loads the config, checks the site and opens the same Redis as
// serve.
func openReports(ctx context.Context, cfg *config.Config, site string, stderr io.Writer) (*reports.Store, *store.DB, error) {
	if site == "" {
		return nil, nil, fmt.Errorf("--site is required (one of %s)", strings.Join(cfg.SiteNames(), ", "))
	}
	if cfg.Site(site) == nil {
		return nil, nil, fmt.Errorf("site %q is not in %s (sites: %s)", site, cfg.Path, strings.Join(cfg.SiteNames(), ", "))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.Open(ctx, cfg.Redis, log)
	if err != nil {
		return nil, nil, err
	}
	if _, err := store.RefuseNewerFormat(ctx, db.Client); err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	if db.Embedded() {
		fmt.Fprintln(stderr, "messtrack: no Redis configured: the embedded store is empty; set REDIS_URL or redis: to read the collector's data")
	}
	return reports.New(db.Client, store.SystemClock{}, cfg), db, nil
}

// parseInterleaved parses flags that may come before and after the
// positional arguments ("report --site s ads --from …").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage) }
	cfgPath := fs.String("config", "messtrack.yaml", "the YAML config file")
	site := fs.String("site", "", "the site")
	from := fs.String("from", "", "first day, YYYY-MM-DD")
	to := fs.String("to", "", "last day, YYYY-MM-DD")
	format := fs.String("format", "table", "table, json or csv")
	by := fs.String("by", "day", "dynamics: day, week, month or quarter; whatsapp: category or source")
	template := fs.String("template", "", "templates: one template's days")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, reportUsage)
		return errUsage
	}
	// The arguments are checked before any store is opened, so a typo is
	// answered with the usage, not with a store warning first.
	if !slices.Contains(reportKinds, pos[0]) {
		fmt.Fprintf(stderr, "messtrack report: unknown report %q\n\n%s", pos[0], reportUsage)
		return errUsage
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		return fmt.Errorf("report: --format %q is not table, json or csv", *format)
	}
	waBy, err := whatsAppBy(pos[0], *by)
	if err != nil {
		return err
	}
	cfg, err := readConfig(fs, *cfgPath, getenv)
	if err != nil {
		return err
	}
	st, db, err := openReports(ctx, cfg, *site, stderr)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer db.Close()
	r, err := st.Range(*site, *from, *to)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var rep reports.Table
	switch pos[0] {
	case "ads":
		rep, err = st.Ads(ctx, *site, r)
	case "channels":
		rep, err = st.Channels(ctx, *site, r)
	case "pages":
		rep, err = st.Pages(ctx, *site, r)
	case "new-repeat":
		rep, err = st.NewRepeat(ctx, *site, r)
	case "codes":
		rep, err = st.Codes(ctx, *site, r)
	case "experiments":
		rep, err = st.Experiments(ctx, *site, r)
	case "dynamics":
		rep, err = st.Dynamics(ctx, *site, r, *by)
	case "whatsapp", "templates":
		wa := wabiz.New(wabiz.Options{Redis: db.Client, Config: cfg})
		if pos[0] == "whatsapp" {
			rep, err = wa.WhatsApp(ctx, *site, r, waBy)
		} else {
			rep, err = wa.Templates(ctx, *site, r, *template)
		}
	default:
		fmt.Fprintf(stderr, "messtrack report: unknown report %q\n\n%s", pos[0], reportUsage)
		return errUsage
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	case "csv":
		err = reports.WriteCSV(stdout, rep)
	default:
		fmt.Fprintf(stdout, "%s report, site %s, %s to %s (%s)\n\n", pos[0], *site, r.From, r.To, cfg.Site(*site).Timezone)
		err = reports.WriteTable(stdout, rep)
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// whatsAppBy checks --by for the report: the whatsapp report groups by
// category (the default) or source, the others by a period.
func whatsAppBy(report, by string) (string, error) {
	if report == "whatsapp" {
		switch by {
		case "day", "category":
			return "category", nil
		case "source":
			return "source", nil
		}
		return "", fmt.Errorf("report: --by=%q is not category or source", by)
	}
	if !slices.Contains(reports.Groupings, by) {
		return "", fmt.Errorf("report: --by=%q is not one of %s", by, strings.Join(reports.Groupings, ", "))
	}
	return "", nil
}
