package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/collector/outbound"
	"github.com/messtrack/messtrack/reports"
)

// exchange sends the sites' chats and conversions out (collector/outbound):
// facts go to the queue as the ledger and the events API hand them over,
// the dispatcher delivers them while Serve runs, and the deliveries' API
// lists and replays them.
type exchange struct {
	facts      *outbound.Facts
	dispatcher *outbound.Dispatcher
	admin      *outbound.Admin
}

func (s *Server) newExchange() (*exchange, error) {
	d, err := outbound.New(outbound.Options{
		Redis: s.rdb, Config: s.cfg, Clock: s.clock, Log: s.log, Registry: s.metrics.registry,
		ChatRecord: s.chatJSON, Sessions: s.reports.ChatSessions,
		Targets: outbound.TargetsWith(outbound.TargetOptions{Clock: s.clock,
			ChatRecord: s.chatJSON, Visit: s.visitAnalytics}),
	})
	if err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	return &exchange{
		facts:      outbound.NewFacts(outbound.NewEnqueuer(s.rdb, s.cfg)),
		dispatcher: d,
		admin:      outbound.NewAdmin(s.rdb, s.cfg, s.clock),
	}, nil
}

// chatJSON is a chat's record as GET /v1/sites/{site}/chats/{chat}
// answers it, the data of chat.attributed; nil when the chat is gone.
func (s *Server) chatJSON(ctx context.Context, site, chat string) (json.RawMessage, error) {
	st, err := s.lookupSite(site)
	if err != nil {
		return nil, err
	}
	rec, err := s.chatRecord(ctx, st, chat)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("chatJSON %s: %w", chat, err)
	}
	return b, nil
}

// visitAnalytics reads the web analytics identifiers of the visit that
// started the chat's conversation at at; zero when that conversation had no
// visit (or another conversation began since) or the visit has expired.
func (s *Server) visitAnalytics(ctx context.Context, site, chat string, at time.Time) (outbound.Analytics, error) {
	st, err := s.lookupSite(site)
	if err != nil {
		return outbound.Analytics{}, err
	}
	sc, err := s.ledger.Load(ctx, site, chat)
	if err != nil {
		return outbound.Analytics{}, fmt.Errorf("visitAnalytics: %w", err)
	}
	rec := sc.Record
	if rec == nil || rec.VisitN == 0 || rec.ConvAt != at.UnixMilli() {
		return outbound.Analytics{}, nil
	}
	v, err := s.loadVisit(ctx, st, rec.VisitN)
	if errors.Is(err, ErrNotFound) {
		return outbound.Analytics{}, nil
	}
	if err != nil {
		return outbound.Analytics{}, fmt.Errorf("visitAnalytics: %w", err)
	}
	a := outbound.Analytics{Time: v.Time, GAClientID: v.GAClientID, YMClientID: v.YMClientID}
	if v.ClickIDKind == "yclid" {
		a.Yclid = v.ClickID
	}
	return a, nil
}

// conversationSink is what the ledger hands conversation facts to: the
// reports store, then the outbound queue.
func (s *Server) conversationSink() func(context.Context, reports.Conversation) error {
	return s.exchange.facts.Sink(s.reports.RecordConversation)
}

// recordedEvent hands a business event the reports store judged to the
// outbound queue.
func (s *Server) recordedEvent(ctx context.Context, e reports.Event, res reports.EventResult) error {
	return s.exchange.facts.OnEvent(ctx, e, res)
}

// routesDeliveries registers the deliveries' list and replay.
func (s *Server) routesDeliveries(r fiber.Router) {
	s.exchange.admin.Register(r, s.requireKey, func(c *fiber.Ctx) string { return authedSite(c).cfg.Name })
}

// startExchange runs the dispatcher until ctx ends; the answer waits for
// the deliveries under way.
func (s *Server) startExchange(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.exchange.dispatcher.Run(ctx)
	}()
	return wg.Wait
}

// Deliveries is the outbound dispatcher, for tests that step it and for
// embedding.
func (s *Server) Deliveries() *outbound.Dispatcher { return s.exchange.dispatcher }

// MetricaRows are the site's chats and conversions between from and to as
// Metrica offline conversions, for `messtrack export metrica`: each chat's
// current conversation that started in the range and came from a visit
// with a Metrica ClientID or a yclid (goal_chat), and that conversation's
// conversion when it happened in the range (goal_conversion). The chat
// index is read in bounded batches.
func (s *Server) MetricaRows(ctx context.Context, site string, from, to time.Time) ([]outbound.MetricaRow, error) {
	st, err := s.lookupSite(site)
	if err != nil {
		return nil, err
	}
	m := st.cfg.Metrica
	var rows []outbound.MetricaRow
	top := "+inf"
	seen := map[string]bool{}
	const batch = 500
	for {
		chats, err := s.ledger.Index(ctx, site, top, "-inf", batch)
		if err != nil {
			return nil, fmt.Errorf("MetricaRows: %w", err)
		}
		fresh := 0
		for _, c := range chats {
			if seen[c.Chat] {
				continue
			}
			fresh++
			more, err := s.metricaRowsOf(ctx, st, c.Chat, from, to, m.GoalChat, m.GoalConversion)
			if err != nil {
				return nil, err
			}
			rows = append(rows, more...)
		}
		if len(chats) < batch || fresh == 0 {
			break
		}
		// The next batch starts at the last score again, so chats sharing
		// it are not skipped; those already read are left out.
		last := chats[len(chats)-1].Score
		seen = map[string]bool{}
		for _, c := range chats {
			if c.Score == last {
				seen[c.Chat] = true
			}
		}
		top = fmt.Sprint(last)
	}
	slices.SortStableFunc(rows, func(a, b outbound.MetricaRow) int { return a.Time.Compare(b.Time) })
	return rows, nil
}

func (s *Server) metricaRowsOf(ctx context.Context, st *site, chat string, from, to time.Time, goalChat, goalConv string) ([]outbound.MetricaRow, error) {
	sc, err := s.ledger.Load(ctx, st.cfg.Name, chat)
	if err != nil || sc.Record == nil || sc.Record.VisitN == 0 {
		return nil, err
	}
	start := time.UnixMilli(sc.Record.ConvAt).UTC()
	a, err := s.visitAnalytics(ctx, st.cfg.Name, chat, start)
	if err != nil || (a.YMClientID == "" && a.Yclid == "") {
		return nil, err
	}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	var rows []outbound.MetricaRow
	if goalChat != "" && in(start) {
		rows = append(rows, outbound.MetricaRow{ClientID: a.YMClientID, Yclid: a.Yclid, Goal: goalChat, Time: start})
	}
	if goalConv == "" {
		return rows, nil
	}
	sessions, err := s.reports.ChatSessions(ctx, st.cfg.Name, chat)
	if err != nil {
		return nil, fmt.Errorf("MetricaRows: %w", err)
	}
	for _, ss := range sessions {
		if c := ss.Conversion; c != nil && ss.StartedAt.Equal(start) && in(c.At) {
			rows = append(rows, outbound.MetricaRow{ClientID: a.YMClientID, Yclid: a.Yclid, Goal: goalConv, Time: c.At,
				Conversion: true, Price: c.Value, Currency: st.cfg.Currency})
		}
	}
	return rows, nil
}

// deliveriesAdapter gives the dashboard the site's deliveries.
type deliveriesAdapter struct{ admin *outbound.Admin }

func (a deliveriesAdapter) Deliveries(ctx context.Context, site, state string, limit int) ([]dashboard.Delivery, error) {
	list, err := a.admin.List(ctx, site, state, limit)
	if err != nil {
		return nil, err
	}
	at := func(s string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, s) // "" (never) is the zero time
		return t
	}
	out := make([]dashboard.Delivery, len(list))
	for i, l := range list {
		out[i] = dashboard.Delivery{ID: l.ID, Type: l.Type, Target: l.Target, Chat: l.Chat, State: l.State, Error: l.Error,
			Attempts: l.Attempts, Status: l.Status, Created: at(l.Created), Last: at(l.Last), Next: at(l.Next), Done: at(l.Done)}
	}
	return out, nil
}

func (a deliveriesAdapter) Replay(ctx context.Context, site, id string) error {
	_, err := a.admin.Replay(ctx, site, id)
	if errors.Is(err, outbound.ErrNoDelivery) {
		return fail(ErrNotFound, "no delivery %q is kept", clip(id, 64))
	}
	return err
}
