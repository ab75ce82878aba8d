package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/chatsapi"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
)

// The operators' chat API is collector/chatsapi; the collector gives it the
// confirmation of a candidate, which runs the matcher's attribution, and
// reads its records for the dashboard (dashboard_adapters.go).

// chatRecord is a chat's record as the chats API answers it; chatFilter
// and chatPage select and page the chat list.
type (
	chatRecord = chatsapi.Record
	chatFilter = chatsapi.Filter
	chatPage   = chatsapi.Page
)

// newChatsAPI builds the chat API on the collector's ledger and reports.
func (s *Server) newChatsAPI() *chatsapi.API {
	return chatsapi.New(chatsapi.Options{
		Ledger: s.ledger, Reports: s.reports, Guard: s.requireKey, Log: s.log,
		SiteOf: func(c *fiber.Ctx) *config.Site { return authedSite(c).cfg },
		Confirm: func(ctx context.Context, siteName, chat, visit string) (*chatsapi.Record, error) {
			st, err := s.lookupSite(siteName)
			if err != nil {
				return nil, err
			}
			return s.confirmCandidate(ctx, st, chat, visit)
		},
	})
}

// chatRecord builds a chat's record, or ErrNotFound.
func (s *Server) chatRecord(ctx context.Context, st *site, chat string) (*chatRecord, error) {
	return s.chats.Record(ctx, st.cfg.Name, chat)
}

// listChats answers a page of chats, newest first message first.
func (s *Server) listChats(ctx context.Context, st *site, f chatFilter) (*chatPage, error) {
	return s.chats.List(ctx, st.cfg.Name, f)
}

// rfc3339ms is a record's stored time as the history shows it.
func rfc3339ms(ms int64) string { return ledger.Stamp(ms) }

// confirmCandidate attributes an unmatched chat to one of its candidates, as
// an operator decided: the method stays heuristic, with confidence 1 and the
// confirmed flag. The chat's conversation fact is handed over again with
// the new source (same Site, Chat and Time). The confirmation is kept as a
// labelled example of the learned heuristic (learnConfirmed), marked as an
// operator's.
func (s *Server) confirmCandidate(ctx context.Context, st *site, chat, visitID string) (*chatRecord, error) {
	n, err := st.codec.ParseVisitID(strings.TrimSpace(visitID))
	if err != nil {
		return nil, fail(ErrBadInput, "visit %q is not a visit ID", clip(visitID, 32))
	}
	return ledger.Update(ctx, s.ledger, st.cfg.Name, chat, "confirmCandidate", func(sc *ledger.Chat) (*chatRecord, error) {
		if sc.Record == nil {
			return nil, fail(ErrNotFound, "no chat %q on this site", clip(chat, 80))
		}
		if err := s.ledger.HandOver(ctx, st.cfg.Name, chat, sc.Pending); err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		cs := sc.Record
		if cs.Method != reports.MethodNone {
			return nil, fail(ErrBadInput, "the chat is already attributed (method %s)", cs.Method)
		}
		want := st.codec.VisitID(n)
		known := false
		for _, cand := range cs.Candidates {
			known = known || cand.Visit == want
		}
		if !known {
			return nil, fail(ErrBadInput, "visit %s is not one of the chat's candidates", want)
		}
		v, err := s.loadVisit(ctx, st, n)
		if errors.Is(err, ErrNotFound) {
			return nil, fail(ErrNotFound, "visit %s has expired", want)
		}
		if err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		click, err := s.visitClick(ctx, st, n)
		if err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		next := *cs
		s.attribute(st, &next, &conversation{Time: time.UnixMilli(cs.ConvAt), Method: reports.MethodHeuristic,
			Confidence: 1, Visit: v, Click: click, Candidates: cs.Candidates, Confirmed: true})
		next.Starts = ledger.SetStart(ledger.StartsOf(cs), cs.ConvAt, reports.MethodHeuristic, n)
		facts := []reports.Conversation{s.conversationFact(st, &next)}
		one := 1.0
		res, err := s.ledger.Commit(ctx, st.cfg.Name, ledger.Commit{Chat: chat, Ver: sc.Ver, Record: &next, Claim: n, ClaimTTL: st.visitTTL(), ClaimKind: ledger.ClaimConfirm, Facts: facts,
			History: []ledger.HistoryEntry{{Time: s.clock.Now().UTC().Format(time.RFC3339), Kind: ledger.KindConfirmed,
				Method: reports.MethodHeuristic, Confidence: &one, Visit: want}}})
		if err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		if res.Outcome == ledger.Claimed {
			return nil, fail(ErrBadInput, "visit %s already belongs to another chat", want)
		}
		if res.Outcome == ledger.Stored {
			// Once per confirmation: a second one finds the chat attributed.
			// A failure loses one example, never the confirmation.
			if err := s.learnConfirmed(ctx, st, cs, v); err != nil {
				s.log.Warn("learning example not kept", "site", st.cfg.Name, "err", err)
			}
		}
		if res.TakenFrom != "" {
			if err := s.revokeGuess(ctx, st, res.TakenFrom, n); err != nil {
				return nil, fmt.Errorf("confirmCandidate: %w", err)
			}
		}
		if err := s.ledger.HandOverFacts(ctx, st.cfg.Name, chat, facts); err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		s.countConfirmed(ctx, st, chat, cs.ConvAt, v, click)
		return s.chatRecord(ctx, st, chat)
	})
}
