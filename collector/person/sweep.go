package person

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// trimHistoryScript drops a chat's history entries older than a time from
// the head of the list (entries are oldest first), in one step, so that a
// push meanwhile is never trimmed.
//
// KEYS[1] history (store.ChatHistory). ARGV[1] the cut-off, RFC 3339 in UTC
// (entries' times compare as strings). Returns the entries dropped.
var trimHistoryScript = redis.NewScript(`
local n = redis.call('LLEN', KEYS[1])
local drop = 0
while drop < n do
  local raw = redis.call('LINDEX', KEYS[1], drop)
  local ok, e = pcall(cjson.decode, raw)
  if not ok or type(e) ~= 'table' or type(e.time) ~= 'string' or e.time >= ARGV[1] then break end
  drop = drop + 1
end
if drop == 0 then return 0 end
if drop == n then redis.call('DEL', KEYS[1]) else redis.call('LTRIM', KEYS[1], drop, -1) end
return drop
`)

// SweepResult is what one sweep did.
type SweepResult struct {
	// Looked is the chats looked at; Erased those silent past chat_days;
	// Trimmed the history entries dropped past history_days.
	Looked  int  `json:"looked"`
	Erased  int  `json:"erased"`
	Trimmed int  `json:"trimmed"`
	Wrapped bool `json:"wrapped"`
}

const sweepBatch = 200

// Sweep applies the site's retention to at most limit chats of its index,
// going on from where the last sweep stopped and starting over at the end:
// a chat silent for retention.chat_days is erased (reason "retention"), and
// history entries older than retention.history_days are trimmed. Visits
// need no sweep: their TTL is retention.visit_days. Run it often enough that
// limit times the runs a day covers the site's chats.
func (s *Service) Sweep(ctx context.Context, site string, limit int) (SweepResult, error) {
	var res SweepResult
	st, err := s.site(site)
	if err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	site = st.Name
	now := s.clock.Now()
	var chatCut, histCut time.Time
	if d := st.Retention.ChatDays; d > 0 {
		chatCut = now.Add(-time.Duration(d) * 24 * time.Hour)
	}
	if d := st.Retention.HistoryDays; d > 0 {
		histCut = now.Add(-time.Duration(d) * 24 * time.Hour)
	}
	if chatCut.IsZero() && histCut.IsZero() {
		return res, nil
	}
	pos, err := s.rdb.HGet(ctx, store.PersonSweep(site), "pos").Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return res, fmt.Errorf("sweep: position: %w", err)
	}
	for res.Looked < limit {
		n := min(sweepBatch, limit-res.Looked)
		chats, err := s.rdb.ZRange(ctx, store.Chats(site), pos, pos+int64(n)-1).Result()
		if err != nil {
			return res, fmt.Errorf("sweep: index: %w", err)
		}
		if len(chats) == 0 {
			pos, res.Wrapped = 0, true
			break
		}
		lasts, err := s.lastMessages(ctx, site, chats)
		if err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
		for i, chat := range chats {
			res.Looked++
			if !chatCut.IsZero() && lasts[i] != 0 && time.UnixMilli(lasts[i]).Before(chatCut) {
				if _, err := s.Erase(ctx, site, chat, ReasonRetention); err != nil {
					return res, fmt.Errorf("sweep: %w", err)
				}
				res.Erased++
				continue // the index lost it: the next chat took its rank
			}
			pos++
			if histCut.IsZero() {
				continue
			}
			dropped, err := trimHistoryScript.Run(ctx, s.rdb, []string{s.ledger.Shards(site).ChatHistory(chat)},
				histCut.UTC().Format(time.RFC3339)).Int()
			if err != nil {
				return res, fmt.Errorf("sweep: trim history: %w", err)
			}
			res.Trimmed += dropped
		}
	}
	if err := s.rdb.HSet(ctx, store.PersonSweep(site), "pos", pos).Err(); err != nil {
		return res, fmt.Errorf("sweep: position: %w", err)
	}
	return res, nil
}

// lastMessages reads the chats' last message times (Unix ms; 0 unknown).
func (s *Service) lastMessages(ctx context.Context, site string, chats []string) ([]int64, error) {
	sh := s.ledger.Shards(site)
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(chats))
	for i, c := range chats {
		cmds[i] = pipe.HGet(ctx, sh.Chat(c), "last")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("last messages: %w", err)
	}
	out := make([]int64, len(chats))
	for i, c := range cmds {
		if v := c.Val(); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("last message of %d: %w", i, err)
			}
			out[i] = n
		}
	}
	return out, nil
}
