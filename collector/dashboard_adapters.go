package collector

import (
	"context"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/messtrack/messtrack/reports"
)

// The adapters below give the dashboard's pages their data from the real
// stores: reports.Store for the report tables and chat sessions, the
// matcher's chat records for the chat pages. They only reshape; every
// number comes from the stores as the API answers it.

// reportsAdapter reads the report pages' tables from reports.Store.
type reportsAdapter struct {
	st *reports.Store
}

func (a reportsAdapter) reportRange(site, from, to string) (dashRange, error) {
	r, err := a.st.Range(site, from, to)
	if err != nil {
		return dashRange{}, reportsError(err)
	}
	return dashRange{From: r.From, To: r.To}, nil
}

func optFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func optInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
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

// adsColumns are the ads report's columns: the per-ad columns README.md lists, and
// revenue.
var adsColumns = []dashColumn{
	{Key: "ad_id", Title: "Ad ID", Kind: colText},
	{Key: "title", Title: "Title", Kind: colText},
	{Key: "type", Title: "Type", Kind: colText},
	{Key: "cost", Title: "Cost", Kind: colMoney},
	{Key: "reach", Title: "Reach", Kind: colCount},
	{Key: "conversations", Title: "Conversations", Kind: colCount},
	{Key: "cost_per_conversation", Title: "Cost per conversation", Kind: colMoney},
	{Key: "conversions", Title: "Conversions", Kind: colCount},
	{Key: "cost_per_conversion", Title: "Cost per conversion", Kind: colMoney},
	{Key: "conversion_rate", Title: "Conversion rate", Kind: colPercent},
	{Key: "revenue", Title: "Revenue", Kind: colMoney},
}

func adCells(r *reports.AdRow) []any {
	return []any{r.AdID, r.Title, r.Type, optFloat(r.Cost), optInt(r.Reach), r.Conversations,
		optFloat(r.CostPerConversation), optInt(r.Conversions), optFloat(r.CostPerConversion),
		optFloat(r.ConversionRate), optFloat(r.Revenue)}
}

func (a reportsAdapter) adsTable(ctx context.Context, site string, r dashRange) (*dashReport, error) {
	rep, err := a.st.Ads(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	out := &dashReport{Table: dashTable{Columns: adsColumns}, Notes: noteList(rep.Notes)}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		out.Table.Rows = append(out.Table.Rows, dashRow{Cells: adCells(row), Link: chatsLink(url.Values{"campaign": {row.AdID}})})
	}
	totals := dashRow{Cells: adCells(&rep.Totals)}
	totals.Cells[0], totals.Cells[1], totals.Cells[2] = "Totals", nil, nil
	out.Table.Totals = &totals
	return out, nil
}

// trafficColumns are the columns every traffic report ends with.
var trafficColumns = []dashColumn{
	{Key: "conversations", Title: "Conversations", Kind: colCount},
	{Key: "share", Title: "Share", Kind: colPercent},
	{Key: "sessions", Title: "Attributed", Kind: colCount},
	{Key: "conversions", Title: "Conversions", Kind: colCount},
	{Key: "conversion_rate", Title: "Conversion rate", Kind: colPercent},
	{Key: "revenue", Title: "Revenue", Kind: colMoney},
}

func trafficCells(r *reports.TrafficRow) []any {
	return []any{r.Conversations, optFloat(r.Share), r.Sessions, optInt(r.Conversions), optFloat(r.ConversionRate), optFloat(r.Revenue)}
}

// trafficTable builds a traffic report's table: the leading columns from
// lead, then the shared ones.
func trafficTable(lead []dashColumn, rows []reports.TrafficRow, totals reports.TrafficRow,
	cells func(*reports.TrafficRow) []any, link func(*reports.TrafficRow) string) dashTable {
	t := dashTable{Columns: append(append([]dashColumn{}, lead...), trafficColumns...)}
	for i := range rows {
		r := &rows[i]
		row := dashRow{Cells: append(cells(r), trafficCells(r)...)}
		if link != nil {
			row.Link = link(r)
		}
		t.Rows = append(t.Rows, row)
	}
	tot := dashRow{Cells: append(make([]any, len(lead)), trafficCells(&totals)...)}
	tot.Cells[0] = "Totals"
	t.Totals = &tot
	return t
}

func (a reportsAdapter) channelsTable(ctx context.Context, site string, r dashRange) (*dashReport, error) {
	rep, err := a.st.Channels(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	lead := []dashColumn{{Key: "channel", Title: "Channel", Kind: colText}, {Key: "source", Title: "Source", Kind: colText}}
	t := trafficTable(lead, rep.Rows, rep.Totals,
		func(r *reports.TrafficRow) []any { return []any{r.Channel, r.Source} },
		func(r *reports.TrafficRow) string {
			if r.Channel == reports.Unattributed {
				return chatsLink(url.Values{"method": {reports.MethodNone}})
			}
			return chatsLink(url.Values{"channel": {r.Channel}})
		})
	return &dashReport{Table: t, Notes: noteList(rep.Notes)}, nil
}

func (a reportsAdapter) pagesTable(ctx context.Context, site string, r dashRange) (*dashReport, error) {
	rep, err := a.st.Pages(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	lead := []dashColumn{{Key: "kind", Title: "Kind", Kind: colText}, {Key: "url", Title: "Page", Kind: colText}}
	t := trafficTable(lead, rep.Rows, rep.Totals,
		func(r *reports.TrafficRow) []any { return []any{r.Kind, r.URL} }, nil)
	return &dashReport{Table: t, Notes: noteList(rep.Notes)}, nil
}

func (a reportsAdapter) newRepeatTable(ctx context.Context, site string, r dashRange) (*dashReport, error) {
	rep, err := a.st.NewRepeat(ctx, site, reports.Range{From: r.From, To: r.To})
	if err != nil {
		return nil, reportsError(err)
	}
	lead := []dashColumn{{Key: "dialog", Title: "Dialog", Kind: colText}}
	t := trafficTable(lead, rep.Rows, rep.Totals,
		func(r *reports.TrafficRow) []any { return []any{r.Dialog} }, nil)
	return &dashReport{Table: t, Notes: noteList(rep.Notes)}, nil
}

func nanIfNil[T int64 | float64](p *T) float64 {
	if p == nil {
		return math.NaN()
	}
	return float64(*p)
}

func (a reportsAdapter) dynamics(ctx context.Context, site string, r dashRange, by string) ([]dashPeriod, error) {
	rep, err := a.st.Dynamics(ctx, site, reports.Range{From: r.From, To: r.To}, by)
	if err != nil {
		return nil, reportsError(err)
	}
	out := make([]dashPeriod, 0, len(rep.Rows))
	for _, row := range rep.Rows {
		out = append(out, dashPeriod{
			Period: row.Period, Conversations: float64(row.Conversations), Sessions: float64(row.Sessions),
			Conversions: nanIfNil(row.Conversions), Cost: nanIfNil(row.Cost), Revenue: nanIfNil(row.Revenue),
		})
	}
	return out, nil
}

// chatsLink is the chat list filtered by q.
func chatsLink(q url.Values) string { return "/dashboard/chats?" + q.Encode() }

// chatsAdapter reads the chat pages' data from the matcher's chat records,
// which carry their sessions from reports.
type chatsAdapter struct {
	s *Server
}

// parseRFC3339 reads the chat records' times; "" is the zero time.
func parseRFC3339(v string) time.Time {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}
	}
	return t
}

func (a chatsAdapter) listChats(ctx context.Context, st *site, f dashChatFilter) ([]dashChatRow, string, error) {
	page, err := a.s.listChats(ctx, st, chatFilter{
		From: f.From, To: f.To, Method: f.Method, Channel: f.Channel, Campaign: f.Campaign, Tag: f.Tag,
		Query: codeQuery(st, f.Query), Limit: f.Limit, Cursor: f.Cursor,
	})
	if err != nil {
		return nil, "", err
	}
	rows := make([]dashChatRow, 0, len(page.Chats))
	for _, c := range page.Chats {
		rows = append(rows, dashChatRow{
			Chat: c.Chat, Name: c.Name, Phone: c.Phone, Messenger: c.Messenger,
			FirstMessageAt: parseRFC3339(c.FirstMessageAt), Dialog: c.Dialog, Method: c.Method,
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

func (a chatsAdapter) chatCard(ctx context.Context, st *site, chat string) (*dashChatCard, error) {
	rec, err := a.s.chatRecord(ctx, st, chat)
	if err != nil {
		return nil, err
	}
	card := &dashChatCard{
		Chat: rec.Chat, Name: rec.Name, Phone: rec.Phone, Username: rec.Username, Messenger: rec.Messenger,
		Language: rec.Language, FirstMessageAt: parseRFC3339(rec.FirstMessageAt),
		ConversationAt: parseRFC3339(rec.ConversationAt), LastMessageAt: parseRFC3339(rec.LastMessageAt),
		Messages: rec.Messages, Dialog: rec.Dialog, Method: rec.Method, Confidence: rec.Confidence,
		Confirmed: rec.Confirmed, Visit: rec.Visit,
	}
	src := rec.Source
	for _, f := range []dashField{
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
	for _, f := range []dashField{
		{Label: "Country", Value: v.Country}, {Label: "Region", Value: v.Region}, {Label: "City", Value: v.City},
		{Label: "Device", Value: v.Device}, {Label: "OS", Value: v.OS}, {Label: "Browser", Value: v.Browser},
		{Label: "Screen", Value: v.Screen}, {Label: "Language", Value: v.Language},
	} {
		if f.Value != "" {
			card.Visitor = append(card.Visitor, f)
		}
	}
	for _, h := range rec.History {
		e := dashHistory{Time: parseRFC3339(h.Time), Kind: h.Kind, Method: h.Method, Confidence: math.NaN(), Visit: h.Visit, Text: h.Text}
		if h.Confidence != nil {
			e.Confidence = *h.Confidence
		}
		card.History = append(card.History, e)
	}
	for _, c := range rec.Candidates {
		card.Candidates = append(card.Candidates, dashCandidate{Visit: c.Visit, ClickAt: c.ClickAt, GapSeconds: c.Gap, Confidence: c.Confidence, Reasons: c.Reasons})
	}
	for _, ss := range rec.Sessions {
		ds := dashChatSession{StartedAt: ss.StartedAt, ExpiresAt: ss.ExpiresAt, Method: ss.Method, AdID: ss.AdID,
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

func (a chatsAdapter) confirm(ctx context.Context, st *site, chat, visit string) error {
	_, err := a.s.confirmCandidate(ctx, st, chat, visit)
	return err
}

// wireDashboard gives the dashboard its data sources: the server's reports
// store and its chat records.
func (s *Server) wireDashboard() {
	s.dash.reports = reportsAdapter{st: s.reports}
	s.dash.chats = chatsAdapter{s: s}
}
