package browsertest

import (
	"context"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/messtrack/messtrack/collector/httperr"
)

// headlessChromium starts Debian's Chromium headless with a fresh profile
// and none of its background traffic (this machine reaches no outside host),
// with the extra options a test needs, and stops it when the test ends. It
// fails with the reason when Chromium is missing; it never skips.
func headlessChromium(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
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
		// Headless Chromium names itself HeadlessChrome, which the collector
		// drops as a bot; the tests play a visitor's ordinary browser.
		chromedp.UserAgent(browserUserAgent),
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

// browserUserAgent is an ordinary desktop Chromium's user agent.
const browserUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

// clip shortens s to n bytes for a failure message.
func clip(s string, n int) string { return httperr.Clip(s, n) }
