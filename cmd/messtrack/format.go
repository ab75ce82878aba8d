package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// upgrades are the steps from each earlier data format to the next.
func upgrades(cfg *config.Config, rs *reports.Store) []store.Upgrade {
	sites := cfg.SiteNames()
	return []store.Upgrade{{
		From: 1,
		What: "chats' report state",
		// The cursor is "<site> <scan cursor>"; a site no longer in the
		// config starts the step over, which is harmless (a converted
		// state is left alone).
		Batch: func(ctx context.Context, cursor string) (string, int, error) {
			i, scan := 0, uint64(0)
			if name, c, ok := strings.Cut(cursor, " "); ok {
				for j, s := range sites {
					if s == name {
						i = j
						scan, _ = strconv.ParseUint(c, 10, 64)
					}
				}
			}
			next, looked, _, err := rs.UpgradeChatStates(ctx, sites[i], scan)
			if err != nil {
				return "", 0, err
			}
			switch {
			case next != 0:
				return sites[i] + " " + strconv.FormatUint(next, 10), looked, nil
			case i+1 < len(sites):
				return sites[i+1] + " 0", looked, nil
			default:
				return "", looked, nil
			}
		},
	}}
}

// prepareStore refuses an evicting Redis and a newer data format, and
// upgrades an earlier one, printing a line per batch to out.
func prepareStore(ctx context.Context, cfg *config.Config, db *store.DB, out io.Writer) error {
	if !db.Embedded() {
		if err := store.RefuseEviction(ctx, db.Client); err != nil {
			return err
		}
	}
	rs := reports.New(db.Client, store.SystemClock{}, cfg)
	return store.PrepareFormat(ctx, db.Client, upgrades(cfg, rs), func(line string) {
		fmt.Fprintln(out, "messtrack:", line)
	})
}
