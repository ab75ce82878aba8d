package collector

import (
	"net/http"
	"testing"

	"github.com/messtrack/messtrack/collector/collectortest"
)

// BenchmarkDashboardAds measures the ads report as a dashboard page and as
// CSV against the same report from the JSON API, on the reports' fixture:
// the page's own cost is its ratio to the API baseline.
func BenchmarkDashboardAds(b *testing.B) {
	w := newDashWorld(b)
	d := newDashClient(w.testWorld)
	d.signIn(b, "demo", "demo-key-123")
	q := collectortest.FixtureQuery()
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
