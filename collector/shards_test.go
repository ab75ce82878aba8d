package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// shardedConfig is the test world with the demo site's visits spread over
// n shards.
func shardedConfig(n int) string {
	return strings.Replace(testConfigYAML, "    api_key: demo-key-123\n",
		fmt.Sprintf("    api_key: demo-key-123\n    shards: %d\n", n), 1)
}

// shardedWorld is a collector with the demo site on n shards, on rdb (one
// server or a cluster).
func shardedWorld(t testing.TB, rdb redis.UniversalClient, n int) *testWorld {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(shardedConfig(n)), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	clock := store.NewManualClock(testStart)
	srv, err := New(context.Background(), Options{
		Config: cfg, Redis: rdb, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
	})
	if err != nil {
		t.Fatalf("collector.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	w := &testWorld{srv: srv, clock: clock, cfg: cfg}
	if c, ok := rdb.(*redis.Client); ok {
		w.rdb = c
	}
	return w
}

// The layout of shards: shard 0 is the site's own tag, the others' slots
// fall one in each equal range of the slot space, and a visit's keys share
// the slot of its shard.
func TestShardTagsSpreadOverTheSlots(t *testing.T) {
	sh := store.NewShards("demo", 16)
	if sh.Tag(0) != "{demo}" || sh.Visit(32) != "mt:{demo}:v:w" {
		t.Fatalf("shard 0 is %s, visit 32 is %s; want the site's own tag", sh.Tag(0), sh.Visit(32))
	}
	for k := 1; k < 16; k++ {
		tag := strings.Trim(sh.Tag(k), "{}")
		if s := store.Slot(tag); s < k*1024 || s >= (k+1)*1024 {
			t.Errorf("shard %d (%s) on slot %d, outside [%d, %d)", k, tag, s, k*1024, (k+1)*1024)
		}
	}
	for _, n := range []uint64{1, 17, 123456789} {
		k := sh.Of(n)
		for _, key := range []string{sh.Visit(n), sh.VisitClick(n), sh.VisitMatched(n), sh.VisitChats(n), sh.VisitTaken(n), sh.Clicks("whatsapp:1555", k)} {
			if !strings.Contains(key, sh.Tag(k)) {
				t.Errorf("visit %d: key %s lacks its shard's tag %s", n, key, sh.Tag(k))
			}
		}
	}
	// Redis' own CRC16 agrees (a known slot from the Redis Cluster spec).
	if got := store.Slot("123456789"); got != 0x31C3%16384 {
		t.Errorf("Slot(123456789) = %d, want %d", got, 0x31C3%16384)
	}
	if one := store.NewShards("demo", 1); one.Visit(5) != "mt:{demo}:v:5" || one.Clicks("whatsapp:1555", 0) != "mt:{demo}:clk:whatsapp%3A1555" {
		t.Errorf("one shard: %s %s; want today's keys", one.Visit(5), one.Clicks("whatsapp:1555", 0))
	}
}

// The shards setting is fixed at a site's first start: a later start with
// another number fails with a clear error, and a site that stored visits
// before the setting existed keeps one shard.
func TestShardsCannotChangeOnceVisitsAreStored(t *testing.T) {
	rdb := redistest.New(t)
	shardedWorld(t, rdb, 8)
	cfg, err := config.Parse("test.yaml", []byte(shardedConfig(4)), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Options{Config: cfg, Redis: rdb, Clock: store.NewManualClock(testStart),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	if !errors.Is(err, store.ErrShardsChanged) || !strings.Contains(err.Error(), "shards is 4 in the config, but its visits are stored over 8") {
		t.Fatalf("start with 4 shards after 8: %v", err)
	}
	// A site with visits and no kept number: it had one shard.
	rdb2 := redistest.New(t)
	if err := rdb2.Set(context.Background(), store.VisitSeq("demo"), 41, 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Options{Config: cfg, Redis: rdb2, Clock: store.NewManualClock(testStart),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	if !errors.Is(err, store.ErrShardsChanged) || !strings.Contains(err.Error(), "stored over 1") {
		t.Fatalf("start with 4 shards on a site with unsharded visits: %v", err)
	}
	if _, err := config.Parse("test.yaml", []byte(shardedConfig(257)), nil); err == nil || !strings.Contains(err.Error(), "shards") {
		t.Errorf("shards: 257 accepted (%v)", err)
	}
}

// shardScenario drives one stream of visits, clicks and messages through
// the collector: id matches, a second chat from one visit, a heuristic
// guess taken back by a code, an operator's confirmation, the chat list,
// the reports, a person's export and erasure. It returns what the API
// answered, with key names (which carry the shards' tags) left out, so
// that streams on different layouts compare equal.
func shardScenario(t *testing.T, w *testWorld) string {
	t.Helper()
	var out strings.Builder
	say := func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }
	get := func(path string) string {
		t.Helper()
		resp, b := w.do(t, request("GET", path, nil, "Authorization", "Bearer demo-key-123"))
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	const target = "whatsapp:15551234567"
	var visits []*visit.Visit
	for i := 0; i < 40; i++ {
		v := w.addVisit(t, func(v *visit.Visit) {
			v.Country = "US"
			v.UTMCampaign = []string{"spring", "autumn", ""}[i%3]
			v.UTMSource = "ads"
		})
		visits = append(visits, v)
		w.clock.Advance(3 * time.Second)
	}
	for i := 0; i < 40; i += 2 {
		w.clickOn(t, visits[i], target, fmt.Sprintf("https://shop.test/p%d", i%5))
	}
	w.clock.Advance(10 * time.Second)
	msg := func(from, to, text string) messageResponse {
		w.clock.Advance(7 * time.Second)
		m := map[string]string{"channel": "whatsapp", "from": from, "to": to, "text": text}
		if strings.HasPrefix(to, "@") {
			m["channel"] = "telegram"
		}
		r := w.postMessage(t, m)
		id := ""
		if r.Visit != nil {
			id = r.Visit.ID
		}
		say("message %s %q: %s %s new=%v", from, text, r.Method, id, r.NewChat)
		return r
	}
	// Codes, a second phone and Telegram on one visit.
	for i := 0; i < 12; i++ {
		msg(fmt.Sprintf("1650555%04d", i), "15551234567", "Hello! My request code: "+w.code(visits[i*3]))
	}
	msg("16505559001", "15551234567", "my phone too "+w.code(visits[0]))
	msg("4242", "@demo_bot", "/start "+w.demoSite().codec.Start(visits[0].N))
	// A fresh click and a message without a code: a guess; the visit's
	// own code then takes it back.
	w.clock.Advance(2 * time.Hour)
	late := w.addVisit(t, func(v *visit.Visit) { v.Country = "US"; v.UTMCampaign = "late" })
	w.clickOn(t, late, target, "https://shop.test/late")
	w.clock.Advance(15 * time.Second)
	msg("16505558001", "15551234567", "hello")
	msg("16505558002", "15551234567", "code "+w.code(late))
	say("guessing chat after the code: %+v", w.chatRecordOf(t, "whatsapp:16505558001").Method)
	// A redelivered message is stored once.
	msg("16505550001", "15551234567", "Hello! My request code: "+w.code(visits[3]))
	// The chat list, the records and the reports.
	say("chats: %s", get("/v1/sites/demo/chats?limit=100"))
	for _, chat := range []string{"whatsapp:16505550000", "whatsapp:16505559001", "telegram:4242", "whatsapp:16505558002"} {
		say("record %s: %s", chat, get("/v1/sites/demo/chats/"+url.PathEscape(chat)))
	}
	for _, r := range []string{"channels", "ads", "pages"} {
		say("report %s: %s", r, get("/v1/sites/demo/reports/"+r+"?from=2026-11-01&to=2026-11-03"))
	}
	// A person's export, then the erasure of one of the visit's chats.
	export := get("/v1/sites/demo/people/" + url.PathEscape("whatsapp:16505559001"))
	say("export: %s", keyNames.ReplaceAllString(export, `"key":"…"`))
	for _, chat := range []string{"whatsapp:16505559001", "whatsapp:16505558002"} {
		resp, b := w.do(t, request("DELETE", "/v1/sites/demo/people/"+url.PathEscape(chat), nil, "Authorization", "Bearer demo-key-123"))
		if resp.StatusCode != 200 && resp.StatusCode != 204 {
			t.Fatalf("erase %s: %d %s", chat, resp.StatusCode, b)
		}
		say("erase %s: %d %s", chat, resp.StatusCode, b)
	}
	say("export after: %s", keyNames.ReplaceAllString(get("/v1/sites/demo/people/"+url.PathEscape("whatsapp:16505559001")), `"key":"…"`))
	say("first chat after: %s", get("/v1/sites/demo/chats/whatsapp:16505550000"))
	say("chats after: %s", get("/v1/sites/demo/chats?limit=100"))
	return timesOfExport.ReplaceAllString(out.String(), `"exported_at":"…"`)
}

var (
	keyNames      = regexp.MustCompile(`"key":"[^"]*"`)
	timesOfExport = regexp.MustCompile(`"exported_at":"[^"]*"`)
)

// A site on 16 shards answers one stream exactly as a site on one shard
// does, on one server and on a real three-master cluster: the same
// matches, chats, records, reports, export and erasure.
func TestShardedSiteAnswersAsOneShard(t *testing.T) {
	want := shardScenario(t, shardedWorld(t, redistest.New(t), 1))
	if !strings.Contains(want, "heuristic") || !strings.Contains(want, "guessing chat after the code: none") {
		t.Fatalf("the scenario made no guess taken back by a code:\n%s", want)
	}
	t.Run("one server", func(t *testing.T) {
		rdb := redistest.New(t)
		got := shardScenario(t, shardedWorld(t, rdb, 16))
		if got != want {
			t.Errorf("16 shards on one server answered otherwise:\n%s", diffLines(want, got))
		}
		assertVisitsOnShards(t, rdb, 16)
	})
	t.Run("cluster", func(t *testing.T) {
		cc := redistest.NewCluster(t)
		got := shardScenario(t, shardedWorld(t, cc, 16))
		if got != want {
			t.Errorf("16 shards on a cluster answered otherwise:\n%s", diffLines(want, got))
		}
		assertVisitsOnShards(t, cc, 16)
	})
}

// assertVisitsOnShards checks that the demo site's visits were stored on
// more than one shard and only under the shards' tags.
func assertVisitsOnShards(t *testing.T, rdb redis.UniversalClient, n int) {
	t.Helper()
	sh := store.NewShards("demo", n)
	used := 0
	for k := 0; k < n; k++ {
		var keys []string
		var err error
		pattern := "mt:" + sh.Tag(k) + ":v:*"
		pattern = strings.NewReplacer("{", `\{`, "}", `\}`).Replace(pattern)
		if cc, ok := rdb.(*redis.ClusterClient); ok {
			var mu sync.Mutex // ForEachMaster runs on every master at once
			err = cc.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
				ks, err := m.Keys(ctx, pattern).Result()
				mu.Lock()
				keys = append(keys, ks...)
				mu.Unlock()
				return err
			})
		} else {
			keys, err = rdb.Keys(context.Background(), pattern).Result()
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) > 0 {
			used++
		}
	}
	if used < n/2 {
		t.Errorf("visits on %d of %d shards", used, n)
	}
	// Its chats too: each on the shard of its key, none on the site's own
	// tag but those whose shard is 0.
	chatShards := map[int]bool{}
	for k := 0; k < n; k++ {
		pattern := strings.NewReplacer("{", `\{`, "}", `\}`).Replace("mt:" + sh.Tag(k) + ":chat:*")
		if err := forEachNode(rdb, func(ctx context.Context, c redis.Cmdable) error {
			ks, err := c.Keys(ctx, pattern).Result()
			for _, key := range ks {
				chat := store.Unpart(key[strings.LastIndex(key, ":chat:")+len(":chat:"):])
				if sh.ChatShard(chat) != k || sh.Chat(chat) != key {
					t.Errorf("chat %s stored as %s, want %s", chat, key, sh.Chat(chat))
				}
				chatShards[k] = true
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(chatShards) < 2 {
		t.Errorf("chats on %d of %d shards, want several", len(chatShards), n)
	}
	// Every note of a taken guess went once its guess was revoked.
	for k := 0; k < n; k++ {
		if err := forEachNode(rdb, func(ctx context.Context, c redis.Cmdable) error {
			pattern := strings.NewReplacer("{", `\{`, "}", `\}`).Replace("mt:" + sh.Tag(k) + ":vt:*")
			if ks := c.Keys(ctx, pattern).Val(); len(ks) > 0 {
				t.Errorf("notes of taken guesses left: %v", ks)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// forEachNode calls fn on every master of a cluster, or on the one server.
func forEachNode(rdb redis.UniversalClient, fn func(ctx context.Context, c redis.Cmdable) error) error {
	ctx := context.Background()
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return fn(ctx, m) })
	}
	return fn(ctx, rdb)
}

// diffLines shows the first lines where two answers differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)) && b.Len() < 4000; i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d\n want %s\n got  %s\n", i, a, c)
		}
	}
	return b.String()
}

// A busy site on a real three-master cluster: its visits, clicks and
// chats (2,000 of them) land on every master, each within ±20 % of an even share of the
// site's memory (MEMORY USAGE summed over its keys per master).
func TestBusySiteSpreadsOverEveryMaster(t *testing.T) {
	cc := redistest.NewCluster(t)
	const shards, visits = 64, 60000
	w := shardedWorld(t, cc, shards)
	st := w.demoSite()
	ctx := context.Background()
	var mu sync.Mutex
	var made []*visit.Visit
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < visits; i += 8 {
				v := &visit.Visit{Time: w.clock.Now(), Page: "https://shop.test/p", Landing: "https://shop.test/?utm_source=ads",
					Country: "US", UTMSource: "ads", UTMCampaign: fmt.Sprintf("c%d", i%7), IP: "198.51.100.0"}
				if err := w.srv.saveVisit(ctx, st, v); err != nil {
					errs <- err
					return
				}
				if i%2 == 0 {
					if err := w.srv.recordClick(ctx, st, v.N, "whatsapp:15551234567", "https://shop.test/p"); err != nil {
						errs <- err
						return
					}
				}
				if i%30 == 0 {
					mu.Lock()
					made = append(made, v)
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The chats come two hours later: a code still matches its visit, and
	// the learned matcher's example of each carries no other click (its
	// examples, one list per messenger on the site's own tag, are capped
	// at a fixed size whatever the traffic; here they would outweigh the
	// 60,000 visits of a test). The 2,000 chats, one for 30 visits, spread
	// over the shards by their keys; their index entries and reports'
	// state stay on the site's own tag.
	w.clock.Advance(2 * time.Hour)
	for i, v := range made {
		r := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": fmt.Sprintf("1650556%04d", i), "to": "15551234567",
			"text": "Hello! My request code: " + w.code(v)})
		if r.Method != reports.MethodID {
			t.Fatalf("chat %d: %+v", i, r)
		}
	}
	usage := map[string]int64{}
	keys := map[string]int{}
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		addr := m.Options().Addr
		var cursor uint64
		for {
			ks, next, err := m.Scan(ctx, cursor, "mt:*", 1000).Result()
			if err != nil {
				return err
			}
			pipe := m.Pipeline()
			cmds := make([]*redis.IntCmd, len(ks))
			for i, k := range ks {
				cmds[i] = pipe.MemoryUsage(ctx, k)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return err
			}
			mu.Lock() // ForEachMaster runs on every master at once
			for i, c := range cmds {
				usage[addr] += c.Val()
				if c.Val() > 20000 {
					t.Logf("a large key: %s, %d bytes", ks[i], c.Val())
				}
			}
			keys[addr] += len(ks)
			mu.Unlock()
			if next == 0 {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, u := range usage {
		total += u
	}
	if len(usage) != 3 {
		t.Fatalf("the site's keys on %d masters, want all 3: %v", len(usage), usage)
	}
	even := float64(total) / 3
	for addr, u := range usage {
		share := float64(u) / even
		t.Logf("master %s: %d keys, %d bytes, %.3f of an even share", addr, keys[addr], u, share)
		if share < 0.8 || share > 1.2 {
			t.Errorf("master %s holds %.2f of an even share of the site's memory (%d of %d bytes), want within ±20 %%", addr, share, u, total)
		}
	}
}
