package collector

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store/redistest"
)

// keyKind names the kind of a messtrack key for the sizing table: the part
// after the site's tag ("v", "chat", "clk"), with the reports' part ("r:cs",
// "r:ag") and, for report aggregates and costs, whether the period is a day.
func keyKind(key string) string {
	_, rest, ok := strings.Cut(key, "}:")
	if !ok {
		return "other"
	}
	parts := strings.Split(rest, ":")
	if parts[0] != "r" || len(parts) < 2 {
		return parts[0]
	}
	kind := "r:" + parts[1]
	switch parts[1] {
	case "ag", "cost", "dlv":
		period := parts[len(parts)-1]
		period, _, _ = strings.Cut(period, "@")
		if dayPeriod.MatchString(period) {
			return kind + ":day"
		}
		return kind + ":block+month"
	}
	return kind
}

var dayPeriod = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// keyUsage is MEMORY USAGE summed per key kind.
type keyUsage map[string]struct{ keys, bytes int64 }

// usage scans every key of the database and sums MEMORY USAGE per kind.
func usage(b *testing.B, rdb *redis.Client) keyUsage {
	b.Helper()
	ctx := context.Background()
	u := keyUsage{}
	iter := rdb.Scan(ctx, 0, "mt:*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		b.Fatalf("scan: %v", err)
	}
	for i := 0; i < len(keys); i += 500 {
		batch := keys[i:min(i+500, len(keys))]
		cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range batch {
				p.MemoryUsage(ctx, k, 0)
			}
			return nil
		})
		if err != nil {
			b.Fatalf("MEMORY USAGE: %v", err)
		}
		for j, c := range cmds {
			n, err := c.(*redis.IntCmd).Result()
			if err != nil {
				b.Fatalf("MEMORY USAGE %s: %v", batch[j], err)
			}
			k := u[keyKind(batch[j])]
			k.keys++
			k.bytes += n
			u[keyKind(batch[j])] = k
		}
	}
	return u
}

// sum is the bytes of the kinds named (all kinds when none is).
func (u keyUsage) sum(kinds ...string) int64 {
	var n int64
	for k, v := range u {
		if len(kinds) == 0 || containsString(kinds, k) {
			n += v.bytes
		}
	}
	return n
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// redisCounters is what INFO says of the server's work and memory.
type redisCounters struct {
	usedMemory, commands int64
	netIn, netOut        int64   // bytes Redis read from and wrote to its clients and replicas
	cpu                  float64 // seconds of user and system CPU
}

func readCounters(b *testing.B, rdb *redis.Client) redisCounters {
	b.Helper()
	info, err := rdb.Info(context.Background(), "memory", "stats", "cpu").Result()
	if err != nil {
		b.Fatalf("INFO: %v", err)
	}
	var c redisCounters
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "used_memory":
			c.usedMemory, _ = strconv.ParseInt(v, 10, 64)
		case "total_commands_processed":
			c.commands, _ = strconv.ParseInt(v, 10, 64)
		case "total_net_input_bytes":
			c.netIn, _ = strconv.ParseInt(v, 10, 64)
		case "total_net_output_bytes":
			c.netOut, _ = strconv.ParseInt(v, 10, 64)
		case "used_cpu_user", "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			c.cpu += f
		}
	}
	return c
}

// work is Redis' work over one kind of request: commands processed and CPU
// time, per request.
type work struct {
	n        int
	commands int64
	net      int64 // bytes in and out
	cpu      float64
}

func (w work) String() string {
	if w.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f commands, %.0f µs Redis CPU, %.0f B on the wire", float64(w.commands)/float64(w.n), w.cpu*1e6/float64(w.n), float64(w.net)/float64(w.n))
}

// BenchmarkKeyMemory measures what each kind of traffic leaves in Redis and
// costs it, on real data written through the collector's HTTP endpoints
// (32 connections, so the collector batches as under load): for 8 days, 960
// visits a day (20 every half hour) landing on 20 pages from 50 ads, half of them clicking the
// WhatsApp button, a quarter writing a first message with the code (a new
// chat each); a day of costs for the 50 ads; then one later message in every
// chat. It prints MEMORY USAGE per key kind and reports bytes per visit,
// click, chat (its record, history, index entry, claims, code outcome,
// seen mark and reports' session), session, later message and report day,
// with Redis' commands, CPU time and bytes on the wire per request of each kind. The sizing
// table of docs/scale.md is computed from these figures.
//
//	go test ./collector -run '^$' -bench KeyMemory -benchtime 1x
func BenchmarkKeyMemory(b *testing.B) {
	cfg, err := config.Parse("test.yaml", []byte("trusted_proxies: [127.0.0.1]\nrate_limit_per_minute: -1\n"+testConfigYAML), nil)
	if err != nil {
		b.Fatal(err)
	}
	// slots spread a day's traffic: each slot's visits, clicks and first
	// messages come at its own time, so a message's match window holds the
	// clicks of about half an hour, as with traffic spread over the day.
	const days, perDay, slots = 8, 960, 48
	for range b.N {
		rdb := redistest.New(b)
		s := newScaleSetup(b, "sizing", 6, cfg, 1, func() redis.UniversalClient { return redis.NewClient(rdb.Options()) })
		client := &fasthttp.Client{MaxConnsPerHost: loadConns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
		var visits, clicks, chats, later, costs work
		// What reading the counters itself adds (the INFO command, its
		// answer) is taken off every measurement.
		c0, c1 := readCounters(b, rdb), readCounters(b, rdb)
		infoCommands, infoNet := c1.commands-c0.commands, c1.netIn-c0.netIn+c1.netOut-c0.netOut
		measure := func(w *work, n int, do func()) {
			c0 := readCounters(b, rdb)
			do()
			c1 := readCounters(b, rdb)
			w.n += n
			w.commands += c1.commands - c0.commands - infoCommands
			w.net += c1.netIn - c0.netIn + c1.netOut - c0.netOut - infoNet
			w.cpu += c1.cpu - c0.cpu
		}
		mem0 := readCounters(b, rdb).usedMemory
		var phones []string
		for d := 0; d < days; d++ {
			for slot := 0; slot < slots; slot++ {
				at := testStart.AddDate(0, 0, d).Add(time.Duration(slot) * 24 * time.Hour / slots)
				s.clock.Set(at)
				measure(&visits, perDay/slots, func() { s.visitRound(b, client, perDay/slots) })
				s.clock.Set(at.Add(40 * time.Second))
				var reqs []scaleRequest
				for i := 0; i < len(s.ids); i += 2 {
					body := []byte(fmt.Sprintf(`{"site":"demo","visit":%q,"target":"whatsapp:15551234567","page":"https://shop.test/p%d"}`, s.ids[i], i%20))
					reqs = append(reqs, scaleRequest{"/v1/clicks", body, []string{"Origin", testOrigin, "Content-Type", "text/plain;charset=UTF-8"}})
				}
				measure(&clicks, len(reqs), func() { s.round(b, client, reqs, 204) })
				s.clock.Set(at.Add(time.Minute))
				reqs = reqs[:0]
				for i := 0; i < len(s.codes); i += 4 {
					phone := fmt.Sprintf("6%09d", len(phones))
					phones = append(phones, phone)
					hook := whatsappTextPayloadTB(phone, "wamid.size-first-"+phone, s.clock.Now(), "Hello! My request code: "+s.codes[i])
					reqs = append(reqs, scaleRequest{"/hooks/whatsapp/demo", hook, []string{"X-Hub-Signature-256", hubSignature("test_app_secret", hook), "Content-Type", "application/json"}})
				}
				measure(&chats, len(reqs), func() { s.round(b, client, reqs, 200) })
				s.codes, s.ids = s.codes[:0], s.ids[:0]
			}
		}
		var csv strings.Builder
		csv.WriteString("date,ad_id,cost,reach,impressions,clicks,currency\n")
		for d := 0; d < days; d++ {
			for ad := 0; ad < 50; ad++ {
				fmt.Fprintf(&csv, "%s,ad%d,%d.50,%d,%d,%d,USD\n", testStart.AddDate(0, 0, d).Format("2006-01-02"), ad, 10+ad, 900+ad, 1500+ad, 30+ad)
			}
		}
		measure(&costs, days, func() {
			s.round(b, client, []scaleRequest{{"/v1/sites/demo/costs", []byte(csv.String()), []string{"Authorization", demoAuth, "Content-Type", "text/csv"}}}, 200)
		})
		mem1 := readCounters(b, rdb).usedMemory
		u1 := usage(b, rdb)

		s.clock.Set(testStart.AddDate(0, 0, days).Add(time.Hour))
		reqs := make([]scaleRequest, len(phones))
		for i, phone := range phones {
			hook := whatsappTextPayloadTB(phone, "wamid.size-later-"+phone, s.clock.Now(), "Is it still available in red?")
			reqs[i] = scaleRequest{"/hooks/whatsapp/demo", hook, []string{"X-Hub-Signature-256", hubSignature("test_app_secret", hook), "Content-Type", "application/json"}}
		}
		measure(&later, len(reqs), func() { s.round(b, client, reqs, 200) })
		mem2 := readCounters(b, rdb).usedMemory
		u2 := usage(b, rdb)
		if b.N > 1 {
			continue
		}

		var table strings.Builder
		fmt.Fprintf(&table, "\n%-18s %8s %11s %9s   (after %d visits, %d clicks, %d chats, %d days of costs for 50 ads)\n",
			"kind", "keys", "bytes", "B/key", visits.n, clicks.n, chats.n, days)
		kinds := make([]string, 0, len(u1))
		for k := range u1 {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			v := u1[k]
			fmt.Fprintf(&table, "%-18s %8d %11d %9.0f\n", k, v.keys, v.bytes, float64(v.bytes)/float64(v.keys))
		}
		chatKinds := []string{"chat", "chist", "chats", "seen", "vm", "vchats", "cdo", "r:cs"}
		perVisit := float64(u1.sum("v")) / float64(visits.n)
		perClick := float64(u1.sum("vc", "clk")) / float64(clicks.n)
		perChat := float64(u1.sum(chatKinds...)) / float64(chats.n)
		perSession := float64(u1.sum("r:cs")) / float64(chats.n)
		perMessage := float64(u2.sum()-u1.sum()) / float64(later.n)
		reportDay := float64(u1.sum("r:ag:day")) / days
		reportAll := float64(u1.sum("r:ag:day", "r:ag:block+month")) / days
		costDay := float64(u1.sum("r:cost:day", "r:dlv:day")) / days
		fmt.Fprintf(&table, "\nper visit %.0f B, click %.0f B, chat %.0f B (its session %.0f B), later message %.0f B\n", perVisit, perClick, perChat, perSession, perMessage)
		fmt.Fprintf(&table, "report day: %.0f B of day aggregates (%.0f B with its share of blocks and months); costs of 50 ads: %.0f B a day\n", reportDay, reportAll, costDay)
		fmt.Fprintf(&table, "used_memory: +%.0f B per visit over the 8 days (all kinds together), +%.0f B per later message\n",
			float64(mem1-mem0)/float64(visits.n), float64(mem2-mem1)/float64(later.n))
		fmt.Fprintf(&table, "Redis work per request: visit %s; click %s; first message %s; later message %s; cost upload of a day of 50 ads %s\n",
			visits, clicks, chats, later, costs)
		fmt.Print(table.String())
		b.ReportMetric(perVisit, "B/visit")
		b.ReportMetric(perClick, "B/click")
		b.ReportMetric(perChat, "B/chat")
		b.ReportMetric(perSession, "B/session")
		b.ReportMetric(perMessage, "B/message")
		b.ReportMetric(reportDay, "B/report-day")
		b.ReportMetric(float64(visits.commands)/float64(visits.n), "cmds/visit")
		b.ReportMetric(float64(chats.commands)/float64(chats.n), "cmds/chat")
		b.ReportMetric(visits.cpu*1e6/float64(visits.n), "redis-µs/visit")
		b.ReportMetric(clicks.cpu*1e6/float64(clicks.n), "redis-µs/click")
		b.ReportMetric(chats.cpu*1e6/float64(chats.n), "redis-µs/chat")
		b.ReportMetric(later.cpu*1e6/float64(later.n), "redis-µs/message")
	}
}
