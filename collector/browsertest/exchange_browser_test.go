package browsertest

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSnippetSendsTheAnalyticsClientIDs loads a page of a site that sends
// its chats to GA4 in a real browser, without and then with the _ga and
// _ym_uid cookies that Google Analytics and Yandex Metrica set, and reads
// back what the stored visits kept.
func TestSnippetSendsTheAnalyticsClientIDs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	site, err := filepath.Abs(filepath.Join("..", "..", "examples", "site"))
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(fmt.Sprintf(browserSiteYAML, base, site, base), "      users: [demo_manager]\n",
		"      users: [demo_manager]\n    ga4: {measurement_id: G-TEST1, api_secret: s3cret, base_url: \"http://127.0.0.1:9\"}\n", 1)
	w := &browserWorld{testWorld: newTestWorld(t, yaml), base: base, chats: newChatRecorder(t)}
	w.clock.Set(time.Now())
	w.serveOn(t, ln)
	w.browser = newBrowser(t, w.chats)
	stored := func(id string) (ga, ym string) {
		resp, b := w.do(t, request("GET", "/v1/sites/demo/visits/"+id, nil, "Authorization", "Bearer demo-key-123"))
		var v struct {
			GA string `json:"ga_client_id"`
			YM string `json:"ym_client_id"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(b, &v) != nil {
			t.Fatalf("visit %s: %d %s", id, resp.StatusCode, b)
		}
		return v.GA, v.YM
	}
	ctx := w.tab(t)
	do(t, ctx, chromedp.Navigate(w.base+"/links.html"))
	first := waitVisit(t, ctx)
	if ga, ym := stored(first.Visit); ga != "" || ym != "" {
		t.Errorf("a page without the cookies gave %q, %q", ga, ym)
	}
	eval[bool](t, ctx, `document.cookie = "_ga=GA1.1.1234567890.1700000000; path=/";
		document.cookie = "_ym_uid=1700000000123456789; path=/"; localStorage.clear(); true`)
	do(t, ctx, chromedp.Navigate(w.base+"/links.html?again=1"))
	second := waitVisit(t, ctx)
	if second.Visit == first.Visit {
		t.Fatal("the page did not register a new visit")
	}
	if ga, ym := stored(second.Visit); ga != "1234567890.1700000000" || ym != "1700000000123456789" {
		t.Errorf("the stored visit kept %q, %q", ga, ym)
	}
}
