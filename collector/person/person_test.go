package person_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/person"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

const configYAML = `
trusted_proxies: [0.0.0.0]
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    origins: [http://shop.test]
    whatsapp:
      - number: "15551234567"
    conversion_event: purchase
    sources:
      flyer: {channel: offline, number: "15551234567", title: "Spring flyer"}
`

// The person whose data is exported and erased, and a bystander whose data
// must stay.
const (
	phone     = "15550102030"
	name      = "Ada Lovelace"
	ip        = "203.0.113.77"
	text1     = "please call me about the blue sofa"
	text2     = "my flat is at Baker Street 221b"
	email     = "ada.lovelace@example.com"
	chat      = "whatsapp:" + phone
	other     = "15559998877"
	otherName = "Grace Hopper"
)

type world struct {
	srv   *collector.Server
	rdb   redis.UniversalClient
	clock *store.ManualClock
	cfg   *config.Config
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldYAML(t, configYAML)
}

func newWorldYAML(t *testing.T, yaml string) *world {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redistest.NewUniversal(t)
	clock := store.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	srv, err := collector.New(context.Background(), collector.Options{Config: cfg, Redis: rdb, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &world{srv: srv, rdb: rdb, clock: clock, cfg: cfg}
}

func (w *world) do(t *testing.T, method, path string, body any, headers ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := w.srv.App().Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

const auth = "Authorization"
const bearer = "Bearer demo-key-123"

// visit registers a visit from addr and returns its prefilled text.
func (w *world) visit(t *testing.T, addr, landing string) string {
	t.Helper()
	code, b := w.do(t, "POST", "/v1/visits", map[string]string{"site": "demo", "url": landing, "landing": landing, "lang": "en-GB"},
		"Origin", "http://shop.test", "X-Forwarded-For", addr,
		"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
	if code != 200 {
		t.Fatalf("visit: %d %s", code, b)
	}
	var v struct{ Text string }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Text
}

// message posts a message through the generic messages API.
func (w *world) message(t *testing.T, from, who, text, id string) map[string]any {
	t.Helper()
	code, b := w.do(t, "POST", "/v1/sites/demo/messages",
		map[string]string{"channel": "whatsapp", "from": from, "to": "15551234567", "name": who, "text": text, "id": id}, auth, bearer)
	if code != 200 {
		t.Fatalf("message: %d %s", code, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// populate gives the person two conversations from two visits, a
// conversion, and a bystander a chat of their own.
func (w *world) populate(t *testing.T) {
	t.Helper()
	prefill := w.visit(t, ip, "http://shop.test/sofa?utm_source=fb&utm_medium=cpc&utm_campaign=spring&email="+url.QueryEscape(email))
	if r := w.message(t, "+1 555 010 2030", name, prefill+" "+text1, "m1"); r["method"] != "id" {
		t.Fatalf("first message: %v", r)
	}
	w.clock.Advance(time.Minute)
	w.message(t, "+1 555 010 2030", name, text2, "m2")
	w.clock.Advance(time.Hour)
	code, b := w.do(t, "POST", "/v1/sites/demo/events",
		map[string]any{"chat": chat, "category": "purchase", "value": 120, "time": w.clock.Now().UTC().Format(time.RFC3339), "id": "order-1"}, auth, bearer)
	if code != 200 {
		t.Fatalf("event: %d %s", code, b)
	}
	other := w.visit(t, "198.51.100.5", "http://shop.test/chair?utm_source=google&utm_campaign=autumn")
	w.message(t, "+1 555 999 8877", otherName, other+" hello", "o1")
	w.clock.Advance(3 * 24 * time.Hour)
	prefill = w.visit(t, ip, "http://shop.test/table?utm_source=google&utm_medium=cpc&utm_campaign=autumn&phone="+phone)
	if r := w.message(t, "+1 555 010 2030", name, prefill+" "+text1, "m3"); r["method"] != "id" {
		t.Fatalf("second conversation: %v", r)
	}
	w.clock.Advance(time.Hour)
}

// needles are the forms the person's data takes in Redis: the IP is kept as
// raw bytes inside a visit.
func needles() map[string][]byte {
	raw := netip.MustParseAddr(ip).AsSlice()
	return map[string][]byte{
		"phone": []byte(phone), "name": []byte(name), "ip": []byte(ip), "ip bytes": raw,
		"text1": []byte(text1), "text2": []byte(text2), "email": []byte(email), "email escaped": []byte(url.QueryEscape(email)),
	}
}

// scan is scanNode on the server, or on every master of a cluster.
func scan(t *testing.T, rdb redis.UniversalClient, needles map[string][]byte) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	for _, node := range redistest.Nodes(t, rdb) {
		maps.Copy(found, scanNode(t, node, needles))
	}
	return found
}

// scanNode reads every key of the site on one server and every value in it
// and returns, for each key holding one of the needles, which.
func scanNode(t *testing.T, rdb *redis.Client, needles map[string][]byte) map[string][]string {
	t.Helper()
	ctx := context.Background()
	found := map[string][]string{}
	var cursor uint64
	for {
		// The site's own tag and its shards' ("{demo~3.12}").
		keys, next, err := rdb.Scan(ctx, cursor, "mt:{demo[}~]*", 500).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			var vals []string
			typ, err := rdb.Type(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			switch typ {
			case "string":
				v, _ := rdb.Get(ctx, k).Result()
				vals = []string{v}
			case "hash":
				for f, v := range rdb.HGetAll(ctx, k).Val() {
					vals = append(vals, f, v)
				}
			case "list":
				vals = rdb.LRange(ctx, k, 0, -1).Val()
			case "set":
				vals = rdb.SMembers(ctx, k).Val()
			case "zset":
				vals = rdb.ZRange(ctx, k, 0, -1).Val()
			case "stream":
				for _, m := range rdb.XRange(ctx, k, "-", "+").Val() {
					for f, v := range m.Values {
						vals = append(vals, f, fmt.Sprint(v))
					}
				}
			case "none":
				continue
			default:
				t.Fatalf("key %s of type %s", k, typ)
			}
			all := append([]string{k}, vals...)
			for what, n := range needles {
				for _, v := range all {
					if bytes.Contains([]byte(v), n) {
						found[k] = append(found[k], what)
						break
					}
				}
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	return found
}

// reportsJSON reads every report over several ranges.
func (w *world) reportsJSON(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, rng := range [][2]string{{"2026-11-02", "2026-11-02"}, {"2026-11-01", "2026-11-30"}, {"2026-10-01", "2026-12-31"}, {"2026-11-05", "2026-11-06"}} {
		for _, rep := range []string{"ads", "channels", "pages", "new-repeat", "dynamics"} {
			path := fmt.Sprintf("/v1/sites/demo/reports/%s?from=%s&to=%s&format=json", rep, rng[0], rng[1])
			code, b := w.do(t, "GET", path, nil, auth, bearer)
			if code != 200 {
				t.Fatalf("%s: %d %s", path, code, b)
			}
			out[path] = string(b)
		}
	}
	return out
}

// On a site of one shard and of several (whose visits live under other
// hash tags, erased each on its own shard before the chat).
func TestExportThenEraseLeavesNothingAndReportsUnchanged(t *testing.T) {
	t.Run("one shard", func(t *testing.T) { exportThenErase(t, configYAML) })
	t.Run("16 shards", func(t *testing.T) {
		exportThenErase(t, strings.Replace(configYAML, "    api_key: demo-key-123\n", "    api_key: demo-key-123\n    shards: 16\n", 1))
	})
}

func exportThenErase(t *testing.T, yaml string) {
	w := newWorldYAML(t, yaml)
	w.populate(t)
	ctx := context.Background()
	path := "/v1/sites/demo/people/" + url.PathEscape(chat)

	before := scan(t, w.rdb, needles())
	if len(before) == 0 {
		t.Fatal("the scan found nothing about the person before the erasure")
	}
	t.Logf("before the erasure: %v", before)
	code, b := w.do(t, "GET", path, nil, auth, bearer)
	if code != 200 {
		t.Fatalf("export: %d %s", code, b)
	}
	var exp person.Export
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, k := range exp.Keys {
		listed[k.Key] = true
	}
	for k, what := range before {
		if !listed[k] {
			t.Errorf("key %s holds the person's %v but the export does not list it", k, what)
		}
	}
	if exp.Record == nil || exp.Record.Phone != phone || exp.Record.Name != name {
		t.Errorf("export record %+v", exp.Record)
	}
	if len(exp.History) != 3 || len(exp.Sessions) != 2 || exp.Sessions[0].Conversion == nil || len(exp.Visits) != 2 {
		t.Errorf("export: %d history, %d sessions (%+v), %d visits; want 3, 2 (first converted), 2", len(exp.History), len(exp.Sessions), exp.Sessions, len(exp.Visits))
	}
	for _, v := range exp.Visits {
		if v.Visit.IP != ip || v.Claim != "code" || !v.CodeMatched || v.ID == "" {
			t.Errorf("exported visit %+v (%+v)", v, v.Visit)
		}
	}
	if !strings.Contains(string(b), `"tags":[]`) || !strings.Contains(string(b), `"deliveries":[]`) {
		t.Errorf("export lacks empty tags and deliveries: %s", b)
	}

	reportsBefore := w.reportsJSON(t)
	code, b = w.do(t, "DELETE", path, nil, auth, bearer)
	if code != 204 {
		t.Fatalf("erase: %d %s", code, b)
	}
	if after := scan(t, w.rdb, needles()); len(after) != 0 {
		t.Errorf("after the erasure these keys still hold the person's data: %v", after)
	}
	if bystander := scan(t, w.rdb, map[string][]byte{"phone": []byte(other), "name": []byte(otherName)}); len(bystander) == 0 {
		t.Error("the erasure removed the bystander's chat too")
	}
	reportsAfter := w.reportsJSON(t)
	for p, v := range reportsBefore {
		if reportsAfter[p] != v {
			t.Errorf("%s changed:\nbefore %s\nafter  %s", p, v, reportsAfter[p])
		}
	}
	// A recount from the facts kept gives the same figures.
	rs := reports.New(w.rdb, w.clock, w.cfg)
	if _, err := rs.Recount(ctx, "demo", nil); err != nil {
		t.Fatal(err)
	}
	for p, v := range w.reportsJSON(t) {
		if reportsBefore[p] != v {
			t.Errorf("after a recount %s changed:\nbefore %s\nafter  %s", p, reportsBefore[p], v)
		}
	}

	// Idempotent, and audited without personal data.
	if code, b = w.do(t, "DELETE", path, nil, auth, bearer); code != 204 {
		t.Fatalf("second erase: %d %s", code, b)
	}
	audit := w.rdb.LRange(ctx, store.PersonAudit("demo"), 0, -1).Val()
	if len(audit) != 2 {
		t.Fatalf("audit %v; want 2 entries", audit)
	}
	var first, second person.AuditEntry
	_ = json.Unmarshal([]byte(audit[0]), &first)
	_ = json.Unmarshal([]byte(audit[1]), &second)
	if first.Erased.Chat != 1 || first.Erased.Visits != 2 || first.Erased.ReportState != 1 || first.Reason != person.ReasonRequest ||
		!second.Erased.Nothing() || first.Chat == "" || first.Chat != second.Chat {
		t.Errorf("audit entries %+v, %+v", first, second)
	}
	code, b = w.do(t, "GET", path, nil, auth, bearer)
	if code != 200 || !strings.Contains(string(b), `"record":null`) || !strings.Contains(string(b), `"keys":[]`) {
		t.Errorf("export after the erasure: %d %s", code, b)
	}

	// The person writes again: a fresh chat, a new dialog.
	if r := w.message(t, "+1 555 010 2030", name, "hello again", "m4"); r["new_chat"] != true {
		t.Errorf("message after the erasure: %v; want a new chat", r)
	}
	code, b = w.do(t, "GET", "/v1/sites/demo/chats/"+url.PathEscape(chat), nil, auth, bearer)
	var rec struct {
		Dialog   string `json:"dialog"`
		Messages int    `json:"messages"`
		History  []any  `json:"history"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || code != 200 || rec.Dialog != reports.DialogNew || rec.Messages != 1 || len(rec.History) != 1 {
		t.Errorf("chat after the erasure: %d %s", code, b)
	}
}

func TestPeopleEndpointsNeedTheSitesKey(t *testing.T) {
	w := newWorld(t)
	for _, m := range []string{"GET", "DELETE"} {
		if code, b := w.do(t, m, "/v1/sites/demo/people/"+url.PathEscape(chat), nil, auth, "Bearer wrong-key-000"); code != 401 {
			t.Errorf("%s without the key: %d %s", m, code, b)
		}
		if code, b := w.do(t, m, "/v1/sites/demo/people/nochat", nil, auth, bearer); code != 400 {
			t.Errorf("%s with a bad chat key: %d %s", m, code, b)
		}
	}
	// Nothing kept: still 204, still audited.
	if code, b := w.do(t, "DELETE", "/v1/sites/demo/people/"+url.PathEscape(chat), nil, auth, bearer); code != 204 {
		t.Errorf("erase of nobody: %d %s", code, b)
	}
	if n := w.rdb.LLen(context.Background(), store.PersonAudit("demo")).Val(); n != 1 {
		t.Errorf("audit holds %d entries; want 1", n)
	}
}

func TestEraseRenamesLegacyMarkersSoRecountKeepsThem(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.message(t, "+1 555 010 2030", name, text1, "m1")
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC).UnixMilli()
	marker := store.ReportSeen("demo", "u", fmt.Sprintf("%s@%d", chat, at))
	if err := w.rdb.Set(ctx, marker, "repeat/unattributed", 0).Err(); err != nil {
		t.Fatal(err)
	}
	svc := person.New(person.Options{Redis: w.rdb, Config: w.cfg, Clock: w.clock})
	exp, err := svc.Export(ctx, "demo", chat)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(exp.Keys, func(k person.Key) bool { return k.Key == marker }) {
		t.Errorf("export keys %+v lack the legacy marker", exp.Keys)
	}
	e, err := svc.Erase(ctx, "demo", chat, person.ReasonRequest)
	if err != nil {
		t.Fatal(err)
	}
	if e.Markers != 1 || w.rdb.Exists(ctx, marker).Val() != 0 {
		t.Errorf("erased %+v; the marker is still there: %v", e, w.rdb.Exists(ctx, marker).Val())
	}
	if left := scan(t, w.rdb, needles()); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
	res, err := reports.New(w.rdb, w.clock, w.cfg).Recount(ctx, "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Legacy != 1 || res.Chats != 1 || res.Conversations != 2 {
		t.Errorf("recount %+v; want the marker folded into the erased chat's state", res)
	}
}

func TestKeepMessageTextFalseStoresNoTextNorName(t *testing.T) {
	w := newWorld(t)
	w.cfg.Site("demo").KeepMessageText = new(bool)
	w.message(t, "+1 555 010 2030", name, text1, "m1")
	found := scan(t, w.rdb, map[string][]byte{"name": []byte(name), "text": []byte(text1)})
	if len(found) != 0 {
		t.Errorf("with keep_message_text false: %v", found)
	}
	if len(scan(t, w.rdb, map[string][]byte{"phone": []byte(phone)})) == 0 {
		t.Error("the chat itself was not kept")
	}
}

func TestSweepErasesSilentChatsAndTrimsHistory(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	st := w.cfg.Site("demo")
	st.Retention.ChatDays, st.Retention.HistoryDays = 30, 10
	w.message(t, "+1 555 010 2030", name, text1, "m1") // silent from now on
	w.message(t, "+1 555 999 8877", otherName, "old words", "o1")
	w.clock.Advance(32 * 24 * time.Hour)
	w.message(t, "+1 555 999 8877", otherName, "new words", "o2")
	w.clock.Advance(24 * time.Hour)
	reportsBefore := w.reportsJSON(t)

	svc := person.New(person.Options{Redis: w.rdb, Config: w.cfg, Clock: w.clock})
	res, err := svc.Sweep(ctx, "demo", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if res.Looked != 2 || res.Erased != 1 || res.Trimmed != 1 || !res.Wrapped {
		t.Errorf("sweep %+v; want 2 looked, 1 erased, 1 trimmed, wrapped", res)
	}
	if left := scan(t, w.rdb, needles()); len(left) != 0 {
		t.Errorf("the silent chat left: %v", left)
	}
	hist := w.rdb.LRange(ctx, store.ChatHistory("demo", "whatsapp:"+other), 0, -1).Val()
	if len(hist) != 1 || !strings.Contains(hist[0], "o2") {
		t.Errorf("the active chat's history %v; want only the entry within 10 days", hist)
	}
	for p, v := range w.reportsJSON(t) {
		if reportsBefore[p] != v {
			t.Errorf("%s changed by the sweep", p)
		}
	}
	audit, err := svc.Audit(ctx, "demo", 0)
	if err != nil || len(audit) != 1 || audit[0].Reason != person.ReasonRetention {
		t.Errorf("audit %+v, %v", audit, err)
	}
}

// TestEraseWhileMessagesArrive erases a chat while its messages keep
// arriving: afterwards the chat is either gone whole or whole.
// On a site of one shard and of several, where the chat's erasure and a
// message's commit each run in steps on two slots (the chat's shard and the
// site's tag, which holds the index).
func TestEraseWhileMessagesArrive(t *testing.T) {
	t.Run("one shard", func(t *testing.T) { eraseWhileMessagesArrive(t, configYAML, 1) })
	t.Run("16 shards", func(t *testing.T) {
		eraseWhileMessagesArrive(t, strings.Replace(configYAML, "    api_key: demo-key-123\n", "    api_key: demo-key-123\n    shards: 16\n", 1), 16)
	})
}

func eraseWhileMessagesArrive(t *testing.T, yaml string, shards int) {
	w := newWorldYAML(t, yaml)
	sh := store.NewShards("demo", shards)
	ctx := context.Background()
	svc := person.New(person.Options{Redis: w.rdb, Config: w.cfg, Clock: w.clock})
	for round := range 5 {
		w.message(t, "+1 555 010 2030", name, text1, fmt.Sprintf("r%d-0", round))
		done := make(chan error, 1)
		go func() {
			for i := 1; i <= 5; i++ {
				body, _ := json.Marshal(map[string]string{"channel": "whatsapp", "from": phone, "to": "15551234567",
					"name": name, "text": text1, "id": fmt.Sprintf("r%d-%d", round, i)})
				req := httptest.NewRequest("POST", "/v1/sites/demo/messages", bytes.NewReader(body))
				req.Header.Set(auth, bearer)
				resp, err := w.srv.App().Test(req, 10_000)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("message %d: status %d", i, resp.StatusCode)
					}
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		if _, err := svc.Erase(ctx, "demo", chat, person.ReasonRequest); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		rec := w.rdb.HGet(ctx, sh.Chat(chat), "rec").Val()
		hist := w.rdb.LLen(ctx, sh.ChatHistory(chat)).Val()
		_, idxErr := w.rdb.ZScore(ctx, store.Chats("demo"), chat).Result()
		whole := rec != "" && hist > 0 && idxErr == nil
		gone := w.rdb.Exists(ctx, sh.Chat(chat)).Val() == 0 && hist == 0 && idxErr != nil
		if !whole && !gone {
			t.Fatalf("round %d: half a chat: record %q, %d history entries, index %v", round, rec, hist, idxErr)
		}
	}
}

// On a site of several shards an erasure that stopped after the chat's
// step (record and history gone, index entry and reports state left under
// the chat key) is completed by running it again, and a new message after
// it makes a whole new chat whose reports state stays its own.
func TestShardedEraseStoppedAfterTheChatsStep(t *testing.T) {
	w := newWorldYAML(t, strings.Replace(configYAML, "    api_key: demo-key-123\n", "    api_key: demo-key-123\n    shards: 16\n", 1))
	sh := store.NewShards("demo", 16)
	if sh.ChatShard(chat) == 0 {
		t.Fatal("the person's chat is on the site's own tag; the test needs it on another")
	}
	ctx := context.Background()
	w.message(t, "+1 555 010 2030", name, text1, "m1")
	if w.rdb.Exists(ctx, store.ReportChat("demo", chat)).Val() != 1 {
		t.Fatal("no reports state for the chat")
	}
	// The stop: the chat's step ran, the site's did not.
	if err := w.rdb.Del(ctx, sh.Chat(chat), sh.ChatHistory(chat)).Err(); err != nil {
		t.Fatal(err)
	}
	svc := person.New(person.Options{Redis: w.rdb, Config: w.cfg, Clock: w.clock})
	e, err := svc.Erase(ctx, "demo", chat, person.ReasonRequest)
	if err != nil {
		t.Fatal(err)
	}
	if e.Index != 1 || e.ReportState != 1 || e.Chat != 0 {
		t.Errorf("the retry erased %+v; want the index entry and the reports state", e)
	}
	if _, err := w.rdb.ZScore(ctx, store.Chats("demo"), chat).Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("index entry after the retry: %v", err)
	}
	if n := w.rdb.Exists(ctx, store.ReportChat("demo", chat)).Val(); n != 0 {
		t.Error("the reports state still names the chat")
	}
	// The person writes again: a new chat, indexed, with state of its own.
	w.clock.Advance(time.Hour)
	w.message(t, "+1 555 010 2030", name, text2, "m2")
	if _, err := w.rdb.ZScore(ctx, store.Chats("demo"), chat).Result(); err != nil {
		t.Errorf("the new chat is not indexed: %v", err)
	}
	if w.rdb.HGet(ctx, sh.Chat(chat), "rec").Val() == "" || w.rdb.Exists(ctx, store.ReportChat("demo", chat)).Val() != 1 {
		t.Error("the new chat or its reports state is missing")
	}
}
