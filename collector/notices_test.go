package collector

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// The notice payloads in testdata/notices (sources in its README) are sent
// to a site that does not know the chat and to one where the person wrote
// first: a notice never makes a chat, a conversation, a session or an
// attribution, and in an existing chat it is recorded once, as what it is.

// firstWAMID is the message the WhatsApp notice payloads refer to.
const firstWAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZJUlNUMDAwMDAwMDAwMDAwMQA="

// noticeSample reads a notice payload byte for byte.
func noticeSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "notices", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// siteCounts is what the public endpoints show of a site: its chats, and
// the channels report's conversations and sessions.
type siteCounts struct {
	Chats, Conversations, Sessions int
}

func (w *testWorld) siteCounts(t testing.TB) siteCounts {
	t.Helper()
	resp, b := w.do(t, request("GET", "/v1/sites/demo/chats", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("chat list: %d %s", resp.StatusCode, b)
	}
	var page chatPage
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	resp, b = w.do(t, request("GET", "/v1/sites/demo/reports/channels?from=2026-11-01&to=2026-11-03", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("channels report: %d %s", resp.StatusCode, b)
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
	return siteCounts{Chats: len(page.Chats), Conversations: rep.Totals.Conversations, Sessions: rep.Totals.Sessions}
}

// chatStatus is a chat's GET status: 404 when the chat does not exist.
func (w *testWorld) chatStatus(t testing.TB, chat string) int {
	t.Helper()
	resp, _ := w.do(t, request("GET", "/v1/sites/demo/chats/"+url.PathEscape(chat), nil, "Authorization", demoAuth))
	return resp.StatusCode
}

// indexScore is the chat's score in the site's chat index (its first
// message time), which orders the chat list.
func (w *testWorld) indexScore(t testing.TB, chat string) float64 {
	t.Helper()
	s, err := w.rdb.ZScore(t.Context(), store.Chats("demo"), chat).Result()
	if err != nil {
		t.Fatalf("index score of %s: %v", chat, err)
	}
	return s
}

// noticeCase is one notice payload and the history entries it must leave.
type noticeCase struct {
	file string
	want []ledger.HistoryEntry
}

var waNoticeCases = []noticeCase{
	{file: "whatsapp_reaction.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeReaction, Emoji: "👍",
		Ref: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJCVVNJTkVTU1JFUExZMDAwMDEA", MessageID: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRSRUFDVElPTjAwMDAwMDAwMDEA"}}},
	{file: "whatsapp_reaction_empty_emoji.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeReaction,
		Ref: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJCVVNJTkVTU1JFUExZMDAwMDEA", MessageID: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRSRUFDVElPTjAwMDAwMDAwMDIA"}}},
	{file: "whatsapp_reaction_removed.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeReaction,
		Ref: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJCVVNJTkVTU1JFUExZMDAwMDEA", MessageID: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRSRUFDVElPTjAwMDAwMDAwMDMA"}}},
	{file: "whatsapp_edit.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeEdited, Text: "Hello, do you deliver on Sundays?",
		Ref: "wa:" + firstWAMID, MessageID: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRFRElUMDAwMDAwMDAwMDAwMDEA"}}},
	{file: "whatsapp_edit_caption.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeEdited, Text: "This one, in blue",
		Ref: "wa:" + firstWAMID, MessageID: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRFRElUMDAwMDAwMDAwMDAwMDIA"}}},
	{file: "whatsapp_revoke.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeDeleted,
		Ref: "wa:" + firstWAMID, MessageID: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRSRVZPS0UwMDAwMDAwMDAwMDEA"}}},
	// Meta does not say which message an unsupported edit changed.
	{file: "whatsapp_unsupported_edit.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeEdited,
		MessageID: "wa:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRVTlNVUFBPUlRFRDAwMDAwMDEA"}}},
}

var tgNoticeCases = []noticeCase{
	{file: "telegram_edited_message.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeEdited, Text: "Hello, do you deliver on Sundays?",
		Ref: "tg:demo_bot:msg:7", MessageID: "tg:demo_bot:900001"}}},
	{file: "telegram_edited_business_message.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeEdited, Text: "Hello, do you deliver on Sundays?",
		Ref: "tg:demo_manager:msg:7", MessageID: "tg:demo_bot:900002"}}},
	{file: "telegram_message_reaction.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeReaction, Emoji: "👍",
		Ref: "tg:demo_bot:msg:8", MessageID: "tg:demo_bot:900003"}}},
	{file: "telegram_message_reaction_removed.json", want: []ledger.HistoryEntry{{Kind: inbound.NoticeReaction,
		Ref: "tg:demo_bot:msg:8", MessageID: "tg:demo_bot:900004"}}},
	{file: "telegram_deleted_business_messages.json", want: []ledger.HistoryEntry{
		{Kind: inbound.NoticeDeleted, Ref: "tg:demo_manager:msg:7", MessageID: "tg:demo_bot:900005/7"},
		{Kind: inbound.NoticeDeleted, Ref: "tg:demo_manager:msg:9", MessageID: "tg:demo_bot:900005/9"}}},
}

// sameNotice compares a recorded entry with the wanted one, leaving out
// the time, which the callers check.
func sameNotice(got, want ledger.HistoryEntry) bool {
	got.Time = ""
	return got.Kind == want.Kind && got.Ref == want.Ref && got.Emoji == want.Emoji && got.Text == want.Text &&
		got.MessageID == want.MessageID && got.Method == "" && got.Visit == "" && got.Confidence == nil
}

func TestNoticeForAnUnknownChatIsIgnored(t *testing.T) {
	type target struct {
		tc   noticeCase
		chat string
		post func(w *testWorld, t *testing.T, body []byte) (int, hookAnswer, string)
	}
	var tests []target
	for _, tc := range waNoticeCases {
		tests = append(tests, target{tc: tc, chat: "whatsapp:16505551234",
			post: func(w *testWorld, t *testing.T, body []byte) (int, hookAnswer, string) {
				return w.postWhatsApp(t, body)
			}})
	}
	for _, tc := range tgNoticeCases {
		tests = append(tests, target{tc: tc, chat: "telegram:4242",
			post: func(w *testWorld, t *testing.T, body []byte) (int, hookAnswer, string) {
				return w.postTelegram(t, "", body)
			}})
	}
	for _, tt := range tests {
		t.Run(tt.tc.file, func(t *testing.T) {
			w := newTestWorld(t)
			// Visitor B clicked both chat targets seconds before: a message
			// now would be matched to the click by the heuristic.
			v := w.addVisit(t, func(v *visit.Visit) { v.Country, v.Language = "US", "en-US" })
			w.clickOn(t, v, "whatsapp:15551234567", "")
			w.clickOn(t, v, "telegram:demo_bot", "")
			w.clock.Set(time.Unix(1793610120, 0).Add(5 * time.Second))
			body := noticeSample(t, tt.tc.file)
			for i := range 2 {
				status, ans, b := tt.post(w, t, body)
				if want := (hookAnswer{Ignored: len(tt.tc.want)}); status != 200 || ans != want {
					t.Fatalf("delivery %d: %d %s, want 200 %+v", i+1, status, b, want)
				}
			}
			if got := w.chatStatus(t, tt.chat); got != 404 {
				t.Errorf("GET %s = %d, want 404: the notice made a chat", tt.chat, got)
			}
			if got := w.siteCounts(t); got != (siteCounts{}) {
				t.Errorf("site counts %+v, want none", got)
			}
			if n := w.rdb.Exists(t.Context(), demoKeys.VisitMatched(v.N)).Val(); n != 0 {
				t.Errorf("the notice claimed visitor B's visit")
			}
		})
	}
}

func TestWhatsAppNoticeIsRecordedInItsChat(t *testing.T) {
	for _, tc := range waNoticeCases {
		t.Run(tc.file, func(t *testing.T) {
			w := newTestWorld(t)
			w.clock.Set(time.Unix(1793610120, 0).Add(10 * time.Minute))
			first := waNotification("15551234567", waContactJSON("Visitor A", "16505551234"),
				waTextJSON("16505551234", firstWAMID, testStart.Add(time.Minute), "Hello"))
			if status, ans, b := w.postWhatsApp(t, first); status != 200 || ans.Received != 1 {
				t.Fatalf("first message: %d %s", status, b)
			}
			checkNoticeRecorded(t, w, "whatsapp:16505551234", tc, func(body []byte) (int, hookAnswer, string) {
				return w.postWhatsApp(t, body)
			})
		})
	}
}

func TestTelegramNoticeIsRecordedInItsChat(t *testing.T) {
	for _, tc := range tgNoticeCases {
		t.Run(tc.file, func(t *testing.T) {
			w := newTestWorld(t)
			w.clock.Set(time.Unix(1793610120, 0).Add(10 * time.Minute))
			// Visitor T wrote to the bot and to the manager's business
			// account; both are message 7 of their chat.
			for _, kind := range []string{"message", "business_message"} {
				body := tgUpdateJSON(kind, 100+int64(len(kind)), 4242, 4242, testStart.Add(time.Minute), "Hello", "en")
				if status, ans, b := w.postTelegram(t, "", body); status != 200 || ans.Received != 1 {
					t.Fatalf("%s: %d %s", kind, status, b)
				}
			}
			checkNoticeRecorded(t, w, "telegram:4242", tc, func(body []byte) (int, hookAnswer, string) {
				return w.postTelegram(t, "", body)
			})
		})
	}
}

// checkNoticeRecorded posts tc's payload twice to a chat that exists and
// checks the history gained its entries once, and nothing else moved.
func checkNoticeRecorded(t *testing.T, w *testWorld, chat string, tc noticeCase, post func([]byte) (int, hookAnswer, string)) {
	t.Helper()
	before := w.chatRecordOf(t, chat)
	beforeCounts, beforeScore := w.siteCounts(t), w.indexScore(t, chat)
	body := noticeSample(t, tc.file)
	for i, want := range []hookAnswer{{Received: len(tc.want)}, {Duplicates: len(tc.want)}} {
		if status, ans, b := post(body); status != 200 || ans != want {
			t.Fatalf("delivery %d: %d %s, want 200 %+v", i+1, status, b, want)
		}
	}
	after := w.chatRecordOf(t, chat)
	added := after.History[len(before.History):]
	if len(added) != len(tc.want) {
		t.Fatalf("history gained %d entries, want %d: %+v", len(added), len(tc.want), added)
	}
	for i, h := range added {
		if !sameNotice(h, tc.want[i]) {
			t.Errorf("history entry %+v\nwant %+v", h, tc.want[i])
		}
		if h.Time == "" {
			t.Errorf("history entry without time: %+v", h)
		}
	}
	if after.LastMessageAt != before.LastMessageAt || after.Messages != before.Messages || after.FirstMessageAt != before.FirstMessageAt ||
		after.ConversationAt != before.ConversationAt || after.Method != before.Method || after.Visit != before.Visit ||
		len(after.Sessions) != len(before.Sessions) {
		t.Errorf("the notice moved the chat:\nbefore %+v\nafter  %+v", before, after)
	}
	if got := w.siteCounts(t); got != beforeCounts {
		t.Errorf("site counts %+v, were %+v", got, beforeCounts)
	}
	if got := w.indexScore(t, chat); got != beforeScore {
		t.Errorf("chat index score %v, was %v", got, beforeScore)
	}
}

// TestWhatsAppUnsupportedMessageIsAPersonWriting: Meta sends an unsupported
// message for something a person sent that it cannot show (here a poll),
// often as the first message after an ad click, so it makes the chat as
// any message without text does.
func TestWhatsAppUnsupportedMessageIsAPersonWriting(t *testing.T) {
	w := newTestWorld(t)
	w.clock.Set(time.Unix(1793610120, 0).Add(time.Minute))
	if status, ans, b := w.postWhatsApp(t, noticeSample(t, "whatsapp_unsupported_poll.json")); status != 200 || ans.Received != 1 {
		t.Fatalf("%d %s", status, b)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if rec.Messages != 1 || len(rec.History) != 1 || rec.History[0].Kind != "conversation" {
		t.Errorf("record = %+v", rec)
	}
}

// postGeneric sends a generic message or notice and returns the status and
// body.
func (w *testWorld) postGeneric(t testing.TB, msg map[string]string) (int, string) {
	t.Helper()
	resp, b := w.do(t, request("POST", "/v1/sites/demo/messages", jsonBody(t, msg), "Authorization", demoAuth, "Content-Type", "application/json"))
	return resp.StatusCode, string(b)
}

func TestGenericNotices(t *testing.T) {
	w := newTestWorld(t)
	w.clock.Advance(10 * time.Minute)
	msg := func(fields ...string) map[string]string {
		m := map[string]string{"channel": "viber", "from": "u-77", "time": "2026-11-02T09:05:00Z"}
		for i := 0; i+1 < len(fields); i += 2 {
			m[fields[i]] = fields[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		req  map[string]string
		want ledger.HistoryEntry
	}{
		{name: "reaction", req: msg("kind", "reaction", "id", "n1", "ref", "m1", "emoji", "❤️"),
			want: ledger.HistoryEntry{Kind: inbound.NoticeReaction, MessageID: "msg:viber:n1", Ref: "msg:viber:m1", Emoji: "❤️"}},
		{name: "removed reaction", req: msg("kind", "reaction", "id", "n2", "ref", "m1"),
			want: ledger.HistoryEntry{Kind: inbound.NoticeReaction, MessageID: "msg:viber:n2", Ref: "msg:viber:m1"}},
		{name: "edit", req: msg("kind", "edit", "id", "n3", "ref", "m1", "text", "Hello again\u0007"),
			want: ledger.HistoryEntry{Kind: inbound.NoticeEdited, MessageID: "msg:viber:n3", Ref: "msg:viber:m1", Text: "Hello again"}},
		{name: "delete", req: msg("kind", "Delete", "id", "n4", "ref", "m1"),
			want: ledger.HistoryEntry{Kind: inbound.NoticeDeleted, MessageID: "msg:viber:n4", Ref: "msg:viber:m1"}},
	}

	// Before the chat exists: acknowledged, nothing made.
	for _, tc := range tests {
		status, b := w.postGeneric(t, tc.req)
		if status != 200 || !strings.Contains(b, `"recorded":false`) || !strings.Contains(b, `"ignored":"no_chat"`) {
			t.Errorf("%s before the chat: %d %s", tc.name, status, b)
		}
	}
	if got := w.chatStatus(t, "viber:u-77"); got != 404 {
		t.Fatalf("a notice made the chat: GET = %d", got)
	}
	if got := w.siteCounts(t); got != (siteCounts{}) {
		t.Fatalf("site counts %+v, want none", got)
	}

	// The person's message, delivered twice with its id: counted once.
	for range 2 {
		if status, b := w.postGeneric(t, msg("id", "m1", "text", "Hello", "time", "2026-11-02T09:01:00Z")); status != 200 {
			t.Fatalf("message: %d %s", status, b)
		}
	}
	before := w.chatRecordOf(t, "viber:u-77")
	if before.Messages != 1 || len(before.History) != 1 || before.History[0].MessageID != "msg:viber:m1" {
		t.Fatalf("a redelivered message with an id counted twice: %+v", before)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(w.chatRecordOf(t, "viber:u-77").History)
			for i, want := range []string{`"recorded":true`, `"duplicate":true`} {
				status, b := w.postGeneric(t, tc.req)
				if status != 200 || !strings.Contains(b, want) || !strings.Contains(b, `"kind":"`+tc.want.Kind+`"`) {
					t.Fatalf("delivery %d: %d %s, want %s", i+1, status, b, want)
				}
			}
			rec := w.chatRecordOf(t, "viber:u-77")
			if len(rec.History) != n+1 || !sameNotice(rec.History[n], tc.want) || rec.History[n].Time != "2026-11-02T09:05:00Z" {
				t.Errorf("history %+v, want one more entry %+v", rec.History, tc.want)
			}
		})
	}
	after := w.chatRecordOf(t, "viber:u-77")
	if after.Messages != 1 || after.LastMessageAt != before.LastMessageAt || after.Method != reports.MethodNone {
		t.Errorf("notices moved the chat: %+v", after)
	}

	t.Run("bad input", func(t *testing.T) {
		bad := []struct {
			name, mention string
			req           map[string]string
		}{
			{name: "unknown kind", mention: "kind", req: msg("kind", "poke", "ref", "m1")},
			{name: "notice without ref", mention: "ref", req: msg("kind", "reaction", "emoji", "👍")},
			{name: "id on two lines", mention: "id", req: msg("id", "a\nb", "text", "hi")},
			{name: "ref too long", mention: "ref", req: msg("kind", "delete", "ref", strings.Repeat("x", 129))},
		}
		for _, tc := range bad {
			status, b := w.postGeneric(t, tc.req)
			if status != 400 || !strings.Contains(b, tc.mention) {
				t.Errorf("%s: %d %s, want 400 naming %q", tc.name, status, b, tc.mention)
			}
		}
	})
}

// editWithText is a notice payload with its edited text replaced (and, if
// ref is set, the edited message too).
func editWithText(t testing.TB, file, text, ref string) []byte {
	t.Helper()
	body := string(noticeSample(t, file))
	quoted, err := json.Marshal(text)
	if err != nil {
		t.Fatal(err)
	}
	body = strings.Replace(body, `"Hello, do you deliver on Sundays?"`, string(quoted), 1)
	if ref != "" {
		body = strings.Replace(body, firstWAMID, ref, 1)
	}
	return []byte(body)
}

// TestEditAddingACodeAttributesTheConversation: visitor A's first message
// lost its code, the chat is unattributed; A edits that message and puts
// the code back. The conversation is attributed by id at its own time, as
// if the code had been there from the start: one conversation, one
// session, the first message's time.
func TestEditAddingACodeAttributesTheConversation(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, nil)
	w.clock.Set(time.Unix(1793610120, 0).Add(10 * time.Minute))
	first := waNotification("15551234567", waContactJSON("Visitor A", "16505551234"),
		waTextJSON("16505551234", firstWAMID, testStart.Add(time.Minute), "Hello"))
	if status, _, b := w.postWhatsApp(t, first); status != 200 {
		t.Fatalf("first message: %d %s", status, b)
	}
	if rec := w.chatRecordOf(t, "whatsapp:16505551234"); rec.Method != reports.MethodNone {
		t.Fatalf("before the edit: method %q, want none", rec.Method)
	}
	if got := w.siteCounts(t); got != (siteCounts{Chats: 1, Conversations: 1}) {
		t.Fatalf("before the edit: %+v", got)
	}
	edit := editWithText(t, "whatsapp_edit.json", "Hello! My request code: "+w.code(v), "")
	for i, want := range []hookAnswer{{Received: 1}, {Duplicates: 1}} {
		if status, ans, b := w.postWhatsApp(t, edit); status != 200 || ans != want {
			t.Fatalf("edit delivery %d: %d %s, want %+v", i+1, status, b, want)
		}
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if rec.Method != reports.MethodID || rec.Confidence != 1 || rec.Visit != w.visitID(v) || rec.Dialog != reports.DialogNew {
		t.Errorf("record: method %q %v, visit %q, dialog %q; want id 1 %s new", rec.Method, rec.Confidence, rec.Visit, w.visitID(v), rec.Dialog)
	}
	if rec.ConversationAt != "2026-11-02T09:01:00Z" || rec.FirstMessageAt != "2026-11-02T09:01:00Z" || rec.Messages != 1 {
		t.Errorf("conversation_at %s, first_message_at %s, messages %d; want the first message's 09:01 and 1",
			rec.ConversationAt, rec.FirstMessageAt, rec.Messages)
	}
	last := rec.History[len(rec.History)-1]
	if len(rec.History) != 2 || last.Kind != inbound.NoticeEdited || last.Method != reports.MethodID || last.Visit != w.visitID(v) || last.Ref != "wa:"+firstWAMID {
		t.Errorf("history = %+v", rec.History)
	}
	if len(rec.Sessions) != 1 || rec.Sessions[0].Method != reports.MethodID || !rec.Sessions[0].StartedAt.Equal(testStart.Add(time.Minute)) {
		t.Errorf("sessions = %+v, want one by id from 09:01", rec.Sessions)
	}
	if got := w.siteCounts(t); got != (siteCounts{Chats: 1, Conversations: 1, Sessions: 1}) {
		t.Errorf("after the edit: %+v, want one chat, one conversation, one session", got)
	}
}

// TestEditOnlyRecordedWhenItExplainsNothing: an edit with a live code is
// only recorded when it is not of the first message of the conversation,
// when the conversation is already attributed, or when a later message of
// the chat brought the code and started its own conversation.
func TestEditOnlyRecordedWhenItExplainsNothing(t *testing.T) {
	const second = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRTRUNPTkQwMDAwMDAwMDAwMDEA"
	tests := []struct {
		name            string
		number          string // the business number visitor A wrote to
		ref             string // the message edited
		sameCodeEarlier bool   // a later message brought the code
		method          string
	}{
		{name: "an edit of a later message", number: "15551234567", ref: second, method: reports.MethodNone},
		{name: "an attributed conversation", number: "15557654321", method: reports.MethodDedicatedNumber},
		{name: "a code this chat brought since", number: "15551234567", sameCodeEarlier: true, method: reports.MethodID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWorld(t)
			v := w.addVisit(t, nil)
			w.clock.Set(time.Unix(1793610120, 0).Add(10 * time.Minute))
			contact := waContactJSON("Visitor A", "16505551234")
			msgs := []string{waTextJSON("16505551234", firstWAMID, testStart.Add(time.Minute), "Hello"),
				waTextJSON("16505551234", second, testStart.Add(90*time.Second), "and a question")}
			if status, _, b := w.postWhatsApp(t, waNotification(tc.number, contact, msgs...)); status != 200 {
				t.Fatalf("messages: %d %s", status, b)
			}
			if tc.sameCodeEarlier {
				// The chat's first message was unattributed, a later one
				// brought the code and started its own conversation; an
				// edit of the first message bringing the same code adds
				// nothing new.
				body := waNotification("15551234567", contact,
					waTextJSON("16505551234", "wamid.A3", testStart.Add(2*time.Minute), "code "+w.code(v)))
				if status, _, b := w.postWhatsApp(t, body); status != 200 {
					t.Fatalf("code message: %d %s", status, b)
				}
			}
			before := w.siteCounts(t)
			edit := editWithText(t, "whatsapp_edit.json", "Hello! My request code: "+w.code(v), tc.ref)
			if status, ans, b := w.postWhatsApp(t, edit); status != 200 || ans != (hookAnswer{Received: 1}) {
				t.Fatalf("edit: %d %s", status, b)
			}
			rec := w.chatRecordOf(t, "whatsapp:16505551234")
			last := rec.History[len(rec.History)-1]
			if rec.Method != tc.method || last.Kind != inbound.NoticeEdited || last.Method != "" || last.Visit != "" {
				t.Errorf("method %q, last history entry %+v; want %s and a plain edit", rec.Method, last, tc.method)
			}
			if got := w.siteCounts(t); got != before {
				t.Errorf("site counts %+v, were %+v", got, before)
			}
		})
	}
}

// TestEditAddingACodeOnEveryPath: the same rule for a Telegram edit, a
// generic edit, and a chat stored before the record named its
// conversation's first message (the history's entry names it).
func TestEditAddingACodeOnEveryPath(t *testing.T) {
	t.Run("telegram", func(t *testing.T) {
		w := newTestWorld(t)
		v := w.addVisit(t, nil)
		w.clock.Set(time.Unix(1793610120, 0).Add(10 * time.Minute))
		if status, _, b := w.postTelegram(t, "", tgUpdateJSON("message", 100, 4242, 4242, testStart.Add(time.Minute), "Hello", "en")); status != 200 {
			t.Fatalf("message: %d %s", status, b)
		}
		edit := editWithText(t, "telegram_edited_message.json", "Hello! "+w.code(v), "")
		if status, ans, b := w.postTelegram(t, "", edit); status != 200 || ans.Received != 1 {
			t.Fatalf("edit: %d %s", status, b)
		}
		rec := w.chatRecordOf(t, "telegram:4242")
		if rec.Method != reports.MethodID || rec.Visit != w.visitID(v) || rec.ConversationAt != "2026-11-02T09:01:00Z" {
			t.Errorf("record: method %q, visit %q, conversation_at %s", rec.Method, rec.Visit, rec.ConversationAt)
		}
		if got := w.siteCounts(t); got != (siteCounts{Chats: 1, Conversations: 1, Sessions: 1}) {
			t.Errorf("site counts %+v", got)
		}
	})

	t.Run("generic", func(t *testing.T) {
		w := newTestWorld(t)
		v := w.addVisit(t, nil)
		w.clock.Advance(10 * time.Minute)
		if status, b := w.postGeneric(t, map[string]string{"channel": "viber", "from": "u-77", "id": "m1", "text": "Hello", "time": "2026-11-02T09:01:00Z"}); status != 200 {
			t.Fatalf("message: %d %s", status, b)
		}
		status, b := w.postGeneric(t, map[string]string{"channel": "viber", "from": "u-77", "kind": "edit", "id": "e1", "ref": "m1",
			"text": "Hello " + w.code(v), "time": "2026-11-02T09:02:00Z"})
		var ans noticeResponse
		if err := json.Unmarshal([]byte(b), &ans); err != nil || status != 200 {
			t.Fatalf("edit: %d %s", status, b)
		}
		if !ans.Recorded || ans.Method != reports.MethodID || ans.Confidence != 1 || ans.Visit == nil || ans.Visit.ID != w.visitID(v) {
			t.Errorf("answer = %s", b)
		}
		if rec := w.chatRecordOf(t, "viber:u-77"); rec.Method != reports.MethodID || rec.ConversationAt != "2026-11-02T09:01:00Z" {
			t.Errorf("record: method %q, conversation_at %s", rec.Method, rec.ConversationAt)
		}
	})

	t.Run("a record without conv_msg", func(t *testing.T) {
		w := newTestWorld(t)
		v := w.addVisit(t, nil)
		w.clock.Set(time.Unix(1793610120, 0).Add(10 * time.Minute))
		first := waNotification("15551234567", waContactJSON("Visitor A", "16505551234"),
			waTextJSON("16505551234", firstWAMID, testStart.Add(time.Minute), "Hello"))
		if status, _, b := w.postWhatsApp(t, first); status != 200 {
			t.Fatalf("first message: %d %s", status, b)
		}
		key := store.Chat("demo", "whatsapp:16505551234")
		var rec map[string]any
		if err := json.Unmarshal([]byte(w.rdb.HGet(t.Context(), key, "rec").Val()), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["conv_msg"] != "wa:"+firstWAMID {
			t.Fatalf("conv_msg = %v, want the first message", rec["conv_msg"])
		}
		delete(rec, "conv_msg")
		if err := w.rdb.HSet(t.Context(), key, "rec", jsonBody(t, rec)).Err(); err != nil {
			t.Fatal(err)
		}
		edit := editWithText(t, "whatsapp_edit.json", "Hello! My request code: "+w.code(v), "")
		if status, _, b := w.postWhatsApp(t, edit); status != 200 {
			t.Fatalf("edit: %d %s", status, b)
		}
		if got := w.chatRecordOf(t, "whatsapp:16505551234"); got.Method != reports.MethodID || got.Visit != w.visitID(v) {
			t.Errorf("record: method %q, visit %q", got.Method, got.Visit)
		}
	})
}
