package demo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/demo"
	"github.com/messtrack/messtrack/internal/headless"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// TestDemoWalkthrough is what a newcomer does after `make run`, in a real
// Chromium on make run's configuration (seeded like an empty store is): open
// the shop, tap "Order in WhatsApp", send the prefilled message and see it
// matched by its code; as a second visitor, tap again, delete the code and
// send from another number, and see the heuristic's answer with its
// candidates; send a purchase; find both chats in the dashboard; and the ads
// table fits a 1280-pixel window. With MESSTRACK_SCREENSHOTS=docs it writes
// the README's screenshots there (relative to the repository).
func TestDemoWalkthrough(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	base := "http://" + addr
	cfg := demoConfig(t, func(k string) string {
		if k == "MESSTRACK_ADDR" {
			return addr
		}
		return ""
	})
	rdb := redistest.NewUniversal(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// As serve does on an empty store: a month of demo data first.
	now := time.Now()
	seedClock := store.NewManualClock(now.AddDate(0, 0, -31))
	seeder, err := collector.New(ctx, collector.Options{Config: cfg, Redis: rdb, Clock: seedClock, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, func(r *http.Request) (*http.Response, error) { return seeder.App().Test(r, -1) },
		seedClock, cfg, demo.SeedOptions{Site: "demo", Days: 30, End: now, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	seeder.Close()

	srv, err := collector.New(ctx, collector.Options{Config: cfg, Redis: rdb, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln, time.Second) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})

	browser := chromium(t)
	b := &browse{t: t, ctx: browser}
	shots := screenshotDir(t)

	// The shop; the snippet registers the visit and puts its code in the links.
	b.do("open the shop",
		chromedp.EmulateViewport(1280, 860),
		chromedp.Navigate(base+"/"),
	)
	code := get(b, "the visit's code", chromedp.Poll[string](`JSON.parse(localStorage.messtrack || "{}").code`, chromedp.WithPollingTimeout(10*time.Second)))
	// Tap "Order in WhatsApp": the phone shows the prefilled message.
	b.do("tap Order in WhatsApp", chromedp.Click("#hero-wa"))
	b.wait("the phone", `!document.getElementById("demo-phone").hidden`)
	text := get(b, "the phone's message", chromedp.Value("#dp-text"))
	if !strings.Contains(text, code) || !strings.Contains(text, "order a bouquet") {
		t.Fatalf("the phone's message is %q; want the link's text with the code %s", text, code)
	}
	firstFrom := get(b, "the phone's number", chromedp.Value("#dp-from"))
	b.do("send the prefilled message", chromedp.Click("#dp-send"))
	b.wait("the answer", `document.querySelector("#dp-answer[data-method]") != null`)
	method := get(b, "the method", chromedp.Evaluate[string](`document.querySelector("#dp-answer").dataset.method`))
	answer := get(b, "the answer", chromedp.Text("#dp-answer"))
	if method != "id" {
		t.Fatalf("method = %q, want id; answer: %s", method, answer)
	}
	if !strings.Contains(answer, "confidence 1.00") || !strings.Contains(answer, "direct") {
		t.Errorf("the answer does not show the confidence and the visit's source: %s", answer)
	}
	shoot(b, shots, "demo-phone.png")
	b.do("send a purchase", chromedp.Click("#dp-event"))
	b.wait("the purchase's answer", `document.querySelector("#dp-event-result") != null`)
	if result := get(b, "the purchase", chromedp.Text("#dp-event-result")); !strings.Contains(result, "Converted") {
		t.Errorf("purchase: %s", result)
	}
	firstChat := "whatsapp:" + strings.TrimPrefix(firstFrom, "+")

	// A second visitor taps the same button, deletes the code and writes
	// from another number: no code, so the heuristic weighs who tapped.
	second := fmt.Sprintf("+1555%07d", time.Now().UnixNano()%10_000_000)
	b.do("a second visitor opens the shop",
		chromedp.Evaluate[chromedp.Void](`localStorage.removeItem("messtrack")`),
		chromedp.Navigate(base+"/?second"),
	)
	get(b, "the second visit's code", chromedp.Poll[string](`JSON.parse(localStorage.messtrack || "{}").code`, chromedp.WithPollingTimeout(10*time.Second)))
	b.do("tap again", chromedp.Click("#hero-wa"))
	b.wait("the phone", `!document.getElementById("demo-phone").hidden`)
	text2 := get(b, "the phone's message", chromedp.Value("#dp-text"))
	// The snippet added the code's line to the link's own text; the person
	// keeps their words and deletes the line with the code.
	noCode, _, _ := strings.Cut(text2, "\n")
	if noCode == "" || strings.Contains(noCode, "#") {
		t.Fatalf("cannot take the code out of %q", text2)
	}
	b.do("delete the code and send from another number",
		chromedp.SetValue("#dp-text", noCode),
		chromedp.SetValue("#dp-from", second),
		chromedp.Click("#dp-send"),
	)
	b.wait("the answer", `document.querySelector("#dp-answer[data-method]") != null`)
	method = get(b, "the method", chromedp.Evaluate[string](`document.querySelector("#dp-answer").dataset.method`))
	answer = get(b, "the answer", chromedp.Text("#dp-answer"))
	switch {
	case method == "heuristic":
	case method == "none" && strings.Contains(answer, "s before"):
	default:
		t.Fatalf("without the code: method %q; want heuristic, or none with candidates; answer: %s", method, answer)
	}
	t.Logf("without the code: %s", answer)
	secondChat := "whatsapp:" + strings.TrimPrefix(second, "+")

	// The dashboard: both chats are listed; the first one's card.
	b.do("sign in",
		chromedp.Navigate(base+"/dashboard/"),
		chromedp.WaitVisible(`input[name=site]`),
		chromedp.SetValue(`input[name=site]`, "demo"),
		chromedp.SendKeys(`input[name=key]`, "demo-key"),
		chromedp.Click(`form button[type=submit]`),
		chromedp.WaitVisible(`form.signout`),
		chromedp.Navigate(base+"/dashboard/chats"),
		chromedp.WaitVisible(`main`),
	)
	chats := get(b, "the chats page", chromedp.Text(`main`))
	for _, c := range []string{firstChat, secondChat} {
		if !strings.Contains(chats, strings.TrimPrefix(c, "whatsapp:")) {
			t.Errorf("the chats page does not list %s", c)
		}
	}
	b.do("open the first chat's card",
		chromedp.Navigate(base+"/dashboard/chats/"+strings.ReplaceAll(firstChat, ":", "%3A")),
		chromedp.WaitVisible(`main`),
	)
	if card := get(b, "the chat's card", chromedp.Text(`main`)); !strings.Contains(card, "id") || !strings.Contains(card, "purchase") {
		t.Errorf("the chat's card shows neither its method nor the purchase: %.400s", card)
	}
	shoot(b, shots, "chat-card.png")

	// The ads report of the seeded month fits the window.
	b.do("the ads report", chromedp.Navigate(base+"/dashboard/ads"), chromedp.WaitVisible(`table`))
	fits := get(b, "the table's width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= innerWidth &&
		[...document.querySelectorAll(".scroll")].every(s => s.scrollWidth <= s.clientWidth)`))
	if !fits {
		widths := get(b, "the widths", chromedp.Evaluate[string](`[...document.querySelectorAll(".scroll")].map(s => s.scrollWidth + "/" + s.clientWidth).join(" ") + " page " + document.documentElement.scrollWidth`))
		t.Errorf("the ads table overflows a 1280-pixel window: %s", widths)
	}
	shoot(b, shots, "ads-report.png")
}

// browse is the test's browser.
type browse struct {
	t   *testing.T
	ctx context.Context
}

func (b *browse) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// wait polls a JavaScript condition until it holds.
func (b *browse) wait(what, cond string) {
	b.t.Helper()
	get(b, what, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(15*time.Second)))
}

func get[T any](b *browse, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// chromium starts the tests' Chromium (internal/headless) in a window the
// width of the dashboard's promise.
func chromium(t *testing.T) context.Context {
	t.Helper()
	return headless.Start(t, chromedp.WindowSize(1280, 860))
}

// screenshotDir is where the README's screenshots go, from
// MESSTRACK_SCREENSHOTS (relative to the repository); "" writes none.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("MESSTRACK_SCREENSHOTS")
	if dir == "" {
		return ""
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shoot saves the viewport as name in dir, when dir is set.
func shoot(b *browse, dir, name string) {
	b.t.Helper()
	if dir == "" {
		return
	}
	png := get(b, "screenshot "+name, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
