package collector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/learn"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/collector/score"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// The learned heuristic's glue: which messages are examples, the choice
// between the site's fitted model and today's formula, the scheduled
// refit. The model is collector/posterior's; its keys are collector/learn's.

// weigh turns the scored candidates into the answer: the probabilities of
// the site's fitted model when it has enough labelled examples of the
// messenger (learn.Usable), else today's formula (score.Normalize and
// score.Decide). raw[i] and ex.Candidates[i] are the same click. A model
// that cannot be read is logged and today's formula answers.
func (s *Server) weigh(ctx context.Context, st *site, ex *posterior.Unlabelled, raw []score.Candidate) ([]score.Candidate, score.Candidate, bool) {
	if ex != nil && len(raw) > 0 && len(ex.Candidates) == len(raw) {
		m, err := s.learn.Model(ctx, st.cfg.Name)
		if err != nil {
			s.log.Warn("learned model unreadable: today's formula answers", "site", st.cfg.Name, "err", err)
		}
		if learn.Usable(m, ex.Message.Messenger) {
			return learnedAnswer(m, ex, raw, st.cfg.MatchPrecision)
		}
	}
	cands := score.Normalize(raw)
	best, ok := score.Decide(cands)
	return cands, best, ok
}

// learnedAnswer weighs the candidates by the model's posterior. Clicks of
// one visitor are one person: their probabilities add up, and the visit
// with the largest stands for them. The best candidate is taken when its
// probability reaches the site's precision target.
func learnedAnswer(m *posterior.Model, ex *posterior.Unlabelled, raw []score.Candidate, target float64) ([]score.Candidate, score.Candidate, bool) {
	probs, _ := posterior.Posterior(*m, ex.Message, ex.Candidates)
	mm := m.Messengers[ex.Message.Messenger]
	reason := fmt.Sprintf("learned model v%d (%d labelled %s chats)", m.Version, mm.Labelled, ex.Message.Messenger)
	type person struct {
		at   int     // the standing candidate in out
		p    float64 // the person's probability
		best float64 // the standing visit's own
	}
	byVisitor := map[string]*person{}
	var out []score.Candidate
	var ps []float64
	for i, c := range raw {
		c.Weight, c.Reasons = probs[i], append(slices.Clip(c.Reasons), reason)
		vid := ""
		if c.Of != nil {
			vid = c.Of.VisitorID
		}
		if pp := byVisitor[vid]; vid != "" && pp != nil {
			pp.p += probs[i]
			ps[pp.at] = pp.p
			if probs[i] > pp.best {
				c.Reasons = append(c.Reasons, "same visitor as "+out[pp.at].Visit)
				out[pp.at], pp.best = c, probs[i]
			}
			continue
		}
		if vid != "" {
			byVisitor[vid] = &person{at: len(out), p: probs[i], best: probs[i]}
		}
		out = append(out, c)
		ps = append(ps, probs[i])
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case ps[a] > ps[b]:
			return -1
		case ps[a] < ps[b]:
			return 1
		}
		return strings.Compare(out[a].Visit, out[b].Visit)
	})
	sorted := make([]score.Candidate, len(out))
	sortedP := make([]float64, len(out))
	for i, j := range order {
		sorted[i], sortedP[i] = out[j], ps[j]
		sorted[i].Weight = math.Round(sorted[i].Weight*1e4) / 1e4
		sorted[i].Confidence = math.Round(ps[j]*1e3) / 1e3
	}
	best, ok := posterior.Decide(sortedP, target)
	if !ok {
		return sorted, score.Candidate{}, false
	}
	return sorted, sorted[best], true
}

// learnFrom keeps a conversation's first message to one of the site's chat
// targets as an example once it is stored: a code-less one with what the
// matcher saw, an id match (a live visit's code, the visit's click on the
// target known) with its clicked visit and the other candidates of that
// moment. A failure loses one example, never the message: it is logged.
func (s *Server) learnFrom(ctx context.Context, st *site, in *inbound.Message, conv *conversation) {
	if !st.Targets[in.Target] {
		// Only the site's chat links are clicked: a message to anything
		// else has no candidates to learn from, and its messenger or
		// target name may be anything a client sent.
		return
	}
	var err error
	switch {
	case conv.Example != nil:
		err = s.learn.AddUnlabelled(ctx, st.cfg.Name, conv.Example)
	case conv.Method == reports.MethodID && conv.Visit != nil && !conv.Visit.Static:
		err = s.learnLabelled(ctx, st, in, conv)
	}
	if err != nil {
		s.log.Warn("learning example not kept", "site", st.cfg.Name, "err", err)
	}
}

// learnLabelled keeps an id match: the visit's click on the message's
// target (a visit that never clicked it, such as a QR scan, is no example
// of a click's delay) and the other candidates in the window.
func (s *Server) learnLabelled(ctx context.Context, st *site, in *inbound.Message, conv *conversation) error {
	n := conv.Visit.N
	ms, err := s.rdb.ZScore(ctx, st.Keys.Clicks(in.Target, st.Keys.Of(n)), strconv.FormatUint(n, 36)).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("learnLabelled: %w", err)
	}
	raw, ex, err := s.candidates(ctx, st, in, n)
	if err != nil {
		return fmt.Errorf("learnLabelled: %w", err)
	}
	if ex == nil {
		return nil
	}
	l := &posterior.Labelled{Message: ex.Message, Others: ex.Candidates,
		Clicked: s.learn.ClickOf(conv.Visit, time.UnixMilli(int64(ms)).UTC(), in.Time)}
	l.Clicked.OtherVisits = markOtherVisits(raw, l.Others, conv.Visit.VisitorID)
	return s.learn.AddLabelled(ctx, st.cfg.Name, l)
}

// learnConfirmed keeps an operator's confirmation of a chat's candidate as
// a labelled example marked Confirmed: the conversation's first message as
// the matcher saw it (the record's phone, language, messenger and target,
// the target's clicks in the hour before), the candidates the record keeps
// (visit IDs and click times, their visits loaded again), the confirmed
// visit as the clicked one. A candidate whose visit expired since is left
// out; a message to anything but the site's chat links is no example.
func (s *Server) learnConfirmed(ctx context.Context, st *site, cs *ledger.Record, confirmed *visit.Visit) error {
	if !st.Targets[cs.Target] || cs.Messenger == "" {
		return nil
	}
	at := time.UnixMilli(cs.ConvAt).UTC()
	var clickAt time.Time
	found := false
	pipe := s.rdb.Pipeline()
	type other struct {
		n       uint64
		clickAt time.Time
		get     *redis.StringCmd
	}
	var others []other
	for _, c := range cs.Candidates {
		n, err := st.codec.ParseVisitID(c.Visit)
		if err != nil {
			continue // not a visit of this site's codec: nothing to load
		}
		if n == confirmed.N {
			clickAt, found = c.ClickAt, true
			continue
		}
		others = append(others, other{n: n, clickAt: c.ClickAt, get: pipe.Get(ctx, st.Keys.Visit(n))})
	}
	if !found {
		return nil
	}
	hour := countClicks(ctx, pipe, st, cs.Target, at.Add(-time.Hour), at)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("learnConfirmed: load: %w", err)
	}
	l := &posterior.Labelled{Confirmed: true,
		Message: learn.MessageOf(at, cs.Messenger, cs.Target, cs.Phone, "", cs.Language, float64(hour())),
		Clicked: s.learn.ClickOf(confirmed, clickAt, at)}
	var raw []score.Candidate
	for _, o := range others {
		b, err := o.get.Bytes()
		if err != nil {
			continue // expired since the message
		}
		v, err := visit.Decode(o.n, b)
		if err != nil {
			s.log.Warn("candidate visit unreadable", "site", st.cfg.Name, "err", err)
			continue
		}
		raw = append(raw, score.Candidate{Visit: st.codec.VisitID(o.n), ClickAt: o.clickAt, Of: v})
		l.Others = append(l.Others, s.learn.ClickOf(v, o.clickAt, at))
	}
	l.Clicked.OtherVisits = markOtherVisits(raw, l.Others, confirmed.VisitorID)
	return s.learn.AddLabelled(ctx, st.cfg.Name, l)
}

// markOtherVisits sets OtherVisits on the candidates whose visitor has
// another visit among them or is visitor also (the clicked visit's, for an
// id match): a second visit or device that clicked too. raw[i] and
// cands[i] are the same click. It tells whether visitor also has one.
func markOtherVisits(raw []score.Candidate, cands []posterior.Click, also string) bool {
	count := map[string]int{}
	if also != "" {
		count[also]++
	}
	for _, c := range raw {
		if c.Of != nil && c.Of.VisitorID != "" {
			count[c.Of.VisitorID]++
		}
	}
	for i, c := range raw {
		if c.Of != nil && count[c.Of.VisitorID] > 1 && i < len(cands) {
			cands[i].OtherVisits = true
		}
	}
	return also != "" && count[also] > 1
}

// Refit fits the site's model anew on its examples (learn.Store.Refit),
// with the site's match window and precision target.
func (s *Server) Refit(ctx context.Context, siteName string) (learn.RefitResult, error) {
	st, err := s.lookupSite(siteName)
	if err != nil {
		return learn.RefitResult{}, err
	}
	return s.learn.Refit(ctx, st.cfg.Name, st.matchWindow(), st.cfg.MatchPrecision)
}

// RefitEvery is how often a serving collector refits every site's model.
const RefitEvery = time.Hour

// RunRefits first refits the sites whose model is due (RefitDue), then
// every site's model on each tick until ctx ends (serve passes a
// time.Ticker's channel of RefitEvery; tests their own). A site's failure
// is logged and the others go on.
func (s *Server) RunRefits(ctx context.Context, tick <-chan time.Time) {
	s.RefitDue(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		for _, name := range s.cfg.SiteNames() {
			s.refitLogged(ctx, name)
		}
	}
}

// RefitDue refits each site whose stored model is missing or was last
// refitted RefitEvery or longer ago by the collector's clock, so that a
// collector that starts does not leave a stale model for another hour. It
// returns the sites it refitted (or tried to: a failure is logged).
func (s *Server) RefitDue(ctx context.Context) []string {
	var due []string
	now := s.clock.Now()
	for _, name := range s.cfg.SiteNames() {
		at, err := s.learn.RefittedAt(ctx, name)
		if err != nil {
			s.log.Error("refit of the learned heuristic", "site", name, "err", err)
			continue
		}
		if !at.IsZero() && now.Sub(at) < RefitEvery {
			continue
		}
		due = append(due, name)
		s.refitLogged(ctx, name)
	}
	return due
}

// refitLogged refits a site and logs the outcome.
func (s *Server) refitLogged(ctx context.Context, name string) {
	res, err := s.Refit(ctx, name)
	switch {
	case err != nil:
		s.log.Error("refit of the learned heuristic", "site", name, "err", err)
	case !res.Busy:
		s.log.Info("refit of the learned heuristic", "site", name, "version", res.Version,
			"labelled", res.Labelled, "code_less", res.Unlabelled, "proved", res.Proved)
	}
}
