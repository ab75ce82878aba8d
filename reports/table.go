package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// Table is a report as columns and rows of cells, for CSV and the terminal.
// An empty cell is a null number (its reason is in the notes column).
type Table interface {
	Columns() []string
	Records() [][]string
	// ReportNotes are the report-wide notes, printed under a terminal table.
	ReportNotes() Notes
}

// plainNumber is a cell that spreadsheets read as a number, never as a
// formula, even when it starts with '-'.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// CSVSafe neutralises a cell that a spreadsheet would run as a formula: one
// starting with = + - @ or their full-width forms ＝ ＋ － ＠ (which some
// spreadsheets fold to ASCII), a tab or a carriage return gets a leading
// apostrophe. Plain numbers (a refund of -5.5) stay numbers. Every CSV that
// messtrack writes passes its text cells through it: ad titles, UTM tags and
// names come from visitors and platforms ("=HYPERLINK(...)").
func CSVSafe(cell string) string {
	if cell == "" || plainNumber.MatchString(cell) {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	r, _ := utf8.DecodeRuneInString(cell)
	switch r {
	case '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20':
		return "'" + cell
	}
	return cell
}

// WriteCSV writes t as CSV with a header row, formulas neutralised.
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Columns()); err != nil {
		return fmt.Errorf("reports.WriteCSV: %w", err)
	}
	for _, rec := range t.Records() {
		safe := make([]string, len(rec))
		for i, c := range rec {
			safe[i] = CSVSafe(c)
		}
		if err := cw.Write(safe); err != nil {
			return fmt.Errorf("reports.WriteCSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("reports.WriteCSV: %w", err)
	}
	return nil
}

// terminalSafe replaces control characters, which could move the cursor or
// recolour a terminal, and tabs, which would break the columns.
func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return '?'
		}
		return r
	}, s)
}

// WriteTable writes t as aligned columns for a terminal; null cells show as
// "-" and the notes follow the table.
func WriteTable(w io.Writer, t Table) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cols := t.Columns()
	// The notes column is long: it goes under the table instead.
	notesAt := -1
	for i, c := range cols {
		if c == "notes" {
			notesAt = i
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			if i == notesAt {
				continue
			}
			if c == "" {
				c = "-"
			}
			if rs := []rune(c); len(rs) > 60 {
				c = string(rs[:57]) + "..."
			}
			b.WriteString(terminalSafe(c))
			b.WriteByte('\t')
		}
		fmt.Fprintln(tw, b.String())
	}
	line(cols)
	var rowNotes []string
	for _, rec := range t.Records() {
		line(rec)
		if notesAt >= 0 && notesAt < len(rec) && rec[notesAt] != "" {
			label := rec[0]
			if len(cols) > 1 && (cols[1] == "url" || cols[1] == "source") && rec[1] != "" {
				label += " " + rec[1]
			}
			rowNotes = append(rowNotes, label+": "+rec[notesAt])
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("reports.WriteTable: %w", err)
	}
	notes := t.ReportNotes()
	if len(notes) > 0 || len(rowNotes) > 0 {
		fmt.Fprintln(w)
	}
	for _, k := range sortedMembers(notes) {
		fmt.Fprintf(w, "%s: %s\n", terminalSafe(k), terminalSafe(notes[k]))
	}
	for _, n := range rowNotes {
		fmt.Fprintf(w, "- %s\n", terminalSafe(n))
	}
	return nil
}

// --- cells -----------------------------------------------------------------

func cellInt(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

func cellFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func cellNotes(n Notes) string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + n[k]
	}
	return strings.Join(parts, "; ")
}

func cellByEvent(m map[string]int64) string {
	keys := sortedMembers(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatInt(m[k], 10)
	}
	return strings.Join(parts, " ")
}

// --- ads and traffic ---------------------------------------------------------

// Columns names the ads report's columns (AdColumns).
func (r *AdsReport) Columns() []string { return columnKeys(AdColumns) }

// Records returns the rows and then the totals.
func (r *AdsReport) Records() [][]string {
	return columnRecords(AdColumns, append(append([]AdRow{}, r.Rows...), r.Totals))
}

// ReportNotes returns the report-wide notes.
func (r *AdsReport) ReportNotes() Notes { return r.Notes }

// Columns names the channels report's columns (ChannelColumns).
func (r *ChannelsReport) Columns() []string { return columnKeys(ChannelColumns) }

// Records returns the rows and then the totals; the new-vs-repeat split is
// its own report.
func (r *ChannelsReport) Records() [][]string {
	return columnRecords(ChannelColumns, append(append([]TrafficRow{}, r.Rows...), r.Totals))
}

// ReportNotes returns the report-wide notes.
func (r *ChannelsReport) ReportNotes() Notes { return r.Notes }

// Columns names the pages report's columns (PageColumns).
func (r *PagesReport) Columns() []string { return columnKeys(PageColumns) }

// Records returns the rows and then the totals.
func (r *PagesReport) Records() [][]string {
	return columnRecords(PageColumns, append(append([]TrafficRow{}, r.Rows...), r.Totals))
}

// ReportNotes returns the report-wide notes.
func (r *PagesReport) ReportNotes() Notes { return r.Notes }

// Columns names the new-vs-repeat report's columns (NewRepeatColumns).
func (r *NewRepeatReport) Columns() []string { return columnKeys(NewRepeatColumns) }

// Records returns the rows and then the totals.
func (r *NewRepeatReport) Records() [][]string {
	return columnRecords(NewRepeatColumns, append(append([]TrafficRow{}, r.Rows...), r.Totals))
}

// ReportNotes returns the report-wide notes.
func (r *NewRepeatReport) ReportNotes() Notes { return r.Notes }

// --- dynamics --------------------------------------------------------------------

// Columns names the dynamics report's columns.
func (r *DynamicsReport) Columns() []string {
	return []string{"period", "from", "to", "conversations", "sessions", "conversions", "conversion_rate",
		"cost", "cost_per_conversion", "revenue", "notes"}
}

// Records returns the periods, the totals, the previous period and the
// change (its cells are fractions).
func (r *DynamicsReport) Records() [][]string {
	var out [][]string
	for _, b := range append(append([]DynamicsRow{}, r.Rows...), r.Totals, r.Previous) {
		out = append(out, []string{b.Period, b.From, b.To, strconv.FormatInt(b.Conversations, 10),
			strconv.FormatInt(b.Sessions, 10), cellInt(b.Conversions), cellFloat(b.ConversionRate),
			cellFloat(b.Cost), cellFloat(b.CostPerConversion), cellFloat(b.Revenue), cellNotes(b.Notes)})
	}
	c := r.Change
	out = append(out, []string{"change", r.From, r.To, cellFloat(c.Conversations), cellFloat(c.Sessions),
		cellFloat(c.Conversions), "", cellFloat(c.Cost), "", cellFloat(c.Revenue), cellNotes(c.Notes)})
	return out
}

// ReportNotes returns the report-wide notes.
func (r *DynamicsReport) ReportNotes() Notes { return r.Notes }

// --- codes and experiments ---------------------------------------------------

// Columns names the code-survival report's columns (CodeColumns).
func (r *CodesReport) Columns() []string { return columnKeys(CodeColumns) }

// Records returns the rows.
func (r *CodesReport) Records() [][]string { return columnRecords(CodeColumns, r.Rows) }

// ReportNotes returns the report-wide notes.
func (r *CodesReport) ReportNotes() Notes { return r.Notes }

// Columns names the experiment's columns (ExperimentColumns).
func (r *ExperimentsReport) Columns() []string { return columnKeys(ExperimentColumns) }

// Records returns the templates.
func (r *ExperimentsReport) Records() [][]string { return columnRecords(ExperimentColumns, r.Rows) }

// ReportNotes returns the notes with the test and the verdict.
func (r *ExperimentsReport) ReportNotes() Notes {
	n := Notes{"test": fmt.Sprintf("%s, alpha %.2f", r.Test, r.Alpha), "verdict": r.Verdict}
	for k, v := range r.Notes {
		n[k] = v
	}
	return n
}
