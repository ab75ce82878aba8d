package browsertest

// Browser tests of the snippet: a real headless Chromium loads the demo
// pages in examples/site from a real collector on a real Redis. The chat
// platforms are stood in for by a local TLS server that the browser reaches
// under their real host names (host-resolver-rules), so every navigation to
// a chat is seen exactly as the browser made it, and nothing leaves the
// machine.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/messtrack/messtrack/store"
)

// chatHosts are the chat platforms' hosts the browser is sent to the fake.
var chatHosts = []string{"wa.me", "www.wa.me", "api.whatsapp.com", "web.whatsapp.com", "t.me", "www.t.me", "telegram.me", "telegram.dog"}

// browserSiteYAML is the config of the browser tests: the demo site, the
// same chats with link_extras on, and a site that needs consent, all served
// to pages from the collector itself.
const browserSiteYAML = `
public_url: %[1]s
static_dir: %[2]s
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    origins: [%[3]s]
    message: "Hello! My request code: {id}"
    whatsapp:
      - number: "15551234567"
    telegram:
      bots: [demo_bot]
      users: [demo_manager]
  extras:
    api_key: extras-key-789
    id_secret: extras-secret-0123456789
    origins: [%[3]s]
    link_extras: true
    message: "Hello! My request code: {id}"
    whatsapp:
      - number: "15551234567"
    telegram:
      bots: [demo_bot]
      users: [demo_manager]
  private:
    api_key: private-key-456
    id_secret: private-secret-0123456789
    origins: [%[3]s]
    consent_required: true
    message: "Order {id}"
    whatsapp:
      - number: "15551234567"
`

// chatRecorder is the stand-in for the chat platforms: it records every
// request the browser sends to them.
type chatRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string
	got  chan string
}

func newChatRecorder(t testing.TB) *chatRecorder {
	t.Helper()
	rec := &chatRecorder{got: make(chan string, 64)}
	rec.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		u := "https://" + r.Host + r.URL.RequestURI()
		rec.mu.Lock()
		rec.seen = append(rec.seen, u)
		rec.mu.Unlock()
		rec.got <- u
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>chat</title><p>the chat opens here</p>")
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// next waits for the browser's next request to a chat platform.
func (rec *chatRecorder) next(t *testing.T) string {
	t.Helper()
	select {
	case u := <-rec.got:
		return u
	case <-time.After(15 * time.Second):
		t.Fatal("the browser never reached the chat")
		return ""
	}
}

// browserWorld is a collector serving examples/site, with the browser that
// visits it.
type browserWorld struct {
	*testWorld
	base    string
	browser context.Context
	chats   *chatRecorder
}

// newBrowserWorld starts a collector whose snippet talks to publicURL
// (empty: the collector itself) and a headless Chromium.
func newBrowserWorld(t *testing.T, publicURL string) *browserWorld {
	t.Helper()
	return newBrowserWorldIn(t, publicURL, filepath.Join("..", "..", "examples", "site"))
}

// newBrowserWorldIn is newBrowserWorld serving the pages in dir.
func newBrowserWorldIn(t *testing.T, publicURL, dir string) *browserWorld {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if publicURL == "" {
		publicURL = base
	}
	site, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := &browserWorld{
		testWorld: newTestWorld(t, fmt.Sprintf(browserSiteYAML, publicURL, site, base)),
		base:      base,
		chats:     newChatRecorder(t),
	}
	// The browser compares the visit's expiry with its own clock.
	w.clock.Set(time.Now())
	w.serveOn(t, ln)
	w.browser = newBrowser(t, w.chats)
	return w
}

// newBrowser starts a headless Chromium with a fresh profile that reaches
// the chat platforms' hosts at rec and no other outside host.
func newBrowser(t testing.TB, rec *chatRecorder) context.Context {
	t.Helper()
	port := rec.srv.Listener.Addr().(*net.TCPAddr).Port
	var rules []string
	for _, h := range chatHosts {
		rules = append(rules, fmt.Sprintf("MAP %s 127.0.0.1:%d", h, port))
	}
	rules = append(rules, "MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1")
	browser := headlessChromium(t,
		chromedp.Flag("host-resolver-rules", strings.Join(rules, ", ")),
		// The stand-in's certificate is its own; only it is reachable.
		chromedp.Flag("ignore-certificate-errors", true),
	)
	return browser
}

// tab opens a tab in a browser context of its own, so its storage starts
// empty.
func (w *browserWorld) tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(w.browser, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	return ctx
}

// do runs browser steps or fails the test.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// poll waits until expr is truthy in the page and returns its value.
func poll[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
	return v
}

// eval evaluates expr in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// clickID clicks the element with the id.
func clickID(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.ID(id))
}

// clickIDWith clicks the element with the id as the options say: another
// button, modifier keys held.
func clickIDWith(id string, opts ...chromedp.MouseOption) chromedp.Action[chromedp.Void] {
	return chromedp.QueryAfter(chromedp.ID(id), func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (chromedp.Void, error) {
		if len(nodes) == 0 {
			return chromedp.Void{}, fmt.Errorf("click #%s: no such element", id)
		}
		return chromedp.MouseClickNode(nodes[0], opts...)(ctx, t)
	}, chromedp.NodeVisible)
}

// storedVisit is what the snippet keeps in localStorage.
type storedVisit struct {
	Visit   string `json:"visit"`
	Code    string `json:"code"`
	Start   string `json:"start"`
	Expires string `json:"expires"`
	Visitor string `json:"visitor"`
}

// waitVisit waits until the page's snippet has a visit and returns it.
func waitVisit(t *testing.T, ctx context.Context) storedVisit {
	t.Helper()
	raw := poll[string](t, ctx, `localStorage.messtrack && JSON.parse(localStorage.messtrack).visit && localStorage.messtrack`)
	var v storedVisit
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("stored visit %s: %v", raw, err)
	}
	return v
}

// waitLoaded waits until the snippet has run on the page.
func waitLoaded(t *testing.T, ctx context.Context) {
	t.Helper()
	poll[bool](t, ctx, `!!(window.messtrack && window.messtrack.loaded)`)
}

// hrefs reads every link with an id as the browser resolves it.
func hrefs(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	return eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("a[id]")].map(a => [a.id, a.href]))`)
}

// originalHrefs loads page with scripts disabled: the links as written.
func (w *browserWorld) originalHrefs(t *testing.T, page string) map[string]string {
	t.Helper()
	ctx := w.tab(t)
	do(t, ctx, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}), chromedp.Navigate(w.base+page))
	return hrefs(t, ctx)
}

// visitNumber is the number behind a visit ID the snippet was given.
func (w *browserWorld) visitNumber(t *testing.T, site, visitID string) uint64 {
	t.Helper()
	n, err := w.codec(t, site).ParseVisitID(visitID)
	if err != nil {
		t.Fatalf("visit ID %q: %v", visitID, err)
	}
	return n
}

// decodeLink finds the visit a rewritten chat link carries: the code in
// its prefilled text, or its Telegram start payload.
func (w *browserWorld) decodeLink(t *testing.T, site, link string) uint64 {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	codec := w.codec(t, site)
	q := u.Query()
	if start := q.Get("start"); start != "" {
		n, err := codec.ParseStart(start)
		if err != nil {
			t.Fatalf("start payload of %s: %v", link, err)
		}
		return n
	}
	found := codec.Find(q.Get("text"))
	if len(found) != 1 {
		t.Fatalf("text of %s holds %d codes, want 1", link, len(found))
	}
	return found[0].N
}

// TestSnippetInBrowser runs the snippet in Chromium against the demo pages.
func TestSnippetInBrowser(t *testing.T) {
	w := newBrowserWorld(t, "")

	t.Run("every link form", func(t *testing.T) {
		original := w.originalHrefs(t, "/links.html")
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/links.html?utm_source=test&utm_medium=cpc&gclid=abc123"))
		visit := waitVisit(t, ctx)
		n := w.visitNumber(t, "demo", visit.Visit)
		// Links are rewritten right after the visit is stored.
		poll[bool](t, ctx, `document.getElementById("wa-plain").href.includes("text=")`)
		got := hrefs(t, ctx)

		// The line ends with a line break, which text a page appends cannot join.
		line := "Hello! My request code: " + visit.Code + "\n"
		tests := []struct {
			id       string
			host     string
			path     string
			text     string // the prefilled text after rewriting; "" for bots
			keep     map[string]string
			hasStart bool
		}{
			{id: "wa-plain", host: "wa.me", path: "/15551234567", text: line},
			{id: "wa-text", host: "wa.me", path: "/15551234567", text: "Roses + tulips & a card #gift 100%\nthanks\n" + line},
			{id: "wa-slash", host: "wa.me", path: "/15551234567/", text: line},
			{id: "wa-api", host: "api.whatsapp.com", path: "/send", text: "Hello there\n" + line, keep: map[string]string{"phone": "15551234567"}},
			{id: "wa-api-slash", host: "api.whatsapp.com", path: "/send/", text: "Hi\n" + line,
				keep: map[string]string{"phone": "15551234567", "type": "phone_number", "app_absent": "0"}},
			{id: "wa-formatted", host: "api.whatsapp.com", path: "/send", text: line, keep: map[string]string{"phone": "+1 (555) 123-4567"}},
			{id: "wa-web", host: "web.whatsapp.com", path: "/send", text: line, keep: map[string]string{"phone": "15551234567"}},
			{id: "wa-app", host: "send", text: "Hi\n" + line, keep: map[string]string{"phone": "15551234567"}},
			{id: "tg-bot", host: "t.me", path: "/demo_bot", hasStart: true},
			{id: "tg-bot-start", host: "t.me", path: "/demo_bot", hasStart: true},
			{id: "tg-bot-case", host: "telegram.me", path: "/Demo_Bot", hasStart: true},
			{id: "tg-bot-dog", host: "telegram.dog", path: "/demo_bot", hasStart: true},
			{id: "tg-resolve-bot", host: "resolve", hasStart: true, keep: map[string]string{"domain": "demo_bot"}},
			{id: "tg-user", host: "t.me", path: "/demo_manager", text: line},
			{id: "tg-user-text", host: "t.me", path: "/demo_manager", text: "Hi there\n" + line},
			{id: "tg-resolve-user", host: "resolve", text: "Hello\n" + line, keep: map[string]string{"domain": "Demo_Manager"}},
		}
		for _, tt := range tests {
			t.Run(tt.id, func(t *testing.T) {
				link := got[tt.id]
				u, err := url.Parse(link)
				if err != nil {
					t.Fatalf("%s: %v", link, err)
				}
				if u.Host != tt.host || (tt.path != "" && u.Path != tt.path) {
					t.Errorf("%s: host/path changed from %s", link, original[tt.id])
				}
				if strings.Contains(u.RawQuery, "+") {
					t.Errorf("%s: raw + in the query reads as a space", link)
				}
				q := u.Query()
				if tt.hasStart {
					if q.Get("start") != visit.Start {
						t.Errorf("%s: start = %q, want %q", link, q.Get("start"), visit.Start)
					}
				} else if q.Get("text") != tt.text {
					t.Errorf("%s: text = %q, want %q", link, q.Get("text"), tt.text)
				}
				for k, v := range tt.keep {
					if q.Get(k) != v {
						t.Errorf("%s: %s = %q, want %q kept", link, k, q.Get(k), v)
					}
				}
				if got := w.decodeLink(t, "demo", link); got != n {
					t.Errorf("%s decodes to visit %d, want %d", link, got, n)
				}
			})
		}

		for id, href := range original {
			if strings.HasPrefix(id, "f-") && got[id] != href {
				t.Errorf("foreign link %s changed: %s -> %s", id, href, got[id])
			}
		}
		if len(original) < 25 {
			t.Errorf("read only %d links from links.html", len(original))
		}

		stored, err := w.probe.LoadVisit(context.Background(), "demo", n)
		if err != nil {
			t.Fatalf("load visit: %v", err)
		}
		if !strings.Contains(stored.Landing, "gclid=abc123") || stored.Screen == "" || stored.Language == "" || stored.TimeZone == "" || stored.VisitorID != visit.Visitor {
			t.Errorf("registered visit lacks the page's facts: %+v", stored)
		}
	})

	t.Run("click on a link reaches the chat with the code and sends a beacon", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/links.html"))
		visit := waitVisit(t, ctx)
		n := w.visitNumber(t, "demo", visit.Visit)
		poll[bool](t, ctx, `document.getElementById("wa-text").href.includes("%0AHello")`)
		do(t, ctx, clickID("wa-text"))
		link := w.chats.next(t)
		if !strings.HasPrefix(link, "https://wa.me/15551234567?text=") || w.decodeLink(t, "demo", link) != n {
			t.Errorf("chat opened as %s, want wa.me with visit %d", link, n)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			clicks, err := w.probe.RecentClicks(context.Background(), "demo", "whatsapp:15551234567", w.clock.Now().Add(-time.Hour), w.clock.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(clicks) > 0 && clicks[0].N == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no click beacon for visit %d: %+v", n, clicks)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("links added or changed later", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/links.html"))
		visit := waitVisit(t, ctx)
		n := w.visitNumber(t, "demo", visit.Visit)
		do(t, ctx, clickID("add-link"), clickID("change-link"))
		added := poll[string](t, ctx, `document.getElementById("dyn-wa")?.href.includes("%0AHello") && document.getElementById("dyn-wa").href`)
		changed := poll[string](t, ctx, `document.getElementById("changing").href.includes("%0AHello") && document.getElementById("changing").href`)
		for _, link := range []string{added, changed} {
			if got := w.decodeLink(t, "demo", link); got != n {
				t.Errorf("%s decodes to visit %d, want %d", link, got, n)
			}
		}
		if !strings.Contains(changed, "text=Changed%0AHello") {
			t.Errorf("changed link %s lost its own text", changed)
		}
	})

	t.Run("window.open and location", func(t *testing.T) {
		tests := []struct {
			button string
			prefix string
			coded  bool
		}{
			{button: "open-wa", prefix: "https://wa.me/15551234567?text=From%20a%20widget%0AHello", coded: true},
			{button: "open-other", prefix: "https://wa.me/15550001111?text=Other", coded: false},
			{button: "go-href", prefix: "https://t.me/demo_manager?text=Hi%20from%20script%0AHello", coded: true},
			{button: "go-assign", prefix: "https://wa.me/15551234567?text=Assigned%0AHello", coded: true},
			{button: "go-replace", prefix: "https://t.me/demo_bot?start=", coded: true},
		}
		for _, tt := range tests {
			t.Run(tt.button, func(t *testing.T) {
				// A tab of its own: the previous case's navigation to the
				// chat may still be settling and would abort this load.
				ctx := w.tab(t)
				do(t, ctx, chromedp.Navigate(w.base+"/links.html"))
				visit := waitVisit(t, ctx)
				n := w.visitNumber(t, "demo", visit.Visit)
				do(t, ctx, clickID(tt.button))
				link := w.chats.next(t)
				if !strings.HasPrefix(link, tt.prefix) {
					t.Fatalf("chat opened as %s, want %s…", link, tt.prefix)
				}
				if tt.coded {
					if got := w.decodeLink(t, "demo", link); got != n {
						t.Errorf("%s decodes to visit %d, want %d", link, got, n)
					}
				} else if link != tt.prefix {
					t.Errorf("foreign chat changed: %s", link)
				}
			})
		}
	})

	t.Run("a visit lasts across reloads until a new ad click", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/links.html?utm_source=ad1&fbclid=first"))
		first := waitVisit(t, ctx)
		do(t, ctx, chromedp.Reload())
		waitLoaded(t, ctx)
		again := waitVisit(t, ctx)
		do(t, ctx, chromedp.Navigate(w.base+"/index.html"))
		waitLoaded(t, ctx)
		inner := waitVisit(t, ctx)
		hero := poll[string](t, ctx, `document.getElementById("hero-wa").href.includes("%0AHello") && document.getElementById("hero-wa").href`)
		if again.Visit != first.Visit || inner.Visit != first.Visit {
			t.Errorf("visit changed within the visit: %s, %s, %s", first.Visit, again.Visit, inner.Visit)
		}
		if got, want := w.decodeLink(t, "demo", hero), w.visitNumber(t, "demo", first.Visit); got != want {
			t.Errorf("next page's link decodes to %d, want %d", got, want)
		}
		do(t, ctx, chromedp.Navigate(w.base+"/links.html?utm_source=ad2&fbclid=second"))
		var second storedVisit
		deadline := time.Now().Add(15 * time.Second)
		for second = waitVisit(t, ctx); second.Visit == first.Visit; second = waitVisit(t, ctx) {
			if time.Now().After(deadline) {
				t.Fatalf("a new ad click kept visit %s", first.Visit)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if second.Visitor != first.Visitor {
			t.Errorf("visitor ID changed from %s to %s", first.Visitor, second.Visitor)
		}
	})

	t.Run("consent", func(t *testing.T) {
		original := w.originalHrefs(t, "/links.html?site=private")
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/links.html?site=private"))
		waitLoaded(t, ctx)
		// Before consent: nothing stored, nothing registered, links as written.
		if stored := eval[string](t, ctx, `JSON.stringify(Object.keys(localStorage))`); stored != "[]" {
			t.Errorf("stored before consent: %s", stored)
		}
		if seq, _ := w.rdb.Exists(context.Background(), store.VisitSeq("private")).Result(); seq != 0 {
			t.Errorf("a visit was registered before consent")
		}
		if got := hrefs(t, ctx); got["wa-text"] != original["wa-text"] {
			t.Errorf("link rewritten before consent: %s", got["wa-text"])
		}
		do(t, ctx, clickID("consent"))
		visit := waitVisit(t, ctx)
		link := poll[string](t, ctx, `document.getElementById("wa-text").href.includes("Order") && document.getElementById("wa-text").href`)
		if got, want := w.decodeLink(t, "private", link), w.visitNumber(t, "private", visit.Visit); got != want {
			t.Errorf("%s decodes to %d, want %d", link, got, want)
		}
	})
}

// TestSnippetWithCollectorDown: the collector the snippet reports to is
// down or never answers; every chat link still opens, without a code.
func TestSnippetWithCollectorDown(t *testing.T) {
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + down.Addr().String()
	down.Close()

	tests := []struct {
		name      string
		publicURL string
	}{
		{name: "stopped", publicURL: downURL},
		{name: "never answers", publicURL: newHangingCollector(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBrowserWorld(t, tt.publicURL)
			original := w.originalHrefs(t, "/links.html")
			for _, id := range []string{"wa-text", "tg-bot", "tg-user-text"} {
				ctx := w.tab(t)
				do(t, ctx, chromedp.Navigate(w.base+"/links.html"))
				waitLoaded(t, ctx)
				start := time.Now()
				do(t, ctx, clickID(id))
				link := w.chats.next(t)
				t.Logf("%s: chat reached after %v", id, time.Since(start).Round(time.Millisecond))
				if link != original[id] {
					t.Errorf("%s opened as %s, want %s", id, link, original[id])
				}
			}
			ctx := w.tab(t)
			do(t, ctx, chromedp.Navigate(w.base+"/links.html"))
			waitLoaded(t, ctx)
			do(t, ctx, clickID("open-wa"))
			if link := w.chats.next(t); link != "https://wa.me/15551234567?text=From%20a%20widget" {
				t.Errorf("window.open reached %s", link)
			}
		})
	}
}

// newHangingCollector starts a server that takes every request and never
// answers, as a collector stuck behind an overloaded network would, and
// returns its URL.
func newHangingCollector(t *testing.T) string {
	t.Helper()
	stuck := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(stuck)
		hanging.Close()
	})
	return hanging.URL
}

// clickLog is put into a page after the snippet has loaded. Its click
// listeners are on window, so they run after the snippet's listener on
// document and read each click as the browser will act on it: "prevented"
// means following the link was stopped, by the page or by the snippet
// holding the click. Each click or auxclick also starts a timer of the
// snippet's cap (400 ms, WAIT_MS in snippet/messtrack.js); started after
// the snippet's own timer for the same click, it fires after that one, so
// "cap" marks the moment by which a held click must have gone on, and the
// promise capped then resolves with the log. A "navigate" entry is a
// navigation of this window, the snippet's or the browser's; the listener
// cancels it, so the window stays on the page to be read (the snippet's
// listener, added first, has already let it through).
const clickLog = `(() => {
	window.clickLog = [];
	let cap;
	window.capped = new Promise((done) => (cap = done));
	for (const type of ["click", "auxclick"])
		addEventListener(type, (event) => {
			clickLog.push(type + " button=" + event.button + " " + (event.defaultPrevented ? "prevented" : "free"));
			setTimeout(() => cap(clickLog.concat("cap")), 400);
		});
	navigation.addEventListener("navigate", (event) => {
		clickLog.push("navigate " + event.destination.url + (event.cancelable ? "" : " (not cancelable)"));
		event.preventDefault();
	});
	return true;
})()`

// TestSnippetClickHold: while the collector has not answered, a plain left
// click on a chat link is held at most the cap and then goes to the chat;
// every other click (modified, middle, on a link with a target, or one the
// page handled) is left to the browser at once. The collector never
// answers, so only the cap can end a hold, and links keep the form they
// were written in.
func TestSnippetClickHold(t *testing.T) {
	w := newBrowserWorld(t, newHangingCollector(t))
	original := w.originalHrefs(t, "/links.html")

	// open loads links.html, where the registration stays under way.
	open := func(t *testing.T) context.Context {
		t.Helper()
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/links.html"))
		waitLoaded(t, ctx)
		return ctx
	}
	// openLogged is open with the click log in place.
	openLogged := func(t *testing.T) context.Context {
		t.Helper()
		ctx := open(t)
		if !eval[bool](t, ctx, clickLog) {
			t.Fatal("click log not installed")
		}
		return ctx
	}
	// logUntilCap waits for the cap of the click and returns the log. It
	// awaits the page's promise rather than polling, because a page that a
	// new tab sent to the background runs no animation frames.
	logUntilCap := func(t *testing.T, ctx context.Context) []string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`capped`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("waiting for the cap: %v", err)
		}
		return got
	}
	sameLog := func(t *testing.T, got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("page saw\n\t%q\nwant\n\t%q", got, want)
		}
	}

	t.Run("a plain left click is held, then sends the window to the chat by the cap", func(t *testing.T) {
		ctx := openLogged(t)
		do(t, ctx, clickID("wa-plain"))
		// Prevented by the snippet, which then navigates once, to the link
		// as written, before the cap's marker.
		sameLog(t, logUntilCap(t, ctx), []string{"click button=0 prevented", "navigate " + original["wa-plain"], "cap"})
	})

	t.Run("a held click reaches the chat", func(t *testing.T) {
		ctx := open(t)
		do(t, ctx, clickID("wa-plain"))
		if link := w.chats.next(t); link != original["wa-plain"] {
			t.Errorf("chat opened as %s, want %s as written", link, original["wa-plain"])
		}
	})

	tests := []struct {
		name string
		id   string
		opts []chromedp.MouseOption
		// event is the log entry of the click as the last listener saw it.
		event string
		// sameTab: the browser follows the link in this window, which the
		// log's listener cancels; otherwise it opens a new tab or window,
		// which reaches the chat.
		sameTab bool
	}{
		{name: "ctrl click", id: "wa-text", opts: []chromedp.MouseOption{chromedp.ButtonModifiers(chromedp.ModifierCtrl)},
			event: "click button=0 free"},
		{name: "meta click", id: "tg-bot", opts: []chromedp.MouseOption{chromedp.ButtonModifiers(chromedp.ModifierMeta)},
			event: "click button=0 free", sameTab: true},
		{name: "shift click", id: "tg-user-text", opts: []chromedp.MouseOption{chromedp.ButtonModifiers(chromedp.ModifierShift)},
			event: "click button=0 free"},
		{name: "middle click", id: "wa-api", opts: []chromedp.MouseOption{chromedp.ButtonMiddle},
			event: "auxclick button=1 free"},
		{name: "link with target=_blank", id: "wa-new-tab",
			event: "click button=0 free"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is never held", func(t *testing.T) {
			ctx := openLogged(t)
			do(t, ctx, clickIDWith(tt.id, tt.opts...))
			want := []string{tt.event}
			if tt.sameTab {
				// The browser's own navigation, started by the click itself.
				want = append(want, "navigate "+original[tt.id])
			}
			sameLog(t, logUntilCap(t, ctx), append(want, "cap"))
			if !tt.sameTab {
				if link := w.chats.next(t); link != original[tt.id] {
					t.Errorf("chat opened as %s, want %s as written", link, original[tt.id])
				}
			}
		})
	}

	t.Run("a click the page handled is left to it", func(t *testing.T) {
		ctx := openLogged(t)
		do(t, ctx, clickID("tg-widget"))
		// Prevented by the page's own handler. Had the snippet held the
		// click, its navigation to the chat would be in the log before the
		// cap's marker.
		sameLog(t, logUntilCap(t, ctx), []string{"click button=0 prevented", "cap"})
		if !eval[bool](t, ctx, `!document.getElementById("chat-panel").hidden`) {
			t.Error("the page's own chat panel is not shown")
		}
	})
}
