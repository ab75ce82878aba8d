package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/learn"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/collector/score"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
)

// conversation is the attribution of a conversation's first message.
type conversation struct {
	Time       time.Time
	Method     string
	Confidence float64
	Visit      *visit.Visit
	// Click is the visit's last chat click, for the page it started from.
	Click    *clickInfo
	Referral *inbound.Referral
	Source   *config.Source
	// Candidates are kept for operators' review when the heuristic did not
	// decide.
	Candidates []score.Candidate
	Confirmed  bool
	// Example is what the time-and-geo step saw (the message's and the
	// candidates' features), kept as a code-less example for learning.
	Example *posterior.Unlabelled
}

// foundCode is a live visit found through a code in a message.
type foundCode struct {
	Visit *visit.Visit
	// Mine is set when the visit's code already started a conversation of
	// this chat.
	Mine bool
}

// findCode returns the first code in the message that decodes to a live
// visit of this site, or nil. The start payload comes first: it is what the
// link carried, whatever the person typed. A visit other chats matched
// counts as well: one page view can start chats in two messengers or from
// two phones, and each chat that sends the code is matched to it.
func (s *Server) findCode(ctx context.Context, st *site, in *inbound.Message, starts []ledger.Start) (*foundCode, error) {
	var numbers []uint64
	if in.HasStart && in.Start != "" {
		if n, err := st.codec.ParseStart(in.Start); err == nil {
			numbers = append(numbers, n)
		}
	}
	for _, f := range st.codec.Find(in.Text) {
		numbers = append(numbers, f.N)
	}
	for _, n := range numbers {
		v, err := s.loadVisit(ctx, st, n)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("findCode: %w", err)
		}
		return &foundCode{Visit: v, Mine: ledger.StartOfVisit(starts, n) != nil}, nil
	}
	return nil, nil
}

// match attributes the first message of a chat that carries no live code:
// a click-to-WhatsApp referral, then a dedicated number, then the
// time-and-geo heuristic.
func (s *Server) match(ctx context.Context, st *site, in *inbound.Message) (*conversation, error) {
	conv := &conversation{Time: in.Time, Method: reports.MethodNone}
	if r := in.Referral; validReferral(r) {
		conv.Method, conv.Confidence, conv.Referral = reports.MethodReferral, 1, r
		return conv, nil
	}
	if src := st.dedicatedSource(in.Target); src != nil {
		conv.Method, conv.Confidence, conv.Source = reports.MethodDedicatedNumber, 1, src
		return conv, nil
	}
	raw, ex, err := s.candidates(ctx, st, in, 0)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	conv.Example = ex
	cands, best, ok := s.weigh(ctx, st, ex, raw)
	conv.Candidates = cands
	if !ok {
		return conv, nil
	}
	conv.Method, conv.Confidence, conv.Visit = reports.MethodHeuristic, best.Confidence, best.Of
	conv.Click, err = s.visitClick(ctx, st, best.Of.N)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	return conv, nil
}

// dedicatedSource returns the source whose dedicated number is the WhatsApp
// or generic target, or nil.
func (st *site) dedicatedSource(target string) *config.Source {
	kind, id, ok := strings.Cut(target, ":")
	if !ok || id == "" || kind == "telegram" {
		return nil
	}
	for _, name := range sortedSourceNames(st.cfg.Sources) {
		if src := st.cfg.Sources[name]; src.DedicatedNumber == id {
			return src
		}
	}
	return nil
}

func sortedSourceNames(m map[string]*config.Source) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// visitClick returns the visit's last chat click, or nil.
func (s *Server) visitClick(ctx context.Context, st *site, n uint64) (*clickInfo, error) {
	b, err := s.rdb.Get(ctx, st.Keys.VisitClick(n)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("visitClick: %w", err)
	}
	ci := &clickInfo{}
	if err := json.Unmarshal(b, ci); err != nil {
		// A broken click record loses only the page, not the match.
		s.log.Warn("visit click record unreadable", "site", st.cfg.Name, "err", err)
		return nil, nil
	}
	return ci, nil
}

// --- the time-and-geo heuristic ---------------------------------------------

// candidates loads the visits that clicked the message's target in the
// match window before it, leaves out visits already matched (and visit
// except, when not 0), and scores them with today's formula, unnormalised;
// ex holds the message's and the same candidates' features, in the same
// order, for the learned model (nil when the message names no target).
func (s *Server) candidates(ctx context.Context, st *site, in *inbound.Message, except uint64) ([]score.Candidate, *posterior.Unlabelled, error) {
	if in.Target == "" {
		return nil, nil, nil
	}
	clicks, err := s.recentClicks(ctx, st, in.Target, in.Time.Add(-st.matchWindow()), in.Time.Add(score.ClickSkew))
	if err != nil {
		return nil, nil, fmt.Errorf("candidates: %w", err)
	}
	if len(clicks) > score.MaxCandidates {
		clicks = clicks[:score.MaxCandidates]
	}
	pipe := s.rdb.Pipeline()
	visits := make([]*redis.StringCmd, len(clicks))
	held := make([]*redis.IntCmd, len(clicks))
	for i, c := range clicks {
		visits[i] = pipe.Get(ctx, st.Keys.Visit(c.N))
		held[i] = pipe.Exists(ctx, st.Keys.VisitMatched(c.N))
	}
	hour := countClicks(ctx, pipe, st, in.Target, in.Time.Add(-time.Hour), in.Time)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("candidates: load: %w", err)
	}
	ex := &posterior.Unlabelled{Message: learn.MessageOf(in.Time, in.Messenger, in.Target, in.Phone, in.Country, in.Language, float64(hour()))}
	sig := score.SignalsOf(in.Country, in.Phone, in.Language)
	out := make([]score.Candidate, 0, len(clicks))
	for i, c := range clicks {
		if held[i].Val() > 0 || c.N == except {
			continue
		}
		b, err := visits[i].Bytes()
		if err != nil {
			continue // expired since the click
		}
		v, err := visit.Decode(c.N, b)
		if err != nil {
			s.log.Warn("candidate visit unreadable", "site", st.cfg.Name, "err", err)
			continue
		}
		cand := score.Score(sig, v, in.Time.Sub(c.At), in.Time)
		cand.Visit, cand.ClickAt = st.codec.VisitID(c.N), c.At
		out = append(out, cand)
		ex.Candidates = append(ex.Candidates, s.learn.ClickOf(v, c.At, in.Time))
	}
	markOtherVisits(out, ex.Candidates, "")
	return out, ex, nil
}
