package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/reports"
)

// TestDashboardUsesTheSitesCurrencyAndZone shows a site's numbers in its own
// currency and its times in its own time zone.
func TestDashboardUsesTheSitesCurrencyAndZone(t *testing.T) {
	cfg := strings.Replace(testConfigYAML, "    conversion_event: purchase\n", "    conversion_event: purchase\n    currency: EUR\n    timezone: Europe/Berlin\n", 1)
	w := newTestWorld(t, cfg)
	ctx := context.Background()
	// 23:30 UTC on 2 November is already 3 November in Berlin.
	at := time.Date(2026, 11, 2, 23, 30, 0, 0, time.UTC)
	w.clock.Set(at)
	if err := w.srv.reports.RecordConversation(ctx, reports.Conversation{Site: "demo", Chat: "whatsapp:15550002001", Time: at,
		Messenger: "whatsapp", Method: reports.MethodReferral, Confidence: 1, Channel: "messenger_ad",
		UTMSource: "facebook", AdID: "120000000000000009", AdTitle: "Winter sale", AdType: "ad"}); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.reports.AddCosts(ctx, "demo", []reports.CostRow{{Date: "2026-11-03", AdID: "120000000000000009", Title: "Winter sale",
		Cost: 1234.5, Reach: 1000, Currency: "EUR"}}); err != nil {
		t.Fatal(err)
	}
	v := w.addVisit(t, nil)
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550002002", "to": "15551234567",
		"text": "code " + w.code(v), "name": "Visitor B", "time": at.Format(time.RFC3339)})
	w.clock.Advance(time.Hour)

	d := newDashClient(w)
	d.signIn(t, "demo", "demo-key-123")
	tests := []struct {
		name, path string
		want       []string
	}{
		{name: "money in euros, on the Berlin day", path: "/dashboard/ads?from=2026-11-03&to=2026-11-03", want: []string{"€1,234.50", ">Winter sale<"}},
		{name: "times in Berlin", path: "/dashboard/chats", want: []string{"2026-11-03 00:30 CET"}},
		{name: "the layout names both", path: "/dashboard/", want: []string{"EUR", "Europe/Berlin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := d.get(t, tt.path)
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %q:\n%s", s, clip(body, 4000))
				}
			}
		})
	}
}
