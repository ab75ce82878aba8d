package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/codes"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// The code-survival counts (collector/codes decides, reports.Store counts):
// a visit's first chat click, and what became of its code in the first
// message of each conversation. Counting never fails what it counts: a
// click or a message is stored first, and a failed count is logged.

// countClick counts a visit's first click on a chat link.
func (s *Server) countClick(ctx context.Context, st *site, v *visit.Visit, target, page string, at time.Time) {
	f := reports.CodeFact{Site: st.cfg.Name, Time: at, Click: true, Dims: codes.Dims(st.cfg, v, st.BotTarget(target), page)}
	if err := s.reports.RecordCodes(ctx, f); err != nil {
		s.log.Warn("code survival: click not counted", "site", st.cfg.Name, "err", err)
	}
}

// countFirstMessage counts the first message of a conversation: the code
// kept (an id match), edited (a near-code in the template's place or one
// change from a visit that clicked this chat) or deleted (no code, the
// chat linked to a clicked visit), or unlinked. Only conversations on a
// visit's clicks are counted against them.
func (s *Server) countFirstMessage(ctx context.Context, st *site, in *inbound.Message, conv *conversation) {
	if err := s.countFirst(ctx, st, in, conv); err != nil {
		s.log.Warn("code survival: first message not counted", "site", st.cfg.Name, "err", err)
	}
}

func (s *Server) countFirst(ctx context.Context, st *site, in *inbound.Message, conv *conversation) error {
	if conv.Method == reports.MethodReferral || conv.Method == reports.MethodDedicatedNumber {
		return nil // no link carried a code
	}
	bot := st.BotTarget(in.Target)
	if conv.Method == reports.MethodID {
		if conv.Click == nil {
			return nil // a code typed or scanned without a chat click
		}
		return s.countOutcome(ctx, st, in, reports.CodeKept, conv.Visit, conv.Click, bot)
	}
	outcome := reports.CodeDeleted
	linked, click := conv.Visit, conv.Click
	for _, e := range codes.Classify(st.codec, st.cfg.Messages, in.Text) {
		if e.Near.Guess != 0 && linked == nil {
			v, ci, err := s.clickedVisit(ctx, st, e.Near.Guess, in.Target)
			if err != nil {
				return err
			}
			if v != nil {
				linked, click = v, ci
				outcome = reports.CodeEdited
				break
			}
		}
		if e.Template || (linked != nil && e.Near.Guess == linked.N) {
			outcome = reports.CodeEdited
			break
		}
	}
	format := st.cfg.IDFormat
	if bot {
		format = codes.FormatStart
	}
	open := codes.Open{At: in.Time.UnixMilli(), Outcome: outcome, Format: format, Bot: bot}
	if linked != nil && click != nil {
		f := s.outcomeFact(st, in.Time, outcome, linked, click, bot)
		if conv.Method == reports.MethodHeuristic && !conv.Confirmed && conv.Visit == linked && !linked.Static {
			// A guess a code may revoke: keep what was counted for it,
			// its dimensions as stored (a page without its query).
			kept := f
			kept.Dims = f.Dims.Stored()
			open.Visit, open.Fact = linked.N, &kept
			if err := s.setCodeOpen(ctx, st, in.Chat, open); err != nil {
				return fmt.Errorf("countFirst: %w", err)
			}
		}
		return s.reports.RecordCodes(ctx, f)
	}
	if err := s.setCodeOpen(ctx, st, in.Chat, open); err != nil {
		return fmt.Errorf("countFirst: %w", err)
	}
	return s.reports.RecordCodes(ctx, unlinkedFact(st, open))
}

// setCodeOpen stores how a chat's current conversation's first message was
// counted, for the visit TTL (as long as a confirmation or a revoked guess
// may move it).
func (s *Server) setCodeOpen(ctx context.Context, st *site, chat string, o codes.Open) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("setCodeOpen: %w", err)
	}
	if err := s.rdb.Set(ctx, st.Keys.CodeOpen(chat), b, st.visitTTL()).Err(); err != nil {
		return fmt.Errorf("setCodeOpen: %w", err)
	}
	return nil
}

// unlinkedFact is the count of a first message linked to no visit, on the
// day of the message, under its format only.
func unlinkedFact(st *site, o codes.Open) reports.CodeFact {
	return reports.CodeFact{Site: st.cfg.Name, Time: time.UnixMilli(o.At).UTC(), Outcome: reports.CodeUnlinked,
		Dims: reports.CodeDims{Format: o.Format}}
}

// clickedVisit is visit n when it lives and its last click was on target.
func (s *Server) clickedVisit(ctx context.Context, st *site, n uint64, target string) (*visit.Visit, *clickInfo, error) {
	ci, err := s.visitClick(ctx, st, n)
	if err != nil || ci == nil || ci.Target != target {
		return nil, nil, err
	}
	v, err := s.liveVisit(ctx, st, n)
	if err != nil || v == nil {
		return nil, nil, err
	}
	return v, ci, nil
}

// countOutcome counts a linked first message on the day of its click.
func (s *Server) countOutcome(ctx context.Context, st *site, in *inbound.Message, outcome string, v *visit.Visit, click *clickInfo, bot bool) error {
	return s.reports.RecordCodes(ctx, s.outcomeFact(st, in.Time, outcome, v, click, bot))
}

// outcomeFact is the count of a first message sent at msgAt and linked to
// visit v: on the day of its click, under the visit's dimensions.
func (s *Server) outcomeFact(st *site, msgAt time.Time, outcome string, v *visit.Visit, click *clickInfo, bot bool) reports.CodeFact {
	clickAt := time.UnixMilli(click.At).UTC()
	d, ok := codes.Delay(clickAt, msgAt)
	return reports.CodeFact{Site: st.cfg.Name, Time: clickAt, Outcome: outcome,
		Dims: codes.Dims(st.cfg, v, bot, click.Page), Delay: d, HasDelay: ok}
}

// countConfirmed moves a chat's unlinked first message to the visit an
// operator confirmed for it.
func (s *Server) countConfirmed(ctx context.Context, st *site, chat string, convAt int64, v *visit.Visit, click *clickInfo) {
	if click == nil {
		return
	}
	err := func() error {
		raw, err := s.rdb.GetDel(ctx, st.Keys.CodeOpen(chat)).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("countConfirmed: %w", err)
		}
		var o codes.Open
		if err := json.Unmarshal(raw, &o); err != nil || o.At != convAt || o.Visit != 0 {
			return nil // another conversation's, a guess's, or unreadable: leave the counts
		}
		undo := unlinkedFact(st, o)
		undo.Undo = true
		return s.reports.RecordCodes(ctx, undo, s.outcomeFact(st, time.UnixMilli(o.At).UTC(), o.Outcome, v, click, o.Bot))
	}()
	if err != nil {
		s.log.Warn("code survival: confirmation not counted", "site", st.cfg.Name, "err", err)
	}
}

// countRevoked takes a revoked guess's count back from visit n: the chat's
// first message of the conversation at convAt leaves the visit and counts
// as unlinked, and stays open for an operator's confirmation of another
// candidate. Only the guess's own count moves, once (the note is read and
// deleted in one step).
func (s *Server) countRevoked(ctx context.Context, st *site, chat string, convAt int64, n uint64) {
	err := func() error {
		raw, err := s.rdb.GetDel(ctx, st.Keys.CodeOpen(chat)).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("countRevoked: %w", err)
		}
		var o codes.Open
		if err := json.Unmarshal(raw, &o); err != nil || o.At != convAt || o.Visit != n || o.Fact == nil {
			return nil // another conversation's, or unreadable: leave the counts
		}
		undo := *o.Fact
		undo.Undo = true
		o.Visit, o.Fact = 0, nil
		if err := s.setCodeOpen(ctx, st, chat, o); err != nil {
			return fmt.Errorf("countRevoked: %w", err)
		}
		return s.reports.RecordCodes(ctx, undo, unlinkedFact(st, o))
	}()
	if err != nil {
		s.log.Warn("code survival: revoked guess not counted", "site", st.cfg.Name, "err", err)
	}
}
