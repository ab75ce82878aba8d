package collector

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/config"
)

// The report and chat pages read their data through two small interfaces,
// so that the pages depend on what they show, not on how reports and chats
// are stored; dashboard_adapters.go implements them over the real stores.

// dashRange is a report's inclusive range of site-local days, YYYY-MM-DD.
type dashRange struct {
	From, To string
}

// dashReportSource is what the report pages need.
type dashReportSource interface {
	// reportRange checks from/to for the site; empty values take the
	// reports' defaults (the 30 days ending today).
	reportRange(site, from, to string) (dashRange, error)
	adsTable(ctx context.Context, site string, r dashRange) (*dashReport, error)
	channelsTable(ctx context.Context, site string, r dashRange) (*dashReport, error)
	pagesTable(ctx context.Context, site string, r dashRange) (*dashReport, error)
	newRepeatTable(ctx context.Context, site string, r dashRange) (*dashReport, error)
	// dynamics returns the site's numbers per period of the grouping (day,
	// week, month, quarter) over r.
	dynamics(ctx context.Context, site string, r dashRange, by string) ([]dashPeriod, error)
}

// dashReport is a report table with the notes that explain its empty cells.
type dashReport struct {
	Table dashTable
	Notes []string
}

// dashPeriod is one period of the dynamics report; NaN is a number that
// cannot be computed (no cost rows, no conversion event chosen).
type dashPeriod struct {
	Period        string
	Conversations float64
	Sessions      float64
	Conversions   float64
	Cost          float64
	Revenue       float64
}

// dashChatSource is what the chat pages need.
type dashChatSource interface {
	listChats(ctx context.Context, st *site, f dashChatFilter) ([]dashChatRow, string, error)
	chatCard(ctx context.Context, st *site, chat string) (*dashChatCard, error)
	confirm(ctx context.Context, st *site, chat, visit string) error
}

// dashChatFilter selects chats for the list.
type dashChatFilter struct {
	From, To time.Time // first message in [From, To); zero is open
	Method   string
	Channel  string
	Campaign string
	// Tag matches any UTM tag of the chat's source.
	Tag string
	// Query searches name, phone, username, chat key and visit code.
	Query  string
	Cursor string
	Limit  int
}

// dashChatRow is one chat in the list.
type dashChatRow struct {
	Chat, Name, Phone, Messenger string
	FirstMessageAt               time.Time
	Dialog, Method               string
	Confidence                   float64
	Confirmed                    bool
	Visit                        string
	Channel, Campaign            string
	AdID, AdTitle                string
	Candidates                   int
}

// dashChatCard is a chat's source card.
type dashChatCard struct {
	Chat, Name, Phone, Username, Messenger, Language string
	FirstMessageAt, ConversationAt, LastMessageAt    time.Time
	Messages                                         int64
	Dialog, Method                                   string
	Confidence                                       float64
	Confirmed                                        bool
	Visit                                            string
	Source                                           []dashField
	Visitor                                          []dashField
	Sessions                                         []dashChatSession
	History                                          []dashHistory
	Candidates                                       []dashCandidate
}

// dashField is a labelled value of a card; URL values are links only when
// they are http(s).
type dashField struct {
	Label, Value string
	IsURL        bool
}

// dashChatSession is one attribution session of a chat.
type dashChatSession struct {
	StartedAt, ExpiresAt, ClosedAt time.Time
	Method, AdID, Channel, Source  string
	Page, Landing, Dialog, Status  string
	Conversion                     string // the converting event's category
	ConversionAt                   time.Time
	Value                          float64
}

// dashHistory is one entry of a chat's contact history.
type dashHistory struct {
	Time       time.Time
	Kind       string
	Method     string
	Confidence float64 // NaN when the entry has none
	Visit      string
	Text       string
}

// dashCandidate is a visit the heuristic found for an unmatched chat.
type dashCandidate struct {
	Visit      string
	ClickAt    time.Time
	GapSeconds float64
	Confidence float64
	Reasons    []string
}

// routesDashboardPages registers the report and chat pages.
func (s *Server) routesDashboardPages(g fiber.Router) {
	if s.dash.reports == nil || s.dash.chats == nil {
		// Without both sources the pages would have nothing to read; the
		// navigation still lists them and they answer 404.
		return
	}
	g.Get("/ads", s.requireDashSession, s.reportPage("ads", "Ads", dashReportSource.adsTable))
	g.Get("/channels", s.requireDashSession, s.reportPage("channels", "Channels", dashReportSource.channelsTable))
	g.Get("/pages", s.requireDashSession, s.reportPage("pages", "Pages", dashReportSource.pagesTable))
	g.Get("/new-repeat", s.requireDashSession, s.reportPage("new-repeat", "New vs repeat", dashReportSource.newRepeatTable))
	g.Get("/dynamics", s.requireDashSession, s.handleDynamicsPage)
	g.Get("/chats", s.requireDashSession, s.handleChatsPage)
	g.Get("/chats/:chat", s.requireDashSession, s.handleChatPage)
	g.Get("/unmatched", s.requireDashSession, s.handleUnmatchedPage)
	g.Post("/unmatched/confirm", s.requireDashSession, s.handleConfirmPage)
}

// dashSite returns the signed-in site and its number format.
func (s *Server) dashSite(c *fiber.Ctx) (*site, numberFormat, error) {
	st, err := s.lookupSite(currentDashSession(c).Site)
	if err != nil {
		return nil, numberFormat{}, err
	}
	return st, newNumberFormat(st.cfg.Currency, st.cfg.Location), nil
}

// reportView is the data of a report page.
type reportView struct {
	Range   dashRange
	Table   htmlTable
	Notes   []string
	CSVLink string
}

type tableQuery func(dashReportSource, context.Context, string, dashRange) (*dashReport, error)

// reportPage serves one report as a page with a date range picker, or as
// CSV with ?format=csv.
func (s *Server) reportPage(nav, title string, query tableQuery) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, f, err := s.dashSite(c)
		if err != nil {
			return err
		}
		r, err := s.dash.reports.reportRange(st.cfg.Name, c.Query("from"), c.Query("to"))
		if err != nil {
			return err
		}
		rep, err := query(s.dash.reports, c.UserContext(), st.cfg.Name, r)
		if err != nil {
			return err
		}
		switch c.Query("format") {
		case "csv":
			return sendCSV(c, &rep.Table, fmt.Sprintf("%s-%s-%s.csv", nav, r.From, r.To), st.cfg.Location)
		case "", "html":
		default:
			return fail(ErrBadInput, "format %q is not html or csv", clip(c.Query("format"), 16))
		}
		q := url.Values{"from": {r.From}, "to": {r.To}, "format": {"csv"}}
		return s.renderPage(c, fiber.StatusOK, "report", pageData{Title: title, Nav: nav, Body: reportView{
			Range: r, Table: rep.Table.formatHTML(f), Notes: rep.Notes,
			CSVLink: "/dashboard/" + nav + "?" + q.Encode(),
		}})
	}
}

// sendCSV answers a table as a CSV download.
func sendCSV(c *fiber.Ctx, t *dashTable, filename string, loc *time.Location) error {
	var b strings.Builder
	if err := t.writeCSV(&b, loc); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString(b.String())
}

// dynamicsMetrics are the numbers the dynamics chart can draw.
var dynamicsMetrics = []struct {
	Key, Title string
	Money      bool
	Of         func(dashPeriod) float64
}{
	{Key: "conversations", Title: "Conversations", Of: func(p dashPeriod) float64 { return p.Conversations }},
	{Key: "sessions", Title: "Attributed conversations", Of: func(p dashPeriod) float64 { return p.Sessions }},
	{Key: "conversions", Title: "Conversions", Of: func(p dashPeriod) float64 { return p.Conversions }},
	{Key: "revenue", Title: "Revenue", Money: true, Of: func(p dashPeriod) float64 { return p.Revenue }},
	{Key: "cost", Title: "Cost", Money: true, Of: func(p dashPeriod) float64 { return p.Cost }},
}

var dynamicsGroupings = []string{"day", "week", "month", "quarter"}

// dynamicsView is the data of the dynamics page.
type dynamicsView struct {
	Range     dashRange
	Previous  dashRange
	By        string
	Metric    string
	Groupings []string
	Metrics   []dynamicsOption
	Chart     template.HTML
	Table     htmlTable
}

type dynamicsOption struct{ Key, Title string }

// previousRange is the range of the same length just before r.
func previousRange(r dashRange) (dashRange, error) {
	from, err1 := time.Parse(time.DateOnly, r.From)
	to, err2 := time.Parse(time.DateOnly, r.To)
	if err1 != nil || err2 != nil {
		return dashRange{}, fmt.Errorf("previousRange %v: not dates", r)
	}
	days := int(to.Sub(from)/(24*time.Hour)) + 1
	prevTo := from.AddDate(0, 0, -1)
	return dashRange{From: prevTo.AddDate(0, 0, 1-days).Format(time.DateOnly), To: prevTo.Format(time.DateOnly)}, nil
}

// handleDynamicsPage draws the chosen number per period with the previous
// period of the same length overlaid, period by period.
func (s *Server) handleDynamicsPage(c *fiber.Ctx) error {
	st, f, err := s.dashSite(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	r, err := s.dash.reports.reportRange(st.cfg.Name, c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	by := c.Query("by", "day")
	if !slices.Contains(dynamicsGroupings, by) {
		return fail(ErrBadInput, "by %q is not one of %s", clip(by, 16), strings.Join(dynamicsGroupings, ", "))
	}
	metric := dynamicsMetrics[0]
	if m := c.Query("metric"); m != "" {
		found := false
		for _, dm := range dynamicsMetrics {
			if dm.Key == m {
				metric, found = dm, true
			}
		}
		if !found {
			return fail(ErrBadInput, "metric %q is not one the chart draws", clip(m, 24))
		}
	}
	prev, err := previousRange(r)
	if err != nil {
		return err
	}
	cur, err := s.dash.reports.dynamics(ctx, st.cfg.Name, r, by)
	if err != nil {
		return err
	}
	before, err := s.dash.reports.dynamics(ctx, st.cfg.Name, prev, by)
	if err != nil {
		return err
	}
	spec := chartSpec{Title: metric.Title + " by " + by}
	thisPeriod := chartSeries{Name: metric.Title + ", " + r.From + " – " + r.To}
	lastPeriod := chartSeries{Name: "previous period, " + prev.From + " – " + prev.To, Previous: true}
	table := dashTable{Columns: []dashColumn{
		{Key: "period", Title: "Period", Kind: colText},
		{Key: "value", Title: metric.Title, Kind: colCount},
		{Key: "previous_period", Title: "Previous period", Kind: colText},
		{Key: "previous", Title: "Previous", Kind: colCount},
	}}
	if metric.Money {
		table.Columns[1].Kind, table.Columns[3].Kind = colMoney, colMoney
		spec.Format = f.Money
	}
	for i, p := range cur {
		spec.Labels = append(spec.Labels, p.Period)
		v := metric.Of(p)
		thisPeriod.Values = append(thisPeriod.Values, v)
		row := dashRow{Cells: []any{p.Period, periodCell(v, metric.Money), nil, nil}}
		pv := math.NaN()
		if i < len(before) {
			pv = metric.Of(before[i])
			row.Cells[2], row.Cells[3] = before[i].Period, periodCell(pv, metric.Money)
		}
		lastPeriod.Values = append(lastPeriod.Values, pv)
		table.Rows = append(table.Rows, row)
	}
	spec.Series = []chartSeries{thisPeriod, lastPeriod}
	chart, err := renderChart(s.dash.chart, spec)
	if err != nil {
		return err
	}
	view := dynamicsView{Range: r, Previous: prev, By: by, Metric: metric.Key, Groupings: dynamicsGroupings,
		Chart: chart, Table: table.formatHTML(f)}
	for _, dm := range dynamicsMetrics {
		view.Metrics = append(view.Metrics, dynamicsOption{Key: dm.Key, Title: dm.Title})
	}
	return s.renderPage(c, fiber.StatusOK, "dynamics", pageData{Title: "Dynamics", Nav: "dynamics", Body: view})
}

// periodCell is a dynamics value as a table cell: counts as whole numbers,
// unknown values empty.
func periodCell(v float64, money bool) any {
	switch {
	case math.IsNaN(v):
		return nil
	case money:
		return v
	}
	return int64(v)
}

// chatsView is the data of the chat list.
type chatsView struct {
	Filter  chatsForm
	Methods []string
	Table   htmlTable
	Next    string
}

// chatsForm is the list's filter as the form shows it.
type chatsForm struct {
	From, To, Method, Channel, Campaign, Tag, Q string
}

var dashMethods = []string{"id", "referral", "dedicated_number", "heuristic", "none"}

// parseChatsForm reads the list's filter from the query.
func parseChatsForm(c *fiber.Ctx, st *site) (chatsForm, dashChatFilter, error) {
	form := chatsForm{
		From: c.Query("from"), To: c.Query("to"), Method: c.Query("method"), Channel: c.Query("channel"),
		Campaign: c.Query("campaign"), Tag: c.Query("tag"), Q: c.Query("q"),
	}
	f := dashChatFilter{Method: form.Method, Channel: form.Channel, Campaign: form.Campaign, Tag: form.Tag,
		Query: strings.TrimSpace(form.Q), Cursor: c.Query("cursor")}
	if f.Method != "" && !slices.Contains(dashMethods, f.Method) {
		return form, f, fail(ErrBadInput, "method %q is not one of %s", clip(f.Method, 24), strings.Join(dashMethods, ", "))
	}
	for _, d := range []struct {
		name, value string
		into        *time.Time
		end         bool
	}{{"from", form.From, &f.From, false}, {"to", form.To, &f.To, true}} {
		if d.value == "" {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, d.value, st.cfg.Location)
		if err != nil {
			return form, f, fail(ErrBadInput, "%s %q is not a date like 2026-11-02", d.name, clip(d.value, 24))
		}
		if d.end {
			day = day.AddDate(0, 0, 1)
		}
		*d.into = day
	}
	return form, f, nil
}

// handleChatsPage lists chats, newest first, with filters and search.
func (s *Server) handleChatsPage(c *fiber.Ctx) error {
	st, f, err := s.dashSite(c)
	if err != nil {
		return err
	}
	form, filter, err := parseChatsForm(c, st)
	if err != nil {
		return err
	}
	filter.Limit = 50
	rows, next, err := s.dash.chats.listChats(c.UserContext(), st, filter)
	if err != nil {
		return err
	}
	table := dashTable{Columns: []dashColumn{
		{Key: "name", Title: "Name", Kind: colText},
		{Key: "chat", Title: "Chat", Kind: colText},
		{Key: "first_message_at", Title: "First message", Kind: colTime},
		{Key: "method", Title: "Method", Kind: colText},
		{Key: "confidence", Title: "Confidence", Kind: colPercent},
		{Key: "dialog", Title: "Dialog", Kind: colText},
		{Key: "channel", Title: "Channel", Kind: colText},
		{Key: "campaign", Title: "Campaign", Kind: colText},
		{Key: "ad", Title: "Ad", Kind: colText},
	}}
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = "(no name)"
		}
		table.Rows = append(table.Rows, dashRow{
			Cells: []any{name, r.Chat, r.FirstMessageAt, r.Method, r.Confidence, r.Dialog, r.Channel, r.Campaign, firstNonEmpty(r.AdTitle, r.AdID)},
			Link:  chatLink(r.Chat),
		})
	}
	view := chatsView{Filter: form, Methods: dashMethods, Table: table.formatHTML(f)}
	if next != "" && len(rows) > 0 {
		q := c.Context().QueryArgs()
		v := url.Values{}
		q.VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
		v.Set("cursor", next)
		view.Next = "/dashboard/chats?" + v.Encode()
	}
	return s.renderPage(c, fiber.StatusOK, "chats", pageData{Title: "Chats", Nav: "chats", Body: view})
}

// chatLink is the dashboard path of a chat's card.
func chatLink(chat string) string { return "/dashboard/chats/" + url.PathEscape(chat) }

// chatView is the data of a chat's card.
type chatView struct {
	Card       *dashChatCard
	F          numberFormat
	Confirmed  bool
	Candidates []candidateView
}

// candidateView is a candidate formatted for its confirm form.
type candidateView struct {
	Visit, ClickAt, Gap, Confidence string
	Reasons                         []string
}

func (s *Server) handleChatPage(c *fiber.Ctx) error {
	st, f, err := s.dashSite(c)
	if err != nil {
		return err
	}
	chat, err := url.PathUnescape(c.Params("chat"))
	if err != nil || !strings.Contains(chat, ":") || len(chat) > 300 {
		return fail(ErrBadInput, "%q is not a chat key like whatsapp:15557654321", clip(c.Params("chat"), 80))
	}
	card, err := s.dash.chats.chatCard(c.UserContext(), st, strings.Clone(chat))
	if err != nil {
		return err
	}
	view := chatView{Card: card, F: f, Confirmed: c.Query("confirmed") == "1", Candidates: candidateViews(f, card.Candidates)}
	title := card.Name
	if title == "" {
		title = card.Chat
	}
	return s.renderPage(c, fiber.StatusOK, "chat", pageData{Title: title, Nav: "chats", Body: view})
}

func candidateViews(f numberFormat, cands []dashCandidate) []candidateView {
	out := make([]candidateView, 0, len(cands))
	for _, cd := range cands {
		out = append(out, candidateView{
			Visit: cd.Visit, ClickAt: f.Time(cd.ClickAt), Gap: strconv.FormatFloat(cd.GapSeconds, 'f', 0, 64) + " s",
			Confidence: f.Percent(cd.Confidence), Reasons: cd.Reasons,
		})
	}
	return out
}

// unmatchedView is the data of the unmatched chats page.
type unmatchedView struct {
	Chats []unmatchedChat
	Next  string
}

type unmatchedChat struct {
	Chat, Name, Link, FirstMessageAt, Text string
	Candidates                             []candidateView
}

// handleUnmatchedPage lists chats no method attributed, each with the
// heuristic's candidates an operator may confirm.
func (s *Server) handleUnmatchedPage(c *fiber.Ctx) error {
	st, f, err := s.dashSite(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	rows, next, err := s.dash.chats.listChats(ctx, st, dashChatFilter{Method: "none", Cursor: c.Query("cursor"), Limit: 25})
	if err != nil {
		return err
	}
	view := unmatchedView{}
	for _, r := range rows {
		card, err := s.dash.chats.chatCard(ctx, st, r.Chat)
		if err != nil {
			return err
		}
		u := unmatchedChat{Chat: r.Chat, Name: r.Name, Link: chatLink(r.Chat), FirstMessageAt: f.Time(r.FirstMessageAt),
			Candidates: candidateViews(f, card.Candidates)}
		for _, h := range card.History {
			if h.Text != "" {
				u.Text = h.Text
				break
			}
		}
		view.Chats = append(view.Chats, u)
	}
	if next != "" && len(rows) > 0 {
		view.Next = "/dashboard/unmatched?" + url.Values{"cursor": {next}}.Encode()
	}
	return s.renderPage(c, fiber.StatusOK, "unmatched", pageData{Title: "Unmatched chats", Nav: "unmatched", Body: view})
}

// handleConfirmPage attributes an unmatched chat to the candidate the
// operator chose, then shows the chat's card.
func (s *Server) handleConfirmPage(c *fiber.Ctx) error {
	st, _, err := s.dashSite(c)
	if err != nil {
		return err
	}
	chat, visit := strings.Clone(c.FormValue("chat")), strings.Clone(c.FormValue("visit"))
	if chat == "" || visit == "" {
		return fail(ErrBadInput, "the form needs a chat and a visit")
	}
	if err := s.dash.chats.confirm(c.UserContext(), st, chat, visit); err != nil {
		return err
	}
	return c.Redirect(chatLink(chat)+"?confirmed=1", fiber.StatusSeeOther)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// dashSourceNames returns a site's offline source names in order.
func dashSourceNames(m map[string]*config.Source) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
