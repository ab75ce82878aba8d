package collector

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/reports"
)

var (
	tbodyRE = regexp.MustCompile(`(?s)<tbody>(.*?)</tbody>`)
	trRE    = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	tdRE    = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagRE   = regexp.MustCompile(`<[^>]+>`)
)

// pageRows are the texts of a dashboard table's body cells, row by row.
func pageRows(t testing.TB, page string) [][]string {
	t.Helper()
	body := tbodyRE.FindStringSubmatch(page)
	if body == nil {
		t.Fatalf("no table on the page:\n%s", clip(page, 3000))
	}
	var rows [][]string
	for _, tr := range trRE.FindAllStringSubmatch(body[1], -1) {
		var cells []string
		for _, td := range tdRE.FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, html.UnescapeString(tagRE.ReplaceAllString(td[1], "")))
		}
		rows = append(rows, cells)
	}
	return rows
}

// shownAs is how the dashboard shows a report cell of the given kind.
func shownAs(f dashboard.NumberFormat, kind reports.Kind, v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return "—"
		}
		return x
	case int64:
		return f.Count(x)
	case int:
		return f.Count(int64(x))
	case float64:
		switch kind {
		case reports.KindPercent:
			return f.Percent(x)
		case reports.KindMoney:
			return f.Money(x)
		}
		return f.Number(x)
	}
	return "?"
}

// matchPageRows checks that the page shows every API row, cell by cell,
// finding each by its first keyCells cells.
func matchPageRows[R any](t *testing.T, name string, cols []reports.Column[R], apiRows []R, page [][]string, keyCells int) {
	t.Helper()
	f := dashboard.NewNumberFormat("USD", time.UTC)
	if len(page) != len(apiRows) {
		t.Errorf("%s: the page has %d rows, the API %d", name, len(page), len(apiRows))
	}
	for i := range apiRows {
		want := make([]string, len(cols))
		for j, c := range cols {
			want[j] = shownAs(f, c.Kind, c.Cell(&apiRows[i]))
		}
		var got []string
		for _, r := range page {
			if len(r) >= keyCells && strings.Join(r[:keyCells], "|") == strings.Join(want[:keyCells], "|") {
				got = r
			}
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s row %v:\npage %q\napi  %q", name, want[:keyCells], got, want)
		}
	}
}

func TestDashboardCodesAndExperimentsShowTheAPINumbers(t *testing.T) {
	cfg := strings.Replace(testConfigYAML, `message: "Hello! My request code: {id}"`,
		`messages: [{text: "Hello! My request code: {id}"}, {text: "Hi! Please keep this code so we find your order: {id}", weight: 2}]`, 1)
	w := newTestWorld(t, cfg)
	site := w.cfg.Site("demo")
	a, b := site.Messages[0].Key(), site.Messages[1].Key()
	at := w.clock.Now()
	var facts []reports.CodeFact
	add := func(n int, f reports.CodeFact) {
		f.Site, f.Time = "demo", at
		for i := 0; i < n; i++ {
			facts = append(facts, f)
		}
	}
	for _, c := range []struct {
		template, device             string
		clicks, kept, edited, delete int
		delay                        time.Duration
	}{
		{a, "mobile", 1250, 410, 60, 130, 35 * time.Second},
		{a, "desktop", 300, 90, 10, 20, 3 * time.Minute},
		{b, "mobile", 2400, 980, 40, 95, 50 * time.Second},
		{b, "desktop", 610, 200, 9, 31, 2 * time.Minute},
	} {
		dims := reports.CodeDims{Format: "token", Template: c.template, Language: "en", Device: c.device, Channel: "paid_social", Page: "https://shop.test/roses"}
		add(c.clicks, reports.CodeFact{Click: true, Dims: dims})
		add(c.kept, reports.CodeFact{Outcome: reports.CodeKept, Dims: dims, Delay: c.delay, HasDelay: true})
		add(c.edited, reports.CodeFact{Outcome: reports.CodeEdited, Dims: dims, Delay: c.delay, HasDelay: true})
		add(c.delete, reports.CodeFact{Outcome: reports.CodeDeleted, Dims: dims, Delay: 2 * c.delay, HasDelay: true})
	}
	add(23, reports.CodeFact{Outcome: reports.CodeUnlinked, Dims: reports.CodeDims{Format: "token"}})
	if err := w.srv.reports.RecordCodes(t.Context(), facts...); err != nil {
		t.Fatal(err)
	}
	day := reports.Day(site, at)
	q := "?from=" + day + "&to=" + day
	api := func(rep string, out any) {
		t.Helper()
		resp, body := w.do(t, request("GET", "/v1/sites/demo/reports/"+rep+q, nil, "Authorization", "Bearer demo-key-123"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("API %s: %d %s", rep, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("API %s: %v", rep, err)
		}
	}
	d := newDashClient(w)
	d.signIn(t, "demo", "demo-key-123")
	page := func(path string) string {
		t.Helper()
		resp, body := d.get(t, path+q)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, resp.StatusCode, clip(body, 1500))
		}
		return body
	}

	var codes reports.CodesReport
	api("codes", &codes)
	if len(codes.Rows) != 8 {
		t.Fatalf("the API's codes report has %d rows, want 8: %+v", len(codes.Rows), codes.Rows)
	}
	codesPage := page("/dashboard/codes")
	matchPageRows(t, "codes", reports.CodeColumns, codes.Rows, pageRows(t, codesPage), 2)
	for _, s := range []string{"4,560", "1,680", "Hi! Please keep this code so we find your order: {id}"} {
		if !strings.Contains(html.UnescapeString(codesPage), s) {
			t.Errorf("the codes page lacks %q", s)
		}
	}

	var exp reports.ExperimentsReport
	api("experiments", &exp)
	if exp.Keep != b {
		t.Fatalf("the API keeps %q, want %s: %s", exp.Keep, b, exp.Verdict)
	}
	expPage := page("/dashboard/experiments")
	matchPageRows(t, "experiments", reports.ExperimentColumns, exp.Rows, pageRows(t, expPage), 1)
	if !strings.Contains(html.UnescapeString(expPage), exp.Verdict) || !strings.Contains(html.UnescapeString(expPage), exp.Test) {
		t.Errorf("the experiments page lacks the verdict %q or the test %q", exp.Verdict, exp.Test)
	}
}
