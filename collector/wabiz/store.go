package wabiz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// Storage limits.
const (
	// MessageTTL outlives the statuses of a message and their retries.
	MessageTTL = 35 * 24 * time.Hour
	// outboundTTL bounds a chat's index of recent template messages.
	outboundTTL = 2 * ReplyWindow
	// updateTries is how often an update runs again when another delivery
	// changed the same message meanwhile.
	updateTries = 16
)

// ErrConflict is an update that lost to concurrent ones updateTries times.
var ErrConflict = errors.New("wabiz: the message kept changing meanwhile")

// Options are what a Service needs.
type Options struct {
	Redis  redis.UniversalClient
	Config *config.Config
	Ledger *ledger.Ledger
	Clock  store.Clock
	Log    *slog.Logger
	// HTTP calls the Cloud API; nil means a client with a 15 s timeout.
	HTTP *http.Client
}

// Service keeps the outbound messages' state and counters of every site.
// It is safe for concurrent use.
type Service struct {
	rdb    redis.UniversalClient
	cfg    *config.Config
	ledger *ledger.Ledger
	clock  store.Clock
	log    *slog.Logger
	http   *http.Client
}

// New returns the service.
func New(opt Options) *Service {
	if opt.Clock == nil {
		opt.Clock = store.SystemClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	return &Service{rdb: opt.Redis, cfg: opt.Config, ledger: opt.Ledger, clock: opt.Clock, log: opt.Log, http: opt.HTTP}
}

// ErrUnknownSite is a site the config does not name.
var ErrUnknownSite = errors.New("unknown site")

func (s *Service) site(name string) (*config.Site, error) {
	st := s.cfg.Site(name)
	if st == nil {
		return nil, ErrUnknownSite
	}
	return st, nil
}

// updateScript applies one message's new state: when the version is still
// ARGV[1], it stores the state (ARGV[2]) and contributions (ARGV[3]),
// bumps the version, renews the TTL (ARGV[4] seconds) and moves the
// counters by the deltas, ARGV[5..] in triples (index into KEYS, field,
// amount). Returns 1, or 0 when the version moved (the caller retries).
var updateScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v') or '0'
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2], 'c', ARGV[3], 'v', tostring(tonumber(v) + 1))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
for i = 5, #ARGV, 3 do
  local k = KEYS[tonumber(ARGV[i])]
  local n = redis.call('HINCRBY', k, ARGV[i+1], tonumber(ARGV[i+2]))
  if n == 0 then redis.call('HDEL', k, ARGV[i+1]) end
end
return 1
`)

// stored is a contribution as kept in "c": the counter and its amount.
type stored struct {
	Counter
	N int64 `json:"n"`
}

// update runs change on the message's state and stores the result, again
// on fresh state when another update came between. A change that changes
// nothing writes nothing.
func (s *Service) update(ctx context.Context, st *config.Site, id string, change func(m *Msg)) error {
	key := store.WAMessage(st.Name, id)
	for range updateTries {
		vals, err := s.rdb.HMGet(ctx, key, "s", "c", "v").Result()
		if err != nil {
			return fmt.Errorf("wabiz: load message: %w", err)
		}
		str := func(i int) string { v, _ := vals[i].(string); return v }
		m := &Msg{ID: id}
		if raw := str(0); raw != "" {
			if err := json.Unmarshal([]byte(raw), m); err != nil {
				return fmt.Errorf("wabiz: message %s: %w", id, err)
			}
		}
		old := map[Counter]int64{}
		if raw := str(1); raw != "" {
			var list []stored
			if err := json.Unmarshal([]byte(raw), &list); err != nil {
				return fmt.Errorf("wabiz: message %s contributions: %w", id, err)
			}
			for _, c := range list {
				old[c.Counter] = c.N
			}
		}
		ver := str(2)
		if ver == "" {
			ver = "0"
		}
		before, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("wabiz: encode message: %w", err)
		}
		change(m)
		if err := s.settle(ctx, st, m); err != nil {
			return err
		}
		after, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("wabiz: encode message: %w", err)
		}
		now := Contributions(m, st)
		if string(before) == string(after) && maps.Equal(old, now) && ver != "0" {
			return nil
		}
		keys, args := []string{key}, []any{ver, string(after), "", int64(MessageTTL / time.Second)}
		list := make([]stored, 0, len(now))
		for _, c := range sortedCounters(now) {
			list = append(list, stored{Counter: c, N: now[c]})
		}
		cj, err := json.Marshal(list)
		if err != nil {
			return fmt.Errorf("wabiz: encode contributions: %w", err)
		}
		args[2] = string(cj)
		index := map[string]int{}
		delta := func(c Counter, n int64) {
			if n == 0 {
				return
			}
			k := counterKey(st.Name, c)
			i, ok := index[k]
			if !ok {
				keys = append(keys, k)
				i = len(keys)
				index[k] = i
			}
			args = append(args, i, c.Field, n)
		}
		for _, c := range sortedCounters(old) {
			delta(c, now[c]-old[c])
		}
		for _, c := range sortedCounters(now) {
			if _, had := old[c]; !had {
				delta(c, now[c])
			}
		}
		ok, err := updateScript.Run(ctx, s.rdb, keys, args...).Int()
		if err != nil {
			return fmt.Errorf("wabiz: update message: %w", err)
		}
		if ok == 1 {
			return nil
		}
	}
	return ErrConflict
}

func sortedCounters(m map[Counter]int64) []Counter {
	return slices.SortedFunc(maps.Keys(m), func(a, b Counter) int {
		switch {
		case a.Kind != b.Kind:
			return cmpStr(a.Kind, b.Kind)
		case a.Day != b.Day:
			return cmpStr(a.Day, b.Day)
		}
		return cmpStr(a.Field, b.Field)
	})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func counterKey(site string, c Counter) string {
	if c.Kind == KindTemplate {
		return store.WATemplateDay(site, c.Day)
	}
	return store.WADay(site, c.Day)
}

// settle fills in what the state needs from elsewhere before it is
// counted: the claim on its conversation, the chat's source.
func (s *Service) settle(ctx context.Context, st *config.Site, m *Msg) error {
	if m.ConvNeeded() {
		key := store.WAConversation(st.Name, m.Pricing.Conv)
		set, err := s.rdb.SetNX(ctx, key, m.ID, MessageTTL).Result()
		if err != nil {
			return fmt.Errorf("wabiz: claim conversation: %w", err)
		}
		if !set {
			owner, err := s.rdb.Get(ctx, key).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("wabiz: read conversation: %w", err)
			}
			set = owner == m.ID
		}
		m.ConvOwner = set
	}
	if m.Src == nil && m.Billed() && m.Chat != "" && s.ledger != nil {
		c, err := s.ledger.Load(ctx, st.Name, m.Chat)
		if err != nil {
			return fmt.Errorf("wabiz: chat source: %w", err)
		}
		m.Src = &Source{Channel: NoChat}
		if r := c.Record; r != nil {
			ch := r.Source.Channel
			if ch == "" {
				ch = "unattributed"
			}
			m.Src = &Source{Channel: cleanName(ch), Campaign: cleanName(r.Source.UTMCampaign), AdID: cleanName(r.Source.AdID)}
		}
	}
	return nil
}

// TakeStatuses merges a notification's statuses, each into its message.
// It returns after every one is stored, so a platform's retry of a failed
// call counts nothing twice and loses nothing.
func (s *Service) TakeStatuses(ctx context.Context, site string, statuses []inbound.Status) error {
	st, err := s.site(site)
	if err != nil {
		return err
	}
	for i := range statuses {
		stt := &statuses[i]
		if err := s.update(ctx, st, stt.MessageID, func(m *Msg) { m.TakeStatus(stt) }); err != nil {
			return err
		}
	}
	return nil
}

// TakeReply counts an inbound WhatsApp message as the reply to the
// template messages it answers: the one its context names (a tapped
// button also counts as a click), and every template message sent to the
// chat in the ReplyWindow before it.
func (s *Service) TakeReply(ctx context.Context, site string, in *inbound.Message) error {
	if in == nil || in.Messenger != "whatsapp" || in.Chat == "" {
		return nil
	}
	st, err := s.site(site)
	if err != nil {
		return err
	}
	at := in.Time.UnixMilli()
	ids, err := s.rdb.ZRangeByScore(ctx, store.WAChatOutbound(site, in.Chat), &redis.ZRangeBy{
		Min: strconv.FormatInt(at-ReplyWindow.Milliseconds(), 10), Max: strconv.FormatInt(at, 10), Count: 100,
	}).Result()
	if err != nil {
		return fmt.Errorf("wabiz: recent templates: %w", err)
	}
	if in.ReplyTo != "" && !slices.Contains(ids, in.ReplyTo) {
		ids = append(ids, in.ReplyTo)
	}
	for _, id := range ids {
		clicked := in.ButtonReply && id == in.ReplyTo
		if err := s.update(ctx, st, id, func(m *Msg) {
			m.Replied = true
			m.Clicked = m.Clicked || clicked
		}); err != nil {
			return err
		}
	}
	return nil
}
