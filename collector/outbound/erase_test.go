package outbound

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// An erasure between a claim and its attempt's outcome leaves no delivery
// behind, an entry of the erased chat still in the stream makes none, and
// the chat's later events go out as usual.
func TestEraseChatStopsAttemptsInFlightAndUnroutedEntries(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	w := newWorld(t, rdb, hook(rc.srv.URL))
	rc.clock = w.clock
	const chatA, chatB = "whatsapp:15550001111", "whatsapp:15550002222"
	w.conversation(chatA, t0, reports.MethodNone)
	w.conversation(chatB, t0, reports.MethodNone)
	d := w.dispatcher("c1", Options{})
	if _, err := d.Route(ctx, "demo", 100); err != nil {
		t.Fatal(err)
	}
	before, err := ChatDeliveries(ctx, rdb, "demo", chatA)
	if err != nil || len(before) != 1 || before[0].Chat != chatA || before[0].State != "pending" || len(before[0].Payload) == 0 {
		t.Fatalf("chat A's deliveries %+v, %v; want one pending with its payload", before, err)
	}
	if ttl := rdb.TTL(ctx, store.OutboundChat("demo", chatA)).Val(); ttl < keepFor(w.cfg.Site("demo")) {
		t.Errorf("chat index TTL %v; want at least delivery_days", ttl)
	}
	claimed, err := d.claim(ctx, "demo", 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %+v, %v; want both chats' heads", claimed, err)
	}
	// Chat A writes again; a router has read its entry and is routing it
	// when the erasure comes.
	w.clock.Advance(time.Minute)
	w.conversation(chatA, w.clock.Now(), reports.MethodNone)
	read, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "c1",
		Streams: []string{store.OutboundEvents("demo"), ">"}, Count: 10, Block: -1}).Result()
	if err != nil || len(read) != 1 || len(read[0].Messages) != 1 {
		t.Fatalf("read %v, %v; want chat A's entry", read, err)
	}
	calls, err := d.routeOne(ctx, "demo", read[0].Messages[0])
	if err != nil {
		t.Fatal(err)
	}

	salt, err := PersonSalt(ctx, rdb, "demo")
	if err != nil {
		t.Fatal(err)
	}
	got, err := EraseChat(ctx, rdb, w.cfg.Site("demo"), chatA, PersonHash(salt, chatA))
	if err != nil {
		t.Fatal(err)
	}
	if got != (ErasedDeliveries{Deliveries: 1, Lanes: 1, Waiting: 1, Marked: true}) {
		t.Errorf("erased %+v; want 1 delivery, 1 lane, 1 waiting event, marked", got)
	}
	if err := d.runRoutes(ctx, "demo", calls); err != nil {
		t.Fatal(err)
	}
	for _, dl := range claimed {
		d.attempt(ctx, "demo", dl)
	}
	if n := rdb.Exists(ctx, store.OutboundDelivery("demo", before[0].ID)).Val(); n != 0 {
		t.Error("the attempt in flight made the erased delivery again")
	}
	drain(t, d)
	if n := rdb.XLen(ctx, store.OutboundEvents("demo")).Val(); n != 0 {
		t.Errorf("%d stream entries left unrouted", n)
	}
	if n := rdb.Exists(ctx, store.OutboundChat("demo", chatA), store.OutboundLane("demo", before[0].Lane)).Val(); n != 0 {
		t.Error("the erased chat's entry made a delivery")
	}
	after, err := ChatDeliveries(ctx, rdb, "demo", chatB)
	if err != nil || len(after) != 1 || after[0].State != "delivered" {
		t.Errorf("chat B's deliveries %+v, %v; want one delivered", after, err)
	}

	// The person writes after the erasure: that is new, and goes out.
	w.clock.Advance(time.Minute)
	w.conversation(chatA, w.clock.Now(), reports.MethodNone)
	drain(t, d)
	again, err := ChatDeliveries(ctx, rdb, "demo", chatA)
	if err != nil || len(again) != 1 || again[0].State != "delivered" {
		t.Errorf("chat A's deliveries after the erasure %+v, %v; want its new one delivered", again, err)
	}
	if n := len(rc.requests()); n != 3 {
		t.Errorf("receiver took %d requests; want 3 (B, A's in flight, A's new one)", n)
	}
}

// A replayed delivery stays found by its chat.
func TestReplayKeepsTheChatIndex(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewUniversal(t)
	rc := newReceiver(t, nil)
	rc.answer = func(int, received) int { return 400 }
	w := newWorld(t, rdb, hook(rc.srv.URL))
	rc.clock = w.clock
	const chat = "whatsapp:15550003333"
	w.conversation(chat, t0, reports.MethodNone)
	d := w.dispatcher("c1", Options{Backoff: Backoff{MaxAge: time.Minute}})
	drain(t, d)
	w.clock.Advance(2 * time.Minute)
	drain(t, d)
	ds, err := ChatDeliveries(ctx, rdb, "demo", chat)
	if err != nil || len(ds) != 1 || ds[0].State != "dead" {
		t.Fatalf("deliveries %+v, %v; want one dead", ds, err)
	}
	rdb.Del(ctx, store.OutboundChat("demo", chat))
	if res, err := w.admin.Replay(ctx, "demo", ds[0].ID); err != nil || res != "queued" {
		t.Fatalf("replay: %q, %v", res, err)
	}
	ds, err = ChatDeliveries(ctx, rdb, "demo", chat)
	if err != nil || len(ds) != 1 || ds[0].State != "pending" {
		t.Errorf("after the replay %+v, %v; want it pending and indexed", ds, err)
	}
}
