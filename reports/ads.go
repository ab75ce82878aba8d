package reports

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/messtrack/messtrack/store"
)

// AdsReport is the per-ad report: what each ad cost and what it brought over
// a range. Conversions count on the day their session started, so the
// conversion rate of any range is at most 1; costs count on their own day.
type AdsReport struct {
	reportHead
	// ReachBasis is "range" when every ad's reach was fetched for exactly
	// this range (people counted once), "daily_sum" when it is the sum of
	// daily reach (an upper bound), or "mixed".
	ReachBasis string  `json:"reach_basis"`
	Rows       []AdRow `json:"rows"`
	Totals     AdRow   `json:"totals"`
	Notes      Notes   `json:"notes"`
}

// AdRow is one ad's numbers (or the totals). Null numbers carry a note
// naming the column and why.
type AdRow struct {
	AdID  string `json:"ad_id"`
	Title string `json:"title"`
	// Type is ad or post (a click-to-WhatsApp source type), or campaign for
	// a web campaign known only from UTM tags.
	Type  string   `json:"type"`
	Cost  *float64 `json:"cost"`
	Reach *int64   `json:"reach"`
	// Conversations is the number of attributed conversations started,
	// each opening a session.
	Conversations       int64    `json:"conversations"`
	CostPerConversation *float64 `json:"cost_per_conversation"`
	Conversions         *int64   `json:"conversions"`
	// ConversionsByEvent splits Conversions by the conversion category in
	// force when each happened.
	ConversionsByEvent map[string]int64 `json:"conversions_by_event,omitempty"`
	CostPerConversion  *float64         `json:"cost_per_conversion"`
	// ConversionRate is Conversions / Conversations, a fraction.
	ConversionRate *float64 `json:"conversion_rate"`
	// Revenue is the sum of the values of the converting events.
	Revenue *float64 `json:"revenue"`
	Notes   Notes    `json:"notes,omitempty"`

	cost, revenue int64 // thousandths, for totals
	hasCost       bool
}

// Ads returns the per-ad report over r.
func (s *Store) Ads(ctx context.Context, site string, r Range) (*AdsReport, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, fmt.Errorf("reports.Ads: %w", err)
	}
	head, err := s.head(ctx, st, r)
	if err != nil {
		return nil, fmt.Errorf("reports.Ads: %w", err)
	}
	agg, cs, err := s.aggregate(ctx, st, dimAd, r, true)
	if err != nil {
		return nil, fmt.Errorf("reports.Ads: %w", err)
	}
	rangeReach, err := s.rdb.HGetAll(ctx, store.ReportRangeReach(st.Name, r.From, r.To)).Result()
	if err != nil {
		return nil, fmt.Errorf("reports.Ads: range reach: %w", err)
	}
	ids := map[string]bool{}
	for id := range agg {
		ids[id] = true
	}
	for id := range cs {
		ids[id] = true
	}
	order := sortedMembers(ids)
	var infos []any
	if len(order) > 0 {
		infos, err = s.rdb.HMGet(ctx, store.ReportAdInfo(st.Name), order...).Result()
		if err != nil {
			return nil, fmt.Errorf("reports.Ads: ad titles: %w", err)
		}
	}
	chosen := len(head.ConversionEvents) > 0
	rep := &AdsReport{reportHead: head, Rows: make([]AdRow, 0, len(order)), Notes: Notes{}}
	basisRange, basisDaily := 0, 0
	for i, id := range order {
		row := AdRow{AdID: id, Type: "ad"}
		if info, ok := infos[i].(string); ok {
			parts := strings.SplitN(info, sep, 3)
			if len(parts) == 3 {
				row.Type, row.Title = parts[1], parts[2]
			}
		}
		c := agg[id]
		if c == nil {
			c = &counts{}
		}
		row.Conversations = c.conversations
		row.revenue = c.revenue
		if chosen {
			row.Conversions = ptr(c.conversions)
			row.ConversionsByEvent = c.byCategory
		}
		if k := cs[id]; k != nil {
			row.hasCost, row.cost = true, k.cost
			reach := k.reach
			if v, ok := rangeReach[id]; ok {
				reach, _ = strconv.ParseInt(v, 10, 64)
				basisRange++
			} else {
				basisDaily++
			}
			row.Reach = ptr(reach)
		} else if v, ok := rangeReach[id]; ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			row.Reach = ptr(n)
			basisRange++
		}
		row.fill(chosen)
		rep.Rows = append(rep.Rows, row)
	}
	sort.SliceStable(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i], rep.Rows[j]
		if a.Conversations != b.Conversations {
			return a.Conversations > b.Conversations
		}
		if a.cost != b.cost {
			return a.cost > b.cost
		}
		return a.AdID < b.AdID
	})
	rep.Totals = adTotals(rep.Rows, chosen)
	switch {
	case basisRange > 0 && basisDaily == 0:
		rep.ReachBasis = "range"
		rep.Notes["reach"] = "each ad's reach over exactly this range, as the ad platform counts it; the total is their sum, an upper bound"
	case basisRange > 0:
		rep.ReachBasis = "mixed"
		rep.Notes["reach"] = "reach over this range where the ad platform gave it, else the sum of daily reach (an upper bound); the total is their sum"
	default:
		rep.ReachBasis = "daily_sum"
		rep.Notes["reach"] = "sum of daily reach, an upper bound: people reached on several days count once per day"
	}
	rep.Notes["conversions"] = "counted on the day their session started; a session converts at most once"
	rep.Notes["revenue"] = "sum of the values of the converting events"
	if !chosen {
		rep.Notes["conversions"] = noteNoChoice
	}
	return rep, nil
}

// fill computes a row's money and ratios from its counts, with a note for
// every null.
func (row *AdRow) fill(chosen bool) {
	notes := Notes{}
	if row.hasCost {
		row.Cost = ptr(money(row.cost))
		row.CostPerConversation = ratio(money(row.cost), float64(row.Conversations), 2)
		if row.CostPerConversation == nil {
			notes["cost_per_conversation"] = noteNoChats
		}
	} else {
		notes["cost"] = noteNoCost
		notes["cost_per_conversation"] = noteNoCost
		if row.Reach == nil {
			notes["reach"] = noteNoCost
		}
	}
	if chosen {
		row.Revenue = ptr(money(row.revenue))
		row.ConversionRate = ratio(float64(*row.Conversions), float64(row.Conversations), 4)
		if row.ConversionRate == nil {
			notes["conversion_rate"] = noteNoChats
		}
		switch {
		case !row.hasCost:
			notes["cost_per_conversion"] = noteNoCost
		case *row.Conversions == 0:
			notes["cost_per_conversion"] = noteNoConversions
		default:
			row.CostPerConversion = ratio(money(row.cost), float64(*row.Conversions), 2)
		}
	} else {
		for _, col := range []string{"conversions", "cost_per_conversion", "conversion_rate", "revenue"} {
			notes[col] = noteNoChoice
		}
	}
	if len(notes) > 0 {
		row.Notes = notes
	}
}

func adTotals(rows []AdRow, chosen bool) AdRow {
	t := AdRow{AdID: "total"}
	var conversions int64
	var reach int64
	hasReach := false
	for _, r := range rows {
		t.Conversations += r.Conversations
		t.revenue += r.revenue
		if r.hasCost {
			t.hasCost = true
			t.cost += r.cost
		}
		if r.Reach != nil {
			hasReach = true
			reach += *r.Reach
		}
		if r.Conversions != nil {
			conversions += *r.Conversions
		}
		for cat, n := range r.ConversionsByEvent {
			if t.ConversionsByEvent == nil {
				t.ConversionsByEvent = map[string]int64{}
			}
			t.ConversionsByEvent[cat] += n
		}
	}
	if hasReach {
		t.Reach = ptr(reach)
	}
	if chosen {
		t.Conversions = ptr(conversions)
	}
	t.fill(chosen)
	t.Type = ""
	if !t.hasCost {
		for col, why := range t.Notes {
			if why == noteNoCost {
				t.Notes[col] = "no cost rows in the range"
			}
		}
		return t
	}
	// Cost per conversation and per conversion divide the cost by what the
	// ads with cost rows brought: chats from ads whose cost is unknown would
	// make the cost look cheaper than it is.
	var paidConversations, paidConversions int64
	for _, r := range rows {
		if r.hasCost {
			paidConversations += r.Conversations
			if r.Conversions != nil {
				paidConversions += *r.Conversions
			}
		}
	}
	if t.Notes == nil {
		t.Notes = Notes{}
	}
	t.CostPerConversation = ratio(money(t.cost), float64(paidConversations), 2)
	t.Notes["cost_per_conversation"] = "over the conversations of the ads with cost rows"
	if t.CostPerConversation == nil {
		t.Notes["cost_per_conversation"] = "no conversations from the ads with cost rows"
	}
	if chosen {
		t.CostPerConversion = ratio(money(t.cost), float64(paidConversions), 2)
		t.Notes["cost_per_conversion"] = "over the conversions of the ads with cost rows"
		if t.CostPerConversion == nil {
			t.Notes["cost_per_conversion"] = "no conversions from the ads with cost rows"
		}
	}
	return t
}
