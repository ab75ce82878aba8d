// Package collectortest is the collector's shared test world, for the tests
// of the collector and of its feature packages and for the browser tests
// (collector/browsertest): the configuration most of them run in, the
// dashboard's fixture (the reports' golden facts replayed and a few chats
// made through the matcher, some carrying hostile strings), requests, and
// reading a chat link's code back. It drives a collector through the
// narrow World interface and imports nothing of the collector itself, so
// that any package's tests may use it. It is test support only.
package collectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/ids"
)

// ConfigYAML is the world most collector tests run in: site "demo" with
// WhatsApp, Telegram and offline sources, and site "shop" to prove one
// site's key never reads the other's data.
const ConfigYAML = `
public_url: http://127.0.0.1:8080
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    origins: [http://shop.test]
    message: "Hello! My request code: {id}"
    whatsapp:
      - number: "15551234567"
    telegram:
      bots: [demo_bot]
      users: [demo_manager]
    whatsapp_app_secret: test_app_secret
    whatsapp_verify_token: verify-me
    telegram_secret_token: tg-secret-1
    conversion_event: purchase
    sources:
      flyer: {channel: offline, number: "15551234567", title: "Spring flyer"}
      billboard: {channel: offline, dedicated_number: "15557654321"}
  shop:
    api_key: shop-key-456
    id_secret: shop-secret-9876543210
    origins: [http://other.test]
    whatsapp:
      - number: "447700900123"
`

// QRConfigYAML is ConfigYAML plus a source for each kind of chat a scan can
// open: a Telegram bot, a Telegram user, and a source with no chat of its
// own that falls back to the site's first number.
var QRConfigYAML = strings.Replace(ConfigYAML, "    sources:\n", `    sources:
      desk: {channel: offline, bot: demo_bot, title: "Front desk card"}
      window: {channel: shop_window, user: demo_manager}
      poster: {channel: offline}
`, 1)

// Origin is the page origin the demo site accepts.
const Origin = "http://shop.test"

// Start is the manual clock's starting time in every test.
var Start = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// PhoneUA is a phone's browser, as a QR scan comes from.
const PhoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

// Request builds a request with a body and the given headers (pairs).
func Request(method, path string, body []byte, headers ...string) *http.Request {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// JSONBody marshals v or fails the test.
func JSONBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// LinkVisit finds the visit number a chat link carries, the way the
// matcher will: the start parameter of a bot link, else the code in the
// text.
func LinkVisit(t testing.TB, codec *ids.Codec, link string) uint64 {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("chat link %q: %v", link, err)
	}
	q := u.Query()
	if u.Host == "t.me" && q.Has("start") {
		n, err := codec.ParseStart(q.Get("start"))
		if err != nil {
			t.Fatalf("start payload of %q: %v", link, err)
		}
		return n
	}
	found := codec.Find(q.Get("text"))
	if len(found) != 1 {
		t.Fatalf("text of %q holds %d codes, want 1", link, len(found))
	}
	return found[0].N
}

// Server is a collector as the tests serve it.
type Server interface {
	Serve(ctx context.Context, ln net.Listener, grace time.Duration) error
}

// Listen serves srv on a loopback port until the test ends and returns its
// base URL.
func Listen(t testing.TB, srv Server) string {
	t.Helper()
	return ListenGrace(t, srv, defaultGrace)
}

// ListenGrace is Listen with the time the shutdown at the test's end gives
// requests under way.
func ListenGrace(t testing.TB, srv Server, grace time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, srv, ln, grace)
	return "http://" + ln.Addr().String()
}

// defaultGrace is how long a test server's shutdown waits for requests under
// way.
const defaultGrace = 5 * time.Second

// ServeOn serves srv on ln until the test ends, then shuts it down and
// fails the test if serving failed.
func ServeOn(t testing.TB, srv Server, ln net.Listener) {
	t.Helper()
	serveOn(t, srv, ln, defaultGrace)
}

func serveOn(t testing.TB, srv Server, ln net.Listener, grace time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, grace) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}
