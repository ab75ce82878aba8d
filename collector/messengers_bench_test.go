package collector

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkWebhooks posts one person's first message to each messenger's
// webhook (a new chat per iteration, signed or with its secret, stored on
// a real Redis), WhatsApp's first as the baseline of the same run:
//
//	go test ./collector -run '^$' -bench BenchmarkWebhooks -benchtime 2000x -count 3
func BenchmarkWebhooks(b *testing.B) {
	hooks := []struct {
		name, path string
		body       func(i int) []byte
		headers    func(body []byte) []string
	}{
		{"whatsapp", "/hooks/whatsapp/demo", func(i int) []byte {
			return []byte(strings.NewReplacer("16505551234", fmt.Sprint(16505000000+i), "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
				fmt.Sprint("wamid.bench", i)).Replace(string(sample(b, "whatsapp_text.json"))))
		}, func(body []byte) []string {
			return []string{"X-Hub-Signature-256", hubSignature("test_app_secret", body)}
		}},
		{"max", "/hooks/max/demo", func(i int) []byte {
			return []byte(strings.NewReplacer("5100001", fmt.Sprint(51000000+i), "mid.0000000000a1b2c3", fmt.Sprint("mid.bench", i)).
				Replace(string(messengerSample(b, "max_message_created.json", "", "Hello, do you deliver?"))))
		}, func([]byte) []string { return []string{"X-Max-Bot-Api-Secret", "max-secret-1"} }},
		{"vk", "/hooks/vk/demo", func(i int) []byte {
			return []byte(strings.NewReplacer("700000001", fmt.Sprint(710000000+i), `"id": 101`, fmt.Sprintf(`"id": %d`, 1000+i)).
				Replace(string(messengerSample(b, "vk_message_new_ref.json", "", "Hello, do you deliver?"))))
		}, func([]byte) []string { return nil }},
		{"messenger", "/hooks/meta/demo", func(i int) []byte {
			return []byte(strings.NewReplacer("6100000000000001", fmt.Sprint(6200000000000000+i), "m_1457764197618:41d102a3e1ae206a38", fmt.Sprint("m_bench", i)).
				Replace(string(messengerSample(b, "messenger_text.json", "", "Hello, do you deliver?"))))
		}, func(body []byte) []string {
			return []string{"X-Hub-Signature-256", hubSignature("meta-app-secret", body)}
		}},
		{"viber", "/hooks/viber/demo", func(i int) []byte {
			return []byte(strings.NewReplacer("01234567890A=", fmt.Sprintf("bench%dA=", i), "5406893180055821525", fmt.Sprint(6000000000000000000+i)).
				Replace(string(messengerSample(b, "viber_message.json", "", "Hello, do you deliver?"))))
		}, func(body []byte) []string {
			return []string{"X-Viber-Content-Signature", viberSignature("viber-token-1", body)}
		}},
		{"line", "/hooks/line/demo", func(i int) []byte {
			return []byte(strings.NewReplacer("U4af4980629a0b1c2d3e4f5a6b7c8d9e0", fmt.Sprintf("U%032x", i), "01H810YECXQQZ37VAXPF6H9E6T", fmt.Sprint("01BENCH", i)).
				Replace(string(messengerSample(b, "line_text.json", "", "Hello, do you deliver?"))))
		}, func(body []byte) []string { return []string{"X-Line-Signature", lineSignature("line-secret-1", body)} }},
	}
	for _, h := range hooks {
		b.Run(h.name, func(b *testing.B) {
			// A fresh world (and Redis database) per run: every message
			// is a new chat's first, never a redelivery.
			w := newTestWorld(b, messengersConfigYAML)
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = h.body(i)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := bodies[i]
				resp, got := w.do(b, request("POST", h.path, body, append([]string{"Content-Type", "application/json"}, h.headers(body)...)...))
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d %s", h.name, resp.StatusCode, got)
				}
			}
		})
	}
}
