package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/store"
)

// The click index: which visits clicked a chat target when, kept for the
// match window, and each visit's last click.

const (
	// clickKeep is how long clicks stay in the per-target index beyond the
	// match window, so a message delivered late (platform retries) still
	// finds the clicks before its own timestamp.
	clickKeep = 24 * time.Hour
	// clickCap bounds one target's click index.
	clickCap = 20000
)

// clickInfo is the stored last click of a visit.
type clickInfo struct {
	Target string `json:"t"`
	Page   string `json:"p,omitempty"`
	At     int64  `json:"a"`
}

// clickScript records a click if the visit still lives.
//
// KEYS[1] visit, KEYS[2] target's click index, KEYS[3] visit's last click.
// ARGV[1] click time (Unix ms), ARGV[2] visit number (base 36),
// ARGV[3] oldest score to keep, ARGV[4] index cap, ARGV[5] click info JSON,
// ARGV[6] how long the index outlives its newest click (ms).
// Returns 0 when the visit is gone, 1 when recorded, and the stored visit
// when recorded as the visit's first click (for the code-survival counts).
//
// A visit that clicks again moves to its newest click time (ZADD updates the
// score). The index expires as a whole once no click has come for longer
// than the window, so a number taken out of the config leaves nothing behind.
var clickScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1) end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local first = redis.call('EXISTS', KEYS[3]) == 0
redis.call('SET', KEYS[3], ARGV[5], 'PX', ttl)
if first then return redis.call('GET', KEYS[1]) end
return 1
`)

// recordClick adds the visit to the target's click index.
func (s *Server) recordClick(ctx context.Context, st *site, n uint64, target, page string) error {
	now := s.clock.Now()
	info, err := json.Marshal(clickInfo{Target: target, Page: page, At: now.UnixMilli()})
	if err != nil {
		return fmt.Errorf("recordClick: %w", err)
	}
	keep := st.matchWindow() + clickKeep
	oldest := now.Add(-keep).UnixMilli()
	name := st.cfg.Name
	res, err := clickScript.Run(ctx, s.rdb,
		[]string{store.Visit(name, n), store.Clicks(name, target), store.VisitClick(name, n)},
		now.UnixMilli(), strconv.FormatUint(n, 36), oldest, clickCap, info, keep.Milliseconds()).Result()
	if err != nil {
		return fmt.Errorf("recordClick: script: %w", err)
	}
	if ok, isInt := res.(int64); isInt && ok == 0 {
		return fail(ErrNotFound, "visit %s is unknown or expired", st.codec.VisitID(n))
	}
	s.metrics.clicks.WithLabelValues(name).Inc()
	if raw, first := res.(string); first {
		v, err := visit.Decode(n, []byte(raw))
		if err != nil {
			s.log.Warn("code survival: clicked visit unreadable", "site", name, "err", err)
			return nil
		}
		s.countClick(ctx, st, v, target, page, now)
	}
	return nil
}

// recentClicks returns the visits that clicked target in [from, to], newest
// first, with their click times.
func (s *Server) recentClicks(ctx context.Context, st *site, target string, from, to time.Time) ([]click, error) {
	zs, err := s.rdb.ZRevRangeByScoreWithScores(ctx, store.Clicks(st.cfg.Name, target), &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10),
		Max: strconv.FormatInt(to.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("recentClicks: %w", err)
	}
	out := make([]click, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		n, err := strconv.ParseUint(m, 36, 64)
		if err != nil {
			continue
		}
		out = append(out, click{N: n, At: time.UnixMilli(int64(z.Score)).UTC()})
	}
	return out, nil
}

// click is one entry of a target's click index.
type click struct {
	N  uint64
	At time.Time
}
