package wabiz

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// readBatch bounds the day hashes read in one pipeline.
const readBatch = 64

// days lists the range's days.
func days(r reports.Range) ([]string, error) {
	f, err := reports.ParseDate(r.From)
	if err != nil {
		return nil, err
	}
	t, err := reports.ParseDate(r.To)
	if err != nil {
		return nil, err
	}
	var out []string
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out, nil
}

// readDays reads one hash per day, in bounded pipelines.
func (s *Service) readDays(ctx context.Context, keyOf func(day string) string, ds []string) ([]map[string]string, error) {
	out := make([]map[string]string, 0, len(ds))
	for len(ds) > 0 {
		n := min(readBatch, len(ds))
		cmds := make([]*redis.MapStringStringCmd, n)
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range n {
				cmds[i] = p.HGetAll(ctx, keyOf(ds[i]))
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("wabiz: read counters: %w", err)
		}
		for _, c := range cmds {
			out = append(out, c.Val())
		}
		ds = ds[n:]
	}
	return out, nil
}

func money(micros int64) float64 { return float64(micros) / 1e6 }

// WhatsApp is the WhatsApp report over r: by "category" (rows per day and
// pricing category) or "source" (rows per chat source).
func (s *Service) WhatsApp(ctx context.Context, site string, r reports.Range, by string) (*reports.WhatsAppReport, error) {
	st, err := s.site(site)
	if err != nil {
		return nil, err
	}
	if by == "" {
		by = "category"
	}
	if by != "category" && by != "source" {
		return nil, badInput("by=%q is not category or source", clipText(by, 16))
	}
	ds, err := days(r)
	if err != nil {
		return nil, err
	}
	hs, err := s.readDays(ctx, func(d string) string { return store.WADay(site, d) }, ds)
	if err != nil {
		return nil, err
	}
	rep := &reports.WhatsAppReport{Site: site, Range: r, By: by, Currency: st.Currency, Rows: []reports.WhatsAppRow{}}
	var spendTotal int64
	rows := map[string]*reports.WhatsAppRow{}
	spend := map[string]int64{}
	for i, h := range hs {
		for field, v := range h {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("wabiz: counter %s %q: %w", ds[i], field, err)
			}
			if src, ok := strings.CutPrefix(field, "src|"); ok {
				if by != "source" {
					continue
				}
				cut := strings.LastIndexByte(src, '|')
				if cut < 0 {
					continue
				}
				id, what := src[:cut], src[cut+1:]
				row := rows[id]
				if row == nil {
					parts := strings.SplitN(id, sep, 3)
					for len(parts) < 3 {
						parts = append(parts, "")
					}
					row = &reports.WhatsAppRow{Channel: parts[0], Campaign: parts[1], AdID: parts[2]}
					rows[id] = row
				}
				switch what {
				case "free":
					row.Free += n
				case "paid":
					row.Paid += n
				case "spend":
					spend[id] += n
				}
				continue
			}
			what, cat, ok := strings.Cut(field, "|")
			if !ok {
				continue
			}
			switch what {
			case "free":
				rep.Totals.Free += n
			case "paid":
				rep.Totals.Paid += n
			case "fep":
				rep.Totals.FreeEntryPoints += n
			case "spend":
				spendTotal += n
			case "nocard":
				rep.Totals.Unpriced += n
			}
			if by != "category" {
				continue
			}
			id := ds[i] + sep + cat
			row := rows[id]
			if row == nil {
				row = &reports.WhatsAppRow{Date: ds[i], Category: cat}
				rows[id] = row
			}
			switch what {
			case "free":
				row.Free += n
			case "paid":
				row.Paid += n
			case "fep":
				row.FreeEntryPoints += n
			case "spend":
				spend[id] += n
			case "nocard":
				row.Unpriced += n
			}
		}
	}
	ids := make([]string, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		row := rows[id]
		row.Spend = money(spend[id])
		rep.Rows = append(rep.Rows, *row)
	}
	if by == "source" {
		sort.SliceStable(rep.Rows, func(i, j int) bool { return rep.Rows[i].Spend > rep.Rows[j].Spend })
	}
	rep.Totals.Spend = money(spendTotal)
	if rep.Totals.Unpriced > 0 {
		rep.Notes = reports.Notes{"unpriced": "paid units without a line in whatsapp_rates are not in the spend"}
	}
	return rep, nil
}

// Templates is the templates report over r: a row per template, or, when
// template is named, a row per day of that template.
func (s *Service) Templates(ctx context.Context, site string, r reports.Range, template string) (*reports.TemplatesReport, error) {
	st, err := s.site(site)
	if err != nil {
		return nil, err
	}
	ds, err := days(r)
	if err != nil {
		return nil, err
	}
	hs, err := s.readDays(ctx, func(d string) string { return store.WATemplateDay(site, d) }, ds)
	if err != nil {
		return nil, err
	}
	rep := &reports.TemplatesReport{Site: site, Range: r, Template: template, Currency: st.Currency, Rows: []reports.TemplateRow{}}
	rows := map[string]*reports.TemplateRow{}
	cost := map[string]int64{}
	var costTotal int64
	for i, h := range hs {
		for field, v := range h {
			name, what, ok := strings.Cut(field, sep)
			if !ok || (template != "" && name != template) {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("wabiz: counter %s %q: %w", ds[i], field, err)
			}
			id := name
			if template != "" {
				id = ds[i]
			}
			row := rows[id]
			if row == nil {
				row = &reports.TemplateRow{Template: name}
				if template != "" {
					row.Date = ds[i]
				}
				rows[id] = row
			}
			for _, into := range []*reports.TemplateRow{row, &rep.Totals} {
				switch what {
				case "sent":
					into.Sent += n
				case "delivered":
					into.Delivered += n
				case "read":
					into.Read += n
				case "failed":
					into.Failed += n
				case "replied":
					into.Replied += n
				case "clicked":
					into.Clicked += n
				}
			}
			if what == "cost" {
				cost[id] += n
				costTotal += n
			}
		}
	}
	ids := make([]string, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		row := rows[id]
		row.Cost = money(cost[id])
		row.SetRates()
		rep.Rows = append(rep.Rows, *row)
	}
	rep.Totals.Template = template
	rep.Totals.Cost = money(costTotal)
	rep.Totals.SetRates()
	return rep, nil
}

// clipText shortens a caller's string before it is echoed in an error.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
