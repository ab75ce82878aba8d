package browsertest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// xssTemplate is a template name a platform that sends itself could
// record: it must show as text.
const xssTemplate = `<img src=x onerror="window.__pwned='tpl';alert('tpl')">`

// TestDashboardBrowserWhatsApp opens the WhatsApp and templates pages of a
// collector that took template records and signed status webhooks: the
// charts are drawn, the numbers are the reports', hostile template names
// are text, and nothing loads from outside.
func TestDashboardBrowserWhatsApp(t *testing.T) {
	raw := strings.Replace(testConfigYAML, "    conversion_event: purchase\n", "    conversion_event: purchase\n"+
		"    whatsapp_rates:\n      - {category: marketing, price: 0.025}\n", 1)
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	w := newWorld(t, raw, start)
	auth := []string{"Authorization", "Bearer demo-key-123", "Content-Type", "application/json"}
	pmp := `{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}`
	var statuses []string
	for i, tpl := range []string{"spring_sale", "spring_sale", xssTemplate} {
		id, to := fmt.Sprintf("wamid.dash%d", i), fmt.Sprintf("1650555%04d", i)
		at := start.Add(-time.Duration(i) * 24 * time.Hour)
		body := jsonBody(t, map[string]string{"message_id": id, "template": tpl, "language": "en_US", "category": "marketing",
			"to": to, "time": at.Format(time.RFC3339)})
		if resp, b := w.do(t, request("POST", "/v1/sites/demo/whatsapp/outbound", body, auth...)); resp.StatusCode != 200 {
			t.Fatalf("record: %d %s", resp.StatusCode, b)
		}
		statuses = append(statuses, fmt.Sprintf(`{"id":%q,"status":"delivered","timestamp":"%d","recipient_id":%q,"pricing":%s}`,
			id, at.Add(time.Second).Unix(), to, pmp))
	}
	hook := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"15551234567","phone_number_id":"106540352242922"},"statuses":[` +
		strings.Join(statuses, ",") + `]},"field":"messages"}]}]}`)
	mac := hmac.New(sha256.New, []byte("test_app_secret"))
	mac.Write(hook)
	if resp, b := w.do(t, request("POST", "/hooks/whatsapp/demo", hook, "X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))); resp.StatusCode != 200 {
		t.Fatalf("statuses: %d %s", resp.StatusCode, b)
	}

	b := newDashBrowser(t, w.listen(t))
	b.signIn(t, "demo", "demo-key-123")
	q := "?from=2026-10-29&to=2026-11-02"
	b.run(t, "whatsapp page", chromedp.Navigate(b.base+"/dashboard/whatsapp"+q), chromedp.WaitVisible(`main h1`))
	if n := get(t, b, "charts", chromedp.Evaluate[int](`document.querySelectorAll("main svg.chart").length`)); n != 2 {
		t.Errorf("%d charts on the WhatsApp page, want 2", n)
	}
	text := get(t, b, "text", chromedp.Evaluate[string](`document.querySelector("main table").innerText`))
	for _, want := range []string{"2026-11-02", "2026-10-31", "marketing"} {
		if !strings.Contains(text, want) {
			t.Errorf("the WhatsApp table lacks %q:\n%s", want, text)
		}
	}
	b.screenshot(t, "whatsapp")

	b.run(t, "templates page", chromedp.Navigate(b.base+"/dashboard/templates"+q), chromedp.WaitVisible(`main h1`),
		chromedp.Sleep(300*time.Millisecond))
	if pwned := get(t, b, "planted", chromedp.Evaluate[string](`String(window.__pwned || "")`)); pwned != "" {
		t.Fatalf("an injected script ran: %q", pwned)
	}
	text = get(t, b, "text", chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	if !strings.Contains(text, xssTemplate) || !strings.Contains(text, "spring_sale") {
		t.Errorf("the templates page does not show the template names as text:\n%s", text)
	}
	if n := get(t, b, "elements", chromedp.Evaluate[int](`document.querySelectorAll("main img, main script, main [onerror]").length`)); n > 0 {
		t.Errorf("%d injected elements in the templates page", n)
	}
	rows := get(t, b, "rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll("main table tbody tr")].map(r => r.innerText.replace(/\s+/g, " ").trim())`))
	found := false
	for _, r := range rows {
		// spring_sale: sent 2, delivered 2, read 0, failed 0.
		if strings.HasPrefix(r, "spring_sale 2 2 0 0") {
			found = true
		}
	}
	if !found {
		t.Errorf("no spring_sale row with 2 sent and 2 delivered: %q", rows)
	}
	b.screenshot(t, "templates")
	b.requireNoDialogs(t)
	b.requireOffline(t)
}
