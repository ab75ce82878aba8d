package browsertest

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestScanOverTheLimitInBrowser: in a real browser the page over the limit
// takes the person on to the chat by itself.
func TestScanOverTheLimitInBrowser(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &browserWorld{
		testWorld: newTestWorld(t, "rate_limit_per_minute: 1\n"+testConfigYAML),
		base:      "http://" + ln.Addr().String(),
		chats:     newChatRecorder(t),
	}
	w.clock.Set(time.Now())
	w.serveOn(t, ln)
	w.browser = newBrowser(t, w.chats)

	ctx := w.tab(t)
	do(t, ctx, chromedp.Navigate(w.base+"/q/demo/flyer"))
	if got := w.chats.next(t); !strings.HasPrefix(got, "https://wa.me/15551234567?text=") {
		t.Fatalf("the first scan reached %q, want the chat with a code", got)
	}
	ctx = w.tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(w.base+"/q/demo/flyer")); err != nil {
		t.Logf("navigate: %v", err) // the page may move on before the load event
	}
	if got := w.chats.next(t); got != "https://wa.me/15551234567" {
		t.Fatalf("the scan over the limit reached %q, want the chat without a code", got)
	}
}
