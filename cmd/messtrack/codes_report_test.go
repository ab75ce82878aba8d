package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

const codesConfig = `
sites:
  ab:
    api_key: ab-key-123
    id_secret: ab-secret-0123456789
    id_format: token
    whatsapp: [{number: "15551110000"}]
    messages:
      - {text: "Hello! My request code: {id}", weight: 1}
      - {text: "Hi! Please keep this code so we find your order: {id}", weight: 1}
`

// codesCell is one template's seeded counts.
type codesCell struct{ clicks, kept, edited, deleted int }

// TestReportCodesAndExperimentsCommands: the command line prints the
// code-survival report and the template experiment in a table, JSON and
// CSV, with the counts the collector recorded.
func TestReportCodesAndExperimentsCommands(t *testing.T) {
	redisURL, rdb := redistest.NewURL(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "messtrack.yaml")
	if err := os.WriteFile(path, []byte(codesConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REDIS_URL": redisURL}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Site("ab").Messages[0].Key(), cfg.Site("ab").Messages[1].Key()
	cells := map[string]codesCell{a: {clicks: 300, kept: 120, edited: 30, deleted: 50}, b: {clicks: 300, kept: 170, edited: 10, deleted: 20}}
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3).Add(10 * time.Hour)
	rs := reports.New(rdb, store.SystemClock{}, cfg)
	var facts []reports.CodeFact
	for key, c := range cells {
		dims := reports.CodeDims{Format: "token", Template: key, Language: "en", Device: "mobile", Channel: "organic_search", Page: "https://shop.test/"}
		for i := 0; i < c.clicks; i++ {
			facts = append(facts, reports.CodeFact{Site: "ab", Time: day, Click: true, Dims: dims})
		}
		for outcome, n := range map[string]int{reports.CodeKept: c.kept, reports.CodeEdited: c.edited, reports.CodeDeleted: c.deleted} {
			for i := 0; i < n; i++ {
				facts = append(facts, reports.CodeFact{Site: "ab", Time: day, Outcome: outcome, Dims: dims, Delay: 40 * time.Second, HasDelay: true})
			}
		}
	}
	for i := 0; i < 7; i++ {
		facts = append(facts, reports.CodeFact{Site: "ab", Time: day, Outcome: reports.CodeUnlinked, Dims: reports.CodeDims{Format: "token"}})
	}
	if err := rs.RecordCodes(context.Background(), facts...); err != nil {
		t.Fatal(err)
	}

	date := day.Format(time.DateOnly)
	cli := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append(args, "--from", date, "--to", date, "--config", path)
		if err := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] }); err != nil {
			t.Fatalf("messtrack %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}

	// codes: JSON rows, CSV records and the table hold the same counts.
	var codes reports.CodesReport
	if err := json.Unmarshal([]byte(cli("report", "--site", "ab", "codes", "--format", "json")), &codes); err != nil {
		t.Fatal(err)
	}
	type counts struct{ Clicks, Chats, Kept, Edited, Deleted, NoChat, Unlinked int64 }
	want := map[string]counts{
		"format|token":  {Clicks: 600, Chats: 400, Kept: 290, Edited: 40, Deleted: 70, NoChat: 200, Unlinked: 7},
		"template|" + a: {Clicks: 300, Chats: 200, Kept: 120, Edited: 30, Deleted: 50, NoChat: 100},
		"template|" + b: {Clicks: 300, Chats: 200, Kept: 170, Edited: 10, Deleted: 20, NoChat: 100},
		"device|mobile": {Clicks: 600, Chats: 400, Kept: 290, Edited: 40, Deleted: 70, NoChat: 200},
	}
	got := map[string]counts{}
	for _, r := range codes.Rows {
		got[r.Dimension+"|"+r.Value] = counts{r.Clicks, r.Chats, r.Kept, r.Edited, r.Deleted, r.NoChat, r.Unlinked}
		if r.Dimension == "template" && r.Value == b && (r.Survival == nil || *r.Survival != 0.85 || r.MedianSeconds == nil) {
			t.Errorf("template %s: survival %v, median %v; want 0.85 and a median", b, r.Survival, r.MedianSeconds)
		}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("codes json %s = %+v, want %+v", k, got[k], w)
		}
	}

	recs := csvRecords(t, cli("report", "--site", "ab", "codes", "--format", "csv"))
	head := recs[0]
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("the CSV has no column %q: %v", name, head)
		return -1
	}
	var templateRows int
	for _, r := range recs[1:] {
		if r[col("dimension")] != "template" {
			continue
		}
		templateRows++
		w := want["template|"+r[col("value")]]
		if r[col("clicks")] != itoa(w.Clicks) || r[col("kept")] != itoa(w.Kept) || r[col("edited")] != itoa(w.Edited) ||
			r[col("deleted")] != itoa(w.Deleted) || r[col("no_chat")] != itoa(w.NoChat) {
			t.Errorf("codes csv row %v, want %+v", r, w)
		}
	}
	if templateRows != 2 {
		t.Errorf("codes csv: %d template rows, want 2", templateRows)
	}

	table := cli("report", "--site", "ab", "codes")
	if !strings.HasPrefix(table, "codes report, site ab, "+date+" to "+date) {
		t.Errorf("the codes table's title:\n%s", table)
	}
	for _, line := range []string{
		"format token - 600 400 290 40 70 200 7 0.725",
		"template " + b + " Hi! Please keep this code so we find your order: {id} 300 200 170 10 20 100 0 0.85",
		"template " + a + " Hello! My request code: {id} 300 200 120 30 50 100 0 0.6",
	} {
		if !tableHasLine(table, line) {
			t.Errorf("the codes table has no line starting %q:\n%s", line, table)
		}
	}

	// experiments: the better template is kept, in every format.
	var exp reports.ExperimentsReport
	if err := json.Unmarshal([]byte(cli("report", "--site", "ab", "experiments", "--format", "json")), &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Keep != b || len(exp.Rows) != 2 || !strings.Contains(exp.Test, "two-proportion z-test") || exp.Alpha != 0.05 {
		t.Fatalf("experiments json: %+v", exp)
	}
	for _, r := range exp.Rows {
		c := cells[r.Template]
		if r.Clicks != int64(c.clicks) || r.Kept != int64(c.kept) || r.Chats != int64(c.kept+c.edited+c.deleted) ||
			r.Leader != (r.Template == b) || (r.Template == a && (!r.Significant || r.PValue == nil || *r.PValue >= 0.05)) {
			t.Errorf("experiments row %+v, want %+v", r, c)
		}
	}
	recs = csvRecords(t, cli("report", "--site", "ab", "experiments", "--format", "csv"))
	if strings.Join(recs[0][:4], ",") != "template,text,weight,clicks" || len(recs) < 3 {
		t.Fatalf("experiments csv: %v", recs)
	}
	for _, r := range recs[1:3] {
		c := cells[r[0]]
		if r[3] != itoa(int64(c.clicks)) || r[5] != itoa(int64(c.kept)) {
			t.Errorf("experiments csv row %v, want %+v", r, c)
		}
	}
	table = cli("report", "--site", "ab", "experiments")
	for _, line := range []string{
		"experiments report, site ab",
		a + " Hello! My request code: {id} 1 300 200 120 0.6667 0.6 0.5308 0.6654 0 yes no",
		b + " Hi! Please keep this code so we find your order: {id} 1 300 200 170 0.6667 0.85 0.7939 0.8929 - no yes",
		"test: two-sided two-proportion z-test",
		"verdict: keep " + b + ": its survival 85.0 %",
	} {
		if !tableHasLine(table, line) {
			t.Errorf("the experiments table has no line starting %q:\n%s", line, table)
		}
	}
}

func csvRecords(t *testing.T, s string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("CSV %v:\n%s", err, s)
	}
	return recs
}

// tableHasLine tells whether a terminal table has a line whose cells,
// spaces collapsed, start with want.
func tableHasLine(table, want string) bool {
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(strings.Join(strings.Fields(line), " "), want) {
			return true
		}
	}
	return false
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
