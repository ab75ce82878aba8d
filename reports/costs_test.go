package reports

import (
	"errors"
	"strings"
	"testing"
)

// upload parses and stores a cost upload for site demo.
func (w *testWorld) upload(t *testing.T, body string) error {
	t.Helper()
	rows, err := ParseCostRows(strings.NewReader(body), w.cfg.Site("demo"))
	if err != nil {
		return err
	}
	return w.st.AddCosts(w.ctx, "demo", rows)
}

// adCost returns an ad's cost and reach over a range (nil when null).
func (w *testWorld) adCost(t *testing.T, ad, from, to string) (*float64, *int64) {
	t.Helper()
	rep, err := w.st.Ads(w.ctx, "demo", Range{From: from, To: to})
	if err != nil {
		t.Fatalf("Ads: %v", err)
	}
	for _, r := range rep.Rows {
		if r.AdID == ad {
			return r.Cost, r.Reach
		}
	}
	return nil, nil
}

const goodCSV = "\ufeffad_id,date,cost,reach,impressions,clicks,currency\n" +
	"ad-a,2026-03-02,10.50,100,150,7,USD\n" +
	"ad-a,2026-03-31,0.5,20,21,0,usd\n" +
	"ad-b,2026-03-02,3,,,,\n"

func TestCostImport(t *testing.T) {
	w := newWorld(t)
	if err := w.upload(t, goodCSV); err != nil {
		t.Fatalf("upload: %v", err)
	}
	cost, reach := w.adCost(t, "ad-a", "2026-03-01", "2026-03-31") // the month's rollup
	if cost == nil || *cost != 11 || reach == nil || *reach != 120 {
		t.Fatalf("ad-a over March: cost %v reach %v, want 11 and 120", cost, reach)
	}
	cost, _ = w.adCost(t, "ad-a", "2026-03-02", "2026-03-30") // days only
	if cost == nil || *cost != 10.5 {
		t.Fatalf("ad-a 2..30 March: cost %v, want 10.5", cost)
	}

	t.Run("importing the same file again changes nothing", func(t *testing.T) {
		if err := w.upload(t, goodCSV); err != nil {
			t.Fatal(err)
		}
		if cost, _ := w.adCost(t, "ad-a", "2026-03-01", "2026-03-31"); *cost != 11 {
			t.Errorf("after re-import: cost %v, want 11", *cost)
		}
	})
	t.Run("a re-imported day replaces that day whole", func(t *testing.T) {
		err := w.upload(t, "date,ad_id,cost,reach,impressions,clicks,currency\n2026-03-02,ad-a,4,40,41,1,USD\n")
		if err != nil {
			t.Fatal(err)
		}
		if cost, _ := w.adCost(t, "ad-a", "2026-03-01", "2026-03-31"); *cost != 4.5 {
			t.Errorf("ad-a March: %v, want 4.5 (4 on the 2nd, 0.5 on the 31st)", *cost)
		}
		if cost, _ := w.adCost(t, "ad-a", "2026-03-01", "2026-03-10"); *cost != 4 {
			t.Errorf("ad-a in the block of March 1-10: %v, want 4", *cost)
		}
		for _, to := range []string{"2026-03-10", "2026-03-31"} {
			if cost, _ := w.adCost(t, "ad-b", "2026-03-01", to); cost != nil {
				t.Errorf("ad-b, absent from the new statement of the 2nd, still costs %v up to %s", *cost, to)
			}
		}
	})
	t.Run("JSON rows with numbers as numbers or strings", func(t *testing.T) {
		err := w.upload(t, `[{"date":"2026-04-01","ad_id":"ad-j","cost":"2.25","reach":5,"impressions":"9","clicks":1,"currency":"USD","title":"Spring sale"}]`)
		if err != nil {
			t.Fatal(err)
		}
		rep, _ := w.st.Ads(w.ctx, "demo", Range{From: "2026-04-01", To: "2026-04-01"})
		if len(rep.Rows) != 1 || *rep.Rows[0].Cost != 2.25 || rep.Rows[0].Title != "Spring sale" {
			t.Errorf("rows = %+v", rep.Rows)
		}
	})
}

func TestCostImportRejectsBadRowsWhole(t *testing.T) {
	tests := []struct {
		name string
		body string
		// wantRows are the row numbers the error must name, wantText a part
		// of its message.
		wantRows []int
		wantText string
	}{
		{
			name: "every bad row is named",
			body: "date,ad_id,cost,reach,impressions,clicks,currency\n" +
				"2026-03-02,ad-a,1,1,1,1,USD\n" +
				"2026-02-30,ad-a,1,1,1,1,USD\n" +
				"2026-03-02,,1,1,1,1,USD\n" +
				"2026-03-03,ad-a,1;5,1,1,1,USD\n" +
				"2026-03-03,ad-b,-1,1,1,1,USD\n" +
				"2026-03-03,ad-c,1,1.5,1,1,USD\n" +
				"2026-03-03,ad-d,1,1,1,1,EUR\n" +
				"2026-03-02,ad-a,2,1,1,1,USD\n",
			wantRows: []int{2, 3, 4, 5, 6, 7, 8},
			wantText: "differs from the site's currency USD",
		},
		{
			name:     "control characters in an ad ID",
			body:     "date,ad_id,cost,reach,impressions,clicks,currency\n2026-03-02,\"ad\x1b[31m\",1,1,1,1,USD\n",
			wantRows: []int{1},
			wantText: "control characters",
		},
		{
			name:     "a JSON value of the wrong kind",
			body:     `[{"date":"2026-03-02","ad_id":"a","cost":{"x":1}}]`,
			wantRows: []int{1},
			wantText: "must be a string or a number",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			err := w.upload(t, tt.body)
			var re *CostRowsError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a CostRowsError", err)
			}
			var got []int
			for _, r := range re.Rows {
				got = append(got, r.Row)
			}
			if len(got) != len(tt.wantRows) {
				t.Fatalf("rows %v, want %v (%v)", got, tt.wantRows, err)
			}
			for i := range got {
				if got[i] != tt.wantRows[i] {
					t.Fatalf("rows %v, want %v (%v)", got, tt.wantRows, err)
				}
			}
			if !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), "nothing stored") {
				t.Errorf("message %q lacks %q", err, tt.wantText)
			}
			rep, _ := w.st.Ads(w.ctx, "demo", Range{From: "2026-03-01", To: "2026-03-31"})
			if len(rep.Rows) != 0 {
				t.Errorf("a rejected upload stored %+v", rep.Rows)
			}
		})
	}
}

func TestCostImportRefusesMalformedUploads(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{name: "empty", body: "  \n", want: "empty"},
		{name: "header only", body: "date,ad_id,cost,reach,impressions,clicks,currency\n", want: "only a header"},
		{name: "missing column", body: "date,ad_id,cost\n2026-03-02,a,1\n", want: `lacks "reach"`},
		{name: "not an array", body: `{"date":"2026-03-02"}`, want: "an array of objects"},
		{name: "broken JSON", body: `[{"date":`, want: "cost JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			err := w.upload(t, tt.body)
			var ie *InvalidError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want an InvalidError with %q", err, tt.want)
			}
		})
	}
}
