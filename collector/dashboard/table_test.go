package dashboard

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/reports"
)

func TestNeutraliseFormula(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "equals", in: `=HYPERLINK("http://evil.test","x")`, want: `'=HYPERLINK("http://evil.test","x")`},
		{name: "plus", in: "+1+1", want: "'+1+1"},
		{name: "minus", in: "-2+3", want: "'-2+3"},
		{name: "at", in: "@SUM(A1)", want: "'@SUM(A1)"},
		{name: "tab", in: "\t=1", want: "'\t=1"},
		{name: "carriage return", in: "\r=1", want: "'\r=1"},
		{name: "plain text", in: "Spring flyer", want: "Spring flyer"},
		{name: "formula later in the cell", in: "a=1", want: "a=1"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reports.CSVSafe(tt.in); got != tt.want {
				t.Errorf("CSVSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDashTableCSV(t *testing.T) {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	table := Table{
		Columns: []Column{
			{Key: "ad_id", Title: "Ad", Kind: ColText},
			{Key: "title", Title: "Title", Kind: ColText},
			{Key: "cost", Title: "Cost", Kind: ColMoney},
			{Key: "conversations", Title: "Conversations", Kind: ColCount},
			{Key: "conversion_rate", Title: "Conversion rate", Kind: ColPercent},
			{Key: "first", Title: "First", Kind: ColTime},
		},
		Rows: []Row{
			{Cells: []any{"ad-1", `=HYPERLINK("http://evil.test")`, 1234.5, int64(10), 0.25, time.Date(2026, 11, 2, 23, 0, 0, 0, time.UTC)}},
			{Cells: []any{"ad-2", "@cmd|' /C calc'!A0", 0.0, int64(0), nil, time.Time{}}},
			{Cells: []any{"ad-3", "line\nbreak, \"quoted\"", math.NaN(), int64(3)}},
		},
		Totals: &Row{Cells: []any{nil, nil, 1234.5, int64(13), 10.0 / 13}},
	}
	var buf bytes.Buffer
	if err := table.writeCSV(&buf, moscow); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse back: %v\n%s", err, buf.String())
	}
	want := [][]string{
		{"ad_id", "title", "cost", "conversations", "conversion_rate", "first"},
		{"ad-1", `'=HYPERLINK("http://evil.test")`, "1234.5", "10", "0.25", "2026-11-03T02:00:00+03:00"},
		{"ad-2", "'@cmd|' /C calc'!A0", "0", "0", "", ""},
		{"ad-3", "line\nbreak, \"quoted\"", "", "3", "", ""},
		{"totals", "", "1234.5", "13", "0.7692307692307693", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(recs), len(want), buf.String())
	}
	for i := range want {
		if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("record %d = %q, want %q", i, recs[i], want[i])
		}
	}
	if len(table.Rows) != 3 || table.Totals.Cells[0] != nil {
		t.Error("writeCSV changed the table")
	}
}

func TestDashTableFormatHTML(t *testing.T) {
	table := Table{
		Columns: []Column{
			{Key: "ad_id", Title: "Ad", Kind: ColText},
			{Key: "cost", Title: "Cost", Kind: ColMoney},
			{Key: "cpc", Title: "Cost per conversion", Kind: ColMoney},
			{Key: "rate", Title: "Rate", Kind: ColPercent},
		},
		Rows:   []Row{{Cells: []any{"ad-1", 1500.0, nil, 0.5}, Link: "/dashboard/chats?campaign=ad-1"}},
		Totals: &Row{Cells: []any{"Totals", 1500.0, nil, 0.5}},
	}
	got := table.formatHTML(NewNumberFormat("EUR", time.UTC))
	row := got.Rows[0]
	wantCells := []htmlCell{
		{Text: "ad-1", SortKey: "ad-1", Link: "/dashboard/chats?campaign=ad-1"},
		{Text: "€1,500.00", SortKey: "1500", Numeric: true},
		{Text: "—", SortKey: "-Infinity", Numeric: true},
		{Text: "50.0%", SortKey: "0.5", Numeric: true},
	}
	for i, want := range wantCells {
		if row[i] != want {
			t.Errorf("cell %d = %+v, want %+v", i, row[i], want)
		}
	}
	if len(got.Totals) != 4 || got.Totals[1].Text != "€1,500.00" {
		t.Errorf("totals = %+v", got.Totals)
	}
}
