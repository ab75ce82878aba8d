package collector

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/messtrack/messtrack/reports"
)

// TestLateDeliveredMessageKeepsItsOwnTime delivers a chat's second message
// before its first (the platform retried the first one later): the chat's
// first_message_at is the first message's own timestamp, the chat list
// finds the chat by it, and replays of either message move nothing.
func TestLateDeliveredMessageKeepsItsOwnTime(t *testing.T) {
	w := newTestWorld(t)
	w.clock.Advance(10 * time.Minute)
	sent1 := testStart.Add(time.Minute)
	sent2 := testStart.Add(3 * time.Minute)
	contact := waContactJSON("Visitor A", "16505551234")
	first := waNotification("15551234567", contact, waTextJSON("16505551234", "wamid.FIRST", sent1, "hello"))
	second := waNotification("15551234567", contact, waTextJSON("16505551234", "wamid.SECOND", sent2, "are you open today?"))

	deliveries := []struct {
		name string
		body []byte
		want hookAnswer
	}{
		{name: "second message", body: second, want: hookAnswer{Received: 1}},
		{name: "first message, late", body: first, want: hookAnswer{Received: 1}},
		{name: "first message replayed", body: first, want: hookAnswer{Duplicates: 1}},
		{name: "second message replayed", body: second, want: hookAnswer{Duplicates: 1}},
	}
	for _, d := range deliveries {
		if status, ans, b := w.postWhatsApp(t, d.body); status != 200 || ans != d.want {
			t.Fatalf("%s: %d %s, want %+v", d.name, status, b, d.want)
		}
	}

	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if rec.FirstMessageAt != "2026-11-02T09:01:00Z" {
		t.Errorf("first_message_at = %q, want the first message's own time 2026-11-02T09:01:00Z", rec.FirstMessageAt)
	}
	if rec.LastMessageAt != "2026-11-02T09:03:00Z" || rec.Messages != 2 {
		t.Errorf("last_message_at %q, messages %d; want 2026-11-02T09:03:00Z and 2", rec.LastMessageAt, rec.Messages)
	}

	tests := []struct {
		name, query string
		want        int
	}{
		{name: "a range around the first message", query: "from=2026-11-02T09:00:30Z&to=2026-11-02T09:02:00Z", want: 1},
		{name: "a range after the first message", query: "from=2026-11-02T09:02:00Z&to=2026-11-02T09:10:00Z", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := w.do(t, request("GET", "/v1/sites/demo/chats?"+tc.query, nil, "Authorization", demoAuth))
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var page chatPage
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			if len(page.Chats) != tc.want {
				t.Errorf("%d chats, want %d: %s", len(page.Chats), tc.want, b)
			}
			for _, c := range page.Chats {
				if c.FirstMessageAt != "2026-11-02T09:01:00Z" {
					t.Errorf("listed first_message_at = %q", c.FirstMessageAt)
				}
			}
		})
	}
}

// TestLateFirstMessageWithCodeAttributesTheConversation delivers visitor A's
// second message (no code) before the first (with the prefilled code): the
// code explains the one conversation that began with the first message, so
// the chat has one conversation, matched by id, new, and reports count one
// conversation with one session, not an unattributed one plus a repeat.
func TestLateFirstMessageWithCodeAttributesTheConversation(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, nil)
	w.clock.Advance(10 * time.Minute)
	sent1 := testStart.Add(time.Minute)
	sent2 := testStart.Add(3 * time.Minute)
	contact := waContactJSON("Visitor A", "16505551234")
	first := waNotification("15551234567", contact, waTextJSON("16505551234", "wamid.FIRST", sent1, "Hello! My request code: "+w.code(v)))
	second := waNotification("15551234567", contact, waTextJSON("16505551234", "wamid.SECOND", sent2, "are you open today?"))
	for _, body := range [][]byte{second, first, first} {
		if status, _, b := w.postWhatsApp(t, body); status != 200 {
			t.Fatalf("webhook: %d %s", status, b)
		}
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if rec.Method != reports.MethodID || rec.Dialog != reports.DialogNew || rec.Visit != w.visitID(v) {
		t.Errorf("record: method %q, dialog %q, visit %q; want id, new, %s", rec.Method, rec.Dialog, rec.Visit, w.visitID(v))
	}
	if rec.FirstMessageAt != "2026-11-02T09:01:00Z" {
		t.Errorf("first_message_at = %q", rec.FirstMessageAt)
	}
	sessions, err := w.srv.reports.ChatSessions(t.Context(), "demo", "whatsapp:16505551234")
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 {
		t.Errorf("%d sessions, want 1: %+v", len(sessions), sessions)
	}
	resp, b := w.do(t, request("GET", "/v1/sites/demo/reports/channels?from=2026-11-01&to=2026-11-03", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("channels: %d %s", resp.StatusCode, b)
	}
	var rep struct {
		Totals struct {
			Conversations int `json:"conversations"`
			Sessions      int `json:"sessions"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Conversations != 1 || rep.Totals.Sessions != 1 {
		t.Errorf("channels totals: %d conversations, %d sessions; want 1 and 1: %s", rep.Totals.Conversations, rep.Totals.Sessions, b)
	}
}
