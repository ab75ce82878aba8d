package inbound

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readStatusSample(t *testing.T, name string) *WhatsApp {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "platform-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadWhatsApp(b, received)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func TestWhatsAppStatusShapes(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		file    string
		status  string
		chat    string
		pricing *Pricing
		free    bool
		entry   bool
		errCode int64
	}{
		{file: "whatsapp_status.json", status: StatusDelivered, chat: "whatsapp:16505551234"},
		{file: "whatsapp_status_pmp_sent.json", status: StatusSent, chat: "whatsapp:16505551234",
			pricing: &Pricing{Model: "PMP", Type: "regular", Category: "marketing", Billable: &yes}},
		{file: "whatsapp_status_pmp_delivered.json", status: StatusDelivered, chat: "whatsapp:16505551234",
			pricing: &Pricing{Model: "PMP", Type: "regular", Category: "marketing", Billable: &yes}},
		{file: "whatsapp_status_read.json", status: StatusRead, chat: "whatsapp:16505551234"},
		{file: "whatsapp_status_failed.json", status: StatusFailed, chat: "whatsapp:447700900123", errCode: 131026},
		{file: "whatsapp_status_pmp_free_entry_point.json", status: StatusDelivered, chat: "whatsapp:16505559876",
			pricing: &Pricing{Model: "PMP", Type: "free_entry_point", Category: "service", Billable: &no,
				ConversationID: "4d0b5c1f8a2e4b7f9c3d6e1a2b5c8d0f", Origin: "referral_conversion"}, free: true, entry: true},
		{file: "whatsapp_status_pmp_free_customer_service.json", status: StatusSent, chat: "whatsapp:16505559876",
			pricing: &Pricing{Model: "PMP", Type: "free_customer_service", Category: "service", Billable: &no}, free: true},
		{file: "whatsapp_status_cbp_delivered.json", status: StatusDelivered, chat: "whatsapp:60173526233",
			pricing: &Pricing{Model: "CBP", Category: "utility", Billable: &yes,
				ConversationID: "f5fdae3920125a39a1e6a23e5f877c16", Origin: "utility"}},
		{file: "whatsapp_status_cbp_referral_conversion.json", status: StatusDelivered, chat: "whatsapp:5516992318222",
			pricing: &Pricing{Model: "CBP", Category: "referral_conversion", Billable: &no,
				ConversationID: "a75d17ad06104c51166f948319b03c6a", Origin: "referral_conversion"}, free: true, entry: true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := readStatusSample(t, tc.file)
			if len(p.Statuses) != 1 || p.Ignored != 0 || len(p.Events) != 0 {
				t.Fatalf("%d statuses, %d ignored, %d events; want one status", len(p.Statuses), p.Ignored, len(p.Events))
			}
			s := p.Statuses[0]
			if s.Status != tc.status || s.Chat != tc.chat || s.ErrorCode != tc.errCode {
				t.Fatalf("status %q chat %q error %d", s.Status, s.Chat, s.ErrorCode)
			}
			if s.Time.IsZero() || s.Time.After(received) || s.Time.Location() != time.UTC {
				t.Fatalf("time %v", s.Time)
			}
			if (s.Pricing == nil) != (tc.pricing == nil) {
				t.Fatalf("pricing %+v, want %+v", s.Pricing, tc.pricing)
			}
			if tc.pricing == nil {
				return
			}
			got, want := *s.Pricing, *tc.pricing
			if (got.Billable == nil) != (want.Billable == nil) || (got.Billable != nil && *got.Billable != *want.Billable) {
				t.Fatalf("billable %v, want %v", got.Billable, want.Billable)
			}
			got.Billable, want.Billable = nil, nil
			if got != want {
				t.Fatalf("pricing %+v, want %+v", got, want)
			}
			if s.Pricing.Free() != tc.free || s.Pricing.EntryPoint() != tc.entry {
				t.Fatalf("free %v entry %v, want %v %v", s.Pricing.Free(), s.Pricing.EntryPoint(), tc.free, tc.entry)
			}
		})
	}
}

func TestWhatsAppStatusRefusals(t *testing.T) {
	if p := readStatusSample(t, "whatsapp_status_group.json"); len(p.Statuses) != 0 || p.Ignored != 1 {
		t.Fatalf("group status: %d statuses, %d ignored", len(p.Statuses), p.Ignored)
	}
	for name, body := range map[string]string{
		"unknown status":    `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.A","status":"played","timestamp":"1762074000","recipient_id":"16505551234"}]}}]}]}`,
		"no id":             `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"status":"sent","timestamp":"1762074000","recipient_id":"16505551234"}]}}]}]}`,
		"hostile id":        `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.{x}:y z","status":"sent","timestamp":"1","recipient_id":"16505551234"}]}}]}]}`,
		"no recipient":      `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.A","status":"sent","timestamp":"1762074000"}]}}]}]}`,
		"recipient braces":  `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.A","status":"sent","timestamp":"1762074000","recipient_id":"{site}"}]}}]}]}`,
		"other field value": `{"entry":[{"changes":[{"field":"account_update","value":{"statuses":[{"id":"wamid.A","status":"sent","timestamp":"1762074000","recipient_id":"1"}]}}]}]}`,
	} {
		p, err := ReadWhatsApp([]byte(body), received)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(p.Statuses) != 0 || p.Ignored != 1 {
			t.Fatalf("%s: %d statuses, %d ignored", name, len(p.Statuses), p.Ignored)
		}
	}
	// A pricing category that is no word is kept as "other", never as sent.
	p, err := ReadWhatsApp([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.A","status":"delivered","timestamp":"1762074000","recipient_id":"16505551234","pricing":{"pricing_model":"PMP","type":"regular","category":"<script>alert(1)</script>"}}]}}]}]}`), received)
	if err != nil || len(p.Statuses) != 1 || p.Statuses[0].Pricing.Category != "other" {
		t.Fatalf("hostile category: %v %+v", err, p)
	}
	// A timestamp that is no number refuses the notification.
	if _, err := ReadWhatsApp([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.A","status":"sent","timestamp":"soon","recipient_id":"1"}]}}]}]}`), received); err == nil {
		t.Fatal("a timestamp that is no number was taken")
	} else {
		checkRefused(t, err)
	}
}

func TestWhatsAppReplyContext(t *testing.T) {
	body := `{"entry":[{"changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"15550783881"},
		"contacts":[{"profile":{"name":"Visitor A"},"wa_id":"16505551234"}],
		"messages":[{"from":"16505551234","id":"wamid.reply1","timestamp":"1762074100","type":"button",
		"context":{"from":"15550783881","id":"wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QTdCMjFFNzQ1MDg1QUM0QUYA"},
		"button":{"text":"Yes, please","payload":"yes"}}]}}]}]}`
	p, err := ReadWhatsApp([]byte(body), received)
	if err != nil || len(p.Events) != 1 || p.Events[0].Message == nil {
		t.Fatalf("%v %+v", err, p)
	}
	m := p.Events[0].Message
	if m.ReplyTo != "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QTdCMjFFNzQ1MDg1QUM0QUYA" || !m.ButtonReply || m.Text != "Yes, please" {
		t.Fatalf("reply %+v", m)
	}
}

func FuzzWhatsAppStatus(f *testing.F) {
	addSamples(f, "whatsapp_status")
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ReadWhatsApp(body, received)
		if err != nil {
			checkRefused(t, err)
			return
		}
		for _, s := range p.Statuses {
			switch s.Status {
			case StatusSent, StatusDelivered, StatusRead, StatusFailed:
			default:
				t.Fatalf("status %q", s.Status)
			}
			if !ValidMessageID(s.MessageID) || len(s.Chat) <= len("whatsapp:") || s.Chat[:9] != "whatsapp:" {
				t.Fatalf("status of %q in chat %q", s.MessageID, s.Chat)
			}
			if s.Time.IsZero() || s.Time.After(received.Add(FutureSkew)) {
				t.Fatalf("status filed at %v", s.Time)
			}
			if pr := s.Pricing; pr != nil {
				for _, w := range []string{pr.Type, pr.Category, pr.Origin} {
					if w != "" && !statusWord.MatchString(w) {
						t.Fatalf("pricing word %q", w)
					}
				}
				if pr.Category == "" || pr.Model == "" {
					t.Fatalf("pricing %+v without category or model", pr)
				}
			}
		}
	})
}
