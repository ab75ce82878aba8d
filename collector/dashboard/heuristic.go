package dashboard

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gofiber/fiber/v2"
)

// HeuristicSource gives the heuristic page its data: the site's learned
// model and its live proof.
type HeuristicSource interface {
	Heuristic(ctx context.Context, site string) (*Heuristic, error)
}

// Heuristic is what the page shows of a site's learned heuristic.
type Heuristic struct {
	PrecisionTarget float64
	MinLabelled     int
	// Version is 0 before the first fit.
	Version    int
	FittedAt   time.Time
	Messengers []HeuristicMessenger
	// Proof has one row per messenger over all periods, then one per
	// messenger and month.
	Proof      []ProofRow
	Confidence string
}

// HeuristicMessenger is what was learned for one messenger.
type HeuristicMessenger struct {
	Name         string
	InUse        bool
	Labelled     int
	CodeLess     int
	NeverClicked float64
	// Delay is the share of writers per delay bin, ending at UpTo
	// seconds after the click.
	Delay []DelayBin
}

// DelayBin is one bin of the delay curve.
type DelayBin struct {
	UpTo  float64
	Share float64
}

// ProofRow is the live proof of one messenger and period.
type ProofRow struct {
	Messenger, Period           string
	Messages, Answered, Correct int
	Precision, Recall           Interval
	Reliability                 []ReliabilityBin
}

// Interval is a proportion with its 95 % interval.
type Interval struct{ Value, Lo, Hi float64 }

// ReliabilityBin is one confidence decile of the proof.
type ReliabilityBin struct {
	Lo, Hi            float64
	Answered, Correct int
	MeanConfidence    float64
}

// routesHeuristic registers the heuristic page, when there is a source.
func (d *Dashboard) routesHeuristic(g fiber.Router) {
	if d.heuristic == nil {
		return
	}
	g.Get("/heuristic", d.requireSession, d.handleHeuristicPage)
}

// heuristicView is the page's data, formatted.
type heuristicView struct {
	Target     string
	Min        int
	Version    int
	FittedAt   string
	Messengers []messengerView
	Proof      []proofView
	Confidence string
}

type messengerView struct {
	Name, Use, NeverClicked string
	Labelled, CodeLess      int
	Chart                   delayChart
}

type proofView struct {
	Messenger, Period           string
	Messages, Answered, Correct int
	Precision, Recall           string
	Bins                        []binView
}

type binView struct {
	Range, Accuracy, Mean string
	Answered, Correct     int
}

// delayChart is the delay curve as SVG bars, in the chart's own units.
type delayChart struct {
	Width, Height int
	Bars          []delayBar
	Labels        []delayLabel
}

type delayBar struct {
	X, Y, W, H float64
	Title      string
}

type delayLabel struct {
	X            float64
	Text, Anchor string
}

func (d *Dashboard) handleHeuristicPage(c *fiber.Ctx) error {
	st, f, err := d.signedInSite(c)
	if err != nil {
		return err
	}
	h, err := d.heuristic.Heuristic(c.UserContext(), st.Name)
	if err != nil {
		return err
	}
	v := heuristicView{Target: f.Percent(h.PrecisionTarget), Min: h.MinLabelled, Version: h.Version, Confidence: h.Confidence}
	if h.Version > 0 {
		v.FittedAt = h.FittedAt.In(st.Location).Format("2006-01-02 15:04")
	}
	for _, m := range h.Messengers {
		use := "today's formula answers"
		if m.InUse {
			use = "the learned model answers"
		}
		v.Messengers = append(v.Messengers, messengerView{Name: m.Name, Use: use, NeverClicked: f.Percent(m.NeverClicked),
			Labelled: m.Labelled, CodeLess: m.CodeLess, Chart: chartOfDelay(m.Delay)})
	}
	iv := func(i Interval) string {
		return fmt.Sprintf("%s [%s, %s]", f.Percent(i.Value), f.Percent(i.Lo), f.Percent(i.Hi))
	}
	for _, r := range h.Proof {
		p := proofView{Messenger: r.Messenger, Period: r.Period, Messages: r.Messages, Answered: r.Answered, Correct: r.Correct,
			Precision: iv(r.Precision), Recall: iv(r.Recall)}
		if r.Answered == 0 {
			p.Precision = "—"
		}
		for _, b := range r.Reliability {
			bv := binView{Range: fmt.Sprintf("%.1f–%.1f", b.Lo, b.Hi), Answered: b.Answered, Correct: b.Correct, Accuracy: "—", Mean: "—"}
			if b.Answered > 0 {
				bv.Accuracy, bv.Mean = f.Percent(float64(b.Correct)/float64(b.Answered)), fmt.Sprintf("%.2f", b.MeanConfidence)
			}
			p.Bins = append(p.Bins, bv)
		}
		v.Proof = append(v.Proof, p)
	}
	return d.renderPage(c, fiber.StatusOK, "heuristic", pageData{Title: "Heuristic", Nav: "heuristic", Body: v})
}

// chartOfDelay draws the delay bins as equal-width bars, heights by share.
func chartOfDelay(bins []DelayBin) delayChart {
	const width, height, top = 600, 160, 10
	ch := delayChart{Width: width, Height: height + 20}
	if len(bins) == 0 {
		return ch
	}
	peak := 0.0
	for _, b := range bins {
		peak = math.Max(peak, b.Share)
	}
	w := float64(width) / float64(len(bins))
	for i, b := range bins {
		h := 0.0
		if peak > 0 {
			h = b.Share / peak * (height - top)
		}
		ch.Bars = append(ch.Bars, delayBar{X: float64(i) * w, Y: height - h, W: w - 1, H: h,
			Title: fmt.Sprintf("up to %s: %.1f %%", seconds(b.UpTo), 100*b.Share)})
		switch {
		case i == len(bins)-1:
			ch.Labels = append(ch.Labels, delayLabel{X: float64(i+1) * w, Text: seconds(b.UpTo), Anchor: "end"})
		case i%4 == 3 && i < len(bins)-3:
			ch.Labels = append(ch.Labels, delayLabel{X: float64(i+1) * w, Text: seconds(b.UpTo), Anchor: "middle"})
		}
	}
	return ch
}

// seconds shows a delay briefly: 2 s, 45 s, 3 min, 30 min.
func seconds(s float64) string {
	if s < 90 {
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%.0f min", s/60)
}
