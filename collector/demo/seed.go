package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// Seed fills a demo site with a month of made-up traffic.
//
// Every fact goes through the collector's own endpoints, the way the
// snippet, Meta, Telegram and a CRM would send it: visits and chat-link taps
// (POST /v1/visits, /v1/clicks), QR scans (GET /q/…), signed WhatsApp
// notifications and Telegram updates (/hooks/…), purchases (the events API)
// and ad costs (the costs API). The collector's clock is moved to each
// fact's time first, so the month is recorded as if it had happened.

// SeedOptions say what to make.
type SeedOptions struct {
	// Site is the demo site to fill; it must have demo: true.
	Site string
	// Days is how many whole days before End's day are filled.
	Days int
	// End is now; the last day filled is the day before it.
	End time.Time
	// Seed makes the month repeatable.
	Seed uint64
}

// Summary is what Seed put in: the reports over [From, To] show exactly
// these numbers.
type Summary struct {
	Site     string `json:"site"`
	From     string `json:"from"`
	To       string `json:"to"`
	Visits   int    `json:"visits"`
	Clicks   int    `json:"clicks"`
	Scans    int    `json:"scans"`
	Chats    int    `json:"chats"`
	Messages int    `json:"messages"`
	// Conversations counts the conversations started per channel
	// ("unattributed" for chats matched to nothing).
	Conversations map[string]int64 `json:"conversations"`
	// Methods counts them per match method.
	Methods map[string]int64 `json:"methods"`
	// Ads counts the conversations per ad ID (click-to-WhatsApp ads and
	// web campaigns).
	Ads map[string]int64 `json:"ads"`
	// Conversions and Revenue per channel: the purchases that converted.
	Conversions map[string]int64   `json:"conversions"`
	Revenue     map[string]float64 `json:"revenue"`
	// Costs per ad ID over the month, and the cost rows uploaded.
	Costs    map[string]float64 `json:"costs"`
	CostRows int                `json:"cost_rows"`
	// Unmatched are the chats left for an operator, each with two
	// candidates.
	Unmatched []string `json:"unmatched"`
}

// ErrNotDemo refuses a site that is not the demo's.
var ErrNotDemo = errors.New("not a demo site (demo: true in its config): demo data is only ever written to the demo")

// step is one fact at its time.
type step struct {
	at time.Time
	// seq keeps the plan's order among steps at the same instant.
	seq int
	do  func(ctx context.Context) error
}

// seeder holds a run's state.
type seeder struct {
	cl    *Client
	site  *config.Site
	rng   *rand.Rand
	steps []step
	sum   *Summary
	// people who wrote before, for repeat chats.
	people []*person
	nextID int
	// seen are the chats made so far.
	seen map[string]bool
}

// person is a made-up customer: a WhatsApp number or Telegram account.
type person struct {
	name    string
	phone   string
	tgID    int64
	lang    string
	visitor string
	tz      int
	// day is the day the person last started a conversation; a person
	// comes back on a later day only, after any purchase of the last one.
	day time.Time
}

// Seed makes the month through do, moving clock; the collector behind do
// must run on clock.
func Seed(ctx context.Context, do Doer, clock *store.ManualClock, cfg *config.Config, opt SeedOptions) (*Summary, error) {
	st := cfg.Sites[opt.Site]
	if st == nil {
		return nil, fmt.Errorf("demo.Seed: no site %q in %s", opt.Site, cfg.Path)
	}
	if !st.Demo {
		return nil, fmt.Errorf("demo.Seed: site %q of %s: %w", opt.Site, cfg.Path, ErrNotDemo)
	}
	if opt.Days < 1 || opt.Days > 366 {
		return nil, fmt.Errorf("demo.Seed: days must be 1 to 366, not %d", opt.Days)
	}
	if len(st.WhatsApp) == 0 || len(st.Telegram.Bots) == 0 || st.WhatsAppAppSecret == "" || st.TelegramSecretToken == "" {
		return nil, fmt.Errorf("demo.Seed: site %q needs a WhatsApp number with its app secret and a Telegram bot with its secret token", opt.Site)
	}
	loc := st.Location
	if loc == nil {
		loc = time.UTC
	}
	endDay := time.Date(opt.End.In(loc).Year(), opt.End.In(loc).Month(), opt.End.In(loc).Day(), 0, 0, 0, 0, loc)
	first := endDay.AddDate(0, 0, -opt.Days)
	s := &seeder{
		cl:   NewClient(do, st, cfg.PublicURL),
		site: st,
		rng:  rand.New(rand.NewPCG(opt.Seed, 0x6d657373)),
		sum: &Summary{
			Site: st.Name, From: first.Format(time.DateOnly), To: endDay.AddDate(0, 0, -1).Format(time.DateOnly),
			Conversations: map[string]int64{}, Methods: map[string]int64{}, Ads: map[string]int64{},
			Conversions: map[string]int64{}, Revenue: map[string]float64{}, Costs: map[string]float64{},
		},
	}
	for d := 0; d < opt.Days; d++ {
		s.planDay(first.AddDate(0, 0, d), d)
	}
	sort.SliceStable(s.steps, func(i, j int) bool {
		if !s.steps[i].at.Equal(s.steps[j].at) {
			return s.steps[i].at.Before(s.steps[j].at)
		}
		return s.steps[i].seq < s.steps[j].seq
	})
	for _, st := range s.steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("demo.Seed: %w", err)
		}
		clock.Set(st.at)
		if err := st.do(ctx); err != nil {
			return nil, fmt.Errorf("demo.Seed: at %s: %w", st.at.Format(time.RFC3339), err)
		}
	}
	clock.Set(opt.End)
	if err := s.uploadCosts(ctx, first, opt.Days); err != nil {
		return nil, fmt.Errorf("demo.Seed: %w", err)
	}
	return s.sum, nil
}

// at schedules fn.
func (s *seeder) at(t time.Time, fn func(ctx context.Context) error) {
	s.steps = append(s.steps, step{at: t, seq: len(s.steps), do: fn})
}

// webSource is a kind of web traffic: how its visits arrive and the channel
// the collector classifies them into.
type webSource struct {
	channel  string
	query    string // UTM tags and click IDs, without "?"
	referrer string
	campaign string // the ad ID reports show: utm_campaign
	weight   int
}

// The web traffic mix. The campaigns are named demo-… so that they read as
// demo data wherever they show.
var webSources = []webSource{
	{channel: "organic_search", referrer: "https://www.google.com/", weight: 6},
	{channel: "paid_search", query: "utm_source=google&utm_medium=cpc&utm_campaign=demo-same-day-delivery&gclid=", campaign: "demo-same-day-delivery", weight: 5},
	{channel: "paid_social", query: "utm_source=facebook&utm_medium=paid_social&utm_campaign=demo-mothers-day&fbclid=", campaign: "demo-mothers-day", weight: 4},
	{channel: "social", referrer: "https://www.instagram.com/", weight: 3},
	{channel: "email", query: "utm_source=newsletter&utm_medium=email&utm_campaign=demo-weekly-bouquets", campaign: "demo-weekly-bouquets", weight: 2},
	{channel: "referral", referrer: "https://weddings.example/best-florists", weight: 2},
	{channel: "direct", weight: 3},
}

// ctwaAd is a click-to-WhatsApp ad with its daily budget.
type ctwaAd struct {
	id, headline, body string
	budget             float64
	weight             int
}

var ctwaAds = []ctwaAd{
	{id: "120210000000000101", headline: "[demo] Tulip week: 15 tulips $39", body: "Tap to order in WhatsApp", budget: 18, weight: 4},
	{id: "120210000000000102", headline: "[demo] Roses delivered today", body: "Same-day delivery in town", budget: 25, weight: 3},
	{id: "120210000000000103", headline: "[demo] Wedding flowers consultation", body: "Chat with our florist", budget: 12, weight: 1},
}

// pages where the chat buttons are tapped.
var pages = []string{"/", "/", "/", "/#bouquets", "/#contact"}

var firstNames = []string{"Anna", "Maria", "Lucas", "Sofia", "James", "Olga", "Diego", "Emma", "Noah", "Layla",
	"Ivan", "Chloe", "Omar", "Mia", "Pedro", "Grace", "Yusuf", "Elena", "Liam", "Zara"}

// A country's number prefix, browser language and UTC offset in minutes.
var countries = []struct {
	prefix, lang string
	tz           int
}{
	{"1555", "en-US", -300}, {"1555", "en-US", -300}, {"1555", "en-US", -480}, {"44770", "en-GB", 0},
	{"34612", "es-ES", 60}, {"55119", "pt-BR", -180}, {"7916", "ru-RU", 180},
}

// newPerson makes a customer; names end in "(demo)" wherever they show.
func (s *seeder) newPerson() *person {
	s.nextID++
	c := countries[s.rng.IntN(len(countries))]
	p := &person{
		name:    fmt.Sprintf("%s %c. (demo)", firstNames[s.rng.IntN(len(firstNames))], 'A'+rune(s.rng.IntN(26))),
		phone:   fmt.Sprintf("%s%0*d", c.prefix, 11-len(c.prefix)+1, 100000+s.nextID*7919%900000),
		tgID:    int64(7_000_000_000 + s.nextID*104729),
		lang:    c.lang,
		visitor: fmt.Sprintf("demo-visitor-%05d", s.nextID),
		tz:      c.tz,
	}
	return p
}

// customer is a new person, or now and then one who wrote on an earlier
// day, for the new-vs-repeat report.
func (s *seeder) customer(day time.Time) *person {
	if len(s.people) > 5 && s.rng.IntN(100) < 15 {
		if p := s.people[s.rng.IntN(len(s.people))]; p.day.Before(day) {
			p.day = day
			return p
		}
	}
	p := s.newPerson()
	p.day = day
	s.people = append(s.people, p)
	return p
}

// pick chooses by weight.
func pick[T any](rng *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := rng.IntN(total)
	for _, it := range items {
		if n -= weight(it); n < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// planDay schedules one day's stories between 8:00 and 21:00, more at the
// weekend, a little growth over the month.
func (s *seeder) planDay(day time.Time, d int) {
	busy := 1.0 + float64(d)/60
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		busy *= 1.3
	}
	n := func(mean float64) int {
		m := mean * busy
		k := int(m)
		if s.rng.Float64() < m-float64(k) {
			k++
		}
		return k
	}
	when := func() time.Time {
		return day.Add(8*time.Hour + time.Duration(s.rng.Int64N(int64(13*time.Hour))))
	}
	for range n(6) {
		s.browse(when())
	}
	for range n(3.2) {
		s.webChat(when(), "whatsapp")
	}
	for range n(1.2) {
		s.webChat(when(), "bot")
	}
	for range n(0.5) {
		s.webChat(when(), "user")
	}
	for range n(2.4) {
		s.adChat(when())
	}
	for range n(0.6) {
		s.scanChat(when())
	}
	for range n(0.4) {
		s.billboardChat(when())
	}
	if s.rng.IntN(100) < 22 {
		s.unmatchedChat(when())
	}
}

// hit is a visit of a web source to a page at t.
func (s *seeder) hit(src webSource, p *person, page string) Hit {
	u := s.cl.Page + page
	if src.query != "" {
		q := src.query
		if strings.HasSuffix(q, "=") {
			q += fmt.Sprintf("demo%08x", s.rng.Uint32())
		}
		if i := strings.IndexByte(page, '#'); i >= 0 {
			u = s.cl.Page + page[:i] + "?" + q + page[i:]
		} else {
			u += "?" + q
		}
	}
	return Hit{URL: u, Referrer: src.referrer, Lang: p.lang, TZ: p.tz, Visitor: p.visitor}
}

// browse is a visit that writes to nobody.
func (s *seeder) browse(t time.Time) {
	src := pick(s.rng, webSources, func(w webSource) int { return w.weight })
	p := s.newPerson()
	h := s.hit(src, p, pages[s.rng.IntN(len(pages))])
	s.at(t, func(ctx context.Context) error {
		_, err := s.cl.Visit(ctx, h)
		if err == nil {
			s.sum.Visits++
		}
		return err
	})
}

// conversation counts a started conversation.
func (s *seeder) conversation(channel, method, ad string) {
	s.sum.Conversations[channel]++
	s.sum.Methods[method]++
	if ad != "" {
		s.sum.Ads[ad]++
	}
}

// maybeBuy schedules, for some conversations, a purchase a few hours later
// (well before the chat could start another conversation), and now and
// then a second message.
func (s *seeder) maybeBuy(t time.Time, channel string, chat func() string, again func(ctx context.Context, at time.Time) error) {
	if s.rng.IntN(100) < 45 {
		at := t.Add(time.Duration(2+s.rng.IntN(30)) * time.Minute)
		s.at(at, func(ctx context.Context) error { return again(ctx, at) })
	}
	if s.rng.IntN(100) >= 38 {
		return
	}
	value := float64(29 + s.rng.IntN(9)*10)
	at := t.Add(time.Duration(60+s.rng.IntN(300)) * time.Minute)
	s.at(at, func(ctx context.Context) error {
		if _, err := s.cl.Event(ctx, chat(), "purchase", value, fmt.Sprintf("demo-order-%d", at.UnixMilli()), at); err != nil {
			return err
		}
		s.sum.Conversions[channel]++
		s.sum.Revenue[channel] += value
		return nil
	})
}

// followUps are the second messages of a conversation.
var followUps = []string{"Can you deliver by 5 pm?", "Thank you!", "Is a card included?", "Paid, thanks", "Could you add a ribbon?"}

// send posts a person's WhatsApp message to number at the clock's time.
func (s *seeder) sendWhatsApp(ctx context.Context, p *person, number, text string, at time.Time, ref *Referral) error {
	s.sum.Messages++
	_, err := s.cl.WhatsApp(ctx, WhatsAppText{
		To: number, From: p.phone, Name: p.name, Text: text, Time: at, Referral: ref,
		ID: fmt.Sprintf("wamid.demo.%s.%d", p.phone, at.UnixMilli()),
	})
	return err
}

func (s *seeder) sendTelegram(ctx context.Context, p *person, account string, business bool, text string, at time.Time) error {
	s.sum.Messages++
	first, last, _ := strings.Cut(p.name, " ")
	_, err := s.cl.Telegram(ctx, account, TelegramText{
		UpdateID: at.UnixMilli(), MessageID: at.Unix() % 1_000_000, UserID: p.tgID, FirstName: first, LastName: last,
		Language: strings.SplitN(p.lang, "-", 2)[0], Text: text, Time: at, Business: business,
	})
	return err
}

// newChat counts a chat the first time a person writes on a messenger.
func (s *seeder) newChat(seen map[string]bool, key string) {
	if !seen[key] {
		seen[key] = true
		s.sum.Chats++
	}
}

// webChat is a visit whose visitor taps a chat button and writes with the
// code: WhatsApp, the Telegram bot (start payload) or the Telegram account.
func (s *seeder) webChat(t time.Time, kind string) {
	src := pick(s.rng, webSources, func(w webSource) int { return w.weight })
	p := s.customer(dayOf(t))
	page := pages[s.rng.IntN(len(pages))]
	h := s.hit(src, p, page)
	tap := t.Add(time.Duration(20+s.rng.IntN(240)) * time.Second)
	write := tap.Add(time.Duration(15+s.rng.IntN(90)) * time.Second)
	var ans VisitAnswer
	var target, chat string
	switch kind {
	case "whatsapp":
		target, chat = "whatsapp:"+s.site.WhatsApp[0].Number, "whatsapp:"+p.phone
	case "bot":
		target, chat = "telegram:"+s.site.Telegram.Bots[0], "telegram:"+strconv.FormatInt(p.tgID, 10)
	default:
		if len(s.site.Telegram.Users) == 0 {
			return
		}
		target, chat = "telegram:"+s.site.Telegram.Users[0], "telegram:"+strconv.FormatInt(p.tgID, 10)
	}
	s.at(t, func(ctx context.Context) error {
		var err error
		if ans, err = s.cl.Visit(ctx, h); err != nil {
			return err
		}
		s.sum.Visits++
		return nil
	})
	s.at(tap, func(ctx context.Context) error {
		s.sum.Clicks++
		return s.cl.Click(ctx, ans.Visit, target, h.URL)
	})
	s.at(write, func(ctx context.Context) error {
		s.newChat(s.chatSeen(), chat)
		switch kind {
		case "whatsapp":
			return s.sendWhatsApp(ctx, p, s.site.WhatsApp[0].Number, strings.TrimSpace(ans.Text)+" I'd like a bouquet for today.", write, nil)
		case "bot":
			return s.sendTelegram(ctx, p, s.site.Telegram.Bots[0], false, "/start "+ans.Start, write)
		default:
			return s.sendTelegram(ctx, p, s.site.Telegram.Users[0], true, strings.TrimSpace(ans.Text)+" Birthday flowers, please.", write)
		}
	})
	s.conversation(src.channel, "id", src.campaign)
	s.maybeBuy(write, src.channel, func() string { return chat }, func(ctx context.Context, at time.Time) error {
		msg := followUps[s.rng.IntN(len(followUps))]
		switch kind {
		case "whatsapp":
			return s.sendWhatsApp(ctx, p, s.site.WhatsApp[0].Number, msg, at, nil)
		case "bot":
			return s.sendTelegram(ctx, p, s.site.Telegram.Bots[0], false, msg, at)
		default:
			return s.sendTelegram(ctx, p, s.site.Telegram.Users[0], true, msg, at)
		}
	})
}

// chatSeen is the set of chats made so far.
func (s *seeder) chatSeen() map[string]bool {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	return s.seen
}

// adChat is a tap on a click-to-WhatsApp ad: the first message carries the
// ad's referral.
func (s *seeder) adChat(t time.Time) {
	ad := pick(s.rng, ctwaAds, func(a ctwaAd) int { return a.weight })
	p := s.customer(dayOf(t))
	number := s.site.WhatsApp[0].Number
	chat := "whatsapp:" + p.phone
	ref := &Referral{
		SourceURL: "https://fb.me/demo" + ad.id[len(ad.id)-3:], SourceID: ad.id, SourceType: "ad",
		Headline: ad.headline, Body: ad.body, MediaType: "image", CtwaClid: fmt.Sprintf("demo-ctwa-%x", s.rng.Uint64()),
	}
	texts := []string{"Hello! Can I get more info on this?", "Hi, is this still available?", "Hello, I'd like to order"}
	text := texts[s.rng.IntN(len(texts))]
	s.at(t, func(ctx context.Context) error {
		s.newChat(s.chatSeen(), chat)
		return s.sendWhatsApp(ctx, p, number, text, t, ref)
	})
	s.conversation("messenger_ad", "referral", ad.id)
	s.maybeBuy(t, "messenger_ad", func() string { return chat }, func(ctx context.Context, at time.Time) error {
		return s.sendWhatsApp(ctx, p, number, followUps[s.rng.IntN(len(followUps))], at, nil)
	})
}

// scanChat is a flyer's QR code scanned with a phone, then the prefilled
// message sent.
func (s *seeder) scanChat(t time.Time) {
	var name string
	var src *config.Source
	for _, n := range sortedSources(s.site) {
		if c := s.site.Sources[n]; c.Number != "" && c.DedicatedNumber == "" {
			name, src = n, c
			break
		}
	}
	if src == nil {
		return
	}
	p := s.customer(dayOf(t))
	chat := "whatsapp:" + p.phone
	write := t.Add(time.Duration(10+s.rng.IntN(60)) * time.Second)
	var text string
	s.at(t, func(ctx context.Context) error {
		link, err := s.cl.Scan(ctx, name)
		if err != nil {
			return err
		}
		s.sum.Scans++
		u, err := url.Parse(link)
		if err != nil {
			return fmt.Errorf("scan %s: %w", name, err)
		}
		text = u.Query().Get("text")
		return nil
	})
	s.at(write, func(ctx context.Context) error {
		s.newChat(s.chatSeen(), chat)
		return s.sendWhatsApp(ctx, p, src.Number, strings.TrimSpace(text), write, nil)
	})
	channel := src.Channel
	if channel == "" {
		channel = "offline"
	}
	s.conversation(channel, "id", "")
	s.maybeBuy(write, channel, func() string { return chat }, func(ctx context.Context, at time.Time) error {
		return s.sendWhatsApp(ctx, p, src.Number, followUps[s.rng.IntN(len(followUps))], at, nil)
	})
}

// billboardChat is a message to a source's dedicated number, with no code.
func (s *seeder) billboardChat(t time.Time) {
	var src *config.Source
	for _, n := range sortedSources(s.site) {
		if c := s.site.Sources[n]; c.DedicatedNumber != "" {
			src = c
			break
		}
	}
	if src == nil {
		return
	}
	p := s.newPerson()
	s.people = append(s.people, p)
	chat := "whatsapp:" + p.phone
	s.at(t, func(ctx context.Context) error {
		s.newChat(s.chatSeen(), chat)
		return s.sendWhatsApp(ctx, p, src.DedicatedNumber, "Hi, saw your sign on the highway. Do you do weddings?", t, nil)
	})
	channel := src.Channel
	if channel == "" {
		channel = "offline"
	}
	s.conversation(channel, "dedicated_number", "")
	s.maybeBuy(t, channel, func() string { return chat }, func(ctx context.Context, at time.Time) error {
		return s.sendWhatsApp(ctx, p, src.DedicatedNumber, followUps[s.rng.IntN(len(followUps))], at, nil)
	})
}

// unmatchedChat is two visitors who tap the WhatsApp button at the same
// moment and a third person who writes a minute later without a code: the
// heuristic cannot tell the two apart, so the chat stays unmatched with
// both as candidates for an operator to confirm.
func (s *seeder) unmatchedChat(t time.Time) {
	number := s.site.WhatsApp[0].Number
	target := "whatsapp:" + number
	tap := t.Add(90 * time.Second)
	for range 2 {
		src := pick(s.rng, webSources, func(w webSource) int { return w.weight })
		v := s.newPerson()
		h := s.hit(src, v, "/")
		var ans VisitAnswer
		s.at(t, func(ctx context.Context) error {
			var err error
			if ans, err = s.cl.Visit(ctx, h); err != nil {
				return err
			}
			s.sum.Visits++
			return nil
		})
		s.at(tap, func(ctx context.Context) error {
			s.sum.Clicks++
			return s.cl.Click(ctx, ans.Visit, target, h.URL)
		})
	}
	p := s.newPerson()
	write := tap.Add(70 * time.Second)
	chat := "whatsapp:" + p.phone
	s.at(write, func(ctx context.Context) error {
		s.newChat(s.chatSeen(), chat)
		return s.sendWhatsApp(ctx, p, number, "Hello, do you have peonies today?", write, nil)
	})
	s.conversation("unattributed", "none", "")
	s.sum.Unmatched = append(s.sum.Unmatched, chat)
}

// uploadCosts sends the month's ad costs as a CSV file, as an export from
// the ad account would: one row per ad and day.
func (s *seeder) uploadCosts(ctx context.Context, first time.Time, days int) error {
	var b strings.Builder
	b.WriteString("date,ad_id,cost,reach,impressions,clicks,currency\n")
	currency := s.site.Currency
	if currency == "" {
		currency = "USD"
	}
	type paid struct {
		id     string
		budget float64
	}
	var ads []paid
	for _, a := range ctwaAds {
		ads = append(ads, paid{a.id, a.budget})
	}
	ads = append(ads, paid{"demo-same-day-delivery", 22}, paid{"demo-mothers-day", 15})
	for d := range days {
		date := first.AddDate(0, 0, d).Format(time.DateOnly)
		for _, a := range ads {
			// Cents, so the sums are exact.
			cents := int64(a.budget*100*(0.7+0.6*s.rng.Float64())) + 0
			impressions := 800 + s.rng.IntN(2400)
			reach := impressions * (60 + s.rng.IntN(30)) / 100
			clicks := impressions * (1 + s.rng.IntN(4)) / 100
			fmt.Fprintf(&b, "%s,%s,%d.%02d,%d,%d,%d,%s\n", date, a.id, cents/100, cents%100, reach, impressions, clicks, currency)
			s.sum.Costs[a.id] += float64(cents) / 100
			s.sum.CostRows++
		}
	}
	for id, v := range s.sum.Costs {
		s.sum.Costs[id] = float64(int64(v*100+0.5)) / 100
	}
	return s.cl.Costs(ctx, b.String())
}

// dayOf is the UTC day of t, for telling days apart.
func dayOf(t time.Time) time.Time { return t.Truncate(24 * time.Hour) }

// sortedSources are the site's source names in order, so a seed is
// repeatable.
func sortedSources(st *config.Site) []string {
	names := make([]string, 0, len(st.Sources))
	for n := range st.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
