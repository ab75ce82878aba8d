package reports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// A cost upload is written in bounded steps so that Redis keeps answering
// other sites while a large upload (200,000 rows) goes in:
//
//  1. take the site's cost lock (uploads of one site run one at a time);
//  2. take a new version number and write every day of the upload, and the
//     block and month rollups those days change (recomputed from their days
//     and blocks), into keys of that version, with a TTL, in commands of at
//     most costBatch fields;
//  3. commit in one small script: check that no period read or replaced
//     changed version meanwhile, point every period at the new version,
//     remove the TTLs and unlink the replaced versions (unlinked values are
//     freed in the background);
//  4. update ad titles in batches.
//
// Step 3 is the only one readers can notice, and it switches all the
// upload's days at once: a report sees the upload whole or not at all. An
// upload that fails before step 3 leaves only keys that expire.

const (
	// costBatch bounds the hash fields one command writes or scans.
	costBatch = 1500
	// costPipeline is how many bounded commands go in one round trip.
	costPipeline = 8
	// costStagingTTL keeps an uncommitted version around at most this long.
	costStagingTTL = time.Hour
	// costLockTTL is the lock's lifetime, renewed by each round trip.
	costLockTTL = time.Minute
	// costLockWait is how long an upload waits for another one of its site.
	costLockWait = 2 * time.Minute
)

// ErrCostBusy says another cost upload of the site held its lock for
// longer than an upload waits.
var ErrCostBusy = errors.New("another cost upload of this site is running; retry later")

// errCostConflict says the periods changed under an upload (it lost its
// lock); nothing of it became visible.
var errCostConflict = errors.New("cost periods changed during the upload; nothing stored, retry")

// costFields is one period's content: field -> value.
type costFields map[string]int64

func (f costFields) add(g costFields) {
	for k, v := range g {
		f[k] += v
	}
}

// costWriter writes one upload.
type costWriter struct {
	rdb   redis.UniversalClient
	site  string
	ver   string
	token string
	// cur is the version of each period before the upload ("" unversioned).
	cur map[string]string
}

// writeCosts replaces the days of byDay (each day's rows sorted by ad) with
// the bounded, versioned steps above.
func (s *Store) writeCosts(ctx context.Context, site string, byDay map[string][]CostRow, dayStart map[string]int64) error {
	w := &costWriter{rdb: s.rdb, site: site}
	if err := w.lock(ctx); err != nil {
		return err
	}
	defer w.unlock()
	seq, err := s.rdb.Incr(ctx, store.ReportCostSeq(site)).Result()
	if err != nil {
		return fmt.Errorf("cost version: %w", err)
	}
	w.ver = strconv.FormatInt(seq, 36)

	days := sortedMembers(byDay)
	dayFields := map[string]costFields{}
	blocks := map[string][]string{} // touched block -> its days
	months := map[string]bool{}
	for _, day := range days {
		dayFields[day] = costFieldsOf(byDay[day])
		b := blockOf(day)
		if _, ok := blocks[b]; !ok {
			blocks[b] = blockDays(b)
		}
		months[day[:7]] = true
	}
	// The versions of every period the rollups are built from.
	var periods []string
	for m := range months {
		periods = append(periods, m)
		for n := 1; n <= 3; n++ {
			b := fmt.Sprintf("%s-b%d", m, n)
			periods = append(periods, b)
			if _, touched := blocks[b]; touched {
				periods = append(periods, blocks[b]...)
			}
		}
	}
	sort.Strings(periods)
	vals, err := s.rdb.HMGet(ctx, store.ReportCostVersions(site), periods...).Result()
	if err != nil {
		return fmt.Errorf("read cost versions: %w", err)
	}
	w.cur = make(map[string]string, len(periods))
	for i, p := range periods {
		if v, ok := vals[i].(string); ok {
			w.cur[p] = v
		}
	}

	// Days: costs and delivery of the new version.
	for _, day := range days {
		if err := w.writeHash(ctx, store.ReportCostAt(site, day, w.ver), dayFields[day]); err != nil {
			return err
		}
		if err := w.writeHash(ctx, store.ReportDeliveryAt(site, day, w.ver), deliveryOf(byDay[day])); err != nil {
			return err
		}
	}
	// Blocks from their days, months from their blocks.
	blockFields := map[string]costFields{}
	for _, b := range sortedMembers(blocks) {
		sum := costFields{}
		for _, d := range blocks[b] {
			if f, ok := dayFields[d]; ok {
				sum.add(f)
				continue
			}
			if err := w.scanInto(ctx, store.ReportCostAt(site, d, w.cur[d]), sum); err != nil {
				return err
			}
		}
		blockFields[b] = sum
		if err := w.writeHash(ctx, store.ReportCostAt(site, b, w.ver), sum); err != nil {
			return err
		}
	}
	for _, m := range sortedMembers(months) {
		sum := costFields{}
		for n := 1; n <= 3; n++ {
			b := fmt.Sprintf("%s-b%d", m, n)
			if f, ok := blockFields[b]; ok {
				sum.add(f)
				continue
			}
			if err := w.scanInto(ctx, store.ReportCostAt(site, b, w.cur[b]), sum); err != nil {
				return err
			}
		}
		if err := w.writeHash(ctx, store.ReportCostAt(site, m, w.ver), sum); err != nil {
			return err
		}
	}

	set := append(append(days, sortedMembers(blocks)...), sortedMembers(months)...)
	if err := w.commit(ctx, periods, set); err != nil {
		return err
	}
	return w.titles(ctx, byDay, dayStart)
}

// costFieldsOf is one day's cost hash.
func costFieldsOf(rows []CostRow) costFields {
	f := make(costFields, 3*len(rows))
	for _, r := range rows {
		f["c:"+r.AdID] = int64(math.Round(r.Cost * 1000))
		f["r:"+r.AdID] = r.Reach
		f["n:"+r.AdID] = 1
	}
	return f
}

// deliveryOf is one day's delivery hash.
func deliveryOf(rows []CostRow) costFields {
	f := make(costFields, 2*len(rows))
	for _, r := range rows {
		f["i:"+r.AdID] = r.Impressions
		f["k:"+r.AdID] = r.Clicks
	}
	return f
}

// blockOf names the block ("2026-11-b2") of a day.
func blockOf(day string) string {
	dd, _ := strconv.Atoi(day[8:10])
	b := 3
	if dd <= 10 {
		b = 1
	} else if dd <= 20 {
		b = 2
	}
	return fmt.Sprintf("%s-b%d", day[:7], b)
}

// blockDays lists the days of a block.
func blockDays(block string) []string {
	m, _ := time.Parse("2006-01", block[:7])
	first := map[byte]int{'1': 1, '2': 11, '3': 21}[block[len(block)-1]]
	last := first + 9
	if first == 21 {
		last = m.AddDate(0, 1, -1).Day()
	}
	out := make([]string, 0, last-first+1)
	for d := first; d <= last; d++ {
		out = append(out, m.AddDate(0, 0, d-1).Format(dateLayout))
	}
	return out
}

// writeHash writes fields into key in commands of costBatch fields, with
// the staging TTL; an empty period writes nothing (a missing hash is empty).
func (w *costWriter) writeHash(ctx context.Context, key string, f costFields) error {
	fields := make([]string, 0, len(f))
	for k := range f {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	for start := 0; start < len(fields); {
		_, err := w.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for n := 0; n < costPipeline && start < len(fields); n++ {
				end := min(start+costBatch, len(fields))
				vals := make([]any, 0, 2*(end-start))
				for _, k := range fields[start:end] {
					vals = append(vals, k, f[k])
				}
				p.HSet(ctx, key, vals...)
				start = end
			}
			p.PExpire(ctx, key, costStagingTTL)
			renewCostLock.Eval(ctx, p, []string{store.ReportCostLock(w.site)}, w.token, costLockTTL.Milliseconds())
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("write costs %s: %w", key, err)
		}
	}
	return nil
}

// scanInto adds the hash at key into sum, costBatch fields per command.
func (w *costWriter) scanInto(ctx context.Context, key string, sum costFields) error {
	var cursor uint64
	for {
		kv, next, err := w.rdb.HScan(ctx, key, cursor, "", costBatch).Result()
		if err != nil {
			return fmt.Errorf("read costs %s: %w", key, err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			n, err := strconv.ParseInt(kv[i+1], 10, 64)
			if err != nil {
				return fmt.Errorf("read costs %s: field %s: %w", key, kv[i], err)
			}
			sum[kv[i]] += n
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// commit switches every period of set to the new version, provided no
// period of checked changed version since the upload read them.
func (w *costWriter) commit(ctx context.Context, checked, set []string) error {
	args := []any{w.token, w.ver, store.ReportCostPrefix(w.site), store.ReportDeliveryPrefix(w.site), len(checked)}
	for _, p := range checked {
		args = append(args, p, w.cur[p])
	}
	for _, p := range set {
		args = append(args, p)
	}
	n, err := costCommitScript.Run(ctx, w.rdb,
		[]string{store.ReportCostVersions(w.site), store.ReportCostLock(w.site)}, args...).Int64()
	if err != nil {
		return fmt.Errorf("commit costs: %w", err)
	}
	if n < 0 {
		return errCostConflict
	}
	return nil
}

// titles records the ads' titles, costBatch/3 rows per script.
func (w *costWriter) titles(ctx context.Context, byDay map[string][]CostRow, dayStart map[string]int64) error {
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		err := adTitleScript.Run(ctx, w.rdb, []string{store.ReportAdInfo(w.site)}, args...).Err()
		args = args[:0]
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("store ad titles: %w", err)
		}
		return nil
	}
	for _, day := range sortedMembers(byDay) {
		for _, r := range byDay[day] {
			if r.Title == "" {
				continue
			}
			args = append(args, r.AdID, r.Title, dayStart[day])
			if len(args) >= costBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// lock takes the site's cost lock, waiting for a running upload.
func (w *costWriter) lock(ctx context.Context) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("cost lock token: %w", err)
	}
	w.token = hex.EncodeToString(b[:])
	deadline := time.Now().Add(costLockWait)
	for {
		ok, err := w.rdb.SetNX(ctx, store.ReportCostLock(w.site), w.token, costLockTTL).Result()
		if err != nil {
			return fmt.Errorf("take cost lock: %w", err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return ErrCostBusy
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("take cost lock: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unlock gives the lock back if the upload still holds it. It runs when
// the upload's context may be gone, so it has its own short deadline.
func (w *costWriter) unlock() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// An error leaves the lock to expire within costLockTTL.
	_ = releaseCostLock.Run(ctx, w.rdb, []string{store.ReportCostLock(w.site)}, w.token).Err()
}

// costHashes reads the cost hashes of periods, each at its current version,
// in one read-only script, so that a cost upload's commit is seen whole.
func (s *Store) costHashes(ctx context.Context, site string, periods []string) ([]map[string]string, error) {
	if len(periods) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(periods)+1)
	args = append(args, store.ReportCostPrefix(site))
	for _, p := range periods {
		args = append(args, p)
	}
	res, err := costReadScript.Run(ctx, s.rdb, []string{store.ReportCostVersions(site)}, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("read costs: %w", err)
	}
	if len(res) != len(periods) {
		return nil, fmt.Errorf("read costs: %d hashes for %d periods", len(res), len(periods))
	}
	out := make([]map[string]string, len(res))
	for i, r := range res {
		kv, _ := r.([]any)
		h := make(map[string]string, len(kv)/2)
		for j := 0; j+1 < len(kv); j += 2 {
			k, _ := kv[j].(string)
			v, _ := kv[j+1].(string)
			h[k] = v
		}
		out[i] = h
	}
	return out, nil
}

// costCommitScript makes an upload's versions current, all at once.
//
// KEYS[1] ReportCostVersions, KEYS[2] ReportCostLock. ARGV[1] lock token,
// ARGV[2] new version, ARGV[3] ReportCostPrefix, ARGV[4]
// ReportDeliveryPrefix, ARGV[5] n; then n pairs (period, version it must
// still have, "" for none); then the periods to switch (a 10-byte period is
// a day, which has a delivery hash too). Returns the periods switched, or
// -1 when another upload holds the lock or changed a period.
var costCommitScript = redis.NewScript(`
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return -1 end
local ver, cp, dp = ARGV[2], ARGV[3], ARGV[4]
local function at(prefix, p, v)
  if v == '' then return prefix .. p end
  return prefix .. p .. '@' .. v
end
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  local cur = redis.call('HGET', KEYS[1], ARGV[i]) or ''
  if cur ~= ARGV[i + 1] then return -1 end
  i = i + 2
end
local n = 0
for j = i, #ARGV do
  local p = ARGV[j]
  local old = redis.call('HGET', KEYS[1], p) or ''
  redis.call('HSET', KEYS[1], p, ver)
  redis.call('PERSIST', at(cp, p, ver))
  redis.call('UNLINK', at(cp, p, old))
  if #p == 10 then
    redis.call('PERSIST', at(dp, p, ver))
    redis.call('UNLINK', at(dp, p, old))
  end
  n = n + 1
end
return n
`)

// costReadScript returns the cost hash of each period at its version.
//
// KEYS[1] ReportCostVersions. ARGV[1] ReportCostPrefix, ARGV[2..] periods.
var costReadScript = redis.NewScript(`#!lua flags=no-writes
local out = {}
for i = 2, #ARGV do
  local k = ARGV[1] .. ARGV[i]
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then k = k .. '@' .. v end
  out[#out + 1] = redis.call('HGETALL', k)
end
return out
`)

// adTitleScript records ad titles from cost rows; a title older than the
// stored one does not replace it.
//
// KEYS[1] ReportAdInfo. ARGV: triples of ad ID, title, title time (unix ms).
var adTitleScript = redis.NewScript(`
for i = 1, #ARGV, 3 do
  local ad, title, at = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local cur = redis.call('HGET', KEYS[1], ad)
  local curAt, curType = -1, 'ad'
  if cur then
    local a, ty = string.match(cur, '^(%d+)\31([^\31]*)')
    curAt = tonumber(a); curType = ty
  end
  if at >= curAt then
    redis.call('HSET', KEYS[1], ad, string.format('%d', at) .. '\31' .. curType .. '\31' .. title)
  end
end
return 0
`)

// renewCostLock extends the lock while the upload holds it.
var renewCostLock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseCostLock deletes the lock if the upload still holds it.
var releaseCostLock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)
