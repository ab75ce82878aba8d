package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/messtrack/messtrack/config"
)

// fakeGraph is a local Graph API speaking the insights endpoint's documented
// shapes: the daily pages from testdata (page 1 points on to page 2 with
// paging.next), a range answer without time_increment, and the Graph error
// JSON for a bad token.
type fakeGraph struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	requests []string
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{t: t}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) base() string { return g.srv.URL + "/v25.0" }

func (g *fakeGraph) sample(name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		g.t.Errorf("fixture: %v", err)
	}
	// The samples' paging.next points at the real Graph host; here it is
	// this server, and its access_token (redacted in the sample) is the
	// caller's, as Graph writes it.
	out := strings.ReplaceAll(string(b), "https://graph.facebook.com/v25.0", g.base())
	return []byte(strings.ReplaceAll(out, "access_token=REDACTED", "access_token=good-token"))
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.requests = append(g.requests, r.URL.RawQuery)
	g.mu.Unlock()
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case q.Get("access_token") != "good-token":
		w.WriteHeader(http.StatusBadRequest)
		w.Write(g.sample("meta_insights_error.json"))
	case r.URL.Path == "/v25.0/act_999/insights":
		w.Write(g.sample("meta_insights_empty.json"))
	case r.URL.Path != "/v25.0/act_1234567890/insights" || q.Get("level") != "ad":
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"message":"Unsupported get request.","type":"GraphMethodException","code":100,"fbtrace_id":"X1"}}`)
	case q.Get("time_increment") == "" && q.Get("after") == "":
		var tr struct{ Since, Until string }
		_ = json.Unmarshal([]byte(q.Get("time_range")), &tr)
		fmt.Fprintf(w, `{"data":[
		  {"ad_id":"120226305854810726","ad_name":"Succulents - image A","spend":"53.77","reach":"4150","impressions":"6075","clicks":"88","account_currency":"USD","date_start":%q,"date_stop":%q},
		  {"ad_id":"120226305854810731","ad_name":"Succulents - video B","spend":"12","reach":"900","impressions":"1204","clicks":"7","account_currency":"USD","date_start":%q,"date_stop":%q}],
		  "paging":{"cursors":{"before":"MAZDZD","after":"MAZDZD"}}}`, tr.Since, tr.Until, tr.Since, tr.Until)
	case q.Get("after") == "MQZDZD":
		w.Write(g.sample("meta_insights_page2.json"))
	default:
		w.Write(g.sample("meta_insights_page1.json"))
	}
}

func TestMetaSync(t *testing.T) {
	w := newWorld(t)
	g := newFakeGraph(t)
	m, err := NewMetaClient(config.Meta{AdAccountID: "act_1234567890", AccessToken: "good-token", BaseURL: g.base()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A stale row inside the range must go: Meta sends no row for an ad
	// without delivery, and the sync states the range whole.
	if err := w.st.AddCosts(w.ctx, "demo", []CostRow{{Date: "2025-03-15", AdID: "stale", Cost: 9}}); err != nil {
		t.Fatal(err)
	}
	r := Range{From: "2025-03-14", To: "2025-03-15"}
	res, err := w.st.SyncMeta(w.ctx, "demo", r, m)
	if err != nil {
		t.Fatalf("SyncMeta: %v", err)
	}
	if res.Rows != 3 || res.Ads != 2 {
		t.Errorf("result = %+v, want 3 daily rows and 2 ads", res)
	}

	g.mu.Lock()
	reqs := append([]string{}, g.requests...)
	g.mu.Unlock()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3 (two daily pages, one range): %v", len(reqs), reqs)
	}
	first := parseQuery(t, reqs[0])
	for k, want := range map[string]string{
		"level": "ad", "time_increment": "1", "access_token": "good-token",
		"time_range": `{"since":"2025-03-14","until":"2025-03-15"}`,
	} {
		if first[k] != want {
			t.Errorf("daily request %s = %q, want %q", k, first[k], want)
		}
	}
	for _, f := range []string{"ad_id", "ad_name", "spend", "reach", "impressions", "clicks", "account_currency"} {
		if !strings.Contains(first["fields"], f) {
			t.Errorf("fields %q lacks %s", first["fields"], f)
		}
	}
	if parseQuery(t, reqs[1])["after"] != "MQZDZD" {
		t.Errorf("second request did not follow paging.next: %s", reqs[1])
	}
	if _, daily := parseQuery(t, reqs[2])["time_increment"]; daily {
		t.Errorf("the range request must not ask for daily rows: %s", reqs[2])
	}

	rep, err := w.st.Ads(w.ctx, "demo", r)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReachBasis != "range" || len(rep.Rows) != 2 {
		t.Fatalf("basis %q rows %+v", rep.ReachBasis, rep.Rows)
	}
	a := rep.Rows[0]
	if a.AdID != "120226305854810726" || *a.Cost != 53.77 || *a.Reach != 4150 || a.Title != "Succulents - image A" {
		t.Errorf("ad A = %+v", a)
	}
	if *rep.Totals.Cost != 65.77 {
		t.Errorf("total cost = %v, want 65.77", *rep.Totals.Cost)
	}
	// Over a single day the range reach does not apply: daily reach is shown
	// and the report says so.
	one, _ := w.st.Ads(w.ctx, "demo", Range{From: "2025-03-14", To: "2025-03-14"})
	if one.ReachBasis != "daily_sum" || *one.Rows[0].Reach != 4120 || !strings.Contains(one.Notes["reach"], "upper bound") {
		t.Errorf("one day: basis %q reach %v notes %v", one.ReachBasis, *one.Rows[0].Reach, one.Notes)
	}
}

func parseQuery(t *testing.T, raw string) map[string]string {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("query %q: %v", raw, err)
	}
	out := map[string]string{}
	for k := range q {
		out[k] = q.Get(k)
	}
	return out
}

func TestMetaErrors(t *testing.T) {
	g := newFakeGraph(t)
	tests := []struct {
		name    string
		meta    config.Meta
		rewrite bool
		want    []string
	}{
		{
			name: "the Graph error JSON with code and trace ID",
			meta: config.Meta{AdAccountID: "1234567890", AccessToken: "expired", BaseURL: g.base()},
			want: []string{"HTTP 400", "OAuthException code 190", "subcode 460", "Message describing the error",
				"fbtrace_id=EJplcsCHuLu", "renew meta.access_token"},
		},
		{
			name: "an unknown account",
			meta: config.Meta{AdAccountID: "42", AccessToken: "good-token", BaseURL: g.base()},
			want: []string{"HTTP 404", "code 100", "fbtrace_id=X1"},
		},
		{
			name:    "a cursor that does not advance",
			meta:    config.Meta{AdAccountID: "1234567890", AccessToken: "good-token", BaseURL: g.base()},
			rewrite: true,
			want:    []string{"page 2", "does not advance"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMetaClient(tt.meta, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.rewrite {
				// The same page again and again, its paging.next on
				// graph.facebook.com: the client pages on against its
				// base_url and stops when the cursor stands still.
				m.HTTP = &http.Client{Transport: rawSampleTransport{t: t}}
			}
			_, err = m.Insights(t.Context(), Range{From: "2025-03-14", To: "2025-03-15"}, true)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "good-token") {
				t.Errorf("error leaks the token: %q", err)
			}
			var me *MetaError
			if tt.name == "the Graph error JSON with code and trace ID" && (!errors.As(err, &me) || me.Code != 190 || me.FBTraceID != "EJplcsCHuLu") {
				t.Errorf("err = %#v, want a MetaError", err)
			}
		})
	}
	t.Run("no delivery in the range", func(t *testing.T) {
		m, _ := NewMetaClient(config.Meta{AdAccountID: "999", AccessToken: "good-token", BaseURL: g.base()}, nil)
		rows, err := m.Insights(t.Context(), Range{From: "2025-03-14", To: "2025-03-15"}, true)
		if err != nil || len(rows) != 0 {
			t.Errorf("rows %v err %v, want none", rows, err)
		}
	})
	t.Run("missing settings", func(t *testing.T) {
		if _, err := NewMetaClient(config.Meta{AdAccountID: "1"}, nil); err == nil {
			t.Error("no error without an access token")
		}
	})
}

// rawSampleTransport answers every request with page 1 exactly as stored,
// its paging.next still on graph.facebook.com, and fails the test should a
// request go there.
type rawSampleTransport struct{ t *testing.T }

func (rt rawSampleTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "graph.facebook.com" {
		rt.t.Errorf("a request went to %s, a host the config did not name", r.URL.Host)
	}
	rec := httptest.NewRecorder()
	b, err := os.ReadFile("testdata/meta_insights_page1.json")
	if err != nil {
		rt.t.Error(err)
	}
	rec.Write(b)
	return rec.Result(), nil
}
