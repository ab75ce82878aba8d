package posterior

import (
	"encoding/json"
	"testing"
	"time"
)

// The live proof on a seeded stream: fitted on the first half, it hides the
// codes of the second half's id matches; what it reports must agree,
// within intervals, with what the simulation knows: the precision and
// recall of the same model on the code-lost chats of clickers in that
// half.
func TestProveMatchesTheSimulation(t *testing.T) {
	site := simSites()[1]
	w := newSimWorld(site, simWorldParams{seed: 77, density: 6, never: 0.25, hours: 2 * clicksPerTargetHalf() / 6, window: DefaultWindow.Seconds()})
	d := w.split()
	m := Fit(DefaultModel(), d.labelled, d.unlabelled)
	rows := Prove(m, d.proof, DefaultTarget, func(time.Time) string { return "second half" })
	truth := map[string]*arm{WhatsApp: {}, Telegram: {}}
	lost := map[string]int{}
	for i := range d.eval {
		e := &d.eval[i]
		if e.truth < 0 {
			continue
		}
		lost[e.msg.Messenger]++
		var cands []Click
		at := -1
		for j, ci := range d.evalCands[i] {
			cands = append(cands, w.clicks[ci].click)
			if ci == e.truth {
				at = j
			}
		}
		probs, _ := Posterior(m, e.msg, cands)
		if b, ok := Decide(probs, DefaultTarget); ok {
			truth[e.msg.Messenger].answered++
			if b == at {
				truth[e.msg.Messenger].correct++
			}
		}
	}
	if len(rows) != 2 {
		t.Fatalf("rows %d, want whatsapp and telegram", len(rows))
	}
	overlap := func(a, b Interval) bool { return a.Lo <= b.Hi && b.Lo <= a.Hi }
	for _, r := range rows {
		tp := Proportion(truth[r.Messenger].correct, truth[r.Messenger].answered)
		tr := Proportion(truth[r.Messenger].correct, lost[r.Messenger])
		t.Logf("%s: proof precision %s recall %s on %d chats; truth precision %s recall %s on %d code-lost chats",
			r.Messenger, pct(r.Precision), pct(r.Recall), r.Messages, pct(tp), pct(tr), lost[r.Messenger])
		if !overlap(r.Precision, tp) || !overlap(r.Recall, tr) {
			t.Errorf("%s: the proof disagrees with the simulation", r.Messenger)
		}
		n := 0
		for _, b := range r.Reliability {
			n += b.Answered
		}
		// Chats with no candidate in the window have no best candidate.
		if n == 0 || n > r.Messages {
			t.Errorf("%s: reliability counts %d of %d chats", r.Messenger, n, r.Messages)
		}
	}
}

func TestPhoneSignals(t *testing.T) {
	at := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		phone   string
		country string
		zone    bool
	}{
		{"79161234567", "RU", false},  // Russian mobile: no time-zone evidence
		{"74951234567", "RU", true},   // Moscow fixed line
		{"12125551234", "US", true},   // New York
		{"4915112345678", "DE", true}, // one offset in the whole country
	}
	for _, tc := range tests {
		c, off, err := PhoneSignals(tc.phone, at)
		if err != nil || c != tc.country || (len(off) > 0) != tc.zone {
			t.Errorf("%s: %q %v %v, want %s zone %v", tc.phone, c, off, err, tc.country, tc.zone)
		}
	}
	if _, _, err := PhoneSignals("x", at); err == nil {
		t.Error("a bad number gave no error")
	}
}

func TestModelJSONAndDecide(t *testing.T) {
	w := newSimWorld(simSites()[0], simWorldParams{seed: 3, density: 12, never: 0.1, hours: 48, window: DefaultWindow.Seconds()})
	d := w.split()
	m := Fit(DefaultModel(), d.labelled, d.unlabelled)
	if m.Version != 1 || m.FittedAt.IsZero() {
		t.Errorf("version %d fitted %v", m.Version, m.FittedAt)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	e := d.eval[0]
	var cands []Click
	for _, ci := range d.evalCands[0] {
		cands = append(cands, w.clicks[ci].click)
	}
	p1, n1 := Posterior(m, e.msg, cands)
	p2, n2 := Posterior(back, e.msg, cands)
	sum := n1
	for i := range p1 {
		sum += p1[i]
		if p1[i] != p2[i] {
			t.Errorf("candidate %d: %v after JSON, %v before", i, p2[i], p1[i])
		}
	}
	if n1 != n2 || sum < 0.999999 || sum > 1.000001 {
		t.Errorf("none %v/%v, sum %v", n1, n2, sum)
	}
	if _, ok := Decide([]float64{0.94, 0.01}, 0.95); ok {
		t.Error("answered below the target")
	}
	if b, ok := Decide([]float64{0.01, 0.96}, 0.95); !ok || b != 1 {
		t.Error("did not answer above the target")
	}
}

// Operators' confirmations are fitted on but never proven on.
func TestProveLeavesOutConfirmations(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	l := Labelled{Message: Message{Time: at, Messenger: WhatsApp, Target: "whatsapp:1"},
		Clicked: Click{At: at.Add(-40 * time.Second)}, Others: []Click{{At: at.Add(-10 * time.Minute)}}}
	confirmed := l
	confirmed.Confirmed = true
	rows := Prove(DefaultModel(), []Labelled{l, confirmed, confirmed}, DefaultTarget, nil)
	if len(rows) != 1 || rows[0].Messages != 1 {
		t.Fatalf("rows %+v, want one message (the id match)", rows)
	}
	if rows := Prove(DefaultModel(), []Labelled{confirmed}, DefaultTarget, nil); len(rows) != 0 {
		t.Fatalf("rows %+v for confirmations only, want none", rows)
	}
}
