package reports

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// recountBatch bounds the keys one Redis round trip touches while
// recounting: each call stays short, so Redis keeps answering others.
const recountBatch = 200

// RecountResult says what Recount counted.
type RecountResult struct {
	Chats         int `json:"chats"`
	Conversations int `json:"conversations"`
	Conversions   int `json:"conversions"`
	// Legacy is how many unattributed conversations an earlier version
	// kept apart were folded into their chats.
	Legacy int `json:"legacy"`
}

// Recount rebuilds a site's conversation aggregates from the stored facts of
// its chats: the aggregates are emptied, then every chat is counted again
// under today's rules, in batches. Unattributed conversations that earlier
// versions kept as separate markers join their chats first. Costs are not
// touched, nor are the code-survival counters (store.ReportCodes): they
// count visits' clicks and what each first message did with the code,
// which no stored fact keeps (clicks expire with their visits, and a
// message's text is classified once, when it arrives), so they cannot be
// rebuilt and emptying them would lose them. Run it while no collector writes to the site: a fact counted
// between the emptying and its chat's turn would count twice. progress, if
// not nil, is called after each batch with the chats done so far.
func (s *Store) Recount(ctx context.Context, site string, progress func(done int)) (RecountResult, error) {
	var res RecountResult
	st, err := s.siteConf(site)
	if err != nil {
		return res, fmt.Errorf("reports.Recount: %w", err)
	}
	// Unattributed conversations of earlier versions, by chat key.
	legacy := map[string][]any{}
	var legacyKeys []string
	markerPrefix := strings.TrimSuffix(store.ReportSeenPattern(st.Name, "u"), "*")
	err = store.ScanSite(ctx, s.rdb, st.Name, store.ReportSeenPattern(st.Name, "u"), func(keys []string) error {
		for _, k := range keys {
			chat, ms, ok := strings.Cut(store.Unpart(strings.TrimPrefix(k, markerPrefix)), "@")
			at, err := strconv.ParseInt(ms, 10, 64)
			if !ok || err != nil {
				continue
			}
			day := Day(st, time.UnixMilli(at))
			ck := store.ReportChat(st.Name, chat)
			legacy[ck] = append(legacy[ck], at, day)
			legacyKeys = append(legacyKeys, k)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("reports.Recount: markers: %w", err)
	}
	if err := store.ScanSite(ctx, s.rdb, st.Name, store.ReportAggPrefix(st.Name)+"*", func(keys []string) error {
		return s.rdb.Unlink(ctx, keys...).Err()
	}); err != nil {
		return res, fmt.Errorf("reports.Recount: empty aggregates: %w", err)
	}
	if err := recountScript.Load(ctx, s.rdb).Err(); err != nil {
		return res, fmt.Errorf("reports.Recount: load script: %w", err)
	}
	seen := map[string]bool{}
	count := func(keys []string) error {
		cmds := make([]*redis.Cmd, 0, len(keys))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				args := []any{store.ReportAggPrefix(st.Name), window(st).Milliseconds(), ttlSeconds(st)}
				args = append(args, legacy[k]...)
				res.Legacy += len(legacy[k]) / 2
				cmds = append(cmds, recountScript.EvalSha(ctx, p, []string{k}, args...))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("recount chats: %w", err)
		}
		for _, c := range cmds {
			vals, err := c.Int64Slice()
			if err != nil || len(vals) != 2 {
				return fmt.Errorf("recount chats: unexpected reply %v: %w", c.Val(), err)
			}
			res.Conversations += int(vals[0])
			res.Conversions += int(vals[1])
		}
		res.Chats += len(keys)
		if progress != nil {
			progress(res.Chats)
		}
		return nil
	}
	err = store.ScanSite(ctx, s.rdb, st.Name, store.ReportChatPattern(st.Name), func(keys []string) error {
		var todo []string
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				todo = append(todo, k)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		return count(todo)
	})
	if err != nil {
		return res, fmt.Errorf("reports.Recount: %w", err)
	}
	// Chats that only an earlier version's marker knows.
	var rest []string
	for k := range legacy {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	for start := 0; start < len(rest); start += recountBatch {
		if err := count(rest[start:min(start+recountBatch, len(rest))]); err != nil {
			return res, fmt.Errorf("reports.Recount: %w", err)
		}
	}
	for start := 0; start < len(legacyKeys); start += recountBatch {
		if err := s.rdb.Del(ctx, legacyKeys[start:min(start+recountBatch, len(legacyKeys))]...).Err(); err != nil {
			return res, fmt.Errorf("reports.Recount: markers: %w", err)
		}
	}
	return res, nil
}
