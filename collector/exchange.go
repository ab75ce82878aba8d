package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

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
		ChatRecord: s.chatJSON,
		Targets: outbound.TargetsWith(outbound.TargetOptions{Client: &http.Client{}, Clock: s.clock,
			ChatRecord: s.chatJSON, Visit: s.visitAnalytics}),
	})
	if err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	return &exchange{
		facts:      outbound.NewFacts(outbound.NewEnqueuer(s.rdb, s.cfg), s.reports.ChatSessions),
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
