package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/collector/person"
	"github.com/messtrack/messtrack/reports"
)

// The adapters below give the dashboard's pages their data from the real
// stores: reports.Store for the report tables and chat sessions, the
// ledger's chat records for the chat pages. They only reshape; every
// number comes from the stores as the API answers it.

// reportsAdapter reads the report pages' tables from reports.Store.
type reportsAdapter struct {
	st *reports.Store
}

func (a reportsAdapter) Range(site, from, to string) (dashboard.Range, error) {
	r, err := a.st.Range(site, from, to)
	if err != nil {
		return dashboard.Range{}, reportsError(err)
	}
	return dashboard.Range{From: r.From, To: r.To}, nil
}

// noteList turns a report's notes (column → why it is empty) into lines.
func noteList(notes ...reports.Notes) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range notes {
		for col, why := range n {
			line := strings.ReplaceAll(col, "_", " ") + ": " + why
			if !seen[line] {
				seen[line] = true
				out = append(out, line)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (a reportsAdapter) Ads(ctx context.Context, site string, r dashboard.Range) (*dashboard.Report, error) {
	rep, err := a.st.Ads(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	out := &dashboard.Report{Table: dashboard.Table{Columns: dashboard.Columns(reports.AdColumns)}, Notes: noteList(rep.Notes)}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		out.Table.Rows = append(out.Table.Rows, dashboard.Row{Cells: dashboard.Cells(reports.AdColumns, row), Link: dashboard.ChatsLink(url.Values{"campaign": {row.AdID}})})
	}
	out.Table.Totals = totalsRow(out.Table.Columns, dashboard.Cells(reports.AdColumns, &rep.Totals))
	return out, nil
}

// trafficTable builds a traffic report's table from its column list; the
// totals row's leading cells are "Totals" and empty.
func trafficTable(cols []reports.Column[reports.TrafficRow], rows []reports.TrafficRow, totals reports.TrafficRow,
	link func(*reports.TrafficRow) string) dashboard.Table {
	t := dashboard.Table{Columns: dashboard.Columns(cols)}
	for i := range rows {
		r := &rows[i]
		row := dashboard.Row{Cells: dashboard.Cells(cols, r)}
		if link != nil {
			row.Link = link(r)
		}
		t.Rows = append(t.Rows, row)
	}
	t.Totals = totalsRow(t.Columns, dashboard.Cells(cols, &totals))
	return t
}

// totalsRow is a report's totals as the table's last row: "Totals" in the
// first cell, the other text cells (titles, names) empty.
func totalsRow(cols []dashboard.Column, cells []any) *dashboard.Row {
	for i, c := range cols {
		if c.Kind == dashboard.ColText {
			cells[i] = nil
		}
	}
	cells[0] = "Totals"
	return &dashboard.Row{Cells: cells}
}

func (a reportsAdapter) Channels(ctx context.Context, site string, r dashboard.Range) (*dashboard.Report, error) {
	rep, err := a.st.Channels(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	t := trafficTable(reports.ChannelColumns, rep.Rows, rep.Totals,
		func(r *reports.TrafficRow) string {
			if r.Channel == reports.Unattributed {
				return dashboard.ChatsLink(url.Values{"method": {reports.MethodNone}})
			}
			return dashboard.ChatsLink(url.Values{"channel": {r.Channel}})
		})
	return &dashboard.Report{Table: t, Notes: noteList(rep.Notes)}, nil
}

func (a reportsAdapter) Pages(ctx context.Context, site string, r dashboard.Range) (*dashboard.Report, error) {
	rep, err := a.st.Pages(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	t := trafficTable(reports.PageColumns, rep.Rows, rep.Totals, nil)
	return &dashboard.Report{Table: t, Notes: noteList(rep.Notes)}, nil
}

func (a reportsAdapter) NewRepeat(ctx context.Context, site string, r dashboard.Range) (*dashboard.Report, error) {
	rep, err := a.st.NewRepeat(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	t := trafficTable(reports.NewRepeatColumns, rep.Rows, rep.Totals, nil)
	return &dashboard.Report{Table: t, Notes: noteList(rep.Notes)}, nil
}

func nanIfNil[T int64 | float64](p *T) float64 {
	if p == nil {
		return math.NaN()
	}
	return float64(*p)
}

func (a reportsAdapter) Dynamics(ctx context.Context, site string, r dashboard.Range, by string) ([]dashboard.Period, error) {
	rep, err := a.st.Dynamics(ctx, site, reports.Range{From: r.From, To: r.To}, by)
	if err != nil {
		return nil, reportsError(err)
	}
	out := make([]dashboard.Period, 0, len(rep.Rows))
	for _, row := range rep.Rows {
		out = append(out, dashboard.Period{
			Period: row.Period, Conversations: float64(row.Conversations), Sessions: float64(row.Sessions),
			Conversions: nanIfNil(row.Conversions), Cost: nanIfNil(row.Cost), Revenue: nanIfNil(row.Revenue),
		})
	}
	return out, nil
}

// chatsAdapter reads the chat pages' data from the ledger's chat records,
// which carry their sessions from reports.
type chatsAdapter struct {
	s *Server
}

func (a chatsAdapter) List(ctx context.Context, siteName string, f dashboard.ChatFilter) ([]dashboard.ChatRow, string, error) {
	st, err := a.s.lookupSite(siteName)
	if err != nil {
		return nil, "", err
	}
	page, err := a.s.listChats(ctx, st, chatFilter{
		From: f.From, To: f.To, Method: f.Method, Channel: f.Channel, Campaign: f.Campaign, Tag: f.Tag,
		Query: codeQuery(st, f.Query), Limit: f.Limit, Cursor: f.Cursor,
	})
	if err != nil {
		return nil, "", err
	}
	rows := make([]dashboard.ChatRow, 0, len(page.Chats))
	for _, c := range page.Chats {
		rows = append(rows, dashboard.ChatRow{
			Chat: c.Chat, Name: c.Name, Phone: c.Phone, Messenger: c.Messenger,
			FirstMessageAt: c.FirstAt, Dialog: c.Dialog, Method: c.Method,
			Confidence: c.Confidence, Confirmed: c.Confirmed, Visit: c.Visit, Channel: c.Channel,
			Campaign: c.UTMCampaign, AdID: c.AdID, AdTitle: c.AdTitle, Candidates: c.Candidates,
		})
	}
	return rows, page.Next, nil
}

// codeQuery lets an operator search by the code a person sent ("#K7Q2M9",
// an emoji run): a query holding a code searches for its visit ID.
func codeQuery(st *site, q string) string {
	if found := st.codec.Find(q); len(found) == 1 {
		return st.codec.VisitID(found[0].N)
	}
	return q
}

func (a chatsAdapter) Card(ctx context.Context, siteName, chat string) (*dashboard.ChatCard, error) {
	st, err := a.s.lookupSite(siteName)
	if err != nil {
		return nil, err
	}
	rec, err := a.s.chatRecord(ctx, st, chat)
	if err != nil {
		return nil, err
	}
	card := &dashboard.ChatCard{
		Chat: rec.Chat, Name: rec.Name, Phone: rec.Phone, Username: rec.Username, Messenger: rec.Messenger,
		Language: rec.Language, FirstMessageAt: rec.FirstAt, ConversationAt: rec.ConvAt, LastMessageAt: rec.LastAt,
		Messages: rec.Messages, Dialog: rec.Dialog, Method: rec.Method, Confidence: rec.Confidence,
		Confirmed: rec.Confirmed, Visit: rec.Visit,
	}
	src := rec.Source
	for _, f := range []dashboard.Field{
		{Label: "Channel", Value: src.Channel},
		{Label: "Offline source", Value: src.OfflineSource},
		{Label: "UTM source", Value: src.UTMSource},
		{Label: "UTM medium", Value: src.UTMMedium},
		{Label: "UTM campaign", Value: src.UTMCampaign},
		{Label: "UTM content", Value: src.UTMContent},
		{Label: "UTM term", Value: src.UTMTerm},
		{Label: "Ad ID", Value: src.AdID},
		{Label: "Ad title", Value: src.AdTitle},
		{Label: "Ad type", Value: src.AdType},
		{Label: "Click ID", Value: src.ClickID},
		{Label: "Page", Value: src.Page, IsURL: true},
		{Label: "Landing page", Value: src.LandingPage, IsURL: true},
		{Label: "Referrer", Value: src.Referrer, IsURL: true},
	} {
		if f.Value != "" {
			card.Source = append(card.Source, f)
		}
	}
	v := rec.Visitor
	for _, f := range []dashboard.Field{
		{Label: "Country", Value: v.Country}, {Label: "Region", Value: v.Region}, {Label: "City", Value: v.City},
		{Label: "Device", Value: v.Device}, {Label: "OS", Value: v.OS}, {Label: "Browser", Value: v.Browser},
		{Label: "Screen", Value: v.Screen}, {Label: "Language", Value: v.Language},
	} {
		if f.Value != "" {
			card.Visitor = append(card.Visitor, f)
		}
	}
	for _, h := range rec.History {
		// The history keeps its times as RFC 3339 text; one that cannot
		// be read is shown without a time, and logged.
		at, err := time.Parse(time.RFC3339, h.Time)
		if err != nil {
			a.s.log.Warn("chat history time unreadable", "site", siteName, "chat", chat, "err", err)
			at = time.Time{}
		}
		e := dashboard.History{Time: at, Kind: h.Kind, Method: h.Method, Confidence: math.NaN(), Visit: h.Visit, Text: h.Text}
		if h.Confidence != nil {
			e.Confidence = *h.Confidence
		}
		card.History = append(card.History, e)
	}
	for _, c := range rec.Candidates {
		card.Candidates = append(card.Candidates, dashboard.Candidate{Visit: c.Visit, ClickAt: c.ClickAt, GapSeconds: c.Gap, Confidence: c.Confidence, Reasons: c.Reasons})
	}
	for _, ss := range rec.Sessions {
		ds := dashboard.ChatSession{StartedAt: ss.StartedAt, ExpiresAt: ss.ExpiresAt, Method: ss.Method, AdID: ss.AdID,
			Channel: ss.Channel, Source: ss.Source, Page: ss.Page, Landing: ss.Landing, Dialog: ss.Dialog, Status: ss.Status}
		if ss.ClosedAt != nil {
			ds.ClosedAt = *ss.ClosedAt
		}
		if c := ss.Conversion; c != nil {
			ds.Conversion, ds.ConversionAt, ds.Value = c.Category, c.At, c.Value
		}
		card.Sessions = append(card.Sessions, ds)
	}
	return card, nil
}

func (a chatsAdapter) Confirm(ctx context.Context, siteName, chat, visit string) error {
	st, err := a.s.lookupSite(siteName)
	if err != nil {
		return err
	}
	_, err = a.s.confirmCandidate(ctx, st, chat, visit)
	return err
}

// Export is the people API's export document of the chat's person, encoded
// as that endpoint encodes it.
func (a chatsAdapter) Export(ctx context.Context, siteName, chat string) ([]byte, error) {
	st, err := a.s.lookupSite(siteName)
	if err != nil {
		return nil, err
	}
	exp, err := a.s.people.Export(ctx, st.cfg.Name, chat)
	if err != nil {
		return nil, fmt.Errorf("dashboard export: %w", err)
	}
	doc, err := json.Marshal(exp)
	if err != nil {
		return nil, fmt.Errorf("dashboard export: %w", err)
	}
	return doc, nil
}

// Erase erases the chat's person as the people API does, recorded in the
// audit list as a person's request.
func (a chatsAdapter) Erase(ctx context.Context, siteName, chat string) error {
	st, err := a.s.lookupSite(siteName)
	if err != nil {
		return err
	}
	if _, err := a.s.people.Erase(ctx, st.cfg.Name, chat, person.ReasonRequest); err != nil {
		return fmt.Errorf("dashboard erase: %w", err)
	}
	return nil
}

func (a reportsAdapter) Codes(ctx context.Context, site string, r dashboard.Range) (*dashboard.Report, error) {
	rep, err := a.st.Codes(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	out := &dashboard.Report{Table: dashboard.Table{Columns: dashboard.Columns(reports.CodeColumns)}, Notes: noteList(rep.Notes)}
	for i := range rep.Rows {
		out.Table.Rows = append(out.Table.Rows, dashboard.Row{Cells: dashboard.Cells(reports.CodeColumns, &rep.Rows[i])})
	}
	return out, nil
}

func (a reportsAdapter) Experiments(ctx context.Context, site string, r dashboard.Range) (*dashboard.Report, error) {
	rep, err := a.st.Experiments(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	out := &dashboard.Report{Table: dashboard.Table{Columns: dashboard.Columns(reports.ExperimentColumns)}, Notes: noteList(rep.ReportNotes())}
	for i := range rep.Rows {
		out.Table.Rows = append(out.Table.Rows, dashboard.Row{Cells: dashboard.Cells(reports.ExperimentColumns, &rep.Rows[i])})
	}
	return out, nil
}
