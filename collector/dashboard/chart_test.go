package dashboard

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestLayoutChart(t *testing.T) {
	nan := math.NaN()
	days := func(n int) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = "d" + strconv.Itoa(i+1)
		}
		return l
	}
	tests := []struct {
		name   string
		spec   chartSpec
		check  func(t *testing.T, v chartView)
		inSVG  []string
		notSVG []string
	}{
		{
			name: "axes",
			spec: chartSpec{Labels: []string{"Mon", "Tue", "Wed"}, Series: []chartSeries{{Name: "Conversations", Values: []float64{3, 7, 12}}}},
			check: func(t *testing.T, v chartView) {
				labels := tickLabels(v.YTicks)
				if labels != "0 5 10 15" {
					t.Errorf("y ticks = %s, want 0 5 10 15", labels)
				}
				if v.YTicks[0].Pos != v.Bottom || v.YTicks[len(v.YTicks)-1].Pos != v.Top {
					t.Errorf("y ticks span %v..%v, want the plot %v..%v", v.YTicks[0].Pos, v.YTicks[len(v.YTicks)-1].Pos, v.Bottom, v.Top)
				}
				if tickLabels(v.XTicks) != "Mon Tue Wed" || v.XTicks[0].Pos != v.Left || v.XTicks[2].Pos != v.Right {
					t.Errorf("x ticks = %+v, want Mon..Wed from left to right", v.XTicks)
				}
				if len(v.Lines) != 1 || len(v.Lines[0].Segments) != 1 || len(v.Lines[0].Dots) != 3 {
					t.Fatalf("lines = %+v, want one line of 3 points", v.Lines)
				}
				// 12 of 15 is 80% of the way up the plot.
				wantY := round2(v.Bottom - 0.8*(v.Bottom-v.Top))
				if d := v.Lines[0].Dots[2]; d.Y != wantY || d.Title != "Conversations, Wed: 12" {
					t.Errorf("last dot = %+v, want y %v", d, wantY)
				}
			},
			inSVG: []string{`<polyline fill="none" points="64,`, `>Wed</text>`, `>15</text>`},
		},
		{
			name: "two series, the previous period dashed",
			spec: chartSpec{
				Labels: []string{"w1", "w2"},
				Series: []chartSeries{
					{Name: "This period", Values: []float64{4, 8}},
					{Name: "Previous period", Values: []float64{2, 10}, Previous: true},
				},
			},
			check: func(t *testing.T, v chartView) {
				if len(v.Lines) != 2 || v.Lines[0].Class != "s0" || v.Lines[1].Class != "s1 prev" {
					t.Fatalf("lines = %+v, want s0 and a dashed s1", v.Lines)
				}
				if len(v.Legend) != 2 || v.Legend[1].Name != "Previous period" || v.Legend[1].X <= v.Legend[0].X {
					t.Errorf("legend = %+v", v.Legend)
				}
				if tickLabels(v.YTicks) != "0 2 4 6 8 10" {
					t.Errorf("y ticks = %s: both series must fit", tickLabels(v.YTicks))
				}
			},
			inSVG: []string{`class="series s1 prev"`, `>Previous period</text>`},
		},
		{
			name:   "empty data",
			spec:   chartSpec{Title: "Conversations by day"},
			check:  func(t *testing.T, v chartView) { requireEmpty(t, v) },
			inSVG:  []string{"No data for this range"},
			notSVG: []string{"<polyline"},
		},
		{
			name:  "labels without values",
			spec:  chartSpec{Labels: []string{"a", "b"}, Series: []chartSeries{{Name: "x", Values: []float64{nan, nan}}}},
			check: func(t *testing.T, v chartView) { requireEmpty(t, v) },
			inSVG: []string{"No data for this range"},
		},
		{
			name: "one point",
			spec: chartSpec{Labels: []string{"2026-11-02"}, Series: []chartSeries{{Name: "Conversions", Values: []float64{5}}}},
			check: func(t *testing.T, v chartView) {
				mid := round2((v.Left + v.Right) / 2)
				if len(v.Lines[0].Dots) != 1 || v.Lines[0].Dots[0].X != mid || v.XTicks[0].Pos != mid {
					t.Errorf("one point at %+v, want it centred at x %v", v.Lines[0].Dots, mid)
				}
			},
			inSVG: []string{"<circle"},
		},
		{
			name: "zero values",
			spec: chartSpec{Labels: []string{"a", "b", "c"}, Series: []chartSeries{{Name: "Revenue", Values: []float64{0, 0, 0}}}},
			check: func(t *testing.T, v chartView) {
				if tickLabels(v.YTicks) != "0 0.2 0.4 0.6 0.8 1" {
					t.Errorf("y ticks = %s, want 0..1 for a flat zero line", tickLabels(v.YTicks))
				}
				for _, d := range v.Lines[0].Dots {
					if d.Y != v.Bottom {
						t.Errorf("a zero at y %v, want the baseline %v", d.Y, v.Bottom)
					}
				}
			},
		},
		{
			name: "huge values",
			spec: chartSpec{Labels: []string{"a", "b"}, Series: []chartSeries{{Name: "Revenue", Values: []float64{2.5e12, 9.1e12}}}},
			check: func(t *testing.T, v chartView) {
				if tickLabels(v.YTicks) != "0 2T 4T 6T 8T 10T" {
					t.Errorf("y ticks = %s", tickLabels(v.YTicks))
				}
			},
		},
		{
			name: "values near the float limit",
			spec: chartSpec{Labels: []string{"a", "b"}, Series: []chartSeries{{Name: "x", Values: []float64{1, math.MaxFloat64}}}},
			check: func(t *testing.T, v chartView) {
				requireInPlot(t, v)
				if top := v.YTicks[len(v.YTicks)-1]; top.Pos != v.Top {
					t.Errorf("the largest value is not at the top: %+v", top)
				}
			},
		},
		{
			name: "negative values",
			spec: chartSpec{Labels: []string{"a", "b"}, Series: []chartSeries{{Name: "x", Values: []float64{-30, 70}}}},
			check: func(t *testing.T, v chartView) {
				if tickLabels(v.YTicks) != "-40 -20 0 20 40 60 80" {
					t.Errorf("y ticks = %s", tickLabels(v.YTicks))
				}
				requireInPlot(t, v)
			},
		},
		{
			name: "a gap splits the line",
			spec: chartSpec{Labels: []string{"a", "b", "c", "d"}, Series: []chartSeries{{Name: "x", Values: []float64{1, nan, 3, math.Inf(1)}}}},
			check: func(t *testing.T, v chartView) {
				if len(v.Lines[0].Segments) != 2 || len(v.Lines[0].Dots) != 2 {
					t.Errorf("line = %+v, want two runs and two dots", v.Lines[0])
				}
			},
		},
		{
			name: "a year of days",
			spec: chartSpec{Labels: days(365), Series: []chartSeries{{Name: "x", Values: make([]float64, 365)}}},
			check: func(t *testing.T, v chartView) {
				if len(v.XTicks) > chartMaxLabels {
					t.Errorf("%d x labels, want at most %d", len(v.XTicks), chartMaxLabels)
				}
				if len(v.Lines[0].Dots) != 0 {
					t.Errorf("%d dots on a dense line, want none", len(v.Lines[0].Dots))
				}
				requireInPlot(t, v)
			},
		},
		{
			name: "hostile names are escaped",
			spec: chartSpec{
				Title:  `</title><script>alert(1)</script>`,
				Labels: []string{`<img src=x onerror=alert(2)>`},
				Series: []chartSeries{{Name: `"><script>alert(3)</script>`, Values: []float64{1}}},
			},
			inSVG:  []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;"},
			notSVG: []string{"<script", "<img"},
		},
	}
	d, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := layoutChart(tt.spec)
			if tt.check != nil {
				tt.check(t, v)
			}
			svg, err := renderChart(d.chart, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			requireWellFormed(t, string(svg))
			for _, s := range tt.inSVG {
				if !strings.Contains(string(svg), s) {
					t.Errorf("SVG lacks %q:\n%s", s, svg)
				}
			}
			for _, s := range append(tt.notSVG, "NaN", "Inf") {
				if strings.Contains(string(svg), s) {
					t.Errorf("SVG holds %q:\n%s", s, svg)
				}
			}
		})
	}
}

func TestCompactNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{in: 0, want: "0"}, {in: 0.25, want: "0.25"}, {in: 950, want: "950"}, {in: 1500, want: "1.5k"},
		{in: 12e6, want: "12M"}, {in: 3.4e9, want: "3.4B"}, {in: 7e12, want: "7T"},
		{in: 2e18, want: "2.0e+18"}, {in: -2500, want: "-2.5k"},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.in, 'g', -1, 64), func(t *testing.T) {
			if got := compactNumber(tt.in); got != tt.want {
				t.Errorf("compactNumber(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func tickLabels(ticks []chartTick) string {
	var l []string
	for _, tk := range ticks {
		l = append(l, tk.Label)
	}
	return strings.Join(l, " ")
}

func requireEmpty(t *testing.T, v chartView) {
	t.Helper()
	if !v.Empty || len(v.Lines) != 0 || len(v.YTicks) != 0 {
		t.Errorf("view = %+v, want an empty chart", v)
	}
}

// requireInPlot checks that every point lies inside the plot area.
func requireInPlot(t *testing.T, v chartView) {
	t.Helper()
	for _, l := range v.Lines {
		for _, seg := range l.Segments {
			for _, pt := range strings.Fields(seg) {
				xs, ys, _ := strings.Cut(pt, ",")
				x, errX := strconv.ParseFloat(xs, 64)
				y, errY := strconv.ParseFloat(ys, 64)
				if errX != nil || errY != nil || x < v.Left || x > v.Right || y < v.Top || y > v.Bottom {
					t.Fatalf("point %q lies outside the plot %v..%v × %v..%v", pt, v.Left, v.Right, v.Top, v.Bottom)
				}
			}
		}
	}
}

// requireWellFormed parses the SVG as XML.
func requireWellFormed(t *testing.T, svg string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
	}
}
