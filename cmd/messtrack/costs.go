package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
)

const costsUsage = `Usage:
  messtrack costs import --site S FILE     rows date,ad_id,cost,reach,impressions,clicks,currency
                                           as CSV with that header, or a JSON array ("-" reads stdin)
  messtrack costs sync --site S --from YYYY-MM-DD --to YYYY-MM-DD
                                           pull daily costs and range reach from the Meta insights API
  both take [--config messtrack.yaml]
`

func cmdCosts(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "sync") {
		fmt.Fprint(stderr, costsUsage)
		return errUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("costs "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, costsUsage) }
	cfgPath := fs.String("config", "messtrack.yaml", "the YAML config file")
	site := fs.String("site", "", "the site")
	from := fs.String("from", "", "sync: first day, YYYY-MM-DD")
	to := fs.String("to", "", "sync: last day, YYYY-MM-DD")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	cfg, err := readConfig(fs, *cfgPath, getenv)
	if err != nil {
		return err
	}
	if sub == "import" {
		if len(pos) != 1 {
			fmt.Fprint(stderr, costsUsage)
			return errUsage
		}
		return costsImport(ctx, cfg, *site, pos[0], stdout, stderr)
	}
	if len(pos) != 0 || *from == "" || *to == "" {
		fmt.Fprint(stderr, costsUsage)
		return errUsage
	}
	return costsSync(ctx, cfg, *site, *from, *to, stdout, stderr)
}

func costsImport(ctx context.Context, cfg *config.Config, site, path string, stdout, stderr io.Writer) error {
	st, db, err := openReports(ctx, cfg, site, stderr)
	if err != nil {
		return fmt.Errorf("costs import: %w", err)
	}
	defer db.Close()
	in := io.Reader(os.Stdin)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("costs import: %w", err)
		}
		defer f.Close()
		in = f
	}
	rows, err := reports.ParseCostRows(in, cfg.Site(site))
	if err != nil {
		return fmt.Errorf("costs import: %s: %w", path, err)
	}
	if err := st.AddCosts(ctx, site, rows); err != nil {
		return fmt.Errorf("costs import: %w", err)
	}
	days := map[string]bool{}
	for _, r := range rows {
		days[r.Date] = true
	}
	fmt.Fprintf(stdout, "imported %d cost rows for %d day(s) of site %s; those days were replaced\n", len(rows), len(days), site)
	return nil
}

func costsSync(ctx context.Context, cfg *config.Config, site, from, to string, stdout, stderr io.Writer) error {
	st, db, err := openReports(ctx, cfg, site, stderr)
	if err != nil {
		return fmt.Errorf("costs sync: %w", err)
	}
	defer db.Close()
	r, err := st.Range(site, from, to)
	if err != nil {
		return fmt.Errorf("costs sync: %w", err)
	}
	meta, err := reports.NewMetaClient(cfg.Site(site).Meta, nil)
	if err != nil {
		return fmt.Errorf("costs sync: site %s: %w", site, err)
	}
	res, err := st.SyncMeta(ctx, site, r, meta)
	if err != nil {
		return fmt.Errorf("costs sync: %w", err)
	}
	fmt.Fprintf(stdout, "synced %s to %s for site %s: %d daily cost rows, reach over the range for %d ads\n",
		r.From, r.To, site, res.Rows, res.Ads)
	return nil
}
