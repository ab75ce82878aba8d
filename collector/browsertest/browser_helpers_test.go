package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/internal/headless"
)

// headlessChromium starts the tests' Chromium (internal/headless).
func headlessChromium(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return headless.Start(t, extra...)
}

// clip shortens s to n bytes for a failure message.
func clip(s string, n int) string { return httperr.Clip(s, n) }
