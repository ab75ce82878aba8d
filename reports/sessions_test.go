package reports

import (
	"errors"
	"testing"
	"time"
)

func TestEventConvertsOpenSessionOnItsStartDay(t *testing.T) {
	w := newWorld(t)
	start := t0.Add(time.Hour)
	w.conv(t, "demo", "whatsapp:1001", "ad-a", start)
	r := w.event(t, Event{Chat: "whatsapp:1001", Category: "Purchase", Time: start.Add(4 * day), Value: 12.5})
	if !r.Converted || r.Status != "converted" || r.Session == 0 || r.ConversionEvent != "purchase" {
		t.Fatalf("result = %+v, want a conversion", r)
	}
	if cv, cn := w.adNumbers(t, "demo", "ad-a", "2026-03-02", "2026-03-02"); cv != 1 || cn != 1 {
		t.Errorf("start day: conversations %d conversions %d, want 1 and 1", cv, cn)
	}
	if cv, cn := w.adNumbers(t, "demo", "ad-a", "2026-03-03", "2026-03-31"); cv != 0 || cn != 0 {
		t.Errorf("the event's own day must not hold the conversion: conversations %d conversions %d", cv, cn)
	}
	rep, err := w.st.Ads(w.ctx, "demo", Range{From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Totals.Revenue; got == nil || *got != 12.5 {
		t.Errorf("revenue = %v, want 12.5", got)
	}
	if got := rep.Totals.ConversionRate; got == nil || *got != 1 {
		t.Errorf("conversion rate = %v, want 1", got)
	}
}

func TestSessionRules(t *testing.T) {
	start := t0.Add(time.Hour)
	const window = 90 * day
	tests := []struct {
		name string
		// setup runs after the chat's first session (ad-a at start).
		setup      func(t *testing.T, w *testWorld)
		event      Event
		wantStatus string
		// wantA and wantB are the conversions of ad-a and ad-b afterwards.
		wantA, wantB int64
	}{
		{
			name: "a second conversion event finds the session already converted",
			setup: func(t *testing.T, w *testWorld) {
				w.event(t, Event{Chat: "c", Category: "purchase", Time: start.Add(day)})
			},
			event:      Event{Chat: "c", Category: "purchase", Time: start.Add(2 * day)},
			wantStatus: "already_converted", wantA: 1,
		},
		{
			name:       "a new attributed conversation closes the old session without conversion",
			setup:      func(t *testing.T, w *testWorld) { w.conv(t, "demo", "c", "ad-b", start.Add(day)) },
			event:      Event{Chat: "c", Category: "purchase", Time: start.Add(2 * day)},
			wantStatus: "converted", wantA: 0, wantB: 1,
		},
		{
			name:       "an event at the very millisecond of a new conversation belongs to the new session",
			setup:      func(t *testing.T, w *testWorld) { w.conv(t, "demo", "c", "ad-b", start.Add(day)) },
			event:      Event{Chat: "c", Category: "purchase", Time: start.Add(day)},
			wantStatus: "converted", wantA: 0, wantB: 1,
		},
		{
			name:       "an unattributed conversation does not close the open session",
			setup:      func(t *testing.T, w *testWorld) { w.conv(t, "demo", "c", "", start.Add(day)) },
			event:      Event{Chat: "c", Category: "purchase", Time: start.Add(2 * day)},
			wantStatus: "converted", wantA: 1,
		},
		{
			name:       "one millisecond before 90 days the session is still open",
			event:      Event{Chat: "c", Category: "purchase", Time: start.Add(window - time.Millisecond)},
			wantStatus: "converted", wantA: 1,
		},
		{
			name:       "at exactly 90 days the session has expired",
			event:      Event{Chat: "c", Category: "purchase", Time: start.Add(window)},
			wantStatus: "expired",
		},
		{
			name:       "an event before the session started finds no session",
			event:      Event{Chat: "c", Category: "purchase", Time: start.Add(-time.Minute)},
			wantStatus: "no_session",
		},
		{
			name:       "another category converts nothing",
			event:      Event{Chat: "c", Category: "lead", Time: start.Add(day)},
			wantStatus: "other_category",
		},
		{
			name:       "the configured conversion event counts for history sent after the fact",
			setup:      func(t *testing.T, w *testWorld) { w.conv(t, "demo", "c", "ad-b", t0.Add(-10*day)) },
			event:      Event{Chat: "c", Category: "purchase", Time: t0.Add(-time.Millisecond)},
			wantStatus: "converted", wantB: 1,
		},
		{
			name: "a late delivery keeps its own time",
			setup: func(t *testing.T, w *testWorld) {
				w.clock.Set(start.Add(200 * day)) // delivered long after the window
			},
			event:      Event{Chat: "c", Category: "purchase", Time: start.Add(3 * day)},
			wantStatus: "converted", wantA: 1,
		},
		{
			name:       "an unknown chat has no session",
			event:      Event{Chat: "whatsapp:999", Category: "purchase", Time: start.Add(day)},
			wantStatus: "no_session",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.conv(t, "demo", "c", "ad-a", start)
			if tt.setup != nil {
				tt.setup(t, w)
			}
			r := w.event(t, tt.event)
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %q (%s), want %q", r.Status, r.Reason, tt.wantStatus)
			}
			if r.Converted != (tt.wantStatus == "converted") {
				t.Errorf("converted = %v for status %q", r.Converted, r.Status)
			}
			if !r.Converted && r.Reason == "" {
				t.Errorf("no reason given for %q", r.Status)
			}
			if _, a := w.adNumbers(t, "demo", "ad-a", "2026-01-01", "2026-12-31"); a != tt.wantA {
				t.Errorf("ad-a conversions = %d, want %d", a, tt.wantA)
			}
			if _, b := w.adNumbers(t, "demo", "ad-b", "2026-01-01", "2026-12-31"); b != tt.wantB {
				t.Errorf("ad-b conversions = %d, want %d", b, tt.wantB)
			}
		})
	}
}

func TestShortWindowBoundary(t *testing.T) {
	// The window is configurable: with session_days 7 the boundary is at
	// exactly 7 days, on the same half-open rule.
	w := newWorld(t)
	start := t0.Add(time.Hour)
	w.conv(t, "week", "c1", "ad-a", start)
	w.conv(t, "week", "c2", "ad-a", start)
	if r := w.event(t, Event{Site: "week", Chat: "c1", Category: "purchase", Time: start.Add(7 * day)}); r.Status != "expired" {
		t.Errorf("at 7 days: %q, want expired", r.Status)
	}
	if r := w.event(t, Event{Site: "week", Chat: "c2", Category: "purchase", Time: start.Add(7*day - time.Millisecond)}); r.Status != "converted" {
		t.Errorf("just before 7 days: %q, want converted", r.Status)
	}
}

func TestConversionEventChangedMidRange(t *testing.T) {
	w := newWorld(t)
	d := func(n int) time.Time { return t0.Add(time.Duration(n)*day + time.Hour) }
	w.conv(t, "demo", "c1", "ad-a", d(0))
	w.conv(t, "demo", "c2", "ad-a", d(1))
	w.conv(t, "demo", "c3", "ad-a", d(2))
	w.conv(t, "demo", "c4", "ad-a", d(3))

	if r := w.event(t, Event{Chat: "c1", Category: "purchase", Time: d(4)}); !r.Converted {
		t.Fatalf("purchase before the change: %+v", r)
	}
	if r := w.event(t, Event{Chat: "c2", Category: "won", Time: d(4)}); r.Status != "other_category" || r.ConversionEvent != "purchase" {
		t.Fatalf("won before the change: %+v", r)
	}
	w.clock.Set(d(5))
	if err := w.st.SetConversionEvent(w.ctx, "demo", "Won"); err != nil {
		t.Fatal(err)
	}
	if r := w.event(t, Event{Chat: "c2", Category: "purchase", Time: d(6)}); r.Status != "other_category" || r.ConversionEvent != "won" {
		t.Fatalf("purchase after the change: %+v", r)
	}
	if r := w.event(t, Event{Chat: "c3", Category: "won", Time: d(6)}); !r.Converted {
		t.Fatalf("won after the change: %+v", r)
	}
	// A purchase delivered late but made before the change still counts
	// under purchase: the category in force at the event's time decides.
	if r := w.event(t, Event{Chat: "c4", Category: "purchase", Time: d(4).Add(time.Hour)}); !r.Converted {
		t.Fatalf("late purchase from before the change: %+v", r)
	}

	rep, err := w.st.Ads(w.ctx, "demo", Range{From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	if tot.Conversions == nil || *tot.Conversions != 3 {
		t.Fatalf("conversions = %v, want 3", tot.Conversions)
	}
	if tot.ConversionsByEvent["purchase"] != 2 || tot.ConversionsByEvent["won"] != 1 {
		t.Errorf("by event = %v, want purchase 2, won 1", tot.ConversionsByEvent)
	}
	if len(rep.ConversionEvents) != 2 || rep.ConversionEvents[0].Category != "purchase" ||
		rep.ConversionEvents[0].Since != nil || rep.ConversionEvents[1].Category != "won" ||
		rep.ConversionEvents[1].Since == nil || !rep.ConversionEvents[1].Since.Equal(d(5)) {
		t.Errorf("history = %+v", rep.ConversionEvents)
	}
	// Choosing the category in force again changes nothing.
	if err := w.st.SetConversionEvent(w.ctx, "demo", "won"); err != nil {
		t.Fatal(err)
	}
	if h, _ := w.st.ConversionEvents(w.ctx, "demo"); len(h) != 2 {
		t.Errorf("re-choosing the same category added history: %+v", h)
	}
}

func TestDuplicateEventsCountOnce(t *testing.T) {
	tests := []struct {
		name   string
		first  Event
		second Event
	}{
		{
			name:   "same ID, different delivery",
			first:  Event{Chat: "c", Category: "purchase", Time: t0.Add(2 * time.Hour), Value: 5, ID: "crm-1"},
			second: Event{Chat: "c", Category: "purchase", Time: t0.Add(3 * time.Hour), Value: 5, ID: "crm-1"},
		},
		{
			name:   "no ID, same content",
			first:  Event{Chat: "c", Category: "purchase", Time: t0.Add(2 * time.Hour), Value: 5},
			second: Event{Chat: "c", Category: "purchase", Time: t0.Add(2 * time.Hour), Value: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.conv(t, "demo", "c", "ad-a", t0.Add(time.Hour))
			if r := w.event(t, tt.first); !r.Converted {
				t.Fatalf("first: %+v", r)
			}
			if r := w.event(t, tt.second); r.Status != "duplicate" {
				t.Fatalf("second: %+v, want duplicate", r)
			}
			rep, _ := w.st.Ads(w.ctx, "demo", Range{From: "2026-03-01", To: "2026-03-31"})
			if *rep.Totals.Revenue != 5 || *rep.Totals.Conversions != 1 {
				t.Errorf("revenue %v conversions %v, want 5 and 1", *rep.Totals.Revenue, *rep.Totals.Conversions)
			}
		})
	}
}

func TestReplayedConversationCountsOnce(t *testing.T) {
	w := newWorld(t)
	at := t0.Add(time.Hour)
	w.conv(t, "demo", "c", "ad-a", at)
	w.conv(t, "demo", "c", "ad-a", at)
	w.conv(t, "demo", "u", "", at)
	w.conv(t, "demo", "u", "", at)
	if cv, _ := w.adNumbers(t, "demo", "ad-a", "2026-03-02", "2026-03-02"); cv != 1 {
		t.Errorf("attributed conversations = %d, want 1", cv)
	}
	rep, err := w.st.Channels(w.ctx, "demo", Range{From: "2026-03-02", To: "2026-03-02"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Conversations != 2 {
		t.Errorf("conversations = %d, want 2 (one attributed, one unattributed)", rep.Totals.Conversations)
	}
}

func TestLateFactsKeepTheirTime(t *testing.T) {
	t.Run("an earlier event replaces a later conversion of the same session", func(t *testing.T) {
		w := newWorld(t)
		w.conv(t, "demo", "c", "ad-a", t0.Add(time.Hour))
		w.event(t, Event{Chat: "c", Category: "purchase", Time: t0.Add(5 * time.Hour), Value: 10})
		r := w.event(t, Event{Chat: "c", Category: "purchase", Time: t0.Add(3 * time.Hour), Value: 20, ID: "early"})
		if r.Status != "converted_earlier" || !r.Converted {
			t.Fatalf("late earlier event: %+v", r)
		}
		rep, _ := w.st.Ads(w.ctx, "demo", Range{From: "2026-03-02", To: "2026-03-02"})
		if *rep.Totals.Conversions != 1 || *rep.Totals.Revenue != 20 {
			t.Errorf("conversions %d revenue %v, want 1 and 20", *rep.Totals.Conversions, *rep.Totals.Revenue)
		}
		ss, _ := w.st.ChatSessions(w.ctx, "demo", "c")
		if len(ss) != 1 || ss[0].Conversion == nil || ss[0].Conversion.EventID != "early" {
			t.Errorf("sessions = %+v", ss)
		}
	})
	t.Run("a late conversation takes the conversion that followed it", func(t *testing.T) {
		w := newWorld(t)
		w.conv(t, "demo", "c", "ad-a", t0.Add(time.Hour))
		w.event(t, Event{Chat: "c", Category: "purchase", Time: t0.Add(30 * time.Hour), Value: 7})
		// Delivered now, started before the purchase: the purchase was made
		// in the ad-b session.
		w.conv(t, "demo", "c", "ad-b", t0.Add(26*time.Hour))
		if _, a := w.adNumbers(t, "demo", "ad-a", "2026-03-01", "2026-03-31"); a != 0 {
			t.Errorf("ad-a conversions = %d, want 0", a)
		}
		if _, b := w.adNumbers(t, "demo", "ad-b", "2026-03-03", "2026-03-03"); b != 1 {
			t.Errorf("ad-b conversions on its start day = %d, want 1", b)
		}
		ss, _ := w.st.ChatSessions(w.ctx, "demo", "c")
		if len(ss) != 2 || ss[0].Status != "replaced" || ss[1].Status != "converted" {
			t.Errorf("sessions = %+v", ss)
		}
	})
}

func TestChatSessionsStatusAsOfNow(t *testing.T) {
	w := newWorld(t)
	start := t0.Add(time.Hour)
	w.conv(t, "demo", "c", "ad-a", start)
	ss, err := w.st.ChatSessions(w.ctx, "demo", "c")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || ss[0].Status != "open" || ss[0].ClosedAt != nil || !ss[0].ExpiresAt.Equal(start.Add(90*day)) ||
		ss[0].AdID != "ad-a" || ss[0].Channel != "messenger_ad" || ss[0].Source != "facebook" || ss[0].Day != "2026-03-02" {
		t.Fatalf("sessions = %+v", ss)
	}
	// Expiry is lazy: nothing changes in Redis, the clock decides.
	w.clock.Set(start.Add(90*day - time.Millisecond))
	if ss, _ := w.st.ChatSessions(w.ctx, "demo", "c"); ss[0].Status != "open" {
		t.Errorf("just before the window ends: %q", ss[0].Status)
	}
	w.clock.Set(start.Add(90 * day))
	if ss, _ := w.st.ChatSessions(w.ctx, "demo", "c"); ss[0].Status != "expired" || !ss[0].ClosedAt.Equal(start.Add(90*day)) {
		t.Errorf("at the window's end: %+v", ss[0])
	}
	if ss, _ := w.st.ChatSessions(w.ctx, "demo", "nobody"); len(ss) != 0 {
		t.Errorf("unknown chat: %+v", ss)
	}
}

func TestUnattributedOpensNoSession(t *testing.T) {
	w := newWorld(t)
	w.conv(t, "demo", "u", "", t0.Add(time.Hour))
	if ss, _ := w.st.ChatSessions(w.ctx, "demo", "u"); len(ss) != 0 {
		t.Fatalf("sessions = %+v, want none", ss)
	}
	if r := w.event(t, Event{Chat: "u", Category: "purchase", Time: t0.Add(2 * time.Hour)}); r.Status != "no_session" {
		t.Fatalf("event: %+v", r)
	}
	rep, err := w.st.Channels(w.ctx, "demo", Range{From: "2026-03-02", To: "2026-03-02"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Channel != Unattributed || rep.Rows[0].Conversations != 1 ||
		rep.Rows[0].Conversions != nil || rep.Rows[0].Notes["conversions"] == "" {
		t.Fatalf("rows = %+v", rep.Rows)
	}
}

func TestDayInSiteTimeZone(t *testing.T) {
	w := newWorld(t)
	// 20:00 UTC is 01:00 the next day at UTC+5.
	at := time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)
	w.conv(t, "east", "c", "ad-a", at)
	if cv, _ := w.adNumbers(t, "east", "ad-a", "2026-03-03", "2026-03-03"); cv != 1 {
		t.Errorf("conversation not on the site-local day 2026-03-03")
	}
	if cv, _ := w.adNumbers(t, "east", "ad-a", "2026-03-02", "2026-03-02"); cv != 0 {
		t.Errorf("conversation on the UTC day")
	}
}

func TestNoConversionEventChosen(t *testing.T) {
	w := newWorld(t)
	w.conv(t, "blank", "c", "ad-a", t0.Add(time.Hour))
	r := w.event(t, Event{Site: "blank", Chat: "c", Category: "purchase", Time: t0.Add(2 * time.Hour)})
	if r.Status != "no_conversion_event" {
		t.Fatalf("event: %+v", r)
	}
	rep, err := w.st.Ads(w.ctx, "blank", Range{From: "2026-03-02", To: "2026-03-02"})
	if err != nil {
		t.Fatal(err)
	}
	row := rep.Rows[0]
	if row.Conversions != nil || row.ConversionRate != nil || row.Revenue != nil || row.Notes["conversions"] != noteNoChoice {
		t.Errorf("row = %+v, want null conversions with a note", row)
	}
	if row.Cost != nil || row.Notes["cost"] != noteNoCost {
		t.Errorf("row = %+v, want null cost with a note", row)
	}
	// Once chosen, later events count.
	w.clock.Set(t0.Add(3 * time.Hour))
	if err := w.st.SetConversionEvent(w.ctx, "blank", "purchase"); err != nil {
		t.Fatal(err)
	}
	if r := w.event(t, Event{Site: "blank", Chat: "c", Category: "purchase", Time: t0.Add(4 * time.Hour)}); !r.Converted {
		t.Errorf("after the choice: %+v", r)
	}
}

func TestBadFactsAreRefused(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name string
		run  func() error
	}{
		{"conversation without chat", func() error {
			return w.st.RecordConversation(w.ctx, Conversation{Site: "demo", Time: t0, Method: "id"})
		}},
		{"conversation without time", func() error {
			return w.st.RecordConversation(w.ctx, Conversation{Site: "demo", Chat: "c", Method: "id"})
		}},
		{"unknown site", func() error {
			return w.st.RecordConversation(w.ctx, Conversation{Site: "nope", Chat: "c", Time: t0, Method: "id"})
		}},
		{"event with a colon in its category", func() error {
			_, err := w.st.RecordEvent(w.ctx, Event{Site: "demo", Chat: "c", Category: "a:b", Time: t0})
			return err
		}},
		{"event without time", func() error {
			_, err := w.st.RecordEvent(w.ctx, Event{Site: "demo", Chat: "c", Category: "purchase"})
			return err
		}},
		{"event with a huge value", func() error {
			_, err := w.st.RecordEvent(w.ctx, Event{Site: "demo", Chat: "c", Category: "purchase", Time: t0, Value: 1e12})
			return err
		}},
		{"batch with one bad fact", func() error {
			return w.st.RecordConversations(w.ctx, []Conversation{
				{Site: "demo", Chat: "ok", Time: t0, Method: "id", AdID: "ad-z"},
				{Site: "demo", Chat: "", Time: t0, Method: "id"},
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InvalidError", err)
			}
		})
	}
	if cv, _ := w.adNumbers(t, "demo", "ad-z", "2026-03-01", "2026-03-31"); cv != 0 {
		t.Errorf("a refused batch stored %d conversations", cv)
	}
}

func TestConversionRateNeverAboveOne(t *testing.T) {
	// Sessions started before the range that convert inside it do not count
	// in it: conversions stay with their start day.
	w := newWorld(t)
	for i, chat := range []string{"a", "b", "c"} {
		w.conv(t, "demo", chat, "ad-a", t0.Add(time.Duration(i)*time.Hour))
		w.event(t, Event{Chat: chat, Category: "purchase", Time: t0.Add(10 * day)})
	}
	w.conv(t, "demo", "d", "ad-a", t0.Add(10*day))
	rep, err := w.st.Ads(w.ctx, "demo", Range{From: "2026-03-12", To: "2026-03-12"})
	if err != nil {
		t.Fatal(err)
	}
	if *rep.Totals.Conversions != 0 || rep.Totals.Conversations != 1 || *rep.Totals.ConversionRate != 0 {
		t.Errorf("range of the events' day: %+v", rep.Totals)
	}
}

// TestMatcherCorrections: the matcher hands a fact again for the same chat
// and time when it corrects a match; the new fact replaces the old one.
func TestMatcherCorrections(t *testing.T) {
	at := t0.Add(time.Hour)
	unattributedCount := func(t *testing.T, w *testWorld) int64 {
		t.Helper()
		rep, err := w.st.Channels(w.ctx, "demo", Range{From: "2026-03-02", To: "2026-03-02"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Rows {
			if r.Channel == Unattributed {
				return r.Conversations
			}
		}
		return 0
	}
	t.Run("a heuristic guess revoked to none", func(t *testing.T) {
		w := newWorld(t)
		w.conv(t, "demo", "c", "ad-a", at.Add(-time.Hour)) // an earlier session
		w.conv(t, "demo", "c", "ad-b", at)
		w.event(t, Event{Chat: "c", Category: "purchase", Time: at.Add(time.Hour)})
		w.conv(t, "demo", "c", "", at) // revoked
		if cv, cn := w.adNumbers(t, "demo", "ad-b", "2026-03-01", "2026-03-31"); cv != 0 || cn != 0 {
			t.Errorf("ad-b keeps %d conversations, %d conversions", cv, cn)
		}
		// Without the revoked conversation the earlier session was still
		// open at the purchase: the conversion is its.
		if cv, cn := w.adNumbers(t, "demo", "ad-a", "2026-03-01", "2026-03-31"); cv != 1 || cn != 1 {
			t.Errorf("ad-a: %d conversations, %d conversions, want 1 and 1", cv, cn)
		}
		if n := unattributedCount(t, w); n != 1 {
			t.Errorf("unattributed = %d, want 1", n)
		}
		if ss, _ := w.st.ChatSessions(w.ctx, "demo", "c"); len(ss) != 1 || ss[0].AdID != "ad-a" {
			t.Errorf("sessions = %+v", ss)
		}
	})
	t.Run("an unattributed chat confirmed by an operator", func(t *testing.T) {
		w := newWorld(t)
		w.conv(t, "demo", "c", "", at)
		w.conv(t, "demo", "c", "ad-a", at)
		if n := unattributedCount(t, w); n != 0 {
			t.Errorf("unattributed = %d, want 0", n)
		}
		if cv, _ := w.adNumbers(t, "demo", "ad-a", "2026-03-02", "2026-03-02"); cv != 1 {
			t.Errorf("ad-a conversations = %d, want 1", cv)
		}
		if r := w.event(t, Event{Chat: "c", Category: "purchase", Time: at.Add(time.Hour)}); !r.Converted {
			t.Errorf("event: %+v", r)
		}
	})
	t.Run("a converted session reattributed to another ad", func(t *testing.T) {
		w := newWorld(t)
		w.conv(t, "demo", "c", "ad-a", at)
		w.event(t, Event{Chat: "c", Category: "purchase", Time: at.Add(time.Hour), Value: 8})
		w.conv(t, "demo", "c", "ad-b", at)
		if cv, cn := w.adNumbers(t, "demo", "ad-a", "2026-03-02", "2026-03-02"); cv != 0 || cn != 0 {
			t.Errorf("ad-a keeps %d/%d", cv, cn)
		}
		if cv, cn := w.adNumbers(t, "demo", "ad-b", "2026-03-02", "2026-03-02"); cv != 1 || cn != 1 {
			t.Errorf("ad-b: %d/%d, want 1/1", cv, cn)
		}
		ss, _ := w.st.ChatSessions(w.ctx, "demo", "c")
		if len(ss) != 1 || ss[0].AdID != "ad-b" || ss[0].Conversion == nil || ss[0].Conversion.Value != 8 {
			t.Errorf("sessions = %+v", ss)
		}
	})
}
