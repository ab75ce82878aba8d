package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// A cluster master killed and its replica promoted while WhatsApp and
// Telegram webhooks and visits flow through the collector's HTTP
// endpoints. The platforms redeliver whatever was not answered 2xx. Right
// before the kill the replica falls behind (a CLIENT PAUSE on it, as a
// replica busy or far away would): the writes the master made in that
// moment reach no replica and die with it. Afterwards every webhook
// answered 2xx has its chat, every one answered 5xx was stored once after
// the retry, every visit answered with an ID is found, and the channels
// report counts each chat once.
func TestClusterFailoverUnderLoadKeepsAcknowledged(t *testing.T) {
	lost := failoverUnderLoad(t, "")
	for _, l := range lost {
		t.Error(l)
	}
}

// The same failover with redis_wait_replicas: 0, the collector answering
// as soon as the master has the writes: acknowledged webhooks are lost.
// It shows what the wait is for.
func TestClusterFailoverWithoutWaitLosesAcknowledged(t *testing.T) {
	lost := failoverUnderLoad(t, "redis_wait_replicas: 0\n")
	if len(lost) == 0 {
		t.Fatal("nothing acknowledged was lost without the wait: the failover did not catch writes on their way to the replica")
	}
	t.Logf("without the wait, %d acknowledged writes lost, e.g. %s", len(lost), lost[0])
}

// failoverUnderLoad runs the failover with extra config lines and returns
// what was acknowledged and then missing, or counted wrong.
func failoverUnderLoad(t *testing.T, extra string) []string {
	c := redistest.PrivateCluster(t)
	_ = c.Client(t) // flushed
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, c.URL(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cfg, err := config.Parse("test.yaml", []byte("rate_limit_per_minute: -1\n"+extra+testConfigYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(ctx, Options{Config: cfg, Redis: db.Client, Clock: store.NewManualClock(testStart), Log: log, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	// Under the race detector, requests a client gave up on while the
	// master was dying can still be finishing when the test ends: the
	// shutdown gives them longer than the 5 s other tests do.
	base := collectortest.ListenGrace(t, srv, 30*time.Second)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()

	master, err := c.MasterOf(ctx, store.Secret("demo"))
	if err != nil {
		t.Fatal(err)
	}
	replica, err := replicaOf(ctx, master.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()

	p := &platform{t: t, base: base, hc: hc, stop: make(chan struct{})}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(3)
		go func() { defer wg.Done(); p.whatsApp(g) }()
		go func() { defer wg.Done(); p.telegram(g) }()
		go func() { defer wg.Done(); p.visits() }()
	}
	time.Sleep(time.Second)
	// The replica stops applying its master's stream for 3 s; 300 ms later
	// the master dies, and the replica is promoted with what it applied.
	if err := replica.ClientPause(ctx, 3*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	master.Kill()
	killed := time.Now()
	time.Sleep(9 * time.Second)
	close(p.stop)
	wg.Wait()
	t.Logf("after %v of load from the kill: %d chats (%d answered 5xx first, %d of them stored by the attempt answered 5xx), %d visits answered with an ID, %d visits refused",
		time.Since(killed).Round(time.Second), len(p.chats), p.retried, p.duplicates, len(p.visitIDs), p.visitsFailed)
	if p.retried == 0 {
		t.Error("no webhook was answered 5xx: the failover happened outside the load")
	}

	var lost []string
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer demo-key-123")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for chat, retried := range p.chats {
		status, b := get("/v1/sites/demo/chats/" + url.PathEscape(chat))
		if status != 200 {
			lost = append(lost, fmt.Sprintf("chat %s answered 2xx, then %d %s", chat, status, b))
			continue
		}
		var rec chatRecord
		if err := json.Unmarshal(b, &rec); err != nil || rec.Messages != 1 {
			lost = append(lost, fmt.Sprintf("chat %s (answered 5xx before its 2xx: %v) holds %d messages, want its one message once: %s",
				chat, retried, rec.Messages, b))
		}
	}
	for _, id := range p.visitIDs {
		if status, b := get("/v1/sites/demo/visits/" + url.PathEscape(id)); status != 200 {
			lost = append(lost, fmt.Sprintf("visit %s answered with its ID, then %d %s", id, status, b))
		}
	}
	if p.received+p.duplicates != len(p.chats) || p.duplicates > p.retried {
		lost = append(lost, fmt.Sprintf("the 2xx answers say %d messages received and %d redelivered for %d messages sent, %d of them retried",
			p.received, p.duplicates, len(p.chats), p.retried))
	}
	status, b := get("/v1/sites/demo/reports/channels?from=2026-11-01&to=2026-11-03")
	var rep struct {
		Totals struct {
			Conversations int `json:"conversations"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(b, &rep); status != 200 || err != nil {
		t.Fatalf("channels report: %d %s", status, b)
	}
	if rep.Totals.Conversations != len(p.chats) {
		lost = append(lost, fmt.Sprintf("the channels report counts %d conversations for %d chats", rep.Totals.Conversations, len(p.chats)))
	}
	return lost
}

// replicaOf returns a client of the replica of the master at addr.
func replicaOf(ctx context.Context, addr string) (*redis.Client, error) {
	m := redis.NewClient(&redis.Options{Addr: addr})
	defer m.Close()
	info, err := m.Info(ctx, "replication").Result()
	if err != nil {
		return nil, fmt.Errorf("replica of %s: %w", addr, err)
	}
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, "slave0:") {
			continue
		}
		var ip, port string
		for _, kv := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "slave0:")), ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "ip":
				ip = v
			case "port":
				port = v
			}
		}
		return redis.NewClient(&redis.Options{Addr: ip + ":" + port}), nil
	}
	return nil, fmt.Errorf("master %s has no replica:\n%s", addr, info)
}

// platform plays WhatsApp, Telegram and browsers against a collector: each
// chat's first message is redelivered until it is answered 2xx; a visit is
// sent once.
type platform struct {
	t    *testing.T
	base string
	hc   *http.Client
	stop chan struct{}

	mu           sync.Mutex
	chats        map[string]bool // by chat: answered 5xx before its 2xx
	retried      int             // messages answered 5xx before their 2xx
	received     int             // sum of "received" over the 2xx answers
	duplicates   int             // sum of "duplicates": stored by an attempt answered 5xx
	visitIDs     []string
	visitsFailed int
}

func (p *platform) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// deliver posts body until it is answered 2xx and notes the chat.
func (p *platform) deliver(chat, path string, body []byte, headers ...string) {
	failed := false
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest("POST", p.base+path, strings.NewReader(string(body)))
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				var ans hookAnswer
				if err := json.Unmarshal(b, &ans); err != nil {
					p.t.Errorf("%s: answer %s: %v", chat, b, err)
				}
				p.mu.Lock()
				if p.chats == nil {
					p.chats = map[string]bool{}
				}
				p.chats[chat] = failed
				p.received += ans.Received
				p.duplicates += ans.Duplicates
				if failed {
					p.retried++
				} else if ans.Received != 1 {
					p.t.Errorf("%s: the first delivery answered %s", chat, b)
				}
				p.mu.Unlock()
				return
			}
			if resp.StatusCode < 500 {
				p.t.Errorf("%s: %d %s", chat, resp.StatusCode, b)
				return
			}
		}
		failed = true
		if time.Now().After(deadline) {
			p.t.Errorf("%s: not accepted within 90 s: %v", chat, err)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *platform) whatsApp(g int) {
	for i := 0; !p.stopped(); i++ {
		waID := fmt.Sprintf("1555%02d%05d", g, i)
		body := waNotification("15551234567", waContactJSON("Visitor", waID),
			waTextJSON(waID, fmt.Sprintf("wamid.failover.%d.%d", g, i), testStart, "Hello, is the blue one in stock?"))
		p.deliver("whatsapp:"+waID, "/hooks/whatsapp/demo", body, "X-Hub-Signature-256", hubSignature("test_app_secret", body))
	}
}

func (p *platform) telegram(g int) {
	for i := 0; !p.stopped(); i++ {
		user := int64(7_000_000 + g*100_000 + i)
		body := tgUpdateJSON("message", user, user, user, testStart, "Hello, is the blue one in stock?", "en")
		p.deliver(fmt.Sprintf("telegram:%d", user), "/hooks/telegram/demo", body, "X-Telegram-Bot-Api-Secret-Token", "tg-secret-1")
	}
}

func (p *platform) visits() {
	for !p.stopped() {
		body, _ := json.Marshal(map[string]string{"site": "demo", "url": testOrigin + "/", "lang": "en-GB"})
		req, _ := http.NewRequest("POST", p.base+"/v1/visits", strings.NewReader(string(body)))
		req.Header.Set("Origin", testOrigin)
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("User-Agent", uaChromeWindows)
		resp, err := p.hc.Do(req)
		if err != nil {
			p.mu.Lock()
			p.visitsFailed++
			p.mu.Unlock()
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v struct {
			Visit string `json:"visit"`
		}
		p.mu.Lock()
		if resp.StatusCode == 200 && json.Unmarshal(b, &v) == nil && v.Visit != "" {
			p.visitIDs = append(p.visitIDs, v.Visit)
		} else {
			p.visitsFailed++
		}
		p.mu.Unlock()
		if resp.StatusCode != 200 {
			time.Sleep(50 * time.Millisecond)
		}
	}
}
