package collector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/sendback"
	"github.com/messtrack/messtrack/reports"
)

// routesSendBack registers the send-back widget's endpoints
// (collector/sendback): the template goes through collector/wabiz's send,
// and the chat is recorded here, through the ledger, as the visit's.
func (s *Server) routesSendBack(r fiber.Router) {
	sendback.New(sendback.Options{
		Redis: s.rdb, Config: s.cfg, Clock: s.clock, Log: s.log,
		Send:      s.wabiz.Send,
		Visit:     s.sendBackVisit,
		Attribute: s.sendBackAttribute,
		ClientKey: func(c *fiber.Ctx) string { return s.clientKey(s.clientIP(c)) },
		VisitTTL: func(site string) time.Duration {
			if st, err := s.lookupSite(site); err == nil {
				return st.visitTTL()
			}
			return 24 * time.Hour
		},
	}).Register(r)
}

// sendBackVisit loads the live visit a widget names.
func (s *Server) sendBackVisit(ctx context.Context, site, id string) (sendback.Visit, error) {
	st, err := s.lookupSite(site)
	if err != nil {
		return sendback.Visit{}, err
	}
	n, err := st.codec.ParseVisitID(id)
	if err != nil {
		return sendback.Visit{}, sendback.ErrNoVisit
	}
	v, err := s.loadVisit(ctx, st, n)
	if errors.Is(err, ErrNotFound) {
		return sendback.Visit{}, sendback.ErrNoVisit
	}
	if err != nil {
		return sendback.Visit{}, fmt.Errorf("sendBackVisit: %w", err)
	}
	return sendback.Visit{N: n, Code: st.codec.Token(n), Country: v.Country}, nil
}

// sendBackAttribute records that the business started chat at "at" with a
// template carrying visit n's code: a conversation of method send_back,
// confidence 1, which the person's answer continues (decideStart: a later
// message without a new code or referral is a continuation). The visit is
// claimed as a code claims it, so a heuristic guess of it elsewhere is
// revoked and never overrides this. Recording the same visit in the same
// chat again changes nothing.
func (s *Server) sendBackAttribute(ctx context.Context, site, chat string, n uint64, at time.Time) error {
	st, err := s.lookupSite(site)
	if err != nil {
		return err
	}
	v, err := s.loadVisit(ctx, st, n)
	if err != nil {
		return fmt.Errorf("sendBackAttribute: %w", err)
	}
	_, err = ledger.Update(ctx, s.ledger, site, chat, "sendBack", func(sc *ledger.Chat) (struct{}, error) {
		if err := s.ledger.HandOver(ctx, site, chat, sc.Pending); err != nil {
			return struct{}{}, fmt.Errorf("sendBack: %w", err)
		}
		if ledger.StartOfVisit(ledger.StartsOf(sc.Record), n) != nil {
			return struct{}{}, nil
		}
		conv := &conversation{Time: at, Method: reports.MethodSendBack, Confidence: 1, Visit: v}
		in := &inbound.Message{Chat: chat, Messenger: "whatsapp", Time: at}
		state, facts := s.nextState(st, sc.Record, in, startDecision{Conv: conv, Reason: ledger.StartSendBack})
		one := 1.0
		c := ledger.Commit{Chat: chat, Ver: sc.Ver, Record: state, Facts: facts,
			Claim: n, ClaimTTL: st.visitTTL(), ClaimKind: ledger.ClaimCode,
			History: []ledger.HistoryEntry{{Time: at.UTC().Format(time.RFC3339), Kind: ledger.KindConversation,
				Method: reports.MethodSendBack, Confidence: &one, Visit: st.codec.VisitID(n)}}}
		res, err := s.ledger.Commit(ctx, site, c)
		if err != nil {
			return struct{}{}, fmt.Errorf("sendBack: %w", err)
		}
		if res.Outcome == ledger.Claimed {
			return struct{}{}, ledger.ErrRetry
		}
		if res.TakenFrom != "" {
			if err := s.revokeGuess(ctx, st, res.TakenFrom, n); err != nil {
				return struct{}{}, fmt.Errorf("sendBack: %w", err)
			}
		}
		if err := s.ledger.HandOverFacts(ctx, site, chat, facts); err != nil {
			return struct{}{}, fmt.Errorf("sendBack: %w", err)
		}
		s.countMatch(reports.MethodSendBack)
		return struct{}{}, nil
	})
	return err
}
