package wabiz

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/config"
)

// Msg is what is known of one outbound message, merged from every fact.
type Msg struct {
	ID string `json:"id"`
	// Chat is the recipient's chat as the fact being merged names it, to
	// look up the chat's source; it is not kept, so a message's state
	// holds nothing that names the person.
	Chat string `json:"-"`
	// Country is the recipient's, read from their number for the rate
	// card; the number itself is not kept.
	Country string `json:"country,omitempty"`
	// Recorded is when the business recorded sending it (Unix ms; 0 when
	// only statuses are known); Sent, Delivered, Read and Failed are the
	// earliest time of each status (0: not seen).
	Recorded  int64 `json:"rec,omitempty"`
	Sent      int64 `json:"sent,omitempty"`
	Delivered int64 `json:"dlv,omitempty"`
	Read      int64 `json:"read,omitempty"`
	Failed    int64 `json:"fail,omitempty"`
	// Pricing is the statuses' pricing; ConvOwner tells that this message
	// counts its conversation (conversation-based pricing).
	Pricing   *Pricing `json:"pricing,omitempty"`
	ConvOwner bool     `json:"conv_owner,omitempty"`
	// Template, Language and Category are the recorded template's.
	Template string `json:"tpl,omitempty"`
	Language string `json:"lang,omitempty"`
	Category string `json:"cat,omitempty"`
	// Replied and Clicked tell that the person answered (within 24 hours,
	// or quoting it) and that the answer was one of its buttons.
	Replied bool `json:"replied,omitempty"`
	Clicked bool `json:"clicked,omitempty"`
	// Src is the chat's source, taken once when the message is first
	// priced.
	Src *Source `json:"src,omitempty"`
}

// Pricing is a status's pricing as kept.
type Pricing struct {
	Model    string `json:"model"`
	Type     string `json:"type,omitempty"`
	Category string `json:"category"`
	Billable *bool  `json:"billable,omitempty"`
	Conv     string `json:"conv,omitempty"`
	Origin   string `json:"origin,omitempty"`
}

func (p *Pricing) inbound() *inbound.Pricing {
	return &inbound.Pricing{Model: p.Model, Type: p.Type, Category: p.Category, Billable: p.Billable, ConversationID: p.Conv, Origin: p.Origin}
}

// Source is where the message's chat came from.
type Source struct {
	Channel  string `json:"channel"`
	Campaign string `json:"campaign,omitempty"`
	AdID     string `json:"ad_id,omitempty"`
}

// NoChat is the channel of messages whose chat has no record (the person
// never wrote).
const NoChat = "(no chat)"

// ReplyWindow is how long after a template message a person's message
// counts as its reply.
const ReplyWindow = 24 * time.Hour

// minTime keeps the earlier of two Unix ms times, 0 meaning none.
func minTime(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// TakeStatus merges one status into m.
func (m *Msg) TakeStatus(s *inbound.Status) {
	ms := s.Time.UnixMilli()
	switch s.Status {
	case inbound.StatusSent:
		m.Sent = minTime(m.Sent, ms)
	case inbound.StatusDelivered:
		m.Delivered = minTime(m.Delivered, ms)
	case inbound.StatusRead:
		m.Read = minTime(m.Read, ms)
	case inbound.StatusFailed:
		m.Failed = minTime(m.Failed, ms)
	}
	m.Chat = s.Chat
	if m.Country == "" {
		m.Country = Country(s.Phone)
	}
	if p := s.Pricing; p != nil {
		np := &Pricing{Model: p.Model, Type: p.Type, Category: p.Category, Billable: p.Billable, Conv: p.ConversationID, Origin: p.Origin}
		// Statuses of one message carry the same pricing; should two
		// differ, the more complete one is kept, else the first in a
		// fixed order, so the order of arrival never decides.
		if m.Pricing == nil || np.rank() < m.Pricing.rank() {
			m.Pricing = np
		}
	}
}

// rank orders pricings: more fields first, then by their values.
func (p *Pricing) rank() string {
	filled := 0
	for _, v := range []string{p.Model, p.Type, p.Category, p.Conv, p.Origin} {
		if v != "" {
			filled++
		}
	}
	billable := "-"
	if p.Billable != nil {
		filled++
		billable = strconv.FormatBool(*p.Billable)
	}
	return strings.Join([]string{strconv.Itoa(9 - filled), p.Model, p.Type, p.Category, p.Conv, p.Origin, billable}, "\x00")
}

// At is the message's send time (Unix ms): when it was recorded, else its
// earliest status; 0 when nothing but replies is known.
func (m *Msg) At() int64 {
	if m.Recorded != 0 {
		return m.Recorded
	}
	return minTime(minTime(minTime(m.Sent, m.Delivered), m.Read), m.Failed)
}

// delivered tells whether the message reached the phone: delivered, or
// read (a read message may come without its delivered status).
func (m *Msg) delivered() bool { return m.Delivered != 0 || m.Read != 0 }

// Billed tells whether the message is a priced unit: delivered with
// pricing, and for conversation-based pricing the message that counts its
// conversation (ConvNeeded says whether that is still to be decided).
func (m *Msg) Billed() bool {
	if !m.delivered() || m.Pricing == nil {
		return false
	}
	if m.Pricing.Model == "CBP" && m.Pricing.Conv != "" {
		return m.ConvOwner
	}
	return true
}

// ConvNeeded tells whether the message's conversation must be claimed
// before it can be counted.
func (m *Msg) ConvNeeded() bool {
	return m.delivered() && m.Pricing != nil && m.Pricing.Model == "CBP" && m.Pricing.Conv != "" && !m.ConvOwner
}

// Counter names one counter: which hash (KindDay or KindTemplate), its day
// and field.
type Counter struct {
	Kind  string `json:"k"`
	Day   string `json:"d"`
	Field string `json:"f"`
}

// The counter hashes.
const (
	KindDay      = "d"
	KindTemplate = "t"
)

// sep joins a field's parts: no cleaned name holds it.
const sep = "\x1f"

// Micros is an amount in millionths of the currency.
func Micros(price float64) int64 { return int64(math.Round(price * 1e6)) }

// Country is the recipient's country (ISO 3166 alpha-2) from their number,
// "" when it tells none.
func Country(phone string) string {
	if phone == "" {
		return ""
	}
	num, err := phonenumbers.Parse("+"+phone, "")
	if err != nil {
		return ""
	}
	if rc := phonenumbers.GetRegionCodeForNumber(num); rc != "" && rc != "ZZ" {
		return rc
	}
	return ""
}

// Price is what the billed unit costs by the site's rate card; ok is false
// when the card has no line for it.
func Price(m *Msg, st *config.Site) (micros int64, ok bool) {
	per := config.RatePerMessage
	if m.Pricing.Model == "CBP" {
		per = config.RatePerConversation
	}
	p, ok := st.WhatsAppRate(per, m.Pricing.Category, m.Country)
	if !ok {
		return 0, false
	}
	return Micros(p), true
}

// Contributions are what m adds to the counters now: the whole truth about
// one message, so that a change of its state moves the counters by the
// difference.
func Contributions(m *Msg, st *config.Site) map[Counter]int64 {
	at := m.At()
	if at == 0 {
		return nil
	}
	day := time.UnixMilli(at).In(st.Location).Format("2006-01-02")
	out := map[Counter]int64{}
	add := func(kind, field string, n int64) {
		if n != 0 {
			out[Counter{Kind: kind, Day: day, Field: field}] += n
		}
	}
	var cost int64
	var billedPaid bool
	if m.Billed() {
		pr := m.Pricing.inbound()
		cat := m.Pricing.Category
		src := m.Src
		if src == nil {
			src = &Source{Channel: NoChat}
		}
		srcField := "src|" + src.Channel + sep + src.Campaign + sep + src.AdID
		if pr.EntryPoint() {
			add(KindDay, "fep|"+cat, 1)
		}
		if pr.Free() {
			add(KindDay, "free|"+cat, 1)
			add(KindDay, srcField+"|free", 1)
		} else {
			billedPaid = true
			add(KindDay, "paid|"+cat, 1)
			add(KindDay, srcField+"|paid", 1)
			if c, ok := Price(m, st); ok {
				cost = c
				add(KindDay, "spend|"+cat, c)
				add(KindDay, srcField+"|spend", c)
			} else {
				add(KindDay, "nocard|"+cat, 1)
			}
		}
	}
	if m.Template != "" {
		t := m.Template + sep
		add(KindTemplate, t+"sent", 1)
		if m.delivered() {
			add(KindTemplate, t+"delivered", 1)
		} else if m.Failed != 0 {
			add(KindTemplate, t+"failed", 1)
		}
		if m.Read != 0 {
			add(KindTemplate, t+"read", 1)
		}
		if m.Replied {
			add(KindTemplate, t+"replied", 1)
		}
		if m.Clicked {
			add(KindTemplate, t+"clicked", 1)
		}
		if billedPaid {
			add(KindTemplate, t+"paid", 1)
			add(KindTemplate, t+"cost", cost)
		}
	}
	return out
}

// cleanName is a template, campaign or channel name as counted: one line,
// no separator, at most 120 runes.
func cleanName(s string) string {
	s = inbound.CleanName(s)
	s = strings.ReplaceAll(s, sep, "")
	s = strings.ReplaceAll(s, "|", "/")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120])
	}
	return s
}
