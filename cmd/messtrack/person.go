package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/person"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/ids"
	"github.com/messtrack/messtrack/store"
)

const personUsage = `Usage: messtrack person export --site S --chat C [--config messtrack.yaml]
       messtrack person erase  --site S --chat C [--config messtrack.yaml]
       messtrack person sweep  --site S [--limit N] [--config messtrack.yaml]
       messtrack person audit  --site S [--limit N] [--config messtrack.yaml]

export prints, as one JSON document, everything the site keeps about the
person of chat C (a chat key such as whatsapp:15557654321): the chat record,
history, sessions and conversions, the visits matched to it, and the Redis
keys that hold them.
erase removes it (the reports' figures stay as they were) and records the
erasure, without personal data, in the site's audit list; erasing a chat
that holds nothing erases nothing.
sweep applies the site's retention to the next N chats (default 10000).
audit prints the newest N erasures (default 100) as JSON lines.
`

func cmdPerson(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, personUsage)
		return errUsage
	}
	verb := args[0]
	fs := flag.NewFlagSet("person "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, personUsage) }
	cfgPath := fs.String("config", "messtrack.yaml", "the YAML config file")
	site := fs.String("site", "", "the site")
	chat := fs.String("chat", "", "the chat key, e.g. whatsapp:15557654321")
	limit := fs.Int("limit", 0, "how many chats (sweep) or entries (audit)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		fmt.Fprint(stderr, personUsage)
		return errUsage
	}
	switch verb {
	case "export", "erase":
		if *chat == "" {
			fmt.Fprintln(stderr, "messtrack person: --chat is required")
			return errUsage
		}
	case "sweep", "audit":
	default:
		fmt.Fprintf(stderr, "messtrack person: unknown action %q\n\n%s", verb, personUsage)
		return errUsage
	}
	cfg, err := readConfig(fs, *cfgPath, getenv)
	if err != nil {
		return err
	}
	rs, db, err := openReports(ctx, cfg, *site, stderr)
	if err != nil {
		return fmt.Errorf("person %s: %w", verb, err)
	}
	defer db.Close()
	codec, err := siteCodec(ctx, db.Client, cfg.Site(*site))
	if err != nil {
		return fmt.Errorf("person %s: %w", verb, err)
	}
	svc := person.New(person.Options{Redis: db.Client, Config: cfg, Reports: rs, Clock: store.SystemClock{},
		VisitID: func(_ string, n uint64) string {
			if codec == nil {
				return ""
			}
			return codec.VisitID(n)
		}})
	enc := json.NewEncoder(stdout)
	switch verb {
	case "export":
		exp, err := svc.Export(ctx, *site, *chat)
		if err != nil {
			return fmt.Errorf("person export: %w", err)
		}
		enc.SetIndent("", "  ")
		return enc.Encode(exp)
	case "erase":
		e, err := svc.Erase(ctx, *site, *chat, person.ReasonRequest)
		if err != nil {
			return fmt.Errorf("person erase: %w", err)
		}
		if e.Nothing() {
			fmt.Fprintln(stdout, "person erase: nothing was kept about this chat; the request is recorded in the audit list")
			return nil
		}
		fmt.Fprintf(stdout, "person erase: erased the chat record (%d), history (%d), index entry (%d), %d visits, %d visit claims, %d legacy markers; reports kept under a salted hash (%d)\n",
			e.Chat, e.History, e.Index, e.Visits, e.Claims, e.Markers, e.ReportState)
		return nil
	case "sweep":
		n := *limit
		if n <= 0 {
			n = 10000
		}
		res, err := svc.Sweep(ctx, *site, n)
		if err != nil {
			return fmt.Errorf("person sweep: %w", err)
		}
		fmt.Fprintf(stdout, "person sweep: looked at %d chats, erased %d silent ones, trimmed %d history entries\n", res.Looked, res.Erased, res.Trimmed)
		return nil
	default:
		n := int64(*limit)
		if n <= 0 {
			n = 100
		}
		entries, err := svc.Audit(ctx, *site, n)
		if err != nil {
			return fmt.Errorf("person audit: %w", err)
		}
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return fmt.Errorf("person audit: %w", err)
			}
		}
		return nil
	}
}

// Retention sweeps while serving: every sweepEvery, each site's next
// sweepLimit chats. Several collectors may sweep at once: an erasure is
// idempotent and checked against the chat's version.
const (
	sweepEvery = time.Hour
	sweepLimit = 5000
)

// sweepRetention applies every site's retention until ctx ends.
func sweepRetention(ctx context.Context, svc *person.Service, cfg *config.Config, log *slog.Logger) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, name := range cfg.SiteNames() {
			res, err := svc.Sweep(ctx, name, sweepLimit)
			if err != nil {
				log.Error("retention sweep", "site", name, "err", err)
				continue
			}
			if res.Erased > 0 || res.Trimmed > 0 {
				log.Info("retention sweep", "site", name, "looked", res.Looked, "erased", res.Erased, "trimmed", res.Trimmed)
			}
		}
	}
}

// siteCodec is the site's visit-code codec, for the codes an export shows;
// nil when the site has no secret yet (no collector ever ran for it).
func siteCodec(ctx context.Context, rdb redis.UniversalClient, st *config.Site) (*ids.Codec, error) {
	secret := []byte(st.IDSecret)
	if len(secret) == 0 {
		v, err := rdb.Get(ctx, store.Secret(st.Name)).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("site secret: %w", err)
		}
		secret = v
	}
	codec, err := ids.NewCodec(secret)
	if err != nil {
		return nil, fmt.Errorf("codes: %w", err)
	}
	return codec, nil
}
