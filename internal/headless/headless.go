// Package headless starts Debian's Chromium for the project's browser tests:
// headless, with a fresh profile, none of its own background traffic (these
// machines reach no outside host) and an ordinary desktop user agent, since
// the collector drops HeadlessChrome as a bot. It fails a test whose machine
// has no Chromium, naming what to install; it never skips.
package headless

import (
	"context"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// UserAgent is an ordinary desktop Chromium's user agent, the one the tests'
// browser sends.
const UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

// Start starts Chromium with the extra options a test needs and stops it
// when the test ends; the context it returns drives the browser.
func Start(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is needed for the browser tests (make deps, or apt-get install chromium): %v", err)
	}
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.UserAgent(UserAgent),
	}, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(browser); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return browser
}
