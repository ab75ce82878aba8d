package browsertest

// Browser tests of the snippet's desktop QR: a real headless Chromium loads a
// page with QR placeholders from a real collector, renders the QR images the
// collector draws, and the screenshots of those images are read back with a
// QR reader, so the test sees what a phone's camera would.

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/collector/qr/qrtest"
)

// qrBrowserYAML is the demo site with desktop_qr on, serving qrPageHTML.
const qrBrowserYAML = `
public_url: %[1]s
static_dir: %[2]s
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    origins: [%[1]s]
    message: "Hello! My request code: {id}"
    desktop_qr: true
    whatsapp:
      - number: "15551234567"
    telegram:
      bots: [demo_bot]
      users: [demo_manager]
    sources:
      billboard: {channel: offline, dedicated_number: "15557654321"}
`

// qrPageHTML has one placeholder of each kind: an element with a target, an
// element holding a chat link, a page's own <img>, and an element made a
// placeholder by a messtrack('qr') call queued before the script loaded.
const qrPageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Write to us</title>
<style>img { width: 240px; height: 240px; display: block; margin: 8px }</style>
<script>window.messtrack=window.messtrack||function(){(messtrack.q=messtrack.q||[]).push(arguments)}</script>
<script async src="/s/demo.js"></script>
</head><body>
<a id="wa" href="https://wa.me/15551234567">Write to us on WhatsApp</a>
<div id="qr-target" data-messtrack-qr="whatsapp:15551234567"><p>Scan with your phone:</p></div>
<div id="qr-link" data-messtrack-qr><a href="https://t.me/demo_bot">Our Telegram bot</a></div>
<img id="qr-img" data-messtrack-qr="telegram:demo_manager" alt="Scan to write to our manager">
<div id="qr-call"></div>
<script>messtrack('qr', document.getElementById('qr-call'), 'whatsapp:+1 555 765 4321')</script>
</body></html>
`

// newQRBrowserWorld serves qrPageHTML from a collector with desktop_qr on and
// starts a headless Chromium.
func newQRBrowserWorld(t *testing.T) *browserWorld {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "qr.html"), []byte(qrPageHTML), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	w := &browserWorld{
		testWorld: newTestWorld(t, fmt.Sprintf(qrBrowserYAML, base, dir)),
		base:      base,
		chats:     newChatRecorder(t),
	}
	// The browser compares the visit's expiry with its own clock.
	w.clock.Set(time.Now())
	w.serveOn(t, ln)
	w.browser = newBrowser(t, w.chats)
	return w
}

// screenshotQR waits until the placeholder's image has loaded, then reads
// the QR code in a screenshot of it.
func screenshotQR(t *testing.T, ctx context.Context, imgSelector string) string {
	t.Helper()
	poll[bool](t, ctx, fmt.Sprintf(`(() => { const i = document.querySelector(%q); return !!(i && i.complete && i.naturalWidth > 0) })()`, imgSelector))
	shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(imgSelector)))
	if err != nil {
		t.Fatalf("screenshot %s: %v", imgSelector, err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot %s: %v", imgSelector, err)
	}
	return qrtest.Decode(t, img)
}

func TestDesktopQRInBrowser(t *testing.T) {
	w := newQRBrowserWorld(t)
	st := w.codec(t, "demo")

	t.Run("desktop", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/qr.html"))
		visit := waitVisit(t, ctx)
		n := w.visitNumber(t, "demo", visit.Visit)
		tests := []struct {
			name     string
			img      string
			wantLink string
		}{
			{name: "element with a target", img: "#qr-target img", wantLink: "https://wa.me/15551234567?text=Hello%21%20My%20request%20code%3A%20"},
			{name: "element holding a chat link", img: "#qr-link img", wantLink: "https://t.me/demo_bot?start=" + st.Start(n)},
			{name: "the page's own img", img: "#qr-img", wantLink: "https://t.me/demo_manager?text=Hello%21%20My%20request%20code%3A%20"},
			{name: "queued messtrack('qr') call", img: "#qr-call img", wantLink: "https://wa.me/15557654321?text="},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				link := screenshotQR(t, ctx, tt.img)
				if !strings.HasPrefix(link, tt.wantLink) {
					t.Fatalf("QR on the page holds %q, want a link starting %q", link, tt.wantLink)
				}
				if got := collectortest.LinkVisit(t, st, link); got != n {
					t.Errorf("QR carries visit %d, want the page's visit %d (%s)", got, n, visit.Visit)
				}
			})
		}
		if got := eval[int](t, ctx, `document.querySelectorAll("#qr-target img, #qr-link img, #qr-call img").length`); got != 3 {
			t.Errorf("%d images appended to 3 placeholders", got)
		}
		if alt := eval[string](t, ctx, `document.getElementById("qr-img").alt`); alt != "Scan to write to our manager" {
			t.Errorf("the page's alt text became %q", alt)
		}
		t.Run("placeholder added later", func(t *testing.T) {
			do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
				const el = document.createElement("div");
				el.id = "qr-late";
				el.dataset.messtrackQr = "telegram:demo_bot";
				document.body.append(el);
			})()`))
			link := screenshotQR(t, ctx, "#qr-late img")
			if got := collectortest.LinkVisit(t, st, link); got != n || !strings.HasPrefix(link, "https://t.me/demo_bot?start=") {
				t.Errorf("late placeholder's QR holds %q (visit %d), want the bot with visit %d", link, got, n)
			}
		})
	})

	t.Run("phone shows no QR", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			_, err := cdp.Call(ctx, target, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 5})
			return err
		}), chromedp.Navigate(w.base+"/qr.html"))
		visit := waitVisit(t, ctx)
		if coarse := eval[bool](t, ctx, `matchMedia("(pointer:coarse)").matches`); !coarse {
			t.Fatal("touch emulation gave no coarse pointer: the test cannot play a phone")
		}
		// The links get the code, so the snippet ran with the visit.
		poll[bool](t, ctx, fmt.Sprintf(`document.getElementById("wa").href.includes(%q)`, "text="))
		if got := eval[int](t, ctx, `document.querySelectorAll("[data-messtrack-qr] img").length + (document.getElementById("qr-img").src ? 1 : 0)`); got != 0 {
			t.Errorf("a phone got %d QR images (visit %s)", got, visit.Visit)
		}
	})
}
