package browsertest

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSnippetLinkExtras runs the link_extras build in Chromium over
// testdata/plugins/extras.html: forms sent to a chat, inline onclick
// handlers, links and window.open inside same-origin iframes, and a popup
// opened empty and pointed at the chat later. Each reaches the chat with
// the visit's code in its first message and sends exactly one click
// beacon, counted by the page itself; with ?nonav the page has no
// Navigation API, as in Safari and Firefox before their 2025-2026
// releases. Nothing may reach the page as an error.
func TestSnippetLinkExtras(t *testing.T) {
	w := newBrowserWorldIn(t, "", filepath.Join("testdata", "plugins"))
	line := func(v storedVisit) string { return "Hello! My request code: " + v.Code + "\n" }

	// open loads the page, waits for the visit and for the links to be
	// rewritten, and checks the page's Navigation API is as asked.
	open := func(t *testing.T, query string) (context.Context, storedVisit) {
		t.Helper()
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/extras.html"+query))
		visit := waitVisit(t, ctx)
		poll[bool](t, ctx, `document.getElementById("onclick-btn").getAttribute("onclick").includes("%0AHello")`)
		if want := !strings.Contains(query, "nonav"); eval[bool](t, ctx, `"navigation" in window`) != want {
			t.Fatalf("Navigation API present: %v, want %v", !want, want)
		}
		return ctx, visit
	}
	// beacons reads the page's count of click beacons; if the page has
	// gone to the chat, from another page of the same origin.
	beacons := func(t *testing.T, ctx context.Context, left bool) []string {
		t.Helper()
		if left {
			// The page's own navigation to the chat may still be ending
			// (the test's chat endpoint answers it): a navigation of ours
			// that lands in it is aborted, and tried again.
			for try := 1; ; try++ {
				err := chromedp.Do(ctx, chromedp.Navigate(w.base+"/frame-widget.html"))
				if err == nil {
					break
				}
				if !errors.Is(err, chromedp.ErrPageLoad) || try == 5 {
					t.Fatalf("browser: back to the page after %d tries: %v", try, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		got := poll[[]string](t, ctx, `JSON.parse(localStorage.beacons || "[]").length && JSON.parse(localStorage.beacons)`)
		// A second beacon would follow within the same task or the next.
		time.Sleep(300 * time.Millisecond)
		return append(got[:0:0], eval[[]string](t, ctx, `JSON.parse(localStorage.beacons)`)...)
	}
	// reached checks the chat the browser opened: its prefix, the code of
	// the visit in it, and one beacon for it.
	reached := func(t *testing.T, ctx context.Context, visit storedVisit, prefix string, left bool) string {
		t.Helper()
		link := w.chats.next(t)
		if !strings.HasPrefix(link, prefix) {
			t.Errorf("chat opened as %s, want %s…", link, prefix)
		}
		if got, want := w.decodeLink(t, "extras", link), w.visitNumber(t, "extras", visit.Visit); got != want {
			t.Errorf("%s decodes to visit %d, want %d", link, got, want)
		}
		if got := beacons(t, ctx, left); len(got) != 1 || got[0] != link {
			t.Errorf("beacons %q, want one for %s", got, link)
		}
		return link
	}
	noErrors := func(t *testing.T, ctx context.Context) {
		t.Helper()
		if errs := eval[[]string](t, ctx, `errors`); len(errs) > 0 {
			t.Errorf("the page saw errors: %q", errs)
		}
	}
	// clickInFrame clicks the element with the id inside the iframe with
	// the id, where a person would.
	clickInFrame := func(t *testing.T, ctx context.Context, frame, id string) {
		t.Helper()
		xy := poll[[]float64](t, ctx, `(() => {
			const f = document.getElementById("`+frame+`"), el = f.contentDocument && f.contentDocument.getElementById("`+id+`");
			if (!el) return null;
			const a = f.getBoundingClientRect(), b = el.getBoundingClientRect();
			return [a.x + f.clientLeft + b.x + b.width / 2, a.y + f.clientTop + b.y + b.height / 2];
		})()`)
		do(t, ctx, chromedp.MouseClickXY(xy[0], xy[1]))
	}

	t.Run("a GET form to api.whatsapp.com in a new tab", func(t *testing.T) {
		ctx, visit := open(t, "")
		do(t, ctx, clickID("form-wa-send"))
		link := reached(t, ctx, visit, "https://api.whatsapp.com/send?phone=15551234567&text=", false)
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		if text := u.Query().Get("text"); text != "I'd like a bouquet for Friday\n"+line(visit) {
			t.Errorf("text = %q, want the visitor's words, then the code", text)
		}
		noErrors(t, ctx)
	})

	t.Run("a form whose action is a bot's link", func(t *testing.T) {
		ctx, visit := open(t, "")
		do(t, ctx, clickID("form-bot-send"))
		if link := reached(t, ctx, visit, "https://t.me/demo_bot?start=", false); !strings.HasSuffix(link, "start="+visit.Start) {
			t.Errorf("bot form opened %s, want start=%s", link, visit.Start)
		}
		noErrors(t, ctx)
	})

	t.Run("a form to the chat in this window, without the Navigation API", func(t *testing.T) {
		ctx, visit := open(t, "?nonav")
		do(t, ctx, clickID("form-self-send"))
		reached(t, ctx, visit, "https://wa.me/15551234567?text=Call%20me%20back%0AHello", true)
	})

	t.Run("a form with a field named action is left to the browser", func(t *testing.T) {
		ctx, _ := open(t, "")
		do(t, ctx, clickID("form-odd-send"))
		// The new tab loads the page itself; nothing of it is a chat.
		time.Sleep(300 * time.Millisecond)
		noErrors(t, ctx)
		if n := eval[int](t, ctx, `JSON.parse(localStorage.beacons || "[]").length`); n != 0 {
			t.Errorf("%d beacons for a form that is not a chat's", n)
		}
	})

	for _, query := range []string{"?nonav", ""} {
		t.Run("inline onclick on a button"+query, func(t *testing.T) {
			ctx, visit := open(t, query)
			do(t, ctx, clickID("onclick-btn"))
			reached(t, ctx, visit, "https://wa.me/15551234567?text=Hi%20there%0AHello", true)
		})
		t.Run("inline onclick on <a href=#> that returns false"+query, func(t *testing.T) {
			ctx, visit := open(t, query)
			do(t, ctx, clickID("onclick-a"))
			reached(t, ctx, visit, "https://t.me/demo_manager?text=Hello", true)
		})
	}

	t.Run("a link in a same-origin iframe", func(t *testing.T) {
		ctx, visit := open(t, "")
		rewritten := poll[string](t, ctx, `(() => { const a = document.getElementById("widget-frame").contentDocument?.getElementById("frame-link");
			return a && a.href.includes("%0AHello") && a.href; })()`)
		clickInFrame(t, ctx, "widget-frame", "frame-link")
		if link := reached(t, ctx, visit, "https://wa.me/15551234567?text=From%20the%20frame%0AHello", false); link != rewritten {
			t.Errorf("chat opened as %s, the frame's link reads %s", link, rewritten)
		}
		noErrors(t, ctx)
	})

	t.Run("window.open in a same-origin iframe", func(t *testing.T) {
		ctx, visit := open(t, "")
		clickInFrame(t, ctx, "widget-frame", "frame-open")
		reached(t, ctx, visit, "https://t.me/demo_manager?text=From%20the%20frame%20widget%0AHello", false)
		noErrors(t, ctx)
	})

	t.Run("a link a script wrote into an empty iframe", func(t *testing.T) {
		ctx, visit := open(t, "")
		clickInFrame(t, ctx, "written-frame", "written-link")
		reached(t, ctx, visit, "https://wa.me/15551234567?text=From%20the%20bubble%0AHello", false)
		noErrors(t, ctx)
	})

	t.Run("a popup opened empty and pointed at the chat later", func(t *testing.T) {
		ctx, visit := open(t, "")
		do(t, ctx, clickID("popup-later"))
		reached(t, ctx, visit, "https://wa.me/15551234567?text=From%20a%20popup%0AHello", false)
		if !eval[bool](t, ctx, `window.popupOpen`) {
			t.Error("the page could not use its empty popup (closed, document) through the snippet")
		}
		noErrors(t, ctx)
	})

	t.Run("a popup with window features is the window itself", func(t *testing.T) {
		ctx, _ := open(t, "")
		do(t, ctx, clickID("popup-features"))
		if !poll[bool](t, ctx, `window.sameWindow !== undefined`) || !eval[bool](t, ctx, `window.sameWindow`) {
			t.Error("the page got a stand-in for a sign-in window")
		}
		noErrors(t, ctx)
	})

	t.Run("a submit event sent to something that is not a form", func(t *testing.T) {
		ctx, _ := open(t, "")
		if got := eval[string](t, ctx, `(() => {
			try { document.body.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true })); return "sent"; }
			catch (e) { return "threw " + e; }
		})()`); got != "sent" {
			t.Errorf("dispatch: %s", got)
		}
		time.Sleep(100 * time.Millisecond)
		noErrors(t, ctx)
	})

	t.Run("a sandboxed frame: no storage, no visit, a blocked popup", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/sandbox.html"))
		said := poll[struct {
			Open   string   `json:"open"`
			Loaded bool     `json:"loaded"`
			Errors []string `json:"errors"`
		}](t, ctx, `window.frameSaid`)
		if !said.Loaded || said.Open != "null" || len(said.Errors) > 0 {
			t.Errorf("the sandboxed page saw: snippet loaded %v, open() gave %s, errors %q; want loaded, null, none", said.Loaded, said.Open, said.Errors)
		}
	})

	t.Run("a page that enforces Trusted Types keeps its handler and sees no error", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/trusted-types.html"))
		visit := waitVisit(t, ctx)
		poll[bool](t, ctx, `document.getElementById("plain").href.includes("text=Hello")`)
		if got := eval[string](t, ctx, `document.getElementById("onclick-btn").getAttribute("onclick")`); got != "location.href='https://wa.me/15551234567?text=Strict'" {
			t.Errorf("handler changed under Trusted Types: %s", got)
		}
		noErrors(t, ctx)
		// The navigation it makes still gets the code, from the Navigation API.
		do(t, ctx, clickID("onclick-btn"))
		link := w.chats.next(t)
		if !strings.HasPrefix(link, "https://wa.me/15551234567?text=Strict%0AHello") || w.decodeLink(t, "extras", link) != w.visitNumber(t, "extras", visit.Visit) {
			t.Errorf("chat opened as %s, want the code of visit %s", link, visit.Visit)
		}
	})

	t.Run("without link_extras, forms and inline handlers stay as written", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/extras.html?site=demo"))
		waitVisit(t, ctx)
		poll[bool](t, ctx, `document.readyState == "complete"`)
		if got := eval[string](t, ctx, `document.getElementById("onclick-btn").getAttribute("onclick")`); got != "location.href='https://wa.me/15551234567?text=Hi%20there'" {
			t.Errorf("default build changed an inline handler: %s", got)
		}
		do(t, ctx, clickID("form-bot-send"))
		if link := w.chats.next(t); link != "https://t.me/demo_bot?" && link != "https://t.me/demo_bot" {
			t.Errorf("default build sent the bot form as %s", link)
		}
	})
}
