package browsertest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// messengersSiteYAML is a site that answers in every messenger beyond
// WhatsApp and Telegram, and a site with WhatsApp only.
const messengersSiteYAML = `
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
    max: {bots: [demo_shop_bot], secret: max-secret-1}
    vk: {communities: [{name: demoshop, id: 123456, confirmation: a1b2c3d4, secret: vk-secret-1}]}
    messenger: {pages: [{name: demoshop, id: "1234567890"}]}
    instagram: {accounts: [{name: demo.shop, id: "17841400000000000"}]}
    viber: {bots: [{uri: demoshop, token: viber-token-1}]}
    line: {accounts: [{id: "@demoshop", secret: line-secret-1}]}
  plain:
    api_key: plain-key-456
    id_secret: plain-secret-0123456789
    origins: [%[3]s]
    whatsapp:
      - number: "15551234567"
`

// TestOtherMessengersLinksInBrowser loads a page with every link form of
// the messengers beyond WhatsApp and Telegram in Chromium: the site's own
// links get the visit's hidden code (or, for LINE, its message), foreign
// ones stay as written, and a click reaches the chat with the code.
func TestOtherMessengersLinksInBrowser(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	dir, err := filepath.Abs(filepath.Join("testdata", "messengers"))
	if err != nil {
		t.Fatal(err)
	}
	w := &browserWorld{testWorld: newTestWorld(t, fmt.Sprintf(messengersSiteYAML, base, dir, base)), base: base, chats: newChatRecorder(t)}
	w.clock.Set(time.Now())
	w.serveOn(t, ln)
	port := w.chats.srv.Listener.Addr().(*net.TCPAddr).Port
	var rules []string
	for _, h := range []string{"max.ru", "vk.me", "www.vk.me", "m.me", "ig.me", "line.me", "wa.me"} {
		rules = append(rules, fmt.Sprintf("MAP %s 127.0.0.1:%d", h, port))
	}
	rules = append(rules, "MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1")
	w.browser = headlessChromium(t, chromedp.Flag("host-resolver-rules", strings.Join(rules, ", ")),
		chromedp.Flag("ignore-certificate-errors", true))

	original := w.originalHrefs(t, "/index.html")
	ctx := w.tab(t)
	do(t, ctx, chromedp.Navigate(w.base+"/index.html?utm_source=test"))
	visit := waitVisit(t, ctx)
	n := w.visitNumber(t, "demo", visit.Visit)
	poll[bool](t, ctx, `document.getElementById("vk").href.includes("ref=")`)
	got := hrefs(t, ctx)
	codec := w.codec(t, "demo")
	// Links that prefill text get the visit's message there too.
	line := "Hello! My request code: " + visit.Code + "\n"

	hidden := []struct {
		id, scheme, host, path, param string
		keep                          map[string]string
	}{
		{id: "max", scheme: "https", host: "max.ru", path: "/demo_shop_bot", param: "start"},
		{id: "max-start", scheme: "https", host: "max.ru", path: "/Demo_Shop_Bot/", param: "start"},
		{id: "vk", scheme: "https", host: "vk.me", path: "/demoshop", param: "ref", keep: map[string]string{"ref_source": "site"}},
		{id: "vk-www", scheme: "https", host: "www.vk.me", path: "/DemoShop", param: "ref"},
		{id: "fb", scheme: "https", host: "m.me", path: "/demoshop", param: "ref"},
		{id: "fb-ref", scheme: "https", host: "m.me", path: "/demoshop", param: "ref", keep: map[string]string{"text": "Hi\n" + line}},
		{id: "ig", scheme: "https", host: "ig.me", path: "/m/demo.shop", param: "ref"},
		{id: "viber", scheme: "viber", host: "pa", param: "context", keep: map[string]string{"chatURI": "demoshop"}},
		{id: "viber-text", scheme: "viber", host: "pa", param: "context", keep: map[string]string{"chatURI": "demoshop", "text": "Hello\n" + line}},
	}
	for _, tt := range hidden {
		link := got[tt.id]
		u, err := url.Parse(link)
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		if u.Scheme != tt.scheme || u.Host != tt.host || (tt.path != "" && u.Path != tt.path) {
			t.Errorf("%s: scheme, host or path changed from %s", link, original[tt.id])
		}
		q := u.Query()
		if len(q[tt.param]) != 1 || q.Get(tt.param) != visit.Start {
			t.Errorf("%s: %s = %q, want the one hidden code %q", link, tt.param, q[tt.param], visit.Start)
		}
		if got, err := codec.ParseStart(q.Get(tt.param)); err != nil || got != n {
			t.Errorf("%s: the code decodes to %d (%v), want visit %d", link, got, err, n)
		}
		for k, v := range tt.keep {
			if q.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q kept", link, k, q.Get(k), v)
			}
		}
	}
	for id, want := range map[string]string{"line": "Hello there\n" + line, "line-empty": line} {
		u, err := url.Parse(got[id])
		if err != nil {
			t.Fatal(err)
		}
		text, err := url.QueryUnescape(u.RawQuery)
		if err != nil || text != want || u.Host != "line.me" || !strings.HasPrefix(u.Path, "/R/oaMessage/") {
			t.Errorf("%s: %s, text %q (%v), want %q", id, got[id], text, err, want)
		}
		if found := codec.Find(text); len(found) != 1 || found[0].N != n {
			t.Errorf("%s: the text holds %v, want visit %d's code", id, found, n)
		}
	}
	if !strings.Contains(got["wa"], "text=") {
		t.Errorf("the WhatsApp link beside them was not rewritten: %s", got["wa"])
	}
	foreign := 0
	for id, href := range original {
		if strings.HasPrefix(id, "f-") {
			foreign++
			if got[id] != href {
				t.Errorf("foreign link %s changed: %s -> %s", id, href, got[id])
			}
		}
	}
	if foreign != 9 {
		t.Errorf("read %d foreign links, want 9", foreign)
	}

	// A click reaches the chat with the code and is counted under the
	// community's target.
	do(t, ctx, clickID("vk"))
	reached := w.chats.next(t)
	if !strings.HasPrefix(reached, "https://vk.me/demoshop?") || !strings.Contains(reached, "ref="+visit.Start) {
		t.Fatalf("the browser reached %s", reached)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		clicks, err := w.probe.RecentClicks(context.Background(), "demo", "vk:demoshop", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(clicks) == 1 && clicks[0].N == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clicks on vk:demoshop: %+v, want visit %d's", clicks, n)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The WhatsApp-only site's script carries none of it.
	_, plain := w.do(t, request("GET", "/s/plain.js", nil))
	_, demo := w.do(t, request("GET", "/s/demo.js", nil))
	if strings.Contains(string(plain), "max.ru") || !strings.Contains(string(demo), "max.ru") {
		t.Errorf("link forms of other messengers: in the WhatsApp-only script %v, in the demo script %v",
			strings.Contains(string(plain), "max.ru"), strings.Contains(string(demo), "max.ru"))
	}
}
