package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/messtrack/messtrack/collector/learn"
	"github.com/messtrack/messtrack/store"
)

const heuristicUsage = `Usage: messtrack heuristic show|refit --site S [--config messtrack.yaml]
show:  the site's learned heuristic: the model's version and fit time, per
       messenger its examples, whether the matcher uses it, the share of chats
       from people who never clicked, and the live proof (precision and recall
       with 95 % intervals on the site's id matches, codes hidden).
refit: fits the site's model now, as a serving collector does every hour.
`

func cmdHeuristic(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("heuristic", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, heuristicUsage) }
	cfgPath := fs.String("config", "messtrack.yaml", "the YAML config file")
	site := fs.String("site", "", "the site")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 1 || (pos[0] != "show" && pos[0] != "refit") {
		fmt.Fprint(stderr, heuristicUsage)
		return errUsage
	}
	cfg, err := readConfig(fs, *cfgPath, getenv)
	if err != nil {
		return err
	}
	// openReports checks the site and the store's format.
	_, db, err := openReports(ctx, cfg, *site, stderr)
	if err != nil {
		return fmt.Errorf("heuristic: %w", err)
	}
	defer db.Close()
	st := cfg.Site(*site)
	ls := learn.New(db.Client, store.SystemClock{})
	if pos[0] == "refit" {
		res, err := ls.Refit(ctx, st.Name, time.Duration(st.MatchWindowMinutes)*time.Minute, st.MatchPrecision)
		if err != nil {
			return fmt.Errorf("heuristic: %w", err)
		}
		if res.Busy {
			return fmt.Errorf("heuristic: another collector is refitting site %s; try again in a few minutes", st.Name)
		}
		fmt.Fprintf(stdout, "heuristic: model version %d fitted on %d labelled and %d code-less first messages (newest %s); %d id matches proved the model it replaces\n",
			res.Version, res.Labelled, res.Unlabelled, res.FittedAt.UTC().Format("2006-01-02 15:04:05Z"), res.Proved)
		return nil
	}
	m, err := ls.Model(ctx, st.Name)
	if err != nil {
		return fmt.Errorf("heuristic: %w", err)
	}
	proof, err := ls.LoadProof(ctx, st.Name)
	if err != nil {
		return fmt.Errorf("heuristic: %w", err)
	}
	fmt.Fprintf(stdout, "site %s: precision target %.3g, a messenger's model is used from %d labelled chats\n", st.Name, st.MatchPrecision, learn.MinLabelled)
	if m == nil {
		fmt.Fprintln(stdout, "no model fitted yet: today's formula answers every messenger")
	} else {
		fmt.Fprintf(stdout, "model version %d, fitted on chats up to %s\n", m.Version, m.FittedAt.UTC().Format("2006-01-02 15:04:05Z"))
		names := make([]string, 0, len(m.Messengers))
		for name := range m.Messengers {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			mm := m.Messengers[name]
			use := "today's formula answers"
			if learn.Usable(m, name) {
				use = "the model answers"
			}
			fmt.Fprintf(stdout, "  %-10s %6d labelled, %6d code-less, never clicked %4.1f %%: %s\n",
				name, mm.Labelled, mm.Unlabelled, 100*mm.NeverClicked.Share, use)
		}
	}
	seen := map[string]bool{}
	for _, r := range proof.Rows {
		if seen[r.Messenger] {
			continue
		}
		seen[r.Messenger] = true
		t := learn.Total(proof.Rows, r.Messenger)
		fmt.Fprintf(stdout, "live proof %-10s %d id matches: precision %.1f %% [%.1f, %.1f] (%d/%d), recall %.1f %% [%.1f, %.1f]\n",
			t.Messenger, t.Messages, 100*t.Precision.Value, 100*t.Precision.Lo, 100*t.Precision.Hi, t.Correct, t.Answered,
			100*t.Recall.Value, 100*t.Recall.Lo, 100*t.Recall.Hi)
	}
	if len(proof.Rows) == 0 {
		fmt.Fprintln(stdout, "live proof: none yet (it starts with the second fit)")
	}
	return nil
}
