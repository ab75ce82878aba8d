package collector

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkWhatsAppStatusWebhooks measures signed status webhooks (one
// message's sent and delivered with per-message pricing, and read) against
// signed message webhooks (a first message from a new person, which runs
// the matcher), interleaved in rounds on one collector and one Redis, and
// reports each rate and their ratio.
func BenchmarkWhatsAppStatusWebhooks(b *testing.B) {
	w := newTestWorld(b, "rate_limit_per_minute: -1\n"+testConfigYAML)
	pmp := `{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}`
	var seq int
	statusBody := func() []byte {
		seq++
		id, to, at := fmt.Sprintf("wamid.bench%d", seq), fmt.Sprintf("1650%07d", seq), testStart.Add(time.Duration(seq)*time.Second)
		return waStatuses(waStatusJSON(id, "sent", at, to, pmp), waStatusJSON(id, "delivered", at.Add(time.Second), to, pmp),
			waStatusJSON(id, "read", at.Add(time.Minute), to, ""))
	}
	messageBody := func() []byte {
		seq++
		from := fmt.Sprintf("1650%07d", seq)
		return waNotification("15551234567", waContactJSON("Visitor", from),
			waTextJSON(from, fmt.Sprintf("wamid.in%d", seq), testStart.Add(time.Duration(seq)*time.Second), "hello, a question about delivery"))
	}
	post := func(body []byte) {
		if status, _, out := w.postWhatsApp(b, body); status != 200 {
			b.Fatalf("%d %s", status, out)
		}
	}
	var statusTime, messageTime time.Duration
	b.ResetTimer()
	for range b.N {
		body := statusBody()
		start := time.Now()
		post(body)
		statusTime += time.Since(start)
		body = messageBody()
		start = time.Now()
		post(body)
		messageTime += time.Since(start)
	}
	b.StopTimer()
	sr, mr := float64(b.N)/statusTime.Seconds(), float64(b.N)/messageTime.Seconds()
	b.ReportMetric(sr, "status_webhooks/s")
	b.ReportMetric(mr, "message_webhooks/s")
	b.ReportMetric(sr/mr, "ratio")
}
