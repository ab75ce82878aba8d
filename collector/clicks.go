package collector

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/visit"
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
		[]string{st.Keys.Visit(n), st.Keys.Clicks(target, st.Keys.Of(n)), st.Keys.VisitClick(n)},
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
// first, with their click times: the click indexes of the site's shards
// read in one pipeline and merged.
func (s *Server) recentClicks(ctx context.Context, st *site, target string, from, to time.Time) ([]click, error) {
	by := &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10),
		Max: strconv.FormatInt(to.UnixMilli(), 10),
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.ZSliceCmd, st.Keys.Count())
	for k := range cmds {
		cmds[k] = pipe.ZRevRangeByScoreWithScores(ctx, st.Keys.Clicks(target, k), by)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("recentClicks: %w", err)
	}
	zs := cmds[0].Val()
	if len(cmds) > 1 {
		zs = nil
		for _, c := range cmds {
			zs = append(zs, c.Val()...)
		}
		// Newest first; among equal times, as one ZSET orders them.
		slices.SortStableFunc(zs, func(a, b redis.Z) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			am, _ := a.Member.(string)
			bm, _ := b.Member.(string)
			return cmp.Compare(bm, am)
		})
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

// countClicks queues on pipe the count of target's clicks in [from, to]
// over the site's shards; the returned function sums them once pipe ran.
func countClicks(ctx context.Context, pipe redis.Pipeliner, st *site, target string, from, to time.Time) func() int64 {
	lo, hi := strconv.FormatInt(from.UnixMilli(), 10), strconv.FormatInt(to.UnixMilli(), 10)
	cmds := make([]*redis.IntCmd, st.Keys.Count())
	for k := range cmds {
		cmds[k] = pipe.ZCount(ctx, st.Keys.Clicks(target, k), lo, hi)
	}
	return func() int64 {
		var n int64
		for _, c := range cmds {
			n += c.Val()
		}
		return n
	}
}

// click is one entry of a target's click index.
type click struct {
	N  uint64
	At time.Time
}
