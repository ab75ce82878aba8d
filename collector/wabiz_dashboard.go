package collector

import (
	"context"

	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/collector/wabiz"
	"github.com/messtrack/messtrack/reports"
)

// wabizAdapter gives the dashboard's WhatsApp pages their data from
// collector/wabiz, reshaped only.
type wabizAdapter struct {
	svc *wabiz.Service
}

func (a wabizAdapter) WhatsApp(ctx context.Context, site string, r dashboard.Range) (*dashboard.Report, []dashboard.SpendDay, error) {
	rep, err := a.svc.WhatsApp(ctx, site, reports.Range{From: r.From, To: r.To}, "category")
	if err != nil {
		return nil, nil, err
	}
	out := &dashboard.Report{Table: dashboard.Table{Columns: dashboard.Columns(reports.WhatsAppColumns)}, Notes: noteList(rep.Notes)}
	byDay := map[string]*dashboard.SpendDay{}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		out.Table.Rows = append(out.Table.Rows, dashboard.Row{Cells: dashboard.Cells(reports.WhatsAppColumns, row)})
		d := byDay[row.Date]
		if d == nil {
			d = &dashboard.SpendDay{Day: row.Date}
			byDay[row.Date] = d
		}
		d.Free += float64(row.Free)
		d.Paid += float64(row.Paid)
		d.Spend += row.Spend
	}
	days, err := dashboard.DaysOf(r)
	if err != nil {
		return nil, nil, err
	}
	series := make([]dashboard.SpendDay, 0, len(days))
	for _, day := range days {
		if d := byDay[day]; d != nil {
			series = append(series, *d)
		} else {
			series = append(series, dashboard.SpendDay{Day: day})
		}
	}
	return out, series, nil
}

func (a wabizAdapter) Templates(ctx context.Context, site string, r dashboard.Range) (*dashboard.Report, error) {
	rep, err := a.svc.Templates(ctx, site, reports.Range{From: r.From, To: r.To}, "")
	if err != nil {
		return nil, err
	}
	out := &dashboard.Report{Table: dashboard.Table{Columns: dashboard.Columns(reports.TemplateColumns)}, Notes: noteList(rep.Notes)}
	for i := range rep.Rows {
		out.Table.Rows = append(out.Table.Rows, dashboard.Row{Cells: dashboard.Cells(reports.TemplateColumns, &rep.Rows[i])})
	}
	return out, nil
}
