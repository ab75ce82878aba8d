package dashboard

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

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/config"
)

// The report and chat pages read their data through two small interfaces,
// so that the pages depend on what they show, not on how reports and chats
// are stored; the collector implements them over reports.Store and the
// chat ledger (collector/dashboard_adapters.go).

// Range is a report's inclusive range of site-local days, YYYY-MM-DD.
type Range struct {
	From, To string
}

// ReportSource is what the report pages need.
type ReportSource interface {
	// reportRange checks from/to for the site; empty values take the
	// reports' defaults (the 30 days ending today).
	Range(site, from, to string) (Range, error)
	Ads(ctx context.Context, site string, r Range) (*Report, error)
	Channels(ctx context.Context, site string, r Range) (*Report, error)
	Pages(ctx context.Context, site string, r Range) (*Report, error)
	NewRepeat(ctx context.Context, site string, r Range) (*Report, error)
	// Codes is the code-survival report, Experiments the template
	// experiment's readout (its verdict among the notes).
	Codes(ctx context.Context, site string, r Range) (*Report, error)
	Experiments(ctx context.Context, site string, r Range) (*Report, error)
	// dynamics returns the site's numbers per period of the grouping (day,
	// week, month, quarter) over r.
	Dynamics(ctx context.Context, site string, r Range, by string) ([]Period, error)
}

// Report is a report table with the notes that explain its empty cells.
type Report struct {
	Table Table
	Notes []string
}

// Period is one period of the dynamics report; NaN is a number that
// cannot be computed (no cost rows, no conversion event chosen).
type Period struct {
	Period        string
	Conversations float64
	Sessions      float64
	Conversions   float64
	Cost          float64
	Revenue       float64
}

// ChatSource is what the chat pages need.
type ChatSource interface {
	// List returns a page of the site's chats, newest first, and the
	// cursor of the next page ("" at the end).
	List(ctx context.Context, site string, f ChatFilter) ([]ChatRow, string, error)
	// Card returns a chat's card, or an httperr.ErrNotFound.
	Card(ctx context.Context, site, chat string) (*ChatCard, error)
	// Confirm attributes an unmatched chat to one of its candidates.
	Confirm(ctx context.Context, site, chat, visit string) error
	// Export is everything the site keeps about the chat's person, the
	// JSON document the people API answers.
	Export(ctx context.Context, site, chat string) ([]byte, error)
	// Erase removes what the site keeps about the chat's person, as the
	// people API's erasure does.
	Erase(ctx context.Context, site, chat string) error
}

// ChatFilter selects chats for the list.
type ChatFilter struct {
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

// ChatRow is one chat in the list.
type ChatRow struct {
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

// ChatCard is a chat's source card.
type ChatCard struct {
	Chat, Name, Phone, Username, Messenger, Language string
	FirstMessageAt, ConversationAt, LastMessageAt    time.Time
	Messages                                         int64
	Dialog, Method                                   string
	Confidence                                       float64
	Confirmed                                        bool
	Visit                                            string
	Source                                           []Field
	Visitor                                          []Field
	Sessions                                         []ChatSession
	History                                          []History
	Candidates                                       []Candidate
}

// Field is a labelled value of a card; URL values are links only when
// they are http(s).
type Field struct {
	Label, Value string
	IsURL        bool
}

// ChatSession is one attribution session of a chat.
type ChatSession struct {
	StartedAt, ExpiresAt, ClosedAt time.Time
	Method, AdID, Channel, Source  string
	Page, Landing, Dialog, Status  string
	Conversion                     string // the converting event's category
	ConversionAt                   time.Time
	Value                          float64
}

// History is one entry of a chat's contact history.
type History struct {
	Time       time.Time
	Kind       string
	Method     string
	Confidence float64 // NaN when the entry has none
	Visit      string
	Text       string
}

// Candidate is a visit the heuristic found for an unmatched chat.
type Candidate struct {
	Visit      string
	ClickAt    time.Time
	GapSeconds float64
	Confidence float64
	Reasons    []string
}

// routesPages registers the report and chat pages.
func (d *Dashboard) routesPages(g fiber.Router) {
	if d.deliveries != nil {
		g.Get("/deliveries", d.requireSession, d.handleDeliveriesPage)
		g.Post("/deliveries/replay", d.requireSession, d.handleReplayPage)
	}
	if d.reports == nil || d.chats == nil {
		// Without both sources the pages would have nothing to read; the
		// navigation still lists them and they answer 404.
		return
	}
	g.Get("/ads", d.requireSession, d.reportPage("ads", "Ads", ReportSource.Ads))
	g.Get("/channels", d.requireSession, d.reportPage("channels", "Channels", ReportSource.Channels))
	g.Get("/pages", d.requireSession, d.reportPage("pages", "Pages", ReportSource.Pages))
	g.Get("/new-repeat", d.requireSession, d.reportPage("new-repeat", "New vs repeat", ReportSource.NewRepeat))
	g.Get("/codes", d.requireSession, d.reportPage("codes", "Code survival", ReportSource.Codes))
	g.Get("/experiments", d.requireSession, d.reportPage("experiments", "Template experiments", ReportSource.Experiments))
	g.Get("/dynamics", d.requireSession, d.handleDynamicsPage)
	g.Get("/chats", d.requireSession, d.handleChatsPage)
	g.Get("/chats/:chat", d.requireSession, d.handleChatPage)
	g.Get("/chats/:chat/export", d.requireSession, d.handleExport)
	g.Post("/chats/:chat/erase", d.requireSession, d.handleErase)
	g.Get("/unmatched", d.requireSession, d.handleUnmatchedPage)
	g.Post("/unmatched/confirm", d.requireSession, d.handleConfirmPage)
}

// signedInSite returns the signed-in site and its number format.
func (d *Dashboard) signedInSite(c *fiber.Ctx) (*config.Site, NumberFormat, error) {
	st, err := d.site(currentSession(c).Site)
	if err != nil {
		return nil, NumberFormat{}, err
	}
	return st, NewNumberFormat(st.Currency, st.Location), nil
}

// signedInChat is signedInSite and the chat the path names.
func (d *Dashboard) signedInChat(c *fiber.Ctx) (*config.Site, NumberFormat, string, error) {
	st, f, err := d.signedInSite(c)
	if err != nil {
		return nil, NumberFormat{}, "", err
	}
	chat, err := httperr.ChatKey(c.Params("chat"))
	if err != nil {
		return nil, NumberFormat{}, "", err
	}
	return st, f, chat, nil
}

// reportView is the data of a report page.
type reportView struct {
	Range   Range
	Table   htmlTable
	Notes   []string
	CSVLink string
}

type tableQuery func(ReportSource, context.Context, string, Range) (*Report, error)

// reportPage serves one report as a page with a date range picker, or as
// CSV with ?format=csv.
func (d *Dashboard) reportPage(nav, title string, query tableQuery) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, f, err := d.signedInSite(c)
		if err != nil {
			return err
		}
		r, err := d.reports.Range(st.Name, c.Query("from"), c.Query("to"))
		if err != nil {
			return err
		}
		rep, err := query(d.reports, c.UserContext(), st.Name, r)
		if err != nil {
			return err
		}
		switch c.Query("format") {
		case "csv":
			return sendCSV(c, &rep.Table, fmt.Sprintf("%s-%s-%s.csv", nav, r.From, r.To), st.Location)
		case "", "html":
		default:
			return httperr.Fail(httperr.ErrBadInput, "format %q is not html or csv", httperr.Clip(c.Query("format"), 16))
		}
		q := url.Values{"from": {r.From}, "to": {r.To}, "format": {"csv"}}
		return d.renderPage(c, fiber.StatusOK, "report", pageData{Title: title, Nav: nav, Body: reportView{
			Range: r, Table: rep.Table.formatHTML(f), Notes: rep.Notes,
			CSVLink: "/dashboard/" + nav + "?" + q.Encode(),
		}})
	}
}

// sendCSV answers a table as a CSV download.
func sendCSV(c *fiber.Ctx, t *Table, filename string, loc *time.Location) error {
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
	Of         func(Period) float64
}{
	{Key: "conversations", Title: "Conversations", Of: func(p Period) float64 { return p.Conversations }},
	{Key: "sessions", Title: "Attributed conversations", Of: func(p Period) float64 { return p.Sessions }},
	{Key: "conversions", Title: "Conversions", Of: func(p Period) float64 { return p.Conversions }},
	{Key: "revenue", Title: "Revenue", Money: true, Of: func(p Period) float64 { return p.Revenue }},
	{Key: "cost", Title: "Cost", Money: true, Of: func(p Period) float64 { return p.Cost }},
}

var dynamicsGroupings = []string{"day", "week", "month", "quarter"}

// dynamicsView is the data of the dynamics page.
type dynamicsView struct {
	Range     Range
	Previous  Range
	By        string
	Metric    string
	Groupings []string
	Metrics   []dynamicsOption
	Chart     template.HTML
	Table     htmlTable
}

type dynamicsOption struct{ Key, Title string }

// previousRange is the range of the same length just before r.
func previousRange(r Range) (Range, error) {
	from, err1 := time.Parse(time.DateOnly, r.From)
	to, err2 := time.Parse(time.DateOnly, r.To)
	if err1 != nil || err2 != nil {
		return Range{}, fmt.Errorf("previousRange %v: not dates", r)
	}
	days := int(to.Sub(from)/(24*time.Hour)) + 1
	prevTo := from.AddDate(0, 0, -1)
	return Range{From: prevTo.AddDate(0, 0, 1-days).Format(time.DateOnly), To: prevTo.Format(time.DateOnly)}, nil
}

// handleDynamicsPage draws the chosen number per period with the previous
// period of the same length overlaid, period by period.
func (d *Dashboard) handleDynamicsPage(c *fiber.Ctx) error {
	st, f, err := d.signedInSite(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	r, err := d.reports.Range(st.Name, c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	by := c.Query("by", "day")
	if !slices.Contains(dynamicsGroupings, by) {
		return httperr.Fail(httperr.ErrBadInput, "by %q is not one of %s", httperr.Clip(by, 16), strings.Join(dynamicsGroupings, ", "))
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
			return httperr.Fail(httperr.ErrBadInput, "metric %q is not one the chart draws", httperr.Clip(m, 24))
		}
	}
	prev, err := previousRange(r)
	if err != nil {
		return err
	}
	cur, err := d.reports.Dynamics(ctx, st.Name, r, by)
	if err != nil {
		return err
	}
	before, err := d.reports.Dynamics(ctx, st.Name, prev, by)
	if err != nil {
		return err
	}
	spec := chartSpec{Title: metric.Title + " by " + by}
	thisPeriod := chartSeries{Name: metric.Title + ", " + r.From + " – " + r.To}
	lastPeriod := chartSeries{Name: "previous period, " + prev.From + " – " + prev.To, Previous: true}
	table := Table{Columns: []Column{
		{Key: "period", Title: "Period", Kind: ColText},
		{Key: "value", Title: metric.Title, Kind: ColCount},
		{Key: "previous_period", Title: "Previous period", Kind: ColText},
		{Key: "previous", Title: "Previous", Kind: ColCount},
	}}
	if metric.Money {
		table.Columns[1].Kind, table.Columns[3].Kind = ColMoney, ColMoney
		spec.Format = f.Money
	}
	for i, p := range cur {
		spec.Labels = append(spec.Labels, p.Period)
		v := metric.Of(p)
		thisPeriod.Values = append(thisPeriod.Values, v)
		row := Row{Cells: []any{p.Period, periodCell(v, metric.Money), nil, nil}}
		pv := math.NaN()
		if i < len(before) {
			pv = metric.Of(before[i])
			row.Cells[2], row.Cells[3] = before[i].Period, periodCell(pv, metric.Money)
		}
		lastPeriod.Values = append(lastPeriod.Values, pv)
		table.Rows = append(table.Rows, row)
	}
	spec.Series = []chartSeries{thisPeriod, lastPeriod}
	chart, err := renderChart(d.chart, spec)
	if err != nil {
		return err
	}
	view := dynamicsView{Range: r, Previous: prev, By: by, Metric: metric.Key, Groupings: dynamicsGroupings,
		Chart: chart, Table: table.formatHTML(f)}
	for _, dm := range dynamicsMetrics {
		view.Metrics = append(view.Metrics, dynamicsOption{Key: dm.Key, Title: dm.Title})
	}
	return d.renderPage(c, fiber.StatusOK, "dynamics", pageData{Title: "Dynamics", Nav: "dynamics", Body: view})
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
	// Erased says the list follows an erasure.
	Erased bool
}

// chatsForm is the list's filter as the form shows it.
type chatsForm struct {
	From, To, Method, Channel, Campaign, Tag, Q string
}

var methods = []string{"id", "referral", "dedicated_number", "send_back", "heuristic", "none"}

// parseChatsForm reads the list's filter from the query.
func parseChatsForm(c *fiber.Ctx, st *config.Site) (chatsForm, ChatFilter, error) {
	form := chatsForm{
		From: c.Query("from"), To: c.Query("to"), Method: c.Query("method"), Channel: c.Query("channel"),
		Campaign: c.Query("campaign"), Tag: c.Query("tag"), Q: c.Query("q"),
	}
	f := ChatFilter{Method: form.Method, Channel: form.Channel, Campaign: form.Campaign, Tag: form.Tag,
		Query: strings.TrimSpace(form.Q), Cursor: c.Query("cursor")}
	if f.Method != "" && !slices.Contains(methods, f.Method) {
		return form, f, httperr.Fail(httperr.ErrBadInput, "method %q is not one of %s", httperr.Clip(f.Method, 24), strings.Join(methods, ", "))
	}
	for _, d := range []struct {
		name, value string
		into        *time.Time
		end         bool
	}{{"from", form.From, &f.From, false}, {"to", form.To, &f.To, true}} {
		if d.value == "" {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, d.value, st.Location)
		if err != nil {
			return form, f, httperr.Fail(httperr.ErrBadInput, "%s %q is not a date like 2026-11-02", d.name, httperr.Clip(d.value, 24))
		}
		if d.end {
			day = day.AddDate(0, 0, 1)
		}
		*d.into = day
	}
	return form, f, nil
}

// handleChatsPage lists chats, newest first, with filters and search.
func (d *Dashboard) handleChatsPage(c *fiber.Ctx) error {
	st, f, err := d.signedInSite(c)
	if err != nil {
		return err
	}
	form, filter, err := parseChatsForm(c, st)
	if err != nil {
		return err
	}
	filter.Limit = 50
	rows, next, err := d.chats.List(c.UserContext(), st.Name, filter)
	if err != nil {
		return err
	}
	table := Table{Columns: []Column{
		{Key: "name", Title: "Name", Kind: ColText},
		{Key: "chat", Title: "Chat", Kind: ColText},
		{Key: "first_message_at", Title: "First message", Kind: ColTime},
		{Key: "method", Title: "Method", Kind: ColText},
		{Key: "confidence", Title: "Confidence", Kind: ColPercent},
		{Key: "dialog", Title: "Dialog", Kind: ColText},
		{Key: "channel", Title: "Channel", Kind: ColText},
		{Key: "campaign", Title: "Campaign", Kind: ColText},
		{Key: "ad", Title: "Ad", Kind: ColText},
	}}
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = "(no name)"
		}
		table.Rows = append(table.Rows, Row{
			Cells: []any{name, r.Chat, r.FirstMessageAt, r.Method, r.Confidence, r.Dialog, r.Channel, r.Campaign, firstNonEmpty(r.AdTitle, r.AdID)},
			Link:  ChatLink(r.Chat),
		})
	}
	view := chatsView{Filter: form, Methods: methods, Table: table.formatHTML(f), Erased: c.Query("erased") == "1"}
	if next != "" && len(rows) > 0 {
		q := c.Context().QueryArgs()
		v := url.Values{}
		q.VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
		v.Set("cursor", next)
		v.Del("erased")
		view.Next = "/dashboard/chats?" + v.Encode()
	}
	return d.renderPage(c, fiber.StatusOK, "chats", pageData{Title: "Chats", Nav: "chats", Body: view})
}

// ChatLink is the dashboard path of a chat's card.
func ChatLink(chat string) string { return "/dashboard/chats/" + url.PathEscape(chat) }

// chatView is the data of a chat's card.
type chatView struct {
	Card       *ChatCard
	F          NumberFormat
	Confirmed  bool
	Candidates []candidateView
}

// candidateView is a candidate formatted for its confirm form.
type candidateView struct {
	Visit, ClickAt, Gap, Confidence string
	Reasons                         []string
}

func (d *Dashboard) handleChatPage(c *fiber.Ctx) error {
	st, f, chat, err := d.signedInChat(c)
	if err != nil {
		return err
	}
	card, err := d.chats.Card(c.UserContext(), st.Name, chat)
	if err != nil {
		return err
	}
	view := chatView{Card: card, F: f, Confirmed: c.Query("confirmed") == "1", Candidates: candidateViews(f, card.Candidates)}
	title := card.Name
	if title == "" {
		title = card.Chat
	}
	return d.renderPage(c, fiber.StatusOK, "chat", pageData{Title: title, Nav: "chats", Body: view})
}

// exportFilename is a download name for a chat's export: the chat key
// with anything but letters, digits, '-' and '_' turned into '-'.
func exportFilename(chat string) string {
	b := []byte(chat)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			b[i] = '-'
		}
	}
	return "person-" + string(b) + ".json"
}

// handleExport downloads what the site keeps about the chat's person, the
// document the people API answers.
func (d *Dashboard) handleExport(c *fiber.Ctx) error {
	st, _, chat, err := d.signedInChat(c)
	if err != nil {
		return err
	}
	doc, err := d.chats.Export(c.UserContext(), st.Name, chat)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+exportFilename(chat)+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(doc)
}

// eraseView is the data of the erasure's confirmation page.
type eraseView struct {
	Chat, Name string
	// Mistyped says the chat key typed to confirm was not the chat's.
	Mistyped bool
}

// handleErase erases the chat's person once the operator has typed the
// chat key in the form's "confirm" field; without it, or with another
// key, it shows the confirmation page and erases nothing. It then lists
// the chats with a notice.
func (d *Dashboard) handleErase(c *fiber.Ctx) error {
	st, _, chat, err := d.signedInChat(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	typed, asked := strings.TrimSpace(c.FormValue("confirm")), c.Request().PostArgs().Has("confirm")
	if typed != chat {
		card, err := d.chats.Card(ctx, st.Name, chat)
		if err != nil {
			return err
		}
		status := fiber.StatusOK
		if asked {
			status = fiber.StatusUnprocessableEntity
		}
		return d.renderPage(c, status, "erase", pageData{Title: "Erase this person's data", Nav: "chats",
			Body: eraseView{Chat: card.Chat, Name: card.Name, Mistyped: asked}})
	}
	if err := d.chats.Erase(ctx, st.Name, chat); err != nil {
		return err
	}
	d.log.Info("dashboard erased a person's data", "site", st.Name)
	return c.Redirect("/dashboard/chats?erased=1", fiber.StatusSeeOther)
}

func candidateViews(f NumberFormat, cands []Candidate) []candidateView {
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
func (d *Dashboard) handleUnmatchedPage(c *fiber.Ctx) error {
	st, f, err := d.signedInSite(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	rows, next, err := d.chats.List(ctx, st.Name, ChatFilter{Method: "none", Cursor: c.Query("cursor"), Limit: 25})
	if err != nil {
		return err
	}
	view := unmatchedView{}
	for _, r := range rows {
		card, err := d.chats.Card(ctx, st.Name, r.Chat)
		if err != nil {
			return err
		}
		u := unmatchedChat{Chat: r.Chat, Name: r.Name, Link: ChatLink(r.Chat), FirstMessageAt: f.Time(r.FirstMessageAt),
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
	return d.renderPage(c, fiber.StatusOK, "unmatched", pageData{Title: "Unmatched chats", Nav: "unmatched", Body: view})
}

// handleConfirmPage attributes an unmatched chat to the candidate the
// operator chose, then shows the chat's card.
func (d *Dashboard) handleConfirmPage(c *fiber.Ctx) error {
	st, _, err := d.signedInSite(c)
	if err != nil {
		return err
	}
	chat, visit := strings.Clone(c.FormValue("chat")), strings.Clone(c.FormValue("visit"))
	if chat == "" || visit == "" {
		return httperr.Fail(httperr.ErrBadInput, "the form needs a chat and a visit")
	}
	if err := d.chats.Confirm(c.UserContext(), st.Name, chat, visit); err != nil {
		return err
	}
	return c.Redirect(ChatLink(chat)+"?confirmed=1", fiber.StatusSeeOther)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// sourceNames returns a site's offline source names in order.
func sourceNames(m map[string]*config.Source) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// ChatsLink is the dashboard path of the chat list filtered by q.
func ChatsLink(q url.Values) string { return "/dashboard/chats?" + q.Encode() }
