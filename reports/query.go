package reports

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

const dateLayout = "2006-01-02"

// MaxRangeDays bounds a report's range: longer ranges would read thousands of
// hashes for one answer.
const MaxRangeDays = 1100

// DefaultRangeDays is the length of the range when a query names no dates.
const DefaultRangeDays = 30

// Range is a report's inclusive range of site-local days.
type Range struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// days returns the number of days in the range.
func (r Range) days() int {
	f, _ := time.Parse(dateLayout, r.From)
	t, _ := time.Parse(dateLayout, r.To)
	return int(t.Sub(f)/(24*time.Hour)) + 1
}

// ParseDate checks a YYYY-MM-DD date.
func ParseDate(s string) (time.Time, error) {
	d, err := time.Parse(dateLayout, s)
	if err != nil || d.Format(dateLayout) != s {
		return time.Time{}, invalid("%q is not a date like 2026-11-02", clip(s, 32))
	}
	return d, nil
}

// Range checks a report range for the site: from and to are YYYY-MM-DD in
// the site's time zone; an empty to means today, an empty from the 30 days
// ending at to.
func (s *Store) Range(site, from, to string) (Range, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return Range{}, err
	}
	if to == "" {
		to = Day(st, s.clock.Now())
	}
	t, err := ParseDate(to)
	if err != nil {
		return Range{}, err
	}
	if from == "" {
		from = t.AddDate(0, 0, 1-DefaultRangeDays).Format(dateLayout)
	}
	f, err := ParseDate(from)
	if err != nil {
		return Range{}, err
	}
	if f.After(t) {
		return Range{}, invalid("from %s is after to %s", from, to)
	}
	if n := int(t.Sub(f)/(24*time.Hour)) + 1; n > MaxRangeDays {
		return Range{}, invalid("the range holds %d days; at most %d", n, MaxRangeDays)
	}
	return Range{From: from, To: to}, nil
}

// periods splits a range into the aggregate periods that cover it: whole
// months as months ("2026-11"), whole blocks of a month (days 1-10, 11-20,
// 21-end) as blocks ("2026-11-b2"), the rest as days. A 90-day range takes
// about 15 reads instead of 90.
func periods(r Range) []string {
	f, _ := time.Parse(dateLayout, r.From)
	t, _ := time.Parse(dateLayout, r.To)
	var out []string
	for d := f; !d.After(t); {
		monthEnd := d.AddDate(0, 1, -d.Day())
		if d.Day() == 1 && !monthEnd.After(t) {
			out = append(out, d.Format("2006-01"))
			d = monthEnd.AddDate(0, 0, 1)
			continue
		}
		if n := d.Day(); n == 1 || n == 11 || n == 21 {
			end := d.AddDate(0, 0, 9)
			if n == 21 {
				end = monthEnd
			}
			if !end.After(t) {
				out = append(out, fmt.Sprintf("%s-b%d", d.Format("2006-01"), n/10+1))
				d = end.AddDate(0, 0, 1)
				continue
			}
		}
		out = append(out, d.Format(dateLayout))
		d = d.AddDate(0, 0, 1)
	}
	return out
}

// counts are one member's aggregate numbers over a range.
type counts struct {
	conversations int64
	conversions   int64
	revenue       int64 // thousandths
	byCategory    map[string]int64
}

// costs are one ad's cost numbers over a range.
type costs struct {
	cost, reach int64
}

// hgetall reads many hashes in one pipeline.
func (s *Store) hgetall(ctx context.Context, keys []string) ([]map[string]string, error) {
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HGetAll(ctx, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read aggregates: %w", err)
	}
	out := make([]map[string]string, len(keys))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// addAgg adds one aggregate hash into per-member counts.
func addAgg(into map[string]*counts, h map[string]string) {
	for field, v := range h {
		metric, member, ok := strings.Cut(field, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n == 0 && metric != "cv" {
			continue
		}
		var cat string
		if metric == "k" {
			if cat, member, ok = strings.Cut(member, ":"); !ok {
				continue
			}
		}
		c := into[member]
		if c == nil {
			c = &counts{}
			into[member] = c
		}
		switch metric {
		case "cv":
			c.conversations += n
		case "rv":
			c.revenue += n
		case "k":
			if c.byCategory == nil {
				c.byCategory = map[string]int64{}
			}
			c.byCategory[cat] += n
			c.conversions += n
		}
	}
}

// addCosts adds one cost hash into per-ad costs.
func addCosts(into map[string]*costs, h map[string]string) {
	for field, v := range h {
		metric, ad, ok := strings.Cut(field, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		c := into[ad]
		if c == nil {
			c = &costs{}
			into[ad] = c
		}
		switch metric {
		case "c":
			c.cost += n
		case "r":
			c.reach += n
		}
	}
}

// aggregate reads one dimension's counts and, when withCosts, the ad costs
// over a range, in one pipeline.
func (s *Store) aggregate(ctx context.Context, st *config.Site, dim string, r Range, withCosts bool) (map[string]*counts, map[string]*costs, error) {
	ps := periods(r)
	keys := make([]string, 0, len(ps))
	for _, p := range ps {
		keys = append(keys, store.ReportAgg(st.Name, dim, p))
	}
	hs, err := s.hgetall(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	agg := map[string]*counts{}
	for _, h := range hs {
		addAgg(agg, h)
	}
	// A member whose counts all moved elsewhere (a guess revoked, a
	// conversation found to be a continuation) has nothing to show.
	for m, c := range agg {
		if c.conversations == 0 && c.conversions == 0 && c.revenue == 0 {
			delete(agg, m)
		}
	}
	var cs map[string]*costs
	if withCosts {
		ch, err := s.costHashes(ctx, st.Name, ps)
		if err != nil {
			return nil, nil, err
		}
		cs = map[string]*costs{}
		for _, h := range ch {
			addCosts(cs, h)
		}
	}
	return agg, cs, nil
}

// reportHead is what every report starts with.
type reportHead struct {
	Site     string `json:"site"`
	From     string `json:"from"`
	To       string `json:"to"`
	Timezone string `json:"timezone"`
	Currency string `json:"currency"`
	// ConversionEvents is the site's conversion-event history: conversions
	// count under the category in force when they happened.
	ConversionEvents []ConversionChoice `json:"conversion_events"`
}

func (s *Store) head(ctx context.Context, st *config.Site, r Range) (reportHead, error) {
	hist, err := s.conversionHistory(ctx, st)
	if err != nil {
		return reportHead{}, err
	}
	return reportHead{
		Site: st.Name, From: r.From, To: r.To, Timezone: st.Timezone, Currency: st.Currency,
		ConversionEvents: hist,
	}, nil
}

// Notes name a column and say why its value is null (or what it means);
// a report never shows a silent zero for a number it cannot compute.
type Notes map[string]string

// Reasons that the reports give for null cells.
const (
	noteNoChoice      = "no conversion event has been chosen yet"
	noteNoCost        = "no cost rows for this ad in the range"
	noteNoConversions = "no conversions to divide by"
	noteNoChats       = "no conversations to divide by"
	noteUnattributed  = "unattributed conversations open no session, so they cannot convert"
)

func money(thousandths int64) float64 { return float64(thousandths) / 1000 }

func ptr[T any](v T) *T { return &v }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// ratio returns a/b rounded, or nil when b is zero.
func ratio(a, b float64, places int) *float64 {
	if b == 0 {
		return nil
	}
	return ptr(round(a/b, places))
}
