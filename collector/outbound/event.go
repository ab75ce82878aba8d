// Package outbound sends what messtrack learns out of it: each chat's
// source, conversations, sessions and business events go to the site's
// webhooks (any CRM, chat or bot platform), Meta's Conversions API, GA4's
// Measurement Protocol and Yandex Metrica's offline conversions.
//
// Facts become events (Enqueue, OnConversation, OnEvent), which go to a
// Redis stream in the same step as, or right after, the fact that causes
// them, identified so that a fact handed over twice enqueues once. A
// Dispatcher routes each event to one delivery per target, keeps one lane
// per target and chat so a chat's deliveries arrive in order, and delivers
// them at least once with exponential backoff and jitter, for a day and
// more, before they go to the dead letters that an operator can list and
// replay. Several collectors share the work through leases on the lanes.
package outbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// The event types.
const (
	TypeChatAttributed      = "chat.attributed"
	TypeChatConfirmed       = "chat.confirmed"
	TypeConversationStarted = "conversation.started"
	TypeSessionConverted    = "session.converted"
	TypeSessionClosed       = "session.closed"
	TypeEventReceived       = "event.received"
)

// Event is one thing that happened, to be sent to a site's targets.
type Event struct {
	// ID identifies the event: the same fact always gives the same ID, so
	// enqueueing it again changes nothing. Receivers see it as the
	// idempotency key.
	ID   string
	Type string
	Site string
	Chat string
	// Time is when the fact happened (a message's or event's own time).
	Time time.Time
	// Data is the event's JSON payload.
	Data json.RawMessage
}

// EventID derives an event ID from the parts that identify a fact.
func EventID(typ string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(typ))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Enqueuer puts events on their site's outbound stream.
type Enqueuer struct {
	rdb redis.UniversalClient
	cfg *config.Config
}

// NewEnqueuer returns an Enqueuer on rdb for cfg's sites.
func NewEnqueuer(rdb redis.UniversalClient, cfg *config.Config) *Enqueuer {
	return &Enqueuer{rdb: rdb, cfg: cfg}
}

// Active tells whether the site sends anything out; facts of other sites
// are not enqueued at all.
func Active(st *config.Site) bool {
	return st != nil && (len(st.Webhooks) > 0 || st.MetaCAPI.Enabled() || st.GA4.Enabled() || st.Metrica.Enabled())
}

// enqueueScript adds an event to the stream unless its ID was enqueued
// before. KEYS: seen marker, stream. ARGV: id, type, chat, time (ms), data,
// marker TTL (s). Returns 1 when added, 0 for a duplicate.
var enqueueScript = redis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[6]) then
  redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'type', ARGV[2], 'chat', ARGV[3], 'time', ARGV[4], 'data', ARGV[5])
  return 1
end
return 0
`)

// Enqueue adds events to their sites' streams in one round trip; an event
// whose ID was enqueued before is left out. It answers how many were new.
func (q *Enqueuer) Enqueue(ctx context.Context, events ...Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	pipe := q.rdb.Pipeline()
	cmds := make([]*redis.Cmd, 0, len(events))
	for _, e := range events {
		st := q.cfg.Site(e.Site)
		if st == nil {
			return 0, fmt.Errorf("outbound.Enqueue: unknown site %q", e.Site)
		}
		if e.ID == "" || strings.ContainsAny(e.ID, "{}: ") {
			return 0, fmt.Errorf("outbound.Enqueue: event ID %q is empty or not plain", e.ID)
		}
		data := e.Data
		if len(data) == 0 {
			data = json.RawMessage("{}")
		}
		cmds = append(cmds, enqueueScript.Run(ctx, pipe,
			[]string{store.OutboundEventSeen(e.Site, e.ID), store.OutboundEvents(e.Site)},
			e.ID, e.Type, e.Chat, e.Time.UnixMilli(), string(data), int64(keepFor(st)/time.Second)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		// A script not yet cached answers NOSCRIPT in a pipeline; load it
		// and run the batch once more (the markers make that safe).
		if !strings.Contains(err.Error(), "NOSCRIPT") {
			return 0, fmt.Errorf("outbound.Enqueue: %w", err)
		}
		if err := enqueueScript.Load(ctx, q.rdb).Err(); err != nil {
			return 0, fmt.Errorf("outbound.Enqueue: load script: %w", err)
		}
		return q.Enqueue(ctx, events...)
	}
	n := 0
	for _, c := range cmds {
		if v, _ := c.Int(); v == 1 {
			n++
		}
	}
	return n, nil
}

// keepFor is how long finished deliveries and enqueue markers are kept:
// the site's delivery_days, at least two days so that retries of a fact
// within the retry window are recognised.
func keepFor(st *config.Site) time.Duration {
	d := time.Duration(st.Retention.DeliveryDays) * 24 * time.Hour
	if st.Retention.DeliveryDays < 0 {
		d = 3650 * 24 * time.Hour
	}
	return max(d, 48*time.Hour)
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
