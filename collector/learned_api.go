package collector

import (
	"context"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/collector/learn"
	"github.com/messtrack/messtrack/collector/posterior"
)

// routesLearned registers the learned heuristic's endpoints: the model and
// its live proof, and a refit on demand.
func (s *Server) routesLearned(r fiber.Router) {
	r.Get("/v1/sites/:site/heuristic", s.requireKey, s.handleHeuristic)
	r.Post("/v1/sites/:site/heuristic/refit", s.requireKey, s.handleRefit)
}

// confidenceMeaning is what every confidence of a learned answer means; the
// API says it beside the proof that checks it.
const confidenceMeaning = "A learned answer's confidence is the probability, under the site's fitted model, that the " +
	"visit is the writer's, against every other candidate and against someone who never clicked. Among answers " +
	"given with confidence c, about c are right: the reliability table of the proof checks it on the site's own " +
	"id matches. The heuristic answers only when the confidence reaches precision_target, so its precision is at " +
	"least that. Messengers whose model is not in_use are answered by the fixed formula, whose confidence is a " +
	"share of weights, not a probability."

// heuristicAnswer is GET /v1/sites/{site}/heuristic.
type heuristicAnswer struct {
	Site               string                       `json:"site"`
	PrecisionTarget    float64                      `json:"precision_target"`
	MatchWindowMinutes int                          `json:"match_window_minutes"`
	MinLabelled        int                          `json:"min_labelled"`
	Model              *modelSummary                `json:"model"`
	Messengers         map[string]*messengerSummary `json:"messengers"`
	Proof              proofAnswer                  `json:"proof"`
	Confidence         string                       `json:"confidence"`
}

// modelSummary is the fitted model's identity; null before the first fit.
type modelSummary struct {
	Version  int       `json:"version"`
	FittedAt time.Time `json:"fitted_at"`
}

// messengerSummary is what was learned for one messenger.
type messengerSummary struct {
	// InUse tells that the matcher answers this messenger's code-less
	// chats with the learned model (at least min_labelled examples).
	InUse      bool `json:"in_use"`
	Labelled   int  `json:"labelled"`
	Unlabelled int  `json:"code_less"`
	// NeverClicked is the estimated share of code-less first messages
	// from people who did not click within the window.
	NeverClicked float64 `json:"never_clicked_share"`
	// InWindow is the share of writers who write within the match window.
	InWindow      float64 `json:"in_window"`
	CodedPerClick float64 `json:"coded_per_click"`
	// Delay is the fitted click-to-message delay curve.
	Delay []delayPoint `json:"delay"`
}

// delayPoint is one bin of the delay curve: the share of writers whose
// first message came between the previous bin's edge and UpTo seconds
// after the click.
type delayPoint struct {
	UpTo  float64 `json:"up_to_seconds"`
	Share float64 `json:"share"`
}

// proofAnswer is the live proof: per messenger and month, and all months
// per messenger.
type proofAnswer struct {
	Rows   []posterior.ProofRow `json:"rows"`
	Totals []posterior.ProofRow `json:"totals"`
}

func (s *Server) handleHeuristic(c *fiber.Ctx) error {
	st := authedSite(c)
	ctx := c.UserContext()
	m, err := s.learn.Model(ctx, st.cfg.Name)
	if err != nil {
		return err
	}
	proof, err := s.learn.LoadProof(ctx, st.cfg.Name)
	if err != nil {
		return err
	}
	out := heuristicAnswer{Site: st.cfg.Name, PrecisionTarget: st.cfg.MatchPrecision,
		MatchWindowMinutes: st.cfg.MatchWindowMinutes, MinLabelled: learn.MinLabelled,
		Messengers: map[string]*messengerSummary{}, Proof: proofAnswer{Rows: proof.Rows, Totals: []posterior.ProofRow{}},
		Confidence: confidenceMeaning}
	if out.Proof.Rows == nil {
		out.Proof.Rows = []posterior.ProofRow{}
	}
	if m != nil {
		out.Model = &modelSummary{Version: m.Version, FittedAt: m.FittedAt}
		for name, mm := range m.Messengers {
			out.Messengers[name] = summarizeMessenger(m, name, mm)
		}
	}
	seen := map[string]bool{}
	for _, r := range proof.Rows {
		if !seen[r.Messenger] {
			seen[r.Messenger] = true
			out.Proof.Totals = append(out.Proof.Totals, learn.Total(proof.Rows, r.Messenger))
		}
	}
	return c.JSON(out)
}

func summarizeMessenger(m *posterior.Model, name string, mm *posterior.MessengerModel) *messengerSummary {
	ms := &messengerSummary{InUse: learn.Usable(m, name), Labelled: mm.Labelled, Unlabelled: mm.Unlabelled,
		NeverClicked: mm.NeverClicked.Share, InWindow: mm.Delay.InWindow, CodedPerClick: mm.Delay.CodedPerClick}
	lo := 0.0
	for i, hi := range mm.Delay.Edges {
		if i < len(mm.Delay.Density) {
			ms.Delay = append(ms.Delay, delayPoint{UpTo: hi, Share: mm.Delay.Density[i] * (hi - lo)})
		}
		lo = hi
	}
	return ms
}

// handleRefit is POST /v1/sites/{site}/heuristic/refit: the site's model
// fitted now, as the hourly refit does. 409 when another collector is
// refitting the site.
func (s *Server) handleRefit(c *fiber.Ctx) error {
	st := authedSite(c)
	res, err := s.Refit(c.UserContext(), st.cfg.Name)
	if err != nil {
		return err
	}
	if res.Busy {
		return c.Status(fiber.StatusConflict).JSON(fiber.Map{"error": "another collector is refitting this site's model", "busy": true})
	}
	return c.JSON(res)
}

// heuristicAdapter gives the dashboard's heuristic page the same data as
// GET /v1/sites/{site}/heuristic.
type heuristicAdapter struct{ s *Server }

func (a heuristicAdapter) Heuristic(ctx context.Context, siteName string) (*dashboard.Heuristic, error) {
	st, err := a.s.lookupSite(siteName)
	if err != nil {
		return nil, err
	}
	m, err := a.s.learn.Model(ctx, st.cfg.Name)
	if err != nil {
		return nil, err
	}
	proof, err := a.s.learn.LoadProof(ctx, st.cfg.Name)
	if err != nil {
		return nil, err
	}
	h := &dashboard.Heuristic{PrecisionTarget: st.cfg.MatchPrecision, MinLabelled: learn.MinLabelled, Confidence: confidenceMeaning}
	if m != nil {
		h.Version, h.FittedAt = m.Version, m.FittedAt
		names := make([]string, 0, len(m.Messengers))
		for name := range m.Messengers {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			ms := summarizeMessenger(m, name, m.Messengers[name])
			if ms.Labelled == 0 && ms.Unlabelled == 0 {
				continue // today's defaults, nothing learned
			}
			hm := dashboard.HeuristicMessenger{Name: name, InUse: ms.InUse, Labelled: ms.Labelled, CodeLess: ms.Unlabelled, NeverClicked: ms.NeverClicked}
			for _, p := range ms.Delay {
				hm.Delay = append(hm.Delay, dashboard.DelayBin{UpTo: p.UpTo, Share: p.Share})
			}
			h.Messengers = append(h.Messengers, hm)
		}
	}
	rows := make([]posterior.ProofRow, 0, len(proof.Rows))
	seen := map[string]bool{}
	for _, r := range proof.Rows {
		if !seen[r.Messenger] {
			seen[r.Messenger] = true
			rows = append(rows, learn.Total(proof.Rows, r.Messenger))
		}
	}
	for _, r := range append(rows, proof.Rows...) {
		pr := dashboard.ProofRow{Messenger: r.Messenger, Period: r.Period, Messages: r.Messages, Answered: r.Answered, Correct: r.Correct,
			Precision: dashboard.Interval{Value: r.Precision.Value, Lo: r.Precision.Lo, Hi: r.Precision.Hi},
			Recall:    dashboard.Interval{Value: r.Recall.Value, Lo: r.Recall.Lo, Hi: r.Recall.Hi}}
		for _, b := range r.Reliability {
			pr.Reliability = append(pr.Reliability, dashboard.ReliabilityBin{Lo: b.Lo, Hi: b.Hi, Answered: b.Answered, Correct: b.Correct, MeanConfidence: b.MeanConfidence})
		}
		h.Proof = append(h.Proof, pr)
	}
	return h, nil
}
