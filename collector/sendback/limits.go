package sendback

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// limitScript counts one send-back in every window it falls in, or none
// when any window is full, so that a refused request costs no window.
//
// KEYS: the counters (store.SendBackCount), one per limit.
// ARGV: for each key in order, its limit (-1: none) and its TTL in ms.
// Returns 0 when counted, else the 1-based index of the first full window.
var limitScript = redis.NewScript(`
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2*i-1])
  if limit >= 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then return i end
end
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2*i]) end
end
return 0
`)

// Limit names one of the limits, as the config and the answers call it.
type Limit string

// The limits, in the order they are checked.
const (
	LimitVisit  Limit = "per_visit"
	LimitIP     Limit = "per_ip_hour"
	LimitNumber Limit = "per_number_day"
	LimitSite   Limit = "per_site_hour"
	// LimitCheck bounds the number checks the widget makes as the person
	// types, per client address a minute.
	LimitCheck Limit = "checks_per_minute"
)

// checksPerMinute is LimitCheck's limit.
const checksPerMinute = 120

// window is one fixed window of a limit.
type window struct {
	limit Limit
	key   string
	max   int
	ttl   time.Duration
}

// fixed returns the number of the fixed window of length d that now is in
// and the time left in it.
func fixed(now time.Time, d time.Duration) (int64, time.Duration) {
	n := now.UnixMilli() / d.Milliseconds()
	return n, time.Duration((n+1)*d.Milliseconds()-now.UnixMilli()) * time.Millisecond
}

// numberHash names a number in a key without keeping it: an HMAC keyed
// with the site's API key, so the key's name cannot be turned back into
// the number by trying every number.
func numberHash(key, digits string) string {
	m := hmac.New(sha256.New, []byte("messtrack sendback\x00"+key))
	m.Write([]byte(digits))
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// sendWindows are the windows one send counts in.
func sendWindows(site, secret string, l config.SendBackLimits, visitN uint64, visitTTL time.Duration, client, digits string, now time.Time) []window {
	hour, hourLeft := fixed(now, time.Hour)
	day, dayLeft := fixed(now, 24*time.Hour)
	return []window{
		{LimitVisit, store.SendBackCount(site, "v", strconv.FormatUint(visitN, 10), 0), l.PerVisit, visitTTL},
		{LimitIP, store.SendBackCount(site, "ip", client, hour), l.PerIPHour, hourLeft},
		{LimitNumber, store.SendBackCount(site, "n", numberHash(secret, digits), day), l.PerNumberDay, dayLeft},
		{LimitSite, store.SendBackCount(site, "s", "", hour), l.PerSiteHour, hourLeft},
	}
}

// Refused is a request over one of the limits.
type Refused struct {
	Limit Limit
	// RetryAfter is when its window ends.
	RetryAfter time.Duration
}

func (e *Refused) Error() string { return fmt.Sprintf("send-back limit %s reached", e.Limit) }

// take counts a request in ws, or answers *Refused naming the first full
// window.
func take(ctx context.Context, rdb redis.UniversalClient, ws []window) error {
	keys := make([]string, len(ws))
	args := make([]any, 0, 2*len(ws))
	for i, w := range ws {
		keys[i] = w.key
		ttl := w.ttl
		if ttl < time.Millisecond {
			ttl = time.Millisecond
		}
		args = append(args, w.max, ttl.Milliseconds())
	}
	i, err := limitScript.Run(ctx, rdb, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("sendback: limits: %w", err)
	}
	if i == 0 {
		return nil
	}
	if i < 1 || i > len(ws) {
		return fmt.Errorf("sendback: limits: unexpected reply %d", i)
	}
	return &Refused{Limit: ws[i-1].limit, RetryAfter: ws[i-1].ttl}
}
