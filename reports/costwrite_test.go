package reports

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// bigCostCSV is an upload of ads×days rows from 2026-05-01, each row
// costing the given amount.
func bigCostCSV(ads, days int, cost string) string {
	var b strings.Builder
	b.WriteString("date,ad_id,cost,reach,impressions,clicks,currency\n")
	d0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for d := 0; d < days; d++ {
		day := d0.AddDate(0, 0, d).Format(dateLayout)
		for a := 0; a < ads; a++ {
			fmt.Fprintf(&b, "%s,ad-%04d,%s,10,20,3,USD\n", day, a, cost)
		}
	}
	return b.String()
}

func TestCostUploadInBatchesKeepsRollupsExact(t *testing.T) {
	w := newWorld(t)
	// 2,000 ads over 25 days: every day hash is larger than one batch.
	if err := w.upload(t, bigCostCSV(2000, 25, "1.5")); err != nil {
		t.Fatalf("upload: %v", err)
	}
	// The month over the rollups, and days 2..24 over days and a block.
	for _, tc := range []struct {
		from, to string
		days     float64
	}{{"2026-05-01", "2026-05-31", 25}, {"2026-05-02", "2026-05-24", 23}, {"2026-05-11", "2026-05-20", 10}} {
		cost, reach := w.adCost(t, "ad-1999", tc.from, tc.to)
		if cost == nil || *cost != 1.5*tc.days || reach == nil || *reach != int64(10*tc.days) {
			t.Errorf("ad-1999 %s..%s: cost %v reach %v, want %v and %v", tc.from, tc.to, cost, reach, 1.5*tc.days, 10*tc.days)
		}
	}
	// Again with another price for the same days: the old versions go.
	if err := w.upload(t, bigCostCSV(2000, 25, "2")); err != nil {
		t.Fatalf("second upload: %v", err)
	}
	if cost, _ := w.adCost(t, "ad-0000", "2026-05-01", "2026-05-31"); cost == nil || *cost != 50 {
		t.Errorf("after the second upload: cost %v, want 50", cost)
	}
	keys := redistest.Keys(t, w.rdb, store.ReportCostPrefix("demo")+"*")
	// 25 days, 3 blocks and the month, each one version.
	if len(keys) != 29 {
		t.Errorf("%d cost hashes after two uploads, want 29 (old versions unlinked): %v", len(keys), keys)
	}
	for _, k := range keys {
		if ttl := w.rdb.TTL(w.ctx, k).Val(); ttl != -1 {
			t.Errorf("%s keeps a TTL of %v after its commit", k, ttl)
		}
	}
	if n := w.rdb.Exists(w.ctx, store.ReportCostLock("demo")).Val(); n != 0 {
		t.Errorf("the cost lock outlives the upload")
	}
}

// Data written before versions existed sits in unversioned keys; an upload
// of one day must keep the other days of its block and month.
func TestCostUploadOverUnversionedData(t *testing.T) {
	w := newWorld(t)
	legacy := map[string]map[string]any{
		"2026-03-05": {"c:ad-a": 4000, "r:ad-a": 40, "n:ad-a": 1},
		"2026-03-06": {"c:ad-a": 1000, "r:ad-a": 10, "n:ad-a": 1},
		"2026-03-b1": {"c:ad-a": 5000, "r:ad-a": 50, "n:ad-a": 2},
		"2026-03-b3": {"c:ad-b": 7000, "r:ad-b": 70, "n:ad-b": 1},
		"2026-03-25": {"c:ad-b": 7000, "r:ad-b": 70, "n:ad-b": 1},
		"2026-03":    {"c:ad-a": 5000, "r:ad-a": 50, "n:ad-a": 2, "c:ad-b": 7000, "r:ad-b": 70, "n:ad-b": 1},
	}
	for p, h := range legacy {
		if err := w.rdb.HSet(w.ctx, store.ReportCost("demo", p), h).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.upload(t, "date,ad_id,cost,reach,impressions,clicks,currency\n2026-03-06,ad-a,3,30,1,1,USD\n"); err != nil {
		t.Fatal(err)
	}
	if cost, reach := w.adCost(t, "ad-a", "2026-03-01", "2026-03-31"); cost == nil || *cost != 7 || *reach != 70 {
		t.Errorf("ad-a in March: %v %v, want 7 (4 kept on the 5th, 3 new on the 6th) and 70", cost, reach)
	}
	if cost, _ := w.adCost(t, "ad-b", "2026-03-01", "2026-03-31"); cost == nil || *cost != 7 {
		t.Errorf("ad-b in March, in an untouched block: %v, want 7", cost)
	}
	if w.rdb.Exists(w.ctx, store.ReportCost("demo", "2026-03-06"), store.ReportCost("demo", "2026-03")).Val() != 0 {
		t.Errorf("replaced unversioned hashes were kept")
	}
}

// A commit whose periods moved on (another upload committed after this one
// read them) stores nothing visible, and its staged hashes expire.
func TestCostCommitRefusesChangedPeriods(t *testing.T) {
	w := newWorld(t)
	if err := w.upload(t, "date,ad_id,cost,reach,impressions,clicks,currency\n2026-03-06,ad-a,3,30,1,1,USD\n"); err != nil {
		t.Fatal(err)
	}
	stale := &costWriter{rdb: w.rdb, site: "demo", ver: "zz", token: "t", cur: map[string]string{"2026-03-06": ""}}
	if err := stale.writeHash(w.ctx, store.ReportCostAt("demo", "2026-03-06", "zz"), costFields{"c:ad-a": 9000, "n:ad-a": 1}); err != nil {
		t.Fatal(err)
	}
	err := stale.commit(w.ctx, []string{"2026-03-06"}, []string{"2026-03-06"})
	if !errors.Is(err, errCostConflict) {
		t.Fatalf("commit over a changed period: %v, want errCostConflict", err)
	}
	if cost, _ := w.adCost(t, "ad-a", "2026-03-06", "2026-03-06"); cost == nil || *cost != 3 {
		t.Errorf("after the refused commit: %v, want 3", cost)
	}
	if ttl := w.rdb.TTL(w.ctx, store.ReportCostAt("demo", "2026-03-06", "zz")).Val(); ttl <= 0 || ttl > costStagingTTL {
		t.Errorf("the refused version's TTL is %v, want up to %v", ttl, costStagingTTL)
	}
	// Another upload holding the lock also stops a commit.
	if err := w.rdb.Set(w.ctx, store.ReportCostLock("demo"), "someone else", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	stale.cur["2026-03-06"] = w.rdb.HGet(w.ctx, store.ReportCostVersions("demo"), "2026-03-06").Val()
	if err := stale.commit(w.ctx, []string{"2026-03-06"}, []string{"2026-03-06"}); !errors.Is(err, errCostConflict) {
		t.Fatalf("commit without the lock: %v, want errCostConflict", err)
	}
}

// On a real cluster the upload's scripts run on the site's slot, and the
// report reads back what was uploaded; a second site on another node is
// untouched.
func TestCostUploadOnCluster(t *testing.T) {
	cc := redistest.NewCluster(t)
	w := newWorld(t)
	st := New(cc, w.clock, w.cfg)
	rows, err := ParseCostRows(strings.NewReader(bigCostCSV(600, 12, "0.25")), w.cfg.Site("demo"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddCosts(w.ctx, "demo", rows); err != nil {
		t.Fatalf("AddCosts on the cluster: %v", err)
	}
	rep, err := st.Ads(w.ctx, "demo", Range{From: "2026-05-01", To: "2026-05-31"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 600 {
		t.Fatalf("%d ads on the cluster, want 600", len(rep.Rows))
	}
	for _, r := range rep.Rows {
		if r.Cost == nil || *r.Cost != 3 {
			t.Fatalf("ad %s costs %v, want 3 (12 days at 0.25)", r.AdID, r.Cost)
		}
	}
	other, err := st.Ads(w.ctx, "east", Range{From: "2026-05-01", To: "2026-05-31"})
	if err != nil || len(other.Rows) != 0 {
		t.Errorf("site east after demo's upload: %+v, %v", other, err)
	}
}
