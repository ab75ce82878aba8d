package collector

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// codesReportOf fetches the demo site's code-survival report of the test
// day through the API and indexes its rows by dimension and value.
func (w *testWorld) codesReportOf(t testing.TB) map[[2]string]reports.CodeRow {
	t.Helper()
	day := reports.Day(w.cfg.Site("demo"), w.clock.Now())
	resp, b := w.do(t, request("GET", "/v1/sites/demo/reports/codes?from="+day+"&to="+day+"&format=json", nil,
		"Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("GET codes report: %d %s", resp.StatusCode, b)
	}
	var rep reports.CodesReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("codes report %s: %v", b, err)
	}
	rows := map[[2]string]reports.CodeRow{}
	for _, r := range rep.Rows {
		rows[[2]string{r.Dimension, r.Value}] = r
	}
	return rows
}

// codeCounts are a row's counts that the revocation moves.
type codeCounts struct{ Clicks, Chats, Kept, Edited, Deleted, NoChat, Unlinked int64 }

func countsOf(r reports.CodeRow) codeCounts {
	return codeCounts{r.Clicks, r.Chats, r.Kept, r.Edited, r.Deleted, r.NoChat, r.Unlinked}
}

func TestRevokedGuessLeavesTheCodeCounts(t *testing.T) {
	w := newTestWorld(t)
	const target = "whatsapp:15551234567"
	// An earlier click, then v's: a chat without a code right after v's
	// click is guessed to be v's, with the earlier visit a candidate.
	early := w.addVisit(t, func(v *visit.Visit) { v.Device, v.Country = "desktop", "DE" })
	w.clickOn(t, early, target, "https://shop.test/early")
	w.clock.Advance(6 * time.Minute)
	v := w.addVisit(t, func(v *visit.Visit) { v.Device, v.Country = "mobile", "US" })
	w.clickOn(t, v, target, "https://shop.test/roses")
	w.clock.Advance(20 * time.Second)
	guess := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550001", "to": "15551234567", "text": "hello"})
	if guess.Method != reports.MethodHeuristic || guess.Visit == nil || guess.Visit.ID != w.visitID(v) {
		t.Fatalf("guess = %+v", guess)
	}
	format := [2]string{"format", w.cfg.Site("demo").IDFormat}
	mobile, desktop := [2]string{"device", "mobile"}, [2]string{"device", "desktop"}
	rows := w.codesReportOf(t)
	if got, want := countsOf(rows[mobile]), (codeCounts{Clicks: 1, Chats: 1, Deleted: 1}); got != want {
		t.Fatalf("mobile after the guess = %+v, want %+v", got, want)
	}

	// The owner writes the code: the guess is revoked, its deleted code
	// leaves v, and its message counts as unlinked.
	w.clock.Advance(20 * time.Second)
	owner := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550002", "to": "15551234567", "text": "code " + w.code(v)})
	if owner.Method != reports.MethodID {
		t.Fatalf("owner = %+v", owner)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505550001")
	if rec.Method != reports.MethodNone || rec.History[len(rec.History)-1].Kind != "revoked" {
		t.Fatalf("guessing chat = %+v", rec)
	}
	rows = w.codesReportOf(t)
	for _, tc := range []struct {
		row  [2]string
		want codeCounts
	}{
		{mobile, codeCounts{Clicks: 1, Chats: 1, Kept: 1}},
		{desktop, codeCounts{Clicks: 1, NoChat: 1}},
		{[2]string{"page", "https://shop.test/roses"}, codeCounts{Clicks: 1, Chats: 1, Kept: 1}},
		{format, codeCounts{Clicks: 2, Chats: 1, Kept: 1, NoChat: 1, Unlinked: 1}},
	} {
		if got := countsOf(rows[tc.row]); got != tc.want {
			t.Errorf("%v after the revocation = %+v, want %+v", tc.row, got, tc.want)
		}
	}

	// A redelivery of the owner's message moves nothing again.
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550002", "to": "15551234567", "text": "code " + w.code(v)})
	if got, want := countsOf(w.codesReportOf(t)[format]), (codeCounts{Clicks: 2, Chats: 1, Kept: 1, NoChat: 1, Unlinked: 1}); got != want {
		t.Errorf("format after a repeated code = %+v, want %+v", got, want)
	}

	// The operator confirms the remaining candidate: the unlinked message
	// becomes that visit's deleted code.
	if len(rec.Candidates) != 1 || rec.Candidates[0].Visit != w.visitID(early) {
		t.Fatalf("candidates after the revocation = %+v", rec.Candidates)
	}
	resp, b := w.do(t, request("POST", "/v1/sites/demo/chats/whatsapp:16505550001/confirm", jsonBody(t, map[string]string{"visit": w.visitID(early)}),
		"Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("confirm: %d %s", resp.StatusCode, b)
	}
	rows = w.codesReportOf(t)
	for _, tc := range []struct {
		row  [2]string
		want codeCounts
	}{
		{mobile, codeCounts{Clicks: 1, Chats: 1, Kept: 1}},
		{desktop, codeCounts{Clicks: 1, Chats: 1, Deleted: 1}},
		{format, codeCounts{Clicks: 2, Chats: 2, Kept: 1, Deleted: 1}},
	} {
		if got := countsOf(rows[tc.row]); got != tc.want {
			t.Errorf("%v after the confirmation = %+v, want %+v", tc.row, got, tc.want)
		}
	}
}
