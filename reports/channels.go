package reports

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/messtrack/messtrack/config"
)

// TrafficRow is one channel/source, page or dialog kind and what it brought.
// Conversations count every chat started (unattributed ones too);
// conversions only come from attributed sessions.
type TrafficRow struct {
	// Channel and Source name a traffic channel (paid_social, offline,
	// unattributed, …) and its source (utm_source, offline source, referrer
	// host); set in the channels report.
	Channel string `json:"channel,omitempty"`
	Source  string `json:"source,omitempty"`
	// Kind is page (where the chat link was clicked) or landing (the visit's
	// landing page), and URL the page; set in the pages report.
	Kind string `json:"kind,omitempty"`
	URL  string `json:"url,omitempty"`
	// Dialog is new (a person's first chat with the site) or repeat; set in
	// the new-vs-repeat report.
	Dialog        string `json:"dialog,omitempty"`
	Conversations int64  `json:"conversations"`
	// Share is this row's fraction of the conversations of its kind.
	Share *float64 `json:"share"`
	// Sessions is the number of attributed conversations (each opened a
	// session).
	Sessions           int64            `json:"sessions"`
	Conversions        *int64           `json:"conversions"`
	ConversionsByEvent map[string]int64 `json:"conversions_by_event,omitempty"`
	// ConversionRate is Conversions / Sessions.
	ConversionRate *float64 `json:"conversion_rate"`
	Revenue        *float64 `json:"revenue"`
	Notes          Notes    `json:"notes,omitempty"`

	revenue int64 // thousandths, for totals
}

// ChannelsReport is conversations and conversions per traffic channel and
// source, with the new-vs-repeat split.
type ChannelsReport struct {
	reportHead
	Rows      []TrafficRow     `json:"rows"`
	Totals    TrafficRow       `json:"totals"`
	NewRepeat *NewRepeatReport `json:"new_repeat"`
	Notes     Notes            `json:"notes"`
}

// PagesReport is conversations and conversions per page the chat link was
// clicked on and per landing page of the visit, the top MaxPageRows of each.
type PagesReport struct {
	reportHead
	Rows []TrafficRow `json:"rows"`
	// Totals holds every conversation once (from the page kind).
	Totals TrafficRow `json:"totals"`
	Notes  Notes      `json:"notes"`
}

// NewRepeatReport splits conversations into a person's first chat with the
// site (new) and later ones (repeat).
type NewRepeatReport struct {
	reportHead
	Rows   []TrafficRow `json:"rows"`
	Totals TrafficRow   `json:"totals"`
	Notes  Notes        `json:"notes"`
}

// MaxPageRows is how many pages of each kind the pages report lists.
const MaxPageRows = 100

// trafficRow builds a row from counts; attributed tells whether the counts
// come from sessions (unattributed rows cannot convert).
func trafficRow(c *counts, sessions int64, attributed, chosen bool) TrafficRow {
	row := TrafficRow{Conversations: c.conversations, Sessions: sessions}
	notes := Notes{}
	switch {
	case !attributed:
		for _, col := range []string{"conversions", "conversion_rate", "revenue"} {
			notes[col] = noteUnattributed
		}
	case !chosen:
		for _, col := range []string{"conversions", "conversion_rate", "revenue"} {
			notes[col] = noteNoChoice
		}
	default:
		row.Conversions = ptr(c.conversions)
		row.ConversionsByEvent = c.byCategory
		row.Revenue = ptr(money(c.revenue))
		row.revenue = c.revenue
		row.ConversionRate = ratio(float64(c.conversions), float64(sessions), 4)
		if row.ConversionRate == nil {
			notes["conversion_rate"] = "no sessions to divide by"
		}
	}
	if len(notes) > 0 {
		row.Notes = notes
	}
	return row
}

// totalsOf sums rows into a totals row; conversion rate is over sessions.
func totalsOf(rows []TrafficRow, chosen bool) TrafficRow {
	c := &counts{}
	var sessions int64
	for _, r := range rows {
		c.conversations += r.Conversations
		sessions += r.Sessions
		if r.Conversions != nil {
			c.conversions += *r.Conversions
		}
		c.revenue += r.revenue
		for cat, n := range r.ConversionsByEvent {
			if c.byCategory == nil {
				c.byCategory = map[string]int64{}
			}
			c.byCategory[cat] += n
		}
	}
	t := trafficRow(c, sessions, true, chosen)
	if c.conversations > 0 {
		t.Share = ptr(1.0)
	}
	return t
}

// setShares fills each row's share of total conversations.
func setShares(rows []TrafficRow, total int64) {
	for i := range rows {
		rows[i].Share = ratio(float64(rows[i].Conversations), float64(total), 4)
		if rows[i].Share == nil {
			if rows[i].Notes == nil {
				rows[i].Notes = Notes{}
			}
			rows[i].Notes["share"] = noteNoChats
		}
	}
}

func sortTraffic(rows []TrafficRow, key func(TrafficRow) string) {
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Conversations != rows[j].Conversations {
			return rows[i].Conversations > rows[j].Conversations
		}
		return key(rows[i]) < key(rows[j])
	})
}

// Channels returns conversations and conversions per traffic channel and
// source over r, with the new-vs-repeat split.
func (s *Store) Channels(ctx context.Context, site string, r Range) (*ChannelsReport, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, fmt.Errorf("reports.Channels: %w", err)
	}
	head, err := s.head(ctx, st, r)
	if err != nil {
		return nil, fmt.Errorf("reports.Channels: %w", err)
	}
	agg, _, err := s.aggregate(ctx, st, dimChannel, r, false)
	if err != nil {
		return nil, fmt.Errorf("reports.Channels: %w", err)
	}
	chosen := len(head.ConversionEvents) > 0
	rep := &ChannelsReport{reportHead: head, Rows: []TrafficRow{}, Notes: trafficNotes(chosen)}
	var total int64
	for _, m := range sortedMembers(agg) {
		c := agg[m]
		ch, src, _ := strings.Cut(m, sep)
		attributed := ch != Unattributed
		sessions := c.conversations
		if !attributed {
			sessions = 0
		}
		row := trafficRow(c, sessions, attributed, chosen)
		row.Channel, row.Source = ch, src
		rep.Rows = append(rep.Rows, row)
		total += c.conversations
	}
	setShares(rep.Rows, total)
	sortTraffic(rep.Rows, func(r TrafficRow) string { return r.Channel + sep + r.Source })
	rep.Totals = totalsOf(rep.Rows, chosen)
	rep.Totals.Channel = "total"
	nr, err := s.newRepeat(ctx, st, head, r)
	if err != nil {
		return nil, fmt.Errorf("reports.Channels: %w", err)
	}
	rep.NewRepeat = nr
	return rep, nil
}

func trafficNotes(chosen bool) Notes {
	n := Notes{
		"conversations":   "every chat started, unattributed ones included",
		"sessions":        "attributed conversations; each opened a session",
		"conversion_rate": "conversions / sessions, a fraction",
		"conversions":     "counted on the day their session started; a session converts at most once",
		"cost":            "costs are per ad: see the ads report",
	}
	if !chosen {
		n["conversions"] = noteNoChoice
	}
	return n
}

// Pages returns conversations and conversions per page and landing page over
// r, the top MaxPageRows of each kind.
func (s *Store) Pages(ctx context.Context, site string, r Range) (*PagesReport, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, fmt.Errorf("reports.Pages: %w", err)
	}
	head, err := s.head(ctx, st, r)
	if err != nil {
		return nil, fmt.Errorf("reports.Pages: %w", err)
	}
	chosen := len(head.ConversionEvents) > 0
	rep := &PagesReport{reportHead: head, Rows: []TrafficRow{}, Notes: trafficNotes(chosen)}
	delete(rep.Notes, "cost")
	for _, kind := range []struct{ name, dim string }{{"page", dimPage}, {"landing", dimLanding}} {
		agg, _, err := s.aggregate(ctx, st, kind.dim, r, false)
		if err != nil {
			return nil, fmt.Errorf("reports.Pages: %w", err)
		}
		var rows []TrafficRow
		var total int64
		for _, m := range sortedMembers(agg) {
			c := agg[m]
			attributed := m != Unattributed
			sessions := c.conversations
			if !attributed {
				sessions = 0
			}
			row := trafficRow(c, sessions, attributed, chosen)
			row.Kind, row.URL = kind.name, m
			rows = append(rows, row)
			total += c.conversations
		}
		setShares(rows, total)
		sortTraffic(rows, func(r TrafficRow) string { return r.URL })
		if kind.name == "page" {
			rep.Totals = totalsOf(rows, chosen)
			rep.Totals.Kind = "total"
		}
		if len(rows) > MaxPageRows {
			rep.Notes[kind.name] = fmt.Sprintf("the top %d of %d %s rows by conversations", MaxPageRows, len(rows), kind.name)
			rows = rows[:MaxPageRows]
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	rep.Notes["url"] = "scheme, host and path: query strings are dropped; " + NoPage + " marks attributed chats that came without a page"
	return rep, nil
}

// NewRepeat returns the split between new and repeat conversations over r.
func (s *Store) NewRepeat(ctx context.Context, site string, r Range) (*NewRepeatReport, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, fmt.Errorf("reports.NewRepeat: %w", err)
	}
	head, err := s.head(ctx, st, r)
	if err != nil {
		return nil, fmt.Errorf("reports.NewRepeat: %w", err)
	}
	rep, err := s.newRepeat(ctx, st, head, r)
	if err != nil {
		return nil, fmt.Errorf("reports.NewRepeat: %w", err)
	}
	return rep, nil
}

func (s *Store) newRepeat(ctx context.Context, st *config.Site, head reportHead, r Range) (*NewRepeatReport, error) {
	agg, _, err := s.aggregate(ctx, st, dimDialog, r, false)
	if err != nil {
		return nil, err
	}
	chosen := len(head.ConversionEvents) > 0
	// Attributed chats count under "new"/"repeat", unattributed ones under
	// "new/unattributed": both are conversations, only the first are sessions.
	merged := map[string]*counts{}
	sessions := map[string]int64{}
	for m, c := range agg {
		dialog, unattributed := strings.CutSuffix(m, "/"+Unattributed)
		t := merged[dialog]
		if t == nil {
			t = &counts{}
			merged[dialog] = t
		}
		t.conversations += c.conversations
		if unattributed {
			continue
		}
		sessions[dialog] += c.conversations
		t.conversions += c.conversions
		t.revenue += c.revenue
		for cat, n := range c.byCategory {
			if t.byCategory == nil {
				t.byCategory = map[string]int64{}
			}
			t.byCategory[cat] += n
		}
	}
	for _, d := range []string{DialogNew, DialogRepeat} {
		if merged[d] == nil {
			merged[d] = &counts{}
		}
	}
	rep := &NewRepeatReport{reportHead: head, Rows: []TrafficRow{}, Notes: trafficNotes(chosen)}
	delete(rep.Notes, "cost")
	rep.Notes["dialog"] = "new: the person's first chat with the site; repeat: a later one; unknown: the matcher could not tell"
	var total int64
	for _, d := range sortedMembers(merged) {
		row := trafficRow(merged[d], sessions[d], true, chosen)
		row.Dialog = d
		rep.Rows = append(rep.Rows, row)
		total += merged[d].conversations
	}
	setShares(rep.Rows, total)
	rep.Totals = totalsOf(rep.Rows, chosen)
	rep.Totals.Dialog = "total"
	return rep, nil
}
