package collector

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
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
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

// signIn signs in through the form.
func (b *dashBrowser) signIn(t *testing.T, site, key string) {
	t.Helper()
	b.run(t, "sign in",
		chromedp.Navigate(b.base+"/dashboard/"),
		chromedp.WaitVisible(`select[name=site]`),
		chromedp.SetValue(`select[name=site]`, site),
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
	png := get(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(dashShotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dashShotsDir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
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
		chromedp.SetValue(`select[name=site]`, "demo"),
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
	b.run(t, "desktop", chromedp.ResetViewport())

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
