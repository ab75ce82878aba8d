package outbound

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// Admin lists deliveries and replays dead ones.
type Admin struct {
	rdb   redis.UniversalClient
	cfg   *config.Config
	clock store.Clock
}

// NewAdmin returns the deliveries' admin.
func NewAdmin(rdb redis.UniversalClient, cfg *config.Config, clock store.Clock) *Admin {
	if clock == nil {
		clock = store.SystemClock{}
	}
	return &Admin{rdb: rdb, cfg: cfg, clock: clock}
}

// ErrUnknownSite is a site the config does not name.
var ErrUnknownSite = errors.New("unknown site")

// ErrNoDelivery is a delivery ID that names nothing kept.
var ErrNoDelivery = errors.New("no such delivery")

// Listed is a delivery as listed.
type Listed struct {
	ID       string `json:"id"`
	Event    string `json:"event"`
	Type     string `json:"type"`
	Target   string `json:"target"`
	Chat     string `json:"chat"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	Created  string `json:"created"`
	Last     string `json:"last_attempt,omitempty"`
	Next     string `json:"next_attempt,omitempty"`
	Done     string `json:"done,omitempty"`
	Status   int    `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
}

// States a listing may ask for.
var States = []string{"pending", "delivered", "dead"}

// maxList bounds one listing.
const maxList = 1000

// List answers the site's newest deliveries, newest first, at most limit
// (1..1000), of one state or of any ("" ). Dead letters come from their
// own set; other states are read from the newest deliveries in batches.
func (a *Admin) List(ctx context.Context, site, state string, limit int) ([]Listed, error) {
	if a.cfg.Site(site) == nil {
		return nil, fmt.Errorf("outbound.List %q: %w", site, ErrUnknownSite)
	}
	limit = min(max(limit, 1), maxList)
	key := store.OutboundIndex(site)
	if state == "dead" {
		key = store.OutboundDead(site)
	}
	out := []Listed{}
	const batch = 200
	for start := int64(0); len(out) < limit && start < 20*maxList; start += batch {
		ids, err := a.rdb.ZRevRange(ctx, key, start, start+batch-1).Result()
		if err != nil {
			return nil, fmt.Errorf("outbound.List %s: %w", site, err)
		}
		if len(ids) == 0 {
			break
		}
		pipe := a.rdb.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(ids))
		for i, id := range ids {
			cmds[i] = pipe.HGetAll(ctx, store.OutboundDelivery(site, id))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("outbound.List %s: %w", site, err)
		}
		for i, c := range cmds {
			h := c.Val()
			if len(h) == 0 || (state != "" && h["state"] != state) {
				continue
			}
			out = append(out, listed(ids[i], h))
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func listed(id string, h map[string]string) Listed {
	t := func(k string) string {
		n, err := strconv.ParseInt(h[k], 10, 64)
		if err != nil || n == 0 {
			return ""
		}
		return time.UnixMilli(n).UTC().Format(time.RFC3339Nano)
	}
	attempts, _ := strconv.Atoi(h["attempts"])
	status, _ := strconv.Atoi(h["status"])
	return Listed{ID: id, Event: h["event"], Type: h["type"], Target: h["target"], Chat: h["chat"], State: h["state"],
		Attempts: attempts, Created: t("created"), Last: t("last"), Next: t("next"), Done: t("done"), Status: status, Error: h["error"]}
}

// Replay queues a finished (dead or delivered) delivery again, at the end
// of its chat's lane, with a fresh retry window. It answers "queued", or
// "pending" when it was already queued.
func (a *Admin) Replay(ctx context.Context, site, id string) (string, error) {
	if a.cfg.Site(site) == nil {
		return "", fmt.Errorf("outbound.Replay %q: %w", site, ErrUnknownSite)
	}
	dk := store.OutboundDelivery(site, id)
	lane, err := a.rdb.HGet(ctx, dk, "lane").Result()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("outbound.Replay %s: %w", id, ErrNoDelivery)
	}
	if err != nil {
		return "", fmt.Errorf("outbound.Replay %s: %w", id, err)
	}
	res, err := replayScript.Run(ctx, a.rdb, []string{dk, store.OutboundLane(site, lane), store.OutboundDue(site), store.OutboundDead(site)},
		id, a.clock.Now().UnixMilli(), lane).Text()
	if err != nil {
		return "", fmt.Errorf("outbound.Replay %s: %w", id, err)
	}
	if res == "missing" {
		return "", fmt.Errorf("outbound.Replay %s: %w", id, ErrNoDelivery)
	}
	return res, nil
}

// ReplayDead replays up to limit of the site's dead letters, oldest first,
// and answers how many it queued.
func (a *Admin) ReplayDead(ctx context.Context, site string, limit int) (int, error) {
	if a.cfg.Site(site) == nil {
		return 0, fmt.Errorf("outbound.ReplayDead %q: %w", site, ErrUnknownSite)
	}
	ids, err := a.rdb.ZRange(ctx, store.OutboundDead(site), 0, int64(min(max(limit, 1), maxList))-1).Result()
	if err != nil {
		return 0, fmt.Errorf("outbound.ReplayDead %s: %w", site, err)
	}
	n := 0
	for _, id := range ids {
		res, err := a.Replay(ctx, site, id)
		if errors.Is(err, ErrNoDelivery) {
			if err := a.rdb.ZRem(ctx, store.OutboundDead(site), id).Err(); err != nil {
				return n, fmt.Errorf("outbound.ReplayDead %s: %w", site, err)
			}
			continue
		}
		if err != nil {
			return n, err
		}
		if res == "queued" {
			n++
		}
	}
	return n, nil
}
