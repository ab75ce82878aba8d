package collector

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// TestReportCSVNeutralisesFullWidthFormulas: ad titles starting with the
// full-width forms of = + - @, which some spreadsheets fold to ASCII, reach
// the CSV download with the same leading apostrophe as the ASCII forms.
func TestReportCSVNeutralisesFullWidthFormulas(t *testing.T) {
	w := newTestWorld(t)
	w.clock.Advance(3 * time.Hour)
	titles := map[string]string{
		"ad-1": `＝HYPERLINK("http://evil.test","win")`,
		"ad-2": "＋1+cmd|' /C calc'!A0",
		"ad-3": "－1+1",
		"ad-4": "＠SUM(A1:A9)",
	}
	for ad, title := range titles {
		w.attribute(t, "whatsapp:"+strings.TrimPrefix(ad, "ad-"), ad, title, testStart.Add(time.Hour))
	}
	resp, b := w.do(t, request("GET", "/v1/sites/demo/reports/ads?from=2026-11-02&to=2026-11-02&format=csv", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range recs[1:] {
		want, ok := titles[r[0]]
		if !ok {
			continue
		}
		seen++
		if r[1] != "'"+want {
			t.Errorf("ad %s title cell %q, want %q", r[0], r[1], "'"+want)
		}
	}
	if seen != len(titles) {
		t.Fatalf("CSV holds %d of the %d ads:\n%s", seen, len(titles), b)
	}
}
