package reports

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/messtrack/messtrack/store"
)

// DynamicsReport is the site's numbers per day, week, month or quarter over a
// range, and the same totals for the previous period of the same length.
type DynamicsReport struct {
	reportHead
	// By is day, week (ISO, Monday first), month or quarter.
	By   string        `json:"by"`
	Rows []DynamicsRow `json:"rows"`
	// Totals covers the whole range.
	Totals DynamicsRow `json:"totals"`
	// Previous covers the same number of days just before the range.
	Previous DynamicsRow `json:"previous"`
	// Change is (totals − previous) / previous for each number, a fraction.
	Change DynamicsChange `json:"change"`
	Notes  Notes          `json:"notes"`
}

// DynamicsRow is one period's numbers. Periods at the range's edges are cut
// to the range (From and To say which days they hold).
type DynamicsRow struct {
	Period string `json:"period"`
	From   string `json:"from"`
	To     string `json:"to"`
	// Conversations counts every chat started, Sessions the attributed ones.
	Conversations     int64    `json:"conversations"`
	Sessions          int64    `json:"sessions"`
	Conversions       *int64   `json:"conversions"`
	ConversionRate    *float64 `json:"conversion_rate"`
	Cost              *float64 `json:"cost"`
	CostPerConversion *float64 `json:"cost_per_conversion"`
	Revenue           *float64 `json:"revenue"`
	Notes             Notes    `json:"notes,omitempty"`

	cost, conversions, revenue int64
	hasCost                    bool
}

// DynamicsChange compares the range with the previous period; null where the
// previous value is zero or unknown.
type DynamicsChange struct {
	Conversations *float64 `json:"conversations"`
	Sessions      *float64 `json:"sessions"`
	Conversions   *float64 `json:"conversions"`
	Cost          *float64 `json:"cost"`
	Revenue       *float64 `json:"revenue"`
	Notes         Notes    `json:"notes,omitempty"`
}

// Groupings accepted by Dynamics.
var Groupings = []string{"day", "week", "month", "quarter"}

// buckets splits r into periods of the grouping, cut to r.
func buckets(r Range, by string) ([]DynamicsRow, error) {
	f, _ := time.Parse(dateLayout, r.From)
	t, _ := time.Parse(dateLayout, r.To)
	var out []DynamicsRow
	for d := f; !d.After(t); {
		var label string
		var end time.Time
		switch by {
		case "day":
			label, end = d.Format(dateLayout), d
		case "week":
			y, w := d.ISOWeek()
			label = fmt.Sprintf("%04d-W%02d", y, w)
			end = d.AddDate(0, 0, (7-int(d.Weekday()))%7) // through Sunday
		case "month":
			label = d.Format("2006-01")
			end = time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC)
		case "quarter":
			q := (int(d.Month()) - 1) / 3
			label = fmt.Sprintf("%04d-Q%d", d.Year(), q+1)
			end = time.Date(d.Year(), time.Month(3*q+4), 0, 0, 0, 0, 0, time.UTC)
		default:
			return nil, invalid("by=%q is not one of %s", clip(by, 16), strings.Join(Groupings, ", "))
		}
		if end.After(t) {
			end = t
		}
		out = append(out, DynamicsRow{Period: label, From: d.Format(dateLayout), To: end.Format(dateLayout)})
		d = end.AddDate(0, 0, 1)
	}
	return out, nil
}

// Dynamics returns the site's numbers over r grouped by day, week, month or
// quarter, with the previous period of the same length for comparison.
func (s *Store) Dynamics(ctx context.Context, site string, r Range, by string) (*DynamicsReport, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, fmt.Errorf("reports.Dynamics: %w", err)
	}
	if by == "" {
		by = "day"
	}
	rows, err := buckets(r, by)
	if err != nil {
		return nil, fmt.Errorf("reports.Dynamics: %w", err)
	}
	head, err := s.head(ctx, st, r)
	if err != nil {
		return nil, fmt.Errorf("reports.Dynamics: %w", err)
	}
	f, _ := time.Parse(dateLayout, r.From)
	n := r.days()
	prev := DynamicsRow{
		Period: "previous",
		From:   f.AddDate(0, 0, -n).Format(dateLayout),
		To:     f.AddDate(0, 0, -1).Format(dateLayout),
	}
	all := append(rows, prev)
	// One pipeline for every bucket: each reads its channel aggregates (all
	// conversations) and its costs.
	var keys, costPeriods []string
	spans := make([][2]int, len(all))
	for i, b := range all {
		ps := periods(Range{From: b.From, To: b.To})
		spans[i] = [2]int{len(keys), len(ps)}
		for _, p := range ps {
			keys = append(keys, store.ReportAgg(st.Name, dimChannel, p))
			costPeriods = append(costPeriods, p)
		}
	}
	hs, err := s.hgetall(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("reports.Dynamics: %w", err)
	}
	ch, err := s.costHashes(ctx, st.Name, costPeriods)
	if err != nil {
		return nil, fmt.Errorf("reports.Dynamics: %w", err)
	}
	chosen := len(head.ConversionEvents) > 0
	for i := range all {
		agg, cs := map[string]*counts{}, map[string]*costs{}
		start, count := spans[i][0], spans[i][1]
		for j := 0; j < count; j++ {
			addAgg(agg, hs[start+j])
			addCosts(cs, ch[start+j])
		}
		b := &all[i]
		for m, c := range agg {
			b.Conversations += c.conversations
			if !strings.HasPrefix(m, Unattributed+sep) {
				b.Sessions += c.conversations
			}
			b.conversions += c.conversions
			b.revenue += c.revenue
		}
		for _, c := range cs {
			b.hasCost = true
			b.cost += c.cost
		}
		b.fill(chosen)
	}
	rows, prev = all[:len(rows)], all[len(rows)]
	totals := DynamicsRow{Period: "total", From: r.From, To: r.To}
	for _, b := range rows {
		totals.Conversations += b.Conversations
		totals.Sessions += b.Sessions
		totals.conversions += b.conversions
		totals.revenue += b.revenue
		totals.cost += b.cost
		totals.hasCost = totals.hasCost || b.hasCost
	}
	totals.fill(chosen)
	rep := &DynamicsReport{
		reportHead: head, By: by, Rows: rows, Totals: totals, Previous: prev,
		Change: change(totals, prev, chosen),
		Notes: Notes{
			"conversions": "counted in the period their session started",
			"cost":        "counted on its own day",
			"change":      "(this range − previous) / previous, a fraction; previous is the same number of days just before the range",
		},
	}
	if !chosen {
		rep.Notes["conversions"] = noteNoChoice
	}
	return rep, nil
}

func (b *DynamicsRow) fill(chosen bool) {
	notes := Notes{}
	if b.hasCost {
		b.Cost = ptr(money(b.cost))
	} else {
		notes["cost"] = "no cost rows in this period"
	}
	if chosen {
		b.Conversions = ptr(b.conversions)
		b.Revenue = ptr(money(b.revenue))
		b.ConversionRate = ratio(float64(b.conversions), float64(b.Sessions), 4)
		if b.ConversionRate == nil {
			notes["conversion_rate"] = "no sessions to divide by"
		}
		switch {
		case !b.hasCost:
			notes["cost_per_conversion"] = "no cost rows in this period"
		case b.conversions == 0:
			notes["cost_per_conversion"] = noteNoConversions
		default:
			b.CostPerConversion = ratio(money(b.cost), float64(b.conversions), 2)
		}
	} else {
		for _, col := range []string{"conversions", "conversion_rate", "cost_per_conversion", "revenue"} {
			notes[col] = noteNoChoice
		}
	}
	if len(notes) > 0 {
		b.Notes = notes
	}
}

func change(cur, prev DynamicsRow, chosen bool) DynamicsChange {
	c := DynamicsChange{Notes: Notes{}}
	rel := func(col string, a, b int64, known bool) *float64 {
		if !known {
			c.Notes[col] = "unknown in one of the periods"
			return nil
		}
		if b == 0 {
			c.Notes[col] = "zero in the previous period"
			return nil
		}
		return ratio(float64(a-b), float64(b), 4)
	}
	c.Conversations = rel("conversations", cur.Conversations, prev.Conversations, true)
	c.Sessions = rel("sessions", cur.Sessions, prev.Sessions, true)
	c.Conversions = rel("conversions", cur.conversions, prev.conversions, chosen)
	c.Revenue = rel("revenue", cur.revenue, prev.revenue, chosen)
	c.Cost = rel("cost", cur.cost, prev.cost, cur.hasCost && prev.hasCost)
	if len(c.Notes) == 0 {
		c.Notes = nil
	}
	return c
}
