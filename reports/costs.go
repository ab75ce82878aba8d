package reports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// CostColumns is the header of a cost CSV and the keys of a cost JSON object;
// an optional "title" column or key names the ad.
var CostColumns = []string{"date", "ad_id", "cost", "reach", "impressions", "clicks", "currency"}

// MaxCostRows bounds one upload.
const MaxCostRows = 200_000

// maxCost bounds one row's cost so that thousandths stay exact.
const maxCost = 1e12

// RowError is one rejected cost row: its number (1 for the first data row;
// the CSV header is not counted) and why.
type RowError struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// CostRowsError lists every rejected row of an upload; nothing of the upload
// is stored.
type CostRowsError struct {
	Rows []RowError
}

// maxListedRowErrors caps how many rejected rows an error message lists.
const maxListedRowErrors = 20

func (e *CostRowsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad cost row(s), nothing stored: ", len(e.Rows))
	for i, r := range e.Rows {
		if i == maxListedRowErrors {
			fmt.Fprintf(&b, "; and %d more", len(e.Rows)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "row %d: %s", r.Row, r.Reason)
	}
	return b.String()
}

// rawCost is one row before checking, as strings (JSON numbers are accepted
// as numbers or strings).
type rawCost struct {
	row    int
	fields map[string]string
}

// ParseCostRows reads cost rows as CSV (with the CostColumns header, in any
// order) or JSON (an array of objects with those keys; numbers as numbers or
// strings), deciding by the first non-blank byte. Every row is checked
// against the site: a bad row is reported with its number and reason, and
// then no row is returned.
func ParseCostRows(r io.Reader, st *config.Site) ([]CostRow, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return nil, err
	}
	var raws []rawCost
	if first == '[' || first == '{' {
		raws, err = readJSONCosts(br)
	} else {
		raws, err = readCSVCosts(br)
	}
	if err != nil {
		return nil, err
	}
	return checkCosts(raws, st)
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return 0, invalid("no cost rows: the upload is empty")
		}
		if err != nil {
			return 0, fmt.Errorf("read cost rows: %w", err)
		}
		// A UTF-8 byte-order mark, as spreadsheet exports write it.
		if b == 0xEF {
			if bom, _ := br.Peek(2); bytes.Equal(bom, []byte{0xBB, 0xBF}) {
				_, _ = br.Discard(2)
				continue
			}
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return b, br.UnreadByte()
		}
	}
}

func readCSVCosts(r io.Reader) ([]rawCost, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, invalid("cost CSV: cannot read the header: %v", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := idx[h]; dup {
			return nil, invalid("cost CSV: column %q appears twice", clip(h, 32))
		}
		idx[h] = i
	}
	for _, col := range CostColumns {
		if _, ok := idx[col]; !ok {
			return nil, invalid("cost CSV: the header lacks %q; it must be %s", col, strings.Join(CostColumns, ","))
		}
	}
	var out []rawCost
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &CostRowsError{Rows: []RowError{{Row: row, Reason: "malformed CSV: " + pe.Err.Error()}}}
			}
			return nil, fmt.Errorf("read cost CSV: %w", err)
		}
		if len(out) == MaxCostRows {
			return nil, invalid("more than %d cost rows in one upload", MaxCostRows)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		fields := map[string]string{}
		for _, col := range append(CostColumns, "title") {
			if i, ok := idx[col]; ok && i < len(rec) {
				fields[col] = rec[i]
			}
		}
		out = append(out, rawCost{row: row, fields: fields})
	}
	return out, nil
}

func readJSONCosts(r io.Reader) ([]rawCost, error) {
	var objs []map[string]json.RawMessage
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&objs); err != nil {
		return nil, invalid("cost JSON: an array of objects with keys %s is required (%v)", strings.Join(CostColumns, ","), err)
	}
	if len(objs) > MaxCostRows {
		return nil, invalid("more than %d cost rows in one upload", MaxCostRows)
	}
	out := make([]rawCost, 0, len(objs))
	var bad []RowError
	for i, o := range objs {
		fields := map[string]string{}
		for k, v := range o {
			var s string
			if err := json.Unmarshal(v, &s); err == nil {
				fields[k] = s
				continue
			}
			var n json.Number
			if err := json.Unmarshal(v, &n); err == nil {
				fields[k] = n.String()
				continue
			}
			if string(v) == "null" {
				continue
			}
			bad = append(bad, RowError{Row: i + 1, Reason: fmt.Sprintf("%s must be a string or a number", clip(k, 32))})
		}
		out = append(out, rawCost{row: i + 1, fields: fields})
	}
	if len(bad) > 0 {
		return nil, &CostRowsError{Rows: bad}
	}
	return out, nil
}

// checkCosts turns raw rows into CostRows, collecting every problem.
func checkCosts(raws []rawCost, st *config.Site) ([]CostRow, error) {
	if len(raws) == 0 {
		return nil, invalid("no cost rows: only a header")
	}
	var bad []RowError
	seen := map[[2]string]int{}
	out := make([]CostRow, 0, len(raws))
	for _, rc := range raws {
		row, reason := checkCost(rc.fields, st)
		if reason == "" {
			k := [2]string{row.Date, row.AdID}
			if first, dup := seen[k]; dup {
				reason = fmt.Sprintf("ad %q on %s already appears in row %d", clip(row.AdID, 64), row.Date, first)
			} else {
				seen[k] = rc.row
			}
		}
		if reason != "" {
			bad = append(bad, RowError{Row: rc.row, Reason: reason})
			continue
		}
		out = append(out, row)
	}
	if len(bad) > 0 {
		return nil, &CostRowsError{Rows: bad}
	}
	return out, nil
}

func checkCost(f map[string]string, st *config.Site) (CostRow, string) {
	var row CostRow
	date := strings.TrimSpace(f["date"])
	if _, err := ParseDate(date); err != nil {
		return row, fmt.Sprintf("date %q is not a date like 2026-11-02", clip(date, 32))
	}
	row.Date = date
	ad := strings.TrimSpace(f["ad_id"])
	if ad == "" {
		return row, "ad_id is empty"
	}
	if cleanText(ad, 256) != ad {
		return row, "ad_id holds control characters or is longer than 256 bytes"
	}
	row.AdID = ad
	costText := strings.TrimSpace(f["cost"])
	cost, err := strconv.ParseFloat(costText, 64)
	if err != nil || math.IsNaN(cost) || math.IsInf(cost, 0) {
		return row, fmt.Sprintf("cost %q is not a number (use a dot for decimals)", clip(costText, 32))
	}
	if cost < 0 || cost > maxCost {
		return row, fmt.Sprintf("cost %s is outside 0..%g", costText, float64(maxCost))
	}
	row.Cost = cost
	for _, col := range []struct {
		name string
		into *int64
	}{{"reach", &row.Reach}, {"impressions", &row.Impressions}, {"clicks", &row.Clicks}} {
		v := strings.TrimSpace(f[col.name])
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return row, fmt.Sprintf("%s %q is not a whole number ≥ 0", col.name, clip(v, 32))
		}
		*col.into = n
	}
	cur := strings.ToUpper(strings.TrimSpace(f["currency"]))
	if cur == "" {
		cur = st.Currency
	}
	if cur != st.Currency {
		return row, fmt.Sprintf("currency %q differs from the site's currency %s; convert before importing", clip(cur, 8), st.Currency)
	}
	row.Currency = cur
	row.Title = cleanText(f["title"], 256)
	return row, ""
}

// AddCosts stores cost rows. Each day present in rows is replaced whole (an
// upload is the full statement of its days, so importing it again changes
// nothing). Rows are checked first; a bad row stores nothing, and all days
// become visible in one atomic step, after being written in bounded batches
// (see writeCosts).
func (s *Store) AddCosts(ctx context.Context, site string, rows []CostRow) error {
	if err := s.replaceCosts(ctx, site, nil, rows); err != nil {
		return fmt.Errorf("reports.AddCosts: %w", err)
	}
	return nil
}

// ReplaceCosts stores rows as the full statement of every day in r: days of r
// without rows are emptied (an ad platform sends no row for a day without
// delivery). Rows outside r are refused.
func (s *Store) ReplaceCosts(ctx context.Context, site string, r Range, rows []CostRow) error {
	if err := s.replaceCosts(ctx, site, &r, rows); err != nil {
		return fmt.Errorf("reports.ReplaceCosts: %w", err)
	}
	return nil
}

func (s *Store) replaceCosts(ctx context.Context, site string, r *Range, rows []CostRow) error {
	st, err := s.siteConf(site)
	if err != nil {
		return err
	}
	// Rows built in Go (the sync, tests) pass the same checks as uploads.
	raws := make([]rawCost, len(rows))
	for i, row := range rows {
		raws[i] = rawCost{row: i + 1, fields: map[string]string{
			"date": row.Date, "ad_id": row.AdID, "cost": strconv.FormatFloat(row.Cost, 'f', -1, 64),
			"reach": strconv.FormatInt(row.Reach, 10), "impressions": strconv.FormatInt(row.Impressions, 10),
			"clicks": strconv.FormatInt(row.Clicks, 10), "currency": row.Currency, "title": row.Title,
		}}
	}
	var checked []CostRow
	if len(raws) > 0 {
		if checked, err = checkCosts(raws, st); err != nil {
			return err
		}
	}
	byDay := map[string][]CostRow{}
	if r != nil {
		f, _ := time.Parse(dateLayout, r.From)
		t, _ := time.Parse(dateLayout, r.To)
		for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
			byDay[d.Format(dateLayout)] = nil
		}
	}
	var bad []RowError
	for i, row := range checked {
		if _, in := byDay[row.Date]; r != nil && !in {
			bad = append(bad, RowError{Row: i + 1, Reason: fmt.Sprintf("date %s is outside %s..%s", row.Date, r.From, r.To)})
			continue
		}
		byDay[row.Date] = append(byDay[row.Date], row)
	}
	if len(bad) > 0 {
		return &CostRowsError{Rows: bad}
	}
	if len(byDay) == 0 {
		return invalid("no cost rows")
	}
	dayStart := make(map[string]int64, len(byDay))
	for day, dr := range byDay {
		sort.Slice(dr, func(i, j int) bool { return dr[i].AdID < dr[j].AdID })
		d, _ := time.ParseInLocation(dateLayout, day, st.Location)
		dayStart[day] = d.UnixMilli()
	}
	if err := s.writeCosts(ctx, st.Name, byDay, dayStart); err != nil {
		return fmt.Errorf("store costs: %w", err)
	}
	return nil
}

// SetRangeReach stores each ad's deduplicated reach over exactly r, as an ad
// platform reports it for the whole range; the ads report uses it for that
// range instead of the sum of daily reach.
func (s *Store) SetRangeReach(ctx context.Context, site string, r Range, reach map[string]int64) error {
	st, err := s.siteConf(site)
	if err != nil {
		return fmt.Errorf("reports.SetRangeReach: %w", err)
	}
	key := store.ReportRangeReach(st.Name, r.From, r.To)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		if len(reach) > 0 {
			vals := make([]any, 0, 2*len(reach))
			for ad, n := range reach {
				vals = append(vals, ad, n)
			}
			p.HSet(ctx, key, vals...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reports.SetRangeReach: %w", err)
	}
	return nil
}
