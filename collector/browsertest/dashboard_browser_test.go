package browsertest

// Browser tests of the dashboard: a real headless Chromium signs in and
// opens the pages of a real collector on a real Redis. Every request the
// browser makes is recorded, so a test also proves that the dashboard loads
// nothing from outside the collector.

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/collector/dashboard"
)

// updateDocs copies the README's screenshots to docs/ when set.
var updateDocs = flag.Bool("update-docs", false, "copy the dashboard screenshots the README shows to docs/")

// dashShotsDir is where the browser tests leave their screenshots
// (gitignored).
const dashShotsDir = "testdata/out/dashboard"

// dashBrowser is a headless Chromium pointed at one collector.
type dashBrowser struct {
	ctx  context.Context
	base string

	mu       sync.Mutex
	requests []string
	dialogs  []string
}

// newDashBrowser starts a fresh Chromium (its own profile, no background
// network) for the collector at base.
func newDashBrowser(t *testing.T, base string) *dashBrowser {
	t.Helper()
	ctx := headlessChromium(t,
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 900),
	)
	b := &dashBrowser{ctx: ctx, base: base}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.mu.Lock()
			b.requests = append(b.requests, e.Request.URL)
			b.mu.Unlock()
		case *page.EventJavascriptDialogOpening:
			b.mu.Lock()
			b.dialogs = append(b.dialogs, e.Message)
			b.mu.Unlock()
			// Dismiss it, or the page would hang; the test fails on it.
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// run runs actions and fails the test on error.
func (b *dashBrowser) run(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, dashStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v%s", what, err, b.describe())
	}
}

// dashStepTimeout bounds one browser step, so a page that never shows what
// a test waits for fails with the page in the message rather than hanging.
const dashStepTimeout = 20 * time.Second

// describe tells where the browser is, for a failure message.
func (b *dashBrowser) describe() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	return "\nat " + loc + ":\n" + clip(html, 3000)
}

// get runs an action that answers a value.
func get[T any](t *testing.T, b *dashBrowser, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, dashStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v%s", what, err, b.describe())
	}
	return v
}

// waitLocation waits until the page's address holds part: a form was
// submitted and the browser moved on.
func (b *dashBrowser) waitLocation(t *testing.T, part string) {
	t.Helper()
	deadline := time.Now().Add(dashStepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil && strings.Contains(loc, part) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the browser never reached an address with %q%s", part, b.describe())
}

// signIn signs in through the form.
func (b *dashBrowser) signIn(t *testing.T, site, key string) {
	t.Helper()
	b.run(t, "sign in",
		chromedp.Navigate(b.base+"/dashboard/"),
		chromedp.WaitVisible(`input[name=site]`),
		chromedp.SetValue(`input[name=site]`, site),
		chromedp.SendKeys(`input[name=key]`, key),
		chromedp.Click(`form button[type=submit]`),
		chromedp.WaitVisible(`form.signout`),
	)
	h1 := get(t, b, "heading", chromedp.Text(`h1`))
	if h1 != site {
		t.Fatalf("after sign-in the page shows %q, want the site %q", h1, site)
	}
}

// screenshot saves the whole page as name.png under dashShotsDir and
// returns the file's path.
func (b *dashBrowser) screenshot(t *testing.T, name string) string {
	t.Helper()
	shot := get(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(dashShotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dashShotsDir, name+".png")
	if err := os.WriteFile(p, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// copyScreenshot copies a screenshot for the README.
func copyScreenshot(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// requireOffline fails when the browser asked for anything beyond the
// collector: no CDN, no font service, no analytics.
func (b *dashBrowser) requireOffline(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		t.Fatal("the browser made no request at all")
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, b.base+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the dashboard loaded %s from outside the collector", u)
		}
	}
}

// requireNoDialogs fails when any script opened an alert.
func (b *dashBrowser) requireNoDialogs(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Fatalf("scripts ran: dialogs %q", b.dialogs)
	}
}

// requireFitsWidth fails when the page is wider than the window, which on
// a phone means sideways scrolling of the whole page rather than of a table.
func (b *dashBrowser) requireFitsWidth(t *testing.T, what string) {
	t.Helper()
	if get(t, b, "measure "+what, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
		t.Errorf("%s: the page is wider than the window", what)
	}
}

// laptop emulates a laptop's screen (ResetViewport would keep the phone's
// width).
func laptop() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(1280, 800)
}

// phone emulates a phone-sized screen.
func phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)
}

func TestDashboardBrowserSignInAndOut(t *testing.T) {
	w := newTestWorld(t)
	b := newDashBrowser(t, w.listen(t))

	b.run(t, "open without a session", chromedp.Navigate(b.base+"/dashboard/ads"), chromedp.WaitVisible(`input[name=key]`))
	if loc := get(t, b, "location", chromedp.Location()); loc != b.base+"/dashboard/signin" {
		t.Fatalf("without a session the browser is at %s, want the sign-in form", loc)
	}
	b.screenshot(t, "signin")

	// A wrong key keeps the operator on the form with an error.
	b.run(t, "wrong key",
		chromedp.SetValue(`input[name=site]`, "demo"),
		chromedp.SendKeys(`input[name=key]`, "not-the-key"),
		chromedp.Click(`form button[type=submit]`),
		chromedp.WaitVisible(`p.error`),
	)
	if msg := get(t, b, "error", chromedp.Text(`p.error`)); !strings.Contains(msg, "wrong key") {
		t.Fatalf("error message %q", msg)
	}

	b.signIn(t, "demo", "demo-key-123")
	if get(t, b, "read cookies from script", chromedp.Evaluate[bool](`document.cookie.includes("mt_dash")`)) {
		t.Error("the session cookie is readable from scripts")
	}
	b.screenshot(t, "overview")
	b.run(t, "phone", phone(), chromedp.Reload(), chromedp.WaitVisible(`form.signout`))
	b.requireFitsWidth(t, "overview on a phone")
	b.screenshot(t, "overview-phone")
	b.run(t, "desktop", laptop())

	b.run(t, "sign out",
		chromedp.Click(`form.signout button`),
		chromedp.WaitVisible(`input[name=key]`),
		chromedp.Navigate(b.base+"/dashboard/"),
		chromedp.WaitVisible(`input[name=key]`),
	)
	if loc := get(t, b, "location", chromedp.Location()); loc != b.base+"/dashboard/signin" {
		t.Fatalf("after sign-out the dashboard opened at %s", loc)
	}
	b.requireOffline(t)
	b.requireNoDialogs(t)
}

// TestDashboardBrowserPages signs in and goes through every page against
// the reports' fixture and the matcher's chats: sorts a table, clicks
// through to a chat's card, confirms a candidate, and saves a screenshot of
// each page, on a laptop and on a phone.
func TestDashboardBrowserPages(t *testing.T) {
	w := newDashWorld(t)
	b := newDashBrowser(t, w.listen(t))
	b.signIn(t, "demo", "demo-key-123")
	conversations, _ := collectortest.GoldenAdsTotals(t)
	f := dashboard.NewNumberFormat("USD", time.UTC)

	t.Run("ads", func(t *testing.T) {
		b.run(t, "open", chromedp.Navigate(b.base+"/dashboard/ads"+collectortest.FixtureQuery()), chromedp.WaitVisible(`table.sortable tfoot`))
		totals := get(t, b, "totals", chromedp.Text(`table.sortable tfoot td:nth-child(6)`))
		if totals != f.Count(conversations) {
			t.Errorf("totals show %q conversations, the golden report %d", totals, conversations)
		}
		// Sorting by cost puts the ads without cost rows last, whatever
		// their display ("—").
		b.run(t, "sort by cost", chromedp.Click(`table.sortable thead th:nth-child(4) button`), chromedp.Click(`table.sortable thead th:nth-child(4) button`))
		costs := get(t, b, "costs", chromedp.Evaluate[[]float64](`[...document.querySelectorAll("table.sortable tbody td:nth-child(4)")].map(td => Number(td.dataset.v)).filter(Number.isFinite)`))
		for i := 1; i < len(costs); i++ {
			if costs[i] > costs[i-1] {
				t.Fatalf("costs after sorting descending: %v", costs)
			}
		}
		if len(costs) < 3 {
			t.Fatalf("only %d costs in the table", len(costs))
		}
		b.screenshot(t, "ads")
		b.run(t, "phone", phone(), chromedp.Reload(), chromedp.WaitVisible(`table.sortable tfoot`))
		b.requireFitsWidth(t, "ads on a phone")
		scrolls := get(t, b, "table scroll", chromedp.Evaluate[bool](`(() => { const s = document.querySelector(".scroll"); return s.scrollWidth > s.clientWidth })()`))
		if !scrolls {
			t.Error("on a phone the ads table does not scroll sideways in its box")
		}
		b.screenshot(t, "ads-phone")
		b.run(t, "laptop", laptop())
	})

	for _, p := range []struct{ name, path, wait string }{
		{name: "channels", path: "/dashboard/channels" + collectortest.FixtureQuery(), wait: `table.sortable tfoot`},
		{name: "pages", path: "/dashboard/pages" + collectortest.FixtureQuery(), wait: `table.sortable tfoot`},
		{name: "new-repeat", path: "/dashboard/new-repeat" + collectortest.FixtureQuery(), wait: `table.sortable tfoot`},
	} {
		t.Run(p.name, func(t *testing.T) {
			b.run(t, "open", chromedp.Navigate(b.base+p.path), chromedp.WaitVisible(p.wait))
			if rows := get(t, b, "rows", chromedp.Evaluate[int](`document.querySelectorAll("table.sortable tbody tr").length`)); rows < 2 {
				t.Errorf("%d rows", rows)
			}
			b.screenshot(t, p.name)
		})
	}

	t.Run("dynamics", func(t *testing.T) {
		b.run(t, "open", chromedp.Navigate(b.base+"/dashboard/dynamics"+collectortest.FixtureQuery()), chromedp.WaitVisible(`svg.chart`))
		b.run(t, "by week", chromedp.SetValue(`select[name=by]`, "week"), chromedp.Click(`form.filters button[type=submit]`))
		b.waitLocation(t, "by=week")
		b.run(t, "the weekly chart", chromedp.WaitVisible(`svg.chart .s1.prev polyline`))
		lines := get(t, b, "lines", chromedp.Evaluate[int](`document.querySelectorAll("svg.chart g.series polyline").length`))
		labels := get(t, b, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll("svg.chart .axis.x text")].map(t => t.textContent)`))
		if lines < 2 || len(labels) != 4 || labels[0] != "2026-W12" {
			t.Errorf("chart by week: %d lines, x labels %v", lines, labels)
		}
		width := get(t, b, "chart width", chromedp.Evaluate[float64](`document.querySelector("svg.chart").getBoundingClientRect().width`))
		if width < 300 {
			t.Errorf("the chart is drawn %v px wide", width)
		}
		b.screenshot(t, "dynamics")
		b.run(t, "phone", phone(), chromedp.Reload(), chromedp.WaitVisible(`svg.chart`))
		b.requireFitsWidth(t, "dynamics on a phone")
		b.screenshot(t, "dynamics-phone")
		b.run(t, "laptop", laptop())
	})

	t.Run("chats and a chat's card", func(t *testing.T) {
		b.run(t, "search", chromedp.Navigate(b.base+"/dashboard/chats"), chromedp.WaitVisible(`input[name=q]`),
			chromedp.SendKeys(`input[name=q]`, "Visitor A"), chromedp.Click(`form.filters button[type=submit]`))
		b.waitLocation(t, "q=Visitor+A")
		b.run(t, "results", chromedp.WaitVisible(`table.sortable tbody a`))
		if n := get(t, b, "rows", chromedp.Evaluate[int](`document.querySelectorAll("table.sortable tbody tr").length`)); n != 1 {
			t.Errorf("searching for Visitor A lists %d chats", n)
		}
		b.run(t, "all chats", chromedp.Navigate(b.base+"/dashboard/chats"), chromedp.WaitVisible(`table.sortable tbody a`))
		b.screenshot(t, "chats")
		b.run(t, "click through", chromedp.Click(`table.sortable tbody a[href="`+dashboard.ChatLink(w.matchedChat)+`"]`), chromedp.WaitVisible(`ol.history`))
		if h1 := get(t, b, "heading", chromedp.Text(`h1`)); h1 != "Visitor A" {
			t.Errorf("card heading %q", h1)
		}
		status := get(t, b, "session", chromedp.Text(`table.sortable tbody tr td:nth-child(2)`))
		if status != "converted" {
			t.Errorf("the session shows %q, want converted", status)
		}
		b.screenshot(t, "chat")
		b.run(t, "phone", phone(), chromedp.Reload(), chromedp.WaitVisible(`ol.history`))
		b.requireFitsWidth(t, "chat card on a phone")
		b.screenshot(t, "chat-phone")
		b.run(t, "laptop", laptop())
	})

	t.Run("confirm a candidate", func(t *testing.T) {
		b.run(t, "open", chromedp.Navigate(b.base+"/dashboard/unmatched"), chromedp.WaitVisible(`section.unmatched`))
		b.screenshot(t, "unmatched")
		b.run(t, "confirm", chromedp.Click(`section.unmatched form input[value="`+w.candidateVisits[1]+`"] ~ button`),
			chromedp.WaitVisible(`p.notice`))
		if loc := get(t, b, "location", chromedp.Location()); loc != b.base+dashboard.ChatLink(w.unmatchedChat)+"?confirmed=1" {
			t.Errorf("after confirming the browser is at %s", loc)
		}
		rec, err := w.probe.ChatRecord(context.Background(), "demo", w.unmatchedChat)
		if err != nil || !rec.Confirmed || rec.Visit != w.candidateVisits[1] {
			t.Fatalf("after confirming: %v %+v", err, rec)
		}
		b.screenshot(t, "confirmed")
	})

	b.requireOffline(t)
	b.requireNoDialogs(t)
	if *updateDocs {
		for _, name := range []string{"ads", "chat"} {
			copyScreenshot(t, filepath.Join(dashShotsDir, name+".png"), filepath.Join("..", "..", "docs", "dashboard-"+name+".png"))
		}
	}
}

// TestDashboardBrowserInjection opens every page that shows values from
// visitors and platforms planted with script and javascript: payloads, and
// checks in the browser that none of them ran and that each is shown as the
// text it is.
func TestDashboardBrowserInjection(t *testing.T) {
	w := newDashWorld(t)
	b := newDashBrowser(t, w.listen(t))
	b.signIn(t, "demo", "demo-key-123")
	day := "?from=2026-04-13&to=2026-04-13"
	pages := []struct {
		name, path string
		shown      []string // payloads that must appear as text
	}{
		{name: "chat card", path: dashboard.ChatLink(w.hostileChat), shown: []string{collectortest.XSSImg, collectortest.XSSCampaign, collectortest.XSSAttr, collectortest.XSSScript, collectortest.XSSJSURL, collectortest.XSSFormula}},
		{name: "chat list", path: "/dashboard/chats", shown: []string{collectortest.XSSImg, collectortest.XSSCampaign}},
		{name: "ads", path: "/dashboard/ads" + day, shown: []string{collectortest.XSSAdTitle, collectortest.XSSAdID}},
		{name: "channels", path: "/dashboard/channels" + day, shown: []string{collectortest.XSSImg}},
		{name: "pages", path: "/dashboard/pages" + day},
		{name: "dynamics", path: "/dashboard/dynamics" + day},
		{name: "unmatched", path: "/dashboard/unmatched"},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			b.run(t, "open", chromedp.Navigate(b.base+p.path), chromedp.WaitVisible(`main h1`),
				// Give an injected handler (onerror, onload) time to fire.
				chromedp.Sleep(300*time.Millisecond))
			if pwned := get(t, b, "planted", chromedp.Evaluate[string](`String(window.__pwned || "")`)); pwned != "" {
				t.Fatalf("an injected script ran: %q", pwned)
			}
			text := get(t, b, "text", chromedp.Evaluate[string](`document.querySelector("main").innerText`))
			for _, s := range p.shown {
				if !strings.Contains(text, s) {
					t.Errorf("the page does not show %q as text", s)
				}
			}
			bad := get(t, b, "links", chromedp.Evaluate[[]string](`[...document.querySelectorAll("a[href], form[action]")].map(e => e.href || e.action).filter(u => !/^https?:/i.test(u))`))
			if len(bad) > 0 {
				t.Errorf("links that are not http(s): %q", bad)
			}
			injected := get(t, b, "elements", chromedp.Evaluate[int](`document.querySelectorAll("main script, main img, main svg:not(.chart), main [onerror], main [onload]").length`))
			if injected > 0 {
				t.Errorf("%d injected elements in the page", injected)
			}
		})
	}
	b.screenshot(t, "injection-chat")
	b.requireNoDialogs(t)
	b.requireOffline(t)
}
