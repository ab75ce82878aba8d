package collector

import (
	"bytes"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/wabiz"
	"github.com/messtrack/messtrack/reports"
)

// routesReports registers business events, the conversion-event choice,
// cost uploads and the reports, all behind the site's bearer key.
func (s *Server) routesReports(r fiber.Router) {
	// Each route names requireKey itself: a group middleware would also
	// run for every other route under /v1/sites/:site.
	const base = "/v1/sites/:site"
	r.Post(base+"/events", s.acked, s.requireKey, s.handleEvent)
	r.Get(base+"/conversion-event", s.requireKey, s.handleConversionEvent)
	r.Put(base+"/conversion-event", s.requireKey, s.handleSetConversionEvent)
	r.Post(base+"/costs", s.acked, s.requireKey, s.handleCosts)
	r.Get(base+"/reports/:report", s.requireKey, s.handleReport)
}

// handleReport answers GET /v1/sites/:site/reports/:report with
// ?from=&to= (YYYY-MM-DD in the site's time zone), format=json|csv, and for
// dynamics by=day|week|month|quarter.
func (s *Server) handleReport(c *fiber.Ctx) error {
	st := authedSite(c)
	ctx := c.UserContext()
	site := st.cfg.Name
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return fail(ErrBadInput, "format=%q is not json or csv", clip(format, 16))
	}
	r, err := s.reports.Range(site, c.Query("from"), c.Query("to"))
	if err != nil {
		return reportsError(err)
	}
	name := c.Params("report")
	var rep reports.Table
	switch name {
	case "ads":
		rep, err = s.reports.Ads(ctx, site, r)
	case "channels":
		rep, err = s.reports.Channels(ctx, site, r)
	case "pages":
		rep, err = s.reports.Pages(ctx, site, r)
	case "new-repeat":
		rep, err = s.reports.NewRepeat(ctx, site, r)
	case "dynamics":
		rep, err = s.reports.Dynamics(ctx, site, r, c.Query("by", "day"))
	case "codes":
		rep, err = s.reports.Codes(ctx, site, r)
	case "experiments":
		rep, err = s.reports.Experiments(ctx, site, r)
	default:
		var ok bool
		if rep, ok, err = s.wabiz.Report(ctx, site, name, r, c.Query); !ok {
			return fail(ErrNotFound, "no report %q: ads, channels, pages, new-repeat, dynamics, codes, experiments, %s", clip(name, 32), wabiz.ReportNames)
		}
	}
	if err != nil {
		return reportsError(err)
	}
	if format == "json" {
		return c.JSON(rep)
	}
	var buf bytes.Buffer
	if err := reports.WriteCSV(&buf, rep); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s-%s_%s.csv"`, site, name, r.From, r.To))
	return c.Send(buf.Bytes())
}
