package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// FormatVersion is the data format this binary writes and reads.
//
//  1. Before the format key existed: a chat's report state (ReportChat) is a
//     JSON array of sessions.
//  2. A chat's report state is the object {"v": 2, "c": conversations,
//     "e": events} (reports/scripts.go).
const FormatVersion = 2

// ErrNewerFormat says the store was written by a newer binary.
var ErrNewerFormat = errors.New("data format newer than this binary reads")

// Upgrade moves a store from format From to From+1, one bounded batch at a
// time, so that it can stop anywhere and resume.
type Upgrade struct {
	From int
	// What names the step in progress lines.
	What string
	// Batch upgrades one bounded batch starting at cursor ("" at the
	// beginning) and returns the next cursor ("" when the step is done) and
	// how many items it looked at. It must be safe to repeat a batch: a
	// batch whose cursor was not saved runs again after a restart.
	Batch func(ctx context.Context, cursor string) (next string, looked int, err error)
}

// ReadFormat returns the store's data format: the Format key, 1 for a store
// written before the key existed, 0 for an empty store.
func ReadFormat(ctx context.Context, rdb redis.UniversalClient) (int, error) {
	v, err := rdb.Get(ctx, Format()).Result()
	switch {
	case err == nil:
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			return 0, fmt.Errorf("store.ReadFormat: %s holds %q, not a format version", Format(), v)
		}
		return n, nil
	case !errors.Is(err, redis.Nil):
		return 0, fmt.Errorf("store.ReadFormat: get %s: %w", Format(), err)
	}
	empty, err := isEmpty(ctx, rdb)
	if err != nil {
		return 0, fmt.Errorf("store.ReadFormat: %w", err)
	}
	if empty {
		return 0, nil
	}
	return 1, nil
}

// RefuseNewerFormat fails with ErrNewerFormat, naming both versions, when
// the store was written by a newer binary.
func RefuseNewerFormat(ctx context.Context, rdb redis.UniversalClient) (int, error) {
	f, err := ReadFormat(ctx, rdb)
	if err != nil {
		return 0, err
	}
	if f > FormatVersion {
		return f, fmt.Errorf("%w: Redis holds data format %d and this messtrack reads format %d at most; "+
			"run the newer messtrack that wrote it (a downgrade needs the backup taken before the upgrade)",
			ErrNewerFormat, f, FormatVersion)
	}
	return f, nil
}

// PrepareFormat makes the store's format FormatVersion: it writes the
// version on an empty store, runs the upgrades from an earlier format
// (resuming one that was stopped) and refuses a newer format. progress gets
// one line per batch.
func PrepareFormat(ctx context.Context, rdb redis.UniversalClient, upgrades []Upgrade, progress func(string)) error {
	f, err := RefuseNewerFormat(ctx, rdb)
	if err != nil {
		return fmt.Errorf("store.PrepareFormat: %w", err)
	}
	if f == 0 {
		if err := rdb.SetNX(ctx, Format(), FormatVersion, 0).Err(); err != nil {
			return fmt.Errorf("store.PrepareFormat: set %s: %w", Format(), err)
		}
		return nil
	}
	for f < FormatVersion {
		var step *Upgrade
		for i := range upgrades {
			if upgrades[i].From == f {
				step = &upgrades[i]
			}
		}
		if step == nil {
			return fmt.Errorf("store.PrepareFormat: no upgrade from data format %d", f)
		}
		if err := runUpgrade(ctx, rdb, step, progress); err != nil {
			return fmt.Errorf("store.PrepareFormat: %w", err)
		}
		f++
		if err := rdb.Set(ctx, Format(), f, 0).Err(); err != nil {
			return fmt.Errorf("store.PrepareFormat: set %s: %w", Format(), err)
		}
		if err := rdb.Del(ctx, FormatUpgrade()).Err(); err != nil {
			return fmt.Errorf("store.PrepareFormat: delete %s: %w", FormatUpgrade(), err)
		}
	}
	return nil
}

// runUpgrade runs one step batch by batch, saving its cursor after each.
func runUpgrade(ctx context.Context, rdb redis.UniversalClient, step *Upgrade, progress func(string)) error {
	to := strconv.Itoa(step.From + 1)
	saved, err := rdb.HGetAll(ctx, FormatUpgrade()).Result()
	if err != nil {
		return fmt.Errorf("read %s: %w", FormatUpgrade(), err)
	}
	cursor, done := "", 0
	if saved["to"] == to {
		cursor = saved["cursor"]
		done, _ = strconv.Atoi(saved["done"])
		if cursor != "" {
			progress(fmt.Sprintf("format %d -> %s: resuming %s after %d", step.From, to, step.What, done))
		}
	}
	for {
		next, looked, err := step.Batch(ctx, cursor)
		if err != nil {
			return fmt.Errorf("upgrade %d -> %s (%s): %w", step.From, to, step.What, err)
		}
		done += looked
		progress(fmt.Sprintf("format %d -> %s: %s: %d", step.From, to, step.What, done))
		if next == "" {
			return nil
		}
		cursor = next
		if err := rdb.HSet(ctx, FormatUpgrade(), "to", to, "cursor", cursor, "done", done).Err(); err != nil {
			return fmt.Errorf("save %s: %w", FormatUpgrade(), err)
		}
	}
}

// isEmpty reports whether no key of messtrack's exists, on every master of a
// cluster.
func isEmpty(ctx context.Context, rdb redis.UniversalClient) (bool, error) {
	one := func(ctx context.Context, c redis.Cmdable) (bool, error) {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
			if err != nil {
				return false, fmt.Errorf("scan %s*: %w", prefix, err)
			}
			if len(keys) > 0 {
				return false, nil
			}
			if next == 0 {
				return true, nil
			}
			cursor = next
		}
	}
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return one(ctx, rdb)
	}
	var mu sync.Mutex
	empty := true
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		e, err := one(ctx, c)
		mu.Lock()
		empty = empty && e
		mu.Unlock()
		return err
	})
	return empty, err
}
