package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
)

// WhatsAppSource is what the WhatsApp pages need: the WhatsApp report
// (free and paid units and spend per day and category) with its per-day
// numbers for the chart, and the templates report.
type WhatsAppSource interface {
	WhatsApp(ctx context.Context, site string, r Range) (*Report, []SpendDay, error)
	Templates(ctx context.Context, site string, r Range) (*Report, error)
}

// SpendDay is one site-local day's free and paid units and spend.
type SpendDay struct {
	Day        string
	Free, Paid float64
	Spend      float64
}

// routesWhatsApp registers the WhatsApp and templates pages.
func (d *Dashboard) routesWhatsApp(g fiber.Router) {
	if d.whatsapp == nil || d.reports == nil {
		return
	}
	g.Get("/whatsapp", d.requireSession, d.handleWhatsAppPage)
	g.Get("/templates", d.requireSession, d.reportPage("templates", "Templates",
		func(_ ReportSource, ctx context.Context, site string, r Range) (*Report, error) {
			return d.whatsapp.Templates(ctx, site, r)
		}))
}

// whatsAppView is the data of the WhatsApp page.
type whatsAppView struct {
	reportView
	Chart      template.HTML
	SpendChart template.HTML
}

// handleWhatsAppPage shows free and paid units per day as a chart, spend
// per day as another, and the table per day and category.
func (d *Dashboard) handleWhatsAppPage(c *fiber.Ctx) error {
	st, f, err := d.signedInSite(c)
	if err != nil {
		return err
	}
	r, err := d.reports.Range(st.Name, c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	rep, days, err := d.whatsapp.WhatsApp(c.UserContext(), st.Name, r)
	if err != nil {
		return err
	}
	switch c.Query("format") {
	case "csv":
		return sendCSV(c, &rep.Table, fmt.Sprintf("whatsapp-%s-%s.csv", r.From, r.To), st.Location)
	case "", "html":
	default:
		return httperr.Fail(httperr.ErrBadInput, "format %q is not html or csv", httperr.Clip(c.Query("format"), 16))
	}
	units := chartSpec{Title: "Free and paid per day"}
	free, paid := chartSeries{Name: "Free"}, chartSeries{Name: "Paid"}
	spend := chartSpec{Title: "Spend per day", Format: f.Money}
	cost := chartSeries{Name: "Spend"}
	for _, day := range days {
		units.Labels = append(units.Labels, day.Day)
		spend.Labels = append(spend.Labels, day.Day)
		free.Values = append(free.Values, day.Free)
		paid.Values = append(paid.Values, day.Paid)
		cost.Values = append(cost.Values, day.Spend)
	}
	units.Series, spend.Series = []chartSeries{free, paid}, []chartSeries{cost}
	chart, err := renderChart(d.chart, units)
	if err != nil {
		return err
	}
	spendChart, err := renderChart(d.chart, spend)
	if err != nil {
		return err
	}
	q := url.Values{"from": {r.From}, "to": {r.To}, "format": {"csv"}}
	return d.renderPage(c, fiber.StatusOK, "whatsapp", pageData{Title: "WhatsApp", Nav: "whatsapp", Body: whatsAppView{
		reportView: reportView{Range: r, Table: rep.Table.formatHTML(f), Notes: rep.Notes, CSVLink: "/dashboard/whatsapp?" + q.Encode()},
		Chart:      chart, SpendChart: spendChart,
	}})
}

// DaysOf lists a range's days, for a chart with a point on every day.
func DaysOf(r Range) ([]string, error) {
	from, err1 := time.Parse(time.DateOnly, r.From)
	to, err2 := time.Parse(time.DateOnly, r.To)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("DaysOf %v: not dates", r)
	}
	var out []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out, nil
}
