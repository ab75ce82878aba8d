package dashboard

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/messtrack/messtrack/reports"
)

// A Table is one report as the dashboard shows it: typed columns and
// rows of raw values. The same table becomes the HTML table (formatted for
// the site) and the CSV download (plain values), so the two never disagree.
type Table struct {
	Columns []Column
	Rows    []Row
	// Totals is the totals row, if the report has one.
	Totals *Row
}

// Column is one column: its CSV header key, its heading and how its
// values read.
type Column struct {
	Key   string
	Title string
	Kind  ColumnKind
}

// ColumnKind says how a column's values are formatted and sorted; it is
// the reports' kind, so a report's column list (reports.AdColumns, ...)
// becomes a dashboard table as it is.
type ColumnKind = reports.Kind

// The column kinds.
const (
	ColText    = reports.KindText    // string, escaped; CSV-neutralised
	ColCount   = reports.KindCount   // int64
	ColNumber  = reports.KindNumber  // float64
	ColMoney   = reports.KindMoney   // float64 in the site's currency
	ColPercent = reports.KindPercent // float64 fraction
	ColTime    = reports.KindTime    // time.Time in the site's time zone
)

// Row is one row; Cells line up with the table's Columns. A nil cell is
// a value that does not exist (shown as a dash, empty in CSV). Link, when
// set, is a dashboard path the row's first cell links to.
type Row struct {
	Cells []any
	Link  string
}

// htmlCell is a cell ready for the template: its text, the value the
// sorting script compares, and whether it is numeric (right-aligned).
type htmlCell struct {
	Text    string
	SortKey string
	Numeric bool
	Link    string
}

// htmlTable is a Table formatted for the site.
type htmlTable struct {
	Columns []Column
	Rows    [][]htmlCell
	Totals  []htmlCell
}

// formatHTML formats every cell for display with the site's number format.
func (t *Table) formatHTML(f NumberFormat) htmlTable {
	out := htmlTable{Columns: t.Columns, Rows: make([][]htmlCell, 0, len(t.Rows))}
	for _, r := range t.Rows {
		out.Rows = append(out.Rows, t.formatRow(f, r))
	}
	if t.Totals != nil {
		out.Totals = t.formatRow(f, *t.Totals)
	}
	return out
}

func (t *Table) formatRow(f NumberFormat, r Row) []htmlCell {
	cells := make([]htmlCell, len(t.Columns))
	for i, col := range t.Columns {
		var v any
		if i < len(r.Cells) {
			v = r.Cells[i]
		}
		cells[i] = formatCell(f, col.Kind, v)
	}
	if r.Link != "" && len(cells) > 0 {
		cells[0].Link = r.Link
	}
	return cells
}

func formatCell(f NumberFormat, kind ColumnKind, v any) htmlCell {
	c := htmlCell{Numeric: kind.Numeric(), Text: dash}
	switch x := v.(type) {
	case nil:
		// A value that does not exist sorts below every real one.
		c.SortKey = "-Infinity"
		if !c.Numeric {
			c.SortKey = ""
		}
	case string:
		c.Text, c.SortKey = x, strings.ToLower(x)
		if x == "" {
			c.Text = dash
		}
	case int64:
		c.Text, c.SortKey = f.Count(x), strconv.FormatInt(x, 10)
	case int:
		c.Text, c.SortKey = f.Count(int64(x)), strconv.Itoa(x)
	case float64:
		switch kind {
		case ColMoney:
			c.Text = f.Money(x)
		case ColPercent:
			c.Text = f.Percent(x)
		default:
			c.Text = f.Number(x)
		}
		c.SortKey = sortFloat(x)
	case time.Time:
		c.Text, c.SortKey = f.Time(x), strconv.FormatInt(x.Unix(), 10)
	default:
		c.Text = fmt.Sprint(x)
		c.SortKey = strings.ToLower(c.Text)
	}
	return c
}

// sortFloat is a float as the sorting script's Number() reads it.
func sortFloat(v float64) string {
	if math.IsNaN(v) {
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// writeCSV writes the table as CSV: a header of column keys, the rows, and
// the totals row last with "totals" in its first cell. Numbers are plain
// (dot decimal, no grouping, no currency sign) so spreadsheets read them as
// numbers; text cells are neutralised against formula injection.
func (t *Table) writeCSV(w io.Writer, loc *time.Location) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		header[i] = col.Key
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("writeCSV: %w", err)
	}
	rows := t.Rows
	if t.Totals != nil {
		totals := *t.Totals
		totals.Cells = append([]any{"totals"}, totals.Cells[min(1, len(totals.Cells)):]...)
		rows = append(rows[:len(rows):len(rows)], totals)
	}
	rec := make([]string, len(t.Columns))
	for _, r := range rows {
		for i := range t.Columns {
			var v any
			if i < len(r.Cells) {
				v = r.Cells[i]
			}
			rec[i] = csvValue(v, loc)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("writeCSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writeCSV: %w", err)
	}
	return nil
}

func csvValue(v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return reports.CSVSafe(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.In(loc).Format(time.RFC3339)
	default:
		return reports.CSVSafe(fmt.Sprint(x))
	}
}

// Columns turns a report's column list into the dashboard's, leaving out
// the extra ones (the per-event breakdown and the notes, which the page
// shows under the table).
func Columns[R any](cols []reports.Column[R]) []Column {
	out := make([]Column, 0, len(cols))
	for _, c := range cols {
		if !c.Extra {
			out = append(out, Column{Key: c.Key, Title: c.Title, Kind: c.Kind})
		}
	}
	return out
}

// Cells are a report row's cells for the columns Columns keeps.
func Cells[R any](cols []reports.Column[R], row *R) []any {
	out := make([]any, 0, len(cols))
	for _, c := range cols {
		if !c.Extra {
			out = append(out, c.Cell(row))
		}
	}
	return out
}
