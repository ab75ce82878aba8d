package browsertest

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSnippetPluginMarkup runs the snippet in Chromium over the markup that
// site builders and chat-button plugins write (testdata/plugins): www.
// hosts, the Android intent form, image maps, SVG links, a Mini App link,
// a plugin that appends its own text to the link, one that opens its link
// from script in the same window, and a widget inside an open shadow root.
func TestSnippetPluginMarkup(t *testing.T) {
	w := newBrowserWorldIn(t, "", filepath.Join("testdata", "plugins"))

	// links reads the page's chat links as the browser resolves them.
	links := func(t *testing.T, ctx context.Context) map[string]string {
		t.Helper()
		poll[bool](t, ctx, `document.getElementById("tilda-wa").href.includes("text=")`)
		return eval[map[string]string](t, ctx, `Object.fromEntries(["wp-float", "elementor-btn", "tilda-wa", "wix-tg",
			"shopify-intent", "map-area", "svg-link", "mini-app"].map((id) => {
			const el = document.getElementById(id);
			return [id, el.href.baseVal ?? el.href];
		}))`)
	}

	t.Run("every form carries the code", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/plugins.html"))
		visit := waitVisit(t, ctx)
		n := w.visitNumber(t, "demo", visit.Visit)
		got := links(t, ctx)
		for _, id := range []string{"wp-float", "elementor-btn", "tilda-wa", "wix-tg", "shopify-intent", "map-area", "svg-link"} {
			if got := w.decodeLink(t, "demo", got[id]); got != n {
				t.Errorf("%s: decodes to visit %d, want %d", id, got, n)
			}
		}
		for id, prefix := range map[string]string{
			"tilda-wa":       "https://www.wa.me/15551234567?text=Hello",
			"wix-tg":         "https://www.t.me/demo_manager?text=Hello",
			"elementor-btn":  "https://api.whatsapp.com/send?phone=+15551234567&text=I%27d%20like%20to%20order%0AHello",
			"shopify-intent": "intent://send/15551234567?text=Hello",
			"svg-link":       "https://t.me/demo_bot?start=",
		} {
			if !strings.HasPrefix(got[id], prefix) {
				t.Errorf("%s = %s, want %s…", id, got[id], prefix)
			}
		}
		if !strings.HasSuffix(got["shopify-intent"], "#Intent;scheme=whatsapp;package=com.whatsapp;end") {
			t.Errorf("intent link lost its fragment: %s", got["shopify-intent"])
		}
		// The Mini App decides by the first of start and startapp; the link
		// stays as written so that the app opens.
		if got["mini-app"] != "https://t.me/demo_bot?startapp=catalog" {
			t.Errorf("Mini App link changed: %s", got["mini-app"])
		}
	})

	t.Run("text a plugin appends does not run into the code", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/plugins.html"))
		visit := waitVisit(t, ctx)
		poll[bool](t, ctx, `document.getElementById("glue").href.includes("%0A")`)
		do(t, ctx, clickID("glue"))
		link := w.chats.next(t)
		if got, want := w.decodeLink(t, "demo", link), w.visitNumber(t, "demo", visit.Visit); got != want {
			t.Errorf("%s decodes to %d, want %d", link, got, want)
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		if text := u.Query().Get("text"); text != "Hello! My request code: "+visit.Code+"\nIs the sofa in stock?" {
			t.Errorf("text = %q", text)
		}
	})

	t.Run("a link in an open shadow root opens with the code and one beacon", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/plugins.html"))
		visit := waitVisit(t, ctx)
		poll[bool](t, ctx, `document.getElementById("tilda-wa").href.includes("text=")`)
		box := eval[[]float64](t, ctx, `(() => { const r = document.getElementById("widget").shadowRoot
			.getElementById("shadow-link").getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
		do(t, ctx, chromedp.MouseClickXY(box[0], box[1]))
		link := w.chats.next(t)
		if got, want := w.decodeLink(t, "demo", link), w.visitNumber(t, "demo", visit.Visit); got != want {
			t.Errorf("%s decodes to %d, want %d", link, got, want)
		}
		if beacons := poll[[]string](t, ctx, `beacons.length && beacons`); len(beacons) != 1 || beacons[0] != link {
			t.Errorf("beacons %q, want one for %s", beacons, link)
		}
	})

	t.Run("a plugin's window.open(href, '_self') sends one beacon", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/plugins.html"))
		waitVisit(t, ctx)
		poll[bool](t, ctx, `document.getElementById("self-open").href.includes("%0A")`)
		// Keeps the window on the page, after the snippet has seen the
		// navigation, so the page's count can be read.
		eval[bool](t, ctx, `navigation.addEventListener("navigate", (e) => { window.went = e.destination.url; e.preventDefault(); }) || true`)
		do(t, ctx, clickID("self-open"))
		went := poll[string](t, ctx, `window.went`)
		time.Sleep(300 * time.Millisecond)
		beacons := eval[[]string](t, ctx, `beacons`)
		if len(beacons) != 1 || beacons[0] != went {
			t.Errorf("beacons %q, want one for %s", beacons, went)
		}
	})
}
