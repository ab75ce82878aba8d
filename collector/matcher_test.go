package collector

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

func storeVisitKey(v *visit.Visit) string   { return demoKeys.Visit(v.N) }
func storeMatchedKey(v *visit.Visit) string { return demoKeys.VisitMatched(v.N) }

func TestIDMatching(t *testing.T) {
	w := newTestWorld(t)
	ctx := context.Background()
	live := w.addVisit(t, nil)
	expired := w.addVisit(t, nil)
	if err := w.rdb.Del(ctx, storeVisitKey(expired)).Err(); err != nil {
		t.Fatal(err)
	}
	shop := w.srv.sites["shop"]
	shopVisit := &visit.Visit{Time: w.clock.Now()}
	if err := w.srv.saveVisit(ctx, shop, shopVisit); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, method, visit string
	}{
		{name: "live code", text: "Hello! My request code: " + w.code(live), method: reports.MethodID, visit: w.visitID(live)},
		{name: "expired visit", text: "code " + w.code(expired), method: reports.MethodNone},
		{name: "another site's code", text: "code " + shop.codec.Code(shopVisit.N, shop.style), method: reports.MethodNone},
		{name: "edited code", text: "code " + editCode(rand.New(rand.NewPCG(7, 7)), w.code(live)), method: reports.MethodNone},
		{name: "first live of several", text: w.code(expired) + " then " + w.code(live), method: reports.MethodID, visit: w.visitID(live)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.method == reports.MethodID {
				// Each chat gets the live visit afresh.
				w.rdb.Del(ctx, storeMatchedKey(live))
			}
			got := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "1650555000" + string(rune('0'+i)), "text": tc.text})
			visit := ""
			if got.Visit != nil {
				visit = got.Visit.ID
			}
			if got.Method != tc.method || visit != tc.visit || !got.NewChat {
				t.Errorf("answer = %+v, want %s %s", got, tc.method, tc.visit)
			}
		})
	}
}

func TestOneVisitSeveralChats(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, func(v *visit.Visit) { v.Country = "US" })
	w.clickOn(t, v, "whatsapp:15551234567", "")
	w.clock.Advance(30 * time.Second)
	first := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550001", "to": "15551234567", "text": "code " + w.code(v)})
	if first.Method != reports.MethodID {
		t.Fatalf("first = %+v", first)
	}
	// The same page view's code from a second phone, and through Telegram:
	// each chat that sends the code is matched to the visit.
	second := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550002", "to": "15551234567", "text": "my phone too " + w.code(v)})
	if second.Method != reports.MethodID || second.Visit == nil || second.Visit.ID != w.visitID(v) {
		t.Errorf("second chat = %+v", second)
	}
	tg := w.postMessage(t, map[string]string{"channel": "telegram", "from": "4242", "to": "@demo_bot",
		"text": "/start " + w.demoSite().codec.Start(v.N)})
	if tg.Method != reports.MethodID || tg.Visit == nil || tg.Visit.ID != w.visitID(v) {
		t.Errorf("telegram chat = %+v", tg)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505550001")
	if want := []string{"telegram:4242", "whatsapp:16505550002"}; !slices.Equal(rec.OtherChats, want) {
		t.Errorf("other chats = %v, want %v", rec.OtherChats, want)
	}
	// Without the code, the heuristic never hands a matched visit out.
	w.clock.Advance(10 * time.Second)
	guess := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550003", "to": "15551234567", "text": "hello"})
	if guess.Method != reports.MethodNone || guess.Visit != nil {
		t.Errorf("uncoded chat = %+v", guess)
	}
}

func TestCodeTakesBackAGuess(t *testing.T) {
	w := newTestWorld(t)
	facts := w.collectFacts()
	v := w.addVisit(t, func(v *visit.Visit) { v.Country = "US" })
	w.clickOn(t, v, "whatsapp:15551234567", "")
	w.clock.Advance(20 * time.Second)
	// Someone else writes without a code right after the click: the
	// heuristic guesses the visit.
	guess := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550001", "to": "15551234567", "text": "hello"})
	if guess.Method != reports.MethodHeuristic || guess.Visit == nil || guess.Visit.ID != w.visitID(v) {
		t.Fatalf("guess = %+v", guess)
	}
	w.clock.Advance(20 * time.Second)
	owner := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550002", "to": "15551234567", "text": "code " + w.code(v)})
	if owner.Method != reports.MethodID || owner.Visit == nil || owner.Visit.ID != w.visitID(v) {
		t.Fatalf("owner = %+v", owner)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505550001")
	if rec.Method != reports.MethodNone || rec.Visit != "" || rec.History[len(rec.History)-1].Kind != "revoked" {
		t.Errorf("guessing chat after the code: %+v", rec)
	}
	got := facts.all()
	// The guess, its correction (same chat and time), the owner's match.
	if len(got) != 3 || got[0].Method != reports.MethodHeuristic || got[1].Method != reports.MethodNone || got[2].Method != reports.MethodID ||
		got[1].Chat != "whatsapp:16505550001" || !got[1].Time.Equal(got[0].Time) || got[2].Chat != "whatsapp:16505550002" {
		t.Errorf("facts = %+v", got)
	}
}

func TestLaterMessageWithANewCodeOpensAConversation(t *testing.T) {
	w := newTestWorld(t)
	facts := w.collectFacts()
	a := w.addVisit(t, func(v *visit.Visit) { v.UTMCampaign = "spring" })
	msg := func(text string) messageResponse {
		w.clock.Advance(time.Minute)
		return w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505551234", "text": text})
	}
	if r := msg("code " + w.code(a)); r.Method != reports.MethodID || !r.NewChat {
		t.Fatalf("first = %+v", r)
	}
	if r := msg("another question"); r.Method != reports.MethodID || r.NewChat || r.Visit == nil || r.Visit.ID != w.visitID(a) {
		t.Fatalf("follow-up = %+v", r)
	}
	if r := msg("again " + w.code(a)); r.Method != reports.MethodID || r.NewChat {
		t.Fatalf("same code again = %+v", r)
	}
	w.clock.Advance(48 * time.Hour)
	b := w.addVisit(t, func(v *visit.Visit) { v.UTMCampaign = "autumn" })
	if r := msg("new order " + w.code(b)); r.Method != reports.MethodID || r.Visit == nil || r.Visit.ID != w.visitID(b) {
		t.Fatalf("new code = %+v", r)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if rec.Dialog != reports.DialogRepeat || rec.Visit != w.visitID(b) || rec.Source.UTMCampaign != "autumn" || len(rec.History) != 4 ||
		rec.History[0].Kind != "conversation" || rec.History[3].Kind != "conversation" || rec.History[3].Visit != w.visitID(b) {
		t.Errorf("record = %+v", rec)
	}
	got := facts.all()
	if len(got) != 2 || got[0].Method != reports.MethodID || got[1].Method != reports.MethodID || got[1].UTMCampaign != "autumn" {
		t.Errorf("facts = %+v", got)
	}
}

func TestConfirmCandidate(t *testing.T) {
	w := newTestWorld(t)
	facts := w.collectFacts()
	a := w.addVisit(t, func(v *visit.Visit) { v.UTMCampaign = "spring" })
	w.clickOn(t, a, "whatsapp:15551234567", "https://shop.test/a")
	w.clock.Advance(5 * time.Second)
	b := w.addVisit(t, nil)
	w.clickOn(t, b, "whatsapp:15551234567", "https://shop.test/b")
	w.clock.Advance(30 * time.Second)
	// Two clicks seconds apart: too close to call.
	r := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505551234", "to": "15551234567", "text": "hello"})
	if r.Method != reports.MethodNone {
		t.Fatalf("answer = %+v, want none", r)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if len(rec.Candidates) != 2 {
		t.Fatalf("candidates = %+v", rec.Candidates)
	}
	confirm := func(chat, visit string) (int, string) {
		resp, b := w.do(t, request("POST", "/v1/sites/demo/chats/"+chat+"/confirm", jsonBody(t, map[string]string{"visit": visit}),
			"Authorization", "Bearer demo-key-123"))
		return resp.StatusCode, string(b)
	}
	stranger := w.addVisit(t, nil)
	if code, b := confirm("whatsapp:16505551234", w.visitID(stranger)); code != 400 {
		t.Errorf("confirming a non-candidate: %d %s", code, b)
	}
	if code, b := confirm("whatsapp:16505551234", "not a visit"); code != 400 {
		t.Errorf("confirming garbage: %d %s", code, b)
	}
	if code, b := confirm("whatsapp:19990000000", w.visitID(a)); code != 404 {
		t.Errorf("confirming on an unknown chat: %d %s", code, b)
	}
	code, body := confirm("whatsapp:16505551234", w.visitID(a))
	if code != 200 {
		t.Fatalf("confirm: %d %s", code, body)
	}
	var got chatRecord
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Method != reports.MethodHeuristic || got.Confidence != 1 || !got.Confirmed || got.Visit != w.visitID(a) ||
		got.Source.UTMCampaign != "spring" || got.Source.Page != "https://shop.test/a" || got.History[len(got.History)-1].Kind != "confirmed" {
		t.Errorf("confirmed record = %+v", got)
	}
	if code, b := confirm("whatsapp:16505551234", w.visitID(b)); code != 400 {
		t.Errorf("confirming twice: %d %s", code, b)
	}
	fs := facts.all()
	if len(fs) != 2 || fs[1].Method != reports.MethodHeuristic || fs[1].Confidence != 1 || fs[1].UTMCampaign != "spring" || !fs[1].Time.Equal(fs[0].Time) {
		t.Errorf("facts = %+v", fs)
	}
	// A confirmed visit stays the chat's: a chat that sends its code is
	// matched as well, and the confirmed chat keeps it.
	other := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550009", "text": "code " + w.code(a)})
	if other.Method != reports.MethodID {
		t.Errorf("a chat with the code: %+v", other)
	}
	if got := w.chatRecordOf(t, "whatsapp:16505551234"); got.Method != reports.MethodHeuristic || !got.Confirmed || got.Visit != w.visitID(a) {
		t.Errorf("the confirmed chat lost its visit: %+v", got)
	}
}
