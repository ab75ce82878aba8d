package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// chartSeries is one line of a chart; Values line up with the chart's
// Labels. A NaN value is a gap (no data for that bucket).
type chartSeries struct {
	Name   string
	Values []float64
	// Previous draws the line dashed and muted: the period before, overlaid.
	Previous bool
}

// chartSpec is a line chart: one label per bucket on the x axis and one or
// more series over them.
type chartSpec struct {
	Title  string
	Labels []string
	Series []chartSeries
	// Width and Height are the SVG's viewBox; the CSS scales it to the page.
	Width, Height int
	// Format writes a y-axis value; compact numbers when nil.
	Format func(float64) string
}

// Chart geometry, in viewBox units.
const (
	chartPadLeft   = 64
	chartPadRight  = 16
	chartPadTop    = 16
	chartPadBottom = 56 // x labels and the legend
	chartMaxLabels = 8
	chartMaxDots   = 60
)

// chartView is what the SVG template draws: every coordinate computed here,
// so the template holds no arithmetic and the geometry is table-tested.
type chartView struct {
	Title         string
	Width, Height int
	Empty         bool
	// MidX and MidY centre the empty-chart message.
	MidX, MidY float64
	// Plot area.
	Left, Right, Top, Bottom float64
	YTicks                   []chartTick
	XTicks                   []chartTick
	Lines                    []chartLine
	Legend                   []chartLegend
}

type chartTick struct {
	Pos   float64
	Label string
	// Anchor keeps the first and last x labels inside the picture.
	Anchor string
}

type chartLine struct {
	Name     string
	Class    string
	Segments []string // "x,y x,y …" per run of values without a gap
	Dots     []chartDot
}

type chartDot struct {
	X, Y  float64
	Title string
}

type chartLegend struct {
	X, X2, TextX, Y float64
	Name            string
	Class           string
}

// renderChart draws spec as an SVG with the given template (the embedded
// chart.svg). It is a pure function of its inputs: no clock, no network,
// nothing from outside, so a chart renders offline and the same data always
// draws the same picture.
func renderChart(tmpl *template.Template, spec chartSpec) (template.HTML, error) {
	view := layoutChart(spec)
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "chart.svg", view); err != nil {
		return "", fmt.Errorf("renderChart: %w", err)
	}
	// The template is html/template, so every name and label in buf is
	// already escaped for its context.
	return template.HTML(buf.String()), nil
}

// layoutChart computes the chart's geometry.
func layoutChart(spec chartSpec) chartView {
	if spec.Width <= 0 {
		spec.Width = 720
	}
	if spec.Height <= 0 {
		spec.Height = 300
	}
	format := spec.Format
	if format == nil {
		format = compactNumber
	}
	v := chartView{
		Title: spec.Title, Width: spec.Width, Height: spec.Height,
		Left: chartPadLeft, Right: float64(spec.Width - chartPadRight),
		Top: chartPadTop, Bottom: float64(spec.Height - chartPadBottom),
	}
	n := len(spec.Labels)
	lo, hi, seen := 0.0, 0.0, false
	for _, s := range spec.Series {
		for i, x := range s.Values {
			if i >= n || math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			lo, hi, seen = math.Min(lo, x), math.Max(hi, x), true
		}
	}
	if n == 0 || !seen {
		v.Empty = true
		v.MidX, v.MidY = float64(spec.Width)/2, float64(spec.Height)/2
		return v
	}
	ticks := niceTicks(lo, hi, 5)
	ymin, ymax := ticks[0], ticks[len(ticks)-1]
	yOf := func(x float64) float64 {
		// Divide each side first: ymax-ymin can overflow near MaxFloat64.
		frac := (x/2 - ymin/2) / (ymax/2 - ymin/2)
		return round2(v.Bottom - frac*(v.Bottom-v.Top))
	}
	for _, t := range ticks {
		v.YTicks = append(v.YTicks, chartTick{Pos: yOf(t), Label: format(t)})
	}
	xOf := func(i int) float64 {
		if n == 1 {
			return round2((v.Left + v.Right) / 2)
		}
		return round2(v.Left + float64(i)*(v.Right-v.Left)/float64(n-1))
	}
	step := (n + chartMaxLabels - 1) / chartMaxLabels
	for i := 0; i < n; i += step {
		anchor := "middle"
		switch {
		case n == 1:
		case i == 0:
			anchor = "start"
		case i == n-1:
			anchor = "end"
		}
		v.XTicks = append(v.XTicks, chartTick{Pos: xOf(i), Label: spec.Labels[i], Anchor: anchor})
	}
	for si, s := range spec.Series {
		line := chartLine{Name: s.Name, Class: fmt.Sprintf("s%d", si%4)}
		if s.Previous {
			line.Class += " prev"
		}
		var seg []string
		flush := func() {
			if len(seg) > 0 {
				line.Segments = append(line.Segments, strings.Join(seg, " "))
				seg = nil
			}
		}
		for i := 0; i < n; i++ {
			if i >= len(s.Values) || math.IsNaN(s.Values[i]) || math.IsInf(s.Values[i], 0) {
				flush()
				continue
			}
			x, y := xOf(i), yOf(s.Values[i])
			seg = append(seg, ftoa(x)+","+ftoa(y))
			if n <= chartMaxDots {
				line.Dots = append(line.Dots, chartDot{X: x, Y: y, Title: s.Name + ", " + spec.Labels[i] + ": " + format(s.Values[i])})
			}
		}
		flush()
		v.Lines = append(v.Lines, line)
		x := v.Left + float64(si)*(v.Right-v.Left)/float64(len(spec.Series))
		y := float64(spec.Height) - 14
		v.Legend = append(v.Legend, chartLegend{X: x, X2: x + 18, TextX: x + 24, Y: y, Name: s.Name, Class: line.Class})
	}
	return v
}

// niceTicks returns about count evenly spaced round values (steps of 1, 2
// or 5 times a power of ten) covering lo..hi and starting at or below 0 when
// all values are positive. A flat range (all zeros) becomes 0..1.
func niceTicks(lo, hi float64, count int) []float64 {
	if lo > 0 {
		lo = 0
	}
	if hi <= lo {
		hi = lo + 1
	}
	span := hi/2 - lo/2 // halved: hi-lo can overflow
	raw := span * 2 / float64(count)
	if math.IsInf(raw, 0) {
		raw = math.MaxFloat64 / float64(count)
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	var ticks []float64
	for i := 0; i <= count*3; i++ {
		t := start + float64(i)*step
		if math.IsInf(t, 0) {
			break
		}
		ticks = append(ticks, t)
		if t >= hi {
			break
		}
	}
	if ticks[len(ticks)-1] < hi {
		// Near MaxFloat64 the next round step is not representable: the
		// top tick is the largest value itself.
		ticks = append(ticks, hi)
	}
	return ticks
}

// compactNumber writes an axis value short: 950, 1.5k, 12M, 3.4B, 7T, and
// scientific notation beyond.
func compactNumber(x float64) string {
	a := math.Abs(x)
	switch {
	case a < 1000:
		return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(x, 'f', 2, 64), "0"), ".")
	case a < 1e6:
		return trimFloat(x/1e3) + "k"
	case a < 1e9:
		return trimFloat(x/1e6) + "M"
	case a < 1e12:
		return trimFloat(x/1e9) + "B"
	case a < 1e15:
		return trimFloat(x/1e12) + "T"
	}
	return strconv.FormatFloat(x, 'e', 1, 64)
}

func trimFloat(x float64) string {
	return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(x, 'f', 1, 64), "0"), ".")
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
