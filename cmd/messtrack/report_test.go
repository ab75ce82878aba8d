package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/store/redistest"
)

// reportWorld is a config file on a private Redis and a local insights
// endpoint answering in the Graph API's shapes.
type reportWorld struct {
	dir string
	env map[string]string
}

func newReportWorld(t *testing.T) *reportWorld {
	t.Helper()
	redisURL, _ := redistest.NewURL(t)
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("access_token") != "tok" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"fbtrace_id":"T1"}}`)
			return
		}
		var tr struct{ Since, Until string }
		_ = json.Unmarshal([]byte(q.Get("time_range")), &tr)
		if q.Get("time_increment") == "1" {
			fmt.Fprintf(w, `{"data":[{"ad_id":"77","ad_name":"Flyer ad","spend":"5.5","reach":"100","impressions":"130","clicks":"4","account_currency":"USD","date_start":%q,"date_stop":%q}],"paging":{"cursors":{"before":"A","after":"B"}}}`, tr.Since, tr.Since)
			return
		}
		fmt.Fprintf(w, `{"data":[{"ad_id":"77","ad_name":"Flyer ad","spend":"5.5","reach":"90","impressions":"130","clicks":"4","account_currency":"USD","date_start":%q,"date_stop":%q}]}`, tr.Since, tr.Until)
	}))
	t.Cleanup(graph.Close)
	dir := t.TempDir()
	cfg := `sites:
  demo:
    api_key: demo-key-123
    conversion_event: purchase
    meta: {ad_account_id: "act_1", access_token: tok, base_url: ` + graph.URL + `/v25.0}
  other:
    api_key: other-key-123
    meta: {ad_account_id: "act_2", access_token: wrong, base_url: ` + graph.URL + `/v25.0}
`
	if err := os.WriteFile(filepath.Join(dir, "messtrack.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &reportWorld{dir: dir, env: map[string]string{"REDIS_URL": redisURL}}
}

func (w *reportWorld) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--config", filepath.Join(w.dir, "messtrack.yaml"))
	err := run(context.Background(), args, &out, &errOut, func(k string) string { return w.env[k] })
	return out.String() + errOut.String(), err
}

func TestCostsAndReportCommands(t *testing.T) {
	w := newReportWorld(t)
	file := filepath.Join(w.dir, "costs.csv")
	csvText := "date,ad_id,cost,reach,impressions,clicks,currency\n2026-11-01,ad-1,10.5,100,120,3,USD\n2026-11-02,=ad-2,4,50,60,1,USD\n"
	if err := os.WriteFile(file, []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := w.run(t, "costs", "import", "--site", "demo", file)
	if err != nil || !strings.Contains(out, "imported 2 cost rows for 2 day(s)") {
		t.Fatalf("import: %v %s", err, out)
	}

	out, err = w.run(t, "report", "--site", "demo", "ads", "--from", "2026-11-01", "--to", "2026-11-02", "--format", "csv")
	if err != nil || !strings.Contains(out, "ad-1,,ad,10.5,100,0,") || !strings.Contains(out, "'=ad-2") {
		t.Fatalf("csv report: %v\n%s", err, out)
	}
	out, err = w.run(t, "report", "ads", "--site", "demo", "--from", "2026-11-01", "--to", "2026-11-02", "--format", "json")
	var rep struct {
		Totals struct{ Cost float64 }
	}
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Totals.Cost != 14.5 {
		t.Fatalf("json report: %v\n%s", err, out)
	}
	out, err = w.run(t, "report", "--site", "demo", "dynamics", "--by", "week", "--from", "2026-11-01", "--to", "2026-11-02")
	if err != nil || !strings.Contains(out, "period") || !strings.Contains(out, "2026-W44") || !strings.Contains(out, "cost: counted on its own day") {
		t.Fatalf("table report: %v\n%s", err, out)
	}

	out, err = w.run(t, "costs", "sync", "--site", "demo", "--from", "2026-10-01", "--to", "2026-10-03")
	if err != nil || !strings.Contains(out, "1 daily cost rows, reach over the range for 1 ads") {
		t.Fatalf("sync: %v %s", err, out)
	}
	out, err = w.run(t, "report", "--site", "demo", "ads", "--from", "2026-10-01", "--to", "2026-10-03", "--format", "json")
	if err != nil || !strings.Contains(out, `"reach_basis": "range"`) || !strings.Contains(out, `"reach": 90`) || !strings.Contains(out, `"title": "Flyer ad"`) {
		t.Fatalf("report after sync: %v\n%s", err, out)
	}
}

func TestReportCommandErrors(t *testing.T) {
	w := newReportWorld(t)
	bad := filepath.Join(w.dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("date,ad_id,cost,reach,impressions,clicks,currency\n2026-11-01,a,ten,1,1,1,USD\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    string
		isUsage bool
	}{
		{name: "bad date", args: []string{"report", "--site", "demo", "ads", "--from", "2026-02-30"}, want: "not a date"},
		{name: "unknown report", args: []string{"report", "--site", "demo", "everything"}, want: "unknown report", isUsage: true},
		{name: "no site", args: []string{"report", "ads"}, want: "--site is required"},
		{name: "unknown site", args: []string{"report", "--site", "nope", "ads"}, want: `site "nope" is not in`},
		{name: "bad format", args: []string{"report", "--site", "demo", "ads", "--format", "xml"}, want: "--format"},
		{name: "bad grouping", args: []string{"report", "--site", "demo", "dynamics", "--by", "year"}, want: "by="},
		{name: "bad cost row", args: []string{"costs", "import", "--site", "demo", bad}, want: `row 1: cost "ten" is not a number`},
		{name: "missing file", args: []string{"costs", "import", "--site", "demo", "absent.csv"}, want: "absent.csv"},
		{name: "sync without dates", args: []string{"costs", "sync", "--site", "demo"}, want: "Usage", isUsage: true},
		{name: "sync with a bad token", args: []string{"costs", "sync", "--site", "other", "--from", "2026-10-01", "--to", "2026-10-01"}, want: "OAuthException code 190"},
		{name: "no costs subcommand", args: []string{"costs"}, want: "Usage", isUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := w.run(t, tt.args...)
			if err == nil {
				t.Fatalf("no error; output %s", out)
			}
			if errors.Is(err, errUsage) != tt.isUsage {
				t.Errorf("usage error = %v, want %v", errors.Is(err, errUsage), tt.isUsage)
			}
			if !strings.Contains(err.Error()+out, tt.want) {
				t.Errorf("error %q / output %q lacks %q", err, out, tt.want)
			}
		})
	}
}

func TestReportArgumentsCheckedBeforeTheStore(t *testing.T) {
	w := newReportWorld(t)
	// Nothing listens on port 1: a command that reached the store would
	// fail with a ping error instead of naming the bad argument.
	w.env["REDIS_URL"] = "redis://127.0.0.1:1/0"
	tests := []struct {
		name    string
		args    []string
		want    string
		isUsage bool
	}{
		{name: "unknown report", args: []string{"report", "--site", "demo", "everything"}, want: `unknown report "everything"`, isUsage: true},
		{name: "bad grouping", args: []string{"report", "--site", "demo", "dynamics", "--by", "year"}, want: `--by="year" is not one of day, week, month, quarter`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := w.run(t, tt.args...)
			if err == nil {
				t.Fatalf("no error; output %s", out)
			}
			if errors.Is(err, errUsage) != tt.isUsage {
				t.Errorf("usage error = %v, want %v", errors.Is(err, errUsage), tt.isUsage)
			}
			if got := err.Error() + out; !strings.Contains(got, tt.want) || strings.Contains(got, "ping") {
				t.Errorf("error %q / output %q: want %q and no store contact", err, out, tt.want)
			}
		})
	}
}
