package outbound

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestAChatAndItsConversionReachAWebhookSignedAndInOrder(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	w := newWorld(t, rdb, hook(rc.srv.URL))
	rc.clock = w.clock
	d := w.dispatcher("a", Options{})

	w.conversation("whatsapp:15557654321", t0.Add(-time.Minute), reports.MethodReferral)
	w.clock.Advance(time.Hour)
	res := w.event("whatsapp:15557654321", "purchase", t0.Add(30*time.Minute), 12.5)
	if !res.Converted {
		t.Fatalf("the purchase did not convert: %+v", res)
	}
	drain(t, d)

	got := rc.accepted()
	want := []string{TypeConversationStarted, TypeChatAttributed, TypeEventReceived, TypeSessionConverted}
	if !slices.Equal(types(got), want) {
		t.Fatalf("types %v, want %v", types(got), want)
	}
	for _, r := range got {
		if r.Env.Site != "demo" {
			t.Errorf("%s: site %q", r.Env.Type, r.Env.Site)
		}
	}
	var started conversationData
	if err := json.Unmarshal(got[0].Env.Data, &started); err != nil {
		t.Fatal(err)
	}
	if started.Chat != "whatsapp:15557654321" || started.Method != "referral" || started.Source.AdID != "120200000000000001" ||
		started.Source.ClickID != "ctwa-clid-A" || started.Time != "2026-11-02T08:59:00Z" {
		t.Errorf("conversation.started data %+v", started)
	}
	if got[0].Env.Time != "2026-11-02T08:59:00Z" {
		t.Errorf("the event's time is %s, not the message's", got[0].Env.Time)
	}
	var conv struct {
		Chat     string `json:"chat"`
		Currency string `json:"currency"`
		Status   string `json:"status"`
		Conv     struct {
			Category string  `json:"category"`
			Value    float64 `json:"value"`
		} `json:"conversion"`
	}
	if err := json.Unmarshal(got[3].Env.Data, &conv); err != nil {
		t.Fatal(err)
	}
	if conv.Status != "converted" || conv.Conv.Category != "purchase" || conv.Conv.Value != 12.5 || conv.Currency != "EUR" {
		t.Errorf("session.converted data %s", got[3].Env.Data)
	}
	// The same facts handed over again (a platform's retry) send nothing.
	w.conversation("whatsapp:15557654321", t0.Add(-time.Minute), reports.MethodReferral)
	w.event("whatsapp:15557654321", "purchase", t0.Add(30*time.Minute), 12.5)
	drain(t, d)
	if n := len(rc.requests()); n != 4 {
		t.Errorf("%d requests after the facts came again, want 4", n)
	}
}

func TestANewConversationClosesTheOldSessionBeforeItStarts(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	w := newWorld(t, rdb, hook(rc.srv.URL, "conversation.started", "session.closed"))
	rc.clock = w.clock
	d := w.dispatcher("a", Options{})
	w.conversation("whatsapp:1", t0, reports.MethodReferral)
	w.conversation("whatsapp:1", t0.Add(48*time.Hour), reports.MethodID)
	drain(t, d)
	want := []string{TypeConversationStarted, TypeSessionClosed, TypeConversationStarted}
	if got := types(rc.accepted()); !slices.Equal(got, want) {
		t.Fatalf("types %v, want %v (the chat.attributed endpoint filter left out)", got, want)
	}
}

func TestAReceiverFailingFiveTimesGetsTheEventOnceWithTheSameKey(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	rc.answer = func(n int, _ received) int {
		if n <= 5 {
			return 500
		}
		return 204
	}
	w := newWorld(t, rdb, hook(rc.srv.URL, "conversation.started"))
	rc.clock = w.clock
	reg := prometheus.NewRegistry()
	d := w.dispatcher("a", Options{Registry: reg})
	w.conversation("whatsapp:1", t0, reports.MethodNone)

	var waits []time.Duration
	last := w.clock.Now()
	for i := 0; len(rc.accepted()) == 0 && i < 20; i++ {
		drain(t, d)
		l, err := w.admin.List(context.Background(), "demo", "pending", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(l) == 0 {
			t.Logf("nothing pending after %d requests", len(rc.requests()))
			break
		}
		next, err := time.Parse(time.RFC3339Nano, l[0].Next)
		if err != nil {
			t.Fatalf("pending delivery without a next attempt: %+v", l[0])
		}
		waits = append(waits, next.Sub(last))
		w.clock.Set(next)
		last = next
	}
	all := rc.requests()
	if len(all) != 6 || len(rc.accepted()) != 1 {
		t.Fatalf("%d requests, %d accepted; want 6 and 1", len(all), len(rc.accepted()))
	}
	for _, r := range all {
		if r.ID != all[0].ID || string(r.Body) != string(all[0].Body) {
			t.Fatalf("a retry changed the key or the body: %s vs %s", r.ID, all[0].ID)
		}
	}
	// Backoff with the jitter at its middle: 3/4 of 15 s, 30 s, 60 s, ...
	want := []time.Duration{11250 * time.Millisecond, 22500 * time.Millisecond, 45 * time.Second, 90 * time.Second, 180 * time.Second}
	if !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	l, err := w.admin.List(context.Background(), "demo", "delivered", 10)
	if err != nil || len(l) != 1 || l[0].Attempts != 6 || l[0].Status != 204 {
		t.Fatalf("delivered listing %+v, %v", l, err)
	}
	target := l[0].Target
	for name, want := range map[string]float64{
		"messtrack_outbound_retried_total": 5, "messtrack_outbound_delivered_total": 1, "messtrack_outbound_dead_total": 0,
		"messtrack_outbound_latency_seconds": 1, "messtrack_outbound_queue_age_seconds": 6,
	} {
		if v := metricValue(t, reg, name, target); v != want {
			t.Errorf("%s{target=%s} = %v, want %v", name, target, v, want)
		}
	}
}

func TestADeliveryFailingForADayIsADeadLetterThatReplays(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	var mu sync.Mutex
	broken := true
	rc.answer = func(int, received) int {
		mu.Lock()
		defer mu.Unlock()
		if broken {
			return 503
		}
		return 200
	}
	w := newWorld(t, rdb, hook(rc.srv.URL, "conversation.started"))
	rc.clock = w.clock
	d := w.dispatcher("a", Options{})
	w.conversation("whatsapp:1", t0, reports.MethodNone)
	ctx := context.Background()
	for w.clock.Now().Sub(t0) < 30*time.Hour {
		drain(t, d)
		w.clock.Advance(10 * time.Minute)
	}
	dead, err := w.admin.List(ctx, "demo", "dead", 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	done, _ := time.Parse(time.RFC3339Nano, dead[0].Done)
	if age := done.Sub(t0); age < 24*time.Hour || age > DefaultMaxAge+time.Hour {
		t.Errorf("died %v after queueing; want a day and more", age)
	}
	if n := len(rc.requests()); n < 25 || n > 60 {
		t.Errorf("%d attempts in a day; the backoff should cap them near an hour apart", n)
	}
	if dead[0].Status != 503 || !strings.Contains(dead[0].Error, "503") {
		t.Errorf("the dead letter does not say why: %+v", dead[0])
	}
	mu.Lock()
	broken = false
	mu.Unlock()
	if res, err := w.admin.Replay(ctx, "demo", dead[0].ID); err != nil || res != "queued" {
		t.Fatalf("replay: %q, %v", res, err)
	}
	if res, err := w.admin.Replay(ctx, "demo", dead[0].ID); err != nil || res != "pending" {
		t.Fatalf("second replay: %q, %v", res, err)
	}
	drain(t, d)
	if len(rc.accepted()) != 1 {
		t.Fatalf("the replayed delivery was not accepted")
	}
	if dead, _ := w.admin.List(ctx, "demo", "dead", 10); len(dead) != 0 {
		t.Errorf("still dead after replay: %+v", dead)
	}
	if _, err := w.admin.Replay(ctx, "demo", "nothing.webhook-00000000"); err == nil {
		t.Error("replaying an unknown delivery did not fail")
	}
}

func TestAFailingChatWaitsWhileOtherChatsGoOn(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	rc.answer = func(n int, r received) int {
		var c struct {
			Chat string `json:"chat"`
		}
		_ = json.Unmarshal(r.Env.Data, &c)
		if c.Chat == "whatsapp:1" && r.Env.Time == t0.Format(time.RFC3339) && n <= 2 {
			return 500
		}
		return 200
	}
	w := newWorld(t, rdb, hook(rc.srv.URL, "conversation.started"))
	rc.clock = w.clock
	d := w.dispatcher("a", Options{})
	for i := range 3 {
		w.conversation("whatsapp:1", t0.Add(time.Duration(i)*48*time.Hour), reports.MethodNone)
		w.conversation("whatsapp:2", t0.Add(time.Duration(i)*48*time.Hour), reports.MethodNone)
	}
	drain(t, d)
	chats := func() []string {
		var out []string
		for _, r := range rc.accepted() {
			var c struct {
				Chat string `json:"chat"`
				Time string `json:"time"`
			}
			_ = json.Unmarshal(r.Env.Data, &c)
			out = append(out, c.Chat+"@"+c.Time[8:10])
		}
		return out
	}
	if got := chats(); !slices.Equal(got, []string{"whatsapp:2@02", "whatsapp:2@04", "whatsapp:2@06"}) {
		t.Fatalf("while chat 1's first delivery fails, accepted %v", got)
	}
	for range 3 {
		w.clock.Advance(time.Minute)
		drain(t, d)
	}
	got := chats()
	if !slices.Equal(got[3:], []string{"whatsapp:1@02", "whatsapp:1@04", "whatsapp:1@06"}) {
		t.Fatalf("chat 1 arrived as %v", got)
	}
}

func TestAHangingReceiverIsRetriedAfterTheTimeout(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	release := make(chan struct{})
	rc.answer = func(n int, _ received) int {
		if n == 1 {
			<-release
		}
		return 200
	}
	t.Cleanup(func() { close(release) })
	w := newWorld(t, rdb, hook(rc.srv.URL, "conversation.started"))
	rc.clock = w.clock
	d := w.dispatcher("a", Options{Timeout: 200 * time.Millisecond})
	w.conversation("whatsapp:1", t0, reports.MethodNone)
	start := time.Now()
	drain(t, d)
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("a hanging receiver held the dispatcher %v", el)
	}
	l, _ := w.admin.List(context.Background(), "demo", "pending", 1)
	if len(l) != 1 || !strings.Contains(l[0].Error, "deadline") {
		t.Fatalf("after the hang: %+v", l)
	}
	w.clock.Advance(time.Minute)
	drain(t, d)
	if len(rc.accepted()) != 1 {
		t.Fatal("not delivered after the hang")
	}
}

func TestACollectorStoppedMidDeliveryLosesNothing(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	w := newWorld(t, rdb, hook(rc.srv.URL, "conversation.started"))
	rc.clock = w.clock
	ctx := context.Background()
	a := w.dispatcher("a", Options{RouteLease: 50 * time.Millisecond})
	for i := range 4 {
		w.conversation("whatsapp:1", t0.Add(time.Duration(i)*48*time.Hour), reports.MethodNone)
	}
	// Collector a reads the stream and stops before routing anything.
	if _, err := rdb.XGroupCreateMkStream(ctx, store.OutboundEvents("demo"), group, "0").Result(); err != nil {
		t.Fatal(err)
	}
	if _, err := routeLockScript.Run(ctx, rdb, []string{store.OutboundRouter("demo")}, a.token, 50).Result(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.XReadGroup(ctx, redisXRead{group: group, consumer: "a", stream: store.OutboundEvents("demo")}.args()).Err(); err != nil {
		t.Fatal(err)
	}
	b := w.dispatcher("b", Options{})
	time.Sleep(100 * time.Millisecond) // a's routing lease (real Redis time) runs out
	// b routes a's entries; then a claims the first lane and stops
	// mid-delivery, its lease left behind.
	if _, err := b.Route(ctx, "demo", 100); err != nil {
		t.Fatal(err)
	}
	claimed, err := a.claim(ctx, "demo", 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("a claimed %v, %v", claimed, err)
	}
	if n := drain(t, b); n != 0 {
		t.Fatalf("b attempted %d deliveries of a lane a holds", n)
	}
	w.clock.Advance(b.opt.Timeout + 31*time.Second)
	drain(t, b)
	got := rc.accepted()
	if len(got) != 4 {
		t.Fatalf("%d delivered after a stopped, want 4", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Env.Time <= got[i-1].Env.Time {
			t.Fatalf("out of order: %s then %s", got[i-1].Env.Time, got[i].Env.Time)
		}
	}
	// a's late outcome, were it to come, changes nothing.
	a.attempt(ctx, "demo", claimed[0])
	if n := len(rc.accepted()); n != 5 {
		t.Fatalf("a's late attempt: %d accepted", n)
	}
	if l, _ := w.admin.List(ctx, "demo", "pending", 10); len(l) != 0 {
		t.Errorf("pending after everything: %+v", l)
	}
}

func TestTwoCollectorsDeliverEachEventOnceAndInOrder(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	w := newWorld(t, rdb, hook(rc.srv.URL, "conversation.started"))
	rc.clock = w.clock
	const chats, per = 8, 5
	for i := range chats {
		for j := range per {
			w.conversation("whatsapp:"+string(rune('a'+i)), t0.Add(time.Duration(j)*48*time.Hour), reports.MethodNone)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		d := w.dispatcher(name, Options{Poll: 5 * time.Millisecond, Concurrency: 4})
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(rc.accepted()) < chats*per && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	wg.Wait()
	got := rc.accepted()
	if len(got) != chats*per {
		t.Fatalf("%d delivered, want %d", len(got), chats*per)
	}
	last := map[string]string{}
	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.ID] {
			t.Fatalf("event %s delivered twice", r.ID)
		}
		seen[r.ID] = true
		var c struct {
			Chat string `json:"chat"`
		}
		_ = json.Unmarshal(r.Env.Data, &c)
		if r.Env.Time <= last[c.Chat] {
			t.Fatalf("chat %s: %s after %s", c.Chat, r.Env.Time, last[c.Chat])
		}
		last[c.Chat] = r.Env.Time
	}
}
