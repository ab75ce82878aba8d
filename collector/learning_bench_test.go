package collector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/learn"
	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/collector/visit"
)

// BenchmarkMatcherLearned is the matcher's time for one code-less first
// message on a busy number (30 candidate clicks in the window), on a real
// Redis: today's formula (no model fitted), the learned model, and keeping
// the message as an example afterwards.
//
//	go test ./collector -run X -bench MatcherLearned
func BenchmarkMatcherLearned(b *testing.B) {
	ctx := context.Background()
	w := newTestWorld(b)
	st := w.demoSite()
	zones := []string{"America/New_York", "Europe/Berlin", "Asia/Kolkata", "America/Denver"}
	for i := range 30 {
		w.clock.Set(testStart.Add(time.Duration(i) * time.Minute))
		v := &visit.Visit{Time: w.clock.Now(), Page: "https://shop.test/", Landing: "https://shop.test/", VisitorID: fmt.Sprintf("visitor-%d", i),
			Language: "en-US", TimeZone: zones[i%len(zones)], Country: "US"}
		if err := w.srv.saveVisit(ctx, st, v); err != nil {
			b.Fatal(err)
		}
		if err := w.srv.recordClick(ctx, st, v.N, "whatsapp:15551234567", ""); err != nil {
			b.Fatal(err)
		}
	}
	at := testStart.Add(30 * time.Minute)
	w.clock.Set(at)
	in := &inbound.Message{Messenger: "whatsapp", Chat: "whatsapp:12125551234", Phone: "12125551234", Target: "whatsapp:15551234567",
		Text: "Hello", Time: at}
	run := func(b *testing.B) {
		for b.Loop() {
			if _, err := w.srv.match(ctx, st, in); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("today's formula", run)
	for i := range learn.MinLabelled {
		m := at.Add(-time.Duration(i) * time.Hour)
		l := posterior.Labelled{Message: learn.MessageOf(m, "whatsapp", in.Target, "12125551234", "", "", 30),
			Clicked: posterior.Click{At: m.Add(-90 * time.Second), Country: "US", Offset: -18000, HasOffset: true},
			Others:  []posterior.Click{{At: m.Add(-10 * time.Minute), Country: "US", Offset: 3600, HasOffset: true}}}
		if err := w.srv.learn.AddLabelled(ctx, "demo", &l); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.srv.Refit(ctx, "demo"); err != nil {
		b.Fatal(err)
	}
	conv, err := w.srv.match(ctx, st, in)
	if err != nil || len(conv.Candidates) != 30 || !learnedReason(conv) {
		b.Fatalf("the learned model did not answer: %v %+v", err, conv)
	}
	b.Run("learned model", run)
	b.Run("keeping the example", func(b *testing.B) {
		for b.Loop() {
			w.srv.learnFrom(ctx, st, in, conv)
		}
	})
}

func learnedReason(conv *conversation) bool {
	for _, r := range conv.Candidates[0].Reasons {
		if len(r) > 15 && r[:15] == "learned model v" {
			return true
		}
	}
	return false
}
