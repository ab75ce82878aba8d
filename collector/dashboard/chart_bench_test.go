package dashboard

import (
	"math"
	"strconv"
	"testing"
)

// BenchmarkRenderChart draws a year of days with the previous year
// overlaid, against a week, the small chart as baseline.
func BenchmarkRenderChart(b *testing.B) {
	d, err := parseTemplates()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{7, 365} {
		spec := chartSpec{Title: "Conversations by day"}
		cur, prev := chartSeries{Name: "this period"}, chartSeries{Name: "previous period", Previous: true}
		for i := range n {
			spec.Labels = append(spec.Labels, "d"+strconv.Itoa(i))
			cur.Values = append(cur.Values, 50+40*math.Sin(float64(i)/9))
			prev.Values = append(prev.Values, 45+30*math.Cos(float64(i)/7))
		}
		spec.Series = []chartSeries{cur, prev}
		b.Run(strconv.Itoa(n)+"-points", func(b *testing.B) {
			for b.Loop() {
				if _, err := renderChart(d.chart, spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
