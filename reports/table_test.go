package reports

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCSVSafe(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "formula", in: "=1+2", want: "'=1+2"},
		{name: "plus", in: "+7 999", want: "'+7 999"},
		{name: "minus formula", in: "-2+3", want: "'-2+3"},
		{name: "at", in: "@SUM(A1)", want: "'@SUM(A1)"},
		{name: "tab", in: "\t=1", want: "'\t=1"},
		{name: "carriage return", in: "\r=1", want: "'\r=1"},
		{name: "full-width equals", in: "＝1+2", want: "'＝1+2"},
		{name: "full-width plus", in: "＋7 999", want: "'＋7 999"},
		{name: "full-width minus", in: "－2+3", want: "'－2+3"},
		{name: "full-width at", in: "＠SUM(A1)", want: "'＠SUM(A1)"},
		{name: "full-width letter is text", in: "Ａd", want: "Ａd"},
		{name: "negative number stays a number", in: "-5.5", want: "-5.5"},
		{name: "plain text", in: "Succulents", want: "Succulents"},
		{name: "empty is null", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CSVSafe(tt.in); got != tt.want {
				t.Errorf("CSVSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// hostileReport is an ads report whose titles carry formulas, HTML and
// terminal escapes, as an ad platform or a matcher could pass them on.
func hostileReport() *AdsReport {
	one := int64(1)
	return &AdsReport{
		Rows: []AdRow{
			{AdID: "a1", Title: "=cmd|' /C calc'!A0", Conversations: 1, Conversions: &one},
			{AdID: "a2", Title: "\x1b[2J\x1b[31mred<script>alert(1)</script>", Conversations: 1, Conversions: &one},
			{AdID: "@a3", Title: "tab\tinside", Conversations: 1, Conversions: &one},
		},
		Totals: AdRow{AdID: "total", Conversations: 3},
		Notes:  Notes{"x\x1b]0;title\x07": "y"},
	}
}

func TestWriteCSVNeutralisesHostileCells(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, hostileReport()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse back: %v", err)
	}
	if got := recs[1][1]; got != "'=cmd|' /C calc'!A0" {
		t.Errorf("formula title = %q", got)
	}
	if got := recs[3][0]; got != "'@a3" {
		t.Errorf("ad ID starting with @ = %q", got)
	}
	for _, rec := range recs {
		for _, c := range rec {
			if c != "" && strings.ContainsAny(c[:1], "=+@") {
				t.Errorf("cell %q starts a formula", c)
			}
		}
	}
}

func TestWriteTableStripsTerminalControls(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, hostileReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("terminal escapes reach the terminal: %q", out)
	}
	if !strings.Contains(out, "tab?inside") {
		t.Errorf("a tab inside a cell was not replaced: %q", out)
	}
}
