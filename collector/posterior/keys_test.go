package posterior

import (
	"testing"
	"time"
)

// A phone country no clicker has, common among code-less messages, is
// likelier someone who never clicked: its "never clicked" weight rises;
// the clickers' own country's falls.
func TestKeyFactorsFollowWhoWritesWithoutAClick(t *testing.T) {
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	msg := func(i int, country string) Message {
		return Message{Time: at.Add(time.Duration(i) * time.Minute), Messenger: WhatsApp, Target: "whatsapp:1", PhoneCountry: country, ClicksPerHour: 6}
	}
	var labelled []Labelled
	for i := range 200 {
		m := msg(i, "DE")
		labelled = append(labelled, Labelled{Message: m, Clicked: Click{At: m.Time.Add(-time.Minute), Country: "DE"},
			Others: []Click{{At: m.Time.Add(-7 * time.Minute), Country: "DE"}}})
	}
	var unlabelled []Unlabelled
	for i := range 300 {
		country := "DE"
		if i%3 == 0 {
			country = "BR"
		}
		m := msg(i, country)
		unlabelled = append(unlabelled, Unlabelled{Message: m, Candidates: []Click{{At: m.Time.Add(-4 * time.Minute), Country: "DE"}}})
	}
	m := Fit(DefaultModel(), labelled, unlabelled)
	keys := m.Messengers[WhatsApp].NeverClicked.Keys
	br, de := keys[messageKey(&Message{PhoneCountry: "BR"})], keys[messageKey(&Message{PhoneCountry: "DE"})]
	if br <= 1 || de >= 1 || br <= 3*de {
		t.Fatalf("key factors BR %.2f, DE %.2f: want BR above 1, DE below, far apart (all %v)", br, de, keys)
	}
	// The factor reaches the posterior: the same click, a BR phone, is
	// less likely the writer's than for a DE phone.
	c := []Click{{At: at.Add(-time.Minute), Country: "DE"}}
	_, noneBR := Posterior(m, Message{Time: at, Messenger: WhatsApp, Target: "whatsapp:1", PhoneCountry: "BR", ClicksPerHour: 6}, c)
	_, noneDE := Posterior(m, Message{Time: at, Messenger: WhatsApp, Target: "whatsapp:1", PhoneCountry: "DE", ClicksPerHour: 6}, c)
	if noneBR <= noneDE {
		t.Fatalf("P(never clicked) BR %.3f, DE %.3f", noneBR, noneDE)
	}
	// Too few labelled examples: no factors.
	if k := Fit(DefaultModel(), labelled[:keyMinLabelled-1], unlabelled).Messengers[WhatsApp].NeverClicked.Keys; len(k) != 0 {
		t.Fatalf("factors from %d labelled examples: %v", keyMinLabelled-1, k)
	}
}
