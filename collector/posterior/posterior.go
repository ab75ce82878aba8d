package posterior

import (
	"time"
)

// Message is a first message without a code, as the matcher sees it.
type Message struct {
	Time time.Time `json:"time"`
	// Messenger is whatsapp, telegram or a generic channel's name.
	Messenger string `json:"messenger"`
	// Target is the number or bot written to, in the click index's form.
	Target string `json:"target"`
	// PhoneCountry is the sender's phone country (ISO 3166 alpha-2), ""
	// when there is no phone (Telegram) or it is unknown.
	PhoneCountry string `json:"phone_country,omitempty"`
	// PhoneOffsets are the UTC offsets in seconds, at the message's time,
	// the phone number's geography allows; nil when the number carries no
	// time-zone evidence (no phone, or a non-geographic range such as a
	// Russian mobile). PhoneSignals fills both.
	PhoneOffsets []int `json:"phone_offsets,omitempty"`
	// Language is the Telegram user's language_code.
	Language string `json:"language,omitempty"`
	// ClicksPerHour is the target's click rate around the message (the
	// collector counts the clicks of the hour before it). 0 means unknown:
	// the candidates in the window stand for it.
	ClicksPerHour float64 `json:"clicks_per_hour,omitempty"`
}

// Click is a candidate: a visit's click on the target within the window
// before the message, not already matched.
type Click struct {
	At time.Time `json:"at"`
	// Country is the visit's IP country.
	Country string `json:"country,omitempty"`
	// Offset is the visit's UTC offset in seconds at the message's time
	// (the browser's time zone, else the IP's); HasOffset tells it is
	// known.
	Offset    int  `json:"offset,omitempty"`
	HasOffset bool `json:"has_offset,omitempty"`
	// Language is the browser language.
	Language string `json:"language,omitempty"`
	// OtherVisits is set when the visitor has other visits or devices.
	OtherVisits bool `json:"other_visits,omitempty"`
}

// Posterior returns the probability that each candidate click led to the
// message, and that none did (the writer never clicked, or clicked before
// the window). probs[i] belongs to cands[i]; they and pNone sum to 1.
// Clicks of one visitor may be added up: they are the same person.
func Posterior(m Model, msg Message, cands []Click) (probs []float64, pNone float64) {
	probs = make([]float64, len(cands))
	pNone = posteriorInto(&m, &msg, cands, probs)
	return probs, pNone
}

// posteriorInto writes the candidates' probabilities into probs and
// returns that of "never clicked".
func posteriorInto(m *Model, msg *Message, cands []Click, probs []float64) float64 {
	mm := m.messenger(msg.Messenger)
	lrs := mm.evidenceLRs(msg)
	var total float64
	for i := range cands {
		w := clickWeight(mm, msg, &cands[i], lrs)
		probs[i] = w
		total += w
	}
	b := mm.NeverClicked.ratio(msg.Target, msg.Time) * clickRate(m, msg, len(cands))
	if len(mm.NeverClicked.Keys) > 0 {
		b *= keyFactor(mm.NeverClicked.Keys, messageKey(msg))
	}
	total += b
	if total <= 0 {
		clear(probs)
		return 1
	}
	for i := range probs {
		probs[i] /= total
	}
	return b / total
}

// clickWeight is the unnormalised posterior weight of one candidate: the
// delay density at its gap (over its survival) times its evidence's
// likelihood ratios (lrs, the message's per evidence cell; nil is none).
func clickWeight(mm *MessengerModel, msg *Message, c *Click, lrs []float64) float64 {
	gap := msg.Time.Sub(c.At).Seconds()
	w := mm.Delay.weight(gap)
	if w == 0 {
		return 0
	}
	if cell := cellOf(msg, c); cell < len(lrs) {
		w *= lrs[cell]
	}
	v := 0
	if c.OtherVisits {
		v = 1
	}
	return w * mm.Visits.lr(v)
}

// clickRate is the target's clicks per second at the message: the one the
// collector gave, else the candidates in the window (at least one per
// window).
func clickRate(m *Model, msg *Message, n int) float64 {
	if msg.ClicksPerHour > 0 {
		return msg.ClicksPerHour / 3600
	}
	w := m.WindowSeconds
	if w <= 0 {
		w = DefaultWindow.Seconds()
	}
	return float64(max(n, 1)) / w
}

// Decide returns the most probable candidate when its probability is at
// least target, the precision the site chose (DefaultTarget when target is
// not in (0, 1]).
//
// Why this gives precision ≥ target: the model is calibrated when, among
// answers given with probability p, a share p is right. Every answer is
// given with p ≥ target, so the expected share of right answers is the
// average of their p's, which is ≥ target. Calibration is what the fitting
// aims at and what the simulation and the live proof (Prove) measure.
func Decide(probs []float64, target float64) (best int, ok bool) {
	if target <= 0 || target > 1 {
		target = DefaultTarget
	}
	best = bestOf(probs)
	if best < 0 || probs[best] < target {
		return -1, false
	}
	return best, true
}
