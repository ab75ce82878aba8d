package reports

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// legacyWorld writes what an earlier version left in Redis for site demo:
// chat A's session (a click-to-WhatsApp ad on day 1, converted a day later
// for 12.50), chat B's unattributed conversation on day 2 as a separate
// marker, the aggregates both added, and the configured conversion event
// recorded at the moment the site was first seen (t0), not for all history.
func legacyWorld(t *testing.T) (*testWorld, time.Time, time.Time) {
	t.Helper()
	w := newWorld(t)
	day1, day2 := t0.Add(24*time.Hour), t0.Add(48*time.Hour)
	g := map[string]string{dimChannel: "messenger_ad" + sep + "facebook", dimPage: NoPage, dimLanding: NoPage, dimDialog: "new", dimAd: "ad-a"}
	sess := []map[string]any{{"i": 1, "s": day1.UnixMilli(), "d": Day(w.cfg.Site("demo"), day1), "m": "referral", "g": g,
		"x": day1.Add(24 * time.Hour).UnixMilli(), "k": "purchase", "v": 12500, "e": "crm-1"}}
	raw, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	ctx := w.ctx
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.rdb.Set(ctx, store.ReportChat("demo", "whatsapp:1001"), raw, 0).Err())
	must(w.rdb.Set(ctx, store.ReportSessionSeq("demo"), 1, 0).Err())
	must(w.rdb.Set(ctx, store.ReportSeen("demo", "u", "whatsapp:1002@"+strconv.FormatInt(day2.UnixMilli(), 10)), "new", 0).Err())
	must(w.rdb.ZAdd(ctx, store.ReportConversionEvents("demo"), redis.Z{Score: float64(t0.UnixMilli()), Member: strconv.FormatInt(t0.UnixMilli(), 10) + ":purchase"}).Err())
	d1, d2 := Day(w.cfg.Site("demo"), day1), Day(w.cfg.Site("demo"), day2)
	for _, p := range []string{d1, d1[:7] + "-b1", d1[:7]} {
		for dim, m := range g {
			key := store.ReportAgg("demo", dim, p)
			must(w.rdb.HIncrBy(ctx, key, "cv:"+m, 1).Err())
			must(w.rdb.HIncrBy(ctx, key, "k:purchase:"+m, 1).Err())
			must(w.rdb.HIncrBy(ctx, key, "rv:"+m, 12500).Err())
		}
	}
	for _, p := range []string{d2, d2[:7] + "-b1", d2[:7]} {
		for dim, m := range map[string]string{dimChannel: Unattributed + sep, dimPage: Unattributed, dimLanding: Unattributed, dimDialog: "new/" + Unattributed} {
			must(w.rdb.HIncrBy(ctx, store.ReportAgg("demo", dim, p), "cv:"+m, 1).Err())
		}
	}
	return w, day1, day2
}

func channelNumbers(t *testing.T, w *testWorld, from, to string) map[string][3]int64 {
	t.Helper()
	rep, err := w.st.Channels(w.ctx, "demo", Range{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][3]int64{}
	for _, r := range rep.Rows {
		var conv int64
		if r.Conversions != nil {
			conv = *r.Conversions
		}
		out[r.Channel+"/"+r.Source] = [3]int64{r.Conversations, r.Sessions, conv}
	}
	return out
}

// TestUpgradeKeepsEarlierData: reports read an earlier version's data as it
// was, a start moves the configured conversion event to all history, new
// facts on old chats count from what was counted, and recount rebuilds the
// same numbers from the stored facts, folding the old markers in.
func TestUpgradeKeepsEarlierData(t *testing.T) {
	w, day1, day2 := legacyWorld(t)
	want := map[string][3]int64{"messenger_ad/facebook": {1, 1, 1}, "unattributed/": {1, 0, 0}}
	if got := channelNumbers(t, w, "2026-03-01", "2026-03-31"); !equalNumbers(got, want) {
		t.Fatalf("before anything: %v, want %v", got, want)
	}
	if err := w.st.ApplyConfiguredConversionEvents(w.ctx); err != nil {
		t.Fatal(err)
	}
	hist, err := w.st.ConversionEvents(w.ctx, "demo")
	if err != nil || len(hist) != 1 || hist[0].Since != nil || hist[0].Category != "purchase" {
		t.Fatalf("history after the start: %+v %v, want purchase for all history", hist, err)
	}
	res, err := w.st.Recount(w.ctx, "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Chats != 2 || res.Conversations != 2 || res.Conversions != 1 || res.Legacy != 1 {
		t.Errorf("recount = %+v", res)
	}
	if got := channelNumbers(t, w, "2026-03-01", "2026-03-31"); !equalNumbers(got, want) {
		t.Fatalf("after recount: %v, want %v", got, want)
	}
	if n, _ := w.rdb.Exists(w.ctx, store.ReportSeen("demo", "u", "whatsapp:1002@"+strconv.FormatInt(day2.UnixMilli(), 10))).Result(); n != 0 {
		t.Error("the earlier version's marker is still there")
	}
	// Chat A comes back through another ad: a repeat session; chat B's
	// conversation is attributed by an operator's confirmation.
	w.conv(t, "demo", "whatsapp:1001", "ad-b", day1.Add(10*24*time.Hour))
	if err := w.st.RecordConversation(w.ctx, Conversation{Site: "demo", Chat: "whatsapp:1002", Time: day2, Method: "heuristic",
		Confidence: 1, Channel: "email", UTMSource: "newsletter"}); err != nil {
		t.Fatal(err)
	}
	want = map[string][3]int64{"messenger_ad/facebook": {2, 2, 1}, "email/newsletter": {1, 1, 0}}
	if got := channelNumbers(t, w, "2026-03-01", "2026-03-31"); !equalNumbers(got, want) {
		t.Fatalf("after new facts: %v, want %v", got, want)
	}
	// Recount again: the same numbers.
	if _, err := w.st.Recount(w.ctx, "demo", nil); err != nil {
		t.Fatal(err)
	}
	if got := channelNumbers(t, w, "2026-03-01", "2026-03-31"); !equalNumbers(got, want) {
		t.Fatalf("after a second recount: %v, want %v", got, want)
	}
	nr, err := w.st.NewRepeat(w.ctx, "demo", Range{From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range nr.Rows {
		if (r.Dialog == "new" && r.Conversations != 2) || (r.Dialog == "repeat" && r.Conversations != 1) {
			t.Errorf("new-repeat row %+v", r)
		}
	}
}

// TestRecountOnlyTouchesItsSite: another site's aggregates and every cost
// stay as they were.
func TestRecountOnlyTouchesItsSite(t *testing.T) {
	w := newWorld(t)
	w.conv(t, "demo", "c1", "ad-a", t0.Add(time.Hour))
	w.conv(t, "east", "c1", "ad-a", t0.Add(time.Hour))
	if err := w.st.AddCosts(w.ctx, "demo", []CostRow{{Date: "2026-03-02", AdID: "ad-a", Cost: 5}}); err != nil {
		t.Fatal(err)
	}
	before, err := w.st.Ads(w.ctx, "demo", Range{From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.Recount(w.ctx, "demo", nil); err != nil {
		t.Fatal(err)
	}
	after, err := w.st.Ads(w.ctx, "demo", Range{From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Errorf("recount changed the ads report:\n%s\n%s", b1, b2)
	}
	if cv, _ := w.adNumbers(t, "east", "ad-a", "2026-03-01", "2026-03-31"); cv != 1 {
		t.Errorf("the other site lost its numbers: %d", cv)
	}
}

func equalNumbers(a, b map[string][3]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRecountLeavesTheCodeCounters: the code-survival counters are not
// derived from the chats' facts (they count clicks and what first messages
// did with the code, neither of which is stored), so a recount leaves them,
// and the experiment read from them, exactly as they were.
func TestRecountLeavesTheCodeCounters(t *testing.T) {
	w := newWorld(t)
	at := t0.Add(time.Hour)
	dims := CodeDims{Format: "token", Template: "aaaa0001", Language: "en", Device: "mobile", Channel: "organic_search", Page: "https://shop.test/"}
	var facts []CodeFact
	for i := 0; i < 40; i++ {
		facts = append(facts, CodeFact{Site: "demo", Time: at, Click: true, Dims: dims})
	}
	for i, outcome := range []string{CodeKept, CodeKept, CodeKept, CodeEdited, CodeDeleted} {
		facts = append(facts, CodeFact{Site: "demo", Time: at, Outcome: outcome, Dims: dims, Delay: time.Duration(30+i) * time.Second, HasDelay: true})
	}
	facts = append(facts, CodeFact{Site: "demo", Time: at, Outcome: CodeUnlinked, Dims: CodeDims{Format: "token"}})
	if err := w.st.RecordCodes(w.ctx, facts...); err != nil {
		t.Fatal(err)
	}
	w.conv(t, "demo", "c1", "ad-a", at)
	r := Range{From: "2026-03-01", To: "2026-03-31"}
	read := func() string {
		t.Helper()
		codes, err := w.st.Codes(w.ctx, "demo", r)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := w.st.Experiments(w.ctx, "demo", r)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal([]any{codes, exp})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	before := read()
	if !strings.Contains(before, `"clicks":40,"chats":5,"kept":3`) {
		t.Fatalf("the codes report before the recount: %s", before)
	}
	res, err := w.st.Recount(w.ctx, "demo", nil)
	if err != nil || res.Chats != 1 {
		t.Fatalf("recount: %+v %v", res, err)
	}
	if after := read(); after != before {
		t.Errorf("recount changed the code-survival reports:\n%s\n%s", before, after)
	}
}
