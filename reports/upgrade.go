package reports

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// upgradeScript turns chat states written by data format 1 (a JSON array of
// sessions) into today's form with loadState, the same conversion every
// chat script makes on a chat's next fact: the snapshots are exactly what
// was counted, so no aggregate moves. A state already in today's form is
// left alone, so a batch may run twice. The TTL is kept.
//
// KEYS: chat states of one site (ReportChat). Returns how many it changed.
var upgradeScript = redis.NewScript(luaPrelude + `
local changed = 0
for _, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  if raw and string.sub(raw, 1, 1) == '[' then
    local st = loadState(key)
    local ttl = redis.call('PTTL', key)
    if #st.c == 0 and #st.e == 0 then
      redis.call('DEL', key)
    elseif ttl > 0 then
      redis.call('SET', key, cjson.encode(st), 'PX', ttl)
    else
      redis.call('SET', key, cjson.encode(st))
    end
    changed = changed + 1
  end
end
return changed
`)

// UpgradeChatStates converts one batch of a site's chat states from data
// format 1, scanning from cursor (0 at the beginning). It returns the next
// cursor (0 when the site is done), the keys looked at and the states
// converted. The collector converts the rest lazily, on each chat's next
// fact; this makes it happen at once, in bounded batches.
func (s *Store) UpgradeChatStates(ctx context.Context, site string, cursor uint64) (next uint64, looked, converted int, err error) {
	st, err := s.siteConf(site)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reports.UpgradeChatStates: %w", err)
	}
	node, err := store.SiteNode(ctx, s.rdb, st.Name)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reports.UpgradeChatStates: %w", err)
	}
	keys, next, err := node.Scan(ctx, cursor, store.ReportChatPattern(st.Name), recountBatch).Result()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reports.UpgradeChatStates: scan: %w", err)
	}
	if len(keys) == 0 {
		return next, 0, 0, nil
	}
	n, err := upgradeScript.Run(ctx, s.rdb, keys).Int()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reports.UpgradeChatStates: convert: %w", err)
	}
	return next, len(keys), n, nil
}
