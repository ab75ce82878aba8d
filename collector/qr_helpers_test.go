package collector

import (
	"net/url"
	"strings"
	"testing"
)

// qrConfigYAML is the shared test world plus a source for each kind of chat
// a scan can open: a Telegram bot, a Telegram user, and a source with no
// chat of its own that falls back to the site's first number.
var qrConfigYAML = strings.Replace(testConfigYAML, "    sources:\n", `    sources:
      desk: {channel: offline, bot: demo_bot, title: "Front desk card"}
      window: {channel: shop_window, user: demo_manager}
      poster: {channel: offline}
`, 1)

// linkVisit finds the visit number a chat link carries, the way the matcher
// will: the start parameter of a bot link, else the code in the text.
func linkVisit(t testing.TB, st *site, link string) uint64 {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("chat link %q: %v", link, err)
	}
	q := u.Query()
	if u.Host == "t.me" && q.Has("start") {
		n, err := st.codec.ParseStart(q.Get("start"))
		if err != nil {
			t.Fatalf("start payload of %q: %v", link, err)
		}
		return n
	}
	found := st.codec.Find(q.Get("text"))
	if len(found) != 1 {
		t.Fatalf("text of %q holds %d codes, want 1", link, len(found))
	}
	return found[0].N
}
