package posterior

import (
	"fmt"
	"testing"
	"time"
)

// benchSet is a fitted model, a message and n candidates.
func benchSet(b *testing.B, n int) (Model, Message, []Click) {
	w := newSimWorld(simSites()[1], simWorldParams{seed: 9, density: 30, never: 0.25, hours: 48, window: DefaultWindow.Seconds()})
	d := w.split()
	m := Fit(DefaultModel(), d.labelled, d.unlabelled)
	msg := Message{Time: w.start.Add(100 * time.Hour), Messenger: WhatsApp, Target: "whatsapp:1", PhoneCountry: "US", PhoneOffsets: []int{-5 * hour}, ClicksPerHour: 30}
	cands := make([]Click, n)
	for i := range cands {
		c := w.clicks[i%len(w.clicks)].click
		c.At = msg.Time.Add(-time.Duration(i+1) * DefaultWindow / time.Duration(n+1))
		cands[i] = c
	}
	return m, msg, cands
}

func BenchmarkPosterior(b *testing.B) {
	for _, n := range []int{5, 50} {
		b.Run(fmt.Sprintf("%d candidates", n), func(b *testing.B) {
			m, msg, cands := benchSet(b, n)
			b.ReportAllocs()
			for b.Loop() {
				probs, _ := Posterior(m, msg, cands)
				Decide(probs, DefaultTarget)
			}
		})
	}
}

func BenchmarkTodaysFormula(b *testing.B) {
	for _, n := range []int{5, 50} {
		b.Run(fmt.Sprintf("%d candidates", n), func(b *testing.B) {
			_, msg, cands := benchSet(b, n)
			tm := todayMessage{Time: msg.Time, Country: msg.PhoneCountry, Offsets: msg.PhoneOffsets}
			weights := make([]float64, n)
			b.ReportAllocs()
			for b.Loop() {
				todayDecide(&tm, cands, weights)
			}
		})
	}
}
