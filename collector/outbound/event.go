// Package outbound sends what messtrack learns out of it: each chat's
// source, conversations, sessions and business events go to the site's
// webhooks (any CRM, chat or bot platform), Meta's Conversions API, GA4's
// Measurement Protocol and Yandex Metrica's offline conversions.
//
// Facts become events (Enqueue, OnConversation, OnEvent), which go to a
// Redis stream in the same step as, or right after, the fact that causes
// them, identified so that a fact handed over twice is delivered once. A
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

// Enqueue adds events to their sites' streams in one round trip, plain
// XADDs so that the fact's own request pays as little as it can. An event
// enqueued again (a fact handed over twice) is routed again and makes no
// new delivery: a delivery's ID is its event's and its target's, and the
// router leaves one that exists alone.
func (q *Enqueuer) Enqueue(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	pipe := q.rdb.Pipeline()
	for _, e := range events {
		if q.cfg.Site(e.Site) == nil {
			return fmt.Errorf("outbound.Enqueue: unknown site %q", e.Site)
		}
		if e.ID == "" || strings.ContainsAny(e.ID, "{}: ") {
			return fmt.Errorf("outbound.Enqueue: event ID %q is empty or not plain", e.ID)
		}
		data := e.Data
		if len(data) == 0 {
			data = json.RawMessage("{}")
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: store.OutboundEvents(e.Site), Values: []any{
			"id", e.ID, "type", e.Type, "chat", e.Chat, "time", e.Time.UnixMilli(), "data", string(data)}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("outbound.Enqueue: %w", err)
	}
	return nil
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
