package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
)

// Facts turns the collector's facts into events and enqueues them. It
// does as little as it can, since it runs while a platform waits for its
// webhook's answer: one round trip to Redis per fact; what the chat's
// sessions imply is worked out when the event is routed.
type Facts struct {
	q   *Enqueuer
	cfg func(site string) bool
}

// NewFacts returns the fact hand-over on q.
func NewFacts(q *Enqueuer) *Facts {
	return &Facts{q: q, cfg: func(site string) bool { return Active(q.cfg.Site(site)) }}
}

// Sink wraps a ledger sink (the reports store's RecordConversation): a
// conversation fact is first recorded, then its events are enqueued, so
// that a failure of either leaves the fact pending and handed over again.
func (f *Facts) Sink(next func(context.Context, reports.Conversation) error) func(context.Context, reports.Conversation) error {
	return func(ctx context.Context, c reports.Conversation) error {
		if err := next(ctx, c); err != nil {
			return err
		}
		return f.OnConversation(ctx, c)
	}
}

// conversationData is the data of conversation.started (and of
// chat.attributed when no chat record can be read).
type conversationData struct {
	Chat       string        `json:"chat"`
	Time       string        `json:"time"`
	Messenger  string        `json:"messenger"`
	Method     string        `json:"method"`
	Confidence float64       `json:"confidence"`
	Source     ledger.Source `json:"source"`
}

// OnConversation enqueues conversation.started for a conversation fact,
// and chat.attributed when it has a source (again when its source changes,
// as when an operator confirms a candidate).
func (f *Facts) OnConversation(ctx context.Context, c reports.Conversation) error {
	if !f.cfg(c.Site) || c.Retract {
		return nil
	}
	at := c.Time.UTC()
	data, err := json.Marshal(conversationData{
		Chat: c.Chat, Time: at.Format(time.RFC3339Nano), Messenger: c.Messenger, Method: c.Method, Confidence: c.Confidence,
		Source: ledger.Source{Channel: c.Channel, UTMSource: c.UTMSource, UTMMedium: c.UTMMedium, UTMCampaign: c.UTMCampaign,
			UTMContent: c.UTMContent, UTMTerm: c.UTMTerm, Referrer: c.Referrer, LandingPage: c.Landing, Page: c.Page,
			AdID: c.AdID, AdTitle: c.AdTitle, ClickID: c.ClickID, OfflineSource: c.Source},
	})
	if err != nil {
		return fmt.Errorf("outbound: conversation %s: %w", c.Chat, err)
	}
	events := []Event{{ID: EventID(TypeConversationStarted, c.Site, c.Chat, ms(at)), Type: TypeConversationStarted,
		Site: c.Site, Chat: c.Chat, Time: at, Data: data}}
	if c.Method != reports.MethodNone && c.Method != "" {
		events = append(events, Event{
			ID:   EventID(TypeChatAttributed, c.Site, c.Chat, ms(at), c.Method, c.AdID, c.ClickID, c.Page, c.Landing, c.Source, c.UTMCampaign),
			Type: TypeChatAttributed, Site: c.Site, Chat: c.Chat, Time: at, Data: data,
		})
	}
	if err := f.q.Enqueue(ctx, events...); err != nil {
		return fmt.Errorf("outbound: conversation %s: %w", c.Chat, err)
	}
	return nil
}

// eventData is the data of event.received.
type eventData struct {
	Chat     string  `json:"chat"`
	Category string  `json:"category"`
	Time     string  `json:"time"`
	Value    float64 `json:"value"`
	Currency string  `json:"currency"`
	ID       string  `json:"id,omitempty"`
	reports.EventResult
}

// OnEvent enqueues event.received for a business event the reports store
// judged. The event is
// identified as the reports store identifies it (its ID, else its chat,
// category, time and value), so a redelivered event enqueues once.
func (f *Facts) OnEvent(ctx context.Context, e reports.Event, res reports.EventResult) error {
	if !f.cfg(e.Site) {
		return nil
	}
	at := e.Time.UTC()
	if cat, err := reports.NormalizeCategory(e.Category); err == nil {
		e.Category = cat
	}
	key := []string{e.Site, e.Chat, "i", e.ID}
	if e.ID == "" {
		key = []string{e.Site, e.Chat, "h", e.Category, ms(at), strconv.FormatFloat(e.Value, 'f', 3, 64)}
	}
	data, err := json.Marshal(eventData{Chat: e.Chat, Category: e.Category, Time: at.Format(time.RFC3339Nano), Value: e.Value,
		Currency: f.q.cfg.Site(e.Site).Currency, ID: e.ID, EventResult: res})
	if err != nil {
		return fmt.Errorf("outbound: event %s: %w", e.Chat, err)
	}
	events := []Event{{ID: EventID(TypeEventReceived, key...), Type: TypeEventReceived, Site: e.Site, Chat: e.Chat, Time: at, Data: data}}
	if err := f.q.Enqueue(ctx, events...); err != nil {
		return fmt.Errorf("outbound: event %s: %w", e.Chat, err)
	}
	return nil
}

// sessionData is the data of session.converted and session.closed.
type sessionData struct {
	Chat     string `json:"chat"`
	Currency string `json:"currency"`
	reports.Session
}

// sessionEvents are the events of a chat's sessions as they now stand:
// session.converted for each converted one, session.closed for each closed
// without a conversion (replaced by a new conversation, or expired, which
// shows at the chat's next fact). Their IDs make each go once; sessions
// whose fact is older than the enqueue markers live are left out, so that
// none goes twice.
func sessionEvents(st *config.Site, chat string, ss []reports.Session, now time.Time) ([]Event, error) {
	var out []Event
	for _, s := range ss {
		var typ string
		var at time.Time
		var key []string
		switch {
		case s.Conversion != nil:
			typ, at = TypeSessionConverted, s.Conversion.At
			key = []string{st.Name, chat, ms(s.StartedAt), ms(s.Conversion.At), s.Conversion.Category, s.Conversion.EventID}
		case s.ClosedAt != nil:
			typ, at = TypeSessionClosed, *s.ClosedAt
			key = []string{st.Name, chat, ms(s.StartedAt), s.Status}
		default:
			continue
		}
		if now.Sub(at) > keepFor(st)-24*time.Hour {
			continue
		}
		data, err := json.Marshal(sessionData{Chat: chat, Currency: st.Currency, Session: s})
		if err != nil {
			return nil, fmt.Errorf("session of %s: %w", chat, err)
		}
		out = append(out, Event{ID: EventID(typ, key...), Type: typ, Site: st.Name, Chat: chat, Time: at.UTC(), Data: data})
	}
	return out, nil
}
