package collector

import (
	"math"
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkDashboardAds measures the ads report as a dashboard page and as
// CSV against the same report from the JSON API, on the reports' fixture:
// the page's own cost is its ratio to the API baseline.
func BenchmarkDashboardAds(b *testing.B) {
	w := newDashWorld(b)
	d := newDashClient(w.testWorld)
	d.signIn(b, "demo", "demo-key-123")
	q := fixtureQuery()
	cases := []struct {
		name string
		req  func() *http.Request
	}{
		{name: "api-json", req: func() *http.Request {
			return request("GET", "/v1/sites/demo/reports/ads"+q, nil, "Authorization", "Bearer demo-key-123")
		}},
		{name: "page-html", req: func() *http.Request { return request("GET", "/dashboard/ads"+q, nil) }},
		{name: "page-csv", req: func() *http.Request { return request("GET", "/dashboard/ads"+q+"&format=csv", nil) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				resp, _ := d.do(b, c.req())
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%d", resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkRenderChart draws a year of days with the previous year
// overlaid, against a week, the small chart as baseline.
func BenchmarkRenderChart(b *testing.B) {
	d, err := newDashboard()
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
